"""The staff side in a real browser (Playwright + the system Chromium), without mocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from faq.models import UnansweredQuestion
from mailrouter.intake import queue
from mailrouter.models import InboundMail
from support.core.db import utcnow
from support.desk.sla import start_clock
from tests import browser_tools
from tests.browser_tools import chromium, png_grey
from tests.factories import make_customer, make_ticket, make_user
from tests.mailrouter.conftest import make_mail
from tests.support.staff_helpers import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/staff-inbox.png")

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    with browser_tools.live_server(app) as base_url:
        yield base_url


@pytest.fixture
def page(live_server):
    with chromium() as browser:
        context = browser.new_context(
            base_url=live_server, locale="en-US", viewport={"width": 1280, "height": 900}
        )
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        yield tab


def _sign_in(page, email: str) -> None:
    page.goto("/staff/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/inbox/**")


def _queue(session, config) -> dict:
    """A realistic Customer Service queue: urgencies, a key account, one overdue ticket."""
    now = utcnow()
    key = make_customer(
        session, name="Wang Fang", company="Great Wall Trading", is_key_account=True
    )
    rows = [
        ("Kettle leaks after two days", 2, 200, None),
        ("Invoice for order 88231 is wrong", 4, 100, None),
        ("Smoke from the toaster!", 5, 130, key),
        ("Where is my delivery?", 2, 30, None),
        ("Suggestion: a blue kettle", 1, 15, None),
        ("退货流程怎么走？", 3, 45, None),
    ]
    made = {}
    for subject, urgency, minutes_ago, customer in rows:
        created = now - timedelta(minutes=minutes_ago)
        ticket = make_ticket(
            session, subject=subject, urgency=urgency, created_at=created, customer=customer
        )
        ticket.messages[0].message_id = f"c{ticket.id}@example.org"
        start_clock(ticket, config, now=created)
        made[subject] = ticket
    session.commit()
    return made


def test_work_a_ticket_from_inbox_to_resolved(app, session, page) -> None:
    make_user(session, email="lead@example.com", name="Lena Lead", role="lead")
    make_user(session, email="mei@example.com", name="Mei Chen")
    tickets = _queue(session, app.config)
    _sign_in(page, "lead@example.com")

    rows = page.locator("table.inbox tbody tr")
    assert rows.count() == 6
    assert "Smoke from the toaster!" in rows.nth(0).inner_text()  # urgency 5 first
    expect(rows.nth(0)).to_contain_text("Breached")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("link", name="Kettle leaks after two days").click()
    page.get_by_label("Reply to the customer").fill("We are sending a replacement kettle today.")
    page.get_by_role("button", name="Check and send").click()
    expect(page.locator(".flash")).to_contain_text("Reply queued for sending")

    page.get_by_label("Internal note (never sent)").fill("Courier booked, tracking SF123.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("article.message.note")).to_contain_text("Courier booked, tracking SF123.")

    page.get_by_label("Assignee").select_option(label="Mei Chen")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("Mei Chen")

    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("resolved")
    assert "We are sending a replacement kettle today." in page.content()
    assert tickets["Kettle leaks after two days"].id


def test_a_chinese_inbox_keeps_headings_and_statuses_whole(app, session, page) -> None:
    # Long previews took the width and 紧急程度, 状态 and 新建 broke a character or two a line.
    make_user(session, email="mei@example.com", name="Mei Chen")
    long_text = "我上周在官网买的电热水壶，用了两天就开始漏水，底座也有焦味，" * 6
    for subject in ("水壶漏水", "退货流程怎么走？", "发票抬头开错了"):
        start_clock(make_ticket(session, subject=subject, body=long_text), app.config)
    session.commit()
    _sign_in(page, "mei@example.com")
    page.goto("/staff/inbox/service?lang=zh")
    lines = page.evaluate(
        """selector => [...document.querySelectorAll(selector)].map(cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return new Set([...range.getClientRects()].map(box => Math.round(box.top))).size;
        })""",
        "table.inbox thead th:not(:first-child), table.inbox td.status",
    )
    expect(page.locator("table.inbox thead")).to_contain_text("紧急程度")
    assert max(lines) == 1, lines
    assert "还剩" in page.locator("table.inbox").inner_text()  # "还剩 23 小时 52 分钟", one line


def test_a_chinese_mine_view_keeps_departments_and_statuses_whole(app, session, page) -> None:
    # "Mine" lists the department too: beside long previews 客户服务部 broke as 客户服 / 务部,
    # and an open ticket's 处理中 as 处理 / 中.
    mei = make_user(session, email="mei@example.com", name="Mei Chen")
    long_text = "我上周在官网买的电热水壶，用了两天就开始漏水，底座也有焦味，" * 6
    for subject in ("水壶漏水", "退货流程怎么走？"):
        ticket = make_ticket(session, subject=subject, body=long_text, assignee=mei)
        ticket.status = "open"
        start_clock(ticket, app.config)
    session.commit()
    _sign_in(page, "mei@example.com")
    page.goto("/staff/inbox/mine?lang=zh")
    cells = page.locator("table.inbox td.department, table.inbox td.status")
    expect(cells.first).to_have_text("客户服务部")
    expect(cells.last).to_have_text("处理中")
    lines = cells.evaluate_all(
        """cells => cells.map(cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return new Set([...range.getClientRects()].map(box => Math.round(box.top))).size;
        })"""
    )
    assert lines == [1, 1, 1, 1], lines


def test_a_ticket_heads_facts_on_a_chinese_phone_keep_names_whole(app, session, page) -> None:
    # On a 390 px phone the line under the subject broke 负责人：李雷 as 李 / 雷.
    page.set_viewport_size({"width": 390, "height": 844})
    for name in ("李雷", "欧阳娜娜"):
        agent = make_user(session, name=name, departments=("finance",))
        ticket = make_ticket(
            session, subject="发票抬头开错了", assignee=agent, department_code="finance"
        )
        ticket.status = "open"
        session.commit()
        _sign_in(page, agent.email)
        page.goto(f"/staff/tickets/{ticket.id}?lang=zh")
        assignee = page.get_by_test_id("ticket-assignee")
        expect(assignee).to_have_text(name)
        lines = assignee.evaluate(
            """cell => {
                const range = document.createRange();
                range.selectNodeContents(cell);
                return new Set([...range.getClientRects()].map(box => Math.round(box.top))).size;
            }"""
        )
        assert lines == 1, (name, lines)
        page.context.clear_cookies()


def test_a_faq_gap_opens_its_ticket_by_reference(app, session, page) -> None:
    # The gaps page listed a mail's ticket as "#12", a database id: no link, and the header's
    # search knows tickets by reference.
    make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session, subject="Do you sell spare filters?")
    session.add(UnansweredQuestion(text="Do you sell spare filters?", ticket_id=ticket.id))
    session.commit()
    _sign_in(page, "mei@example.com")
    page.goto("/staff/faq/gaps")
    page.get_by_role("link", name=ticket.reference).click()
    expect(page).to_have_url(re.compile(rf"/staff/tickets/{ticket.id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Do you sell spare filters?")


def test_risky_reply_shows_a_warning_before_sending(app, session, page) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    tickets = _queue(session, app.config)
    _sign_in(page, "mei@example.com")
    page.goto(f"/staff/tickets/{tickets['Where is my delivery?'].id}")
    page.get_by_label("Reply to the customer").fill("Calm down, that is not my job.")
    page.get_by_role("button", name="Check and send").click()
    warning = page.get_by_test_id("reply-warnings")
    expect(warning).to_contain_text("try instead")
    page.get_by_role("button", name="Send anyway").click()
    expect(page.locator(".flash")).to_contain_text("Reply queued for sending")


def test_overdue_ticket_shows_the_sla_warning(app, session, page) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    tickets = _queue(session, app.config)
    _sign_in(page, "mei@example.com")
    page.goto("/staff/inbox/service?sla=breached")
    assert page.locator("table.inbox tbody tr").count() == 1
    page.get_by_role("link", name="Smoke from the toaster!").click()
    expect(page.get_by_test_id("sla-state")).to_have_text(re.compile(r"^Breached"))
    page.goto(f"/staff/tickets/{tickets['Invoice for order 88231 is wrong'].id}")
    expect(page.get_by_test_id("sla-state")).to_have_text(re.compile(r"^On track"))
    page.goto("/staff/inbox/service?sla=due_soon")
    assert "Kettle leaks after two days" not in page.content()


def test_reports_page_shows_the_charts(app, session, page) -> None:
    make_user(session, email="lead@example.com", role="lead")
    _queue(session, app.config)
    _sign_in(page, "lead@example.com")
    page.get_by_role("link", name="Reports").click()
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(8)
    expect(charts.first).to_be_visible()
    box = page.locator("svg[role=img]").nth(3).bounding_box()  # the backlog chart
    assert box is not None and box["width"] > 300


def test_spam_page_releases_ticked_mail_in_bulk(app, session, page) -> None:
    """A lead ticks two held mails and clicks "Not spam"; with CSRF on, as in production."""
    lead = make_user(session, role="lead", departments=("sales",), email="lead@example.com")
    ids = []
    for n, subject in enumerate(("Cheap meds online", "Work from home $$$", "Lottery winner")):
        inbound = queue.store_inbound(
            session, channel="smtp", raw=make_mail(subject=subject), department_code="sales"
        )
        inbound.state = "processed"
        inbound.spam_state = "suspected"
        inbound.spam_score = 6.0 + n
        inbound.spam_detail = {"source": "builtin", "reasons": ["click +1.2"], "subject": subject}
        ids.append(inbound.id)
    session.commit()
    _sign_in(page, lead.email)
    page.get_by_role("link", name="Spam").click()
    page.wait_for_url("**/staff/spam/")
    # A screen reader names each box by its mail's subject, not by an id the page never shows.
    page.get_by_role("checkbox", name="Cheap meds online").check()
    page.get_by_role("checkbox", name="Lottery winner").check()
    page.get_by_role("button", name="Not spam").click()
    page.get_by_text("2 messages are queued again as tickets.").wait_for()
    expect(page.get_by_text("Work from home $$$")).to_be_visible()
    assert page.get_by_text("Lottery winner").count() == 0
    states = dict(session.execute(select(InboundMail.id, InboundMail.spam_state)).all())
    session.commit()
    assert states == {ids[0]: "released", ids[1]: "suspected", ids[2]: "released"}


def test_the_spam_list_reads_on_a_phone(app, session, page) -> None:
    # At 390 px the subject and the reasons were cut off at the screen's edge, each row a
    # word a line: the list reads as cards there, the subject first, as sent mail does. A
    # subject of 180 letters without a space ran 1,900 px past the card's edge: a flex
    # item's words break only where a line can (`anywhere`).
    lead = make_user(session, role="lead", departments=("sales",), email="lead@example.com")
    subject = "CONGRATULATIONS!!! You WON $1,000,000 claim now"
    unbroken = "Tracking" + "X" * 180
    reasons = ["b:sites-1 +5.1", "h:cheap-tld-link +4.3", "b:money-2 +3.5", "click +1.8"]
    for held in (subject, unbroken):
        inbound = queue.store_inbound(
            session, channel="smtp", raw=make_mail(subject="Win"), department_code="sales"
        )
        inbound.state = "processed"
        inbound.spam_state = "suspected"
        inbound.spam_score = 7.5
        inbound.spam_detail = {"source": "builtin", "reasons": reasons, "subject": held}
    session.commit()
    _sign_in(page, lead.email)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/staff/spam/")
    shown = unbroken[:119] + "…"  # a subject is cut at 120 characters on the list
    expect(page.get_by_role("link", name=shown)).to_be_visible()
    for text in (subject, shown, "the word “click” +1.8"):  # the reasons in words
        box = page.get_by_text(text).first.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, text
    assert page.locator("table.phone-list").evaluate("t => t.scrollWidth - t.clientWidth") == 0
    expect(page.get_by_role("checkbox", name=subject)).to_be_visible()


def test_text_boxes_without_a_type_are_styled_like_the_others(session, page) -> None:
    # "Add a template for a key" and the preview's ticket box were bare 150 px browser boxes.
    make_user(session, email="admin@example.com", name="Ada", role="admin")
    session.commit()
    _sign_in(page, "admin@example.com")
    page.goto("/staff/templates")
    box = page.locator("#new-key")
    assert box.evaluate("e => getComputedStyle(e).borderRadius") == "6px"
    assert box.bounding_box()["width"] > 300


def test_a_customer_known_by_address_only_reads_on_one_line(app, session, page) -> None:
    # The customer column shrank to a few letters, and bob@example.org broke as bob@example.
    # / org beside the subjects and previews.
    make_user(session, email="lead@example.com", name="Lena Lead", role="lead")
    _queue(session, app.config)
    bob = make_customer(session, name=None, email="bob.miller@example.org")
    make_ticket(session, customer=bob, subject="Server down - urgent " * 4, urgency=5)
    session.commit()
    _sign_in(page, "lead@example.com")
    cell = page.locator("table.inbox td.customer", has_text="bob.miller@example.org")
    lines = cell.evaluate(
        """cell => {
             const range = document.createRange();
             range.selectNodeContents(cell.firstChild);
             return range.getClientRects().length;
           }"""
    )
    assert lines == 1


def test_the_header_search_hint_fits_a_phone_in_both_languages(session, page) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    session.commit()
    _sign_in(page, "mei@example.com")
    page.set_viewport_size({"width": 390, "height": 844})
    for lang in ("en", "zh"):
        page.goto(f"/staff/inbox/service?lang={lang}")
        spare = page.evaluate(
            """() => {
                const input = document.querySelector('#staff-search');
                const style = getComputedStyle(input);
                const context = document.createElement('canvas').getContext('2d');
                context.font = `${style.fontSize} ${style.fontFamily}`;
                const inner = input.clientWidth - parseFloat(style.paddingLeft)
                    - parseFloat(style.paddingRight);
                return inner - context.measureText(input.placeholder).width;
            }"""
        )
        assert spare >= 0, (lang, spare)


def test_a_table_s_white_box_is_as_wide_as_its_rows(app, session, page) -> None:
    """The staff tables (blocks, to scroll by themselves) kept the 100% width of tables, so a
    narrow one's white box ran on to the page's edge past its last column; on a phone a wide
    table still scrolls within the page and the inbox still fills it."""
    make_user(session, email="admin@example.com", name="Ada", role="admin")
    _queue(session, app.config)
    session.commit()
    _sign_in(page, "admin@example.com")
    widths = """table => [table.getBoundingClientRect().width, table.clientWidth,
        Math.max(...[...table.rows].map(row => row.getBoundingClientRect().width))]"""
    page.goto("/staff/admin/departments")
    box, _, rows = page.locator("main table").evaluate(widths)
    assert box < 1000 and abs(box - rows) < 1, (box, rows)
    page.goto("/staff/inbox/service")
    box, _, rows = page.locator("table.inbox").evaluate(widths)
    assert abs(box - rows) < 1 and box > 1000, (box, rows)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/staff/admin/departments")
    box, client, rows = page.locator("main table").evaluate(widths)
    assert box <= 390 - 32 and rows > client  # scrolls inside its box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_report_headings_on_a_phone_keep_their_words_whole(app, session, page) -> None:
    # On a 390 px phone the reports' headings broke a character a line (已 / 回 / 复, 达 / 标)
    # while their cells kept theirs: the table scrolls sideways instead.
    make_user(session, email="lead@example.com", role="lead")
    _queue(session, app.config)
    session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, "lead@example.com")
    page.goto("/staff/reports?lang=zh")
    lines = page.evaluate(
        """selector => [...document.querySelectorAll(selector)].map(cell => {
            const range = document.createRange();
            range.selectNodeContents(cell);
            return [cell.innerText, new Set([...range.getClientRects()].map(
                box => Math.round(box.top))).size];
        })""",
        "table.stats thead th",
    )
    words = dict(lines)
    assert words["已回复"] == 1 and words["达标"] == 1 and words["紧急程度"] == 1, lines


def test_report_charts_on_a_phone_have_readable_labels(app, session, page) -> None:
    # A chart drawn 640 wide shrank to the 390 px screen: its axis labels were 6 px high.
    make_user(session, email="lead@example.com", role="lead")
    _queue(session, app.config)
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, "lead@example.com")
    page.goto("/staff/reports")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.chart svg[role=img] text')].map(
            text => text.getBoundingClientRect().height)"""
    )
    assert sizes and min(sizes) >= 9, sorted(sizes)[:5]
    # The chart scrolls in its card; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_chart_wider_than_a_phone_shows_that_it_scrolls(app, session, page) -> None:
    """A report chart keeps 560 px on a 390 px phone and scrolls in its card; nothing said
    so, and its cut-off right side read as the chart's end. A shadow on the side that hides
    more says there is more, as on a wide table, and goes once scrolled to that end."""
    make_user(session, email="lead@example.com", role="lead")
    _queue(session, app.config)
    session.commit()
    page.set_viewport_size(browser_tools.PHONE)
    _sign_in(page, "lead@example.com")
    page.goto("/staff/reports")
    chart = page.locator(".chart", has=page.locator("svg")).first
    assert chart.evaluate("c => c.scrollWidth > c.clientWidth")
    page.add_style_tag(content=".chart svg * { visibility: hidden !important; }")
    _shadow_on_the_side_that_hides_more(chart)
    assert browser_tools.overflow_px(page) == 0


