"""The agent workspace in a real browser (Playwright + system Chromium): the shell's ticket
search, bulk resolve, keyboard shortcuts and no sideways scrolling at 390 px on staff pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.desk import search
from support.desk.models import AuditEvent, Ticket
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def desk(app, session):
    """An agent of Customer Service, an admin, tickets in service and one in sales."""
    agent = make_user(session, departments=("service",), email="agent@example.com", name="Andy")
    admin = make_user(session, role="admin", email="admin@example.com", name="Ada")
    wang = make_customer(session, name="Wang Fang", email="wang.fang@example.net")
    kettle = make_ticket(
        session, customer=wang, subject="Kettle", body="The thermostat clicks but never heats."
    )
    heater = make_ticket(session, subject="取暖器", body="我的取暖器冒烟了，请尽快处理。")
    toaster = make_ticket(session, subject="Toaster", body="Toaster burns everything.")
    sales = make_ticket(
        session, department_code="sales", subject="Quote", body="The thermostat quote please"
    )
    tickets = [kettle, heater, toaster, sales]
    search.index_tickets(session, [t.id for t in tickets])
    session.commit()
    return {"agent": agent, "admin": admin, "tickets": tickets}


def _sign_in(page, email: str) -> None:  # noqa: F811 - `page` is the fixture's tab
    page.goto("/staff/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/staff/inbox/**")


def test_header_search_jumps_by_reference_and_finds_message_words(page, desk) -> None:  # noqa: F811
    kettle, heater, _toaster, sales = desk["tickets"]
    _sign_in(page, "agent@example.com")
    box = page.get_by_role("searchbox", name="Search tickets")
    box.fill(kettle.reference)
    box.press("Enter")
    page.wait_for_url(f"**/staff/tickets/{kettle.id}")

    box = page.get_by_role("searchbox", name="Search tickets")
    box.fill("thermostat")
    box.press("Enter")
    page.wait_for_url("**/staff/search?**")
    results = page.locator(".search-results")
    expect(results).to_contain_text(kettle.reference)
    assert sales.reference not in page.content()  # sales is not the agent's department

    page.get_by_role("searchbox", name="Search tickets").first.fill("冒烟")
    page.get_by_role("searchbox", name="Search tickets").first.press("Enter")
    page.wait_for_load_state()
    expect(page.locator(".search-results")).to_contain_text(heater.reference)

    page.goto(f"/staff/search?q={sales.reference}")  # a reference the agent may not see
    assert "/staff/tickets/" not in page.url


def test_bulk_resolve_of_two_tickets(page, desk, session) -> None:  # noqa: F811
    kettle, heater, toaster, _sales = desk["tickets"]
    _sign_in(page, "agent@example.com")
    page.get_by_label(f"Select {kettle.reference}").check()
    page.get_by_label(f"Select {toaster.reference}").check()
    page.get_by_role("button", name="Resolve", exact=True).click()
    refs = ", ".join(sorted([kettle.reference, toaster.reference]))
    expect(page.get_by_text(f"2 tickets resolved: {refs}.")).to_be_visible()
    session.expire_all()
    statuses = {t.id: t.status for t in session.scalars(select(Ticket))}
    assert statuses[kettle.id] == statuses[toaster.id] == "resolved"
    assert statuses[heater.id] != "resolved"
    history = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "ticket.status_changed")
    ).all()
    assert sorted(e.ticket_id for e in history if e.data.get("to") == "resolved") == sorted(
        [kettle.id, toaster.id]
    )
    session.commit()


def test_keyboard_j_k_o_and_r(page, desk) -> None:  # noqa: F811
    _sign_in(page, "agent@example.com")
    rows = page.locator("table.inbox tbody tr")
    urls = [rows.nth(i).get_attribute("data-ticket-url") for i in range(rows.count())]
    assert len(urls) == 3
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "current" in (rows.nth(1).get_attribute("class") or "")
    page.keyboard.press("o")
    page.wait_for_url(f"**{urls[1]}")

    page.go_back()
    page.wait_for_selector("table.inbox")
    page.keyboard.press("j")
    page.keyboard.press("r")
    page.wait_for_url(f"**{urls[0]}#reply")
    focused = page.evaluate("document.activeElement.closest('form').getAttribute('action')")
    assert focused.endswith("/reply")

    # Shortcuts are off while typing in a field.
    page.goto("/staff/")
    page.get_by_role("searchbox", name="Search tickets").fill("jjo")
    assert "/staff/inbox/" in page.url
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()


def test_enter_on_a_link_or_button_is_not_taken_by_the_inbox_keys(page, desk) -> None:  # noqa: F811
    # After j, Enter on a header link ("Mine") opened the current ticket instead.
    _sign_in(page, "agent@example.com")
    rows = page.locator("table.inbox tbody tr")
    page.keyboard.press("j")
    # Focus follows the current row, so a screen reader names the ticket.
    current = page.evaluate("document.activeElement.closest('tr')?.getAttribute('data-ticket-url')")
    assert current == rows.nth(0).get_attribute("data-ticket-url")
    page.get_by_role("link", name="Mine").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/inbox/mine")


def test_no_staff_page_scrolls_sideways_on_a_phone(page, desk, app, live_server) -> None:  # noqa: F811
    kettle = desk["tickets"][0]
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, "admin@example.com")
    urls = [f"/staff/tickets/{kettle.id}"]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and "GET" in (rule.methods or ()) and not rule.arguments:
            if rule.endpoint != "auth.login":
                urls.append(rule.rule)
    wide = {}
    for language in ("en", "zh"):
        page.context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
        for url in sorted(set(urls)):
            response = page.goto(url)
            assert response is not None and response.status < 500, url
            if "text/html" not in (response.headers.get("content-type") or ""):
                continue
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide[(language, url)] = width
    assert len(urls) >= 19 and wide == {}
    page.goto("/staff/inbox/service")
    card = page.locator("table.inbox tbody tr").first
    assert page.evaluate("getComputedStyle(document.querySelector('table.inbox tr')).display") == (
        "block"
    )
    assert card.bounding_box()["width"] <= 390


def test_on_a_phone_the_inbox_shows_its_tickets_first(page, desk) -> None:  # noqa: F811
    """At 390 px the navigation, the filters and the bulk actions took the whole first screen:
    the staff tools fold under "More", the filters fold (unless one is in use) and the bulk
    actions appear once a ticket is selected."""
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, "agent@example.com")
    page.goto("/staff/inbox/service")
    filters, bulk = page.locator("form.filters"), page.locator(".bulk-bar")
    first = page.locator("table.inbox tbody tr").first
    assert first.bounding_box()["y"] + 60 < 844  # the first ticket is on the first screen
    expect(filters).to_be_hidden()
    expect(bulk).to_be_hidden()
    sent_mail = page.get_by_role("link", name="Sent mail")  # a tool: folded under "More"
    expect(sent_mail).to_be_hidden()
    page.get_by_text("More", exact=True).click()
    expect(sent_mail).to_be_visible()
    first.locator("input[name=ticket_id]").check()
    expect(bulk).to_be_visible()
    page.get_by_text("Filter tickets", exact=True).click()
    expect(filters).to_be_visible()
    page.goto("/staff/inbox/service?urgency=5")
    expect(filters).to_be_visible()  # a filter in use stays in sight
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/staff/inbox/service")
    assert filters.is_visible() and bulk.is_visible() and sent_mail.is_visible()
    expect(page.get_by_text("Filter tickets", exact=True)).to_be_hidden()
    expect(page.get_by_text("More", exact=True)).to_be_hidden()


def test_on_a_phone_a_long_subject_stays_clear_of_the_select_box(page, desk, session) -> None:  # noqa: F811
    """A new user's first look at the inbox on a phone: a Chinese subject has no space to wrap
    at and ran under the card's select box (its first line ended 10 px past the box's left
    edge), and the 13 px box was hard to hit with a thumb."""
    long = make_ticket(
        session,
        subject="我上個月買的除濕機一直顯示E3錯誤，已經重新開機好幾次都沒用，請問要怎麼送修？",
        body="保固還在嗎？",
    )
    session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, "agent@example.com")
    page.goto("/staff/inbox/service")
    box = page.get_by_label(f"Select {long.reference}").bounding_box()
    link = page.get_by_role("link", name=long.subject)
    lines = link.evaluate(
        "a => Array.from(a.getClientRects())"
        ".map(r => ({right: r.right, top: r.top, bottom: r.bottom}))"
    )
    assert len(lines) >= 2  # it wraps
    beside = [r for r in lines if r["bottom"] > box["y"] and r["top"] < box["y"] + box["height"]]
    assert beside and all(r["right"] <= box["x"] - 4 for r in beside), (lines, box)
    assert box["width"] >= 24 and box["height"] >= 24
