"""The ticket page: conversation, customer card, classification, SLA timeline, and actions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

import nh3
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from support.auth import current_user, login_required, visible_ticket_or_404
from support.auth import signed_in_user as _user
from support.core.addresses import readable_address
from support.core.config import relay_host
from support.core.db import db_session, get_db, utcnow
from support.core.images import picture
from support.core.text import as_written_in, carries_topic, to_traditional
from support.core.web import (
    download_response,
    id_or_none,
    megabytes,
    page_zone,
    picture_response,
)
from support.core.zones import readers_zone, zone_named, zone_text
from support.desk import (
    actions,
    complaints,
    held_replies,
    mentions,
    merging,
    presence,
    reply_cc,
    reply_files,
    saved_replies,
    seen,
    sla,
    snooze,
    tags,
)
from support.desk.access import can_see_ticket, has_role, visible_ticket, visible_ticket_clause
from support.desk.customers import clock_message, set_tier
from support.desk.mail import (
    customer_language,
    customer_writes_traditional,
    local_time,
)
from support.desk.models import (
    CUSTOMER_TIERS,
    OPEN_STATUSES,
    Attachment,
    AuditEvent,
    Department,
    Message,
    OutboundMail,
    Ticket,
    UrgencyLevel,
    User,
    written_to_file,
)
from support.desk.outbox import STAFF_NOTICE_KINDS, own_addresses
from support.desk.reply_check import PhraseWarning, check_reply, reply_in_other_language
from support.desk.same_matter import RECENT_DAYS, Matter
from support.desk.staff_names import staff_name
from support.staff import canned, history, inbox_return
from support.staff.blueprints import bp
from support.staff.forms import (
    ActionForm,
    AssignForm,
    ComplaintForm,
    DepartmentChangeForm,
    MergeForm,
    NoteForm,
    ReplyForm,
    TierForm,
    UrgencyForm,
    options,
)
from support.staff.inbox import (
    Cursor,
    InboxFilters,
    available_views,
    due_in,
    find_view,
    inbox_page,
)
from support.staff.saved_replies import filled_text
from support.staff.snoozes import snooze_form
from support.staff.tags import tag_form
from support.staff.ticket_return import back_to_ticket, ticket_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime | None
    label: str
    state: str = ""  # "", "met", "breached", "due", "paused"


def timeline(ticket: Ticket, now: datetime) -> list[TimelineEntry]:
    """Received, acknowledged, first response, due, breached or met, resolved: in time order."""
    entries = [TimelineEntry(ticket.created_at, _("Received"))]
    if ticket.acknowledged_at:
        entries.append(TimelineEntry(ticket.acknowledged_at, _("Acknowledged (auto-reply)")))
    met = sla.first_response_met(ticket)
    if ticket.first_response_at:
        entries.append(
            TimelineEntry(
                ticket.first_response_at,
                _("First response (target met)") if met else _("First response (target missed)"),
                "met" if met else "breached",
            )
        )
    if ticket.first_response_due_at:
        state = "met" if met else ("breached" if met is False else "due")
        if met is None and ticket.is_open:
            effective = min(now, ticket.sla_paused_at) if ticket.sla_paused_at else now
            state = "breached" if effective >= ticket.first_response_due_at else "due"
        entries.append(TimelineEntry(ticket.first_response_due_at, _("First response due"), state))
    if ticket.sla_breached_at:
        entries.append(
            TimelineEntry(ticket.sla_breached_at, _("Escalated to the lead"), "breached")
        )
    if ticket.sla_paused_at:
        entries.append(TimelineEntry(ticket.sla_paused_at, _("Waiting for the customer"), "paused"))
    if ticket.resolution_due_at and (ticket.is_open or ticket.resolved_at):
        if ticket.resolved_at:
            state = "met" if ticket.resolved_at <= ticket.resolution_due_at else "breached"
        else:
            state = (
                "breached"
                if sla.sla_state(ticket, now) == "breached" and ticket.first_response_at
                else "due"
            )
        entries.append(TimelineEntry(ticket.resolution_due_at, _("Resolution due"), state))
    if ticket.resolved_at:
        entries.append(TimelineEntry(ticket.resolved_at, _("Resolved")))
    return sorted(entries, key=lambda e: (e.at is None, e.at or now))


def _content_id(value: str) -> str:
    """A Content-ID as `Attachment.content_id` keeps it (no angle brackets, %-escapes undone,
    as RFC 2392 writes a cid: URL), for comparing."""
    return unquote(value).strip().strip("<>").strip().lower()


@dataclass(frozen=True)
class FormattedMail:
    """A message's HTML as the ticket page shows it, and the pictures it shows inline."""

    html: Markup | None
    #: Ids of the attachments the HTML shows where the mail put them (cid:): the list of files
    #: below names them without a second thumbnail once the formatted version is open.
    shown_inline: frozenset[int]


def formatted_mail(html: str | None, attachments: list[Attachment] | None = None) -> FormattedMail:
    """Message.html_sanitized, cleaned once more here: only sanitized HTML ever reaches a page.
    A picture the mail carries inside (``<img src="cid:...">``, a screenshot pasted into the
    mail) is shown from its kept attachment (`attachment_picture`); any other cid: is dropped."""
    if not html:
        return FormattedMail(None, frozenset())
    inline = attachments if attachments and "cid:" in html.lower() else []  # none referred to
    pictures = {
        _content_id(a.content_id): a.id
        for a in inline
        if a.content_id and picture(a.data) is not None
    }
    shown: set[int] = set()

    def inline_picture(tag: str, attribute: str, value: str) -> str | None:
        if not value.lower().startswith("cid:"):
            return value
        found = pictures.get(_content_id(value[4:])) if (tag, attribute) == ("img", "src") else None
        if found is None:
            return None
        shown.add(found)
        return url_for("staff.attachment_picture", attachment_id=found)

    cleaned = nh3.clean(
        html,
        link_rel="noopener noreferrer nofollow",
        url_schemes=set(nh3.ALLOWED_URL_SCHEMES) | {"cid"},
        attribute_filter=inline_picture,
    )
    return FormattedMail(Markup(cleaned), frozenset(shown))


def conversation(session: Session, ticket: Ticket) -> list[Message]:
    """The ticket's messages without our notices to staff (the outbox records those too),
    also those about a ticket merged into this one (their mail still names that ticket)."""
    sent = {m.outbound_mail_id for m in ticket.messages if m.outbound_mail_id is not None}
    if not sent:
        return list(ticket.messages)
    notifications = set(
        session.scalars(
            select(OutboundMail.id).where(
                OutboundMail.id.in_(sent), OutboundMail.kind.in_(STAFF_NOTICE_KINDS)
            )
        )
    )
    return [m for m in ticket.messages if m.outbound_mail_id not in notifications]


