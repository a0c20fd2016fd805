"""The ticket page by keyboard and the customer's other open tickets, in a real browser
(Playwright + the system Chromium, CSRF on): an agent coming from Zendesk or Help Scout writes,
sends and moves on without the mouse, and merges a second mail about the same problem from the
top of the page, on a desktop and on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.desk.models import Message, Ticket
from tests.browser_tools import overflow_px, sign_in
from tests.factories import make_customer, make_ticket, make_user, same_matter_tickets
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


def test_reply_note_and_next_ticket_by_keyboard(page, live_server, session) -> None:  # noqa: F811
    make_user(session, email="agent@example.com", name="Andy")
    first = make_ticket(session, subject="Kettle", urgency=4, body="It never heats.")
    second = make_ticket(session, subject="Toaster", urgency=2, body="It burns the bread.")
    session.commit()
    second_id = second.id  # read now: a lazy load later holds SQLite's lock against the page
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{first.id}?queue=service")

    page.keyboard.press("r")
    reply = page.get_by_label("Reply to the customer")
    expect(reply).to_be_focused()
    # Letters typed in the box are text, not shortcuts ("j" would leave the page).
    page.keyboard.type("We are sending a new kettle today, just reply to this mail.")
    assert page.url.endswith(f"/staff/tickets/{first.id}?queue=service")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flash")).to_contain_text("Reply queued for sending")
    page.wait_for_load_state()  # app.js (deferred) listens from here on
    session.expire_all()
    sent = session.scalars(
        select(Message).where(Message.ticket_id == first.id, Message.direction == "out")
    ).all()
    assert [m.new_text or m.body_text for m in sent][0].startswith("We are sending a new kettle")
    session.rollback()  # no read transaction left open while the page writes (SQLite)

    page.keyboard.press("n")
    note = page.get_by_label("Internal note (never sent)")
    expect(note).to_be_focused()
    page.keyboard.type("Stock checked: one left in Shanghai.")
    page.keyboard.press("Escape")  # leaves the box; the text stays and "j" is a shortcut again
    expect(note).not_to_be_focused()
    expect(note).to_have_value("Stock checked: one left in Shanghai.")
    note.focus()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".flash")).to_contain_text("Note added")
    page.wait_for_load_state()
    session.expire_all()
    assert session.scalars(
        select(Message.body_text).where(Message.ticket_id == first.id, Message.direction == "note")
    ).all() == ["Stock checked: one left in Shanghai."]
    session.rollback()

    page.keyboard.press("Control+Enter")  # outside a text box: nothing is sent
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()

    page.keyboard.press("j")
    expect(page).to_have_url(re.compile(rf"/staff/tickets/{second_id}\?queue=service$"))
    page.wait_for_load_state()
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/staff/inbox/service$"))


def test_an_empty_box_sends_nothing_on_ctrl_enter(page, live_server, session) -> None:  # noqa: F811
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="Kettle")
    session.commit()
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket.id}")
    page.keyboard.press("r")
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    expect(page.locator(".flash")).to_have_count(0)
    session.expire_all()
    assert not session.scalars(
        select(Message).where(Message.ticket_id == ticket.id, Message.direction == "out")
    ).all()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_second_ticket_of_the_customer_is_merged_from_the_top(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
    width: int,
) -> None:
    make_user(session, email="agent@example.com", name="Andy")
    alice = make_customer(session, name="Alice Brown", email="alice@example.org")
    first, again = same_matter_tickets(
        session, alice, "Kettle stopped heating", "Kettle stopped heating (again)"
    )
    session.commit()
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 900})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{again.id}")

    notice = page.get_by_test_id("open-duplicates")
    expect(notice).to_contain_text(first.reference)
    reply_box = page.get_by_label("Reply to the customer").bounding_box()
    assert notice.bounding_box()["y"] < reply_box["y"]  # seen before the reply is written
    assert overflow_px(page) == 0
    notice.get_by_role("button", name=f"Merge this ticket into {first.reference}").click()
    # Asked first (support.staff.merges): the confirmation page says what moves where.
    expect(page.get_by_test_id("merge-confirm")).to_contain_text(again.reference)
    assert overflow_px(page) == 0
    page.get_by_role("button", name=f"Merge into {first.reference}").click()
    page.wait_for_url(f"**/staff/tickets/{first.id}?queue=service")
    expect(page.locator(".flash")).to_contain_text(f"Merged into {first.reference}")
    expect(page.get_by_test_id("open-duplicates")).to_have_count(0)
    session.expire_all()
    assert session.get(Ticket, again.id).merged_into_id == first.id


def test_the_inbox_shows_a_colleague_in_a_ticket(page, live_server, session) -> None:  # noqa: F811
    make_user(session, email="agent@example.com", name="Andy")
    make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session, subject="Kettle")
    other = make_ticket(session, subject="Toaster")
    session.commit()
    ticket_id, other_ref = ticket.id, other.reference
    colleague = page.context.browser.new_context(base_url=live_server, locale="en-US")
    try:
        mei = colleague.new_page()
        sign_in(mei, live_server, "mei@example.com", PASSWORD)
        mei.goto(f"/staff/tickets/{ticket_id}")
        expect(mei.get_by_test_id("ticket-live")).to_have_attribute("data-beats", "1")
        mei.keyboard.press("r")
        mei.keyboard.type("您好")  # typing: a heartbeat says "replying" after a pause
        expect(mei.get_by_test_id("ticket-live")).to_have_attribute("data-beats", "2")

        page.set_viewport_size({"width": 390, "height": 844})
        sign_in(page, live_server, "agent@example.com", PASSWORD)
        row = page.locator("tr", has=page.get_by_role("link", name="Kettle"))
        expect(row.get_by_test_id("busy")).to_have_text("Mei Chen is replying")
        expect(page.locator("tr", has_text=other_ref).get_by_test_id("busy")).to_have_count(0)
        assert overflow_px(page) == 0
    finally:
        colleague.close()
