"""The inbox on a phone (390x844), in a real browser: an agent's first screen showed about four
tickets (cards of 150-170 px: the due time written twice, "—" for nobody, the customer on a
line of their own), and only the subject's one line opened a ticket. Now the facts share one
line, the whole card opens its ticket and six or more tickets fit, in English and Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from support.core.db import utcnow
from tests.browser_tools import PHONE, chromium, live_server, overflow_px, sign_in
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser

TICKETS = [
    ("Vacuum robot stops after 5 minutes", "John Smith", "My RoboClean X2 stops and beeps."),
    ("空气净化器无法开机", "王芳", "我上周买的空气净化器今天突然无法开机了，指示灯也不亮。"),
    ("Where is my order?", "Emma Brown", "Tracking shows nothing since Friday."),
    ("退款还没到账", "刘洋", "我两周前申请了退款，到现在还没到账。"),
    ("Wrong colour delivered", "Olga Ivanova", "I ordered grey but received beige."),
    ("扫地机器人充电座不工作", "张敏", "充电座的灯一直是红色闪烁，机器人回不去充电。"),
    ("Lamp flickers when dimmed", "Tom Lee", "Below 30% it flickers."),
    ("发票抬头开错了", "陈伟", "麻烦重新开一张发票，谢谢。"),
]


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def site(app, session) -> Iterator[tuple[str, object, list]]:
    make_user(session, email="agent@example.com", name="Andy")
    now = utcnow()
    tickets = []
    for n, (subject, name, body) in enumerate(TICKETS):
        customer = make_customer(session, name=name)
        tickets.append(
            make_ticket(
                session,
                customer=customer,
                subject=subject,
                body=body,
                status="new",
                urgency=2 + n % 3,
                created_at=now - timedelta(minutes=5 + n),
                first_response_due_at=now + timedelta(hours=3 + n),
            )
        )
    session.commit()
    with live_server(app) as base_url, chromium() as browser:
        yield base_url, browser, tickets


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_phone_shows_six_tickets_on_its_first_screen(site, lang) -> None:
    base_url, browser, _tickets = site
    context = browser.new_context(
        base_url=base_url, viewport=PHONE, locale="zh-CN" if lang == "zh" else "en-US"
    )
    context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
    page = context.new_page()
    sign_in(page, base_url, "agent@example.com", PASSWORD)
    page.goto("/staff/inbox/service")
    rows = page.locator("table.inbox tbody tr")
    assert rows.count() == len(TICKETS)
    boxes = [rows.nth(i).bounding_box() for i in range(rows.count())]
    page.screenshot(path=f"/tmp/inbox-phone-cards-{lang}.png")  # to look at
    in_view = [b for b in boxes if b["y"] + b["height"] <= PHONE["height"]]
    assert len(in_view) >= 6, [round(b["height"]) for b in boxes]
    assert all(b["height"] >= 44 for b in boxes)  # each card is still a thumb's target
    assert overflow_px(page) == 0

    # Still readable: the subject at the desktop's size, the facts and the opening at 13 px or more.
    sizes = page.evaluate(
        """() => ['td.subject > a', 'td.subject .preview', 'td.customer', 'td.status']
             .map(s => parseFloat(getComputedStyle(document.querySelector(
               'table.inbox tbody tr ' + s)).fontSize))"""
    )
    assert sizes[0] >= 14 and min(sizes[1:]) >= 13, sizes
    # The due time once: "3 h 59 min left", not also the date and time it falls at.
    facts = rows.first.locator("td.due").inner_text()
    assert "left" in facts or "剩" in facts
    assert ":" not in facts, facts

    # A tap anywhere on a card (its opening, its facts) opens that ticket; the select box still
    # selects.
    second = rows.nth(1)
    wanted = second.locator("input[name=ticket_id]").get_attribute("value")
    box = second.locator("td.status").bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"**/staff/tickets/{wanted}*")
    page.go_back()
    pick = page.locator("table.inbox tbody tr").first.locator("input[name=ticket_id]")
    pick.click()
    assert pick.is_checked()
    assert "/staff/inbox/" in page.url
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_on_a_phone_the_language_switch_takes_no_line_of_its_own(app, session, site, lang) -> None:
    """The switch (中文 / English 繁體) wrapped below the inbox views and "More" onto a line of
    its own, pushing the tickets down by a line; it now sits at the end of the brand's line."""
    base_url, browser, _tickets = site
    make_user(
        session, email="lead@example.com", name="Lena", role="lead", departments=("sales",)
    ).can_triage = True
    session.commit()
    for email in ("agent@example.com", "lead@example.com"):
        context = browser.new_context(
            base_url=base_url, viewport=PHONE, locale="zh-CN" if lang == "zh" else "en-US"
        )
        context.add_cookies([{"name": "lang", "value": lang, "url": base_url}])
        page = context.new_page()
        sign_in(page, base_url, email, PASSWORD)
        switch = page.locator(".site-header .lang-switch")
        expect(switch).to_be_visible()
        mine = switch.bounding_box()
        brand = page.evaluate(  # the brand's words, not its box (as wide as the header)
            """() => { const range = document.createRange();
                       range.selectNodeContents(document.querySelector('.site-header .brand'));
                       const r = range.getBoundingClientRect();
                       return {x: r.x, y: r.y, width: r.width, height: r.height}; }"""
        )
        assert abs(mine["y"] + mine["height"] / 2 - (brand["y"] + brand["height"] / 2)) < 8, (
            email,
            mine,
            brand,
        )
        assert mine["x"] >= brand["x"] + brand["width"], (email, mine, brand)  # side by side
        assert overflow_px(page) == 0
        context.close()