def delivery_of_replies(session: Session, messages: list[Message], relay: str) -> dict[int, str]:
    """{message id: "waiting", "file", "sent" or "failed"} for the replies among ``messages``:
    what became of each one's mail, so the page does not call a reply still held for undo, or
    written to instance/outbox/ with no relay, "the mail as sent"."""
    by_mail = {m.outbound_mail_id: m.id for m in messages if m.outbound_mail_id is not None}
    if not by_mail:
        return {}
    rows = session.execute(
        select(OutboundMail.id, OutboundMail.state, OutboundMail.relay_handoffs).where(
            OutboundMail.id.in_(list(by_mail))
        )
    )
    found = {}
    for mail_id, state, handoffs in rows:
        if state == "sent":
            found[by_mail[mail_id]] = "file" if written_to_file(state, relay, handoffs) else "sent"
        else:
            found[by_mail[mail_id]] = "failed" if state == "failed" else "waiting"
    return found


def others_messages(messages: list[Message], user: User) -> list[Message]:
    """The conversation's messages that someone other than ``user`` wrote (the customer's,
    colleagues' replies and notes), oldest first: what an agent must have read before replying.
    Counted, not compared by id, because keys drawn ahead in blocks (support.core.direct_insert)
    are not in the order the rows were written."""
    found = [m for m in messages if m.direction != "auto" and m.author_id != user.id]
    return sorted(found, key=lambda m: (m.created_at, m.id))


def _came_in_meanwhile(session: Session, ticket: Ticket, user: User, seen: str | None) -> list:
    """Messages of others that came in after the page the reply was written on ([] when the
    page did not say what it showed)."""
    if not seen or not seen.isdigit() or len(seen) > 9:
        return []
    others = others_messages(conversation(session, ticket), user)
    return others[int(seen) :] if len(others) > int(seen) else []


#: The customer card lists at most this many of the customer's other tickets.
OTHER_TICKETS_SHOWN = 10


@dataclass(frozen=True)
class _OtherTickets:
    """The customer's other tickets for the customer card: the newest the user may open,
    how many more of theirs the user may open (the search lists them all), and how many the
    user may not (another department's: counted, never named)."""

    shown: list[Ticket]
    visible: int
    hidden: int


def _other_tickets(session: Session, user: User, ticket: Ticket) -> _OtherTickets:
    """Not those merged into this one: their conversation is this ticket's now. Chosen by
    the access rule in SQL, so another department's newer tickets neither crowd out the
    user's own nor show their subjects."""
    others = (
        Ticket.customer_id == ticket.customer_id,
        Ticket.id != ticket.id,
        or_(Ticket.merged_into_id.is_(None), Ticket.merged_into_id != ticket.id),
    )
    mine = visible_ticket_clause(user)
    shown = session.scalars(
        select(Ticket)
        .where(*others, mine)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(OTHER_TICKETS_SHOWN)
    ).all()
    visible = session.scalar(select(func.count()).select_from(Ticket).where(*others, mine)) or 0
    total = session.scalar(select(func.count()).select_from(Ticket).where(*others)) or 0
    return _OtherTickets(shown=list(shown), visible=visible, hidden=total - visible)


def _open_duplicates(ticket: Ticket, others: list[Ticket], now: datetime) -> list[Ticket]:
    """The customer's other tickets this one may be merged into, oldest first: a second
    mail about the same problem became a ticket of its own, and the agent who opens either one
    should see the other before answering twice (the customer card is screens below on a
    phone); only those about the same matter (support.desk.same_matter), not every other
    question of a regular customer, and only open ones or those resolved in the last
    RECENT_DAYS ("Kettle again" the day after the kettle ticket was resolved: merging reopens
    it, with its conversation). ``others`` is the customer's few latest tickets the user may
    see (OTHER_TICKETS_SHOWN): the work is bounded. None for a ticket already merged: there
    is nothing left to merge."""
    if ticket.merged_into_id is not None:
        return []
    recent = now - timedelta(days=RECENT_DAYS)

    def current(t: Ticket) -> bool:
        if t.status == "resolved":
            return t.resolved_at is not None and t.resolved_at >= recent
        return t.status in OPEN_STATUSES

    mine = Matter(ticket)  # read once for all the others
    duplicates = [
        t for t in others if t.merged_into_id is None and current(t) and mine.same_as(Matter(t))
    ]
    return sorted(duplicates, key=lambda t: (t.created_at, t.id))[:3]


@dataclass(frozen=True)
class _Referrals:
    """The staff-only links between a ticket and tickets opened by mail that named another
    ticket although its sender took no part in it (mailrouter.intake.conversations); each
    shown only to who may open that ticket, as the API's ``refers_to``."""

    #: The ticket this one's mail named (None: none, or one the user may not see: another
    #: department's ticket is not named, not even by its reference).
    refers_to: Ticket | None
    #: Open tickets, not merged, whose mail named this one (at most 5, oldest first).
    referred_by: list[Ticket]


def _referrals(session: Session, user: User, ticket: Ticket) -> _Referrals:
    referring = session.scalars(
        select(Ticket)
        .where(
            Ticket.refers_to_ticket_id == ticket.id,
            Ticket.merged_into_id.is_(None),
            Ticket.status.in_(OPEN_STATUSES),
        )
        .order_by(Ticket.created_at, Ticket.id)
        .limit(20)
    ).all()
    return _Referrals(
        refers_to=visible_ticket(session, user, ticket.refers_to_ticket_id),
        referred_by=[t for t in referring if can_see_ticket(user, t)][:5],
    )


def _merged_into_references(
    session: Session, user: User, tickets: list[Ticket]
) -> dict[int, str | None]:
    """{ticket id: the reference it was merged into, None when the user may not see that
    ticket}: the customer card said "closed" of a merged ticket, which an agent read as closed
    unanswered; another department's ticket is not named."""
    targets = {t.id: t.merged_into_id for t in tickets if t.merged_into_id is not None}
    if not targets:
        return {}
    found = session.scalars(select(Ticket).where(Ticket.id.in_(set(targets.values())))).all()
    references = {t.id: t.reference or f"#{t.id}" for t in found if can_see_ticket(user, t)}
    return {own: references.get(target) for own, target in targets.items()}


def _reasons(value: Any) -> list[str]:
    """Classifier reasons as readable lines, whatever shape the classifier stored."""
    if not value:
        return []
    items = value if isinstance(value, list) else [value]
    lines = []
    for item in items:
        if isinstance(item, dict):
            lines.append(", ".join(f"{k}: {v}" for k, v in item.items()))
        elif isinstance(item, list | tuple):
            lines.append(" ".join(str(x) for x in item))
        else:
            lines.append(str(item))
    return lines


#: The reasons the router writes as "name: words" (mailrouter.routing.decisions), each said in
#: words by a note (`_urgency_notes`, `_department_notes`) instead: the page showed "calm: 不急".
_NOTED_REASONS = (
    "calm:",
    "problem:",
    "question:",
    "claim:",
    "unsure:",
    "urgency 3:",
    "matter:",
)


