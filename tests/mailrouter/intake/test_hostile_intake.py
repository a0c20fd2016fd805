"""Hostile mail cannot hold the worker: threading is bounded, parsing has a time budget."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from mailrouter.intake import queue
from mailrouter.intake.conversations import _candidate_ids
from mailrouter.intake.worker import OVER_PARSE_BUDGET, Worker
from mailrouter.models import InboundMail
from mailrouter.parsing import MAX_MESSAGE_IDS
from mailrouter.tokens import make_message_id
from support.desk.models import Message, Ticket
from tests.mailrouter.conftest import make_mail, process_all
from tests.work import counted

CUSTOMER = "Wang Fang <wang.fang@example.net>"


def _with_header(raw: bytes, name: bytes, value: bytes) -> bytes:
    """``raw`` with one more header, written as it comes (the email package would refold it)."""
    return raw.replace(b"\r\n\r\n", b"\r\n" + name + b": " + value + b"\r\n\r\n", 1)


def _queue(session, raw: bytes) -> int:
    inbound_id = queue.store_inbound(
        session, channel="smtp", raw=raw, envelope_to=["service@example.com"]
    ).id
    session.commit()
    return inbound_id


def _deliver(app, session, raw: bytes) -> InboundMail:
    inbound_id = _queue(session, raw)
    process_all(app)
    session.expire_all()
    row = session.get(InboundMail, inbound_id)
    session.commit()
    return row


def _junk_ids(count: int) -> list[str]:
    return [f"<junk.{n}@attacker.example>" for n in range(count)]


def test_candidate_ids_are_linear_and_bounded() -> None:
    # Was minutes: a list search per ID. Counted, not timed: only the newest MAX_MESSAGE_IDS
    # and In-Reply-To are read.
    references = _junk_ids(100_000)
    ids, calls = counted(_candidate_ids, "<parent@x.example>", references)
    assert calls.of("conversations.py:_bare") <= 1 + MAX_MESSAGE_IDS
    assert len(ids) == 1 + MAX_MESSAGE_IDS
    assert ids[:3] == [
        "parent@x.example",
        "junk.99999@attacker.example",
        "junk.99998@attacker.example",
    ]


def test_reply_with_100k_references_threads_fast_on_the_last_ids(app, session) -> None:
    first = _deliver(
        app,
        session,
        make_mail(sender=CUSTOMER, subject="Kettle broken", message_id="<first@m.example>"),
    )
    ticket = session.get(Ticket, first.ticket_id)
    ours = make_message_id(
        ticket.reference, domain="example.com", key=app.config["SECRET_KEY"].encode()
    )
    references = " ".join([*_junk_ids(100_000), ours]).encode()
    reply = _with_header(
        make_mail(sender=CUSTOMER, subject="Re: Kettle", message_id="<reply@m.example>"),
        b"References",
        references,
    )
    # Counted, not timed: the threading reads only the newest MAX_MESSAGE_IDS, each made bare
    # twice at most (asked for, found) (the parse of all 100,000 is test_hostile_mail's).
    row, calls = counted(_deliver, app, session, reply)
    assert calls.of("conversations.py:_candidate_ids") == 1
    assert calls.of("conversations.py:_bare") <= 2 * (1 + MAX_MESSAGE_IDS)
    assert (row.state, row.ticket_id) == ("processed", ticket.id)
    stored = session.scalar(select(Message).where(Message.message_id == "reply@m.example"))
    assert len(stored.references) == MAX_MESSAGE_IDS
    assert stored.references[-1] == ours.strip("<>")
    session.commit()


def _nested_multipart(depth: int) -> bytes:
    body = b"MIME-Version: 1.0\r\n"
    for level in range(depth):
        body += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
    body += b"Content-Type: text/plain\r\n\r\ninnermost\r\n"
    for level in reversed(range(depth)):
        body += b"--b%d--\r\n" % level
    return body


def test_1000_level_nested_multipart_becomes_a_ticket_with_subject_and_message_id(
    app, session
) -> None:
    raw = (
        f"From: {CUSTOMER}\r\nTo: service@example.com\r\nSubject: Kettle broken\r\n"
        "Message-ID: <nested@m.example>\r\nDate: Thu, 03 Dec 2026 08:00:00 +0000\r\n"
    ).encode() + _nested_multipart(1_000)
    row = _deliver(app, session, raw)
    assert row.state == "processed"
    ticket = session.get(Ticket, row.ticket_id)
    assert ticket.subject == "Kettle broken"
    message = session.scalar(select(Message).where(Message.ticket_id == ticket.id))
    assert message.message_id == "nested@m.example"
    assert message.from_address == "wang.fang@example.net"
    assert any("MIME nesting deeper than" in d for d in message.parse_defects)
    session.commit()


def test_mail_over_the_parse_budget_is_quarantined_at_once(app, session, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "MAIL_PARSE_BUDGET_SECONDS", 1e-9)
    inbound_id = _queue(session, make_mail(sender=CUSTOMER, subject="Slow to parse"))
    [processed] = Worker(app, retry_base_seconds=0).process_batch()
    assert (processed.inbound_id, processed.outcome) == (inbound_id, OVER_PARSE_BUDGET)
    assert processed.state == "quarantined"
    session.expire_all()
    row = session.get(InboundMail, inbound_id)
    assert (row.state, row.attempts, row.ticket_id) == ("quarantined", 1, None)
    assert "MAIL_PARSE_BUDGET_SECONDS" in row.last_error
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    session.commit()

    # Staff replay it once the budget is raised (or the mail is trusted): it becomes a ticket.
    monkeypatch.setitem(app.config, "MAIL_PARSE_BUDGET_SECONDS", 5.0)
    queue.replay(session, inbound_id)
    session.commit()
    assert process_all(app) == 1
    session.expire_all()
    assert session.get(InboundMail, inbound_id).state == "processed"
    session.commit()


def test_a_parse_slowed_by_a_busy_host_is_not_quarantined(app, session, monkeypatch) -> None:
    """The budget counts the parse's CPU time, not the clock: at load 17 a 1 MB mail took
    8.8 s of wall clock (0.3 s of CPU) and was quarantined as hostile, without retries.

    The worker's clocks jump 100 s during the parse (waiting for a core, as under load: no CPU
    of this thread), so a budget read from any clock quarantines the mail; a budget of 2 s of
    CPU is far from this small mail's milliseconds, on a loaded machine too."""
    from mailrouter.intake import pipeline
    from mailrouter.intake import worker as worker_module

    clock = _BusyClock()
    real = pipeline.parse_inbound

    def parse_on_a_busy_host(*args, **kwargs):
        clock.waited += 100.0
        return real(*args, **kwargs)

    monkeypatch.setattr(worker_module, "time", clock)
    monkeypatch.setattr(pipeline, "parse_inbound", parse_on_a_busy_host)
    monkeypatch.setitem(app.config, "MAIL_PARSE_BUDGET_SECONDS", 2.0)
    inbound_id = _queue(session, make_mail(sender=CUSTOMER, subject="Parsed while busy"))
    [processed] = Worker(app, retry_base_seconds=0).process_batch()
    assert processed.inbound_id == inbound_id and processed.outcome != OVER_PARSE_BUDGET
    session.expire_all()
    assert session.get(InboundMail, inbound_id).state == "processed"
    session.commit()


