"""SIGTERM ends each serving command within seconds, and loses or repeats no mail.

systemd sends SIGTERM on `systemctl stop`/`restart` and a rolling restart waits on each unit:
every command that serves (`support run`, `worker`, `smtp`, `periodic`, `imap-poll`) must
exit 0 soon after it, having finished the message in hand. A message the worker claimed but had
not written is put back at once (not left to WORKER_LEASE_SECONDS), so another worker
processes it, once. Real processes on one PostgreSQL database of the test's own, as in
tests/test_two_nodes.py.
"""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from mailrouter.intake.queue import insert_inbound
from support.core.db import utcnow
from tests.processes import free_port, port_open, wait_for

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
#: How long a command may take to exit after SIGTERM (systemd waits TimeoutStopSec, 90 s by
#: default, and a rolling restart waits on each unit in turn).
EXIT_SECONDS = 10.0

pytestmark = [
    pytest.mark.database,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgresql"),
        reason="several processes on one database: this needs PostgreSQL "
        "(TEST_DATABASE_URL=postgresql+psycopg://...)",
    ),
]


@dataclass
class Desk:
    instance: Path
    env: dict[str, str]
    engine: Engine

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def command(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "support", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"support {' '.join(args)}:\n{done.stderr[-3000:]}"
        return done.stdout

    def start(self, *args: str, **settings: str) -> Running:
        log_path = self.instance / f"{args[0]}-{time.monotonic_ns()}.log"
        log = open(log_path, "wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "support", *args],
            env={**self.env, **{f"SUPPORT_{k}": v for k, v in settings.items()}},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return Running(process, log_path, log)

    def queue_mail(self, count: int, tag: str) -> None:
        with self.engine.begin() as conn:
            for number in range(count):
                raw = (
                    f"From: customer{number}@outside.example\r\nTo: support@example.com\r\n"
                    f"Subject: {tag} {number}: where is my parcel?\r\n"
                    f"Message-ID: <{tag}-{number}@outside.example>\r\n\r\n"
                    f"Hello, order {1000 + number} has not arrived after two weeks.\r\n"
                ).encode()
                insert_inbound(
                    conn,
                    channel="smtp",
                    raw=raw,
                    envelope_from=f"customer{number}@outside.example",
                    envelope_to=["support@example.com"],
                )

    def state_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT state, count(*) FROM inbound_mail GROUP BY state"))
            return {state: count for state, count in rows}


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    log_path: Path
    log: Any

    def output(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def wait_ready(self, timeout: float = 180) -> None:
        try:
            wait_for("the command's ready line", lambda: "running: " in self.output(), timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.output()[-3000:]}") from None

    def terminate(self) -> float:
        """SIGTERM; the seconds until it exited (fails past EXIT_SECONDS, or on exit != 0)."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"still running {EXIT_SECONDS:.0f} s after SIGTERM:\n{self.output()[-3000:]}"
            ) from None
        finally:
            self.log.close()
        seconds = time.monotonic() - sent
        print(f"{self.process.args[2]}: exited {seconds:.1f} s after SIGTERM")
        assert code == 0, f"exit status {code}:\n{self.output()[-3000:]}"
        return seconds

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    server = make_url(DATABASE_URL)
    name = f"test_shutdown_{os.getpid()}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    instance = tmp_path_factory.mktemp("shutdown")
    http_port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_")},
        "PYTHONPATH": str(ROOT),
        "SUPPORT_INSTANCE_PATH": str(instance),
        "SUPPORT_SECRET_KEY": "shutdown-test-secret-key-0123456789abcdef",
        "SUPPORT_DATABASE_URL": url,
        "SUPPORT_HTTP_PORT": str(http_port),
        "SUPPORT_SMTP_PORT": str(free_port()),
        "SUPPORT_MAIL_DOMAINS": '["example.com"]',
        "SUPPORT_MAIL_GENERAL_ADDRESS": "support@example.com",
        "SUPPORT_PUBLIC_BASE_URL": f"http://127.0.0.1:{http_port}",
        "SUPPORT_PERIODIC_LEASE_SECONDS": "30",
        # Word search only: the embedding model's loading is not what these tests time.
        "SUPPORT_FAQ_SEMANTIC_MODEL": "",
    }
    found = Desk(instance, env, engine)
    try:
        found.command("init", "--no-demo", "--password", "a-long-admin-password-1")
        yield found
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
