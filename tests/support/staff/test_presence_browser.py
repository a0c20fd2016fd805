"""Agent collision on the ticket page in a real browser (two agents, CSRF on): a colleague who
starts a reply shows as "is replying" on the other's page, a customer mail that comes in shows as
a notice with a "show it" link, and following it keeps the text the agent had typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.core.db import utcnow
from support.desk import presence
from support.desk.models import Message
from tests.browser_tools import (
    axe_script,
    axe_violations,
    chromium,
    live_server,
    overflow_px,
    sign_in,
)
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
DRAFT = "Dear Ms Wang,\nthe new kettle left our warehouse today."


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def site(app) -> Iterator[tuple[str, object]]:
    with live_server(app) as base_url, chromium() as browser:
        yield base_url, browser


def _agent(
    site,
    email: str,
    *,
    viewport: dict = DESKTOP,
    lang: str = "en",
    fake_clock: bool = False,
    bypass_csp: bool = False,  # for axe-core, injected as an inline script
):
    base_url, browser = site
    context = browser.new_context(
        base_url=base_url,
        locale="zh-CN" if lang == "zh" else "en-US",
        viewport=viewport,
        bypass_csp=bypass_csp,
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    if fake_clock:  # the heartbeat's 20 s are run forward, not waited for
        page.clock.install()
    context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
    sign_in(page, base_url, email, PASSWORD)
    return page


def _customer_writes(session, ticket, text: str) -> None:
    session.add(
        Message(
            ticket=ticket,
            direction="in",
            from_address=ticket.customer.email,
            from_name="Wang Fang",
            body_text=text,
            new_text=text,
            created_at=utcnow(),
        )
    )
    session.commit()


def _beats(page) -> int:
    return int(page.get_by_test_id("ticket-live").get_attribute("data-beats") or 0)


def _open(page, url: str) -> None:
    """Open the ticket page and wait for its first heartbeat's answer."""
    page.goto(url)
    page.wait_for_function(
        "() => Number(document.querySelector('[data-beats]')?.getAttribute('data-beats')) >= 1"
    )


def _next_beat(page) -> None:
    """Run the page's clock to its next heartbeat and wait until it is answered."""
    before = _beats(page)
    page.clock.run_for(presence.HEARTBEAT_SECONDS * 1000 + 500)
    page.wait_for_function(
        "n => Number(document.querySelector('[data-beats]').getAttribute('data-beats')) > n",
        arg=before,
    )


def test_a_colleague_replying_and_a_new_customer_mail_show_without_a_reload(
    app, session, site
) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    make_user(session, email="li@example.com", name="Li Lei")
    ticket = make_ticket(session, subject="Kettle broken")
    session.commit()
    url = f"/staff/tickets/{ticket.id}"

    mei = _agent(site, "mei@example.com", fake_clock=True)
    _open(mei, url)
    live = mei.get_by_test_id("ticket-live")
    assert live.get_attribute("role") == "status"
    assert live.get_attribute("aria-live") == "polite"
    mei.get_by_label("Reply to the customer").fill(DRAFT)

    # Li Lei opens the ticket and starts a reply: his page tells the desk at once.
    li = _agent(site, "li@example.com")
    _open(li, url)
    with li.expect_response(
        lambda r: r.url.endswith("/presence") and "replying" in (r.request.post_data or "")
    ) as told:
        li.get_by_label("Reply to the customer").press_sequentially("Hello")
    assert told.value.status == 200
    _next_beat(mei)
    expect(live.locator(".ticket-live-people")).to_have_text("Li Lei is replying")
    assert live.locator(".ticket-live-news").is_hidden()

    # The customer writes again while Mei is typing.
    _customer_writes(session, ticket, "Never mind: I would rather have a refund.")
    _next_beat(mei)
    news = live.locator(".ticket-live-news")
    expect(news).to_have_text("New message from the customer — show it")
    assert mei.get_by_label("Reply to the customer").input_value() == DRAFT  # nothing replaced

    # "show it" reloads the page: the new mail is shown and the typed text is still there.
    mei.get_by_test_id("show-new").click()
    mei.wait_for_load_state()
    mei.get_by_text("I would rather have a refund.").wait_for()
    assert mei.get_by_label("Reply to the customer").input_value() == DRAFT
    expect(live).to_contain_text("Your unsent text was kept.")
    mei.screenshot(path="/tmp/presence-draft-kept.png")  # to look at
    assert news.is_hidden()

    # The page now knows what came in: the reply goes out, not held back by the traffic cop.
    with mei.expect_navigation():  # the reply posts and comes back to this same address
        mei.get_by_role("button", name="Check and send").click()
    sent = session.scalars(
        select(Message.new_text).where(Message.ticket_id == ticket.id, Message.direction == "out")
    ).all()
    session.commit()
    assert sent == [DRAFT.replace("\n", "\r\n")] or sent == [DRAFT]
    # A sent reply is no draft: the next visit starts with an empty box.
    mei.goto(url)
    assert mei.get_by_label("Reply to the customer").input_value() == ""


