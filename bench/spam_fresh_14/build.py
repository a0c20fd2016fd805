"""Render the fourteenth fresh evaluation set (``*.txt`` as written) into ``*.jsonl``.

Usage: ``.venv/bin/python bench/spam_fresh_14/build.py`` (deterministic). Held out: written in
session 30 before the change it measures and without looking at the model's weights; scored
once before and once after, never trained or tuned on
(``bench/spam_fresh_eval.py --folder bench/spam_fresh_14``, shares only).

Japanese mail, which the corpora hold only a few of and the training data 36: customers'
questions to a home-appliance shop (orders, returns, receipts and invoices, warranty, repairs,
a smoking heater, quotes from companies with the usual ━━━ signature of address, phone and
web site), and the spam Japanese companies get (未承諾広告 SEO offers, dating, phishing as
Amazon, 楽天, card issuers and carriers, side jobs, crypto and FX, subsidies, lists, lotteries).
Clients: Gmail, iPhone Mail and Outlook (UTF-8, as ``bench/spam_fresh/build.py`` renders
them), ``iso2022`` (plain text in ISO-2022-JP, as Japanese Thunderbird, Becky! and carriers'
mail send it) and ``bulk-jp`` (mass-mail software, ISO-2022-JP plain text).
"""

from __future__ import annotations

import random
import runpy
import sys
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime, parseaddr
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
fresh = runpy.run_path(str(FOLDER.parent / "spam_fresh" / "build.py"))
JAPAN = timezone(timedelta(hours=9))
MAILERS = {
    "iso2022": ("Becky! ver. 2.81.05", "Mozilla Thunderbird 115.6.0 (ja)"),
    "bulk-jp": (
        "Mail Magazine Sender 3.2",
        "blastmail",
        "Microsoft Outlook Express 6.00.2900.5512",
    ),
}


def _iso2022(mail: dict[str, str], number: int, stem: str) -> bytes:
    rng = random.Random(f"{stem}-{number}")
    sender = mail["from"]
    name, address = parseaddr(sender)
    domain = address.rpartition("@")[2]
    sent = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 30))
    date = format_datetime(sent.astimezone(JAPAN))
    octets = (rng.randrange(1, 223), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
    ip = ".".join(map(str, octets))
    body = mail["body"].rstrip("\n") + "\n"
    encoded_name = Header(name, "iso-2022-jp").encode() if name else ""
    lines = [
        f"Received: from [{ip}] by mx.example.com with ESMTPS; {date}",
        f"Date: {date}",
        f"From: {encoded_name} <{address}>" if name else f"From: {address}",
        f"To: {mail.get('to') or 'info@example.com'}",
        f"Subject: {Header(mail['subject'], 'iso-2022-jp').encode()}",
        f"Message-ID: <{sent.strftime('%Y%m%d%H%M%S')}.{rng.randrange(10**6):06d}@{domain}>",
        f"X-Mailer: {rng.choice(MAILERS[mail['client']])}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="ISO-2022-JP"',
        "Content-Transfer-Encoding: 7bit",
        "",
        body.encode("iso-2022-jp", "replace").decode("ascii").replace("\n", "\r\n"),
    ]
    return ("\r\n".join(lines)).encode("ascii")


def render(mail: dict[str, str], number: int, stem: str) -> bytes:
    if mail["client"] in MAILERS:
        return _iso2022(mail, number, stem)
    return fresh["render"](mail, number, stem)


def main() -> int:
    fresh["write_sets"](FOLDER, render, "ascii")
    return 0


if __name__ == "__main__":
    sys.exit(main())