class _BusyClock:
    """The time module, whose clocks (not the CPU times) run ``waited`` seconds ahead."""

    def __init__(self) -> None:
        self.waited = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def monotonic(self) -> float:
        return time.monotonic() + self.waited

    def perf_counter(self) -> float:
        return time.perf_counter() + self.waited

    def time(self) -> float:
        return time.time() + self.waited


def test_parsing_happens_before_the_write_transaction(app, session, monkeypatch) -> None:
    """No write transaction is open while a message is parsed: SQLite's write lock is free."""
    from mailrouter.intake import pipeline

    worker = Worker(app, retry_base_seconds=0)
    engine = worker.database.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    _queue(session, make_mail(sender=CUSTOMER, subject="Parsed outside"))
    real = pipeline.parse_message
    lock_free: list[bool] = []

    def parse_and_look(raw, **options):
        probe = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")  # fails at once while another writer holds it
            probe.execute("ROLLBACK")
            lock_free.append(True)
        except sqlite3.OperationalError:
            lock_free.append(False)
        finally:
            probe.close()
        return real(raw, **options)

    monkeypatch.setattr(pipeline, "parse_message", parse_and_look)
    [processed] = worker.process_batch()
    assert processed.state == "processed"
    assert lock_free == [True]


def test_message_ids_longer_than_a_mail_line_are_not_kept_and_the_mail_becomes_a_ticket(
    app, session
) -> None:
    """An In-Reply-To or a picture's Content-ID of 1,500 characters: the columns hold 998 (a
    mail line's limit). PostgreSQL refused the longer value at each of the worker's three
    attempts, so the mail was quarantined instead of becoming a ticket."""
    long_id = b"<" + b"a" * 1_500 + b"@x.example>"
    raw = make_mail(
        sender=CUSTOMER,
        subject="Kettle broken",
        message_id="<long-ids@m.example>",
        attachment=("photo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
    )
    raw = _with_header(raw, b"In-Reply-To", long_id)
    raw = raw.replace(
        b"Content-Disposition: attachment",
        b"Content-ID: " + long_id + b"\r\n" + b"Content-Disposition: attachment",
        1,
    )
    assert raw.count(long_id) == 2
    row = _deliver(app, session, raw)
    assert (row.state, row.last_error) == ("processed", None)
    message = session.scalar(select(Message).where(Message.message_id == "long-ids@m.example"))
    assert message.in_reply_to is None
    assert [a.content_id for a in message.attachments] == [None]
    session.commit()
