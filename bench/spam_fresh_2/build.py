# ruff: noqa: E501  (header templates read best on one line each)
"""Render the second fresh evaluation set (English customer mail and English spam, ``*.txt``
as written) into ``*.jsonl`` with each mail's raw RFC 5322 bytes as its client sends it.

Usage: ``.venv/bin/python bench/spam_fresh_2/build.py`` (deterministic). Written before the
English training batch ``bench/spam_data/ham-en-b.jsonl`` and never trained or tuned on: it
lives outside ``bench/spam_data`` and ``bench/spam_fresh_eval.py --folder bench/spam_fresh_2``
scores it (shares only). The ``.txt`` format and the clients of ``bench/spam_fresh/build.py``
(gmail-us, outlook-us, iphone-us...) are reused; added are clients English mail also comes
from: Thunderbird, Yahoo Mail, Apple Mail on a Mac, and for spam a PHP mailer script and a
bulk-mail service (ESP) with an HTML copy and tracking links.
"""

from __future__ import annotations

import html
import importlib.util
import random
import sys
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parseaddr
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "fresh_build", FOLDER.parent / "spam_fresh" / "build.py"
)
assert _spec is not None and _spec.loader is not None
fresh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fresh)

US = timezone(timedelta(hours=-5))
NEW_CLIENTS = ("thunderbird", "yahoo", "applemail", "phpmailer", "esp")


def _html_of(body: str, client: str) -> str:
    lines = body.split("\n")
    if client == "yahoo":
        inner = "".join(f"<div>{html.escape(x) or '<br>'}</div>" for x in lines)
        return (
            '<html><head></head><body><div class="ydp3f1c2b7yahoo-style-wrap" style="font-family:'
            f'Helvetica Neue, Helvetica, Arial, sans-serif;font-size:13px;">{inner}</div></body></html>'
        )
    if client == "applemail":
        inner = "".join(f"<div>{html.escape(x) or '<br>'}</div>" for x in lines)
        return f'<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">{inner}</body></html>'
    if client == "thunderbird":
        inner = "<br>\n".join(html.escape(x) for x in lines)
        return f'<!DOCTYPE html>\n<html>\n  <head>\n    <meta http-equiv="content-type" content="text/html; charset=UTF-8">\n  </head>\n  <body>\n    <p>{inner}</p>\n  </body>\n</html>\n'
    # phpmailer / esp: a marketing template with a table and a tracked link
    inner = "".join(f'<p style="margin:0 0 12px 0;">{html.escape(x)}</p>' for x in lines if x)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        '</head><body style="background:#f4f4f4;"><table width="600" align="center" cellpadding="0" '
        f'cellspacing="0" style="background:#ffffff;font-family:Arial;"><tr><td style="padding:24px;">{inner}'
        "</td></tr></table></body></html>"
    )