def _shown_reasons(value: Any, written: str) -> list[str]:
    """The deciding words as the customer wrote them: none that names no topic (a ticket routed
    before the word was left out) and none a note already says in words."""
    return [
        as_written_in(r, written)
        for r in _reasons(value)
        if carries_topic(r) and not r.startswith(_NOTED_REASONS)
    ]


#: How much of the customer's texts the classification's words are looked up in.
_WRITTEN_CHARS = 20_000


def _customer_words(ticket: Ticket) -> str:
    """What the customer wrote (subject, their messages): the text the classifier read."""
    texts = [m.new_text or m.body_text or "" for m in ticket.messages if m.direction == "in"]
    return "\n".join([ticket.own_subject, *texts])[:_WRITTEN_CHARS]


def _classification(user: User, ticket: Ticket) -> list[dict[str, Any]]:
    """The classifier's verdicts and the words that decided, shown as the customer wrote them
    (the classifier reads Traditional as Simplified and Taiwan's words as the mainland's); an
    earlier ticket named only to a user who may see it."""
    data = ticket.classification or {}
    rows = []
    written = _customer_words(ticket)
    for key, title in (("department", _("Department")), ("urgency", _("Urgency"))):
        part = data.get(key)
        if not isinstance(part, dict):
            continue
        probability = part.get("probability")
        notes = (
            _urgency_notes(user, part, written)
            if key == "urgency"
            else _department_notes(part, written)
        )
        rows.append(
            {
                "title": title,
                "label": _department_label(part.get("label"))
                if key == "department"
                else _urgency_label(part.get("label")),
                "since": _changed_since(ticket, key, part.get("label")),
                "probability": f"{float(probability):.0%}"
                if isinstance(probability, int | float)
                else None,
                "reasons": [*notes, *_shown_reasons(part.get("reasons"), written)],
                "source": _source_label(part.get("source")),
            }
        )
    return rows


def _changed_since(ticket: Ticket, key: str, decided: Any) -> str | None:
    """Where the ticket is now when staff (or a later mail) changed what was decided here:
    after a move the card still said only "Department: Customer Service — model"."""
    if key == "department":
        now = ticket.department
        if now is None or not isinstance(decided, str) or now.code == decided:
            return None
        return _("Since moved to %(department)s.", department=now.label(g.lang))
    if not isinstance(decided, int) or ticket.urgency == decided:
        return None
    return _("Since changed to %(level)s.", level=_urgency_label(ticket.urgency))


def _source_label(source: Any) -> str | None:
    """What decided a classification, in the page's language (stored as a code)."""
    labels = {
        "model": _("model"),
        "rules": _("urgency keywords"),
        "fallback": _("fallback to triage"),
        "address": _("the address written to"),
        "previous": _("the earlier ticket"),
        "default": _("default"),
    }
    return labels.get(source, source) if source else None


def _department_label(code: Any) -> Any:
    """A department code as its name in the page's language."""
    if not isinstance(code, str):
        return code
    found = db_session().scalar(select(Department).where(Department.code == code))
    return found.label(g.lang) if found is not None else code


def _urgency_label(level: Any) -> Any:
    """An urgency level with its name in the page's language ("4 · Important")."""
    found = db_session().get(UrgencyLevel, level) if isinstance(level, int) else None
    return found.numbered_label(g.lang) if found is not None else level


def _matter_note(part: dict[str, Any], written: str) -> str | None:
    """Why the model's level moved to the one its kind of mail has (mailrouter.routing.matters)."""
    kind = part.get("matter")
    phrase = as_written_in(str(part.get("matter_phrase") or ""), written)
    level = part.get("model_label")
    if kind == "money_pressed":
        return _(
            "Raised to 4: the customer presses for their money (“%(phrase)s”); the model said"
            " %(level)s.",
            phrase=phrase,
            level=level,
        )
    if kind in ("invoice_paperwork", "job_application", "audit_confirmation"):
        return _(
            "Lowered to 2: “%(phrase)s” marks routine work (an invoice asked for, a job"
            " application, an auditor's confirmation), not a specialist's; the model said"
            " %(level)s.",
            phrase=phrase,
            level=level,
        )
    if kind == "privacy_request":
        return _(
            "Lowered to 3: a request about the customer's own personal data (“%(phrase)s”) is"
            " for a privacy specialist, not a complaint; the model said %(level)s.",
            phrase=phrase,
            level=level,
        )
    if kind == "sponsorship":
        return _(
            "Lowered to 2: a sponsorship or donation asked for (“%(phrase)s”) is routine PR"
            " work; the model said %(level)s.",
            phrase=phrase,
            level=level,
        )
    if kind in ("analyst_question", "tender_documents", "bank_change"):
        return _(
            "Set to 3: “%(phrase)s” marks a specialist's work (an analyst's question,"
            " certificates for a tender, a change of bank details); the model said %(level)s.",
            phrase=phrase,
            level=level,
        )
    return None


def _urgency_notes(user: User, part: dict[str, Any], written: str) -> list[str]:
    """Why the urgency is what it is, beyond the model's words, in plain language (the
    customer's phrases as they wrote them: ``written``; the earlier report's ticket by its
    reference only when the user may see it)."""
    notes = []
    if part.get("unsure_emergency"):
        notes.append(
            _(
                "Lowered to 4: the model read an emergency but was only %(probability)s sure.",
                probability=_percent(part.get("probability")),
            )
        )
    if part.get("unsure_praise"):
        notes.append(
            _(
                "Raised to 2: the model read praise or a suggestion but was only"
                " %(probability)s sure.",
                probability=_percent(part.get("probability")),
            )
        )
    if part.get("claim"):
        notes.append(
            _(
                "Lowered to 4: only the customer's own “%(phrase)s” made it an emergency; without"
                " it the model says less.",
                phrase=as_written_in(str(part["claim"]), written),
            )
        )
    matter = _matter_note(part, written)
    if matter is not None:
        notes.append(matter)
    if part.get("press_emergency"):
        notes.append(
            _(
                "Raised to 5: a press story about a danger (“%(phrase)s”) is due today; the"
                " model said %(level)s.",
                phrase=as_written_in(str(part["press_emergency"]), written),
                level=part.get("model_label"),
            )
        )
    if part.get("calm"):
        notes.append(
            _(
                "Kept at 2: the customer says it is not urgent (“%(phrase)s”); the model said"
                " %(level)s.",
                phrase=as_written_in(str(part["calm"]), written),
                level=part.get("model_label"),
            )
        )
    if part.get("problem"):
        notes.append(
            _(
                "Raised to 2: the mail names a problem (“%(phrase)s”), so it is no praise (the"
                " model said %(level)s).",
                phrase=as_written_in(str(part["problem"]), written),
                level=part.get("model_label"),
            )
        )
    if part.get("question"):
        notes.append(
            _(
                "Raised to 2: the mail asks a question (“%(phrase)s”), so it is no praise (the"
                " model said %(level)s).",
                phrase=as_written_in(str(part["question"]), written),
                level=part.get("model_label"),
            )
        )
    repeat = part.get("repeat_of")
    earlier = (
        visible_ticket(db_session(), user, repeat.get("ticket_id"))
        if isinstance(repeat, dict)
        else None
    )
    for adjustment in part.get("adjustments") or []:
        if adjustment == "repeat" and isinstance(repeat, dict) and earlier is not None:
            notes.append(
                _(
                    "Raised: the same problem was reported before in %(reference)s "
                    "(%(similarity)s similar).",
                    reference=earlier.reference or repeat.get("reference") or "?",
                    similarity=f"{float(repeat.get('similarity') or 0):.0%}",
                )
            )
        elif adjustment == "repeat":
            notes.append(_("Raised: the customer reported the same problem again."))
        elif str(adjustment).startswith("rule:"):
            keyword = as_written_in(adjustment[5:], written)
            notes.append(_("Raised by the urgency keyword “%(keyword)s”.", keyword=keyword))
    return notes


