# ruff: noqa: E501  (header templates read best on one line each)
"""Render the twelfth fresh evaluation set (``*.txt`` as written, bodies in HTML) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_12/build.py`` (deterministic). Held out: written in
session 19 before the change it measures (a quote request for 120 dehumidifiers, HTML only
with the buyer's logo as a remote image, was held at 7.6 points) and without looking at the
model's weights; scored once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_12``, shares only).

Ham: legitimate business mail to a small appliance company that looks like an HTML advert:
quote requests, purchase orders, supplier invoices and statements, distributor enquiries,
trade-show invitations, a B2B newsletter, in English and Chinese (Simplified and
Traditional), with logos and signatures as remote images, tracking pixels and tables.
Spam of the same look: phishing invoices and payment notices, fake quotes and orders, stock
tips, cold offers.

Each body is the HTML a client's editor wrote. ``client:`` says how it is sent: ``owa``
(Outlook on the web), ``alimail`` (Alibaba Mail) and ``esp`` (bulk-mail service) send HTML
only; ``outlook``, ``gmail``, ``qq`` and ``foxmail`` send a text copy beside it
(multipart/alternative), the text being what the HTML shows.
"""

from __future__ import annotations

import html
import random
import re
import runpy
import sys
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parseaddr
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
fresh = runpy.run_path(str(FOLDER.parent / "spam_fresh" / "build.py"))
HTML_ONLY = ("owa", "alimail", "esp")
_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|tr|h\d|li|table)>", re.I)
_CELL = re.compile(r"</t[dh]>", re.I)
_TAG = re.compile(r"<[^<>]*>")


def text_of(body: str) -> str:
    """What the HTML shows, as a client's text copy writes it."""
    text = _CELL.sub("\t", _BREAK.sub("\n", body.replace("\n", "")))
    lines = [" ".join(html.unescape(_TAG.sub("", x)).split()) for x in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _page(body: str, client: str) -> str:
    if client == "owa":
        return (
            '<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n'
            '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\r\n'
            '</head>\r\n<body dir="ltr">\r\n<div style="font-family: Aptos, Calibri, Helvetica, sans-serif;'
            f' font-size: 12pt; color: rgb(0, 0, 0);">{body}</div>\r\n</body>\r\n</html>\r\n'
        )
    if client == "alimail":
        return (
            '<div class="__aliyun_email_body_block"><div style="line-height:1.7;color:#000000;'
            f'font-size:14px;font-family:Tahoma,Arial,STHeiti,SimSun">{body}</div></div>'
        )
    if client == "outlook":
        return (
            '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            '<style><!-- p.MsoNormal {margin:0cm; font-size:11pt; font-family:"Calibri";} --></style>'
            f'</head><body lang="EN-US" link="#0563C1"><div class="WordSection1">{body}</div></body></html>\n'
        )
    if client == "foxmail":
        return (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
            f"<style>body {{ line-height: 1.5; }}</style></head><body>\r\n<div>{body}</div></body></html>"
        )
    if client == "gmail":
        return f'<div dir="ltr">{body}</div>\n'
    if client == "qq":
        return (
            f'<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><div>{body}</div>'
        )
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


def _client_headers(
    client: str, rng: random.Random, domain: str, subject: str
) -> tuple[str, list[tuple[str, str]]]:
    f = fresh
    if client in ("owa", "outlook"):
        server = f"{rng.choice(['DM6PR04MB', 'SA1PR12MB', 'TYZPR03MB', 'SEZPR06MB'])}{rng.randrange(1000, 9999)}"
        msgid = f"<{server}{f['_alnum'](rng, 24)}@{server}.namprd04.prod.outlook.com>"
        return msgid, [
            ("Thread-Topic", f["_subject"](subject, "utf-8")),
            ("Accept-Language", "en-US"),
            ("X-MS-Has-Attach", ""),
            ("X-MS-TNEF-Correlator", ""),
        ]
    if client == "alimail":
        msgid = f"<{f['_hex'](rng, 8)}-{f['_hex'](rng, 4)}-{f['_hex'](rng, 12)}.{domain}@{domain}>"
        return msgid, [("X-Mailer", "[Alimail-Mailagent revision 2][W11_167]")]
    if client == "gmail":
        return f"<CA{f['_alnum'](rng, 40)}@mail.gmail.com>", []
    if client == "qq":
        return f"<tencent_{f['_alnum'](rng, 32)}@qq.com>", [
            ("X-QQ-mid", f"xmsmtpt{f['_alnum'](rng, 20).lower()}"),
            ("X-Mailer", "QQMail 2.x"),
        ]
    if client == "foxmail":
        return f"<{rng.randrange(10**13, 10**14)}@{domain}>", [
            ("X-Mailer", "Foxmail 7.2.25.213[cn]")
        ]
    msgid = f"<{f['_hex'](rng, 16)}.{rng.randrange(10**6)}@mta.{domain}>"
    return msgid, [
        ("X-Mailer", "MailChimp Mailer"),
        ("List-Unsubscribe", f"<https://{domain}/unsubscribe?u={f['_hex'](rng, 12)}>"),
        ("List-Id", f"<news.{domain}>"),
        ("Precedence", "bulk"),
    ]


def render(mail: dict[str, str], number: int, stem: str) -> bytes:
    rng = random.Random(f"{stem}-{number}")
    client = mail["client"]
    sender = mail["from"]
    domain = parseaddr(sender)[1].rpartition("@")[2]
    zone = timezone(timedelta(hours=8 if "zh" in stem else -5))
    sent = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 30))
    date = format_datetime(sent.astimezone(zone))
    to = mail.get("to") or "sales@example.com"
    ip = (
        f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    )
    msgid, extra = _client_headers(client, rng, domain, mail["subject"])
    top = [
        ("Received", f"from [{ip}] by mx.example.com with ESMTPS; {date}"),
        ("Date", date),
        ("From", fresh["_address"](sender, "utf-8")),
        ("To", fresh["_address"](to, "utf-8")),
        ("Subject", fresh["_subject"](mail["subject"], "utf-8")),
        ("Message-ID", msgid),
    ]
    if mail.get("reply-to"):
        top.append(("Reply-To", mail["reply-to"]))
    if mail.get("reply") == "yes":
        earlier = f"<{fresh['_hex'](rng, 24)}@{to.rpartition('@')[2].strip('>')}>"
        top += [("In-Reply-To", earlier), ("References", earlier)]
    page = _page(mail["body"].strip("\n"), client)
    head = [f"{name}: {value}" for name, value in top + extra] + ["MIME-Version: 1.0"]
    if client in HTML_ONLY:
        head += [
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            fresh["_qp"](page),
        ]
        return ("\r\n".join(head) + "\r\n").encode("ascii")
    boundary = f"----=_Part_{fresh['_hex'](rng, 16)}"
    head += [f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    for subtype, content in (("plain", text_of(mail["body"])), ("html", page)):
        head += [
            f"--{boundary}",
            f"Content-Type: text/{subtype}; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            fresh["_b64"](content, "utf-8"),
            "",
        ]
    head.append(f"--{boundary}--")
    return ("\r\n".join(head) + "\r\n").encode("ascii")


def main() -> int:
    fresh["write_sets"](FOLDER, render, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
