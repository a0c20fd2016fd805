"""A ticket's audit events as sentences staff read ("Assigned to Li Wei by admin").

The audit trail keeps machine-shaped rows (action names, ids, department codes); this module is
the one place that turns them into words, in the page's language. An event it does not know
still reads as a sentence (its action in words), never as raw JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from support.desk.access import can_see_ticket
from support.desk.models import AuditEvent, Department, Ticket, User
from support.desk.staff_names import staff_name
from support.desk.tags import MAX_TAGS


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    text: str


@dataclass(frozen=True)
class Names:
    """Display names for the ids and codes events refer to."""

    users: Mapping[int, str]
    departments: Mapping[str, str]
    #: The references of other tickets (a merge's) that the reader may see: another
    #: department's ticket is "another ticket", as on the rest of the page.
    tickets: frozenset[str] = frozenset()

    def ticket(self, reference: Any) -> str | None:
        """The reference of another ticket if the reader may see it, else None."""
        return reference if isinstance(reference, str) and reference in self.tickets else None

    def user(self, user_id: Any) -> str:
        if user_id is None:
            return _("nobody")
        return self.users.get(user_id) or _("user %(id)s", id=user_id)

    def department(self, code: Any) -> str:
        if not code:
            return _("triage")
        return self.departments.get(str(code)) or str(code)


#: Events that name another ticket, and the field of their data that holds its reference.
_TICKET_REFERENCES = {
    "ticket.merged_from": "reference",
    "ticket.merge_undone": "reference",
    "ticket.tagged": "merged",
}


def load_names(session: Session, user: User, events: Iterable[AuditEvent], language: str) -> Names:
    """Names for everyone, every department and every other ticket the events mention (the
    tickets only those ``user`` may see), in three small queries."""
    events = list(events)
    ids: set[int] = set()
    references: set[str] = set()
    for e in events:
        if e.actor_id:
            ids.add(e.actor_id)
        if e.action == "ticket.assigned":
            ids.update(v for v in (e.data or {}).values() if isinstance(v, int))
        reference = (e.data or {}).get(_TICKET_REFERENCES.get(e.action, ""))
        if isinstance(reference, str):
            references.add(reference)
    rows = session.execute(select(User.id, User.name).where(User.id.in_(sorted(ids)))).all()
    users = {user_id: staff_name(name) for user_id, name in rows}
    departments = {d.code: d.label(language) for d in session.scalars(select(Department))}
    tickets = (
        session.scalars(select(Ticket).where(Ticket.reference.in_(sorted(references)))).all()
        if references
        else []
    )
    visible = frozenset(t.reference for t in tickets if t.reference and can_see_ticket(user, t))
    return Names(users, departments, visible)


def _status(status: Any) -> str:
    words = {
        "new": _("new"),
        "open": _("open"),
        "waiting": _("waiting for customer"),
        "resolved": _("resolved"),
        "closed": _("closed"),
        "spam": _("spam"),
    }
    return words.get(str(status), str(status))


def _assigned(data: Mapping[str, Any], names: Names) -> str:
    before, after = data.get("from"), data.get("to")
    if data.get("reason") == "moved":
        return _(
            "Unassigned from %(name)s: moved to a department they do not work in",
            name=names.user(before),
        )
    if after is None:
        return _("Unassigned from %(name)s", name=names.user(before))
    return _("Assigned to %(name)s", name=names.user(after))


def _local(value: Any) -> str:
    """A stored ISO time as the staff pages show times (the company's zone)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return "?"
    zone = ZoneInfo(str(current_app.config.get("COMPANY_TIMEZONE") or "UTC"))
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


_Describe = Callable[[Mapping[str, Any], Names], str]

_SENTENCES: dict[str, _Describe] = {
    "ticket.created": lambda d, n: _("Ticket created"),
    "ticket.routed": lambda d, n: (
        _("Sent to triage (not routed automatically)")
        if d.get("needs_triage")
        else _("Routed to %(department)s", department=n.department(d.get("department")))
    ),
    "ticket.assigned": _assigned,
    "ticket.department_changed": lambda d, n: _(
        "Moved from %(old)s to %(new)s",
        old=n.department(d.get("from")),
        new=n.department(d.get("to")),
    ),
    "ticket.urgency_changed": lambda d, n: _(
        "Urgency changed from %(old)s to %(new)s", old=d.get("from"), new=d.get("to")
    ),
    "ticket.urgency_confirmed": lambda d, n: _(
        "Urgency confirmed at %(level)s", level=d.get("level", "?")
    ),
    "ticket.urgency_raised": lambda d, n: _(
        "Urgency raised from %(old)s to %(new)s", old=d.get("from", "?"), new=d.get("to", "?")
    ),
    "ticket.status_changed": lambda d, n: _(
        "Status changed from %(old)s to %(new)s",
        old=_status(d.get("from")),
        new=_status(d.get("to")),
    ),
    "ticket.reopened": lambda d, n: _("Reopened"),
    "ticket.thanks_kept_closed": lambda d, n: _("The customer replied with thanks; not reopened"),
    "ticket.replied": lambda d, n: _("Replied to the customer"),
    "ticket.reply_warnings_overridden": lambda d, n: _("Sent a reply despite the wording warnings"),
    "ticket.note_added": lambda d, n: _("Internal note added"),
    "ticket.merged": lambda d, n: _("Merged into another ticket"),
    "ticket.merged_from": lambda d, n: _merged_from(d, n.ticket(d.get("reference"))),
    "ticket.merge_undone": lambda d, n: _merge_undone(d, n.ticket(d.get("reference"))),
    "ticket.snoozed": lambda d, n: _("Snoozed until %(time)s", time=_local(d.get("until"))),
    "ticket.snooze_ended": lambda d, n: {
        "customer": lambda: _("Back in the queue: the customer wrote again"),
        "time": lambda: _("Back in the queue: the snooze ended"),
        "urgency": lambda: _("Back in the queue: important or emergency tickets are not snoozed"),
        "target_due_soon": lambda: _("Back in the queue: the response target is near"),
        "target_breached": lambda: _("Back in the queue: the response target was missed"),
    }.get(str(d.get("reason")), lambda: _("Back in the queue"))(),
    "ticket.tagged": lambda d, n: _tagged(d, n.ticket(d.get("merged"))),
    "ticket.untagged": lambda d, n: (
        _("Tag “%(tag)s” removed with the merge's undo", tag=d.get("tag") or "?")
        if d.get("merge_undone")
        else _("Tag “%(tag)s” removed", tag=d.get("tag") or "?")
    ),
    "ticket.survey_sent": lambda d, n: _("Satisfaction survey sent"),
    "ticket.rated": lambda d, n: _("Rated %(rating)s out of 5", rating=d.get("rating", "?")),
    "ticket.marked_spam": lambda d, n: _("Marked as spam"),
    "spam.known_correspondent": lambda d, n: (
        _(
            "Kept as a ticket although the spam filter suspected it (score %(score)s): staff"
            " have written to %(domain)s before, and its signature was verified",
            score=d.get("score", "?"),
            domain=d["domain"],
        )
        if d.get("domain")
        else _(
            "Kept as a ticket although the spam filter suspected it (score %(score)s): staff"
            " have written to this sender before",
            score=d.get("score", "?"),
        )
    ),
    "ticket.complaint": lambda d, n: (
        _("Marked as a complaint") if d.get("complexity") else _("No longer marked as a complaint")
    ),
    "ticket.complaint_steps": lambda d, n: _("Complaint steps updated"),
    "sla.warned": lambda d, n: _("Warning sent: the response target is near"),
    "sla.escalated": lambda d, n: _("Escalated to the lead: the response target was missed"),
    "complaint.progress_reminded": lambda d, n: _("Reminder sent: a progress report is due"),
    # Written by the mail side (mailrouter), on the same ticket's trail.
    "auto_reply_queued": lambda d, n: _("Automatic confirmation queued for the customer"),
    "auto_reply_skipped": lambda d, n: _auto_reply_skipped(str(d.get("reason") or "")),
    "auto_reply_failed": lambda d, n: _("The automatic confirmation could not be written"),
    "ticket_resolved_by_faq": lambda d, n: _(
        "Resolved: the FAQ answer “%(question)s” answered the question",
        question=d.get("question") or "?",
    ),
    "mail_resent": lambda d, n: _("A mail was sent again: the customer may get it twice"),
    "mail_failed": lambda d, n: _(
        "A mail could not be delivered: %(reason)s", reason=d.get("reason") or "?"
    ),
}


def _merged_from(data: Mapping[str, Any], reference: str | None) -> str:
    """A ticket merged into this one: named when the reader may see it (``reference``)."""
    left_out = data.get("tags_left_out")
    if isinstance(left_out, list) and left_out:
        tags = ", ".join(f"“{t}”" for t in left_out[:10])
        if reference is None:
            return _(
                "Another ticket merged into this one; its tags %(tags)s did not fit (at most"
                " %(n)s)",
                tags=tags,
                n=MAX_TAGS,
            )
        return _(
            "Ticket %(reference)s merged into this one; its tags %(tags)s did not fit (at most"
            " %(n)s)",
            reference=reference,
            tags=tags,
            n=MAX_TAGS,
        )
    if reference is None:
        return _("Another ticket merged into this one")
    return _("Ticket %(reference)s merged into this one", reference=reference)


def _merge_undone(data: Mapping[str, Any], reference: str | None) -> str:
    """A merge taken back, on either ticket: the other one named when the reader may see it."""
    if data.get("role") == "source":
        if reference is None:
            return _("Merge into another ticket undone")
        return _("Merge into %(reference)s undone", reference=reference)
    if reference is None:
        return _("Merge of another ticket undone: it is a ticket of its own again")
    return _("Merge of %(reference)s undone: it is a ticket of its own again", reference=reference)


def _tagged(data: Mapping[str, Any], merged: str | None) -> str:
    """A tag added, by hand or with a merge (the merged ticket named when the reader may see
    it: ``merged``)."""
    tag = data.get("tag") or "?"
    if not data.get("merged"):
        return _("Tag “%(tag)s” added", tag=tag)
    if merged is None:
        return _("Tag “%(tag)s” added with the merge of another ticket", tag=tag)
    return _("Tag “%(tag)s” added with the merge of %(reference)s", tag=tag, reference=merged)


def _auto_reply_skipped(reason: str) -> str:
    """Why a new ticket's customer got no confirmation, in words (the reason's key is the
    mail side's: ``mailrouter.outbound.autoreply.SKIP_*``, ``mailrouter.flood``). A new user
    who sent a second test mail from the same address got none and the ticket said only
    "No automatic confirmation sent"; the reason was in the log."""
    key, _colon, detail = (part.strip() for part in reason.partition(":"))
    hours = f"{float(current_app.config.get('AUTOREPLY_WINDOW_HOURS') or 0):g}"
    why = {
        "window": lambda: _(
            "this sender already got one in the last %(hours)s hours (AUTOREPLY_WINDOW_HOURS)",
            hours=hours,
        ),
        "daily_limit": lambda: _(
            "this sender reached the day's number of them (AUTOREPLY_MAX_PER_DAY)"
        ),
        "flood": lambda: _("this sender sent a burst of mail"),
        "automatic_mail": lambda: _(
            "the mail was sent by a machine (a bounce, an out-of-office reply or a list)"
        ),
        "null_sender": lambda: _("the mail came with an empty return address (MAIL FROM:<>)"),
        "suppressed_by_sender": lambda: _(
            "the sender's mail program asked for no automatic replies (X-Auto-Response-Suppress)"
        ),
        "own_address": lambda: _("the sender is one of our own addresses"),
        # swaks's own test mail comes from root@<host>: "gave no address" of a mail that gave
        # one sent a new admin looking for a fault.
        "no_address": lambda: (
            _("the sender's address, %(address)s, is not one mail can reach", address=detail[:254])
            if detail
            else _("the sender gave no address to answer")
        ),
        "address_failing": lambda: _("mail to this address has been failing"),
        "spam_score": lambda: _("the spam filter suspected the mail"),
        "already_replied": lambda: _("this ticket already had its confirmation"),
    }.get(key)
    if why is None:
        return _("No automatic confirmation sent")
    return _("No automatic confirmation sent: %(why)s", why=why())


def actor_name(event: AuditEvent, names: Names) -> str:
    if event.actor_id:
        return names.user(event.actor_id)
    labels = {
        "sla": _("the response-target check"),
        "staff": _("staff"),
        "customer": _("the customer"),
    }
    return labels.get(event.actor_label or "", _("the system"))


def describe(event: AuditEvent, names: Names) -> str:
    """One sentence: what happened and who did it."""
    data = event.data if isinstance(event.data, dict) else {}
    sentence = _SENTENCES.get(event.action)
    if sentence is not None:
        what = sentence(data, names)
    else:
        what = event.action.split(".", 1)[-1].replace("_", " ").capitalize()
    return _("%(what)s by %(who)s", what=what, who=actor_name(event, names))


def history(
    session: Session, user: User, events: Iterable[AuditEvent], language: str
) -> list[HistoryLine]:
    """The events as sentences for ``user`` (other tickets named only if they may see them)."""
    events = list(events)
    names = load_names(session, user, events, language)
    return [HistoryLine(e.created_at, describe(e, names)) for e in events]
