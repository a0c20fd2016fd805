"""Render the thirteenth fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_13/build.py`` (deterministic). Held out: written in
session 22 before the change it measures and without looking at the model's weights; scored
once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_13``, shares only).

Spam as Chinese-speaking small companies get it (Simplified and Traditional): 代开发票, QQ and
WeChat groups, loans and credit-card cash-out, gambling, SEO and site building, fake-order
part-time jobs, foreign-trade lead software, training and conference sales, fake couriers and
customs, fake banks, tax offices and mail administrators, bulk-mail services, and HTML-only
adverts made of an image and a line of hidden text.
Ham that looks near it: customers' 开票信息 and invoice questions, e-invoice platform notices,
quote requests and quotes, carriers', forwarders' and customs brokers' notices, training and
conferences the company booked, applicants' replies, real bank notices and a loan renewal,
the accountant's reminders, a customer forwarding a phishing mail, WeChat ids in complaints.

A body that starts with ``<`` is HTML and is rendered as ``bench/spam_fresh_12/build.py``
does (``alimail``, ``owa``, ``esp`` HTML-only; ``outlook``, ``foxmail``, ``gmail``, ``qq``
with a text copy); ``bulk-html`` is mass-mail software sending HTML only in GB2312 (Big5 for
Traditional text); any other body is plain text rendered as ``bench/spam_fresh/build.py`` does.
"""

from __future__ import annotations

import random
import runpy
import sys
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
fresh = runpy.run_path(str(FOLDER.parent / "spam_fresh" / "build.py"))
html12 = runpy.run_path(str(FOLDER.parent / "spam_fresh_12" / "build.py"))
MAILERS = (
    "Microsoft Outlook Express 6.00.2900.5512",
    "Supmailer 38.1.2",
    "Foxmail 6, 15, 201, 23 [cn]",
)


def _bulk_html(mail: dict[str, str], number: int, stem: str) -> bytes:
    rng = random.Random(f"{stem}-{number}")
    sender = mail["from"]
    domain = sender.rpartition("@")[2].strip(">")
    sent = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 30))
    date = format_datetime(sent.astimezone(timezone(timedelta(hours=8))))
    ip = (
        f"{rng.randrange(1, 223)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    )
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        f"</head><body>{mail['body'].strip()}</body></html>"
    )
    label, codec = fresh["_label"](page + mail["subject"] + sender, "gb2312")
    lines = [
        f"Received: from [{ip}] by mx.example.com with ESMTP; {date}",
        f"Date: {date}",
        f"From: {fresh['_address'](sender, label)}",
        f"To: {mail.get('to') or 'info@example.com'}",
        f"Subject: {fresh['_subject'](mail['subject'], label)}",
        f"Message-ID: <{fresh['_hex'](rng, 12)}${fresh['_hex'](rng, 8)}@{domain}>",
        f"X-Priority: {rng.choice(['3', '1'])}",
        f"X-Mailer: {rng.choice(MAILERS)}",
        "MIME-Version: 1.0",
        f'Content-Type: text/html; charset="{label}"',
        "Content-Transfer-Encoding: base64",
        "",
        fresh["_b64"](page, codec),
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def render(mail: dict[str, str], number: int, stem: str) -> bytes:
    if mail["client"] == "bulk-html":
        return _bulk_html(mail, number, stem)
    if mail["body"].lstrip().startswith("<"):
        return html12["render"](mail, number, stem)
    return fresh["render"](mail, number, stem)


def main() -> int:
    fresh["write_sets"](FOLDER, render, "ascii")
    return 0


if __name__ == "__main__":
    sys.exit(main())
