"""Limits that every web process on every host shares, kept in the database.

A limit kept in one process's memory is multiplied by the number of processes: four
web processes on two hosts let an attacker guess eight times as often. These counters
live in one small table instead. Each key is one row, written only when something is
counted (a failed sign-in, a stored search); refusing during a wait only reads. Rows
that have been quiet for a day are purged by ``support run`` (``services``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import Index, Integer, String, case, delete, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from support.core.concurrency import insert_ignoring_conflict
from support.core.db import Base, get_db, utcnow
from support.core.runner import PeriodicTask

log = logging.getLogger(__name__)

KEY_LENGTH = 160
#: An IPv6 client is limited by its network of this prefix length: a home line or a rented
#: server gets a /64 of its own, so one client picks from 2**64 addresses at will.
IPV6_CLIENT_PREFIX = 64
#: Rows untouched for this long (and not in a wait) are deleted.
QUIET_PERIOD = timedelta(days=1)


class RateLimit(Base):
    """One limited thing (an address, an account, a client's searches) and its count."""

    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_last_at", "last_at"),)

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column()
    last_at: Mapped[datetime] = mapped_column()
    #: No attempt is checked before this moment (failure limits only).
    blocked_until: Mapped[datetime | None] = mapped_column()


def limit_key(kind: str, value: str) -> str:
    """A key of bounded length: long values (e-mail addresses, IPv6) are hashed."""
    key = f"{kind}:{value}"
    if len(key) <= KEY_LENGTH:
        return key
    return f"{kind}:sha256:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"


def client_network(address: str) -> str:
    """What a per-client limit counts for a client address: an IPv4 address itself (also
    written as IPv6, ``::ffff:192.0.2.1``), the /IPV6_CLIENT_PREFIX network of an IPv6 one; any
    other text (a Unix socket's, "unknown") as it is."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])  # no zone id (fe80::1%eth0)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)


def _ensure_row(session: Session, key: str, now: datetime) -> None:
    insert_ignoring_conflict(
        session,
        RateLimit.__table__,  # type: ignore[arg-type]
        {"key": key, "count": 0, "window_started_at": now, "last_at": now},
        index_elements=("key",),
    )


def blocked_until(session: Session, key: str, now: datetime) -> datetime | None:
    """When ``key`` may try again, if it must wait now (reads only)."""
    until = session.scalar(select(RateLimit.blocked_until).where(RateLimit.key == key))
    return until if until is not None and until > now else None


def record_failure(
    session: Session, key: str, now: datetime, *, limit: int, base: timedelta, cap: timedelta
) -> datetime | None:
    """Count a failure for ``key``; the moment of the next allowed attempt, if that is later.

    From the ``limit``-th failure on, each failure makes the next attempt wait ``base``,
    doubling per further failure up to ``cap``. A quiet period of twice ``cap`` starts over.
    The row is locked while it is updated, so concurrent failures all count.
    """
    _ensure_row(session, key, now)
    earlier, last_at = session.execute(
        select(RateLimit.count, RateLimit.last_at).where(RateLimit.key == key).with_for_update()
    ).one()
    count = (0 if now - last_at > 2 * cap else int(earlier)) + 1
    until = None
    if count >= limit:
        doublings = min(count - limit, 30)
        until = now + min(cap, base * (2**doublings))
    session.execute(
        update(RateLimit)
        .where(RateLimit.key == key)
        .values(count=count, last_at=now, blocked_until=until)
    )
    return until


def forget(session: Session, key: str) -> None:
    """The key's failures no longer count (a successful sign-in, a new password)."""
    session.execute(delete(RateLimit).where(RateLimit.key == key))


def take(session: Session, key: str, now: datetime, *, limit: int, window: timedelta) -> bool:
    """Count one use of ``key`` if fewer than ``limit`` were counted in its current window.

    Fixed windows: the first use after ``window`` has passed starts a new one. One atomic
    UPDATE decides, so two processes cannot both take the last use.
    """
    if limit <= 0:
        return False
    _ensure_row(session, key, now)
    cutoff = now - window
    expired = RateLimit.window_started_at <= cutoff
    result = session.execute(
        update(RateLimit)
        .where(RateLimit.key == key, or_(expired, RateLimit.count < limit))
        .values(
            count=case((expired, 1), else_=RateLimit.count + 1),
            window_started_at=case((expired, now), else_=RateLimit.window_started_at),
            last_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def purge(session: Session, now: datetime, *, quiet: timedelta = QUIET_PERIOD) -> int:
    """Delete counters untouched for ``quiet`` and not in a wait; returns how many."""
    result = session.execute(
        delete(RateLimit).where(
            RateLimit.last_at < now - quiet,
            or_(RateLimit.blocked_until.is_(None), RateLimit.blocked_until < now),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def services(app: Flask) -> list[PeriodicTask]:
    """An hourly purge of quiet counters, for `support run`."""

    def purge_quiet() -> None:
        with app.app_context(), get_db(app).session() as session:
            purged = purge(session, utcnow())
        if purged:
            log.info("purged %d quiet rate-limit counters", purged)

    return [PeriodicTask("rate-limit-purge", 3600, purge_quiet)]