def _department_notes(part: dict[str, Any], written: str) -> list[str]:
    """Why the department is what it is, beyond the model's words, in plain language."""
    phrase = as_written_in(str(part.get("matter_phrase") or ""), written)
    model = _department_label((part.get("model") or {}).get("label")) or "?"
    if part.get("matter") == "privacy_request":
        return [
            _(
                "Sent to customer service: a customer's own personal data (“%(phrase)s”) is for"
                " its privacy specialist; the model said %(department)s.",
                phrase=phrase,
                department=model,
            )
        ]
    if part.get("matter") == "public_threat":
        return [
            _(
                "Sent to customer service: a customer threatening to post their case"
                " (“%(phrase)s”) makes a complaint; the model said %(department)s.",
                phrase=phrase,
                department=model,
            )
        ]
    if any(str(r).startswith("urgency 3:") for r in part.get("reasons") or []):
        return [
            _(
                "Sent to the specialist department: a special problem (urgency 3) whose"
                " department the model could not tell."
            )
        ]
    return []


def _triage_guess(ticket: Ticket, departments: list[Department]) -> Department | None:
    """The classifier's best guess for an untriaged ticket, if it names an active department."""
    if not ticket.needs_triage:
        return None
    label = ((ticket.classification or {}).get("department") or {}).get("label")
    return next((d for d in departments if d.code == label), None)


def _percent(value: Any) -> str:
    return f"{float(value):.0%}" if isinstance(value, int | float) else "?"


def triage_reason(ticket: Ticket, threshold: Any) -> str | None:
    """Why an untriaged ticket was not routed automatically, in plain words (None if routed)."""
    if not ticket.needs_triage:
        return None
    part = (ticket.classification or {}).get("department") or {}
    reason = part.get("triage_reason")
    urgency = (ticket.classification or {}).get("urgency") or {}
    if reason is None and ticket.department_id is not None and urgency.get("unsure_emergency"):
        return _(
            "Flagged for triage: the model read a possible emergency but is only "
            "%(probability)s sure, so the ticket waits in its department at 4. Set its urgency "
            "(5, or 4 to keep it): either clears the flag.",
            probability=_percent(urgency.get("probability")),
        )
    if reason == "low_confidence":
        return _(
            "Not routed automatically: the model's best guess, %(department)s, is only "
            "%(probability)s sure (%(probability)s < %(threshold)s threshold).",
            department=_department_label(part.get("label")) or "?",
            probability=_percent(part.get("probability")),
            threshold=_percent(threshold),
        )
    if reason == "unfamiliar_text":
        known, total = (list(part.get("known_words") or []) + ["?", "?"])[:2]
        return _(
            "Not routed automatically: the model knows too few of the words "
            "(%(known)s of %(total)s) for its guess to count.",
            known=known,
            total=total,
        )
    if reason == "inactive_department":
        return _(
            "Not routed automatically: the model chose %(department)s, which is retired.",
            department=_department_label(part.get("label")) or "?",
        )
    if reason == "says_nothing":
        return _(
            "Not routed automatically: the mail says nothing to route it by (only a greeting, "
            "a test, “see attached” or a signature)."
        )
    if reason == "no_model":
        return _("Not routed automatically: no trained model was available.")
    return _("Not routed automatically: the mail was sent to triage when it arrived.")


@dataclass(frozen=True)
class MoveWarning:
    """Said next to the move control: ``text`` names every department that would drop the
    assignee (the page without JavaScript); ``each`` is the same warning for one of them, by
    department id, which app.js shows only while that department is chosen."""

    text: str
    each: dict[str, str]


def _move_warning(ticket: Ticket, departments: list[Department]) -> MoveWarning | None:
    if ticket.assignee is None:
        return None
    dropping = [d for d in departments if not actions.keeps_assignee(ticket, d)]
    if not dropping:
        return None
    name = staff_name(ticket.assignee.name)

    def warning(labels: list[str]) -> str:
        return _(
            "Moving to %(departments)s unassigns %(name)s, who does not work there.",
            departments=("、" if _lang() == "zh" else ", ").join(labels),
            name=name,
        )

    return MoveWarning(
        warning([d.label(_lang()) for d in dropping]),
        {str(d.id): warning([d.label(_lang())]) for d in dropping},
    )


def assign_choices(session: Session, ticket: Ticket, user: User) -> list[tuple[int, str]]:
    """Whom ``user`` may give the ticket to (the assign form's and the note form's list)."""
    return [
        (u.id, staff_name(u.name))
        for u in actions.assignable_users(session, ticket)
        if actions.may_assign_to(user, ticket, u)
    ]


def _note_form(
    session: Session, ticket: Ticket, user: User, form: NoteForm | None = None
) -> NoteForm:
    """The note form, with "And assign to" offering whom the user may hand the ticket to."""
    form = form or NoteForm(prefix="note")
    others = [
        (i, name) for i, name in assign_choices(session, ticket, user) if i != ticket.assignee_id
    ]
    form.assign_to.choices = options([(0, _("Nobody new (keep as it is)")), *others])
    return form


def _forms(session: Session, ticket: Ticket, user: User) -> dict[str, Any]:
    assign = AssignForm(prefix="assign")
    assign.assignee.choices = options([(0, _("Nobody")), *assign_choices(session, ticket, user)])
    assign.assignee.data = ticket.assignee_id or 0
    department = DepartmentChangeForm(prefix="department")
    active = select(Department).where(Department.is_active.is_(True)).order_by(Department.name)
    departments = list(session.scalars(active))
    department.department.choices = options((d.id, d.label(_lang())) for d in departments)
    guess = _triage_guess(ticket, departments)
    department.department.data = guess.id if guess is not None else ticket.department_id
    urgency = UrgencyForm(prefix="urgency")
    levels = select(UrgencyLevel).order_by(UrgencyLevel.level.desc())
    urgency.urgency.choices = options(
        (u.level, u.numbered_label(_lang())) for u in session.scalars(levels)
    )
    urgency.urgency.data = ticket.urgency
    complaint = _complaint_form()
    complaint.complexity.data = ticket.complaint_complexity or ""
    complaint.steps.data = list(ticket.complaint_steps or [])
    tier = TierForm(prefix="tier")
    tier.tier.choices = _tier_choices()
    tier.tier.data = ticket.customer.tier
    return {
        "move_warning": _move_warning(ticket, departments),
        "complaint_form": complaint,
        "tier_form": tier if has_role(user, "admin", "lead") else None,
        "assign_form": assign,
        "department_form": department,
        "urgency_form": urgency,
        "merge_form": MergeForm(prefix="merge"),
        "note_form": _note_form(session, ticket, user),
        "mentionable": mentions.mentionable(session, ticket, user),
        "action_form": ActionForm(),
    }


