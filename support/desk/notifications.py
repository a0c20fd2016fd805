"""Mail to staff: new tickets, response-target warnings and escalations.

Teams that live in their mail program get one notification per routed ticket. Replying to it
answers the customer: `mailrouter.intake.staff_replies` recognises such a reply.

One sender cannot flood the team: at most ``NOTIFY_MAX_PER_SENDER_HOUR`` new-ticket
notifications go out per customer and department (or triage) in an hour. The last one says so;
the tickets after it are routed as usual and wait in the queue, with a
"notification_suppressed" audit event instead of a mail. ``send_digests`` (the periodic
response-target check runs it) then sends one digest per sender and department listing them,
``NOTIFY_DIGEST_MINUTES`` after the first, so nothing goes unannounced.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, object_session

from mailrouter.compose import AUTO_SUBMITTED_AUTO_GENERATED
from support.core.addresses import readable_address
from support.core.config import public_base_url
from support.core.db import utcnow
from support.core.reference_cache import reference_data
from support.core.tables import table_of
from support.core.text import NO_TEXT_MARKER, convert_keeping, to_traditional
from support.core.web import message_words
from support.desk.access import can_see_ticket
from support.desk.audit import record_event
from support.desk.complaints import progress_update_text
from support.desk.mail import (
    enqueue,
    in_language,
    language_of,
    local_time,
    local_zone,
    reads_traditional,
)
from support.desk.models import AuditEvent, Message, OutboundMail, Ticket, UrgencyLevel, User
from support.desk.outbox import KIND_DIGEST, KIND_MENTION
from support.desk.staff_names import staff_name

log = logging.getLogger(__name__)

#: The line above which a staff member writes their answer; everything below it is dropped.
REPLY_MARKER_EN = "##- Reply above this line to answer the customer -##"
REPLY_MARKER_ZH = "##- 请在此行以上回复，回复内容将发送给客户 -##"
PREVIEW_CHARS = 4000
#: Files of one mail named in a notice (the ticket page lists every one).
NOTICE_FILES = 10
#: The window of NOTIFY_MAX_PER_SENDER_HOUR.
SENDER_WINDOW = timedelta(hours=1)
SUPPRESSED = "notification_suppressed"
DIGESTED = "notification_digested"
#: Suppressed notifications older than this are not digested any more (the queue shows them).
DIGEST_HORIZON = timedelta(days=2)
#: Tickets one digest run looks at, and tickets one digest mail lists.
DIGEST_BATCH = 1000
DIGEST_LISTED = 50


def ticket_url(ticket: Ticket, config: Mapping[str, Any]) -> str:
    return f"{public_base_url(config)}/staff/tickets/{ticket.id}"


def _first_inbound(ticket: Ticket) -> Message | None:
    inbound = [m for m in ticket.messages if m.direction == "in"]
    return min(inbound, key=lambda m: (m.created_at, m.id)) if inbound else None


def _customer_text(message: Message | None) -> str:
    return _customer_text_of((message.new_text or message.body_text or "") if message else "")


def _customer_text_of(text: str) -> str:
    """Someone's words for a notice: as written, bounded to ``PREVIEW_CHARS``."""
    text = message_words(text.strip())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + " […]"


def _files_lines(message: Message | None) -> list[str]:
    """The names of the files the customer sent with `message` (none: no line). "Screenshot
    attached" in a notice that named no file left staff reading by mail not knowing of it."""
    names = [a.filename for a in (message.attachments if message else [])]
    if not names:
        return []
    shown = ", ".join(names[:NOTICE_FILES])
    if len(names) > NOTICE_FILES:
        shown += " " + _("… and %(count)d more.", count=len(names) - NOTICE_FILES)
    return ["", _("Attachments: %(names)s", names=shown)]


def _subject(ticket: Ticket) -> str:
    """The ticket's subject, or "(no subject)" in the reader's language."""
    return ticket.own_subject or _("(no subject)")


