"""When each staff member last opened a ticket: the inbox's "unread for me" marker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from support.core.tables import table_of
from support.desk.models import Message, Ticket, TicketSeen

_SEEN = table_of(TicketSeen)
PREVIEW_CHARS = 160


def mark_seen(session: Session, user_id: int, ticket_id: int, now: datetime) -> None:
    """Record that the user opened the ticket now (one row per user and ticket)."""
    session.execute(delete(_SEEN).where(_SEEN.c.user_id == user_id, _SEEN.c.ticket_id == ticket_id))
    session.execute(insert(_SEEN).values(user_id=user_id, ticket_id=ticket_id, seen_at=now))


def mark_seen_as_of(session: Session, user_id: int, ticket_id: int, seen_at: datetime) -> None:
    """Record that the user has seen the ticket as it was at ``seen_at`` (an answer by mail
    to a notification made then), unless they opened it later than that."""
    opened = session.scalar(
        select(_SEEN.c.seen_at).where(_SEEN.c.user_id == user_id, _SEEN.c.ticket_id == ticket_id)
    )
    if opened is None or opened < seen_at:
        mark_seen(session, user_id, ticket_id, seen_at)


def unread_ids(session: Session, user_id: int, tickets: Sequence[Ticket]) -> set[int]:
    """Tickets whose latest customer message came after the user last opened them (or never)."""
    if not tickets:
        return set()
    seen = dict(
        session.execute(
            select(_SEEN.c.ticket_id, _SEEN.c.seen_at).where(
                _SEEN.c.user_id == user_id, _SEEN.c.ticket_id.in_([t.id for t in tickets])
            )
        ).all()
    )
    unread = set()
    for ticket in tickets:
        last = ticket.last_customer_message_at or ticket.created_at
        opened = seen.get(ticket.id)
        if opened is None or (last is not None and last > opened):
            unread.add(ticket.id)
    return unread


def previews(session: Session, ticket_ids: Sequence[int]) -> dict[int, str]:
    """The opening of each ticket's latest customer message, on one line."""
    if not ticket_ids:
        return {}
    latest = (
        select(Message.ticket_id, Message.id)
        .where(Message.ticket_id.in_(list(ticket_ids)), Message.direction == "in")
        .order_by(Message.ticket_id, Message.created_at.desc(), Message.id.desc())
    )
    chosen: dict[int, int] = {}
    for ticket_id, message_id in session.execute(latest):
        chosen.setdefault(ticket_id, message_id)
    if not chosen:
        return {}
    texts = session.execute(
        select(Message.ticket_id, Message.new_text, Message.body_text).where(
            Message.id.in_(list(chosen.values()))
        )
    )
    return {
        ticket_id: " ".join((new or body or "")[: PREVIEW_CHARS * 2].split())[:PREVIEW_CHARS]
        for ticket_id, new, body in texts
    }
