"""An agent's everyday keys and pickers in a real browser (Playwright + system Chromium): `a`
takes the selected or current inbox rows, the searchable saved-reply picker, and the inbox's
tickets on the first screen of a laptop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.core.db import utcnow
from support.desk.models import Message, SavedReply, Ticket
from tests.browser_tools import chromium
from tests.factories import department, make_customer, make_ticket, make_user
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff.test_workspace_browser import _sign_in, app_settings  # noqa: F401
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


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


@pytest.fixture
def saved(session, desk):
    """Three saved replies of Customer Service's: one found only by a word of its body."""
    service = department(session, "service")
    replies = [
        SavedReply(
            scope="department",
            department_id=service.id,
            title=title,
            body=body,
            owner_id=desk["agent"].id,
        )
        for title, body in (
            ("Greeting", "Dear {customer_name}, thank you for writing to us about your return."),
            (
                "Return label",
                "Your return label for {reference} is attached. Money back in 5 days.",
            ),
            ("退货流程", "您好 {customer_name}，退货请先在订单页申请。"),
        )
    ]
    session.add_all(replies)
    session.commit()
    return replies


def test_saved_replies_are_found_by_typing_and_inserted_at_the_cursor(page, desk, saved) -> None:  # noqa: F811
    kettle = desk["tickets"][0]
    _sign_in(page, "agent@example.com")
    page.goto(f"/staff/tickets/{kettle.id}")
    box = page.locator("#reply-body")
    box.fill("Hello,\n\n\nKind regards")
    box.click(position={"x": 5, "y": 5})  # the agent puts the cursor in the box...
    box.evaluate("b => b.setSelectionRange(8, 8)")  # ...on the empty line

    search = page.get_by_role("combobox", name="Saved reply")
    expect(page.locator("select#saved-reply")).to_be_hidden()  # the no-JS fallback
    search.fill("money back")  # words of the body, not of the title
    options = page.get_by_role("listbox", name="Saved reply").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Return label")
    search.fill("")
    search.press("ArrowDown")
    expect(options).to_have_count(3)
    search.fill("退货")
    expect(options).to_have_count(1)
    search.fill("return")  # in one's title and in the other's text: the title's first
    expect(options).to_have_count(2)
    expect(options.first).to_contain_text("Return label")
    search.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(search).to_have_attribute("aria-expanded", "true")
    search.press("Enter")  # inserts: it does not send the reply
    expected = f"Your return label for {kettle.reference} is attached. Money back in 5 days."
    expect(box).to_have_value(f"Hello,\n\n{expected}\nKind regards")
    expect(search).to_have_value("")
    expect(search).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("document.activeElement.id") == "reply-body"
    assert "/staff/tickets/" in page.url and "reply" not in page.url

    search.fill("Dear")
    options.filter(has_text="Greeting").click()
    expect(box).to_have_value(re.compile("Dear Wang Fang, thank you for writing to us"))

    search.fill("no such words anywhere")
    expect(options).to_have_count(0)
    expect(page.get_by_text("No saved reply matches.")).to_be_visible()


def test_the_saved_replies_list_stays_open_when_the_agent_comes_back_at_once(
    page,  # noqa: F811
    desk,
    saved,
) -> None:
    """Leaving the box closed the list 150 ms later even when the agent had come back: the
    list opened under the pointer and vanished (CI's click on an option timed out on it)."""
    kettle = desk["tickets"][0]
    _sign_in(page, "agent@example.com")
    page.goto(f"/staff/tickets/{kettle.id}")
    search = page.get_by_role("combobox", name="Saved reply")
    search.focus()
    page.locator("#reply-body").focus()  # away: the list's close is due in 150 ms
    search.focus()  # and back at once
    search.fill("Dear")
    page.wait_for_timeout(400)
    options = page.get_by_role("listbox", name="Saved reply").get_by_role("option")
    expect(options.filter(has_text="Greeting")).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")


def test_without_javascript_the_saved_replies_are_a_select_and_insert(
    live_server,  # noqa: F811
    desk,
    saved,
) -> None:
    kettle = desk["tickets"][0]
    with chromium() as browser:
        context = browser.new_context(base_url=live_server, java_script_enabled=False)
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto("/staff/login")
        tab.get_by_label("Email address").fill("agent@example.com")
        tab.get_by_label("Password").fill(PASSWORD)
        tab.get_by_role("button", name="Sign in").click()
        tab.goto(f"/staff/tickets/{kettle.id}")
        expect(tab.get_by_role("combobox", name="Saved reply")).to_have_count(1)
        tab.locator("select#saved-reply").select_option(label="Greeting")
        tab.get_by_role("button", name="Insert", exact=True).click()
        expect(tab.locator("#reply-body")).to_have_value(
            "Dear Wang Fang, thank you for writing to us about your return."
        )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_on_a_laptop_the_inbox_tickets_start_on_the_first_screen(
    page,  # noqa: F811
    desk,
    live_server,  # noqa: F811
    language,
) -> None:
    """At 1366x900 the filters (two lines), the saved-view line and the bulk actions (three
    lines) pushed the first ticket down to 640 px: four rows in view. They take a line each
    where they fit now, and still fit the width."""
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, "agent@example.com")
    page.context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
    page.goto("/staff/inbox/service")
    first = page.locator("table.inbox tbody tr").first.bounding_box()
    assert first is not None and first["y"] < 520, first
    filters = page.locator("form.filters")
    fields = filters.locator("select, input, button").all()
    tops = {round(f.bounding_box()["y"]) for f in fields if f.is_visible()}
    assert max(tops) - min(tops) < 10, tops  # the filters on one line
    status = page.locator("form.filters select").first
    assert status.evaluate("s => s.scrollWidth <= s.clientWidth + 1")  # its text not cut
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