def _written_by_others(ticket: Ticket) -> list[str]:
    """What the customer wrote that a notice about `ticket` may quote: the subject, their name
    and company, each message's words (as `_customer_text` shows them) and file names. Not
    our markers of a mail without subject or text: a reader of Traditional got (无正文)."""
    customer = ticket.customer
    words = [ticket.own_subject, customer.name or "", customer.company or ""]
    for message in ticket.messages:
        if message.direction == "in":
            if (message.new_text or message.body_text or "").strip() != NO_TEXT_MARKER:
                words.append(_customer_text(message))
            words.extend(a.filename for a in message.attachments)
    return [w for w in words if w]


def _department_members(ticket: Ticket) -> list[User]:
    if ticket.department is None:
        return []
    return [u for u in ticket.department.members if u.is_active]


def _triage_users(session: Session) -> list[User]:
    return reference_data(
        session,
        "triage_users",
        lambda: list(
            session.scalars(
                select(User)
                .where(User.is_active.is_(True), User.can_triage.is_(True))
                .order_by(User.id)
            )
        ),
        tables=(table_of(User),),
    )


def _unique(users: Iterable[User | None]) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        if user is not None and user.is_active and user.id not in seen:
            seen[user.id] = user
    return list(seen.values())


def urgency_text(ticket: Ticket, language: str) -> str:
    """The ticket's level with its name ("4 · Important", "4 · 重要"): a bare number means
    little to someone new. Routing has the level's row in the session already (no query)."""
    session = object_session(ticket)
    row = session.get(UrgencyLevel, ticket.urgency) if session is not None else None
    return row.numbered_label(language) if row is not None else str(ticket.urgency)


def _ticket_facts(
    ticket: Ticket, config: Mapping[str, Any], language: str, traditional: bool = False
) -> list[str]:
    customer = ticket.customer
    # People read the domain as written (例子.公司), as the pages show it, not as mail carries it.
    address = readable_address(customer.email)
    who = f"{customer.name} <{address}>" if customer.name else address
    extras = [
        x for x in (customer.company, _("key account") if customer.is_key_account else "") if x
    ]
    if extras:
        who += f" ({', '.join(extras)})"
    department = ticket.department.label(language) if ticket.department else "—"
    return [
        _("Ticket: %(reference)s", reference=ticket.reference or ticket.id),
        _("Department: %(department)s", department=department),
        _("Urgency: %(level)s", level=urgency_text(ticket, language)),
        _("From: %(customer)s", customer=who),
        _("Subject: %(subject)s", subject=_subject(ticket)),
        # The target that counts now: once answered, the clock runs to resolution.
        _(
            "First response due: %(due)s (%(zone)s)",
            due=local_time(ticket.first_response_due_at, config),
            zone=local_zone(ticket.first_response_due_at, config, language, traditional),
        )
        if ticket.first_response_at is None
        else _(
            "Resolution due: %(due)s (%(zone)s)",
            due=local_time(ticket.resolution_due_at, config),
            zone=local_zone(ticket.resolution_due_at, config, language, traditional),
        ),
    ]


def _send_to_each(  # the outbox puts the ticket's [#REF] token into every subject
    session: Session,
    ticket: Ticket,
    users: list[User],
    config: Mapping[str, Any],
    build: Any,
    *,
    kind: str = "notification",
    keep: Iterable[str] = (),
) -> list[str]:
    """One mail per recipient, in their language and script; returns the addresses.

    For a reader of Traditional (繁體) the mail is converted around what others wrote (``keep``:
    the customer's subject, name, company, words and file names, a colleague's name), which is
    quoted as written, as on their pages (support.core.web.as_written).
    """
    sent = []
    for user in users:
        language = language_of(user, config)
        traditional = language == "zh" and reads_traditional(user)
        with in_language(language):
            token = _recipient.set(user)
            try:
                subject, text = build(language, traditional)
            finally:
                _recipient.reset(token)
            kept = (*_written_by_others(ticket), *keep) if traditional else ()
        if traditional:
            subject = convert_keeping(subject, to_traditional, kept)
            text = convert_keeping(text, to_traditional, kept)
        enqueue(
            session,
            ticket=ticket,
            kind=kind,
            to=[user.email],
            subject=subject,
            text=text,
            automatic=True,
            auto_submitted=AUTO_SUBMITTED_AUTO_GENERATED,  # it answers no message
            department=ticket.department,
            config=config,
            language=language,  # from 销售部, not "Sales", above a Chinese text
            traditional=traditional,
        )
        sent.append(user.email)
    return sent


