"""Ticket response targets: due times, the waiting-on-customer pause, warnings and escalation.

Each ticket has two targets counted from its creation: the first response and the resolution.
Their lengths come from the urgency level (UrgencyLevel rows, defaults 60/240/1440/1440/1440
minutes for levels 5..1), overridden by SLA_TARGETS, then by the department's `sla_overrides`:

    {"5": {"first_response_minutes": 30, "resolution_minutes": 480, "clock": "calendar"},
     "*": {"clock": "business"}}

Time is counted in calendar hours, or in the opening hours of SLA_BUSINESS_CALENDAR when one
is configured; `"clock": "calendar"` keeps a target on calendar hours anyway (emergencies).

Pauses (status "waiting") are added to `sla_paused_seconds` as *working* time of the target's
clock, so every due time is simply `add_working_time(created_at, target + paused)` and moves
on when the pause ends. `sla_warn_at` stores when the active target (first response until it
is sent, then resolution) becomes "due soon" (business_time.warn_after: SLA_WARN_FRACTION of
it, but at least 30 minutes before its end), which keeps inbox filters plain indexed SQL; the
badge, the counts and the warning job all read it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from flask import Flask
from sqlalchemy import ColumnElement, and_, false, not_, or_, select
from sqlalchemy.orm import Session, object_session

from support.core.db import get_db, utcnow
from support.core.runner import PeriodicTask
from support.desk import complaints
from support.desk.business_time import (
    BusinessCalendar,
    add_working_time,
    business_calendar,
    is_working_time,
    warn_after,
    working_time_between,
)
from support.desk.models import (
    OPEN_STATUSES,
    AuditEvent,
    Customer,
    Department,
    Ticket,
    UrgencyLevel,
)
from support.desk.notifications import (
    send_digests,
    send_escalation,
    send_progress_reminder,
    send_sla_warning,
)
from support.desk.waking import wake

log = logging.getLogger(__name__)

SlaState = Literal["on_track", "due_soon", "breached"]
SLA_STATES: tuple[SlaState, ...] = ("on_track", "due_soon", "breached")

DEFAULT_FIRST_RESPONSE_MINUTES = {5: 60, 4: 240, 3: 1440, 2: 1440, 1: 1440}
DEFAULT_RESOLUTION_MINUTES = {5: 1440, 4: 2880, 3: 7200, 2: 4320, 1: 7200}
_CLOCKS = ("calendar", "business")
_OVERRIDE_KEYS = {"first_response_minutes", "resolution_minutes", "clock"}


@dataclass(frozen=True)
class Targets:
    """The targets that apply to one ticket; `calendar` None means calendar hours (24x7)."""

    first_response: timedelta
    resolution: timedelta
    calendar: BusinessCalendar | None = None

    @property
    def uses_business_hours(self) -> bool:
        return self.calendar is not None


def _apply_override(values: dict[str, Any], override: Any, origin: str, *, strict: bool) -> None:
    problem: str | None
    if not isinstance(override, Mapping):
        problem = f"{origin} must be a table of settings, got {override!r}"
        if strict:
            raise ValueError(problem)
        log.warning("ignoring %s", problem)
        return
    for key, value in override.items():
        problem = None
        if key not in _OVERRIDE_KEYS:
            problem = f"{origin}: unknown key {key!r} (use {', '.join(sorted(_OVERRIDE_KEYS))})"
        elif key == "clock" and value not in _CLOCKS:
            problem = f"{origin}: clock must be 'calendar' or 'business', got {value!r}"
        elif key != "clock" and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            problem = f"{origin}: {key} must be a positive number of minutes, got {value!r}"
        if problem:
            if strict:
                raise ValueError(problem)
            log.warning("ignoring %s", problem)
            continue
        values[key] = value


def targets_for(ticket: Ticket, config: Mapping[str, Any]) -> Targets:
    """Targets of the ticket's urgency level, with SLA_TARGETS and department overrides, and
    its customer's tier (SLA_TIER_TARGETS)."""
    level = int(ticket.urgency or 2)
    session = object_session(ticket)
    department = ticket.department
    if department is None and ticket.department_id is not None and session is not None:
        department = session.get(Department, ticket.department_id)
    values = _level_values(session, level, department, config)
    _apply_tier(values, ticket, level, config, session)
    return _targets(values, config)


def level_targets(
    session: Session, level: int, department: Department | None, config: Mapping[str, Any]
) -> Targets:
    """The targets of an urgency level in a department (None: triage) for anyone: no key
    account's tier. What the contact form may promise whoever's address was typed."""
    return _targets(_level_values(session, level, department, config), config)


