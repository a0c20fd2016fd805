"""State changes of a ticket, shared by the pages, the API and staff replies by mail.

Each function checks the rules, changes the ticket, writes an AuditEvent and flushes; the
caller commits once. Corrections of department and urgency are also stored as
TrainingExamples: they are the classifier's best teacher.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailrouter.compose import OutgoingFile
from support.core.db import utcnow
from support.core.text import to_traditional
from support.core.zones import own_clock
from support.desk import complaints, mentions, search, sla, ticket_state
from support.desk.access import can_see_ticket, has_role, visible_department_ids
from support.desk.mail import (
    SLOT,
    customer_text,
    customer_writes_traditional,
    enqueue,
    in_language,
    in_traditional_around,
    last_customer_message,
    local_time,
    local_zone,
    reply_subject,
    thread_headers,
)
from support.desk.models import (
    OPEN_STATUSES,
    AuditEvent,
    Department,
    Message,
    Ticket,
    TrainingExample,
    UrgencyLevel,
    User,
)
from support.desk.notifications import notify_assigned
from support.desk.outbox import team_name
from support.desk.reply_files import store_files
from support.desk.satisfaction import send_survey, survey_block

log = logging.getLogger(__name__)

REPLY_FOLLOW_UPS = ("open", "waiting", "resolved")


class ActionError(Exception):
    """A request the rules refuse; the message is meant for the user."""


class MentionRefused(ActionError):
    """A note names a colleague who may not open the ticket (support.desk.mentions)."""


def audit(
    session: Session,
    ticket: Ticket | None,
    user: User | None,
    action: str,
    *,
    now: datetime | None = None,
    **data: Any,
) -> AuditEvent:
    event = AuditEvent(
        created_at=now or utcnow(),
        actor_id=user.id if user else None,
        actor_label="staff" if user else "system",
        action=action,
        ticket_id=ticket.id if ticket else None,
        subject_type="ticket" if ticket else None,
        subject_id=ticket.id if ticket else None,
        data=data,
    )
    session.add(event)
    return event


def audit_overridden_warnings(
    session: Session,
    ticket: Ticket,
    user: User,
    categories: Iterable[str],
    *,
    other_language: bool,
    now: datetime | None = None,
    **data: Any,
) -> None:
    """Record a reply sent despite its warnings (support.desk.reply_check: wording categories,
    and "language" for a reply in another language than the customer's), from the web form
    or the API alike; nothing when there were none."""
    found = set(categories) | ({"language"} if other_language else set())
    if found:
        audit(
            session,
            ticket,
            user,
            "ticket.reply_warnings_overridden",
            now=now,
            categories=sorted(found),
            **data,
        )


def _require_workable(ticket: Ticket, user: User | None = None) -> None:
    """Refuse work on a merged ticket, and (given a user) on a ticket they cannot see."""
    if ticket.merged_into_id is not None:
        raise ActionError(_("This ticket was merged into another one; work on that one."))
    if user is not None and not can_see_ticket(user, ticket):
        raise ActionError(_("You cannot work on this ticket."))


#: For the other modules that change tickets (support.desk.tags).
require_workable = _require_workable


def _touch(ticket: Ticket, now: datetime) -> None:
    ticket.updated_at = now


def _training_example(
    session: Session,
    ticket: Ticket,
    user: User,
    *,
    source: str,
    department_code: str | None = None,
    urgency: int | None = None,
) -> None:
    inbound = [m for m in ticket.messages if m.direction == "in"]
    first = min(inbound, key=lambda m: (m.created_at, m.id)) if inbound else None
    session.add(
        TrainingExample(
            subject=ticket.subject or "",
            body=(first.new_text or first.body_text) if first else "",
            department_code=department_code,
            urgency=urgency,
            source=source,
            ticket_id=ticket.id,
            user_id=user.id,
        )
    )


def _quote(
    message: Message | None, config: Mapping[str, Any], language: str, *, traditional: bool
) -> str:
    text = customer_text(message)
    if message is None or not text:
        return ""
    who = message.from_name or message.from_address
    # On the customer's own clock when their mail gave it: "On 07:30, you wrote" as they
    # remember writing it, not the company's 20:30. The company's clock is named: a customer
    # abroad whose mail gave no zone read our 20:30 as theirs.
    offset = own_clock(message.date_offset_minutes)
    if offset is not None:
        clock = timezone(timedelta(minutes=offset))
        when = message.created_at.astimezone(clock).strftime("%Y-%m-%d %H:%M")
    else:
        zone = local_zone(message.created_at, config, language, traditional)
        when = _("%(time)s (%(zone)s)", time=local_time(message.created_at, config), zone=zone)
    if traditional:  # the name goes in after the conversion: 陳台生 is not the converter's
        phrase = _("On %(date)s, %(name)s wrote:", date=when, name=SLOT)
        header = in_traditional_around(phrase, who)
    else:
        header = _("On %(date)s, %(name)s wrote:", date=when, name=who)
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines()[:60])
    return f"{header}\n{quoted}"


def reply_signature(ticket: Ticket, user: User, config: Mapping[str, Any]) -> list[str]:
    """The lines a reply by `user` on `ticket` is signed with, below the agent's text (the
    ticket page shows them: an agent who signed "Best, Lei" sent the name twice)."""
    traditional = customer_writes_traditional(ticket)
    team = team_name(ticket.department, config, language=ticket.language, traditional=traditional)
    return [line for line in (user.signature_name, team) if line]


def signed(body: str, signature: list[str]) -> str:
    """The text and below it the signature, less the lines its end already says: a saved
    reply ending "Best regards,\n{agent_name}" was signed twice ("Lily" and "Lily" again).
    The name counts as said when the last line ends with it as a whole word ("Best, Lily");
    the lines after it (the team) must then follow it as written."""
    text = body.strip()
    lines = [line.strip() for line in text.splitlines()]
    for said in range(min(len(signature), len(lines)), 0, -1):
        tail = lines[-said:]
        if tail[1:] == signature[1:said] and _ends_with_name(tail[0], signature[0]):
            return "\n".join([text, *signature[said:]])
    return "\n\n".join(part for part in (text, "\n".join(signature)) if part)


def _ends_with_name(line: str, name: str) -> bool:
    """``line`` ends with ``name`` as a whole word: "Best, Lily" does, "Lilyanne" does not."""
    if not name or not line.casefold().endswith(name.casefold()):
        return False
    before = line[: len(line) - len(name)]
    return not before or not before[-1].isalnum()


def compose_reply_text(
    ticket: Ticket, user: User, body: str, config: Mapping[str, Any], *, survey: bool = False
) -> str:
    """The customer's mail: the answer, the signature, the rating links, the quoted question."""

    traditional = customer_writes_traditional(ticket)
    parts = [signed(body, reply_signature(ticket, user, config))]
    with in_language(ticket.language):
        if survey:
            block = survey_block(ticket, config)
            parts.append(to_traditional(block) if traditional else block)
        quote = _quote(
            last_customer_message(ticket), config, ticket.language or "en", traditional=traditional
        )
    if quote:
        parts.append(quote)
    return "\n\n".join(parts)