def notified_tickets_of_sender(session: Session, ticket: Ticket, since: datetime) -> int:
    """Other tickets of this ticket's customer and department notified since ``since``.

    Walks only the customer's recent tickets (index on customer and creation time) and their
    outbound mail (index on ticket); a new-ticket notification is written when the ticket is.
    """
    same_department = (
        Ticket.department_id.is_(None)
        if ticket.department_id is None
        else Ticket.department_id == ticket.department_id
    )
    count = session.scalar(
        select(func.count(distinct(OutboundMail.ticket_id)))
        .select_from(Ticket)
        .join(OutboundMail, OutboundMail.ticket_id == Ticket.id)
        .where(
            Ticket.customer_id == ticket.customer_id,
            Ticket.created_at >= since,
            Ticket.id != ticket.id,
            same_department,
            OutboundMail.kind == "notification",
            OutboundMail.created_at >= since,
        )
    )
    return int(count or 0)


def notify_new_ticket(
    session: Session,
    ticket: Ticket,
    config: Mapping[str, Any],
    *,
    message: Message | None = None,
) -> list[str]:
    """Tell the department's members (triage staff for unrouted tickets) about a new ticket.

    Called by the router once the ticket is routed; returns the notified addresses (none when
    the sender already had its NOTIFY_MAX_PER_SENDER_HOUR notifications this hour).
    ``message``: the customer's message that routed it, when not the first (the answer to our
    question after a first mail that said nothing); the notice quotes it.
    """
    users = _new_ticket_recipients(session, ticket)
    if not users:
        log.info("ticket %s: nobody to notify", ticket.id)
        return []
    limit = int(config.get("NOTIFY_MAX_PER_SENDER_HOUR") or 0)
    last_one = False
    if limit > 0:
        now = utcnow()
        earlier = notified_tickets_of_sender(session, ticket, now - SENDER_WINDOW)
        if earlier >= limit:
            record_event(
                session,
                SUPPRESSED,
                {
                    "reason": "sender limit",
                    "limit_per_hour": limit,
                    "sender": ticket.customer.email,
                    "department": ticket.department.code if ticket.department else None,
                },
                ticket_id=ticket.id,
                subject_type="ticket",
                subject_id=ticket.id,
                created_at=now,
            )
            log.info(
                "ticket %s: not notified, %d tickets from this sender were notified this hour",
                ticket.id,
                earlier,
            )
            return []
        last_one = earlier == limit - 1

    first = message or _first_inbound(ticket)

    def build(language: str, traditional: bool) -> tuple[str, str]:
        marker = REPLY_MARKER_ZH if language == "zh" else REPLY_MARKER_EN
        subject = _(
            "New ticket (urgency %(level)s): %(subject)s",
            level=urgency_text(ticket, language),
            subject=_subject(ticket),
        )
        lines = [
            marker,
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            _customer_text(first),
            *_files_lines(first),
            "",
            *_answerable_footer(ticket, config),
        ]
        if last_one:
            lines += [
                "",
                _(
                    "This sender has had %(count)d new tickets notified within the hour; "
                    "further new tickets from them in the next hour are not notified one by "
                    "one but listed in one digest mail. They are in the queue as usual.",
                    count=limit,
                ),
            ]
        return subject, "\n".join(lines)

    recipients = _send_to_each(session, ticket, users, config, build)
    log.info("ticket %s: notified %d staff", ticket.id, len(recipients))
    return recipients


