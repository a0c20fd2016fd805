"""The agent's ticket page in a real browser (Playwright + the system Chromium), on a desktop and
a phone: the customer's latest message first, saved replies inserted without a reload, triage's
best guess preselected with its reason, and "Send and next"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from faq.models import Article, Category
from support.core.db import utcnow
from support.desk.models import Message, SavedReply, Ticket
from support.desk.sla import start_clock
from tests import browser_tools
from tests.browser_tools import chromium
from tests.factories import department, make_customer, make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser

AUTO_REPLY = (
    "Thank you for writing to us. Your reference is SUP-00001.\n"
    + "\n".join(f"See https://help.example.com/a/{n}?t=abcdef0123456789" for n in range(12))
    + "\nCustomer Service will answer within 1 hour.\n" * 3
)


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def live_server(app) -> Iterator[str]:
    with browser_tools.live_server(app) as base_url:
        yield base_url


@pytest.fixture
def browser(live_server):
    with chromium() as launched:
        yield launched


def _tab(browser, live_server: str, viewport: dict):
    context = browser.new_context(base_url=live_server, locale="en-US", viewport=viewport)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    return tab


def _sign_in(page, email: str) -> None:
    page.goto("/staff/login?lang=en")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/staff/inbox/**")


def _emergency(session, config):
    """An emergency with an auto-reply full of links, our reply and a second customer mail."""
    now = utcnow()
    customer = make_customer(session, name="Wang Fang")
    ticket = make_ticket(
        session,
        customer=customer,
        subject="Heater smoking",
        urgency=5,
        body="The heater in the shop started smoking this morning. What should we do?",
        created_at=now - timedelta(minutes=50),
    )
    ticket.messages[0].created_at = now - timedelta(minutes=50)
    start_clock(ticket, config, now=now - timedelta(minutes=50))
    extra = [
        ("auto", "Customer Service", AUTO_REPLY, True, 49),
        ("out", "Mei Chen", "Please unplug it and keep away. A technician is coming.", False, 30),
        ("in", "Wang Fang", "It is unplugged but still smells of smoke. Is that safe?", False, 5),
    ]
    for direction, name, text, automatic, minutes in extra:
        session.add(
            Message(
                ticket=ticket,
                direction=direction,
                from_name=name,
                from_address=customer.email if direction == "in" else "service@example.com",
                subject="Re: Heater smoking",
                body_text=text,
                new_text=text,
                is_automatic=automatic,
                automatic_reason="auto-reply" if automatic else None,
                created_at=now - timedelta(minutes=minutes),
            )
        )
    session.commit()
    return ticket


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_customers_latest_message_is_first_on_the_page(
    app, session, browser, live_server, viewport
) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = _emergency(session, app.config)
    page = _tab(browser, live_server, viewport)
    _sign_in(page, "mei@example.com")
    page.goto(f"/staff/tickets/{ticket.id}")

    page.screenshot(path=f"/tmp/ticket-page-{viewport['width']}.png")  # to look at
    latest = page.get_by_test_id("latest-customer-message")
    expect(latest).to_contain_text("still smells of smoke")
    box = latest.bounding_box()
    text_box = latest.locator(".text").bounding_box()
    composer = page.locator("#composer").bounding_box()
    assert box is not None and text_box is not None and composer is not None
    # Its words are on the first screen, and it comes before the reply box.
    assert text_box["y"] + text_box["height"] <= viewport["height"], (box, viewport)
    assert box["y"] < composer["y"]
    # The automatic mail is one closed line, its links not shown.
    auto = page.get_by_test_id("automatic-mail")
    assert auto.count() == 1 and auto.get_attribute("open") is None
    auto_box = auto.bounding_box()
    assert auto_box is not None and auto_box["height"] < 60
    expect(page.get_by_text("https://help.example.com/a/3", exact=False)).to_be_hidden()
    # Sidebar: the due time names its zone; on a phone it comes below the composer.
    due = page.get_by_test_id("due-time")
    assert app.config["COMPANY_TIMEZONE"] in due.inner_text()
    aside = page.locator("aside.ticket-aside").bounding_box()
    assert aside is not None
    if viewport is PHONE:
        assert aside["y"] > composer["y"]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page is {width} px wide"
    else:
        assert aside["x"] > box["x"] + box["width"] - 1
    print(
        f"{viewport['width']}x{viewport['height']}: latest customer message at y={box['y']:.0f}, "
        f"its text ends at {text_box['y'] + text_box['height']:.0f}, composer at "
        f"y={composer['y']:.0f}"
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_long_saved_reply_title_stays_inside_the_reply_card(
    app, session, browser, live_server, viewport
) -> None:
    # The picker's select grew past the reply card's edge with a long title (120 characters).
    agent = make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session, subject="Where is my order?")
    title = "Repair instructions for appliances returned under warranty " * 2
    session.add(SavedReply(scope="personal", owner_id=agent.id, title=title[:120], body="Hi"))
    session.commit()
    page = _tab(browser, live_server, viewport)
    _sign_in(page, agent.email)
    page.goto(f"/staff/tickets/{ticket.id}")
    card = page.locator("form:has(#saved-reply)").bounding_box()
    search = page.get_by_role("combobox", name="Saved reply")
    search.fill("repair")  # the search box and its list, the long title in it
    option = page.get_by_role("listbox", name="Saved reply").get_by_role("option").first
    for part in (search.bounding_box(), option.bounding_box()):
        assert card is not None and part is not None
        assert part["x"] + part["width"] <= card["x"] + card["width"] + 0.5
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_a_saved_reply_is_inserted_with_placeholders_without_a_reload(
    app, session, browser, live_server
) -> None:
    agent = make_user(session, email="mei@example.com", name="Mei Chen", display_alias="Vivian")
    customer = make_customer(session, name="Chen <Jing>")
    ticket = make_ticket(session, customer=customer, subject="Where is my order?")
    session.commit()
    page = _tab(browser, live_server, DESKTOP)
    _sign_in(page, agent.email)
    # Written on the management page (with CSRF on, as in production) ...
    page.goto(f"/staff/tickets/{ticket.id}")
    page.get_by_role("link", name="Manage saved replies").click()
    page.get_by_label("Title").fill("Order on its way")
    page.get_by_label("Text").fill(
        "Dear {customer_name}, your order ({reference}) is on its way. {agent_name} {x}"
    )
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved reply “Order on its way” created.").wait_for()
    # ... and inserted on the ticket page.
    page.goto(f"/staff/tickets/{ticket.id}")
    box = page.get_by_label("Reply to the customer")
    box.fill("Hello,")
    page.evaluate("window.__stillHere = true")
    url = page.url
    search = page.get_by_role("combobox", name="Saved reply")
    search.fill("its way")
    search.press("Enter")  # the one reply left
    expected = (
        f"Hello,\n\nDear Chen <Jing>, your order ({ticket.reference}) is on its way. Vivian {{x}}"
    )
    page.wait_for_function(
        "expected => document.getElementById('reply-body').value === expected", arg=expected
    )
    assert box.input_value() == expected
    assert page.evaluate("window.__stillHere === true")  # no navigation happened
    assert page.url == url
    expect(page.get_by_text("Saved reply inserted.")).to_be_visible()


def test_triage_preselects_the_best_guess_and_says_why(app, session, browser, live_server) -> None:
    make_user(session, email="tri@example.com", name="Tao Tri", can_triage=True)
    ticket = make_ticket(
        session, department_code=None, needs_triage=True, subject="Question about an invoice"
    )
    ticket.classification = {
        "department": {
            "label": "finance",
            "probability": 0.3,
            "reasons": ["invoice +1.2"],
            "source": "fallback",
            "triage_reason": "low_confidence",
        }
    }
    finance = department(session, "finance").id
    session.commit()
    page = _tab(browser, live_server, DESKTOP)
    _sign_in(page, "tri@example.com")
    page.goto(f"/staff/tickets/{ticket.id}")
    assert page.locator("#department-department").input_value() == str(finance)
    reason = page.get_by_test_id("triage-reason")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("30% < 45% threshold")
    page.get_by_role("button", name="Move").click()
    # A triager works no department: the ticket is out of their sight now, and they are told.
    expect(page.locator(".flash")).to_contain_text(
        "moved to Finance, a department you do not work in: you can no longer open it."
    )


def test_the_move_warning_appears_only_when_a_department_that_unassigns_is_chosen(
    session, browser, live_server
) -> None:
    """The Department box said "Moving to … unassigns Li Wei" from the start, before anything
    was chosen: with JavaScript it shows only while another department that drops the assignee
    is chosen, and names that one (the page without it names all: test_ticket_workspace)."""
    make_user(session, email="lead@example.com", name="Lena Lead", role="admin")
    agent = make_user(session, name="Li Wei", departments=("service", "sales"))
    ticket = make_ticket(session, subject="Kettle")
    ticket.assignee_id = agent.id
    finance, sales, service = (department(session, c).id for c in ("finance", "sales", "service"))
    session.commit()
    page = _tab(browser, live_server, DESKTOP)
    _sign_in(page, "lead@example.com")
    page.goto(f"/staff/tickets/{ticket.id}")
    box = page.locator("#department-department")
    warning = page.get_by_test_id("move-warning")
    assert box.input_value() == str(service)
    expect(warning).to_be_hidden()
    assert box.get_attribute("aria-describedby") is None

    box.select_option(str(finance))
    expect(warning).to_be_visible()
    expect(warning).to_have_text("Moving to Finance unassigns Li Wei, who does not work there.")
    assert box.get_attribute("aria-describedby") == "move-warning"
    box.select_option(str(sales))  # Li Wei works there too
    expect(warning).to_be_hidden()
    box.select_option(str(service))
    expect(warning).to_be_hidden()


def test_send_and_next_lands_on_the_next_ticket_of_the_queue(
    app, session, browser, live_server
) -> None:
    make_user(session, email="mei@example.com", name="Mei Chen")
    now = utcnow()
    made = {}
    for subject, urgency, minutes in (
        ("Toaster sparks", 5, 20),
        ("Kettle leaks", 2, 90),
        ("Invoice wrong", 4, 60),
    ):
        ticket = make_ticket(session, subject=subject, urgency=urgency)
        start_clock(ticket, app.config, now=now - timedelta(minutes=minutes))
        made[subject] = ticket
    session.commit()
    page = _tab(browser, live_server, DESKTOP)
    _sign_in(page, "mei@example.com")
    page.get_by_role("link", name="Toaster sparks").click()
    page.get_by_label("Reply to the customer").fill("A technician is on the way.")
    page.get_by_role("button", name="Send and next").click()
    page.wait_for_url(f"**/staff/tickets/{made['Invoice wrong'].id}?queue=service")
    expect(page.locator("h1")).to_contain_text("Invoice wrong")
    expect(page.locator(".flash")).to_contain_text("Reply queued for sending")
    page.get_by_role("button", name="Resolve and next").click()
    page.wait_for_url(f"**/staff/tickets/{made['Kettle leaks'].id}?queue=service")


def test_an_faq_answer_is_found_and_inserted_without_a_reload(
    app, session, browser, live_server
) -> None:
    agent = make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session, subject="Returning a kettle")
    category = Category(slug="returns", name_en="Returns")
    session.add_all(
        [
            category,
            Article(
                slug="return-policy",
                category=category,
                language="en",
                question="How do I return a kettle?",
                answer_md="Return it within **30 days** with the receipt.",
            ),
        ]
    )
    session.commit()
    page = _tab(browser, live_server, DESKTOP)
    _sign_in(page, agent.email)
    page.goto(f"/staff/tickets/{ticket.id}")
    page.get_by_label("Reply to the customer").fill("Dear customer,")
    page.evaluate("window.__stillHere = true")
    page.get_by_text("Insert an FAQ answer").click()
    # Opening the picker searches the ticket's subject at once.
    assert page.get_by_label("Find an FAQ answer").input_value() == "Returning a kettle"
    page.get_by_text("How do I return a kettle?").wait_for()
    page.get_by_label("Find an FAQ answer").fill("return kettle")
    page.get_by_label("Find an FAQ answer").press("Enter")
    page.get_by_text("How do I return a kettle?").wait_for()
    page.get_by_role("button", name="Insert this answer").click()
    # The answer, then a link to its article for the customer to keep.
    expected = "Dear customer,\n\nReturn it within 30 days with the receipt.\n\nhttp"
    page.wait_for_function(
        "expected => document.getElementById('reply-body').value.startsWith(expected)"
        " && document.getElementById('reply-body').value.endsWith('/a/return-policy?lang=en')",
        arg=expected,
    )
    assert page.evaluate("window.__stillHere === true")
    assert session.scalar(select(Ticket.first_response_at).where(Ticket.id == ticket.id)) is None
    session.commit()


def test_the_customer_card_says_what_time_it_is_for_the_customer(
    app, session, browser, live_server
) -> None:
    """Intake keeps the offset of the customer's Date header: the card says it is 03:46 for a
    customer on UTC-5 (a call or a "good morning" can wait), and nothing for one on our clock."""
    make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = _emergency(session, app.config)
    latest = max((m for m in ticket.messages if m.direction == "in"), key=lambda m: m.created_at)
    latest.date_offset_minutes = -300
    session.commit()
    page = _tab(browser, live_server, PHONE)
    _sign_in(page, "mei@example.com")
    page.goto(f"/staff/tickets/{ticket.id}")
    theirs = utcnow().astimezone(timezone(timedelta(hours=-5)))
    clock = page.get_by_test_id("customer-clock")
    expect(clock).to_contain_text("(UTC-5), from the date of their last mail")
    assert clock.inner_text().split("now: ")[1][:5] in {
        f"{theirs:%H:%M}",
        f"{theirs + timedelta(minutes=1):%H:%M}",
    }
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    latest.date_offset_minutes = 8 * 60  # Shanghai's clock: nothing to say
    session.commit()
    page.reload()
    expect(page.get_by_test_id("customer-clock")).to_have_count(0)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_the_customer_card_names_the_earlier_mail_whose_clock_it_tells(
    app, session, browser, live_server, viewport, lang
) -> None:
    """The card said "from the date of their last mail" when the last mail's Date was +0000
    (no zone) and an earlier mail's offset was used: it says which mail it was."""
    make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = _emergency(session, app.config)
    first, last = sorted(
        (m for m in ticket.messages if m.direction == "in"), key=lambda m: m.created_at
    )
    first.date_offset_minutes, last.date_offset_minutes = -300, None
    when = first.created_at.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    session.commit()
    page = _tab(browser, live_server, viewport)
    _sign_in(page, "mei@example.com")
    page.goto(f"/staff/tickets/{ticket.id}?lang={lang}")
    clock = page.get_by_test_id("customer-clock")
    if lang == "en":
        expect(clock).to_contain_text(
            f"(UTC-5), from the date of their mail of {when} (their last mail gave no time zone)"
        )
    else:
        expect(clock).to_contain_text(
            f"（UTC-5），依据其 {when} 那封邮件的日期（最近一封邮件未注明时区）"
        )
    assert "last mail," not in clock.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    clock.scroll_into_view_if_needed()
    page.screenshot(path=f"/tmp/agentpolish-{lang}-{viewport['width']}-customer-clock.png")


