"""Response-target clocks, driven by explicit timestamps (no wall clock involved)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from support.desk.business_time import (
    CALENDAR_HOURS,
    BusinessCalendar,
    add_working_time,
    calendar_from_config,
    due_at_with_pauses,
    due_state,
    elapsed_with_pauses,
    is_working_time,
    working_time_between,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def shanghai(*args: int) -> datetime:
    """A Shanghai wall-clock moment, as the UTC datetime the application stores."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def office() -> BusinessCalendar:
    """Mon-Fri 09:00-18:00 Shanghai, with Golden Week 2026 and its make-up working days."""
    return calendar_from_config(
        {
            "timezone": "Asia/Shanghai",
            "hours": {"mon-fri": "09:00-18:00"},
            "holidays": ["2026-10-01..2026-10-07"],
            "working_days": ["2026-09-27", "2026-10-10"],
        }
    )


# --- calendar hours ---------------------------------------------------------------------------


def test_calendar_hours_count_every_hour_and_return_utc() -> None:
    start_at = datetime(2026, 3, 6, 16, 0, tzinfo=SHANGHAI)  # Friday afternoon, local time
    due_at = add_working_time(start_at, 24 * HOUR, CALENDAR_HOURS)
    assert due_at == start_at + 24 * HOUR
    assert due_at.tzinfo is UTC
    assert working_time_between(start_at, due_at, None) == 24 * HOUR


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_time(datetime(2026, 3, 6, 16, 0), HOUR, None)


# --- business hours ---------------------------------------------------------------------------


def test_business_hours_skip_the_weekend(office: BusinessCalendar) -> None:
    # Friday 16:00 + 24 working hours: Fri 2h, Mon 9h, Tue 9h, Wed 4h.
    due_at = add_working_time(shanghai(2026, 3, 6, 16, 0), 24 * HOUR, office)
    assert due_at == shanghai(2026, 3, 11, 13, 0)
    assert due_at.tzinfo is UTC
    assert working_time_between(
        shanghai(2026, 3, 6, 17, 0), shanghai(2026, 3, 9, 10, 0), office
    ) == (2 * HOUR)


def test_target_running_out_at_closing_time_is_due_at_closing(office: BusinessCalendar) -> None:
    assert add_working_time(shanghai(2026, 3, 6, 9, 0), 9 * HOUR, office) == shanghai(
        2026, 3, 6, 18, 0
    )


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (shanghai(2026, 3, 7, 22, 0), shanghai(2026, 3, 9, 10, 0)),  # Saturday night
        (shanghai(2026, 3, 9, 7, 30), shanghai(2026, 3, 9, 10, 0)),  # Monday before opening
        (shanghai(2026, 3, 9, 18, 0), shanghai(2026, 3, 10, 10, 0)),  # Monday at closing
    ],
)
def test_clock_starts_at_the_next_opening(office: BusinessCalendar, start, due) -> None:
    assert add_working_time(start, HOUR, office) == due


def test_holidays_are_skipped(office: BusinessCalendar) -> None:
    # Wednesday 30 Sep 17:00 + 2h: one hour that day, then Golden Week, then Thursday 8 Oct.
    assert add_working_time(shanghai(2026, 9, 30, 17, 0), 2 * HOUR, office) == shanghai(
        2026, 10, 8, 10, 0
    )
    assert not is_working_time(shanghai(2026, 10, 5, 10, 0), office)  # a Monday in the holiday


def test_a_make_up_saturday_is_a_working_day(office: BusinessCalendar) -> None:
    friday_evening = shanghai(2026, 10, 9, 17, 0)
    assert add_working_time(friday_evening, 2 * HOUR, office) == shanghai(2026, 10, 10, 10, 0)
    plain = BusinessCalendar(timezone="Asia/Shanghai")
    assert add_working_time(friday_evening, 2 * HOUR, plain) == shanghai(2026, 10, 12, 10, 0)
    assert is_working_time(shanghai(2026, 9, 27, 10, 0), office)  # the make-up Sunday
    assert not is_working_time(shanghai(2026, 9, 20, 10, 0), office)  # an ordinary Sunday


def test_lunch_break_and_saturday_hours_from_config() -> None:
    calendar = calendar_from_config(
        {"hours": {"mon-fri": "09:00-12:00, 13:00-18:00", "sat": "10:00-14:00"}}
    )
    assert add_working_time(shanghai(2026, 3, 9, 11, 30), HOUR, calendar) == shanghai(
        2026, 3, 9, 13, 30
    )
    # Friday 17:00 + 3h: 1h Friday, 2h on Saturday morning.
    assert add_working_time(shanghai(2026, 3, 6, 17, 0), 3 * HOUR, calendar) == shanghai(
        2026, 3, 7, 12, 0
    )
    assert not is_working_time(shanghai(2026, 3, 9, 12, 30), calendar)