def notify_assigned(
    session: Session,
    ticket: Ticket,
    assignee: User,
    by: User,
    config: Mapping[str, Any],
    *,
    note: str = "",
) -> list[str]:
    """Tell someone a colleague has given them a ticket (taking one yourself tells nobody):
    the ticket's facts, the colleague's ``note`` handing it over, and the customer's words,
    answerable by mail as a new-ticket mail is."""
    if assignee.id == by.id or not assignee.is_active:
        return []
    first = _first_inbound(ticket)
    handed = _customer_text_of(note)

    def build(language: str, traditional: bool) -> tuple[str, str]:
        marker = REPLY_MARKER_ZH if language == "zh" else REPLY_MARKER_EN
        subject = _(
            "Assigned to you by %(name)s: %(subject)s",
            name=staff_name(by.name),
            subject=_subject(ticket),
        )
        lines = [
            marker,
            "",
            _("%(name)s assigned this ticket to you.", name=staff_name(by.name)),
            *(["", _("Their note:"), handed] if handed else []),
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            _customer_text(first),
            *_files_lines(first),
            "",
            *_answerable_footer(ticket, config),
        ]
        return subject, "\n".join(lines)

    return _send_to_each(session, ticket, [assignee], config, build, keep=(by.name, handed))


def notify_mentioned(
    session: Session,
    ticket: Ticket,
    colleague: User,
    by: User,
    note: str,
    config: Mapping[str, Any],
) -> list[str]:
    """Tell a colleague a note names them (support.desk.mentions): the note, the ticket's
    facts and its link. Not answerable by mail: they answer on the ticket page."""
    if colleague.id == by.id or not colleague.is_active or not can_see_ticket(colleague, ticket):
        return []
    text = _customer_text_of(note)

    def build(language: str, traditional: bool) -> tuple[str, str]:
        name = staff_name(by.name)
        subject = _("%(name)s mentioned you: %(subject)s", name=name, subject=_subject(ticket))
        lines = [
            _("%(name)s mentioned you in a note on this ticket:", name=name),
            "",
            text,
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            _("Open the ticket: %(url)s", url=ticket_url(ticket, config)),
            _("Answer on the ticket page: a reply to this mail is not read."),
        ]
        return subject, "\n".join(lines)

    return _send_to_each(
        session, ticket, [colleague], config, build, kind=KIND_MENTION, keep=(by.name, text)
    )


def notify_customer_reply(
    session: Session, ticket: Ticket, message: Message, config: Mapping[str, Any]
) -> list[str]:
    """Tell the assignee the customer wrote again: whoever works from a mail program sees it
    there (the inbox shows it as unread); answerable by replying, as the other notices are."""
    assignee = ticket.assignee
    if assignee is None or not assignee.is_active or message.is_automatic:
        return []
    customer = ticket.customer
    sender = (message.from_address or "").strip().lower()
    # Anyone who knows a Message-ID of the conversation threads into it (a colleague on copy,
    # or not): a notice must not say the customer wrote what a stranger sent. Their address
    # only: a display name is the sender's own text ("Wang Fang <wang.fang@...>").
    who = customer.name or readable_address(customer.email)
    if sender and sender != customer.email.strip().lower():
        who = readable_address(sender)

    def build(language: str, traditional: bool) -> tuple[str, str]:
        marker = REPLY_MARKER_ZH if language == "zh" else REPLY_MARKER_EN
        text = _customer_text(message)
        subject = _("%(customer)s replied: %(subject)s", customer=who, subject=_subject(ticket))
        lines = [
            marker,
            "",
            _("%(customer)s wrote again on your ticket:", customer=who),
            "",
            text,
            *_files_lines(message),
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            *_answerable_footer(ticket, config),
        ]
        return subject, "\n".join(lines)

    return _send_to_each(session, ticket, [assignee], config, build, keep=(who,))


