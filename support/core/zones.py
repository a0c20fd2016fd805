"""How a time zone is named to a reader: Chinese readers know the mainland's as 北京时间, not
the programmer's ``Asia/Shanghai``; readers abroad convert from the UTC offset. Customers' mail,
their follow page, staff pages and staff notices name it the same way, so it lives in the core.

One rule for readers of Traditional characters, customers and staff alike: the mainland's zone
is ``UTC+8`` (the clock Taiwan, Hong Kong and Macau share), never 北京時間 nor a local city's
name, which would misname where the company is."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

# Names Chinese readers know the zone by; any other zone is shown by its IANA name only.
_ZH_ZONE_LABELS = {
    "Asia/Shanghai": "北京时间",
    "Asia/Chongqing": "北京时间",
    "Asia/Harbin": "北京时间",
    "PRC": "北京时间",
    "Asia/Hong_Kong": "香港时间",
    "Asia/Macau": "澳门时间",
    "Asia/Taipei": "台北时间",
    "Asia/Singapore": "新加坡时间",
    "Asia/Kuala_Lumpur": "吉隆坡时间",
    "Asia/Tokyo": "东京时间",
    "Asia/Seoul": "首尔时间",
    "Europe/London": "伦敦时间",
    "Europe/Berlin": "柏林时间",
    "Europe/Paris": "巴黎时间",
    "America/New_York": "纽约时间",
    "America/Los_Angeles": "洛杉矶时间",
    "Australia/Sydney": "悉尼时间",
    "UTC": "协调世界时",
}


#: The mainland's zone as a reader of Traditional characters (Taiwan, Hong Kong, Macau, abroad)
#: is told it when we do not know their own: the offset, not "Beijing time" (same clock).
_MAINLAND_ZONE_FOR_TRADITIONAL = "UTC+8"


def zone_for_traditional(tz_name: str) -> str:
    """`tz_name` as a reader of Traditional characters is told it: the mainland's zone as
    UTC+8 (the same clock, not "Beijing time"), any other by its name."""
    mainland = _ZH_ZONE_LABELS.get(tz_name) == _ZH_ZONE_LABELS["Asia/Shanghai"]
    return _MAINLAND_ZONE_FOR_TRADITIONAL if mainland else tz_name


def zone_text(tz_name: str, local: datetime, language: str, *, traditional: bool = False) -> str:
    """The zone of `local` (a time in `tz_name`) as a customer is told it, in the mail and on
    the follow page: English ``Asia/Shanghai, UTC+8``; Chinese by the name readers know it by,
    ``北京时间`` (not the programmer's ``Asia/Shanghai``), else ``Asia/Kolkata，UTC+5:30``; to a
    reader of Traditional characters the mainland's zone is ``UTC+8``."""
    offset = utc_offset_name(local)
    if language.split("-")[0] != "zh":
        return tz_name if offset == tz_name else f"{tz_name}, {offset}"
    if traditional and (shown := zone_for_traditional(tz_name)) != tz_name:
        return shown
    label = _ZH_ZONE_LABELS.get(tz_name)
    return label or (tz_name if offset == tz_name else f"{tz_name}，{offset}")


#: Offsets clocks on earth use, in minutes: UTC-12 (Baker Island) to UTC+14 (Line Islands).
UTC_OFFSET_MINUTES = range(-12 * 60, 14 * 60 + 1)
_OFFSET_NAME_RE = re.compile(r"UTC([+-])(\d{1,2})(?::(\d{2}))?")


def own_clock(offset_minutes: int | None) -> int | None:
    """`offset_minutes` when a clock on earth uses it (UTC_OFFSET_MINUTES), else None: what is
    kept of a sender's Date header, which anyone can write."""
    if isinstance(offset_minutes, int) and offset_minutes in UTC_OFFSET_MINUTES:
        return offset_minutes
    return None


def zone_named(name: str) -> tzinfo:
    """The zone called `name`: an IANA name (``Asia/Shanghai``) or a customer's own offset as
    ``readers_zone`` names it (``UTC-5``, ``UTC+5:30``). Raises ValueError or
    ZoneInfoNotFoundError for anything else, as ``ZoneInfo`` does."""
    found = _OFFSET_NAME_RE.fullmatch(name)
    if found is None:
        return ZoneInfo(name)
    minutes = int(found[2]) * 60 + int(found[3] or 0)
    minutes = -minutes if found[1] == "-" else minutes
    if minutes not in UTC_OFFSET_MINUTES:
        raise ValueError(f"no clock is {name}")
    return timezone(timedelta(minutes=minutes))


def readers_zone(company_zone: str, offset_minutes: int | None, moment: datetime) -> str:
    """The zone a customer is told a time in: their own clock's offset (``UTC-5``) when their
    mail's Date header gave one (``ParsedMail.date_offset_minutes``) that is not the company's
    at `moment`; the company's zone otherwise (no offset, or the same clock: 北京时间 stays)."""
    if offset_minutes is None or offset_minutes not in UTC_OFFSET_MINUTES:
        return company_zone
    try:
        company = moment.astimezone(zone_named(company_zone)).utcoffset()
    except (ValueError, KeyError):  # an unknown company zone: the formatting falls back to UTC
        company = None
    if company == timedelta(minutes=offset_minutes):
        return company_zone
    return utc_offset_name(moment.astimezone(timezone(timedelta(minutes=offset_minutes))))


def utc_offset_name(local: datetime) -> str:
    """ "UTC+8", "UTC+5:30", "UTC-5", "UTC": a reader abroad converts from the offset; a zone
    name alone ("Asia/Shanghai") left an English-writing customer to look it up."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
