"""Staff's decisions on spam: release held mail ("not spam"), confirm it, mark a ticket spam.

Each decision teaches the learned filter (``mailrouter.spam.learning.record_decision``) and
leaves an audit event. "Not spam" queues the mail again like the quarantine page's "make it
a ticket" (``queue.replay``), marked ``spam_released`` so the pipeline neither judges it again
nor auto-answers it once it is older than SPAM_RELEASE_AUTOREPLY_HOURS. The caller commits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from mailrouter.spam import learning
from mailrouter.spam.verdict import CERTAIN, SPAM_LEVELS, SUSPECTED
from support.desk.models import AuditEvent, Message, Ticket, User

log = logging.getLogger(__name__)

RELEASED = "released"
CONFIRMED = "confirmed"
SPAM_STATUS = "spam"


def _held(user: User) -> list[ColumnElement[bool]]:
    """Held spam (processed, no ticket) of the user's departments: the quarantine page's rule."""
    return [
        InboundMail.state == queue.PROCESSED,
        InboundMail.ticket_id.is_(None),
        queue.visible_inbound_clause(user),
    ]


def held_spam(
    session: Session, user: User, *, levels: Iterable[str] = (SUSPECTED,), limit: int = 500
) -> list[InboundMail]:
    """Held spam the user may see, of the given levels, newest first."""
    wanted = [level for level in levels if level in SPAM_LEVELS]
    return list(
        session.scalars(
            select(InboundMail)
            .where(InboundMail.spam_state.in_(wanted), *_held(user))
            .order_by(InboundMail.received_at.desc(), InboundMail.id.desc())
            .limit(limit)
        )
    )


def count_held(session: Session, user: User, level: str) -> int:
    """How many held mails of one level the user may see (what a filtered view leaves out)."""
    return (
        session.scalar(
            select(func.count(InboundMail.id)).where(InboundMail.spam_state == level, *_held(user))
        )
        or 0
    )


def held_for(session: Session, user: User, inbound_ids: Iterable[int]) -> list[InboundMail]:
    """Those of ``inbound_ids`` that are held spam the user may decide on (others ignored)."""
    ids = sorted({int(i) for i in inbound_ids})[:1000]
    if not ids:
        return []
    return list(
        session.scalars(
            select(InboundMail)
            .where(InboundMail.id.in_(ids), InboundMail.spam_state.in_(SPAM_LEVELS), *_held(user))
            .with_for_update()
        )
    )


def _decide(session: Session, mail: InboundMail, user: User, label: str, action: str) -> None:
    """Teach the filter one decision on held mail and record who made it."""
    learning.record_decision(
        session, raw=mail.raw, label=label, inbound_mail_id=mail.id, user_id=user.id
    )
    session.add(
        AuditEvent(
            actor_id=user.id,
            actor_label="staff",
            action=action,
            subject_type="inbound_mail",
            subject_id=mail.id,
            data={"previous": mail.spam_state, "score": mail.spam_score},
        )
    )


def release(session: Session, mails: Iterable[InboundMail], user: User) -> int:
    """ "Not spam": each mail is queued again to become a ticket, and the filter learns it."""
    count = 0
    for inbound in mails:
        _decide(session, inbound, user, learning.HAM_LABEL, "spam.released")
        queue.replay(session, inbound.id, actor=user)
        inbound.meta = {**(inbound.meta or {}), "spam_released": True}
        inbound.spam_state = RELEASED
        count += 1
    session.flush()
    return count


def confirm(session: Session, mails: Iterable[InboundMail], user: User) -> int:
    """ "Spam": kept hidden as certain spam until purged, and the filter learns it."""
    count = 0
    for inbound in mails:
        _decide(session, inbound, user, learning.SPAM_LABEL, "spam.confirmed")
        inbound.spam_state = CERTAIN
        count += 1
    session.flush()
    return count


def mark_ticket_spam(session: Session, ticket: Ticket, user: User) -> None:
    """The "spam" button of a ticket page: the ticket leaves every queue (status "spam"),
    nothing else is blocked, and the filter learns its first customer mail."""
    if ticket.status == SPAM_STATUS:
        return
    first = session.scalar(
        select(Message.inbound_mail_id)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == "in",
            Message.inbound_mail_id.is_not(None),
        )
        .order_by(Message.created_at, Message.id)
        .limit(1)
    )
    inbound = session.get(InboundMail, first) if first is not None else None
    if inbound is not None:
        learning.record_decision(
            session,
            raw=inbound.raw,
            label=learning.SPAM_LABEL,
            inbound_mail_id=inbound.id,
            ticket_id=ticket.id,
            user_id=user.id,
        )
        inbound.spam_state = CONFIRMED
    previous = ticket.status
    ticket.status = SPAM_STATUS
    session.add(
        AuditEvent(
            actor_id=user.id,
            actor_label="staff",
            action="ticket.marked_spam",
            ticket_id=ticket.id,
            subject_type="ticket",
            subject_id=ticket.id,
            data={"previous_status": previous, "inbound_mail_id": first},
        )
    )
    session.flush()
    log.info("ticket %s marked spam by %s", ticket.reference, user.email)