def file_limits() -> dict[str, Any]:
    """The reply's file limits for the page: shown beside the input and checked by app.js
    before sending (the server checks again: support.desk.reply_files.read_uploads)."""
    config = current_app.config
    count = int(config["REPLY_MAX_FILES"])
    file_bytes = int(config["REPLY_MAX_FILE_BYTES"])
    total_bytes = int(config["REPLY_MAX_TOTAL_BYTES"])
    file_size, total_size = megabytes(file_bytes), megabytes(total_bytes)
    return {
        "count": count,
        "file_bytes": file_bytes,
        "total_bytes": total_bytes,
        "file_size": file_size,
        "total_size": total_size,
        "too_many_text": _("Attach at most %(n)s files at once.", n=count),
        "too_large_text": _(
            "The files are too large: at most %(size)s each and %(total)s together.",
            size=file_size,
            total=total_size,
        ),
    }


def _lang() -> str:

    return g.get("lang", "en")


def render_ticket(
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    warnings: list[PhraseWarning] | None = None,
    other_language: str | None = None,
    answers: list[canned.CannedAnswer] | None = None,
    and_next: bool = False,
    note_form: NoteForm | None = None,
    meanwhile: list[Message] | None = None,
    status: int = 200,
) -> Any:
    session = db_session()
    user = current_user()
    assert user is not None
    now = utcnow()
    queue = queue_key(ticket, request.values.get("queue"))
    other_tickets = _other_tickets(session, user, ticket)
    earlier = other_tickets.shown
    replies = saved_replies.usable_replies(session, user, ticket)
    openings = {r.id: saved_replies.opening(r.body) for r in replies}
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == ticket.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(100)
    ).all()
    messages = sorted(
        conversation(session, ticket), key=lambda m: (m.created_at, m.id), reverse=True
    )
    customer_messages = [m for m in messages if m.direction == "in"]
    if reply_form is None:
        reply_form = ReplyForm(prefix="reply", formdata=None)
        # The FAQ picker starts from what the customer asked: opening it shows the articles
        # that match the subject, and the agent refines from there.
        reply_form.faq_query.data = ticket.own_subject[:300]
        # Those the customer copied stay in the conversation unless the agent takes them out.
        own = own_addresses(session, current_app.config)
        reply_form.cc.data = ", ".join(reply_cc.default_cc(ticket, own))
    reply_form.seen.data = str(len(others_messages(messages, user)))
    return (
        render_template(
            "staff/ticket.html",
            ticket=ticket,
            messages=messages,
            delivery=delivery_of_replies(session, messages, relay_host(current_app.config)),
            customer=ticket.customer,
            # Export and erasure of the customer's data (support.staff.customers).
            may_export_customer=has_role(user, "admin"),
            may_erase_customer=user.role == "admin",
            earlier=earlier,
            earlier_merged_into=_merged_into_references(session, user, earlier),
            open_duplicates=_open_duplicates(ticket, earlier, now),
            other_tickets=other_tickets,
            last_contact_at=customer_messages[0].created_at if customer_messages else None,
            customer_clock=_customer_clock(customer_messages, now),
            classification=_classification(user, ticket),
            model_version=(ticket.classification or {}).get("model_version"),
            sla_state=sla.sla_state(ticket, now),
            due_in=due_in(ticket, now),
            active_due_at=sla.active_due_at(ticket),
            timeline=timeline(ticket, now),
            history=history.history(session, user, events, _lang()),
            saved_replies=replies,
            saved_reply_openings=openings,
            saved_reply_keys={
                r.id: (saved_replies.search_key(r.title), saved_replies.search_key(openings[r.id]))
                for r in replies
            },
            queue=queue,
            inbox_url=url_for("staff.inbox_view", key=queue, **inbox_args(queue)),
            inbox_title=_inbox_title(session, user, queue),
            and_next=and_next,
            triage_reason=triage_reason(
                ticket, current_app.config.get("CLASSIFIER_MIN_CONFIDENCE")
            ),
            timezone=page_zone(),
            reply_form=reply_form,
            reply_signature=actions.reply_signature(ticket, user, current_app.config),
            file_limits=file_limits(),
            warnings=warnings or [],
            language_warning=_language_warning(other_language),
            meanwhile=meanwhile or [],
            presence_interval=presence.HEARTBEAT_SECONDS,
            answers=answers,
            max_cc=reply_cc.MAX_CC,
            formatted_mail=formatted_mail,
            picture_of=picture,
            customer_traditional=customer_writes_traditional(ticket),
            now=now,
            undoable_merges=merging.undoable_merges(session, user, ticket, now),
            held_replies=held_replies.held_for(session, user, now),
            held_messages=held_replies.held_messages(session, ticket),
            hold_left=held_replies.seconds_left,
            referrals=_referrals(session, user, ticket),
            snooze_form=snooze_form(),
            urgent_snooze=snooze.urgent_refusal() if ticket.is_urgent else "",
            tag_form=tag_form(),
            ticket_tags=tags.tags_of(session, [ticket.id]).get(ticket.id, []),
            tag_suggestions=tags.suggestions(session, user),
            max_tags=tags.MAX_TAGS,
            max_tag_chars=tags.TAG_MAX_CHARS,
            progress_text=complaints.progress_update_text(
                ticket, "zh" if (ticket.language or "").startswith("zh") else "en"
            ),
            **{
                **_forms(session, ticket, user),
                **({"note_form": note_form} if note_form is not None else {}),
            },
        ),
        status,
    )


def _inbox_title(session: Session, user: User, key: str) -> str:
    view = find_view(session, user, key)
    return view.title(_lang()) if view is not None else _("Inbox")


def _ticket_or_404(ticket_id: int) -> Ticket:
    user = current_user()
    assert user is not None
    return visible_ticket_or_404(db_session(), user, ticket_id)


def queue_key(ticket: Ticket, requested: str | None) -> str:
    """The inbox the agent works through: the one asked for, else the ticket's own."""
    keys = [v.key for v in available_views(db_session(), _user())]
    if requested in keys:
        assert requested is not None
        return requested
    if ticket.needs_triage and "triage" in keys:
        return "triage"
    if ticket.department is not None and ticket.department.code in keys:
        return ticket.department.code
    return keys[0]