def _level_values(
    session: Session | None,
    level: int,
    department: Department | None,
    config: Mapping[str, Any],
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "first_response_minutes": DEFAULT_FIRST_RESPONSE_MINUTES.get(level, 1440),
        "resolution_minutes": DEFAULT_RESOLUTION_MINUTES.get(level, 4320),
        "clock": "business",
    }
    row = session.get(UrgencyLevel, level) if session is not None else None
    if row is not None:
        values["first_response_minutes"] = row.first_response_minutes
        values["resolution_minutes"] = row.resolution_minutes
    configured = config.get("SLA_TARGETS") or {}
    for key in ("*", str(level)):
        if key in configured:
            _apply_override(values, configured[key], f"SLA_TARGETS[{key!r}]", strict=True)
    if department is not None:
        overrides = department.sla_overrides or {}
        for key in ("*", str(level)):
            if key in overrides:
                origin = f"department {department.code} sla_overrides[{key!r}]"
                _apply_override(values, overrides[key], origin, strict=False)
    return values


def _targets(values: Mapping[str, Any], config: Mapping[str, Any]) -> Targets:
    calendar = business_calendar(config) if values["clock"] == "business" else None
    return Targets(
        first_response=timedelta(minutes=values["first_response_minutes"]),
        resolution=timedelta(minutes=values["resolution_minutes"]),
        calendar=calendar,
    )


def _apply_tier(
    values: dict[str, Any],
    ticket: Ticket,
    level: int,
    config: Mapping[str, Any],
    session: Session | None,
) -> None:
    """A key account's tier targets (SLA_TIER_TARGETS): they only ever make a target shorter,
    so an emergency's one hour stays one hour for everybody."""
    customer = ticket.customer
    if customer is None and ticket.customer_id is not None and session is not None:
        customer = session.get(Customer, ticket.customer_id)
    tier = customer.tier if customer is not None else None
    table = (config.get("SLA_TIER_TARGETS") or {}).get(tier) if tier else None
    if not table:
        return
    tiered = dict(values)
    for key in ("*", str(level)):
        if key in table:
            _apply_override(
                tiered, table[key], f"SLA_TIER_TARGETS[{tier!r}][{key!r}]", strict=False
            )
    for key in ("first_response_minutes", "resolution_minutes"):
        values[key] = min(values[key], tiered[key])


# --- the clock ----------------------------------------------------------------------------------


def _paused(ticket: Ticket) -> timedelta:
    return timedelta(seconds=ticket.sla_paused_seconds or 0)


def _effective_now(ticket: Ticket, now: datetime) -> datetime:
    """While paused the clock stands still at the moment the pause began."""
    if ticket.sla_paused_at is not None and ticket.sla_paused_at < now:
        return ticket.sla_paused_at
    return now


def _is_open(ticket: Ticket) -> bool:
    # A ticket not yet flushed has no status; the column default makes it "new".
    return (ticket.status or "new") in OPEN_STATUSES


def active_due_at(ticket: Ticket) -> datetime | None:
    """Due time of the target that counts now: first response until sent, then resolution."""
    if not _is_open(ticket):
        return None
    if ticket.first_response_at is None:
        return ticket.first_response_due_at
    return ticket.resolution_due_at


def _apply_targets(ticket: Ticket, targets: Targets, now: datetime, fraction: float) -> None:
    start = ticket.created_at
    paused = _paused(ticket)
    cal = targets.calendar
    if ticket.first_response_at is None:
        ticket.first_response_due_at = add_working_time(start, targets.first_response + paused, cal)
        warn_target = targets.first_response
    else:
        warn_target = targets.resolution
    ticket.resolution_due_at = add_working_time(start, targets.resolution + paused, cal)
    if not _is_open(ticket):
        ticket.sla_warn_at = None
        return
    ticket.sla_warn_at = add_working_time(start, warn_after(warn_target, fraction) + paused, cal)
    # A flag means "told about the state the ticket is in now": a target moved into the future
    # (lower urgency, other department) may warn and escalate again when it comes due.
    effective = _effective_now(ticket, now)
    if ticket.sla_warn_at > effective:
        ticket.sla_warned_at = None
    due = active_due_at(ticket)
    if due is not None and due > effective:
        ticket.sla_breached_at = None
        ticket.escalated_at = None


def warn_fraction(config: Mapping[str, Any]) -> float:
    fraction = float(config.get("SLA_WARN_FRACTION", 0.75))
    if not 0 < fraction <= 1:
        raise ValueError(f"SLA_WARN_FRACTION must be in (0, 1], got {fraction}")
    return fraction


def start_clock(ticket: Ticket, config: Mapping[str, Any], *, now: datetime | None = None) -> None:
    """Set (or recompute) the ticket's due times from its creation, urgency and department.

    Call when a ticket is routed and whenever its urgency or department changes; time already
    paused stays credited. A first response already given keeps the due time it was given under.
    """
    now = now or utcnow()
    if ticket.created_at is None:
        ticket.created_at = now
    _apply_targets(ticket, targets_for(ticket, config), now, warn_fraction(config))


