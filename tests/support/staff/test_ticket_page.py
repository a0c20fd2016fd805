"""The ticket page's conversation, server-rendered."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import fast_passwords, login

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_conversation_times_name_their_offset(client, session, lang: str) -> None:
    # A trial: the conversation's times showed no zone (only the side column named it), so a
    # colleague abroad read 18:00 as their own. Compact, for a 390 px phone: "UTC+8".
    make_user(session, email="agent@example.com")
    ticket = make_ticket(session, subject="Kettle", body="It never heats.")
    session.commit()
    login(client, "agent@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}?lang={lang}").get_data(as_text=True)
    message = page.partition('class="card message in"')[2].partition("</header>")[0]
    assert re.search(
        r"<time [^>]*>\d{4}-\d\d-\d\d \d\d:\d\d <span[^>]*>UTC\+8</span></time>", message
    )