def inbox_args(key: str) -> dict[str, Any]:
    """The inbox ``key``'s query as the agent left it (support.staff.inbox_return), checked
    as any query is: its filters and its page."""
    remembered = inbox_return.remembered(key)
    after = Cursor.decode(remembered.get("after"))
    args = InboxFilters.from_args(remembered).as_args()
    return {**args, "after": after.encode()} if after is not None else args


def _next_in_queue(ticket: Ticket, key: str, cursor: Cursor) -> Any:
    """Go to the ticket after this one in the inbox's own order, with the filters the agent
    left it with (from the top when at the end)."""
    session, user = db_session(), _user()
    view = find_view(session, user, key)
    if view is not None:
        now = utcnow()
        filters = InboxFilters.from_args(inbox_return.remembered(key))
        for after in (cursor, None):
            page = inbox_page(session, user, view, filters, now, after, limit=3)
            following = next((t for t in page.tickets if t.id != ticket.id), None)
            if following is not None:
                return redirect(url_for("staff.ticket_page", ticket_id=following.id, queue=key))
        flash(_("No other open ticket in this inbox."), "info")
        return redirect(url_for("staff.inbox_view", key=key, **inbox_args(key)))
    return redirect(url_for("staff.inbox"))


def _customer_clock(customer_messages: list[Message], now: datetime) -> str | None:
    """The customer's clock now ("03:46 (UTC-5)"), from their latest message that gave an
    offset (a mail's Date header, a form's browser clock), when it is not the company's: an
    agent sees it is night for them. Said with where it comes from: their last mail, or the
    earlier one whose offset counts when the last one's Date gave none. ``customer_messages``
    newest first."""
    source = clock_message(customer_messages)
    company = str(current_app.config["COMPANY_TIMEZONE"])
    zone = readers_zone(company, source.date_offset_minutes if source else None, now)
    if source is None or zone == company:
        return None
    local = now.astimezone(zone_named(zone))
    shown = zone_text(zone, local, _lang(), traditional=bool(g.get("traditional")))
    time = f"{local:%H:%M}" + ("（{}）" if _lang() == "zh" else " ({})").format(shown)
    if source.channel == "web":
        return _(
            "Their time now: %(time)s, from their browser's clock on the contact form", time=time
        )
    if source is customer_messages[0]:  # newest first
        return _("Their time now: %(time)s, from the date of their last mail", time=time)
    # Their last mail's Date gave no zone ("+0000", as servers write it): an earlier one did.
    return _(
        "Their time now: %(time)s, from the date of their mail of %(date)s (their last mail"
        " gave no time zone)",
        time=time,
        date=local_time(source.created_at, current_app.config),
    )