def render(mail: dict[str, str], number: int, stem: str) -> bytes:
    client = mail["client"].removesuffix("-us")
    if client not in NEW_CLIENTS:
        return bytes(fresh.render(mail, number, stem))
    rng = random.Random(f"{stem}-{number}")
    sender = mail["from"]
    addr = parseaddr(sender)[1]
    domain = addr.rpartition("@")[2]
    sent = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 60))
    date = format_datetime(sent.astimezone(US))
    body = mail["body"].rstrip("\n") + "\n"
    to = mail.get("to") or "service@example.com"
    ip = (
        f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    )
    headers: list[tuple[str, str]] = []
    text_enc = "base64"
    if client == "thunderbird":
        msgid = f"<{fresh._hex(rng, 8)}-{fresh._hex(rng, 4)}-{fresh._hex(rng, 4)}-{fresh._hex(rng, 4)}-{fresh._hex(rng, 12)}@{domain}>"
        headers += [
            ("MIME-Version", "1.0"),
            ("User-Agent", "Mozilla Thunderbird"),
            ("Content-Language", "en-US"),
        ]
        boundary = f"------------{fresh._alnum(rng, 24)}"
        text_enc = "7bit" if body.isascii() else "8bit"
    elif client == "yahoo":
        msgid = f"<{rng.randrange(10**8, 10**9)}.{rng.randrange(10**6, 10**7)}.{int(sent.timestamp() * 1000)}@mail.yahoo.com>"
        headers += [
            (
                "Received",
                f"from sonic.gate.mail.ne1.yahoo.com by sonic{rng.randrange(300, 330)}.consmr.mail.ne1.yahoo.com with HTTP; {date}",
            ),
            ("MIME-Version", "1.0"),
            ("X-Mailer", "WebService/1.1.21952 YMailNorrin"),
        ]
        boundary = f"----=_Part_{rng.randrange(10**6, 10**7)}_{rng.randrange(10**8, 10**9)}.{int(sent.timestamp() * 1000)}"
        text_enc = "quoted-printable"
    elif client == "applemail":
        msgid = f"<{fresh._hex(rng, 8).upper()}-{fresh._hex(rng, 4).upper()}-{fresh._hex(rng, 4).upper()}-{fresh._hex(rng, 4).upper()}-{fresh._hex(rng, 12).upper()}@{domain}>"
        headers += [
            ("Mime-Version", "1.0 (Mac OS X Mail 16.0 \\(3774.600.62\\))"),
            ("X-Mailer", "Apple Mail (2.3774.600.62)"),
        ]
        boundary = f"Apple-Mail={fresh._hex(rng, 8).upper()}-{fresh._hex(rng, 4).upper()}-{fresh._hex(rng, 4).upper()}-{fresh._hex(rng, 4).upper()}-{fresh._hex(rng, 12).upper()}"
        text_enc = "quoted-printable"
    elif client == "phpmailer":
        msgid = f"<{fresh._alnum(rng, 40)}@{domain}>"
        headers += [
            ("X-Mailer", "PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)"),
            ("MIME-Version", "1.0"),
        ]
        boundary = f"b1=_{fresh._alnum(rng, 40)}"
        text_enc = "quoted-printable"
    else:  # esp
        msgid = f"<{fresh._alnum(rng, 22)}@geopod-ismtpd-{rng.randrange(1, 40)}>"
        headers += [
            ("MIME-Version", "1.0"),
            ("X-SG-EID", fresh._alnum(rng, 60)),
            ("X-Entity-ID", fresh._alnum(rng, 22)),
            (
                "List-Unsubscribe",
                f"<https://u{rng.randrange(10**6, 10**7)}.ct.sendgrid.net/asm/unsubscribe/?user_id={rng.randrange(10**7)}>",
            ),
        ]
        boundary = fresh._hex(rng, 64)
        text_enc = "quoted-printable"
    top = [
        ("Received", f"from [{ip}] by mx.example.com with ESMTPS; {date}"),
        ("Date", date),
        ("From", fresh._address(sender, "utf-8")),
        ("To", fresh._address(to, "utf-8")),
        ("Subject", fresh._subject(mail["subject"], "utf-8")),
        ("Message-ID", msgid),
    ]
    if mail.get("reply-to"):
        top.append(("Reply-To", mail["reply-to"]))
    if mail.get("reply") == "yes":
        earlier = f"<{fresh._hex(rng, 24)}@{to.rpartition('@')[2].strip('>')}>"
        top += [("In-Reply-To", earlier), ("References", earlier)]
    lines = [f"{name}: {value}" for name, value in top + headers]
    lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    if client == "thunderbird":
        lines += ["This is a multi-part message in MIME format."]
    for sub, text in (("plain", body), ("html", _html_of(body, client))):
        if text_enc == "quoted-printable":
            data = fresh._qp(text)
        elif text_enc == "base64":
            data = fresh._b64(text, "utf-8")
        else:
            data = text.replace("\n", "\r\n")
        enc = "7bit" if text_enc == "7bit" and not text.isascii() else text_enc
        lines += [
            f"--{boundary}",
            f'Content-Type: text/{sub}; charset="UTF-8"',
            f"Content-Transfer-Encoding: {enc}",
            "",
            data,
            "",
        ]
    lines.append(f"--{boundary}--")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def main() -> int:
    fresh.write_sets(FOLDER, render, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