def _shadow_on_the_side_that_hides_more(box) -> None:
    """A box that scrolls sideways (its contents hidden) is darker at its right edge, then,
    scrolled to its end, at its left edge only."""

    def edges() -> tuple[float, float, float]:
        rows = png_grey(box.screenshot())[5:-5]
        column = lambda x: sum(row[x] for row in rows) / len(rows)  # noqa: E731
        return column(1), column(len(rows[0]) // 2), column(len(rows[0]) - 2)

    left, middle, right = edges()
    assert right < middle - 8 and abs(left - middle) < 2, (left, middle, right)
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    left, middle, right = edges()
    assert left < middle - 8 and abs(right - middle) < 2, (left, middle, right)


def test_a_table_wider_than_a_phone_shows_that_it_scrolls(app, session, page) -> None:
    """On a phone a wide table (users, departments, reports) scrolls sideways inside its box;
    its cut-off column read as the end of the table. A shadow at the side that hides more
    says there is more, and goes once scrolled to that end."""
    make_user(session, email="admin@example.com", name="Ada", role="admin")
    session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, "admin@example.com")
    page.goto("/staff/admin/departments")
    table = page.locator("main table")
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    # Only what the table's own box paints: its cells' text and lines hidden.
    page.add_style_tag(content="main table * { visibility: hidden !important; }")
    _shadow_on_the_side_that_hides_more(table)