@bp.get("/tickets/<int:ticket_id>")
@login_required
def ticket_page(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    if ticket.merged_into_id is not None:
        target = db_session().get(Ticket, ticket.merged_into_id)
        if can_see_ticket(_user(), target):
            assert target is not None
            flash(_("This ticket was merged into %(ref)s.", ref=target.reference), "info")
            return redirect(ticket_url(ticket.merged_into_id))
    # The page reads without a write lock; "seen" is one short write of its own.
    with get_db().session() as write:
        seen.mark_seen(write, _user().id, ticket.id, utcnow())
    return render_ticket(ticket)


@bp.get("/tickets/<int:ticket_id>/next")
@login_required
def next_ticket(ticket_id: int):
    """The ticket after this one in the inbox it was opened from, without acting on this one
    (the ticket page's "j"): the inbox's own order, from the top when at the end."""
    ticket = _ticket_or_404(ticket_id)
    return _next_in_queue(
        ticket, queue_key(ticket, request.args.get("queue")), Cursor.after(ticket)
    )


def _done(ticket: Ticket, message: str) -> Any:
    flash(message, "info")
    user = current_user()
    if not can_see_ticket(user, ticket):  # e.g. moved to a department the user is not in
        return redirect(url_for("staff.inbox"))
    return back_to_ticket(ticket.id)


def _refused(ticket: Ticket, error: actions.ActionError) -> Any:
    db_session().rollback()
    return back_to_ticket(ticket.id, str(error), "error")


def _language_warning(written: str | None) -> str | None:
    """What the reply box says of a reply in another language than the customer's."""
    if written == "en":
        return _("The customer writes in Chinese and your reply is in English.")
    if written == "zh":
        return _("The customer writes in English and your reply is in Chinese.")
    return None


@bp.post("/tickets/<int:ticket_id>/reply")
@login_required
def reply(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    user = current_user()
    assert user is not None
    session = db_session()
    form = ReplyForm(prefix="reply")
    if not form.validate_on_submit():
        flash(_("The reply could not be read; please try again."), "error")
        return render_ticket(ticket, reply_form=form, status=400)
    if form.send_resolve.data:  # kept through a re-shown page ("Send anyway" resolves too)
        form.then.data = "resolved"
    uploads = [upload for upload in form.files.data or [] if upload and upload.filename]
    sending = form.send.data or form.send_next.data or form.send_anyway.data
    if uploads and not (sending or form.send_resolve.data):
        # The page comes back (FAQ search, a saved reply inserted): a browser cannot refill
        # a file input, so say so rather than send the reply without them later.
        flash(_("The files you chose were not sent: attach them again before sending."), "info")
    if form.search_faq.data:
        query = form.faq_query.data or ""
        answers = canned.search_answers(session, query, language=customer_language(ticket))
        return render_ticket(ticket, reply_form=form, answers=answers)
    if form.to_traditional.data:  # without JavaScript (with it: composer.reply_in_traditional)
        form.body.data = to_traditional(form.body.data or "")
        flash(_("Your text is now in Traditional characters: read it before sending."), "info")
        return render_ticket(ticket, reply_form=form)
    saved = id_or_none(request.form.get("saved_reply"))
    if request.form.get("insert_saved") and saved is not None:  # without JavaScript
        found = saved_replies.usable_reply(session, user, saved, ticket)
        if found is not None:
            text = filled_text(found, ticket, user)
            current = (form.body.data or "").rstrip()
            form.body.data = f"{current}\n\n{text}" if current else text
        return render_ticket(ticket, reply_form=form)
    insert = id_or_none(request.form.get("insert_article"))
    if insert is not None:
        traditional = customer_writes_traditional(ticket)
        answer = canned.use_answer(session, insert, user, traditional=traditional)
        if answer is not None:
            current = (form.body.data or "").rstrip()
            form.body.data = f"{current}\n\n{answer.text}".strip() if current else answer.text
        return render_ticket(ticket, reply_form=form)
    body = form.body.data or ""
    if not body.strip():
        flash(_("Write a reply first."), "error")
        return render_ticket(ticket, reply_form=form, status=400)
    and_next = bool(form.send_next.data) or request.form.get("and_next") == "1"
    try:
        cc = reply_cc.read_cc(form.cc.data, ticket, own_addresses(session, current_app.config))
    except reply_cc.CcRefused as refused:
        flash(f"{refused} {_('Nothing was sent; your text is kept below.')}", "error")
        return render_ticket(ticket, reply_form=form, and_next=and_next, status=400)
    try:
        files = reply_files.read_uploads(uploads, current_app.config)
    except reply_files.FilesRefused as refused:
        kept = _("Nothing was sent; your text is kept below.")
        flash(f"{refused} {kept}", "error")
        return render_ticket(ticket, reply_form=form, and_next=and_next, status=400)
    meanwhile = _came_in_meanwhile(session, ticket, user, form.seen.data)
    if meanwhile:
        if files:
            flash(_("The files you chose were not sent: attach them again before sending."), "info")
        return render_ticket(
            ticket, reply_form=form, meanwhile=meanwhile, and_next=and_next, status=409
        )
    warnings = check_reply(body)
    other_language = reply_in_other_language(body, customer_language(ticket))
    if (warnings or other_language) and not form.send_anyway.data:
        if files:
            flash(_("The files you chose were not sent: attach them again before sending."), "info")
        return render_ticket(
            ticket,
            reply_form=form,
            warnings=warnings,
            other_language=other_language,
            and_next=and_next,
        )
    cursor = Cursor.after(ticket)  # its place in the queue before the reply moves it
    now, hold = utcnow(), held_replies.hold_seconds(current_app.config)
    try:
        message = actions.reply(
            session,
            ticket,
            user,
            body,
            config=current_app.config,
            then=form.then.data or "open",
            files=files,
            cc=cc,
            now=now,
            hold_seconds=hold,
        )
    except actions.ActionError as error:
        flash(str(error), "error")
        session.rollback()
        return render_ticket(ticket, reply_form=form, status=400)
    actions.audit_overridden_warnings(
        session,
        ticket,
        user,
        (w.category for w in warnings),
        other_language=bool(other_language),
        now=now,  # the send's own moment: an undo refuses only what came later
    )
    sent = (
        _held_notice(message.id, readable_address(ticket.customer.email), hold)
        if hold
        else _(
            "Reply queued for sending to %(email)s.", email=readable_address(ticket.customer.email)
        )
    )
    if and_next:
        flash(sent, "info")
        return _next_in_queue(ticket, queue_key(ticket, request.form.get("queue")), cursor)
    return _done(ticket, sent)


def _held_notice(message_id: int, email: str, hold: int) -> Markup:
    """The notice after a held send: "goes out in N s: you can undo it until then", which
    app.js turns into "is in the outbox" once that reply's hold is over on the page (its banner
    or its mark in the conversation reaches 0; neither on the page: at once)."""
    return Markup('<span data-after-hold="{after}" data-message-id="{id}">{during}</span>').format(
        after=_("Reply to %(email)s is in the outbox.", email=email),
        id=message_id,
        during=_(
            "Reply to %(email)s goes out in %(n)s s: you can undo it until then.",
            email=email,
            n=hold,
        ),
    )


@bp.post("/tickets/<int:ticket_id>/replies/<int:message_id>/undo")
@login_required
def undo_reply(ticket_id: int, message_id: int):
    """Take back a held reply (the "Sending in N s — Undo" banner, or `z`): the ticket as it
    was, and the text back in the reply box."""
    ticket = _ticket_or_404(ticket_id)
    session, user = db_session(), _user()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        undone = held_replies.undo(session, ticket, user, message_id)
    except actions.ActionError as error:
        return _refused(ticket, error)
    form = ReplyForm(prefix="reply", formdata=None)
    form.body.data = undone.text
    form.cc.data = ", ".join(undone.cc)
    form.faq_query.data = ticket.own_subject[:300]
    flash(_("Sending undone: your reply is back in the box below."), "info")
    if undone.had_files:
        flash(_("The files you chose were not sent: attach them again before sending."), "info")
    return render_ticket(ticket, reply_form=form)


@bp.post("/tickets/<int:ticket_id>/note")
@login_required
def note(ticket_id: int):
    """Add an internal note; with "And assign to", hand the ticket over in the same step (the
    colleague's notice carries the note). Either both happen or neither."""
    ticket = _ticket_or_404(ticket_id)
    session, user = db_session(), _user()
    form = _note_form(session, ticket, user, NoteForm(prefix="note"))
    if not form.validate_on_submit():
        if (form.body.data or "").strip():  # an assignee no longer offered: keep the text
            flash(_("That person cannot take this ticket; the note was not added."), "error")
            return render_ticket(ticket, note_form=form, status=400)
        return back_to_ticket(ticket.id, _("Write a note first."), "error")
    uploads = [upload for upload in form.files.data or [] if upload and upload.filename]
    try:
        files = reply_files.read_uploads(uploads, current_app.config)
    except reply_files.FilesRefused as refused:
        flash(f"{refused} {_('The note was not added; your text is kept below.')}", "error")
        return render_ticket(ticket, note_form=form, status=400)
    assignee = session.get(User, form.assign_to.data) if form.assign_to.data else None
    body = form.body.data or ""
    try:
        actions.add_note(
            session, ticket, user, body, files=files, config=current_app.config, handed_to=assignee
        )
        if assignee is not None:
            actions.assign(session, ticket, user, assignee, current_app.config, note=body)
    except actions.ActionError as error:
        session.rollback()
        flash(f"{error} {_('The note was not added; your text is kept below.')}", "error")
        return render_ticket(ticket, note_form=form, status=400)
    if assignee is not None:
        return _done(ticket, _("Note added; assigned to %(name)s.", name=assignee.name))
    return _done(ticket, _("Note added."))


@bp.post("/tickets/<int:ticket_id>/assign")
@login_required
def assign(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    session = db_session()
    form = AssignForm(prefix="assign")
    form.assignee.choices = options(
        [(0, "")] + [(u.id, u.name) for u in session.scalars(select(User))]
    )
    if not form.validate_on_submit():
        abort(400)
    assignee = session.get(User, form.assignee.data) if form.assignee.data else None
    try:
        actions.assign(session, ticket, _user(), assignee, current_app.config)
    except actions.ActionError as error:
        return _refused(ticket, error)
    if assignee is None:
        # In the words of the button ("Put back in the queue"), and who may pick it up now.
        if ticket.department is None:
            return _done(ticket, _("Put back in the queue."))
        return _done(
            ticket,
            _(
                "Put back in the queue: anyone in %(department)s can take it.",
                department=ticket.department.label(g.lang),
            ),
        )
    return _done(ticket, _("Assigned to %(name)s.", name=staff_name(assignee.name)))


@bp.post("/tickets/<int:ticket_id>/take")
@login_required
def take(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    user = current_user()
    assert user is not None  # login_required
    try:
        actions.assign(db_session(), ticket, user, user, current_app.config)
    except actions.ActionError as error:
        return _refused(ticket, error)
    return _done(ticket, _("The ticket is yours."))


@bp.post("/tickets/<int:ticket_id>/department")
@login_required
def department(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    session = db_session()
    form = DepartmentChangeForm(prefix="department")
    form.department.choices = options((d.id, d.name) for d in session.scalars(select(Department)))
    if not form.validate_on_submit():
        abort(400)
    target = session.get(Department, form.department.data)
    if target is None:
        abort(400)
    assignee = ticket.assignee
    try:
        actions.change_department(session, ticket, _user(), target, current_app.config)
    except actions.ActionError as error:
        return _refused(ticket, error)
    names = {"reference": ticket.reference or str(ticket.id), "department": target.label(_lang())}
    if can_see_ticket(_user(), ticket):
        moved = _("%(reference)s moved to %(department)s.", **names)
        if assignee is not None and ticket.assignee is None:  # the page warned before
            # The head line's "Assignee: nobody" alone left the loss to be noticed.
            dropped = _(
                "%(name)s, who does not work there, no longer has it.",
                name=staff_name(assignee.name),
            )
            moved = f"{moved}{'' if _lang() == 'zh' else ' '}{dropped}"
        return _done(ticket, moved)
    # Off to the inbox (`_done`): say where the ticket went, and that its page is closed to
    # them now, rather than leave them to find out by a "not found" on their way back.
    return _done(
        ticket,
        _(
            "%(reference)s moved to %(department)s, a department you do not work in: you can "
            "no longer open it.",
            **names,
        ),
    )


@bp.post("/tickets/<int:ticket_id>/urgency")
@login_required
def urgency(ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    session = db_session()
    form = UrgencyForm(prefix="urgency")
    form.urgency.choices = options(
        (u.level, str(u.level)) for u in session.scalars(select(UrgencyLevel))
    )
    if not form.validate_on_submit():
        abort(400)
    try:
        actions.change_urgency(session, ticket, _user(), form.urgency.data, current_app.config)
    except actions.ActionError as error:
        return _refused(ticket, error)
    level = session.get(UrgencyLevel, form.urgency.data)
    named = level.numbered_label(_lang()) if level is not None else form.urgency.data
    return _done(ticket, _("Urgency set to %(level)s.", level=named))


def _complaint_form() -> ComplaintForm:
    form = ComplaintForm(prefix="complaint")
    form.complexity.choices = [
        ("", _("Not a complaint")),
        ("simple", _("Simple complaint")),
        ("general", _("General complaint")),
        ("complex", _("Complex complaint")),
    ]
    form.steps.choices = [
        ("acknowledge", _("Acknowledge the complaint")),
        ("record", _("Record the details")),
        ("investigate", _("Investigate")),
        ("propose", _("Propose a solution")),
        ("follow_up", _("Follow up with the customer")),
    ]
    return form


@bp.post("/tickets/<int:ticket_id>/complaint")
@login_required
def complaint(ticket_id: int):
    """Mark or unmark a complaint, set its complexity (its deadline) and its steps done."""
    ticket = _ticket_or_404(ticket_id)
    form = _complaint_form()
    if not form.validate_on_submit():
        abort(400)
    session, user = db_session(), _user()
    complexity = form.complexity.data or None
    if complexity != ticket.complaint_complexity:
        complaints.mark_complaint(session, ticket, complexity, current_app.config, actor=user)
    if complexity is not None:
        complaints.set_steps(session, ticket, list(form.steps.data or []), actor=user)
    return _done(ticket, _("Complaint saved."))


def _tier_choices() -> list[tuple[str, str]]:
    labels = {"standard": _("Standard"), "key": _("Key account"), "vip": _("VIP")}
    return [(tier, labels.get(tier, tier)) for tier in CUSTOMER_TIERS]


@bp.post("/tickets/<int:ticket_id>/customer-tier")
@login_required
def customer_tier(ticket_id: int):
    """Admins and leads set the customer's tier (key accounts get the tier's targets)."""
    ticket = _ticket_or_404(ticket_id)
    user = _user()
    if not has_role(user, "admin", "lead"):
        abort(403)
    form = TierForm(prefix="tier")
    form.tier.choices = _tier_choices()
    if not form.validate_on_submit():
        abort(400)
    recomputed = set_tier(
        db_session(), ticket.customer, form.tier.data or "", current_app.config, actor=user
    )
    return _done(
        ticket,
        _(
            "Customer tier set to %(tier)s; %(count)s open ticket(s) got its response targets.",
            tier=dict(_tier_choices())[ticket.customer.tier],
            count=recomputed,
        ),
    )


def _status_action(ticket_id: int, operation: Any, message: str) -> Any:
    """A status change; with ``next=1`` (the "... and next" buttons) on to the queue's next."""
    ticket = _ticket_or_404(ticket_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    queue = queue_key(ticket, request.form.get("queue"))  # before the change moves it
    cursor = Cursor.after(ticket)
    try:
        operation(db_session(), ticket, _user(), current_app.config)
    except actions.ActionError as error:
        return _refused(ticket, error)
    if request.form.get("next") == "1":
        flash(message, "info")
        return _next_in_queue(ticket, queue, cursor)
    return _done(ticket, message)


@bp.post("/tickets/<int:ticket_id>/wait")
@login_required
def wait(ticket_id: int):
    return _status_action(
        ticket_id, actions.mark_waiting, _("Waiting for the customer: the clock is paused.")
    )


@bp.post("/tickets/<int:ticket_id>/resume")
@login_required
def resume(ticket_id: int):
    return _status_action(ticket_id, actions.resume, _("The clock runs again."))


@bp.post("/tickets/<int:ticket_id>/resolve")
@login_required
def resolve(ticket_id: int):
    return _status_action(
        ticket_id, actions.resolve, _("Resolved; the customer was asked to rate our help.")
    )


@bp.post("/tickets/<int:ticket_id>/reopen")
@login_required
def reopen(ticket_id: int):
    return _status_action(ticket_id, actions.reopen, _("Reopened."))


def _kept_attachment(attachment_id: int) -> tuple[Attachment, bytes]:
    """The attachment, if the signed-in user may see its ticket (404 otherwise) and it was
    kept (410 otherwise): the one check of every route that serves a stored file."""
    found = db_session().get(Attachment, attachment_id)
    if found is None or not can_see_ticket(_user(), found.message.ticket):
        abort(404)
    if found.data is None:
        abort(410, found.skipped_reason or _("This attachment was not kept."))
    return found, found.data


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    """Always a download (never rendered by the browser), with nosniff and a locked-down CSP."""
    found, data = _kept_attachment(attachment_id)
    return download_response(data, found.filename or f"attachment-{found.id}", found.content_type)


@bp.get("/attachments/<int:attachment_id>/picture")
@login_required
def attachment_picture(attachment_id: int):
    """A photo the customer sent, shown in the page: only a file whose bytes are a PNG, JPEG,
    GIF or WebP picture of a sane size (`support.core.images`); 404 for anything else."""
    found, data = _kept_attachment(attachment_id)
    shown = picture(data)
    if shown is None:
        abort(404)
    return picture_response(data, found.filename or f"picture-{found.id}", shown.content_type)
