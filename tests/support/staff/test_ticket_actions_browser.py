"""The ticket's everyday actions at the top of its page, in a real browser (Playwright + the
system Chromium, CSRF on): "Take it" and "Resolve" sat in the side column below the customer,
the response target and the classification cards, a screen and a half down at 1366x900 and
three screens down on a phone. Help Scout and Front keep them in the ticket's top bar; here
they are in its head, and by keyboard: `a` takes the ticket, `e` resolves it (asking first
when a reply is written and not sent), `t` goes to the tag box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.desk.models import Ticket
from tests.browser_tools import overflow_px, sign_in
from tests.factories import make_ticket, make_user
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser

LONG_MAIL = "The dishwasher beeps three times and stops in the middle of the programme. " * 12


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


def _in_first_screen(tab, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] + box["height"] <= tab.viewport_size["height"]


@pytest.mark.parametrize(
    ("width", "height", "locale", "take", "resolve"),
    [
        (1366, 900, "en-US", "Take it", "Resolve"),
        (390, 844, "en-US", "Take it", "Resolve"),
        (390, 844, "zh-CN", "由我处理", "解决"),
    ],
)
def test_take_and_resolve_are_on_the_first_screen(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
    width: int,
    height: int,
    locale: str,
    take: str,
    resolve: str,
) -> None:
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="Dishwasher beeps", body=LONG_MAIL)
    session.commit()
    ticket_id = ticket.id
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}?queue=service&lang={locale[:2]}")

    bar = page.get_by_test_id("ticket-actions")
    take_button = bar.get_by_role("button", name=take, exact=True)
    resolve_button = bar.get_by_role("button", name=resolve, exact=True)
    assert _in_first_screen(page, take_button)
    assert _in_first_screen(page, resolve_button)
    assert overflow_px(page) == 0
    # Once each: the side column keeps assign, move, urgency, snooze and merge, not a second set.
    expect(page.get_by_role("button", name=take, exact=True)).to_have_count(1)
    expect(page.get_by_role("button", name=resolve, exact=True)).to_have_count(1)

    take_button.click()
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("Andy")
    expect(bar.get_by_role("button", name=take, exact=True)).to_have_count(0)
    page.get_by_test_id("ticket-actions").get_by_role("button", name=resolve, exact=True).click()
    expect(page.get_by_test_id("ticket-status")).to_have_text(
        "resolved" if locale == "en-US" else "已解决"
    )
    session.expire_all()
    assert session.get(Ticket, ticket_id).status == "resolved"


def test_take_resolve_and_tag_by_keyboard(page, live_server, session) -> None:  # noqa: F811
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="Kettle", body="It never heats.")
    session.commit()
    ticket_id = ticket.id
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}?queue=service")
    page.wait_for_load_state()
    # The hint line under the ticket's head names the keys of the head's actions too.
    expect(page.locator(".kbd-hint")).to_contain_text("a to take, e to resolve")

    page.keyboard.press("a")
    expect(page.locator(".flash")).to_contain_text("The ticket is yours.")
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("Andy")
    page.wait_for_load_state()

    page.keyboard.press("t")
    tag_box = page.get_by_placeholder("Add a tag")
    expect(tag_box).to_be_focused()
    page.keyboard.type("refund")  # letters in the box are text, not shortcuts
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("ticket-tags")).to_contain_text("refund")
    page.wait_for_load_state()

    # A reply written and not sent: `e` asks first, and "Cancel" keeps the ticket open.
    page.keyboard.press("r")
    page.keyboard.type("We will send a new kettle.")
    page.keyboard.press("Escape")
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.keyboard.press("e")
    page.wait_for_timeout(300)
    assert asked and "not sent" in asked[0]
    expect(page.get_by_test_id("ticket-status")).to_have_text("open")
    session.expire_all()
    assert session.get(Ticket, ticket_id).status == "open"
    session.rollback()

    page.get_by_label("Reply to the customer").fill("")
    page.keyboard.press("Escape")  # out of the box: "e" is a shortcut again
    page.keyboard.press("e")
    expect(page.get_by_test_id("ticket-status")).to_have_text("resolved")
    page.wait_for_load_state()
    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_box).to_contain_text("Take the ticket")
    expect(help_box).to_contain_text("Resolve the ticket")
    session.expire_all()
    assert session.get(Ticket, ticket_id).status == "resolved"


def test_an_english_reply_to_a_chinese_mail_asks_first_on_a_phone(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
) -> None:
    """By keyboard, the way the mistake was made: r, English text, Ctrl+Enter; the page says
    why it was not sent, next to the reply box, and "Send anyway" (发送) sends it."""
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="电暖器冒烟", body="刚买的电暖器插头冒烟，请尽快联系我！")
    ticket.messages[0].language = "zh"
    session.commit()
    ticket_id = ticket.id
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}?queue=service&lang=zh")
    page.wait_for_load_state()
    page.keyboard.press("r")
    page.keyboard.type("Please unplug the heater at once and do not use it again, thank you.")
    page.keyboard.press("Control+Enter")
    warning = page.get_by_test_id("reply-language")
    expect(warning).to_contain_text("客户使用中文来信，而您的回复是英文。")
    expect(page.get_by_label("回复客户")).to_have_value(
        "Please unplug the heater at once and do not use it again, thank you."
    )
    assert overflow_px(page) == 0
    page.get_by_role("button", name="仍然发送").click()
    expect(page.locator(".flash")).to_contain_text("回复已排队")
    session.expire_all()
    assert session.get(Ticket, ticket_id).first_response_at is not None
