"""A time's zone as a reader is told it (support.core.zones): the company's, or a customer's
own clock named by its offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from support.core.zones import own_clock, readers_zone, zone_named, zone_text

WINTER = datetime(2026, 12, 7, 15, 59, tzinfo=UTC)
SUMMER = datetime(2026, 7, 7, 15, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("offset", "moment", "zone"),
    [
        (-300, WINTER, "UTC-5"),
        (330, WINTER, "UTC+5:30"),
        (-570, WINTER, "UTC-9:30"),
        (840, WINTER, "UTC+14"),
        (480, WINTER, "Asia/Shanghai"),  # the company's own clock: 北京时间 stays
        (None, WINTER, "Asia/Shanghai"),
        (-780, WINTER, "Asia/Shanghai"),  # no clock on earth
        (900, WINTER, "Asia/Shanghai"),
    ],
)
def test_readers_zone(offset, moment, zone) -> None:
    assert readers_zone("Asia/Shanghai", offset, moment) == zone


def test_a_company_on_summer_time_and_a_customer_on_its_clock() -> None:
    assert readers_zone("Europe/London", 60, SUMMER) == "Europe/London"
    assert readers_zone("Europe/London", 60, WINTER) == "UTC+1"
    assert readers_zone("Europe/London", 0, WINTER) == "Europe/London"


@pytest.mark.parametrize("name", ["UTC-5", "UTC+5:30", "UTC+14", "UTC-12"])
def test_an_offset_zone_is_named_as_it_is_shown(name) -> None:
    local = WINTER.astimezone(zone_named(name))
    for language, traditional in (("en", False), ("zh", False), ("zh", True)):
        assert zone_text(name, local, language, traditional=traditional) == name
    assert local - WINTER == timedelta(0)


@pytest.mark.parametrize("name", ["UTC+15", "UTC-13", "UTC+5:99x", "Nowhere/Special"])
def test_no_zone_of_an_impossible_name(name) -> None:
    with pytest.raises((ValueError, KeyError)):
        zone_named(name)


def test_only_an_offset_a_clock_uses_is_kept_of_a_date_header() -> None:
    """What intake stores of a sender's Date header (anyone writes it): UTC-12 to UTC+14."""
    assert own_clock(-300) == -300 and own_clock(14 * 60) == 14 * 60 and own_clock(0) == 0
    assert own_clock(None) is None
    assert own_clock(14 * 60 + 1) is None and own_clock(-12 * 60 - 15) is None
    assert own_clock(10**9) is None
