"""Periodic work done once across hosts: a lease per job, kept in the database.

Every host may run `support run`; a job (the SLA check, retraining, purges) runs only in the
process holding its lease. The holder renews it while alive; when a host dies its leases run
out after PERIODIC_LEASE_SECONDS and another host takes the job over. The row also keeps when
the job last ran, so a job moved to another host runs when it is due, not at once and not
twice. Portable UPDATE/INSERT on both databases (a row lock on PostgreSQL, the single writer
on SQLite); times come from the hosts' clocks, which must be NTP-synchronised (a lease is a
minute, clock skew milliseconds).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, String, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from support.core.concurrency import insert_ignoring_conflict
from support.core.db import Base, Database, utcnow

log = logging.getLogger(__name__)

#: This process's name in the leases table: host, pid and a random part (pids are reused).
PROCESS_ID = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease(Base):
    """Which process runs a periodic job until when, and when the job last ran."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()


class JobLease:
    """One job's lease, as seen by this process."""

    def __init__(
        self, database: Database, name: str, *, seconds: float, holder: str = PROCESS_ID
    ) -> None:
        self.database = database
        self.name = name
        self.seconds = max(1.0, float(seconds))
        self.holder = holder
        self._held = False

    def acquire(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        now = utcnow()
        values = {"holder": self.holder, "expires_at": now + timedelta(seconds=self.seconds)}
        with self.database.session() as session:
            result = cast(
                CursorResult[Any],
                session.execute(
                    update(Lease)
                    .where(
                        Lease.name == self.name,
                        or_(Lease.holder == self.holder, Lease.expires_at < now),
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                ),
            )
            held = bool(result.rowcount)
            if not held:
                insert_ignoring_conflict(
                    session,
                    Lease.__table__,  # type: ignore[arg-type]
                    {"name": self.name, **values, "last_run_at": None},
                    index_elements=("name",),
                )
                held = session.scalar(select(Lease.holder).where(Lease.name == self.name)) == (
                    self.holder
                )
        if held != self._held:
            log.info("%s %s lease %s", self.holder, "took" if held else "lost", self.name)
        self._held = held
        return held

    @contextlib.contextmanager
    def kept(self) -> Iterator[None]:
        """Renew the lease every third of its length while the block runs (a job longer than
        the lease: a training), so no other process takes it meanwhile."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.seconds / 3):
                try:
                    if not self.acquire():
                        log.warning("%s lost the lease %s while running", self.holder, self.name)
                except Exception:
                    log.exception("cannot renew the lease %s", self.name)

        thread = threading.Thread(target=renew, name=f"{self.name}-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=5)

    def due(self, interval: float) -> bool:
        """True when the job last ran (on any host) at least ``interval`` seconds ago."""
        with self.database.read_session() as session:
            last = session.scalar(select(Lease.last_run_at).where(Lease.name == self.name))
        return last is None or utcnow() - last >= timedelta(seconds=interval)

    def record_run(self) -> None:
        with self.database.session() as session:
            session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(last_run_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def release(self) -> None:
        """Let another host take the job at once (a clean stop)."""
        if not self._held:
            return
        with self.database.session() as session:
            session.execute(
                update(Lease)
                .where(Lease.name == self.name, Lease.holder == self.holder)
                .values(expires_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        self._held = False


def holders(database: Database) -> dict[str, tuple[str, datetime, datetime | None]]:
    """Each job's holder, lease end and last run (`support leases`)."""
    with database.read_session() as session:
        rows = session.execute(
            select(Lease.name, Lease.holder, Lease.expires_at, Lease.last_run_at)
        )
        return {name: (holder, expires, last) for name, holder, expires, last in rows}
