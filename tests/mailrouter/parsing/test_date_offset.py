"""The sender's UTC offset from the Date header (hostile input: bounded, real offsets only)."""

from __future__ import annotations

import pytest

from mailrouter.parsing import parse_message
from mailrouter.parsing.headers import sender_utc_offset


@pytest.mark.parametrize(
    ("header", "minutes"),
    [
        ("Mon, 7 Dec 2026 10:00:00 -0500", -300),
        ("Mon, 7 Dec 2026 10:00:00 +0545", 345),
        ("Mon, 7 Dec 2026 10:00:00 EST", -300),
        ("Mon, 7 Dec 2026 10:00:00 +0000", None),
        ("Mon, 7 Dec 2026 10:00:00 -0000", None),
        ("Mon, 7 Dec 2026 10:00:00", None),
        ("Mon, 7 Dec 2026 10:00:00 +1401", None),
        ("Mon, 7 Dec 2026 10:00:00 -1215", None),
        ("Mon, 7 Dec 2026 10:00:00 +2400", None),
        ("", None),
        (None, None),
        ("Mon, 7 Dec 2026 10:00:00 -0500" + " (comment)" * 100_000, -300),
        ("\x00" * 10_000, None),
    ],
)
def test_the_senders_offset_from_the_date_header(header, minutes) -> None:
    assert sender_utc_offset(header) == minutes


def test_a_parsed_mail_carries_the_offset() -> None:
    raw = b"From: a@example.org\r\nDate: Mon, 7 Dec 2026 10:00:00 -0330\r\nSubject: x\r\n\r\nhi\r\n"
    assert parse_message(raw).date_offset_minutes == -210
    assert (
        parse_message(b"From: a@example.org\r\nSubject: x\r\n\r\nhi\r\n").date_offset_minutes
        is None
    )
