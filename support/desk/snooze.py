"""Snooze: staff set a ticket aside until a given time ("pending until" in other desks).

A snoozed ticket keeps its status but leaves the open queues (support.staff.inbox) until
``snoozed_until``; the periodic ``snooze-wake`` job (one per deployment, through its lease)
brings it back then, and a new mail from the customer brings it back at once.

Response targets stay honest: a ticket cannot be snoozed before its first reply (an unanswered
customer is never hidden), and the clock keeps running while a ticket sleeps, so the
response-target check still warns and escalates it (support.desk.sla), and wakes it. To stop
the clock, the ticket waits for the customer instead.

Important and emergency tickets (``URGENT_LEVEL``) need handling now: they are never snoozed,
on the page or anywhere else, and a snoozed ticket whose urgency is raised to one comes back at
once (support.desk.actions.change_urgency); the wake-up job brings back any other (a merge
that raised it, a snooze older than this rule). A breach surfaces too: the check that warns of
a target due soon or escalates a missed one brings a snoozed ticket back, once for each
(support.desk.waking, the job's own way back).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from support.core.db import get_db, utcnow
from support.core.runner import PeriodicTask
from support.core.zones import zone_named
from support.desk import actions
from support.desk.access import can_see_ticket
from support.desk.audit import record_event
from support.desk.models import OPEN_STATUSES, URGENT_LEVEL, Ticket, User
from support.desk.waking import wake

log = logging.getLogger(__name__)

#: The presets the ticket page offers, in its order; "custom" takes a date and time.
PRESETS = ("tomorrow", "three_days", "next_week")
#: Presets end at this time of day in the company's zone: the start of a working day.
MORNING = time(9, 0)
#: Snoozing further than this is a way of forgetting a ticket: resolve it instead.
MAX_DAYS = 90
#: Tickets woken per run at most; the rest wait for the next run (a minute later).
WAKE_BATCH = 500


def _zone(config: Mapping[str, Any]) -> tzinfo:
    return zone_named(str(config.get("COMPANY_TIMEZONE") or "UTC"))


def preset_time(preset: str, now: datetime, config: Mapping[str, Any]) -> datetime:
    """When a preset ends, in UTC: tomorrow / in three days / next Monday, at 9:00 in the
    company's zone (where the agents work)."""
    zone = _zone(config)
    local = now.astimezone(zone)
    if preset == "tomorrow":
        day = local.date() + timedelta(days=1)
    elif preset == "three_days":
        day = local.date() + timedelta(days=3)
    elif preset == "next_week":
        day = local.date() + timedelta(days=7 - local.weekday())
    else:
        raise ValueError(f"unknown snooze preset {preset!r}")
    return datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC)


def local_time(text: str, config: Mapping[str, Any]) -> datetime | None:
    """A ``datetime-local`` field's value ("2026-12-08T14:30"), read in the company's zone;
    None when it is not one."""
    text = (text or "").strip()
    if len(text) > 19:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return None
    return parsed.replace(tzinfo=_zone(config)).astimezone(UTC)


def snooze(
    session: Session, ticket: Ticket, user: User, until: datetime, *, now: datetime | None = None
) -> None:
    """Set the ticket aside until ``until``; the caller commits."""
    now = now or utcnow()
    if ticket.merged_into_id is not None:
        raise actions.ActionError(_("This ticket was merged into another one; work on that one."))
    if not can_see_ticket(user, ticket):
        raise actions.ActionError(_("You cannot work on this ticket."))
    if ticket.status not in OPEN_STATUSES:
        raise actions.ActionError(_("Only an open ticket can be snoozed."))
    if ticket.is_urgent:
        raise actions.ActionError(urgent_refusal())
    if ticket.first_response_at is None:
        raise actions.ActionError(
            _("Answer the customer first: a ticket without a first reply cannot be snoozed.")
        )
    if until <= now + timedelta(minutes=1):
        raise actions.ActionError(_("Choose a time in the future."))
    if until > now + timedelta(days=MAX_DAYS):
        raise actions.ActionError(_("Snooze for at most %(days)s days.", days=MAX_DAYS))
    previous = ticket.snoozed_until
    ticket.snoozed_until = until
    ticket.updated_at = now
    session.flush()
    actions.audit(
        session,
        ticket,
        user,
        "ticket.snoozed",
        now=now,
        until=until.isoformat(),
        previous=previous.isoformat() if previous else None,
    )


def urgent_refusal() -> str:
    """Why an important or emergency ticket is not snoozed, and what to do instead (the
    ticket page says it in place of the snooze choices, the refusal says it too)."""
    return _(
        "Important and emergency tickets cannot be snoozed: they need handling now. Waiting for"
        " the customer? Choose “Wait for customer”. Not that urgent? Lower its urgency first."
    )


def unsnooze(session: Session, ticket: Ticket, user: User, *, now: datetime | None = None) -> None:
    """Back to the queue now (staff's choice); the caller commits."""
    now = now or utcnow()
    if not can_see_ticket(user, ticket):
        raise actions.ActionError(_("You cannot work on this ticket."))
    if ticket.snoozed_until is None:
        raise actions.ActionError(_("This ticket is not snoozed."))
    ticket.snoozed_until = None
    ticket.updated_at = now
    session.flush()
    actions.audit(session, ticket, user, "ticket.snooze_ended", now=now, reason="staff")


def wake_on_customer(session: Session, ticket: Ticket, now: datetime) -> None:
    """The customer wrote again: the ticket is back in the queue at once (the mail intake
    calls this; its audit rows are Core inserts, support.desk.audit)."""
    if ticket.snoozed_until is None:
        return
    until = ticket.snoozed_until
    ticket.snoozed_until = None
    record_event(
        session,
        "ticket.snooze_ended",
        {"reason": "customer", "until": until.isoformat()},
        ticket_id=ticket.id,
        actor_label="customer",
        subject_type="ticket",
        subject_id=ticket.id,
        created_at=now,
    )


def wake_due(
    session: Session, now: datetime | None = None, config: Mapping[str, Any] | None = None
) -> list[int]:
    """Bring back every ticket whose snooze has ended, and every snoozed one that is important
    or an emergency now, telling each one's assignee by mail (support.desk.notifications); the
    ids woken. The caller commits."""
    now = now or utcnow()
    config = config if config is not None else current_app.config
    due = session.scalars(
        select(Ticket)
        .where(
            Ticket.snoozed_until.is_not(None),
            or_(Ticket.snoozed_until <= now, Ticket.urgency >= URGENT_LEVEL),
        )
        .order_by(Ticket.snoozed_until, Ticket.id)
        .limit(WAKE_BATCH)
    ).all()
    for ticket in due:
        until = ticket.snoozed_until
        reason = "time" if until is not None and until <= now else "urgency"
        wake(session, ticket, reason=reason, now=now, config=config)
    session.flush()
    if due:
        log.info("%d snoozed ticket(s) back in the queue", len(due))
    return [t.id for t in due]


def run_wake(app: Flask, now: datetime | None = None) -> list[int]:
    """One wake-up run in its own transaction (the periodic task)."""
    with app.app_context(), get_db(app).session() as session:
        return wake_due(session, now, app.config)


def services(app: Flask) -> list[PeriodicTask]:
    """The wake-up job for `support run`, as often as the response-target check; the app
    gives it a lease, so it runs once per deployment (support.app.periodic_services)."""
    interval = max(5, int(app.config["SLA_CHECK_SECONDS"]))
    return [PeriodicTask("snooze-wake", interval, lambda: run_wake(app))]