def pause_clock(ticket: Ticket, *, now: datetime | None = None) -> None:
    """Stop the clock while the ticket waits on the customer."""
    if ticket.sla_paused_at is None:
        ticket.sla_paused_at = now or utcnow()


def resume_clock(ticket: Ticket, config: Mapping[str, Any], *, now: datetime | None = None) -> None:
    """Restart the clock (customer answered, or staff took the ticket back): due times move on."""
    now = now or utcnow()
    if ticket.sla_paused_at is None:
        return
    targets = targets_for(ticket, config)
    paused = working_time_between(ticket.sla_paused_at, now, targets.calendar)
    ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(paused.total_seconds())
    ticket.sla_paused_at = None
    _apply_targets(ticket, targets, now, warn_fraction(config))


def working_seconds_elapsed(ticket: Ticket, config: Mapping[str, Any], now: datetime) -> int:
    """Working time the clock has run since the ticket arrived, pauses excluded."""
    targets = targets_for(ticket, config)
    elapsed = working_time_between(ticket.created_at, now, targets.calendar) - _paused(ticket)
    if ticket.sla_paused_at is not None and ticket.sla_paused_at < now:
        elapsed -= working_time_between(ticket.sla_paused_at, now, targets.calendar)
    return max(0, int(elapsed.total_seconds()))


def record_first_response(
    ticket: Ticket, config: Mapping[str, Any], *, now: datetime | None = None
) -> None:
    """Store when and how fast the first staff reply went out; the resolution target takes over."""
    now = now or utcnow()
    if ticket.first_response_at is not None:
        return
    if ticket.first_response_due_at is None:
        start_clock(ticket, config, now=now)
    ticket.first_response_seconds = working_seconds_elapsed(ticket, config, now)
    ticket.first_response_at = now
    ticket.sla_warned_at = None
    ticket.sla_breached_at = None
    ticket.escalated_at = None
    _apply_targets(ticket, targets_for(ticket, config), now, warn_fraction(config))


def stop_clock(ticket: Ticket, config: Mapping[str, Any], *, now: datetime | None = None) -> None:
    """Resolved or closed: credit a running pause and stop warning."""
    now = now or utcnow()
    if ticket.sla_paused_at is not None:
        targets = targets_for(ticket, config)
        paused = working_time_between(ticket.sla_paused_at, now, targets.calendar)
        ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(paused.total_seconds())
        ticket.sla_paused_at = None
    ticket.sla_warn_at = None
    ticket.escalated_at = None


def sla_state(ticket: Ticket, now: datetime) -> SlaState | None:
    """on_track / due_soon / breached for an open ticket with a clock; None otherwise."""
    due = active_due_at(ticket)
    if due is None:
        return None
    effective = _effective_now(ticket, now)
    if effective >= due:
        return "breached"
    if ticket.sla_warn_at is not None and effective >= ticket.sla_warn_at:
        return "due_soon"
    return "on_track"


def time_left(ticket: Ticket, now: datetime) -> timedelta | None:
    """How long until the target that counts now is due (``active_due_at``), on the ticket's
    clock, which stands still during a pause as ``sla_state`` reads it; negative once breached,
    None for a closed ticket or one without a clock."""
    due = active_due_at(ticket)
    if due is None:
        return None
    return due - _effective_now(ticket, now)


def first_response_met(ticket: Ticket) -> bool | None:
    """Whether the first response came within its target (None: not answered or no target)."""
    if ticket.first_response_at is None or ticket.first_response_due_at is None:
        return None
    return ticket.first_response_at <= ticket.first_response_due_at


# --- the same states as SQL, for filters and counts -------------------------------------------


def _reached(column: Any, now: datetime) -> ColumnElement[bool]:
    """`column` has passed on the ticket's clock (which stands still during a pause)."""
    return and_(
        column.is_not(None),
        column <= now,
        or_(Ticket.sla_paused_at.is_(None), column <= Ticket.sla_paused_at),
    )


def breached_clause(now: datetime) -> ColumnElement[bool]:
    return and_(
        Ticket.status.in_(OPEN_STATUSES),
        or_(
            and_(Ticket.first_response_at.is_(None), _reached(Ticket.first_response_due_at, now)),
            and_(Ticket.first_response_at.is_not(None), _reached(Ticket.resolution_due_at, now)),
        ),
    )


def state_clause(state: str, now: datetime) -> ColumnElement[bool]:
    """A WHERE clause matching open tickets in `state` (as `sla_state` computes it)."""
    breached = breached_clause(now)
    due_soon = and_(
        Ticket.status.in_(OPEN_STATUSES), not_(breached), _reached(Ticket.sla_warn_at, now)
    )
    if state == "breached":
        return breached
    if state == "due_soon":
        return due_soon
    if state == "on_track":
        return and_(
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.first_response_due_at.is_not(None),
            not_(breached),
            not_(due_soon),
        )
    return false()


