"""Merging a duplicate ticket into another, and taking it back out for a short while.

A merge moves the duplicate's messages and notes to the target, gives the target the duplicate's
tags (as many as it has room for: ``tags.MAX_TAGS``), closes the duplicate pointing
there, and may reopen the target, raise its urgency and bring its due times forward. Everything
it changes is kept in the ``ticket.merged`` audit event, so that an agent who merged the wrong
ticket can undo it exactly: for ``UNDO_SECONDS``, and only while nothing else happened on either
ticket (a reply, a new mail, a status change), since an undo must not throw away later work.
Like support.desk.actions, each function flushes and the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from support.core.db import utcnow
from support.desk import search, sla, tags, ticket_state
from support.desk.access import can_see_ticket
from support.desk.actions import ActionError, audit, reopen
from support.desk.models import OPEN_STATUSES, AuditEvent, Message, Ticket, User

#: How long a merge can be undone (if nothing happened on either ticket meanwhile).
UNDO_SECONDS = 600
#: The ticket columns a merge may change, on either ticket: restored as they were by an undo.
SNAPSHOT_FIELDS = (
    "status",
    "urgency",
    "closed_at",
    "resolved_at",
    "last_customer_message_at",
    "first_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "sla_paused_seconds",
    "sla_warn_at",
    "sla_warned_at",
    "sla_breached_at",
    "escalated_at",
    "snoozed_until",
    "merged_into_id",
)
#: Message ids per UPDATE when an undo moves the messages back.
_CHUNK = 500


def final_target(session: Session, target: Ticket) -> Ticket:
    """The ticket a merge into ``target`` lands in: a target merged itself passes it on."""
    seen = {target.id}
    while target.merged_into_id is not None:
        following = session.get(Ticket, target.merged_into_id)
        if following is None or following.id in seen:
            break
        seen.add(following.id)
        target = following
    return target


def mergeable_target(session: Session, ticket: Ticket, user: User, target: Ticket) -> Ticket:
    """The ticket ``ticket`` would be merged into when the user asks for ``target``; raises
    ActionError when the merge is refused (checked before the confirmation page, and again
    by the merge itself)."""
    if ticket.merged_into_id is not None:
        raise ActionError(_("This ticket was merged into another one; work on that one."))
    target = final_target(session, target)
    if not can_see_ticket(user, ticket) or not can_see_ticket(user, target):
        raise ActionError(_("No ticket with that reference."))
    if target.id == ticket.id:
        raise ActionError(_("A ticket cannot be merged into itself."))
    if target.customer_id != ticket.customer_id and not refers_to(session, ticket, target):
        # The customer's follow link shows the merged conversation: never another customer's.
        raise ActionError(_("Only tickets of the same customer can be merged."))
    return target


def refers_to(session: Session, ticket: Ticket, target: Ticket) -> bool:
    """Whether ``ticket`` was opened by a mail that named ``target`` (or a ticket merged into it)
    from a sender who took no part in it (mailrouter.intake.conversations). An agent who finds
    that sender belongs to the conversation (the customer's colleague, the customer's other
    address) merges it in, although the customers differ: each follow link still shows only
    its own customer's part (mailrouter.outbound.customer_links.customer_conversation), and
    the sender's address becomes one a reply may copy."""
    if ticket.refers_to_ticket_id is None:
        return False
    named = session.get(Ticket, ticket.refers_to_ticket_id)
    return named is not None and final_target(session, named).id == target.id