def notify_solved_by_customer(
    session: Session, ticket: Ticket, question: str, config: Mapping[str, Any]
) -> list[str]:
    """Tell the assignee the customer marked the ticket solved with the auto-reply's "this
    answered my question" link: it left their queue with no word, perhaps while they wrote."""
    assignee = ticket.assignee
    if assignee is None or not assignee.is_active:
        return []
    who = ticket.customer.name or readable_address(ticket.customer.email)

    def build(language: str, traditional: bool) -> tuple[str, str]:
        subject = _("Solved by the customer: %(subject)s", subject=_subject(ticket))
        lines = [
            _(
                "%(customer)s marked this ticket solved: the FAQ answer “%(question)s” "
                "answered their question. The ticket is resolved.",
                customer=who,
                question=question,
            ),
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            _("Open the ticket: %(url)s", url=ticket_url(ticket, config)),
        ]
        return subject, "\n".join(lines)

    return _send_to_each(session, ticket, [assignee], config, build, keep=(who,))


def notify_snooze_ended(
    session: Session, ticket: Ticket, until: datetime | None, config: Mapping[str, Any]
) -> list[str]:
    """Tell the assignee a snoozed ticket is back in the queue (the snooze-wake job): they set
    it aside to come back to it, and someone who works from a mail program sees it there.
    Answerable by replying, as the other notices about their tickets are."""
    assignee = ticket.assignee
    if assignee is None or not assignee.is_active:
        return []

    def build(language: str, traditional: bool) -> tuple[str, str]:
        marker = REPLY_MARKER_ZH if language == "zh" else REPLY_MARKER_EN
        subject = _("Back from snooze: %(subject)s", subject=_subject(ticket))
        lines = [
            marker,
            "",
            _(
                "This ticket was snoozed until %(time)s (%(zone)s); it is back in your queue.",
                time=local_time(until, config),
                zone=local_zone(until, config, language, traditional),
            ),
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            *_answerable_footer(ticket, config),
        ]
        return subject, "\n".join(lines)

    return _send_to_each(session, ticket, [assignee], config, build)


#: The staff member a notice is being written for (set by _send_to_each around each build), so
#: a line that depends on who reads it is right without every builder passing them along.
_recipient: ContextVar[User | None] = ContextVar("notification_recipient", default=None)


def _answerable_footer(ticket: Ticket, config: Mapping[str, Any]) -> list[str]:
    """The last lines of a notice staff can answer by mail (new ticket, assigned, replied).

    The reply is signed as any of theirs (User.signature_name): with their name once they have
    one, with the team's name alone until then, and the notice says which."""
    recipient = _recipient.get()
    if recipient is not None and recipient.needs_name:
        signed = _(
            "Reply to this mail to answer the customer: your text above the marker line is "
            "sent from the department's address and signed with your team's name only, until "
            "you set your name on your account page: %(url)s",
            url=f"{public_base_url(config)}/staff/account#name-name",
        )
    else:
        signed = _(
            "Reply to this mail to answer the customer: your text above the marker line is "
            "sent from the department's address and signed with your name."
        )
    return [_("Open the ticket: %(url)s", url=ticket_url(ticket, config)), signed]


def _new_ticket_recipients(session: Session, ticket: Ticket) -> list[User]:
    users = _department_members(ticket)
    if ticket.needs_triage or not users:
        users = _unique([*users, *_triage_users(session)])
    return _who_may_open(session, ticket, users)


def _who_may_open(session: Session, ticket: Ticket, users: list[User]) -> list[User]:
    """Those of `users` who may open `ticket`, or the admins when none may. A department
    nobody works (yet) fell back to the triage staff, and an agent of another department who
    may triage got a notice whose link was a 404 and whose reply by mail was refused."""
    return [u for u in users if can_see_ticket(u, ticket)] or _admins(session)