# --- the periodic check -------------------------------------------------------------------------


@dataclass
class CheckReport:
    warned: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    held_for_working_hours: list[int] = field(default_factory=list)
    progress_reminded: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.warned)} warned, {len(self.escalated)} escalated, "
            f"{len(self.held_for_working_hours)} held until working hours, "
            f"{len(self.progress_reminded)} complaint progress reports reminded"
        )


def _audit(session: Session, ticket: Ticket, action: str, now: datetime, **data: Any) -> None:
    session.add(
        AuditEvent(
            created_at=now,
            actor_label="sla",
            action=action,
            ticket_id=ticket.id,
            subject_type="ticket",
            subject_id=ticket.id,
            data=data,
        )
    )


def check_targets(
    session: Session, config: Mapping[str, Any], now: datetime | None = None
) -> CheckReport:
    """Warn before a breach and escalate at it, once each per target, bringing a snoozed
    ticket back to the queue at each (support.desk.waking); the caller commits.

    On a business calendar nobody is mailed outside opening hours (unless that target runs on
    calendar hours): the ticket is picked up by the first check in working time.
    """

    now = now or utcnow()
    report = CheckReport()
    due_now = or_(
        and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at <= now),
        and_(Ticket.first_response_at.is_not(None), Ticket.resolution_due_at <= now),
    )
    candidates = session.scalars(
        select(Ticket)
        .where(
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.sla_paused_at.is_(None),
            Ticket.merged_into_id.is_(None),
            or_(
                and_(Ticket.sla_warned_at.is_(None), Ticket.sla_warn_at <= now),
                and_(Ticket.sla_breached_at.is_(None), due_now),
            ),
        )
        .order_by(Ticket.urgency.desc(), Ticket.first_response_due_at, Ticket.id)
    ).all()
    for ticket in candidates:
        state = sla_state(ticket, now)
        if state not in ("due_soon", "breached"):
            continue
        if state == "breached" and ticket.sla_breached_at is not None:
            continue
        if state == "due_soon" and ticket.sla_warned_at is not None:
            continue
        targets = targets_for(ticket, config)
        if targets.calendar is not None and not is_working_time(now, targets.calendar):
            report.held_for_working_hours.append(ticket.id)
            continue
        target = "first_response" if ticket.first_response_at is None else "resolution"
        due = active_due_at(ticket)
        if state == "breached":
            recipients = send_escalation(session, ticket, config, now=now)
            ticket.sla_breached_at = now
            ticket.escalated_at = now
            if ticket.sla_warned_at is None:
                ticket.sla_warned_at = now
            _audit(
                session,
                ticket,
                "sla.escalated",
                now,
                target=target,
                due_at=due.isoformat() if due else None,
                notified=recipients,
            )
            report.escalated.append(ticket.id)
        else:
            recipients = send_sla_warning(session, ticket, config, now=now)
            ticket.sla_warned_at = now
            _audit(
                session,
                ticket,
                "sla.warned",
                now,
                target=target,
                due_at=due.isoformat() if due else None,
                notified=recipients,
            )
            report.warned.append(ticket.id)
        if ticket.snoozed_until is not None:
            # Hidden until the snooze ends would hide the breach: back in the queue now.
            wake(session, ticket, reason=f"target_{state}", now=now, config=config)
    for ticket in complaints.reports_due(session, now):
        recipients = send_progress_reminder(session, ticket, config)
        ticket.progress_reminded_at = now
        _audit(
            session,
            ticket,
            "complaint.progress_reminded",
            now,
            due_at=ticket.progress_due_at.isoformat() if ticket.progress_due_at else None,
            notified=recipients,
        )
        report.progress_reminded.append(ticket.id)
    if report.warned or report.escalated or report.progress_reminded:
        log.info("response targets: %s", report.summary())
    return report


def run_check(app: Flask, now: datetime | None = None) -> CheckReport:
    """One check in its own transaction (the periodic task and `support sla-check`)."""

    with app.app_context(), get_db(app).session() as session:
        return check_targets(session, app.config, now)


def services(app: Flask) -> list[PeriodicTask]:
    """The periodic response-target check for `support run`."""
    interval = max(5, int(app.config["SLA_CHECK_SECONDS"]))
    return [
        PeriodicTask("sla-check", interval, lambda: run_check(app)),
        PeriodicTask("notification-digest", interval, lambda: run_digests(app)),
    ]


def run_digests(app: Flask, now: datetime | None = None) -> int:
    """Digests of un-notified new tickets, in their own transaction (the periodic task)."""
    with app.app_context(), get_db(app).session() as session:
        return send_digests(session, app.config, now=now)