def reply(
    session: Session,
    ticket: Ticket,
    user: User,
    text: str,
    *,
    config: Mapping[str, Any],
    then: str = "open",
    channel: str = "staff",
    now: datetime | None = None,
    files: Sequence[OutgoingFile] = (),
    cc: Sequence[str] = (),
    hold_seconds: int = 0,
) -> Message:
    """Send an answer to the customer through the outbox, from the department's address.

    With ``hold_seconds`` the mail waits that long before the sender may take it, while its
    author may undo it (support.desk.held_replies): the ticket's columns as they were before
    are kept in the "ticket.replied" event for that.

    `then` says what happens next: keep it "open", "waiting" on the customer (the clock
    pauses) or "resolved" (the mail then carries the rating links). `files` (checked by
    support.desk.reply_files.read_uploads) go out as attachments and stay on the ticket.
    `cc` (checked by support.desk.reply_cc.read_cc) are copied and kept on the message.
    """

    now = now or utcnow()
    _require_workable(ticket, user)
    body = (text or "").strip()
    if not body:
        raise ActionError(_("Write a reply first."))
    if then not in REPLY_FOLLOW_UPS:
        raise ActionError(_("Unknown follow-up %(then)s.", then=then))
    customer = ticket.customer
    resolving = then == "resolved"
    before = ticket_state.snapshot(ticket) if hold_seconds > 0 else None
    mail_text = compose_reply_text(
        ticket, user, body, config, survey=resolving and bool(ticket.reference)
    )
    in_reply_to, references = thread_headers(ticket)
    with in_language(ticket.language):
        subject = reply_subject(ticket)
    try:
        outbound = enqueue(
            session,
            ticket=ticket,
            kind="reply",
            to=[customer.email],
            subject=subject,
            text=mail_text,
            in_reply_to=in_reply_to,
            references=references,
            department=ticket.department,
            author=user,
            config=config,
            language=ticket.language,
            traditional=customer_writes_traditional(ticket),
            files=files,
            cc=cc,
        )
    except ValueError as exc:  # an address no mail can be written to: say so, keep the text
        raise ActionError(
            _(
                "This reply cannot be sent to %(email)s (%(error)s). Nothing was sent; "
                "your text is kept below.",
                email=customer.email,
                error=str(exc),
            )
        ) from exc
    # The outbox records the mail as the conversation entry; it gets the staff's own words.
    message = session.scalar(select(Message).where(Message.outbound_mail_id == outbound.id))
    if message is None:
        raise RuntimeError(f"the outbox stored no message for mail {outbound.id}")
    message.new_text = body
    message.channel = channel
    message.author = user
    held: dict[str, Any] = {}
    if before is not None:
        outbound.state = "held"
        outbound.next_attempt_at = now + timedelta(seconds=hold_seconds)
        held = {"held_until": outbound.next_attempt_at.isoformat(), "before": before}
    store_files(session, message, files)
    if ticket.first_response_at is None:
        sla.record_first_response(ticket, config, now=now)
    complaints.record_progress(ticket, config, now)
    _touch(ticket, now)
    session.flush()
    audit(
        session,
        ticket,
        user,
        "ticket.replied",
        now=now,
        message_id=message.id,
        channel=channel,
        then=then,
        **({"files": len(files)} if files else {}),
        **held,
    )
    if ticket.assignee_id is None and user in assignable_users(session, ticket):
        # Who answers an unassigned ticket owns it (as in Help Scout and Zendesk): it leaves
        # the unassigned queue, so no colleague answers the customer a second time.
        assign(session, ticket, user, user, config, now=now)
    if then == "waiting":
        if ticket.status in ("resolved", "closed"):
            reopen(session, ticket, user, config, now=now)
        if ticket.status != "waiting":
            mark_waiting(session, ticket, user, config, now=now)
    elif resolving:
        if ticket.status in OPEN_STATUSES:
            resolve(session, ticket, user, config, now=now, survey=False)
    elif ticket.status == "waiting":
        resume(session, ticket, user, config, now=now)
    elif ticket.status in ("resolved", "closed"):
        reopen(session, ticket, user, config, now=now)
    elif ticket.status == "new":
        _set_status(session, ticket, user, "open", now)
    search.index_tickets(session, [ticket.id])
    return message


