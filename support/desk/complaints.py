"""Complaint handling as the customer-service texts teach it.

A complaint is a ticket of kind "complaint", recognised in mail (routing's complaint words) or
set by staff. Its steps are a checklist on the ticket: acknowledge, record, investigate,
propose a solution, follow up. Its deadline depends on its complexity, in working days of the
business calendar (``COMPLAINT_WORKING_DAYS``: a simple complaint is answered within one, a
general one within three). A complex complaint has no single deadline: the customer hears
from us at least every ``COMPLAINT_PROGRESS_DAYS`` working days until it is resolved. Each
reply to the customer counts as such a report; when one falls due, the periodic check
reminds the assignee and the department's leads, with a progress-update text to send.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.core.db import utcnow
from support.desk.audit import record_event
from support.desk.business_time import BusinessCalendar, add_working_days, business_calendar
from support.desk.models import OPEN_STATUSES, Ticket, User

log = logging.getLogger(__name__)

COMPLAINT = "complaint"
COMPLEXITIES = ("simple", "general", "complex")
STEPS = ("acknowledge", "record", "investigate", "propose", "follow_up")
#: Reminders one periodic check sends at most.
REMINDER_BATCH = 200


class ComplaintError(ValueError):
    """A complaint change that cannot be made."""


def _calendar(config: Mapping[str, Any]) -> BusinessCalendar:
    """The business calendar; without one, Monday to Friday 09:00-18:00 (working days are
    what the texts count, even where response targets run around the clock)."""
    return business_calendar(config) or BusinessCalendar(
        timezone=config.get("COMPANY_TIMEZONE", "Asia/Shanghai")
    )


def mark_complaint(
    session: Session,
    ticket: Ticket,
    complexity: str | None,
    config: Mapping[str, Any],
    *,
    actor: User | None = None,
    now: datetime | None = None,
    reason: str | None = None,
) -> None:
    """Make the ticket a complaint of ``complexity`` (None: no complaint) and set its deadline
    or its first progress report, counted from when the ticket arrived."""
    if complexity is not None and complexity not in COMPLEXITIES:
        raise ComplaintError(f"complexity must be one of {', '.join(COMPLEXITIES)}")
    before = (ticket.kind, ticket.complaint_complexity)
    if complexity is None:
        ticket.kind = None
        ticket.complaint_complexity = None
        ticket.complaint_due_at = ticket.progress_due_at = None
    else:
        ticket.kind = COMPLAINT
        ticket.complaint_complexity = complexity
        ticket.complaint_steps = list(ticket.complaint_steps or [])
        start = ticket.created_at or now or utcnow()
        calendar = _calendar(config)
        if complexity == "complex":
            ticket.complaint_due_at = None
            days = int(config["COMPLAINT_PROGRESS_DAYS"])
            ticket.progress_due_at = add_working_days(start, days, calendar)
        else:
            days = int((config.get("COMPLAINT_WORKING_DAYS") or {}).get(complexity, 3))
            ticket.complaint_due_at = add_working_days(start, days, calendar)
            ticket.progress_due_at = None
    after = (ticket.kind, ticket.complaint_complexity)
    if after != before and ticket.id is not None:
        record_event(
            session,
            "ticket.complaint",
            {"complexity": complexity, "before": before[1], "reason": reason},
            ticket_id=ticket.id,
            actor_id=actor.id if actor is not None else None,
            actor_label="staff" if actor is not None else "system",
            subject_type="ticket",
            subject_id=ticket.id,
        )


def set_steps(session: Session, ticket: Ticket, done: list[str], *, actor: User) -> None:
    """The checklist as staff ticked it (unknown steps are ignored)."""
    steps = [step for step in STEPS if step in set(done)]
    if steps == list(ticket.complaint_steps or []):
        return
    ticket.complaint_steps = steps
    record_event(
        session,
        "ticket.complaint_steps",
        {"done": steps},
        ticket_id=ticket.id,
        actor_id=actor.id,
        actor_label="staff",
        subject_type="ticket",
        subject_id=ticket.id,
    )


def record_progress(ticket: Ticket, config: Mapping[str, Any], now: datetime) -> None:
    """A reply to the customer of a complex complaint is a progress report: the next is due
    COMPLAINT_PROGRESS_DAYS working days later."""
    if ticket.kind != COMPLAINT or ticket.complaint_complexity != "complex":
        return
    days = int(config["COMPLAINT_PROGRESS_DAYS"])
    ticket.progress_due_at = add_working_days(now, days, _calendar(config))
    ticket.progress_reminded_at = None


def reports_due(session: Session, now: datetime) -> list[Ticket]:
    """Open complex complaints whose progress report is due and not yet reminded of."""
    return list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.progress_due_at <= now,
                Ticket.progress_reminded_at.is_(None),
                Ticket.kind == COMPLAINT,
                Ticket.status.in_(OPEN_STATUSES),
            )
            .order_by(Ticket.progress_due_at)
            .limit(REMINDER_BATCH)
        )
    )


def progress_update_text(ticket: Ticket, language: str) -> str:
    """A progress report to adapt and send: what the texts ask a complex complaint to get."""
    name = ticket.customer.name if ticket.customer is not None else ""
    if language == "zh":
        return (
            f"{name}您好：\n\n关于您的投诉（{ticket.reference}），我们想向您通报目前的处理进展："
            "\n\n[已经完成的调查和处理]\n\n[下一步计划和预计时间]\n\n"
            "在问题解决之前，我们会至少每三个工作日向您通报一次进展。感谢您的耐心。"
        )
    return (
        f"Dear {name or 'customer'},\n\nAbout your complaint ({ticket.reference}), here is where "
        "we are:\n\n[what we have found and done so far]\n\n[what happens next, and when]\n\n"
        "Until it is resolved we will update you at least every three working days. Thank you "
        "for your patience."
    )