def send_digests(
    session: Session, config: Mapping[str, Any], *, now: datetime | None = None
) -> int:
    """One mail per sender and department listing its new tickets that were not notified.

    A group is sent once its first suppressed notification is ``NOTIFY_DIGEST_MINUTES`` old,
    so a flood that goes on is summed up in one mail rather than trickling. Each listed
    ticket gets a "notification_digested" audit event, which is also what keeps it out of the
    next digest. The mail hangs on the newest listed ticket (the outbox needs one); it is not
    a notification, so replying to it answers no customer. Returns the digests sent.
    """
    now = now or utcnow()
    delay = timedelta(minutes=max(0, int(config.get("NOTIFY_DIGEST_MINUTES") or 0)))
    since = now - DIGEST_HORIZON
    digested = select(AuditEvent.ticket_id).where(
        AuditEvent.action == DIGESTED, AuditEvent.created_at >= since
    )
    pending = session.execute(
        select(AuditEvent.ticket_id, func.min(AuditEvent.created_at))
        .where(
            AuditEvent.action == SUPPRESSED,
            AuditEvent.created_at >= since,
            AuditEvent.ticket_id.is_not(None),
            AuditEvent.ticket_id.not_in(digested),
        )
        .group_by(AuditEvent.ticket_id)
        .order_by(AuditEvent.ticket_id)
        .limit(DIGEST_BATCH)
    ).all()
    if not pending:
        return 0
    first_suppressed = {ticket_id: at for ticket_id, at in pending}
    groups: dict[tuple[int, int | None], list[Ticket]] = {}
    for ticket in session.scalars(
        select(Ticket).where(Ticket.id.in_(first_suppressed)).order_by(Ticket.id)
    ):
        groups.setdefault((ticket.customer_id, ticket.department_id), []).append(ticket)
    sent = 0
    for tickets in groups.values():
        if min(first_suppressed[t.id] for t in tickets) > now - delay:
            continue  # still collecting
        if _send_digest(session, tickets, config):
            sent += 1
        for ticket in tickets:
            record_event(
                session,
                DIGESTED,
                {"digest_ticket_id": tickets[-1].id, "tickets": len(tickets)},
                ticket_id=ticket.id,
                subject_type="ticket",
                subject_id=ticket.id,
                created_at=now,
            )
    return sent


def _send_digest(session: Session, tickets: list[Ticket], config: Mapping[str, Any]) -> bool:
    newest = tickets[-1]
    users = _new_ticket_recipients(session, newest)
    if not users:
        log.info("digest of %d tickets: nobody to notify", len(tickets))
        return False
    customer = newest.customer

    def build(language: str, traditional: bool) -> tuple[str, str]:
        department = newest.department.label(language) if newest.department else _("triage")
        subject = _(
            "%(count)d more new tickets from %(sender)s (%(department)s)",
            count=len(tickets),
            sender=readable_address(customer.email),
            department=department,
        )
        lines = [
            _(
                "These new tickets from %(sender)s were not notified one by one (more than "
                "%(limit)d within an hour). They are in the queue as usual.",
                sender=readable_address(customer.email),
                limit=int(config.get("NOTIFY_MAX_PER_SENDER_HOUR") or 0),
            ),
            _("Open each ticket to answer it; a reply to this mail reaches no customer."),
            "",
        ]
        for ticket in tickets[:DIGEST_LISTED]:
            lines.append(
                f"{ticket.reference} · {_('urgency')} {urgency_text(ticket, language)} · "
                f"{_subject(ticket)[:120]}"
            )
            lines.append(f"  {ticket_url(ticket, config)}")
        if len(tickets) > DIGEST_LISTED:
            lines.append(_("… and %(count)d more.", count=len(tickets) - DIGEST_LISTED))
        return subject, "\n".join(lines)

    recipients = _send_to_each(session, newest, users, config, build, kind=KIND_DIGEST)
    log.info("digest of %d tickets sent to %d staff", len(tickets), len(recipients))
    return True


def _leads(ticket: Ticket) -> list[User]:
    return [u for u in _department_members(ticket) if u.role == "lead"]


def _admins(session: Session) -> list[User]:
    """Reference data as the triage staff are: a desk whose departments nobody works yet
    notified its admins of every new ticket, with a query of its own in each worker
    transaction (one statement of the intake bench's 7.7 a mail)."""
    return reference_data(
        session,
        "active_admins",
        lambda: list(
            session.scalars(select(User).where(User.is_active.is_(True), User.role == "admin"))
        ),
        tables=(table_of(User),),
    )