def test_the_saved_reply_search_finds_traditional_and_simplified_alike(
    app, session, browser, live_server
) -> None:
    """A Hong Kong colleague wrote 退貨說明 in Traditional; an agent types 退货 (Simplified) and
    found nothing, nor did 退貨 find the Simplified 退货流程. Each reply carries a search key in
    both scripts from the server (support.core.text), as the browser has no converter."""
    agent = make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session, subject="Where is my order?")
    for title, body in (("退貨說明", "請把商品寄回"), ("换货流程", "请把商品寄回")):
        session.add(SavedReply(scope="personal", owner_id=agent.id, title=title, body=body))
    session.commit()
    page = _tab(browser, live_server, DESKTOP)
    _sign_in(page, agent.email)
    page.goto(f"/staff/tickets/{ticket.id}")
    search = page.get_by_role("combobox", name="Saved reply")
    options = page.get_by_role("listbox", name="Saved reply").get_by_role("option")
    for typed, found in (("退货", "退貨說明"), ("換貨", "换货流程"), ("寄回", None)):
        search.fill(typed)
        if found is None:
            expect(options).to_have_count(2)
        else:
            expect(options).to_have_count(1)
            expect(options.first).to_contain_text(found)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["laptop", "phone"])
def test_the_faq_answers_are_found_before_the_send_buttons(
    app, session, browser, live_server, viewport
) -> None:
    """The "Insert an FAQ answer" sat below Send, Cc and the files: the agent scrolled past Send to
    insert an answer (on a phone two screens down) and back up to send. It now follows the
    text box, before the copies, the files and the send buttons."""
    agent = make_user(session, email="mei@example.com", name="Mei Chen")
    ticket = make_ticket(session, subject="Returning a kettle")
    session.commit()
    page = _tab(browser, live_server, viewport)
    _sign_in(page, agent.email)
    page.goto(f"/staff/tickets/{ticket.id}")

    def top(locator) -> float:
        return locator.bounding_box()["y"]

    picker = top(page.get_by_text("Insert an FAQ answer"))
    assert top(page.get_by_label("Reply to the customer")) < picker
    assert picker < top(page.get_by_label("Cc", exact=True))
    assert picker < top(page.get_by_role("button", name="Check and send"))