def merge(
    session: Session,
    ticket: Ticket,
    user: User,
    target: Ticket,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> Ticket:
    """Fold a duplicate into `target`: its messages move over, it closes pointing there.

    The target keeps the more urgent of the two levels and the earlier due times: a customer
    whose second mail was raised to "important" must not fall back to "normal" by a merge.
    """
    now = now or utcnow()
    target = mergeable_target(session, ticket, user, target)
    snapshot = {
        "ticket": ticket_state.snapshot(ticket, SNAPSHOT_FIELDS),
        "target": ticket_state.snapshot(target, SNAPSHOT_FIELDS),
        "messages": list(session.scalars(select(Message.id).where(Message.ticket_id == ticket.id))),
    }
    session.execute(
        update(Message).where(Message.ticket_id == ticket.id).values(ticket_id=target.id)
    )
    session.expire(ticket, ["messages"])
    session.expire(target, ["messages"])
    latest = max(
        (t for t in (ticket.last_customer_message_at, target.last_customer_message_at) if t),
        default=None,
    )
    target.last_customer_message_at = latest
    if target.status in ("resolved", "closed") and ticket.status in OPEN_STATUSES:
        reopen(session, target, user, config, now=now)
    raised = _keep_the_more_urgent(session, ticket, target, config, now)
    snapshot["tags_added"], left_out = tags.carry_over(session, ticket, target, user, now=now)
    if left_out:
        raised["tags_left_out"] = left_out
    sla.stop_clock(ticket, config, now=now)
    ticket.status = "closed"
    ticket.closed_at = now
    ticket.merged_into_id = target.id
    ticket.snoozed_until = None
    ticket.updated_at = target.updated_at = now
    session.flush()
    audit(session, ticket, user, "ticket.merged", now=now, into=target.id, snapshot=snapshot)
    audit(
        session,
        target,
        user,
        "ticket.merged_from",
        now=now,
        source=ticket.id,
        reference=ticket.reference,
        **raised,
    )
    search.index_tickets(session, [ticket.id, target.id])
    return target


def _keep_the_more_urgent(
    session: Session, duplicate: Ticket, target: Ticket, config: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """Give `target` the higher urgency and the earlier due times of the two tickets (before
    the duplicate's clock stops); what changed, for the audit trail."""
    changed: dict[str, Any] = {}
    if (duplicate.urgency or 0) > (target.urgency or 0):
        changed["urgency"] = {"from": target.urgency, "to": duplicate.urgency}
        target.urgency = duplicate.urgency
        session.flush()
        session.expire(target, ["urgency_level"])
        if target.is_open:
            sla.start_clock(target, config, now=now)
    if not duplicate.is_open or not target.is_open:
        return changed
    same_phase = (duplicate.first_response_at is None) == (target.first_response_at is None)
    fields = ["resolution_due_at"]
    if target.first_response_at is None and duplicate.first_response_at is None:
        fields.append("first_response_due_at")
    if same_phase:
        fields.append("sla_warn_at")
    for name in fields:
        theirs, ours = getattr(duplicate, name), getattr(target, name)
        if theirs is not None and (ours is None or theirs < ours):
            setattr(target, name, theirs)
            changed[name] = theirs.isoformat()
    return changed


# --- undo ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoableMerge:
    """A merge into a ticket that can still be undone, until ``until``."""

    source: Ticket
    until: datetime


def _merge_event(session: Session, source: Ticket) -> AuditEvent | None:
    return session.scalars(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == source.id, AuditEvent.action == "ticket.merged")
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()


def _refusal(
    session: Session, source: Ticket, target: Ticket, event: AuditEvent | None, now: datetime
) -> str | None:
    """Why this merge cannot be undone now, in words; None when it can."""
    data = event.data if event is not None and isinstance(event.data, dict) else {}
    if event is None or source.merged_into_id != target.id or data.get("into") != target.id:
        return _("This merge cannot be undone: the ticket is not merged there any more.")
    snapshot = data.get("snapshot")
    if not isinstance(snapshot, dict):
        return _("This merge was made before merges could be undone.")
    if now > event.created_at + timedelta(seconds=UNDO_SECONDS):
        return _("A merge can be undone for %(minutes)s minutes only.", minutes=UNDO_SECONDS // 60)
    since = event.created_at
    moved = {int(i) for i in snapshot.get("messages") or []}
    # Messages written after the merge that did not come with it (a back-dated merge in a
    # test moves newer ones): bounded, as more than all moved ones means "new" anyway.
    newer_messages = session.scalars(
        select(Message.id)
        .where(Message.ticket_id == target.id, Message.created_at > since)
        .limit(len(moved) + 1)
    )
    newer_event = exists().where(
        AuditEvent.ticket_id.in_((source.id, target.id)), AuditEvent.created_at > since
    )
    if not set(newer_messages) <= moved or session.scalar(select(newer_event)):
        return _(
            "This merge cannot be undone: something happened on %(ref)s since (a reply, a note,"
            " a new mail or a change).",
            ref=target.reference,
        )
    return None


def undoable_merges(
    session: Session, user: User, target: Ticket, now: datetime | None = None
) -> list[UndoableMerge]:
    """The merges into ``target`` that ``user`` may still undo, newest first (the ticket page
    offers them)."""
    now = now or utcnow()
    if not can_see_ticket(user, target):
        return []
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.ticket_id == target.id,
            AuditEvent.action == "ticket.merged_from",
            AuditEvent.created_at >= now - timedelta(seconds=UNDO_SECONDS),
        )
        .order_by(AuditEvent.created_at.desc())
        .limit(5)
    ).all()
    found = []
    for merged_from in events:
        source_id = (merged_from.data or {}).get("source")
        source = session.get(Ticket, source_id) if isinstance(source_id, int) else None
        if source is None or not can_see_ticket(user, source):
            continue
        event = _merge_event(session, source)
        if event is not None and _refusal(session, source, target, event, now) is None:
            found.append(UndoableMerge(source, event.created_at + timedelta(seconds=UNDO_SECONDS)))
    return found


def undo_merge(
    session: Session, source: Ticket, user: User, *, now: datetime | None = None
) -> Ticket:
    """Take ``source`` back out of the ticket it was merged into, as it was before: its
    messages and notes, status, urgency and due times, and the target's too. The target."""
    now = now or utcnow()
    if source.merged_into_id is None:
        raise ActionError(_("This ticket is not merged into another one."))
    target = session.get(Ticket, source.merged_into_id)
    if target is None or not can_see_ticket(user, source) or not can_see_ticket(user, target):
        raise ActionError(_("You cannot work on this ticket."))
    event = _merge_event(session, source)
    refusal = _refusal(session, source, target, event, now)
    if refusal is not None:
        raise ActionError(refusal)
    assert event is not None
    snapshot = event.data["snapshot"]
    moved = [int(i) for i in snapshot.get("messages") or []]
    for start in range(0, len(moved), _CHUNK):
        session.execute(
            update(Message)
            .where(Message.id.in_(moved[start : start + _CHUNK]), Message.ticket_id == target.id)
            .values(ticket_id=source.id)
        )
    tags.take_back(session, target, user, snapshot.get("tags_added") or [], now=now)
    ticket_state.restore(source, snapshot["ticket"], SNAPSHOT_FIELDS)
    ticket_state.restore(target, snapshot["target"], SNAPSHOT_FIELDS)
    source.updated_at = target.updated_at = now
    session.flush()
    for ticket in (source, target):
        session.expire(ticket, ["messages", "urgency_level"])
    for ticket, other, role in ((source, target, "source"), (target, source, "target")):
        audit(
            session,
            ticket,
            user,
            "ticket.merge_undone",
            now=now,
            other=other.id,
            reference=other.reference,
            role=role,
        )
    search.index_tickets(session, [source.id, target.id])
    return target
