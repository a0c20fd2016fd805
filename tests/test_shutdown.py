"""SIGTERM ends each serving command within seconds, and loses or repeats no mail.

systemd sends SIGTERM on `systemctl stop`/`restart` and a rolling restart waits on each unit:
every command that serves (`support run`, `worker`, `smtp`, `periodic`, `imap-poll`) must
exit 0 soon after it, having finished the message in hand. A message the worker claimed but had
not written is put back at once (not left to WORKER_LEASE_SECONDS), so another worker
processes it, once. Real processes on one PostgreSQL database of the test's own, as in
tests/test_two_nodes.py.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from support.core.db import utcnow
from tests.processes import (
    Desk,
    desk_on_own_database,
    free_port,
    on_postgresql,
    port_open,
    wait_for,
)

pytestmark = on_postgresql("several processes on one database")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    yield from desk_on_own_database(tmp_path_factory, "shutdown")


def _processed_once(desk: Desk, tag: str, count: int) -> None:
    """Every queued message of ``tag`` processed, one ticket each, in one attempt each."""
    rows = desk.scalar(
        "SELECT count(*) FROM inbound_mail WHERE state = 'processed' AND ticket_id IS NOT NULL"
        " AND header_message_id LIKE :tag",
        tag=f"{tag}-%",
    )
    tickets = desk.scalar("SELECT count(*) FROM tickets WHERE subject LIKE :tag", tag=f"{tag} %")
    retried = desk.scalar(
        "SELECT count(*) FROM inbound_mail WHERE attempts <> 1 AND header_message_id LIKE :tag",
        tag=f"{tag}-%",
    )
    assert (rows, tickets, retried) == (count, count, 0)


def test_a_worker_under_a_backlog_stops_within_seconds_and_gives_its_claims_back(
    desk: Desk,
) -> None:
    count = 600
    desk.queue_mail(count, "backlog")
    # Large batches: the worker used to write its whole batch, and the one claimed ahead for
    # its prepare process, before it exited.
    worker = desk.start("worker", WORKER_BATCH_SIZE="250")
    try:
        worker.wait_ready()
        wait_for(
            "the worker's first tickets",
            lambda: desk.state_counts().get("processed", 0) >= 20,
            120,
            pause=0.05,
        )
        worker.terminate()
    finally:
        worker.kill()
    counts = desk.state_counts()
    print(f"after SIGTERM: {counts}")
    # Nothing is left claimed by the stopped worker: the rest is queued for the next one now,
    # not after WORKER_LEASE_SECONDS.
    assert counts.get("processing", 0) == 0
    assert 0 < counts.get("received", 0) < count
    desk.command("worker", "--until-idle")
    _processed_once(desk, "backlog", count)


def _send_mail(port: int, subject: str) -> None:
    message = EmailMessage()
    message["From"] = "Customer <sender@outside.example>"
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@outside.example>"
    message.set_content("My kettle arrived broken; please send a new one.")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.send_message(message)


@pytest.mark.parametrize("command", ["smtp", "run"])
def test_mail_accepted_just_before_sigterm_is_processed_once(desk: Desk, command: str) -> None:
    tag = f"accepted-{command}"
    port = free_port()
    running = desk.start(command, SMTP_PORT=str(port), HTTP_PORT=str(free_port()))
    try:
        running.wait_ready()
        wait_for("the SMTP intake", lambda: port_open(port), 30)
        for number in range(5):
            _send_mail(port, f"{tag} {number}")
        running.terminate()
    finally:
        running.kill()
    assert not port_open(port)
    desk.command("worker", "--until-idle")
    _processed_once(desk, tag, 5)


def test_periodic_jobs_stop_within_seconds_and_free_their_leases(desk: Desk) -> None:
    periodic = desk.start("periodic")
    try:
        periodic.wait_ready()
        wait_for(
            "the SLA check's lease",
            lambda: desk.scalar("SELECT count(*) FROM leases WHERE name = 'sla-check'"),
            60,
        )
        periodic.terminate()
    finally:
        periodic.kill()
    # Released: another host takes the jobs at once, not after PERIODIC_LEASE_SECONDS.
    assert desk.scalar("SELECT max(expires_at) FROM leases") <= utcnow()