@pytest.mark.parametrize("size", [(1366, 900), (390, 844)], ids=["laptop", "phone"])
def test_a_held_reply_shows_why_and_send_anyway_in_view(
    page,  # noqa: F811
    desk,
    session,
    size,
) -> None:
    """Ctrl+Enter on an English reply to a Chinese customer brought the page back at its top:
    with a conversation of a few mails the warning was below the first screen and "Send
    anyway" two screens down, after the box, the copies and the files; the focus was nowhere.
    The warning comes into view with "Send anyway" beside it, the text box focused."""
    li = make_customer(session, name="李强", email="liqiang@example.cn")
    text = "刚买的电暖器使用半小时后插头位置冒烟，已经断电了。请尽快联系我！\n\n" * 6
    ticket = make_ticket(session, customer=li, subject="电暖器冒烟", body=text)
    ticket.language = "zh"
    for n in range(3):
        session.add(
            Message(
                ticket=ticket,
                direction="in",
                from_address=li.email,
                subject="电暖器冒烟",
                body_text=f"第{n + 2}封：还在等你们的回复。\n\n" + text,
                new_text=f"第{n + 2}封：还在等你们的回复。\n\n" + text,
                language="zh",
                created_at=utcnow(),
            )
        )
    for message in ticket.messages:
        message.language = "zh"
    session.commit()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    _sign_in(page, "agent@example.com")
    page.goto(f"/staff/tickets/{ticket.id}")
    page.keyboard.press("r")
    english = "Please unplug the heater at once and do not use it again, thank you."
    page.keyboard.type(english)
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    warning = page.get_by_test_id("reply-language")
    anyway = page.get_by_role("button", name="Send anyway")
    expect(warning).to_be_in_viewport()
    expect(anyway).to_be_in_viewport()
    box = page.locator("#reply-body")
    expect(box).to_be_focused()
    expect(box).to_have_value(english)
    anyway.click()
    expect(page.locator(".flash")).to_contain_text("Reply queued for sending")


def test_keys_work_after_ticking_rows_with_the_mouse(page, desk) -> None:  # noqa: F811
    """Ticking two rows' boxes with the mouse and pressing a (or e) did nothing: the focused
    checkbox counted as typing in a field, and every shortcut was off."""
    _sign_in(page, "agent@example.com")
    page.goto("/staff/inbox/service")
    rows = page.locator("table.inbox tbody tr")
    rows.nth(1).locator("input[type=checkbox]").click()
    rows.nth(2).locator("input[type=checkbox]").click()
    with page.expect_navigation():
        page.keyboard.press("a")
    expect(page.get_by_text("2 tickets assigned to you:")).to_be_visible()
    url = page.url
    page.get_by_label("Tag to add or remove").press_sequentially("ae")  # typing stays typing
    expect(page.get_by_label("Tag to add or remove")).to_have_value("ae")
    assert page.url == url


def test_a_saved_reply_put_where_the_cursor_ends_a_line_starts_a_paragraph(
    page,  # noqa: F811
    desk,
    saved,
) -> None:
    """With the cursor at the end of the text (Ctrl+End after a signature) or before a word, an
    insert was glued to the words beside it: "…Andy Your return label…" went to the customer as
    one line. A blank line now keeps it apart; a cursor on an empty line (above) stays as it is."""
    kettle = desk["tickets"][0]
    _sign_in(page, "agent@example.com")
    page.goto(f"/staff/tickets/{kettle.id}")
    box = page.locator("#reply-body")
    box.fill("Hello,\nKind regards")
    box.click()
    box.press("Control+End")
    search = page.get_by_role("combobox", name="Saved reply")
    search.fill("money back")
    search.press("ArrowDown")
    search.press("Enter")
    label = f"Your return label for {kettle.reference} is attached. Money back in 5 days."
    expect(box).to_have_value(f"Hello,\nKind regards\n\n{label}")

    box.evaluate("b => b.setSelectionRange(0, 0)")  # before "Hello,"
    search.fill("Greeting")
    search.press("ArrowDown")
    search.press("Enter")
    greeting = "Dear Wang Fang, thank you for writing to us about your return."
    expect(box).to_have_value(f"{greeting}\n\nHello,\nKind regards\n\n{label}")


def test_back_from_a_ticket_the_inbox_marks_where_the_agent_was(page, desk, session) -> None:  # noqa: F811
    """`u` (or "‹ inbox") from a ticket came back to an inbox with no current row: `j` started
    again at the top. The row of the ticket just left is current again; once that ticket has
    left the list (resolved), the row that followed it is."""
    _sign_in(page, "agent@example.com")
    page.goto("/staff/inbox/service")
    rows = page.locator("table.inbox tbody tr")
    subjects = rows.locator("td.subject > a").all_inner_texts()
    assert len(subjects) == 3
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url("**/staff/tickets/**")
    page.keyboard.press("u")
    page.wait_for_url("**/staff/inbox/service*")
    expect(page.locator("tr.current td.subject > a")).to_have_text(subjects[1])
    page.keyboard.press("j")
    expect(page.locator("tr.current td.subject > a")).to_have_text(subjects[2])

    page.keyboard.press("k")
    page.keyboard.press("o")
    page.wait_for_url("**/staff/tickets/**")
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.wait_for_load_state()
    page.keyboard.press("u")
    page.wait_for_url("**/staff/inbox/service*")
    expect(rows).to_have_count(2)
    expect(page.locator("tr.current td.subject > a")).to_have_text(subjects[2])
