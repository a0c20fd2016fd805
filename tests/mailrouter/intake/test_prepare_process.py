"""The worker's prepare process: a backlog is prepared in a second process while the worker
writes, with the same result as preparing in-process, and nothing is lost when it dies."""

from __future__ import annotations

import os
import signal

import pytest
from sqlalchemy import func, select

from mailrouter.intake import queue
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from support.desk.models import Message, OutboundMail, Ticket, TicketSearch
from tests.mailrouter.conftest import make_mail

pytestmark = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs a second core")

COUNT = 36


@pytest.fixture
def app_settings() -> dict:
    return {"WORKER_PREPARE_PROCESS": True, "WORKER_BATCH_SIZE": 8}


def _queue_backlog(session) -> None:
    topics = (
        ("My order has not arrived", "Order {n} was due last week, where is it?"),
        ("订单还没发货", "我的订单 {n} 一直显示待发货，请问什么时候发？"),
        ("Quote for {n} kettles", "We would like a quote for {n} smart kettles."),
    )
    for n in range(COUNT):
        subject, body = topics[n % len(topics)]
        queue.store_inbound(
            session,
            channel="smtp",
            raw=make_mail(
                sender=f"customer{n}@example.net",
                to="support@example.com",
                subject=subject.format(n=n),
                body=body.format(n=n) + "\n",
            ),
            envelope_from=f"customer{n}@example.net",
            envelope_to=["support@example.com"],
        )
    session.commit()


def _ready(worker: Worker) -> None:
    assert worker.prepare_process.wait_ready(120), "the prepare process did not start"


def _counts(session) -> tuple[int, int, int, int]:
    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model))

    return count(Ticket), count(Message), count(TicketSearch), count(OutboundMail)


def test_a_backlog_prepared_in_the_second_process_is_written_in_full(app, session) -> None:
    _queue_backlog(session)
    worker = Worker(app, retry_base_seconds=0)
    try:
        _ready(worker)
        assert worker.run_until_idle() == COUNT
    finally:
        worker.close()
    assert worker.prepared_elsewhere >= COUNT - 2 * 8  # all but the batches before it was up
    session.expire_all()
    tickets, messages, rows, replies = _counts(session)
    assert tickets == COUNT and rows == COUNT and replies == COUNT
    assert messages == 2 * COUNT  # each mail and its auto-reply
    states = set(session.scalars(select(InboundMail.state)))
    assert states == {queue.PROCESSED}
    # The prepared analysis was used: every ticket was routed by the model with its verdict.
    for ticket in session.scalars(select(Ticket)):
        assert ticket.classification and ticket.classification.get("department"), ticket.subject


def test_a_killed_prepare_process_loses_and_doubles_nothing(app, session) -> None:
    _queue_backlog(session)
    worker = Worker(app, retry_base_seconds=0)
    try:
        _ready(worker)
        assert len(worker.process_batch()) == 8  # the next batch is now with the child
        child = worker.prepare_process.get()
        assert child is not None
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        assert worker.run_until_idle() == COUNT - 8
    finally:
        worker.close()
    session.expire_all()
    tickets, messages, rows, replies = _counts(session)
    assert tickets == COUNT and rows == COUNT and replies == COUNT
    assert set(session.scalars(select(InboundMail.state))) == {queue.PROCESSED}
    assert worker.prepare_process.get() is None  # prepared in-process until the restart pause