def add_note(
    session: Session,
    ticket: Ticket,
    user: User,
    text: str,
    *,
    files: Sequence[OutgoingFile] = (),
    now: datetime | None = None,
    config: Mapping[str, Any] | None = None,
    handed_to: User | None = None,
) -> Message:
    """An internal note: visible to staff only, never mailed to the customer. ``files``
    (checked by support.desk.reply_files.read_uploads) stay on the note, for staff only.
    With ``config`` (the pages and the API), colleagues it @mentions are told by mail; a note
    naming someone who may not open the ticket is refused (support.desk.mentions).
    ``handed_to``: the colleague the ticket is assigned to with this note, whose assignment
    notice quotes it: named in it too, they get that one mail, not a second."""
    now = now or utcnow()
    if not can_see_ticket(user, ticket):
        raise ActionError(_("You cannot work on this ticket."))
    body = (text or "").strip()
    if not body:
        raise ActionError(_("Write a note first."))
    named = mentions.read_mentions(session, ticket, user, body) if config is not None else None
    if named is not None and named.refused:
        raise MentionRefused(
            _(
                "%(names)s cannot open this ticket's department, so cannot be told of this note."
                " Remove the mention, or move the ticket first.",
                names=", ".join(u.name for u in named.refused),
            )
        )
    message = Message(
        ticket=ticket,
        direction="note",
        channel="staff",
        from_name=user.name,
        from_address=user.email,
        body_text=body,
        new_text=body,
        author=user,
        created_at=now,
    )
    session.add(message)
    _touch(ticket, now)
    session.flush()
    store_files(session, message, files)
    told = named.told if named is not None else []
    audit(
        session,
        ticket,
        user,
        "ticket.note_added",
        now=now,
        message_id=message.id,
        **({"mentioned": [u.id for u in told]} if told else {}),
    )
    mailed = [u for u in told if handed_to is None or u.id != handed_to.id]
    if mailed and config is not None:
        mentions.notify(session, ticket, user, body, mailed, config)
    search.index_tickets(session, [ticket.id])
    return message