def test_a_hidden_tab_stops_polling(app, session, site) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session)
    session.commit()
    mei = _agent(site, "mei@example.com", fake_clock=True)
    beats: list[str] = []
    mei.on("request", lambda r: beats.append(r.url) if r.url.endswith("/presence") else None)
    _open(mei, f"/staff/tickets/{ticket.id}")
    _next_beat(mei)
    counted = len(beats)
    assert counted >= 2  # on opening, then every HEARTBEAT_SECONDS
    mei.evaluate(
        """() => {
        Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    }"""
    )
    mei.clock.run_for(presence.HEARTBEAT_SECONDS * 3 * 1000)
    assert len(beats) == counted


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_notices_fit_the_page(app, session, site, viewport, lang) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    colleague = make_user(
        session, email="li@example.com", name="李雷" if lang == "zh" else "Li Lei"
    )
    ticket = make_ticket(session, subject="Kettle broken")
    session.commit()
    with app.app_context():
        presence.beat(session, ticket.id, colleague.id, "replying", utcnow())
    session.commit()
    mei = _agent(
        site, "mei@example.com", viewport=viewport, lang=lang, fake_clock=True, bypass_csp=True
    )
    _open(mei, f"/staff/tickets/{ticket.id}")
    _customer_writes(session, ticket, "Never mind: I would rather have a refund.")
    _next_beat(mei)
    live = mei.get_by_test_id("ticket-live")
    words = live.inner_text()
    if lang == "zh":
        assert "李雷 正在回复" in words and "客户发来了新消息" in words
    else:
        assert "Li Lei is replying" in words and "New message from the customer" in words
    # Seen at once, above the conversation, and no sideways scrolling on a phone.
    box = live.bounding_box()
    assert box is not None and box["y"] + box["height"] <= viewport["height"]
    assert overflow_px(mei) == 0
    mei.screenshot(path=f"/tmp/presence-{lang}-{viewport['width']}.png")  # to look at
    if viewport is DESKTOP:
        assert axe_violations(mei, axe_script()) == []


def test_a_colleague_whose_browser_closed_goes_from_the_inbox_and_the_ticket(
    app, session, site
) -> None:
    """Li Lei's browser closed without a "gone" (a crash, the network): the inbox, drawn once,
    and a ticket page whose heartbeats stopped being answered still said "Li Lei is viewing"
    an hour later. Each takes the name off once the heartbeat stops counting (page clock)."""
    make_user(session, email="mei@example.com", name="Mei Chen")
    li = make_user(session, email="li@example.com", name="Li Lei")
    ticket = make_ticket(session, subject="Kettle broken")
    session.commit()
    presence.beat(session, ticket.id, li.id, "viewing", utcnow())
    session.commit()

    mei = _agent(site, "mei@example.com", fake_clock=True)
    mei.goto("/staff/inbox/service")
    busy = mei.get_by_test_id("busy")
    expect(busy).to_have_text("Li Lei is viewing")
    mei.clock.run_for((presence.EXPIRES_SECONDS - 5) * 1000)
    expect(busy).to_have_text("Li Lei is viewing")  # not before its time
    mei.clock.run_for(6 * 1000)
    expect(busy).to_have_count(0)

    _open(mei, f"/staff/tickets/{ticket.id}")
    people = mei.get_by_test_id("ticket-live").locator(".ticket-live-people")
    expect(people).to_have_text("Li Lei is viewing")
    mei.route("**/presence", lambda route: route.abort())  # no answer from now on
    mei.clock.run_for((presence.EXPIRES_SECONDS + 1) * 1000)
    expect(people).to_be_hidden()


def test_a_page_the_browser_restores_on_back_beats_again(app, session, site) -> None:
    """Leaving the ticket page says "gone" and stops the heartbeat; a browser that keeps the
    page in its back-forward cache (Safari, Firefox; Chromium for pages without no-store)
    restores it on Back with no new load, only ``pageshow`` with ``persisted``: the page then
    said nothing, so colleagues saw nobody on a ticket the agent was working. Chromium under
    test never keeps these no-store pages (nor does its headless shell keep any), so the two
    events a restore fires are fired here, in the order the browser fires them."""
    make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session, subject="Kettle broken")
    session.commit()
    mei = _agent(site, "mei@example.com", fake_clock=True)
    said: list[str] = []
    mei.on(
        "request",
        lambda r: said.append(r.post_data or "") if r.url.endswith("/presence") else None,
    )
    _open(mei, f"/staff/tickets/{ticket.id}")
    mei.evaluate(
        "() => window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))"
    )
    mei.clock.run_for(presence.HEARTBEAT_SECONDS * 2 * 1000)
    assert sum("gone" in body for body in said) == 1
    before = len(said)
    assert all("gone" in body for body in said[before - 1 :])  # nothing after "gone"

    # Back: the same document again. It tells the desk at once, and goes on beating.
    beats = _beats(mei)
    mei.evaluate(
        "() => window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))"
    )
    mei.wait_for_function(
        "n => Number(document.querySelector('[data-beats]').getAttribute('data-beats')) > n",
        arg=beats,
    )
    assert "viewing" in said[-1]
    _next_beat(mei)
    assert len(said) >= before + 2 and "viewing" in said[-1]
