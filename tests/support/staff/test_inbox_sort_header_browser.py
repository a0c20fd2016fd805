"""The inbox's sortable headers and the staff header's language links in Chromium: sorting
by a click with JavaScript off, and tap targets of at least 44 x 44 px on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from support.core.db import utcnow
from support.desk import sla
from support.desk.models import User
from tests import browser_tools
from tests.browser_tools import chromium
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    with browser_tools.live_server(app) as base_url:
        yield base_url


@pytest.fixture
def browser():
    with chromium() as running:
        yield running


def _tab(browser, base_url: str, viewport: dict, javascript: bool = True):
    context = browser.new_context(
        base_url=base_url, locale="en-US", viewport=viewport, java_script_enabled=javascript
    )
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.goto("/staff/login?lang=en")
    tab.get_by_label("Email address").fill("ann@example.com")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url("**/staff/inbox/**")
    return tab


def _queue(app, session) -> None:
    make_user(session, email="ann@example.com", name="Ann Agent")
    now = utcnow()
    for n, (subject, name) in enumerate(
        [("Kettle leaks", "Zhou Min"), ("Invoice wrong", "alice Brown"), ("Lid broken", "Bob")]
    ):
        at = now - timedelta(minutes=10 + 50 * n)
        customer = make_customer(session, name=name, email=f"c{n}@example.net")
        ticket = make_ticket(session, subject=subject, customer=customer, created_at=at)
        sla.start_clock(ticket, app.config, now=at)
    session.commit()


def test_a_click_on_a_header_sorts_without_javascript(app, session, live_server, browser):
    _queue(app, session)
    tab = _tab(browser, live_server, LAPTOP, javascript=False)
    subjects = tab.locator("table.inbox tbody td.subject > a")
    header = tab.get_by_role("columnheader", name="Customer")
    expect(header).not_to_have_attribute("aria-sort", "ascending")
    header.get_by_role("link").click()
    tab.wait_for_url("**sort=customer**")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(subjects).to_have_text(["Invoice wrong", "Lid broken", "Kettle leaks"])
    header.get_by_role("link").click()  # the other way round
    tab.wait_for_url("**sort=-customer**")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(subjects).to_have_text(["Kettle leaks", "Lid broken", "Invoice wrong"])
    # Filtering keeps the order; the urgency header goes back to the queue order.
    tab.get_by_role("button", name="Filter").click()
    assert "sort=-customer" in tab.url
    tab.get_by_role("columnheader", name="Urgency").get_by_role("link").click()
    expect(tab.get_by_role("columnheader", name="Urgency")).to_have_attribute(
        "aria-sort", "descending"
    )
    assert "sort=" not in tab.url


def test_a_phone_sorts_through_the_filters_without_javascript(app, session, live_server, browser):
    # The column headers are hidden on a phone (the rows are cards): the filter box's
    # "Order" list sorts there, and keeps the order the headers chose on a laptop.
    _queue(app, session)
    tab = _tab(browser, live_server, PHONE, javascript=False)
    subjects = tab.locator("table.inbox tbody td.subject > a")
    head = tab.locator("table.inbox thead").bounding_box()
    assert head is not None and head["width"] <= 1  # clipped: for screen readers only
    tab.get_by_label("Order").select_option(label="Customer, A to Z")
    tab.get_by_role("button", name="Filter").click()
    tab.wait_for_url("**sort=customer**")
    expect(subjects).to_have_text(["Invoice wrong", "Lid broken", "Kettle leaks"])
    expect(tab.get_by_label("Order")).to_have_value("customer")
    laptop = _tab(browser, live_server, LAPTOP)
    expect(laptop.get_by_label("Order")).not_to_be_visible()  # the headers sort there


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_language_links_are_big_enough_to_tap_on_a_phone(
    app, session, live_server, browser, lang
):
    _queue(app, session)
    tab = _tab(browser, live_server, PHONE)
    tab.goto(f"/staff/inbox/service?lang={lang}")
    links = tab.locator(".site-header .lang-switch a")
    assert links.count() >= 1
    for n in range(links.count()):
        box = links.nth(n).bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    # Taller targets, not a taller header: the links sit on the brand's line, as before.
    brand = tab.locator(".site-header .brand").bounding_box()
    first = links.nth(0).bounding_box()
    assert brand is not None and first is not None
    assert first["y"] < brand["y"] + brand["height"] and brand["y"] < first["y"] + 44
    header = tab.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= HEADER_HEIGHT[lang], header
    tab.screenshot(path=f"/tmp/agent-phone-header-{lang}.png")


#: The staff header's height on a 390 px phone before the language links grew (measured).
HEADER_HEIGHT = {"en": 136, "zh": 136}
#: An admin's, who sees every department's view (en: 224 before; zh: 194 before, its views'
#: rows now 44 px tall, "More" no longer fitting on the last; measured).
ADMIN_HEADER_HEIGHT = {"en": 224, "zh": 224}

#: Everything one taps in the staff header and its navigation (the tools under "More" too).
TARGETS = ", ".join(
    f".site-header {kind}" for kind in ("a", "button", "summary", "input:not([type=hidden])")
)


def _small_targets(tab, selector: str) -> list[str]:
    """The visible targets under 44 x 44 px (WCAG 2.5.5, Apple's HIG), with their sizes."""
    small = []
    targets = tab.locator(selector)
    for n in range(targets.count()):
        target = targets.nth(n)
        box = target.bounding_box()
        if box is None or not target.is_visible():
            continue
        if box["width"] < 44 or box["height"] < 44:
            name = (target.text_content() or target.get_attribute("name") or "").strip()
            small.append(f"{name or target.evaluate('e => e.outerHTML.slice(0, 60)')}: {box}")
    return small


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_header_target_is_big_enough_to_tap_on_a_phone(
    app, session, live_server, browser, lang
):
    _queue(app, session)
    session.execute(update(User).values(role="admin"))  # every tool under "More"
    session.commit()
    tab = _tab(browser, live_server, PHONE)
    tab.goto(f"/staff/inbox/service?lang={lang}")
    folded = tab.locator(".site-header .more-nav")
    expect(folded).not_to_have_attribute("open", "")  # app.js folds the tools on a phone
    header = tab.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= ADMIN_HEADER_HEIGHT[lang], header
    assert _small_targets(tab, TARGETS) == []
    tab.screenshot(path=f"/tmp/tap-phone-header-{lang}.png")
    folded.locator("summary").click()  # the tools, unfolded
    expect(tab.get_by_role("link", name=("Users" if lang == "en" else "用户"))).to_be_visible()
    assert _small_targets(tab, TARGETS) == []
    tab.screenshot(path=f"/tmp/tap-phone-more-{lang}.png")
    # A ticket's own navigation: back to the inbox, on to the next ticket.
    tab.locator("table.inbox tbody td.subject > a").first.click()
    tab.wait_for_url("**/staff/tickets/**")
    assert _small_targets(tab, f"{TARGETS}, .ticket-nav a") == []
    tab.screenshot(path=f"/tmp/tap-phone-ticket-{lang}.png")
    wide = _tab(browser, live_server, LAPTOP)
    wide.goto(f"/staff/inbox/service?lang={lang}")
    wide.screenshot(path=f"/tmp/tap-laptop-header-{lang}.png")
