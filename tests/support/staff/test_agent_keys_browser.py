"""An agent's everyday keys and pickers in a real browser (Playwright + system Chromium): `a`
takes the selected or current inbox rows, and the searchable saved-reply picker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.desk.models import SavedReply, Ticket
from tests.factories import department, make_customer, make_ticket, make_user
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD, fast_passwords

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures(fast_passwords.__name__)]


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def desk(app, session):
    """An agent of Customer Service and three of its tickets, none assigned."""
    agent = make_user(session, departments=("service",), email="agent@example.com", name="Andy")
    wang = make_customer(session, name="Wang Fang", email="wang.fang@example.net")
    tickets = [
        make_ticket(session, customer=wang, subject="Kettle", body="It never heats."),
        make_ticket(session, subject="Heater", body="The heater smells."),
        make_ticket(session, subject="Toaster", body="Toaster burns everything."),
    ]
    session.commit()
    return {"agent": agent, "tickets": tickets}


def _sign_in(page, email: str) -> None:  # noqa: F811 - `page` is the fixture's tab
    page.goto("/staff/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/staff/inbox/**")


def _assignees(session) -> dict[int, int | None]:
    session.expire_all()
    found = {t.id: t.assignee_id for t in session.scalars(select(Ticket))}
    session.commit()
    return found


def test_a_takes_the_current_row_then_the_selected_ones(page, desk, session) -> None:  # noqa: F811
    agent = desk["agent"]
    _sign_in(page, "agent@example.com")
    page.goto("/staff/inbox/service")
    rows = page.locator("table.inbox tbody tr")
    first_url = rows.nth(0).get_attribute("data-ticket-url")
    page.keyboard.press("j")
    with page.expect_navigation():
        page.keyboard.press("a")
    expect(page.get_by_text("1 ticket assigned to you:")).to_be_visible()
    expect(rows.nth(0).locator("td.assignee")).to_have_text("Andy")
    assert first_url and "/staff/tickets/" in first_url

    # x on two rows, then a: both taken (the current row is not added to a selection).
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    with page.expect_navigation():
        page.keyboard.press("a")
    expect(page.get_by_text("2 tickets assigned to you:")).to_be_visible()
    assert set(_assignees(session).values()) == {agent.id}

    page.keyboard.press("?")
    help_box = page.locator("#shortcut-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Take (assign to me) the selected tickets")


def test_a_is_off_while_typing(page, desk, session) -> None:  # noqa: F811
    _sign_in(page, "agent@example.com")
    page.goto("/staff/inbox/service")
    page.keyboard.press("j")
    page.get_by_label("Tag to add or remove").fill("a")
    page.get_by_label("Tag to add or remove").press("a")
    assert set(_assignees(session).values()) == {None}