def send_sla_warning(
    session: Session, ticket: Ticket, config: Mapping[str, Any], *, now: datetime | None = None
) -> list[str]:
    """Warn the assignee and the department's leads that a target is nearly used up."""
    users = _unique([ticket.assignee, *_leads(ticket)])
    if not users:
        users = _who_may_open(
            session, ticket, _department_members(ticket) or _triage_users(session)
        )
    due = (
        ticket.first_response_due_at
        if ticket.first_response_at is None
        else ticket.resolution_due_at
    )

    def build(language: str, traditional: bool) -> tuple[str, str]:
        subject = _(
            "Response due soon: %(subject)s",
            subject=_subject(ticket),
        )
        what = _("first response") if ticket.first_response_at is None else _("resolution")
        lines = [
            _(
                "The %(target)s target of this ticket runs out at %(due)s (%(zone)s).",
                target=what,
                due=local_time(due, config),
                zone=local_zone(due, config, language, traditional),
            ),
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            _("Open the ticket: %(url)s", url=ticket_url(ticket, config)),
        ]
        return subject, "\n".join(lines)

    return _send_to_each(session, ticket, users, config, build)


def send_progress_reminder(
    session: Session, ticket: Ticket, config: Mapping[str, Any]
) -> list[str]:
    """Remind the assignee and the leads that a complex complaint's customer is due to hear
    how it is going, with a progress-update text to adapt (support.desk.complaints)."""
    users = _unique([ticket.assignee, *_leads(ticket)]) or _department_members(ticket)
    if not users:
        users = _who_may_open(session, ticket, _triage_users(session))
    customer_language = "zh" if (ticket.language or "").startswith("zh") else "en"

    def build(language: str, traditional: bool) -> tuple[str, str]:
        subject = _("Complaint progress report due: %(subject)s", subject=_subject(ticket))
        lines = [
            _(
                "This complex complaint's customer should hear from us at least every "
                "%(days)s working days until it is resolved; the next report is due now.",
                days=int(config["COMPLAINT_PROGRESS_DAYS"]),
            ),
            _("Reply to the customer from the ticket page; a suggested text:"),
            "",
            progress_update_text(ticket, customer_language),
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            _("Open the ticket: %(url)s", url=ticket_url(ticket, config)),
        ]
        return subject, "\n".join(lines)

    # The suggested text is for the customer: in their script, not the agent's.
    suggested = progress_update_text(ticket, customer_language)
    return _send_to_each(
        session, ticket, users, config, build, kind="complaint_reminder", keep=(suggested,)
    )


def send_escalation(
    session: Session, ticket: Ticket, config: Mapping[str, Any], *, now: datetime | None = None
) -> list[str]:
    """Tell the leads (admins if the department has none) and the assignee about a breach."""
    leads = _leads(ticket) or _admins(session)
    users = _unique([*leads, ticket.assignee])
    due = (
        ticket.first_response_due_at
        if ticket.first_response_at is None
        else ticket.resolution_due_at
    )

    def build(language: str, traditional: bool) -> tuple[str, str]:
        subject = _(
            "ESCALATED, target missed: %(subject)s",
            subject=_subject(ticket),
        )
        what = _("first response") if ticket.first_response_at is None else _("resolution")
        assignee = staff_name(ticket.assignee.name) if ticket.assignee else _("nobody")
        lines = [
            _(
                "The %(target)s target of this ticket ran out at %(due)s (%(zone)s).",
                target=what,
                due=local_time(due, config),
                zone=local_zone(due, config, language, traditional),
            ),
            _("Assigned to: %(name)s", name=assignee),
            "",
            *_ticket_facts(ticket, config, language, traditional),
            "",
            _("Open the ticket: %(url)s", url=ticket_url(ticket, config)),
        ]
        return subject, "\n".join(lines)

    return _send_to_each(session, ticket, users, config, build)
