"""Helpers for tests that run the `support` command as real processes on loopback."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from mailrouter.intake.queue import insert_inbound
from tests import conftest

ROOT = Path(__file__).resolve().parents[1]
DATABASE_URL = conftest.postgresql_url()  # TEST_DATABASE_URL's, alone or with SQLite's
#: How long a command may take to exit after SIGTERM (systemd waits TimeoutStopSec, 90 s by
#: default, and a rolling restart waits on each unit in turn).
EXIT_SECONDS = 10.0

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, check: Callable[[], T], timeout: float, pause: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(pause)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def support_command(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """`support ARGS` run to its end in a process of its own; its output (fails unless 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "support", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"support {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done.stdout


def start_support(env: dict[str, str], log: Any, *args: str) -> subprocess.Popen[bytes]:
    """`support ARGS` started as the console script is, its output into the file ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "support", *args],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def on_postgresql(why: str) -> list[pytest.MarkDecorator]:
    """The marks of a test module that needs PostgreSQL (TEST_DATABASE_URL), saying ``why``."""
    return [
        pytest.mark.database,  # a database of its own on TEST_DATABASE_URL's server
        pytest.mark.skipif(
            not DATABASE_URL.startswith("postgresql"),
            reason=f"{why}: this needs PostgreSQL (TEST_DATABASE_URL=postgresql+psycopg://...)",
        ),
    ]


class Queries:
    """One SQL statement at a time on ``engine`` (the test's own view of the database)."""

    engine: Engine

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def execute(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)


@dataclass
class Desk(Queries):
    instance: Path
    env: dict[str, str]
    engine: Engine

    def command(self, *args: str, timeout: float = 300) -> str:
        return support_command(self.env, *args, timeout=timeout)

    def start(self, *args: str, **settings: str) -> Running:
        log_path = self.instance / f"{args[0]}-{time.monotonic_ns()}.log"
        log = open(log_path, "wb")
        env = {**self.env, **{f"SUPPORT_{k}": v for k, v in settings.items()}}
        return Running(start_support(env, log, *args), log_path, log)

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
        print(f"{self.process.args[3]}: exited {seconds:.1f} s after SIGTERM")
        assert code == 0, f"exit status {code}:\n{self.output()[-3000:]}"
        return seconds

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


@contextlib.contextmanager
def own_database(name: str, database_url: str = DATABASE_URL) -> Iterator[str]:
    """The URL of a new, empty database ``name`` on ``database_url``'s server (the shared test
    database is in use by others); dropped afterwards."""
    server = make_url(database_url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def desk_on_own_database(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Desk]:
    """An instance initialised (`support init --no-demo`) on a PostgreSQL database of its own."""
    with own_database(f"test_{name}_{os.getpid()}") as url:
        engine = create_engine(url)
        instance = tmp_path_factory.mktemp(name)
        http_port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_")},
            "PYTHONPATH": str(ROOT),
            "SUPPORT_INSTANCE_PATH": str(instance),
            "SUPPORT_SECRET_KEY": "processes-test-secret-key-0123456789abcdef",
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