def test_a_customer_name_without_spaces_does_not_widen_the_inbox(app, session, page) -> None:
    # The contact form takes a name of up to 200 characters: one of them with no space (or a
    # long address) made the customer column as wide as the name, the subjects and previews a
    # word a line beside it, and on a phone every card, and the page, scrolled sideways.
    make_user(session, email="lead@example.com", name="Lena Lead", role="lead")
    _queue(session, app.config)
    long_name = "A" * 200
    make_ticket(session, customer=make_customer(session, name=long_name), subject="Noisy fridge")
    bob = make_customer(session, name=None, email="bob.miller@example.org")
    make_ticket(session, customer=bob, subject="Where is my order?")
    session.commit()
    _sign_in(page, "lead@example.com")
    for width in (1280, browser_tools.PHONE["width"]):
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        assert browser_tools.overflow_px(page) == 0, width
        name = page.locator("table.inbox td.customer", has_text=long_name).locator(".who")
        box = name.bounding_box()
        assert box["width"] <= 300 and box["x"] + box["width"] <= width, width
        # An ordinary address still reads whole.
        address = page.locator("table.inbox td.customer", has_text="bob.miller@example.org")
        lines = address.evaluate(
            """cell => {
                 const range = document.createRange();
                 range.selectNodeContents(cell.firstElementChild || cell.firstChild);
                 return range.getClientRects().length;
               }"""
        )
        assert lines == 1, width


def test_the_staff_tools_line_is_one_size(session, page) -> None:
    """The "Sign out" (a button styled as a link, 15 px) and the language switch (16 px) stood out
    larger than the tools beside them (14 px) at the end of the same line."""
    make_user(session, email="mei@example.com", name="Mei Chen")
    session.commit()
    _sign_in(page, "mei@example.com")
    sizes = page.evaluate(
        """() => ['.staff-tools a', '.staff-tools button.linkish', '.lang-switch a']
             .map(s => getComputedStyle(document.querySelector(s)).fontSize)"""
    )
    assert len(set(sizes)) == 1, sizes
