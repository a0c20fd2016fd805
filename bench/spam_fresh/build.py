# ruff: noqa: E501  (header templates read best on one line each)
"""Render the fresh evaluation mails (``*.txt``, as written) into ``*.jsonl`` with each mail's
raw RFC 5322 bytes as its mail client sends it (Gmail, QQ Mail, 163.com, Outlook, Foxmail,
iPhone Mail, or bulk-mail software for spam).

Usage: ``.venv/bin/python bench/spam_fresh/build.py`` (deterministic: the same ``.txt`` gives
the same ``.jsonl``). These mails are an evaluation set only: they live outside
``bench/spam_data`` so ``shipped_training`` never trains on them, and ``bench/spam_fresh_eval.py``
scores them. A ``.txt`` holds mails separated by lines ``===``: header lines ``client:``,
``from:``, ``to:``, ``subject:`` and optionally ``reply: yes`` (a real reply: In-Reply-To and
References), ``reply-to:``, then a blank line and the body.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, parseaddr
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
CHINA = timedelta(hours=8)
US = timedelta(hours=-5)


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(n))


def _b64(text: str, charset: str) -> str:
    data = base64.b64encode(text.replace("\n", "\r\n").encode(charset, "replace")).decode()
    return "\r\n".join(data[i : i + 76] for i in range(0, len(data), 76))


def _qp(text: str) -> str:
    import quopri

    return quopri.encodestring(text.replace("\n", "\r\n").encode("utf-8")).decode("ascii")


def _fits(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _label(text: str, wanted: str) -> tuple[str, str]:
    """(charset label, codec): a client's legacy charset when the text fits it, as Windows
    clients fall back (Big5 for Traditional text, else UTF-8)."""
    codec = "gb18030" if wanted.lower() in ("gb2312", "gb18030") else wanted
    if wanted.lower() == "gb2312" and not _fits(text, "gb2312"):
        return ("big5", "big5") if _fits(text, "big5") else ("utf-8", "utf-8")
    return (wanted, codec) if _fits(text, codec) else ("utf-8", "utf-8")


def _address(value: str, charset: str) -> str:
    name, addr = parseaddr(value)
    if not name:
        return addr
    if name.isascii():
        return f'"{name}" <{addr}>'
    label = _label(name, charset)[0]
    return f"{Header(name, label if label != 'gb18030' else 'utf-8').encode()} <{addr}>"


def _subject(value: str, charset: str) -> str:
    label = _label(value, charset)[0]
    return (
        value
        if value.isascii()
        else Header(value, label if label != "gb18030" else "utf-8").encode()
    )


def _html_of(body: str, style: str) -> str:
    lines = body.split("\n")
    if style == "gmail":
        inner = "".join(f"<div>{html.escape(x) or '<br>'}</div>" for x in lines)
        return f'<div dir="ltr">{inner}</div>\n'
    if style == "outlook":
        paras = "".join(
            f'<p class="MsoNormal"><span lang="EN-US">{html.escape(x) or "<o:p>&nbsp;</o:p>"}'
            "</span></p>\r\n"
            for x in lines
        )
        return (
            '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
            '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            '<style><!-- p.MsoNormal {margin:0cm; font-size:10.5pt; font-family:"Microsoft'
            ' YaHei";} --></style></head><body lang="ZH-CN" link="#0563C1">'
            f'<div class="WordSection1">{paras}</div></body></html>\n'
        )
    inner = "".join(f"<div>{html.escape(x) or '<br>'}</div>" for x in lines)
    if style == "foxmail":
        return (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=GB2312">'
            "<style>body { line-height: 1.5; }</style></head><body>\r\n"
            f"<div><span></span>{inner}</div></body></html>"
        )
    return f'<meta http-equiv="Content-Type" content="text/html; charset=GB18030">{inner}'


def render(mail: dict[str, str], number: int, stem: str) -> bytes:
    rng = random.Random(f"{stem}-{number}")
    client = mail["client"]
    sender = mail["from"]
    addr = parseaddr(sender)[1]
    domain = addr.rpartition("@")[2]
    zone = US if client in ("gmail-us", "outlook-us", "iphone-us") else CHINA
    sent = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 60))
    date = format_datetime(sent.astimezone(__import__("datetime").timezone(zone)))
    body = mail["body"].rstrip("\n") + "\n"
    to = mail.get("to") or "service@example.com"
    headers: list[tuple[str, str]] = []
    charset = "utf-8"
    parts: list[tuple[str, str, str]] = []  # (subtype, charset, encoded) or single
    single: tuple[str, str, str] | None = None
    base = client.removesuffix("-us")
    received_ip = (
        f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    )
    if base == "gmail":
        msgid = f"<CA{_alnum(rng, 3)}{''.join(rng.choice('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=') for _ in range(50))}@mail.gmail.com>"
        headers.append(
            (
                "Received",
                f"by mail-pj1-f{rng.randrange(40, 80)}.google.com with SMTP id {_hex(rng, 16)}; {date}",
            )
        )
        headers.append(("MIME-Version", "1.0"))
        boundary = f"000000000000{_hex(rng, 16)}"
        parts = [
            ("plain", "UTF-8", _b64(body, "utf-8")),
            ("html", "UTF-8", _b64(_html_of(body, "gmail"), "utf-8")),
        ]
    elif base == "qq":
        charset = "gb18030"
        msgid = f"<tencent_{_alnum(rng, 32)}{rng.randrange(10**3, 10**4)}@qq.com>"
        headers += [
            ("X-QQ-mid", f"xmsmtpt{int(sent.timestamp())}t{_alnum(rng, 20).lower()}"),
            ("X-QQ-XMAILINFO", _alnum(rng, 40)),
            ("X-QQ-FEAT", _alnum(rng, 24)),
            ("X-QQ-MIME", "TCMime 1.0 by Tencent"),
            ("X-Mailer", "QQMail 2.x"),
            ("X-QQ-Mailer", "QQMail 2.x"),
            ("Mime-Version", "1.0"),
        ]
        boundary = (
            f"----=_NextPart_{_hex(rng, 8).upper()}_{_hex(rng, 8).upper()}_{_hex(rng, 8).upper()}"
        )
        parts = [
            ("plain", "gb18030", _b64(body, "gb18030")),
            ("html", "gb18030", _b64(_html_of(body, "qq"), "gb18030")),
        ]
    elif base == "163":
        charset = "GBK"
        msgid = f"<{_hex(rng, 8)}.{_hex(rng, 4)}.{_hex(rng, 11)}.Coremail.{addr.partition('@')[0]}@{domain}>"
        headers += [
            ("X-Originating-IP", f"[{received_ip}]"),
            ("X-Priority", "3"),
            ("X-Mailer", "Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)"),
            ("X-NTES-SC", f"AL_Qu2{_alnum(rng, 30)}"),
            ("MIME-Version", "1.0"),
            ("X-Coremail-Locale", "zh_CN"),
            ("X-CM-TRANSID", f"{_alnum(rng, 20)}--.{_alnum(rng, 4)}"),
        ]
        boundary = f"----=_Part_{rng.randrange(10**5, 10**6)}_{rng.randrange(10**8, 10**9)}.{int(sent.timestamp() * 1000)}"
        parts = [
            ("plain", "GBK", _b64(body, "gbk")),
            ("html", "GBK", _b64(_html_of(body, "qq"), "gbk")),
        ]
    elif base == "outlook":
        charset = "gb2312" if zone == CHINA else "us-ascii"
        server = f"{rng.choice(['SEZPR06MB', 'TYZPR03MB', 'PH0PR11MB', 'BY5PR12MB'])}{rng.randrange(1000, 9999)}"
        msgid = f"<{server}{_alnum(rng, 24)}@{server}.{rng.choice(['apcprd06', 'apcprd03', 'namprd11'])}.prod.outlook.com>"
        headers += [
            ("Thread-Topic", _subject(mail["subject"], "utf-8")),
            ("Thread-Index", base64.b64encode(rng.randbytes(22)).decode()),
            ("Accept-Language", "zh-CN, en-US" if zone == CHINA else "en-US"),
            ("Content-Language", "zh-CN" if zone == CHINA else "en-US"),
            ("X-MS-Has-Attach", ""),
            ("X-MS-TNEF-Correlator", ""),
            ("MIME-Version", "1.0"),
        ]
        boundary = f"_000_{server}{_alnum(rng, 20)}_"
        label, body_charset = _label(body, "gb2312") if zone == CHINA else ("utf-8", "utf-8")
        parts = [
            ("plain", label, _b64(body, body_charset)),
            ("html", label, _b64(_html_of(body, "outlook"), body_charset)),
        ]
    elif base == "foxmail":
        charset = "GB2312"
        msgid = f"<{sent.strftime('%Y%m%d%H%M%S')}{rng.randrange(10**6, 10**7)}@{domain}>"
        headers += [
            ("X-Priority", "3"),
            (
                "X-GUID",
                f"{_alnum(rng, 8)}-{_alnum(rng, 4)}-{_alnum(rng, 4)}-{_alnum(rng, 4)}-{_alnum(rng, 12)}",
            ),
            ("X-Has-Attach", "no"),
            ("X-Mailer", "Foxmail 7.2.25.213[cn]"),
            ("Mime-Version", "1.0"),
        ]
        boundary = f"----=_001_NextPart{rng.randrange(10**9, 10**10)}_=----"
        label, codec = _label(body, "gb2312")
        parts = [
            ("plain", label, _b64(body, codec)),
            ("html", label, _b64(_html_of(body, "foxmail"), codec)),
        ]
    elif base == "iphone":
        msgid = f"<{_hex(rng, 8).upper()}-{_hex(rng, 4).upper()}-{_hex(rng, 4).upper()}-{_hex(rng, 4).upper()}-{_hex(rng, 12).upper()}@{domain}>"
        headers += [
            ("Mime-Version", "1.0 (1.0)"),
            ("X-Mailer", f"iPhone Mail (21{rng.choice('ABCDEFG')}{rng.randrange(70, 110)})"),
        ]
        single = ("plain", "utf-8", _qp(body))
        boundary = ""
    elif base == "bulk":  # mass-mail software, as Chinese adverts are sent
        charset = "gb2312"
        msgid = (
            f"<{_hex(rng, 12)}${_hex(rng, 8)}@{domain}>"
            if rng.random() < 0.7
            else f"<{int(sent.timestamp())}.{rng.randrange(10**5)}@{domain}>"
        )
        headers += [
            ("X-Priority", rng.choice(["3", "1"])),
            (
                "X-Mailer",
                rng.choice(
                    [
                        "Microsoft Outlook Express 6.00.2900.5512",
                        "Foxmail 6, 15, 201, 23 [cn]",
                        "Supmailer 38.1.2",
                        "Microsoft Office Outlook 12.0",
                    ]
                ),
            ),
            ("MIME-Version", "1.0"),
        ]
        label, codec = _label(body, "gb2312")
        if rng.random() < 0.5:
            boundary = f"----=_NextPart_000_{_hex(rng, 4).upper()}_{_hex(rng, 8).upper()}.{_hex(rng, 8).upper()}"
            parts = [
                ("plain", label, _b64(body, codec)),
                ("html", label, _b64(_html_of(body, "qq"), codec)),
            ]
        else:
            boundary = ""
            single = ("html", label, _b64(_html_of(body, "qq"), codec))
    else:
        raise ValueError(f"unknown client {client!r}")
    top = [
        ("Received", f"from [{received_ip}] by mx.example.com with ESMTPS; {date}"),
        ("Date", date),
        ("From", _address(sender, charset)),
        ("To", _address(to, charset)),
        ("Subject", _subject(mail["subject"], charset)),
        ("Message-ID", msgid),
    ]
    if mail.get("reply-to"):
        top.append(("Reply-To", mail["reply-to"]))
    if mail.get("reply") == "yes":
        earlier = f"<{_hex(rng, 24)}@{to.rpartition('@')[2].strip('>')}>"
        top += [("In-Reply-To", earlier), ("References", earlier)]
    out = top + headers
    lines = [f"{name}: {value}" for name, value in out]
    if single is not None:
        sub, cs, data = single
        enc = "quoted-printable" if base == "iphone" else "base64"
        lines += [
            f'Content-Type: text/{sub}; charset="{cs}"',
            f"Content-Transfer-Encoding: {enc}",
            "",
            data,
        ]
    else:
        lines += [
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
            "This is a multi-part message in MIME format.",
            "",
        ]
        for sub, cs, data in parts:
            lines += [
                f"--{boundary}",
                f'Content-Type: text/{sub}; charset="{cs}"',
                "Content-Transfer-Encoding: base64",
                "",
                data,
                "",
            ]
        lines.append(f"--{boundary}--")
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def read_written(path: Path) -> list[dict[str, str]]:
    mails = []
    for block in path.read_text("utf-8").split("\n===\n"):
        block = block.strip("\n")
        if not block.strip():
            continue
        head, _blank, body = block.partition("\n\n")
        item = {}
        for line in head.splitlines():
            key, _colon, value = line.partition(":")
            item[key.strip()] = value.strip()
        item["body"] = body
        for key in ("client", "from", "subject"):
            if key not in item:
                raise ValueError(f"{path.name}: a mail without {key}: {block[:80]!r}")
        mails.append(item)
    return mails


def write_sets(
    folder: Path, render_mail: Callable[[dict[str, str], int, str], bytes], encoding: str
) -> None:
    """Each ``*.txt`` of ``folder`` rendered into the ``.jsonl`` beside it (raw mail + digest)."""
    for path in sorted(folder.glob("*.txt")):
        mails = read_written(path)
        out = path.with_suffix(".jsonl")
        with out.open("w", encoding="utf-8") as f:
            for number, mail in enumerate(mails):
                raw = render_mail(mail, number, path.stem).decode(encoding)
                digest = hashlib.sha1(raw.encode()).hexdigest()[:10]
                f.write(json.dumps({**mail, "raw": raw, "sha1": digest}, ensure_ascii=False) + "\n")
        print(f"{out.name}: {len(mails)} mails")


def main() -> int:
    write_sets(FOLDER, render, "ascii")
    return 0


if __name__ == "__main__":
    sys.exit(main())
