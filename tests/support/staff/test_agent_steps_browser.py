"""Clicks and page loads of two things agents do every hour, the old way and the one-step way,
in a real browser (docs/measurements.md states the figures): handing a ticket to a colleague
with a note, and replying and resolving. A click on a dropdown counts 2 (open, choose); typing
is not counted; a page load is a main-frame document load."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from support.desk.models import Ticket
from tests.browser_tools import sign_in
from tests.factories import make_ticket, make_user
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


class Steps:
    """Counts the clicks the test makes and the pages the browser loads."""

    def __init__(self, page) -> None:  # noqa: F811
        self.page, self.clicks, self.loads = page, 0, 0
        page.on("load", self._loaded)

    def _loaded(self, _page) -> None:
        self.loads += 1

    def click(self, locator) -> None:
        self.clicks += 1
        locator.click()
        self.page.wait_for_load_state()

    def choose(self, locator, label: str) -> None:
        self.clicks += 2
        locator.select_option(label=label)

    def reset(self) -> None:
        self.clicks = self.loads = 0


@pytest.fixture
def desk(session):
    make_user(session, email="lead@example.com", name="Lena", role="lead")
    make_user(session, email="wang@example.com", name="Wang Fang")
    ids = [make_ticket(session, subject=f"Kettle {n}").id for n in range(4)]
    session.commit()
    return ids


def test_hand_over_with_a_note(page, live_server, session, desk) -> None:  # noqa: F811
    before, after = desk[:2]
    sign_in(page, live_server, "lead@example.com", PASSWORD)
    steps = Steps(page)
    page.goto(f"/staff/tickets/{before}")
    steps.reset()
    page.get_by_label("Internal note (never sent)").fill("Refund approved; please send the label.")
    steps.click(page.get_by_role("button", name="Add note"))
    steps.choose(page.get_by_label("Assignee"), "Wang Fang")
    steps.click(page.get_by_role("button", name="Assign", exact=True))
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("Wang Fang")
    old = (steps.clicks, steps.loads)

    page.goto(f"/staff/tickets/{after}")
    steps.reset()
    page.get_by_label("Internal note (never sent)").fill("Refund approved; please send the label.")
    steps.choose(page.get_by_label("And assign to"), "Wang Fang")
    steps.click(page.get_by_role("button", name="Add note"))
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("Wang Fang")
    new = (steps.clicks, steps.loads)
    print(f"\nhand over with a note (clicks, loads): before {old}, after {new}")
    assert new == (3, 1) and old == (4, 2)


def test_reply_and_resolve(page, live_server, session, desk) -> None:  # noqa: F811
    _a, _b, before, after = desk
    sign_in(page, live_server, "lead@example.com", PASSWORD)
    steps = Steps(page)
    page.goto(f"/staff/tickets/{before}")
    steps.reset()
    page.get_by_label("Reply to the customer").fill("A new kettle is on its way.")
    steps.choose(page.get_by_label("After sending"), "Resolve")
    steps.click(page.get_by_role("button", name="Check and send"))
    expect(page.get_by_test_id("ticket-status")).to_have_text("resolved")
    old = (steps.clicks, steps.loads)

    page.goto(f"/staff/tickets/{after}")
    steps.reset()
    page.get_by_label("Reply to the customer").fill("A new kettle is on its way.")
    steps.click(page.get_by_role("button", name="Send and resolve"))
    expect(page.get_by_test_id("ticket-status")).to_have_text("resolved")
    new = (steps.clicks, steps.loads)
    print(f"\nreply and resolve (clicks, loads): before {old}, after {new}")
    assert new == (1, 1) and old == (3, 1)
    session.expire_all()
    assert session.get(Ticket, after).status == "resolved"
