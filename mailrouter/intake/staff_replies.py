"""Staff answers sent by mail: a reply to one of our notifications answers the customer.

The pipeline recognises such a reply because it answers one of our notification Message-IDs
(signed, unguessable, stored in the outbox); `handle_staff_mail_reply` checks the sender again
and sends their text as the ticket's reply, without the quoted notification.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailrouter.parsing import ParsedMail
from support.core.db import utcnow
from support.desk import actions, reply_cc, seen
from support.desk.access import can_see_ticket
from support.desk.models import Message, OutboundMail, Ticket, User
from support.desk.notifications import REPLY_MARKER_EN, REPLY_MARKER_ZH
from support.desk.outbox import own_addresses

log = logging.getLogger(__name__)
_MARKER_RE = re.compile(r"##-\s.*\s-##")
_ATTRIBUTION_RE = re.compile(
    r"^\s*(on\s.+wrote:?|.+写道[:：]?|-+\s*original message\s*-+|-+\s*原始邮件\s*-+|"
    r"(from|发件人)\s*[:：].*)\s*$",
    re.IGNORECASE,
)


def _ids_answered(parsed: ParsedMail) -> list[str]:
    ids = [parsed.in_reply_to or "", *(parsed.references or [])]
    found: list[str] = []
    for raw in ids:
        for part in raw.split():
            core = part.strip().strip("<>").strip()
            if core and core not in found:
                found.append(core)
    return found


def _notifications_answered(
    session: Session, parsed: ParsedMail, recipient: str
) -> list[OutboundMail]:
    """Our notifications to ``recipient`` that ``parsed`` answers."""
    ids = _ids_answered(parsed)
    if not ids:
        return []
    candidates = [f"<{core}>" for core in ids] + ids
    notifications = session.scalars(
        select(OutboundMail).where(
            OutboundMail.message_id.in_(candidates), OutboundMail.kind == "notification"
        )
    ).all()
    return [
        notification
        for notification in notifications
        if recipient in {r.strip().lower() for r in notification.recipients or []}
    ]


def staff_reply_target(
    session: Session, parsed: ParsedMail, config: Mapping[str, Any]
) -> tuple[User, Ticket] | None:
    """(staff member, ticket) when `parsed` answers one of our notifications to that member.

    For the intake pipeline: call it before matching a mail to a customer's ticket, and hand a
    match to `handle_staff_mail_reply`. The sender must be an active staff member who received
    that very notification and can still see the ticket.
    """
    sender = (parsed.from_address or "").strip().lower()
    for notification in _notifications_answered(session, parsed, sender):
        user = session.scalar(select(User).where(func.lower(User.email) == sender))
        ticket = session.get(Ticket, notification.ticket_id) if notification.ticket_id else None
        if user is not None and user.is_active and can_see_ticket(user, ticket):
            assert ticket is not None
            return user, ticket
    return None


def strip_notification_quote(text: str) -> str:
    """The staff member's own words: everything above our marker line and their mail program's
    "On ... wrote:" line, without trailing quoted (">") lines."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if _MARKER_RE.search(line) or REPLY_MARKER_EN in line or REPLY_MARKER_ZH in line:
            lines = lines[:index]
            break
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    if lines and _ATTRIBUTION_RE.match(lines[-1]):
        lines.pop()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    return "\n".join(lines).strip()


def mailed_cc(
    session: Session, parsed: ParsedMail, user: User, ticket: Ticket, config: Mapping[str, Any]
) -> list[str]:
    """The copies of a reply sent by mail: the addresses the staff member's mail went to or
    copied besides ours and theirs, under the web's rule (support.desk.reply_cc): only the
    conversation's addresses, at most MAX_CC. Others are left out and logged, not refused:
    the mail is the staff member's reply, and the customer still gets it."""
    own = own_addresses(session, config)
    allowed = set(reply_cc.conversation_addresses(ticket, own))
    customer = ticket.customer.email.lower()
    mine = user.email.strip().lower()
    kept: list[str] = []
    left_out: set[str] = set()  # a set: a mail may name thousands of addresses
    for address in [*(parsed.to or []), *(parsed.cc or [])]:
        address = (address or "").strip().lower()
        if not address or address in own or address in (mine, customer) or address in kept:
            continue
        if address in allowed and len(kept) < reply_cc.MAX_CC:
            kept.append(address)
        else:
            left_out.add(address)
    if left_out:
        log.warning(
            "staff mail reply to ticket %s: %d address(es) not copied (not of the conversation"
            " or more than %d)",
            ticket.id,
            len(left_out),
            reply_cc.MAX_CC,
        )
    return kept


def handle_staff_mail_reply(
    session: Session,
    parsed: ParsedMail,
    user: User,
    ticket: Ticket,
    config: Mapping[str, Any],
) -> Message | None:
    """Send a staff member's mailed answer to the customer as the ticket's reply.

    Returns the reply Message, or None (logged) when the sender is not an active staff member
    who can see the ticket or the mail holds no text of their own. The caller commits.
    """
    sender = (parsed.from_address or "").strip().lower()
    if not user.is_active or sender != user.email.strip().lower():
        log.warning("staff mail reply to ticket %s rejected: sender %r", ticket.id, sender)
        return None
    while ticket.merged_into_id is not None:
        merged_into = session.get(Ticket, ticket.merged_into_id)
        if merged_into is None:
            break
        ticket = merged_into
    if not can_see_ticket(user, ticket):
        log.warning("staff mail reply rejected: user %s cannot see ticket %s", user.id, ticket.id)
        return None
    text = strip_notification_quote(parsed.new_text or "") or strip_notification_quote(
        parsed.text or ""
    )
    if not text:
        log.info("staff mail reply to ticket %s has no text of its own; ignored", ticket.id)
        return None
    cc = mailed_cc(session, parsed, user, ticket, config)
    try:
        message = actions.reply(
            session, ticket, user, text, config=config, channel="email", now=utcnow(), cc=cc
        )
    except actions.ActionError as exc:
        log.warning("staff mail reply to ticket %s not sent: %s", ticket.id, exc)
        return None
    # They read the ticket as the notification showed it: what the customer wrote after it
    # was made stays unread for them.
    answered = _notifications_answered(session, parsed, sender)
    if answered:
        notified_at = max(notification.created_at for notification in answered)
        seen.mark_seen_as_of(session, user.id, ticket.id, notified_at)
    return message