def may_assign_to(user: User, ticket: Ticket, assignee: User | None) -> bool:
    """Agents take or drop tickets themselves; leads and admins assign anyone who can see it."""
    if has_role(user, "lead"):
        if user.role == "admin" or ticket.department_id is None:
            return True
        return ticket.department_id in visible_department_ids(user)
    if assignee is None:
        return ticket.assignee_id == user.id
    return assignee.id == user.id


def assignable_users(session: Session, ticket: Ticket) -> list[User]:
    """Active staff who would see the ticket: its department's members and the admins."""
    users = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)).all()
    return [
        u
        for u in users
        if u.role == "admin"
        or (ticket.department_id is not None and ticket.department_id in visible_department_ids(u))
    ]


def assign(
    session: Session,
    ticket: Ticket,
    user: User,
    assignee: User | None,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    note: str = "",
) -> None:
    """Give the ticket to ``assignee`` (None: nobody); someone given it by a colleague is told
    by mail (with ``note``, the note the colleague handed it over with)."""
    now = now or utcnow()
    _require_workable(ticket, user)
    if not may_assign_to(user, ticket, assignee):
        raise ActionError(_("Only a lead can assign tickets to others."))
    if assignee is not None and assignee not in assignable_users(session, ticket):
        # No name: the assignee may be someone of another department the user cannot see.
        raise ActionError(
            _("That person cannot take this ticket: they do not work in its department.")
        )
    previous = ticket.assignee_id
    if previous == (assignee.id if assignee else None):
        return
    ticket.assignee = assignee
    _touch(ticket, now)
    session.flush()
    audit(
        session,
        ticket,
        user,
        "ticket.assigned",
        now=now,
        **{"from": previous, "to": assignee.id if assignee else None},
    )
    if assignee is not None and ticket.status == "new":
        # Someone has it now (Zendesk's "New" ends on assignment): "open", in progress. Both are
        # open statuses, so the response clock, the open inboxes and the SLA checks go on.
        _set_status(session, ticket, user, "open", now)
    if assignee is not None:
        notify_assigned(session, ticket, assignee, user, config, note=note)


def keeps_assignee(ticket: Ticket, department: Department) -> bool:
    """Whether the ticket's assignee would still see it in `department` (else a move drops them)."""
    assignee = ticket.assignee
    return (
        assignee is None
        or assignee.role == "admin"
        or department.id in visible_department_ids(assignee)
    )


