"""Undo send: a reply sent from the ticket page waits ``REPLY_UNDO_SECONDS`` before it goes out.

The reply is stored at once like any other (support.desk.actions.reply: its outbox row, its
message, the ticket's new status, assignee and due times), but its outbox row is ``held`` until
``next_attempt_at``. The sender (mailrouter.outbound.sender) claims a held row once that time
has passed: the claim is the release, so nothing else must run for it to go out, and a crash
neither loses it (the row is committed) nor sends it twice (the claim's guarantees).

Until then its author may take it back: one conditional UPDATE turns the row from ``held`` to
``failed``, so an undo and a claim cannot both win; the message goes, and the ticket's columns
are restored from the "ticket.replied" event (support.desk.ticket_state, as an undone merge).
An undo is refused once anything else happened on the ticket (a customer's mail, a colleague's
note or change): putting the ticket back would throw that away. Each function flushes; the
caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from support.core.db import utcnow
from support.desk import search, ticket_state
from support.desk.actions import ActionError, audit
from support.desk.models import AuditEvent, Message, OutboundMail, Ticket, User

#: The longest hold a deployment may set: longer, and "sent" stops meaning sent.
MAX_HOLD_SECONDS = 60
#: An undo clicked as the countdown ends still counts (the page's clock and the request's trip).
GRACE_SECONDS = 2
#: Held replies one banner lists (an agent sending "... and next" quickly has a few).
LISTED = 5


def hold_seconds(config: Mapping[str, Any]) -> int:
    """``REPLY_UNDO_SECONDS``, bounded to 0..60 (0: replies go out at once, no undo)."""
    try:
        seconds = int(config.get("REPLY_UNDO_SECONDS") or 0)
    except (TypeError, ValueError):
        return 0
    return max(0, min(MAX_HOLD_SECONDS, seconds))


@dataclass(frozen=True)
class HeldReply:
    """A reply of the user's that has not gone out yet and may be undone until ``until``."""

    message_id: int
    ticket: Ticket
    until: datetime

    def seconds_left(self, now: datetime) -> int:
        return seconds_left(self.until, now)


def held_for(session: Session, user: User, now: datetime | None = None) -> list[HeldReply]:
    """The user's replies still held (newest first): the ticket page's "Sending in N s" banner."""
    now = now or utcnow()
    rows = session.execute(
        select(Message, OutboundMail.next_attempt_at)
        .join(OutboundMail, OutboundMail.id == Message.outbound_mail_id)
        .where(
            OutboundMail.state == "held",
            OutboundMail.next_attempt_at > now,
            Message.author_id == user.id,
        )
        .order_by(OutboundMail.next_attempt_at.desc())
        .limit(LISTED)
    ).all()
    return [HeldReply(m.id, m.ticket, until) for m, until in rows if until is not None]


def held_messages(session: Session, ticket: Ticket) -> dict[int, datetime]:
    """The ticket's replies not sent yet, whoever wrote them, and when each hold ends (the page
    marks them so: "may still undo" until then, "in the outbox" after, until the sender takes
    the row)."""
    rows = session.execute(
        select(Message.id, OutboundMail.next_attempt_at)
        .join(OutboundMail, OutboundMail.id == Message.outbound_mail_id)
        .where(Message.ticket_id == ticket.id, OutboundMail.state == "held")
    ).all()
    return {message_id: until for message_id, until in rows if until is not None}


def seconds_left(until: datetime, now: datetime) -> int:
    """Whole seconds of a hold left at ``now`` (rounded up: 0 only once it is over)."""
    return max(0, int((until - now).total_seconds() + 0.999))


@dataclass(frozen=True)
class UndoneReply:
    """What goes back into the reply box."""

    text: str
    cc: list[str]
    had_files: bool


def _send_event(session: Session, message: Message) -> AuditEvent | None:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == message.ticket_id, AuditEvent.action == "ticket.replied")
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(20)
    )
    return next((e for e in events if (e.data or {}).get("message_id") == message.id), None)


def _happened_since(session: Session, ticket: Ticket, message: Message, at: datetime) -> bool:
    """Whether a message or an event other than the send's own came after the send."""
    newer_message = exists().where(
        Message.ticket_id == ticket.id, Message.created_at > at, Message.id != message.id
    )
    newer_event = exists().where(AuditEvent.ticket_id == ticket.id, AuditEvent.created_at > at)
    return bool(session.scalar(select(newer_message)) or session.scalar(select(newer_event)))


def undo(
    session: Session, ticket: Ticket, user: User, message_id: int, *, now: datetime | None = None
) -> UndoneReply:
    """Take back a held reply: it is never sent, and the ticket is as it was before it."""
    now = now or utcnow()
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id or message.outbound_mail_id is None:
        raise ActionError(_("There is no reply to undo."))
    if message.author_id != user.id:
        raise ActionError(_("Only the author of a reply can undo it."))
    event = _send_event(session, message)
    data = event.data if event is not None and isinstance(event.data, dict) else {}
    before = data.get("before")
    if event is None or not isinstance(before, dict):
        raise ActionError(_("This reply was sent at once; it cannot be undone."))
    if _happened_since(session, ticket, message, event.created_at):
        raise ActionError(
            _("Too late to undo: something happened on this ticket since; the reply goes out.")
        )
    # The one step that decides between this undo and the sender's claim: whichever changes
    # the row first wins (the claim takes only "held" rows, this only one not yet due).
    taken = session.execute(
        update(OutboundMail)
        .where(
            OutboundMail.id == message.outbound_mail_id,
            OutboundMail.state == "held",
            OutboundMail.next_attempt_at > now - timedelta(seconds=GRACE_SECONDS),
        )
        .values(state="failed", next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise ActionError(_("Too late to undo: the reply has been sent."))
    undone = UndoneReply(
        text=message.new_text or "",
        cc=list(message.cc_addresses or []),
        had_files=bool(message.attachments),
    )
    outbound_id = message.outbound_mail_id
    for attachment in list(message.attachments):
        session.delete(attachment)
    session.delete(message)
    session.flush()
    session.execute(delete(OutboundMail).where(OutboundMail.id == outbound_id))
    ticket_state.restore(ticket, before)
    session.flush()
    session.expire(ticket)
    audit(session, ticket, user, "ticket.reply_undone", now=now)
    search.index_tickets(session, [ticket.id])
    return undone