def test_is_working_time(office: BusinessCalendar) -> None:
    assert is_working_time(shanghai(2026, 3, 9, 10, 0), office)
    assert not is_working_time(shanghai(2026, 3, 9, 20, 0), office)  # Monday night
    assert not is_working_time(shanghai(2026, 3, 7, 10, 0), office)  # Saturday
    assert is_working_time(shanghai(2026, 3, 9, 3, 0), None)  # 24x7 never sleeps


# --- pauses -----------------------------------------------------------------------------------


def test_pause_and_resume_on_calendar_hours() -> None:
    start_at = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    pauses = [(start_at + HOUR, start_at + 25 * HOUR)]
    assert elapsed_with_pauses(start_at, start_at + 27 * HOUR, pauses, None) == 3 * HOUR
    # Still waiting on the customer: the clock stands still.
    ongoing = [(start_at + HOUR, None)]
    assert elapsed_with_pauses(start_at, start_at + 27 * HOUR, ongoing, None) == HOUR


def test_pause_and_resume_on_business_hours(office: BusinessCalendar) -> None:
    start_at = shanghai(2026, 3, 9, 9, 0)
    pauses = [(shanghai(2026, 3, 9, 10, 0), shanghai(2026, 3, 10, 10, 0))]
    # Monday 09-10 plus Tuesday 10-12; the paused night was outside hours anyway.
    assert elapsed_with_pauses(start_at, shanghai(2026, 3, 10, 12, 0), pauses, office) == 3 * HOUR


def test_overlapping_pauses_count_once() -> None:
    start_at = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    pauses = [
        (start_at + 2 * HOUR, start_at + 5 * HOUR),
        (start_at + 4 * HOUR, start_at + 6 * HOUR),
        (start_at - 3 * HOUR, start_at + HOUR),  # began before the clock started
    ]
    assert elapsed_with_pauses(start_at, start_at + 10 * HOUR, pauses, None) == 5 * HOUR


def test_due_time_moves_back_by_finished_pauses(office: BusinessCalendar) -> None:
    start_at = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    pauses = [(start_at + 2 * HOUR, start_at + 5 * HOUR)]
    assert due_at_with_pauses(start_at, 24 * HOUR, pauses, None) == start_at + 27 * HOUR
    assert due_at_with_pauses(start_at, 24 * HOUR, [(start_at + 2 * HOUR, None)], None) is None
    late_pause = [(start_at + 30 * HOUR, start_at + 40 * HOUR)]
    assert due_at_with_pauses(start_at, 24 * HOUR, late_pause, None) == start_at + 24 * HOUR

    # Business hours: Monday 09:00 + 9h, paused Monday 10:00 to Tuesday 10:00; 1h was used
    # before the pause, so the other 8h run from Tuesday 10:00 to closing time.
    business_pause = [(shanghai(2026, 3, 9, 10, 0), shanghai(2026, 3, 10, 10, 0))]
    due_at = due_at_with_pauses(shanghai(2026, 3, 9, 9, 0), 9 * HOUR, business_pause, office)
    assert due_at == shanghai(2026, 3, 10, 18, 0)
    assert (
        elapsed_with_pauses(shanghai(2026, 3, 9, 9, 0), due_at, business_pause, office) == 9 * HOUR
    )


# --- due state --------------------------------------------------------------------------------


def test_due_soon_at_75_percent_then_breached() -> None:
    start_at = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    due_at = add_working_time(start_at, 24 * HOUR, None)
    assert due_state(start_at, due_at, start_at + timedelta(hours=17, minutes=59)) == "on_track"
    assert due_state(start_at, due_at, start_at + 18 * HOUR) == "due_soon"
    assert due_state(start_at, due_at, start_at + 23 * HOUR) == "due_soon"
    assert due_state(start_at, due_at, start_at + 24 * HOUR) == "breached"
    assert due_state(start_at, due_at, start_at + 12 * HOUR, warn_fraction=0.5) == "due_soon"


def test_due_state_counts_working_time_not_wall_clock(office: BusinessCalendar) -> None:
    start_at = shanghai(2026, 3, 6, 16, 0)  # Friday
    due_at = add_working_time(start_at, 24 * HOUR, office)  # Wednesday 13:00
    # Monday evening: 84% of the wall-clock span has gone, but only 11 of 24 working hours.
    monday_evening = shanghai(2026, 3, 9, 18, 0)
    assert due_state(start_at, due_at, monday_evening, calendar=office) == "on_track"
    tuesday_evening = shanghai(2026, 3, 10, 18, 0)  # 20 of 24 working hours
    assert due_state(start_at, due_at, tuesday_evening, calendar=office) == "due_soon"
    assert due_state(start_at, due_at, due_at, calendar=office) == "breached"


