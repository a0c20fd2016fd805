# ruff: noqa: E501  (header templates read best on one line each)
"""Render the fourth fresh evaluation set (English and Chinese customer mail and spam,
``*.txt`` as written) into ``*.jsonl`` with each mail's raw bytes as its client sends it.

Usage: ``.venv/bin/python bench/spam_fresh_4/build.py`` (deterministic). Held out: written
before any change of session 12 to the filter, scored once with the shipped model before and
once with the changed model at the end, never trained or tuned on (it lives outside
``bench/spam_data``; ``bench/spam_fresh_eval.py --folder bench/spam_fresh_4`` reports shares
only). Ham: complaints, orders, invoices and B2B enquiries with links, order numbers and
money amounts, forwarded mails, replies. Spam: phishing, SEO and lead-gen, fake invoices,
crypto; 发票代开, 刷单, 贷款 and mild adult lures. The clients are those of
``bench/spam_fresh_2/build.py`` plus two that send HTML only, as webmail does when a mail is
written in rich text: Outlook on the web (``owa``, quoted-printable UTF-8) and Alibaba Mail
(``alimail``, base64 UTF-8, the Chinese companies' webmail); their HTML links the URLs.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import random
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parseaddr
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def _load(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


second = _load("fresh2_build", FOLDER.parent / "spam_fresh_2" / "build.py")
fresh = second.fresh
HTML_ONLY = ("owa", "alimail")
_URL = re.compile(r"https?://[^\s<>\"]+")


def _linked(line: str) -> str:
    out, last = [], 0
    for match in _URL.finditer(line):
        out.append(html.escape(line[last : match.start()]))
        url = match.group(0)
        out.append(f'<a href="{html.escape(url)}">{html.escape(url)}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def _html_of(body: str, client: str) -> str:
    lines = body.split("\n")
    if client == "owa":
        inner = "".join(
            '<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt;'
            f' color: rgb(0, 0, 0);">{_linked(x) or "<br>"}</div>'
            for x in lines
        )
        return (
            '<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n'
            '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\r\n'
            f'</head>\r\n<body dir="ltr">\r\n{inner}\r\n</body>\r\n</html>\r\n'
        )
    inner = "".join(f"<div>{_linked(x) or '<br>'}</div>" for x in lines)
    return (
        '<div class="__aliyun_email_body_block"><div style="line-height:1.7;color:#000000;'
        f'font-size:14px;font-family:Tahoma,Arial,STHeiti,SimSun">{inner}</div></div>'
    )


def render(mail: dict[str, str], number: int, stem: str) -> bytes:
    client = mail["client"].removesuffix("-us")
    if client not in HTML_ONLY:
        return bytes(second.render(mail, number, stem))
    rng = random.Random(f"{stem}-{number}")
    sender = mail["from"]
    domain = parseaddr(sender)[1].rpartition("@")[2]
    zone = timezone(timedelta(hours=-5 if mail["client"].endswith("-us") else 8))
    sent = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 30))
    date = format_datetime(sent.astimezone(zone))
    body = mail["body"].rstrip("\n") + "\n"
    to = mail.get("to") or "service@example.com"
    ip = (
        f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    )
    text = _html_of(body, client)
    if client == "owa":
        server = f"{rng.choice(['DM6PR04MB', 'SA1PR12MB', 'CH3PR19MB'])}{rng.randrange(1000, 9999)}"
        msgid = f"<{server}{fresh._alnum(rng, 24)}@{server}.namprd04.prod.outlook.com>"
        extra = [
            ("Thread-Topic", fresh._subject(mail["subject"], "utf-8")),
            ("Thread-Index", base64.b64encode(rng.randbytes(22)).decode()),
            ("Accept-Language", "en-US"),
            ("Content-Language", "en-US"),
            ("X-MS-Has-Attach", ""),
            ("X-MS-TNEF-Correlator", ""),
            ("msip_labels", ""),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'text/html; charset="utf-8"'),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ]
        data = fresh._qp(text)
    else:
        msgid = f"<{fresh._hex(rng, 8)}-{fresh._hex(rng, 4)}-{fresh._hex(rng, 4)}-{fresh._hex(rng, 12)}.{domain}@{domain}>"
        extra = [
            ("X-Mailer", "[Alimail-Mailagent revision 2][W11_167]"),
            (
                "X-Alimail-AntiSpam",
                f"AC=CONTINUE;BC=0.0{rng.randrange(10**6)};CH=green;DM=||false|;DS=CONTINUE",
            ),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/html; charset=UTF-8"),
            ("Content-Transfer-Encoding", "base64"),
        ]
        data = fresh._b64(text, "utf-8")
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
    lines = [f"{name}: {value}" for name, value in top + extra]
    lines += ["", data]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def main() -> int:
    fresh.write_sets(FOLDER, render, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
