"""The clock the customer's follow page tells times on, and when the personal answer is due.

The auto-reply promises the answer on the customer's own clock (``UTC-5``, from their mail's Date
header: ``zones.readers_zone``); the follow page showed the company's zone and no due time at
all. Both now read the same clock: a zone on record for the customer, else the offset of their
latest mail that had one (``Message.date_offset_minutes``), else the company's zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import object_session

from mailrouter.outbound.reply_templates import format_expected_by
from mailrouter.routing.decisions import REPEAT_LEVEL, SOURCE_ADDRESS, SOURCE_MODEL, SOURCE_RULES
from support.core.zones import readers_zone, zone_named, zone_text
from support.desk.business_time import add_working_time
from support.desk.customers import customers_offset
from support.desk.models import Department, Message, Ticket
from support.desk.sla import level_targets

#: Ticket states in which the customer still waits for a first personal answer.
_AWAITING_ANSWER = frozenset({"new", "open"})


@dataclass(frozen=True)
class FollowClock:
    """A zone as the follow page's reader is told it (language and script decided)."""

    zone_name: str
    zone: tzinfo
    language: str
    traditional: bool
    #: The customer's own clock, not the company's: times say "your time".
    own: bool

    def time(self, moment: datetime) -> str:
        """``2026-12-06 16:46 (Asia/Shanghai, UTC+8)``; ``2026-12-06 03:46（UTC-5）``."""
        local = moment.astimezone(self.zone)
        shown = zone_text(self.zone_name, local, self.language, traditional=self.traditional)
        around = "（{}）" if self.language == "zh" else " ({})"
        return f"{local:%Y-%m-%d %H:%M}" + around.format(shown)


def _clock(zone_name: str, language: str, traditional: bool, *, own: bool) -> FollowClock:
    try:
        zone = zone_named(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone_name, zone = "UTC", zone_named("UTC")
    return FollowClock(zone_name, zone, language, traditional, own)


def follow_clocks(
    ticket: Ticket,
    messages: Iterable[Message],
    config: Mapping[str, Any],
    *,
    language: str,
    traditional: bool,
    moment: datetime,
) -> tuple[FollowClock, FollowClock]:
    """The reader's clock and the company's (the same zone when the customer's is unknown or
    reads the same at `moment`)."""
    on_record = ticket.customer.timezone if ticket.customer is not None else None
    company = _clock(str(config["COMPANY_TIMEZONE"]), language, traditional, own=False)
    reader = readers_clock(
        on_record,
        customers_offset(messages),
        config,
        language=language,
        traditional=traditional,
        moment=moment,
    )
    return reader, company


def readers_clock(
    on_record: str | None,
    offset: int | None,
    config: Mapping[str, Any],
    *,
    language: str,
    traditional: bool,
    moment: datetime,
) -> FollowClock:
    """A zone on record, else the one a UTC offset in minutes reads at `moment`, else the
    company's. (The contact form's confirmation passes only its browser's offset: a zone on
    record would tell whose address was typed.)"""
    company_zone = str(config["COMPANY_TIMEZONE"])
    zone_name = on_record or readers_zone(company_zone, offset, moment)
    return _clock(zone_name, language, traditional, own=zone_name != company_zone)


def answer_due(ticket: Ticket) -> datetime | None:
    """When the first personal answer is due, while the customer still waits for it."""
    if ticket.first_response_at is not None or ticket.status not in _AWAITING_ANSWER:
        return None
    due = ticket.first_response_due_at
    return due.replace(tzinfo=UTC) if due is not None and due.tzinfo is None else due


#: Where a ticket's department came from what was typed: the form's choice or the words read.
_TYPED_SOURCES = frozenset({SOURCE_ADDRESS, SOURCE_MODEL, SOURCE_RULES})


def promised_answer(ticket: Ticket, config: Mapping[str, Any]) -> datetime | None:
    """When the first personal answer is due at the latest for a fresh question like the one
    that opened ``ticket``, from any address: what the contact form's confirmation promises.

    The ticket's own due time tells about the address typed into the form: a key account's
    tier shortens it (SLA_TIER_TARGETS), and an earlier report of the same problem from that
    address raises the level (`decisions.route_new_ticket`). So the promise is read from what
    was typed only: the level the words earned (the classification's ``base``), the department
    chosen or read from them, the time it arrived. Of that level and the level a repeat would
    raise it to, the later due time, untiered: the answer is due no later for anyone (a tier
    only ever shortens a target), and the promise never changes with the ticket's state
    (answered, merged, raised by the customer's next mail). The confirmation mail to the
    address tells its owner their own time. None when the decision is not on record.
    """
    session = object_session(ticket)
    classification = ticket.classification or {}
    base = (classification.get("urgency") or {}).get("base")
    if session is None or ticket.created_at is None or not isinstance(base, int):
        return None
    part = classification.get("department") or {}
    code = part.get("label") if part.get("source") in _TYPED_SOURCES else None
    # Routed later by the answer to our "what is your question?": not what the form said.
    if "from_message_id" in part:
        code = None
    department = session.scalar(select(Department).where(Department.code == code)) if code else None
    due = []
    for level in {base, max(base, REPEAT_LEVEL)}:
        targets = level_targets(session, level, department, config)
        due.append(add_working_time(ticket.created_at, targets.first_response, targets.calendar))
    return max(due)


def answer_by_text(due: datetime, clock: FollowClock, now: datetime) -> str:
    """The due time on the reader's clock: "tomorrow at 03:46, your time (UTC-5)" on their own
    clock, the auto-reply's "Monday 7 December 2026, 16:46 (Asia/Shanghai, UTC+8)" otherwise."""
    if not clock.own:
        return format_expected_by(
            due, clock.zone_name, clock.language, traditional=clock.traditional
        )
    local, today = due.astimezone(clock.zone), now.astimezone(clock.zone).date()
    clock_text = f"{local.hour:02d}:{local.minute:02d}"
    zone = zone_text(clock.zone_name, local, clock.language, traditional=clock.traditional)
    days = (local.date() - today).days
    if days == 0:
        return _("today at %(clock)s, your time (%(zone)s)", clock=clock_text, zone=zone)
    if days == 1:
        return _("tomorrow at %(clock)s, your time (%(zone)s)", clock=clock_text, zone=zone)
    when = format_expected_by(due, clock.zone_name, clock.language, traditional=clock.traditional)
    return _("%(when)s, your time", when=when)