def test_waiting_on_the_customer_does_not_breach() -> None:
    start_at = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)
    due_at = start_at + 24 * HOUR
    waiting = [(start_at + HOUR, None)]
    assert due_state(start_at, due_at, start_at + 30 * HOUR, paused=waiting) == "on_track"
    assert due_state(start_at, due_at, start_at + 30 * HOUR) == "breached"


# --- daylight saving (Europe/Berlin: 29 Mar 2026 02:00 -> 03:00, 25 Oct 2026 03:00 -> 02:00) ---


def test_calendar_hours_across_dst_are_real_hours() -> None:
    start_at = berlin(2026, 3, 28, 12, 0)
    due_at = add_working_time(start_at, 24 * HOUR, None)
    assert due_at.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 13, 0)


def test_business_hours_open_at_local_nine_after_dst() -> None:
    calendar = BusinessCalendar(timezone="Europe/Berlin")
    due_at = add_working_time(berlin(2026, 3, 27, 17, 0), 2 * HOUR, calendar)
    assert due_at == berlin(2026, 3, 30, 10, 0)
    assert due_at == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # CEST is UTC+2 now
    assert is_working_time(datetime(2026, 3, 30, 7, 0, tzinfo=UTC), calendar)  # 09:00 CEST
    assert not is_working_time(datetime(2026, 3, 27, 7, 0, tzinfo=UTC), calendar)  # 08:00 CET


def test_round_the_clock_calendar_has_short_and_long_dst_days() -> None:
    calendar = calendar_from_config(
        {"timezone": "Europe/Berlin", "hours": {"mon-sun": "00:00-24:00"}}
    )
    spring = working_time_between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0), calendar)
    autumn = working_time_between(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0), calendar)
    assert (spring, autumn) == (23 * HOUR, 25 * HOUR)
    start_at = berlin(2026, 3, 28, 12, 0)
    assert add_working_time(start_at, 24 * HOUR, calendar) == start_at + 24 * HOUR


# --- configuration ----------------------------------------------------------------------------


def test_config_builds_the_calendar(office: BusinessCalendar) -> None:
    assert office.timezone == "Asia/Shanghai"
    assert office.weekly_hours[0] == ((time(9), time(18)),)
    assert 5 not in office.weekly_hours
    assert date(2026, 10, 4) in office.holidays and len(office.holidays) == 7
    assert office.working_days == {date(2026, 9, 27), date(2026, 10, 10)}
    assert hash(office) == hash(
        calendar_from_config(
            {
                "hours": {"mon-fri": "09:00-18:00"},
                "holidays": ["2026-10-01..2026-10-07"],
                "working_days": ["2026-10-10", "2026-09-27"],
            }
        )
    )


@pytest.mark.parametrize("config", [None, {}])
def test_empty_config_means_calendar_hours(config) -> None:
    assert calendar_from_config(config) is CALENDAR_HOURS


def test_config_without_hours_uses_weekday_office_hours() -> None:
    calendar = calendar_from_config({"timezone": "Asia/Shanghai"})
    assert calendar == BusinessCalendar()
    assert calendar.weekly_hours[4] == ((time(9), time(18)),)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"holiday": ["2026-10-01"]}, "unknown business calendar key.*holiday"),
        ({"hours": {"mon-fri": "9-18"}}, "'9-18' is not a time range"),
        ({"hours": {"funday": "09:00-18:00"}}, "unknown day 'funday'"),
        ({"hours": {"fri-mon": "09:00-18:00"}}, "runs backwards"),
        (
            {"hours": {"mon-fri": "09:00-18:00", "fri": "09:00-17:00"}},
            "fri is given more than once",
        ),
        ({"hours": {"mon": "18:00-09:00"}}, "must end after it starts"),
        ({"hours": {"mon": "09:00-13:00, 12:00-18:00"}}, "overlap at 12:00"),
        ({"hours": {"mon": "09:00-25:00"}}, "impossible time"),
        ({"hours": {"sat-sun": "closed"}}, "at least one weekday"),
        ({"holidays": ["2026-13-01"]}, "'2026-13-01' is not a date"),
        ({"holidays": "2026-10-01"}, "must be a list of dates"),
        ({"holidays": ["2026-10-07..2026-10-01"]}, "ends before it starts"),
        ({"holidays": ["2026-10-10"], "working_days": ["2026-10-10"]}, "both a holiday"),
    ],
)
def test_config_errors_are_clear(config, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        calendar_from_config(config)
