"""Due times in a real browser, on a desktop and on a phone, in English, Simplified and
Traditional Chinese: a "due soon" row and an on-track row say the time left alike (a row said
還剩 13 分鐘 while the next said 23 小時 14 分鐘後), on the inbox's rows and cards and on the
ticket page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from support.core.db import utcnow
from support.desk.sla import start_clock
from tests.browser_tools import overflow_px
from tests.factories import make_ticket, make_user
from tests.support.staff.test_presence_browser import DESKTOP, PHONE, _agent, site  # noqa: F401

pytestmark = pytest.mark.browser

#: Each language's one phrasing, numbers left out.
LEFT = {
    "en": re.compile(r"^(\d+ h )?\d+ min left$"),
    "zh": re.compile(r"^还剩 (\d+ 小时 )?\d+ 分钟$"),
    "zh-TW": re.compile(r"^還剩 (\d+ 小時 )?\d+ 分鐘$"),
}


@pytest.mark.parametrize("lang", ["en", "zh", "zh-TW"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_due_soon_and_on_track_say_the_time_left_alike(site, session, app, viewport, lang) -> None:  # noqa: F811
    agent = make_user(session, email="agent@example.com", name="Andy")
    if lang == "zh-TW":
        agent.language = "zh-Hant"
    now = utcnow()
    soon = make_ticket(  # 13 of its 240 minutes left: "due soon"
        session, subject="Fan smoking", urgency=4, created_at=now - timedelta(minutes=227)
    )
    on_track = make_ticket(  # 23 h 14 min of its 24 h left
        session, subject="Kettle slow", urgency=2, created_at=now - timedelta(minutes=46)
    )
    for ticket in (soon, on_track):
        start_clock(ticket, app.config, now=ticket.created_at)
    session.commit()
    soon_id = soon.id
    page = _agent(site, "agent@example.com", viewport=viewport, lang=lang[:2])
    page.goto("/staff/inbox/service")
    due = page.locator("table.inbox td.due .muted")
    expect(due).to_have_count(2)
    texts = [" ".join(t.split()) for t in due.all_inner_texts()]
    assert all(LEFT[lang].match(t) for t in texts), texts
    badge = page.get_by_test_id("due-in")
    expect(badge).to_have_count(1)
    assert LEFT[lang].match(" ".join(badge.inner_text().split()))
    assert overflow_px(page) == 0
    page.screenshot(path=f"/tmp/agentpolish-{lang}-{viewport['width']}-due-inbox.png")

    page.goto(f"/staff/tickets/{soon_id}")
    head = " ".join(page.get_by_test_id("head-due-in").inner_text().split()).strip("()（） ")
    assert LEFT[lang].match(head), head
    card = " ".join(page.get_by_test_id("due-time").inner_text().split())
    assert re.search(r"[(（]" + LEFT[lang].pattern[1:-1] + r"[)）]$", card), card
    assert overflow_px(page) == 0
