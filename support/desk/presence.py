"""Who else has a ticket open, and what came in since the page was shown (agent collision).

The ticket page sends a heartbeat every HEARTBEAT_SECONDS while it is visible; each one
upserts the sender's row and reads the colleagues' live rows and the count of messages of
others, so an agent sees "Li Lei is replying" and "New message from the customer" without a
reload. Rows live in the database because several web processes on several hosts serve the
desk; a row not renewed within EXPIRES_SECONDS no longer counts, and is deleted by the next
heartbeat on its ticket or by the periodic purge. Every query is bounded (one ticket, a few
rows), so a heartbeat costs a handful of indexed statements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from support.core.concurrency import upsert
from support.core.db import get_db, utcnow
from support.core.runner import PeriodicTask
from support.core.tables import table_of
from support.desk.models import Message, TicketPresence, User

STATES = ("viewing", "replying")
#: How often an open ticket page reports itself (the page reads it from a data attribute).
HEARTBEAT_SECONDS = 20
#: A page that stopped reporting (closed, hidden, the laptop asleep) counts this much longer:
#: about three heartbeats, so one lost request does not make a colleague flicker away.
EXPIRES_SECONDS = 60
#: At most this many colleagues and new messages are named; more are counted.
SHOWN = 5
PURGE_INTERVAL_SECONDS = 3600

_PRESENCE = table_of(TicketPresence)


@dataclass(frozen=True)
class Colleague:
    name: str
    state: str
    #: When the colleague's last heartbeat stops counting (None: not read).
    expires_at: datetime | None = field(default=None, compare=False)

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds from ``now`` until the heartbeat stops counting, at least 1 and at
        most EXPIRES_SECONDS: a page drawn once (the inbox) takes the name off then, as a
        browser that was closed sends no "gone"."""
        if self.expires_at is None:
            return EXPIRES_SECONDS
        left = math.ceil((self.expires_at - now).total_seconds())
        return max(1, min(EXPIRES_SECONDS, left))


@dataclass(frozen=True)
class Arrival:
    """A message of someone else that came in after the page was shown."""

    direction: str  # "in" (the customer), "out" (a colleague's reply) or "note"
    name: str


def beat(session: Session, ticket_id: int, user_id: int, state: str, now: datetime) -> None:
    """Record that the user has the ticket open (``state``), or closed it (``state`` "gone"),
    and delete the ticket's expired rows in passing."""
    session.execute(
        delete(_PRESENCE).where(
            _PRESENCE.c.ticket_id == ticket_id,
            or_(_PRESENCE.c.expires_at < now, _PRESENCE.c.user_id == user_id)
            if state not in STATES
            else _PRESENCE.c.expires_at < now,
        )
    )
    if state in STATES:
        upsert(
            session,
            _PRESENCE,
            {
                "ticket_id": ticket_id,
                "user_id": user_id,
                "state": state,
                "expires_at": now + timedelta(seconds=EXPIRES_SECONDS),
            },
            index_elements=("ticket_id", "user_id"),
        )


def colleagues(session: Session, ticket_id: int, user_id: int, now: datetime) -> list[Colleague]:
    """The others who have the ticket open now, those replying first, at most SHOWN."""
    rows = session.execute(
        select(User.name, _PRESENCE.c.state)
        .join(User, User.id == _PRESENCE.c.user_id)
        .where(
            _PRESENCE.c.ticket_id == ticket_id,
            _PRESENCE.c.user_id != user_id,
            _PRESENCE.c.expires_at >= now,
            User.is_active.is_(True),
        )
        .order_by(_PRESENCE.c.state, User.name)  # "replying" < "viewing"
        .limit(SHOWN)
    )
    return [Colleague(name, state) for name, state in rows]


def open_by_others(
    session: Session, ticket_ids: list[int], user_id: int, now: datetime
) -> dict[int, list[Colleague]]:
    """{ticket id: the others who have it open now, those replying first}, for a page of
    tickets in one query: the inbox shows them so that two agents do not both pick the same
    ticket from a shared queue (the ticket page says it only once both are in it)."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(_PRESENCE.c.ticket_id, User.name, _PRESENCE.c.state, _PRESENCE.c.expires_at)
        .join(User, User.id == _PRESENCE.c.user_id)
        .where(
            _PRESENCE.c.ticket_id.in_(ticket_ids),
            _PRESENCE.c.user_id != user_id,
            _PRESENCE.c.expires_at >= now,
            User.is_active.is_(True),
        )
        .order_by(_PRESENCE.c.ticket_id, _PRESENCE.c.state, User.name)  # "replying" first
    )
    found: dict[int, list[Colleague]] = {}
    for ticket_id, name, state, expires_at in rows:
        shown = found.setdefault(ticket_id, [])
        if len(shown) < SHOWN:
            shown.append(Colleague(name, state, expires_at))
    return found


def arrivals(session: Session, ticket_id: int, user_id: int, seen: int) -> list[Arrival]:
    """Messages of others after the first ``seen`` of them, oldest first, at most SHOWN: the
    query form of support.staff.tickets.others_messages (same order, same messages left out:
    automatic mail, our notices to staff among it, and the user's own), so its count matches
    the page's."""
    rows = session.execute(
        select(Message.direction, Message.from_name, Message.from_address, User.name)
        .outerjoin(User, User.id == Message.author_id)
        .where(
            Message.ticket_id == ticket_id,
            Message.direction != "auto",
            or_(Message.author_id.is_(None), Message.author_id != user_id),
        )
        .order_by(Message.created_at, Message.id)
        .offset(seen)
        .limit(SHOWN)
    )
    return [
        Arrival(direction, author or from_name or from_address or "")
        for direction, from_name, from_address, author in rows
    ]


def purge(session: Session, now: datetime) -> int:
    """Delete every expired row (tickets nobody opens again keep theirs until this runs)."""
    result = session.execute(delete(_PRESENCE).where(_PRESENCE.c.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


def services(app: Flask) -> list[PeriodicTask]:
    """The hourly purge of expired presence rows, for `support run`."""

    def run() -> None:
        with app.app_context(), get_db(app).session() as session:
            purge(session, utcnow())

    return [PeriodicTask("presence-purge", PURGE_INTERVAL_SECONDS, run)]