def change_department(
    session: Session,
    ticket: Ticket,
    user: User,
    department: Department,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Move a ticket (a correction, or the triage decision); its clock follows the new targets."""
    now = now or utcnow()
    _require_workable(ticket, user)
    if not department.is_active:
        raise ActionError(_("That department is retired."))
    if ticket.department_id == department.id and not ticket.needs_triage:
        return
    previous = ticket.department.code if ticket.department else None
    source = "triage" if ticket.needs_triage else "correction"
    ticket.department = department
    ticket.needs_triage = False
    dropped = None if keeps_assignee(ticket, department) else ticket.assignee_id
    if dropped is not None:
        ticket.assignee = None
    if ticket.is_open:
        sla.start_clock(ticket, config, now=now)
    _touch(ticket, now)
    _training_example(session, ticket, user, source=source, department_code=department.code)
    session.flush()
    audit(
        session,
        ticket,
        user,
        "ticket.department_changed",
        now=now,
        source=source,
        **{"from": previous, "to": department.code},
    )
    if dropped is not None:  # the history says so; the page warned before the move
        audit(
            session,
            ticket,
            user,
            "ticket.assigned",
            now=now,
            reason="moved",
            **{"from": dropped, "to": None},
        )


def _unsure_emergency_only(ticket: Ticket) -> bool:
    """Flagged for triage with a department, for an emergency the router was unsure of, and
    for nothing else (its department was decided, not left to triage)."""
    classification = ticket.classification or {}
    department = classification.get("department") or {}
    urgency = classification.get("urgency") or {}
    return bool(
        ticket.needs_triage
        and ticket.department_id is not None
        and urgency.get("unsure_emergency")
        and not department.get("triage_reason")
    )


def change_urgency(
    session: Session,
    ticket: Ticket,
    user: User,
    level: int,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Set the ticket's urgency. On a ticket flagged for triage only because the router was
    unsure of an emergency (mailrouter.routing.decisions, ``unsure_emergency``), setting it,
    even to the level it has, is the person's answer: the flag goes, and the level is learnt."""
    now = now or utcnow()
    _require_workable(ticket, user)
    if session.get(UrgencyLevel, level) is None:
        raise ActionError(_("Unknown urgency level %(level)s.", level=level))
    previous = ticket.urgency
    if _unsure_emergency_only(ticket):
        ticket.needs_triage = False
        if previous == level:
            _touch(ticket, now)
            _training_example(session, ticket, user, source="triage", urgency=level)
            session.flush()
            audit(session, ticket, user, "ticket.urgency_confirmed", now=now, level=level)
            return
    if previous == level:
        return
    ticket.urgency = level
    session.flush()
    session.expire(ticket, ["urgency_level"])
    if ticket.is_open:
        sla.start_clock(ticket, config, now=now)
    _touch(ticket, now)
    _training_example(session, ticket, user, source="correction", urgency=level)
    session.flush()
    audit(
        session, ticket, user, "ticket.urgency_changed", now=now, **{"from": previous, "to": level}
    )
    if ticket.is_urgent and ticket.snoozed_until is not None:
        # Important or emergency now: handled now, so back in the queue (support.desk.snooze).
        until, ticket.snoozed_until = ticket.snoozed_until, None
        session.flush()
        audit(
            session,
            ticket,
            user,
            "ticket.snooze_ended",
            now=now,
            reason="urgency",
            until=until.isoformat(),
        )


def _set_status(
    session: Session, ticket: Ticket, user: User | None, status: str, now: datetime, **data: Any
) -> None:
    previous = ticket.status
    ticket.status = status
    if status not in OPEN_STATUSES:
        ticket.snoozed_until = None  # a snooze sets an open ticket aside; it ends with it
    _touch(ticket, now)
    session.flush()
    audit(
        session,
        ticket,
        user,
        "ticket.status_changed",
        now=now,
        **{"from": previous, "to": status},
        **data,
    )


def mark_waiting(
    session: Session,
    ticket: Ticket,
    user: User,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Waiting on the customer: the response clock pauses until they answer or staff resume."""
    now = now or utcnow()
    _require_workable(ticket)
    if ticket.status not in ("new", "open"):
        raise ActionError(_("Only an open ticket can wait for the customer."))
    sla.pause_clock(ticket, now=now)
    _set_status(session, ticket, user, "waiting", now)


def resume(
    session: Session,
    ticket: Ticket,
    user: User | None,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Back from waiting (the customer answered, or staff take it up again): the clock runs."""
    now = now or utcnow()
    if ticket.status != "waiting":
        raise ActionError(_("This ticket is not waiting for the customer."))
    sla.resume_clock(ticket, config, now=now)
    _set_status(session, ticket, user, "open", now)


def resolve(
    session: Session,
    ticket: Ticket,
    user: User,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
    survey: bool = True,
) -> None:
    """Resolved: the clock stops and the customer gets the one-click rating mail."""

    now = now or utcnow()
    _require_workable(ticket)
    if ticket.status not in OPEN_STATUSES:
        raise ActionError(_("This ticket is already resolved or closed."))
    sla.stop_clock(ticket, config, now=now)
    ticket.resolved_at = now
    _set_status(session, ticket, user, "resolved", now)
    if survey and send_survey(session, ticket, config) is not None:
        audit(session, ticket, user, "ticket.survey_sent", now=now)


def reopen(
    session: Session,
    ticket: Ticket,
    user: User | None,
    config: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
    _require_workable(ticket)
    if ticket.status in OPEN_STATUSES:
        raise ActionError(_("This ticket is open already."))
    ticket.resolved_at = None
    ticket.closed_at = None
    _set_status(session, ticket, user, "open", now)
    sla.start_clock(ticket, config, now=now)
