"""Time ``parse_message`` on hostile mail: each must parse in milliseconds, not seconds.

Each mail is one an attacker can send in a megabyte or two (the SMTP limit is 25 MB): huge
References/In-Reply-To lists, deep multipart nesting, thousands of addresses, parts, headers
and encoded words. The worker parses mail while other work waits, so a super-linear path
here stalls the whole intake.

    .venv/bin/python bench/hostile_parse_bench.py          # ms per mail, best of 3
    .venv/bin/python bench/hostile_parse_bench.py --rounds 1
    .venv/bin/python bench/hostile_parse_bench.py --worker # each through the worker (SQLite):
                                                           # ms per mail, longest write transaction

Measured 2026-12-03 on the 2-core dev machine, ms (before: 6215a69; after: this change):

    100k References + In-Reply-To   ~120,000 (10k: 870)  ->  256
    1,000-level multipart              1,452 (RecursionError, headers lost)  ->  16
    1,000-level message/rfc822            33 (RecursionError, headers lost)  ->  1.4
    20k To addresses                   2,696  ->  194
    200k encoded words in Subject      5,808  ->  490
    100k unclosed HTML comments       80,893  ->  13
    100k unclosed HTML tags           30,213  ->  7
    4 HTML parts of 250k tags         15,556  ->  483
    18 MB attachment (24 MB as sent)       -  ->  416   (added later; measured under load)
    200 lines of 50k characters            -  ->  179   (same)

Through the worker (--worker), longest write transaction in ms, 2026-12-03 with two test runs
sharing the 2 cores, before -> after classification and FAQ matching moved out of it:

    200 lines of 50k characters        1,364  ->  156   (what is left: writing 10 MB, commit)
    100k unclosed HTML comments          452  ->   12
    4 HTML parts of 250k tags            355  ->  105
    18 MB attachment (24 MB as sent)     409  ->  300   (the blob's INSERT and commit)
    100k References + In-Reply-To        228  ->  135
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

# (The worker mode's set-up is the intake bench's, so both measure the same system.)
from bench.intake_bench import prepare
from mailrouter.intake.queue import store_inbound
from mailrouter.intake.worker import Worker
from mailrouter.parsing import parse_message
from support.core.db import get_db

_HEAD = (
    b"From: Wang Fang <wang.fang@example.net>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: hostile\r\n"
    b"Message-ID: <hostile@example.net>\r\n"
    b"Date: Thu, 03 Dec 2026 08:00:00 +0000\r\n"
)


def many_references(count: int = 100_000) -> bytes:
    ids = b"\r\n ".join(b"<ref.%d@example.net>" % i for i in range(count))
    return _HEAD + b"In-Reply-To: " + ids + b"\r\nReferences: " + ids + b"\r\n\r\nhello\r\n"


def big_attachment(megabytes: int = 18) -> bytes:
    """Just under the 25 MB SMTP limit once base64-encoded."""
    payload = base64.encodebytes(os.urandom(megabytes * 1024 * 1024))
    return (
        _HEAD
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        + b"--b\r\nContent-Type: application/octet-stream\r\n"
        + b'Content-Disposition: attachment; filename="big.bin"\r\n'
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + payload.replace(b"\n", b"\r\n")
        + b"--b--\r\n"
    )


def long_lines(count: int = 200, length: int = 50_000) -> bytes:
    line = b"word " * (length // 5)
    return _HEAD + b"\r\n" + b"\r\n".join(line for _ in range(count)) + b"\r\n"


def deep_multipart(depth: int = 1_000) -> bytes:
    head = b"MIME-Version: 1.0\r\n"
    body = b""
    for level in range(depth):
        body += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
    body += b"Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for level in reversed(range(depth)):
        body += b"--b%d--\r\n" % level
    return _HEAD + head + body


def deep_rfc822(depth: int = 1_000) -> bytes:
    body = b""
    for _ in range(depth):
        body += b"Content-Type: message/rfc822\r\n\r\n"
    body += b"Subject: inner\r\n\r\ninnermost\r\n"
    return _HEAD + b"MIME-Version: 1.0\r\n" + body


def many_addresses(count: int = 20_000) -> bytes:
    to = b",\r\n ".join(b"user%d@example.net" % i for i in range(count))
    return _HEAD.replace(b"To: support@example.com\r\n", b"To: " + to + b"\r\n") + b"\r\nhi\r\n"


def many_parts(count: int = 5_000) -> bytes:
    parts = b"".join(
        b"--sep\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(count)
    )
    return (
        _HEAD
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="sep"\r\n\r\n'
        + parts
        + b"--sep--\r\n"
    )


def tiny_parts(count: int = 2_000_000) -> bytes:
    """Parts of 12 bytes: the most parts a 25 MB mail can hold."""
    return (
        _HEAD
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        + b"--B\r\n\r\nx\r\n" * count
        + b"--B--\r\n"
    )


def many_attachments(count: int = 50_000) -> bytes:
    part = (
        b"--B\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=f.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nYQ==\r\n"
    )
    return (
        _HEAD
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        + part * count
        + b"--B--\r\n"
    )


def many_encoded_words(count: int = 50_000) -> bytes:
    words = b" ".join(b"=?utf-8?B?5L2g5aW9?=" for _ in range(count))
    return _HEAD.replace(b"Subject: hostile", b"Subject: " + words) + b"\r\nhi\r\n"


def many_headers(count: int = 50_000) -> bytes:
    extra = b"".join(b"X-Junk-%d: value\r\n" % i for i in range(count))
    return _HEAD + extra + b"\r\nhi\r\n"


def _html_parts(*parts: bytes) -> bytes:
    body = b"".join(b"--s\r\nContent-Type: text/html\r\n\r\n" + part + b"\r\n" for part in parts)
    return (
        _HEAD
        + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="s"\r\n\r\n'
        + body
        + b"--s--\r\n"
    )


def unclosed_html_comments(count: int = 100_000) -> bytes:
    return _html_parts(b"<p>hi</p>" + b"<!--" * count)


def unclosed_html_tags(count: int = 100_000) -> bytes:
    return _html_parts(b"<p>hi</p>" + b"<a" * count)


def dense_html_tags(count: int = 250_000, parts: int = 4) -> bytes:
    return _html_parts(*[b"<p>&amp;x" * count] * parts)


MAILS: dict[str, Callable[[], bytes]] = {
    "100k References + In-Reply-To": many_references,
    "1,000-level multipart": deep_multipart,
    "1,000-level message/rfc822": deep_rfc822,
    "20k To addresses": many_addresses,
    "5k parts": many_parts,
    "2M parts of 12 bytes (24 MB)": tiny_parts,
    "50k one-byte attachments": many_attachments,
    "50k encoded words in Subject": many_encoded_words,
    "50k headers": many_headers,
    "100k unclosed HTML comments": unclosed_html_comments,
    "100k unclosed HTML tags": unclosed_html_tags,
    "4 HTML parts of 250k tags": dense_html_tags,
    "18 MB attachment (24 MB as sent)": big_attachment,
    "200 lines of 50k characters": long_lines,
}


class WriteTransactions:
    """The longest time a connection of `engine` held a transaction open (SQLite's worker
    transactions all take the write lock: BEGIN IMMEDIATE)."""

    def __init__(self, engine: Any) -> None:
        self.longest = 0.0
        self._started: dict[int, float] = {}
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)

    def _begin(self, conn: Any) -> None:
        self._started[id(conn)] = time.perf_counter()

    def _end(self, conn: Any) -> None:
        started = self._started.pop(id(conn), None)
        if started is not None:
            self.longest = max(self.longest, time.perf_counter() - started)


def through_the_worker(names: list[str]) -> None:
    """Each hostile mail queued alone and processed by one worker, as the intake would."""
    app = prepare(None, wipe=False)
    logging.disable(logging.WARNING)  # every mail here reuses one Message-ID: a warning each
    database = get_db(app)
    worker = Worker(app, retry_base_seconds=0)
    locks = WriteTransactions(database.engine)
    for name in names:
        with database.session() as session:
            store_inbound(session, channel="smtp", raw=MAILS[name](), envelope_from="a@b.example")
        locks.longest = 0.0
        started = time.perf_counter()
        worker.run_until_idle(limit=1)
        elapsed = time.perf_counter() - started
        print(
            f"{name:34} {elapsed * 1000:10.1f} ms   longest write transaction "
            f"{locks.longest * 1000:8.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="run only mails whose name contains this")
    parser.add_argument("--worker", action="store_true", help="through the worker (SQLite)")
    args = parser.parse_args()
    if args.worker:
        through_the_worker([n for n in MAILS if not args.only or args.only in n])
        return
    for name, make in MAILS.items():
        if args.only and args.only not in name:
            continue
        raw = make()
        best = float("inf")
        for _ in range(args.rounds):
            started = time.perf_counter()
            parse_message(raw)
            best = min(best, time.perf_counter() - started)
        print(f"{name:34} {len(raw) / 1e6:6.2f} MB {best * 1000:10.1f} ms")


if __name__ == "__main__":
    main()
