"""Response-target clock arithmetic: calendar hours (24x7) or a business calendar.

A target such as "first reply within 24 hours" means 24 real hours by default. A company may
instead count only its opening hours, skipping weekends, public holidays, and counting the
weekend days Chinese companies work to make up for long holidays. Everything here takes and
returns timezone-aware UTC datetimes; local wall-clock time only exists inside, so opening
hours stay right across daylight-saving changes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

DueState = Literal["on_track", "due_soon", "breached"]
Pause = tuple[datetime, datetime | None]

#: Pass as ``calendar`` to count every hour of every day (the default behaviour).
CALENDAR_HOURS: None = None

_NINE_TO_SIX = ((time(9), time(18)),)
_MIDNIGHT = time(0)
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _default_weekly_hours() -> dict[int, tuple[tuple[time, time], ...]]:
    return {weekday: _NINE_TO_SIX for weekday in range(5)}


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours of a support team, in its own timezone.

    ``weekly_hours`` maps a weekday (0 = Monday) to open intervals; an interval ending at
    00:00 runs until midnight. ``working_days`` are normally-closed days (a Saturday before
    Golden Week) that open with the regular weekday hours of the first weekday that has any.
    """

    timezone: str = "Asia/Shanghai"
    weekly_hours: Mapping[int, Sequence[tuple[time, time]]] = field(
        default_factory=_default_weekly_hours
    )
    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        normalized: dict[int, tuple[tuple[time, time], ...]] = {}
        for weekday, intervals in self.weekly_hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
            normalized[weekday] = _checked_intervals(_WEEKDAY_NAMES[weekday], intervals)
        if not any(normalized.values()):
            raise ValueError("a business calendar needs opening hours on at least one weekday")
        both = self.holidays & self.working_days
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"dates cannot be both a holiday and a working day: {days}")
        object.__setattr__(self, "weekly_hours", normalized)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "working_days", frozenset(self.working_days))

    def __hash__(self) -> int:
        return hash(
            (
                self.timezone,
                tuple(sorted(self.weekly_hours.items())),
                self.holidays,
                self.working_days,
            )
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """Open intervals (local wall-clock times) on one local date."""
        if day in self.holidays:
            return ()
        if day in self.working_days:
            return self._make_up_day_hours()
        return tuple(self.weekly_hours.get(day.weekday(), ()))

    def _make_up_day_hours(self) -> tuple[tuple[time, time], ...]:
        for weekday in range(7):
            if self.weekly_hours.get(weekday):
                return tuple(self.weekly_hours[weekday])
        return ()  # unreachable: __post_init__ guarantees some hours


def _checked_intervals(
    day_name: str, intervals: Sequence[tuple[time, time]]
) -> tuple[tuple[time, time], ...]:
    ordered = sorted(((opens, closes) for opens, closes in intervals), key=lambda pair: pair[0])
    for opens, closes in ordered:
        if not isinstance(opens, time) or not isinstance(closes, time):
            raise ValueError(f"{day_name}: opening hours must be datetime.time pairs")
    previous_end: time | None = None
    for opens, closes in ordered:
        if closes != _MIDNIGHT and closes <= opens:
            raise ValueError(
                f"{day_name}: interval {opens:%H:%M}-{closes:%H:%M} must end after it starts "
                "(split overnight shifts across two days)"
            )
        if previous_end is not None and (previous_end == _MIDNIGHT or opens < previous_end):
            raise ValueError(f"{day_name}: opening hours overlap at {opens:%H:%M}")
        previous_end = closes
    return tuple(ordered)


def _require_aware(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}")
    return moment.astimezone(UTC)


def _local_moment(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _open_intervals(
    calendar: BusinessCalendar, start_at: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Yield UTC open intervals that end after ``start_at``, in order, without end.

    Local wall times in a daylight-saving gap resolve with the pre-transition offset, so an
    interval is never reversed; the actual duration of a day is respected.
    """
    zone = calendar.zone
    day = start_at.astimezone(zone).date() - timedelta(days=1)  # an interval may cross UTC days
    while True:
        for opens, closes in calendar.hours_on(day):
            opens_at = _local_moment(day, opens, zone)
            if closes == _MIDNIGHT:
                closes_at = _local_moment(day + timedelta(days=1), _MIDNIGHT, zone)
            else:
                closes_at = _local_moment(day, closes, zone)
            if closes_at > start_at and closes_at > opens_at:
                yield opens_at, closes_at
        day += timedelta(days=1)


def _merged_pauses(pauses: Sequence[Pause], now_at: datetime) -> list[tuple[datetime, datetime]]:
    """Closed, sorted, non-overlapping pause intervals; an open pause lasts until ``now_at``."""
    closed = []
    for paused_at, resumed_at in pauses:
        begin = _require_aware("pause start", paused_at)
        end = now_at if resumed_at is None else _require_aware("pause end", resumed_at)
        if end > begin:
            closed.append((begin, end))
    closed.sort()
    merged: list[tuple[datetime, datetime]] = []
    for begin, end in closed:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


def add_working_time(
    start: datetime, duration: timedelta, calendar: BusinessCalendar | None = CALENDAR_HOURS
) -> datetime:
    """When a target of ``duration`` working time, started at ``start``, falls due (UTC).

    Outside opening hours the clock starts at the next opening; a target that runs out exactly
    at closing time is due at closing time, not the next morning.
    """
    start_at = _require_aware("start", start)
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    if calendar is None:
        return start_at + duration
    remaining = duration
    for opens_at, closes_at in _open_intervals(calendar, start_at):
        counting_from = max(opens_at, start_at)
        if counting_from + remaining <= closes_at:
            return counting_from + remaining
        remaining -= closes_at - counting_from
    raise AssertionError("unreachable: open intervals never run out")


def add_working_days(
    start: datetime, days: int, calendar: BusinessCalendar | None = CALENDAR_HOURS
) -> datetime:
    """The same local time ``days`` working days after ``start`` (UTC): "within three working
    days" as a person reads it. Holidays and closed days do not count; a time outside that
    day's opening hours moves to its opening (before) or closing (after); outside opening hours
    the count starts at the next opening. Without a calendar, plain days.
    """
    start_at = _require_aware("start", start)
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    if calendar is None:
        return start_at + timedelta(days=days)
    if not is_working_time(start_at, calendar):  # the clock starts at the next opening
        start_at = add_working_time(start_at, timedelta(0), calendar)
    zone = calendar.zone
    local = start_at.astimezone(zone)
    day, counted = local.date(), 0
    for _ in range(days * 7 + 400):  # bounded: a calendar has open days every week
        if counted == days:
            break
        day += timedelta(days=1)
        if calendar.hours_on(day):
            counted += 1
    hours = calendar.hours_on(day)
    opens, closes = _local_moment(day, hours[0][0], zone), _local_moment(day, hours[-1][1], zone)
    if hours[-1][1] == time(0, 0):
        closes = _local_moment(day + timedelta(days=1), time(0, 0), zone)
    wanted = _local_moment(day, local.time().replace(tzinfo=None), zone)
    return min(max(wanted, opens), closes)


def working_time_between(
    start: datetime, end: datetime, calendar: BusinessCalendar | None = CALENDAR_HOURS
) -> timedelta:
    """Working time from ``start`` to ``end``; zero when ``end`` is not after ``start``."""
    start_at = _require_aware("start", start)
    end_at = _require_aware("end", end)
    if end_at <= start_at:
        return timedelta(0)
    if calendar is None:
        return end_at - start_at
    total = timedelta(0)
    for opens_at, closes_at in _open_intervals(calendar, start_at):
        if opens_at >= end_at:
            break
        total += min(closes_at, end_at) - max(opens_at, start_at)
    return total


def elapsed_with_pauses(
    start: datetime,
    now: datetime,
    pauses: Sequence[Pause],
    calendar: BusinessCalendar | None = CALENDAR_HOURS,
) -> timedelta:
    """Working time used since ``start``, not counting pauses (waiting on the customer).

    A pause without an end is still running. Overlapping pauses are counted once.
    """
    start_at = _require_aware("start", start)
    now_at = _require_aware("now", now)
    elapsed = working_time_between(start_at, now_at, calendar)
    for paused_at, resumed_at in _merged_pauses(pauses, now_at):
        begin, end = max(paused_at, start_at), min(resumed_at, now_at)
        elapsed -= working_time_between(begin, end, calendar)
    return elapsed


def due_at_with_pauses(
    start: datetime,
    target: timedelta,
    pauses: Sequence[Pause],
    calendar: BusinessCalendar | None = CALENDAR_HOURS,
) -> datetime | None:
    """The due time pushed back by finished pauses; ``None`` while a pause is still running.

    The clock runs only in opening hours outside pauses, so this is where
    :func:`elapsed_with_pauses` reaches ``target``.
    """
    start_at = _require_aware("start", start)
    if any(resumed_at is None for _, resumed_at in pauses):
        return None
    remaining, cursor = target, start_at
    for paused_at, resumed_at in _merged_pauses(pauses, start_at):
        if resumed_at <= cursor:
            continue
        if paused_at > cursor:
            due_at = add_working_time(cursor, remaining, calendar)
            if due_at <= paused_at:
                return due_at
            remaining -= working_time_between(cursor, paused_at, calendar)
        cursor = resumed_at
    return add_working_time(cursor, remaining, calendar)


#: The shortest "due soon" warning on a target of an hour or more: a quarter of a 60-minute
#: emergency (15 minutes) is too little to act on. A shorter target warns at its half.
MIN_WARNING = timedelta(minutes=30)


def warn_after(target: timedelta, warn_fraction: float) -> timedelta:
    """How much of a target is used up when it becomes "due soon": ``warn_fraction`` of it
    (the last quarter of a 24-hour target: 6 hours), but never less than ``MIN_WARNING`` (nor
    more than half the target) before its end. The one definition: the stored warn time
    (support.desk.sla), so the badge, the inbox and dashboard counts and the warning mail."""
    window = max(target * (1 - warn_fraction), min(MIN_WARNING, target / 2))
    return target - window


def due_state(
    started_at: datetime,
    due_at: datetime,
    now: datetime,
    *,
    warn_fraction: float = 0.75,
    paused: Sequence[Pause] = (),
    calendar: BusinessCalendar | None = CALENDAR_HOURS,
) -> DueState:
    """Where a target stands: ``due_soon`` once :func:`warn_after` of it is used up.

    ``due_at`` is the original due time (from :func:`add_working_time`); ``paused`` holds the
    waiting-on-customer intervals, which do not use up the target. Pass the same ``calendar``
    that computed ``due_at`` so "75 %" means 75 % of working time, not of wall-clock time.
    """
    if not 0 < warn_fraction <= 1:
        raise ValueError(f"warn_fraction must be in (0, 1], got {warn_fraction}")
    now_at = _require_aware("now", now)
    target = working_time_between(started_at, due_at, calendar)
    if target <= timedelta(0):  # degenerate target: only the due time itself counts
        return "breached" if now_at >= _require_aware("due_at", due_at) else "on_track"
    elapsed = elapsed_with_pauses(started_at, now_at, paused, calendar)
    if elapsed >= target:
        return "breached"
    if elapsed >= warn_after(target, warn_fraction):
        return "due_soon"
    return "on_track"


def is_working_time(moment: datetime, calendar: BusinessCalendar | None = CALENDAR_HOURS) -> bool:
    """Whether ``moment`` is inside opening hours (always true for calendar hours).

    Used to hold back reminders at night and on holidays for teams on a business calendar.
    """
    moment_at = _require_aware("moment", moment)
    if calendar is None:
        return True
    opens_at, _ = next(_open_intervals(calendar, moment_at))
    return opens_at <= moment_at


# --- configuration -------------------------------------------------------------------------

_CONFIG_KEYS = {"timezone", "hours", "holidays", "working_days"}
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_CLOSED = {"", "closed", "off", "none"}


def calendar_from_config(mapping: Mapping[str, Any] | None) -> BusinessCalendar | None:
    """Build a calendar from settings; ``None`` or ``{}`` means calendar hours (24x7).

    Example::

        {"timezone": "Asia/Shanghai",
         "hours": {"mon-fri": "09:00-12:00, 13:00-18:00", "sat": "10:00-14:00"},
         "holidays": ["2026-10-01..2026-10-07"], "working_days": ["2026-09-27"]}

    Without ``hours`` the calendar is Monday to Friday, 09:00-18:00.
    """
    if not mapping:
        return CALENDAR_HOURS
    if not isinstance(mapping, Mapping):
        raise ValueError(
            f"business calendar config must be a mapping, got {type(mapping).__name__}"
        )
    unknown = set(mapping) - _CONFIG_KEYS
    if unknown:
        raise ValueError(
            f"unknown business calendar key(s): {', '.join(sorted(map(str, unknown)))}; "
            f"expected {', '.join(sorted(_CONFIG_KEYS))}"
        )
    timezone = mapping.get("timezone", "Asia/Shanghai")
    if not isinstance(timezone, str):
        raise ValueError(f"timezone must be a name such as 'Asia/Shanghai', got {timezone!r}")
    kwargs: dict[str, Any] = {
        "timezone": timezone,
        "holidays": _parse_dates("holidays", mapping.get("holidays", ())),
        "working_days": _parse_dates("working_days", mapping.get("working_days", ())),
    }
    if "hours" in mapping:
        kwargs["weekly_hours"] = _parse_weekly_hours(mapping["hours"])
    return BusinessCalendar(**kwargs)


def _parse_weekly_hours(hours: Any) -> dict[int, tuple[tuple[time, time], ...]]:
    if not isinstance(hours, Mapping):
        raise ValueError('hours must map days to times, e.g. {"mon-fri": "09:00-18:00"}')
    weekly: dict[int, tuple[tuple[time, time], ...]] = {}
    for day_spec, spec in hours.items():
        intervals = _parse_intervals(str(day_spec), spec)
        for weekday in _parse_days(str(day_spec)):
            if weekday in weekly:
                raise ValueError(f"hours: {_WEEKDAY_NAMES[weekday]} is given more than once")
            weekly[weekday] = intervals
    return weekly


def _parse_days(spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        begin, end = _weekday(first, spec), _weekday(last or first, spec)
        if end < begin:
            raise ValueError(f"hours: day range {part!r} runs backwards; write e.g. 'mon-fri'")
        days.extend(range(begin, end + 1))
    return days


def _weekday(name: str, spec: str) -> int:
    for index, short in enumerate(_WEEKDAY_NAMES):
        if name in (short, _WEEKDAY_FULL_NAMES[index]):
            return index
    raise ValueError(f"hours: unknown day {name!r} in {spec!r}; use mon, tue, ... sun")


def _parse_intervals(day_spec: str, spec: Any) -> tuple[tuple[time, time], ...]:
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in _CLOSED):
        return ()
    parts = spec.split(",") if isinstance(spec, str) else spec
    if not isinstance(parts, Sequence):
        raise ValueError(f"hours for {day_spec!r}: expected text like '09:00-18:00', got {spec!r}")
    intervals = []
    for part in parts:
        match = _HOURS_RE.match(str(part))
        if not match:
            raise ValueError(
                f"hours for {day_spec!r}: {part!r} is not a time range like '09:00-18:00'"
            )
        open_h, open_m, close_h, close_m = (int(group) for group in match.groups())
        intervals.append(
            (_clock(day_spec, open_h, open_m, part), _clock(day_spec, close_h, close_m, part))
        )
    return _checked_intervals(day_spec, intervals)


def _clock(day_spec: str, hour: int, minute: int, part: Any) -> time:
    if (hour, minute) == (24, 0):
        return _MIDNIGHT
    if hour > 23 or minute > 59:
        raise ValueError(f"hours for {day_spec!r}: {part!r} has an impossible time of day")
    return time(hour, minute)


def _parse_dates(key: str, values: Any) -> frozenset[date]:
    if isinstance(values, str | date) or not isinstance(values, Sequence | set | frozenset):
        raise ValueError(f"{key} must be a list of dates like '2026-10-01', got {values!r}")
    days: set[date] = set()
    for value in values:
        if isinstance(value, datetime):
            raise ValueError(f"{key}: {value!r} is a datetime; give a date")
        if isinstance(value, date):
            days.add(value)
            continue
        first, sep, last = str(value).partition("..")
        begin = _iso_date(key, first)
        if not sep:
            days.add(begin)
            continue
        end = _iso_date(key, last)
        if end < begin:
            raise ValueError(f"{key}: range {value!r} ends before it starts")
        days.update(begin + timedelta(days=n) for n in range((end - begin).days + 1))
    return frozenset(days)


def _iso_date(key: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{key}: {text!r} is not a date; use YYYY-MM-DD or a range YYYY-MM-DD..YYYY-MM-DD"
        ) from None


@lru_cache(maxsize=8)
def _calendar_from_json(encoded: str, default_timezone: str) -> BusinessCalendar | None:
    mapping = json.loads(encoded)
    if mapping and "timezone" not in mapping:
        mapping["timezone"] = default_timezone
    return calendar_from_config(mapping)


def business_calendar(config: Mapping[str, Any]) -> BusinessCalendar | None:
    """The configured business calendar, or None for calendar hours."""
    raw = config.get("SLA_BUSINESS_CALENDAR") or {}
    try:
        return _calendar_from_json(
            json.dumps(raw, sort_keys=True, default=str),
            config.get("COMPANY_TIMEZONE", "Asia/Shanghai"),
        )
    except ValueError as exc:
        raise ValueError(f"SLA_BUSINESS_CALENDAR: {exc}") from None
