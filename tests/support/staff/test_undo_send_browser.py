"""Undo send in a real browser (Playwright + the system Chromium, CSRF on): the banner counts
down, `z` (or its button) takes the reply back, the text is in the box again and the ticket is
as it was; on a desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.desk.models import OutboundMail, Ticket
from tests.browser_tools import overflow_px, sign_in
from tests.factories import make_ticket, make_user
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    # Long enough for a slow machine to load the page and press z; nothing waits for it.
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en", "REPLY_UNDO_SECONDS": 30}


@pytest.mark.parametrize(("width", "height", "by_key"), [(1366, 900, True), (390, 844, False)])
def test_send_and_resolve_then_undo(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
    width: int,
    height: int,
    by_key: bool,
) -> None:
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="Kettle", body="It never heats.")
    session.commit()
    ticket_id = ticket.id  # read now: a lazy load later holds SQLite's lock against the page
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}?queue=service")

    page.get_by_label("Reply to the customer").fill("A new kettle is on its way.")
    page.get_by_role("button", name="Send and resolve").click()
    banner = page.get_by_test_id("held-reply")
    expect(banner).to_contain_text("Sending in")
    expect(page.get_by_test_id("ticket-status")).to_have_text("resolved")
    assert overflow_px(page) == 0
    page.wait_for_load_state()  # app.js (deferred) listens from here on
    first = banner.text_content()
    expect(banner).not_to_have_text(first or "")  # counting down

    if by_key:
        page.keyboard.press("z")
    else:
        banner.get_by_role("button", name="Undo").click()
    expect(page.locator(".flash")).to_contain_text("Sending undone")
    expect(page.get_by_label("Reply to the customer")).to_have_value("A new kettle is on its way.")
    expect(page.get_by_test_id("held-reply")).to_have_count(0)
    expect(page.get_by_test_id("ticket-status")).not_to_have_text("resolved")
    assert overflow_px(page) == 0
    session.expire_all()
    assert session.get(Ticket, ticket_id).status == "new"
    assert (
        session.scalars(select(OutboundMail).where(OutboundMail.ticket_id == ticket_id)).all() == []
    )
    session.rollback()


@pytest.mark.parametrize(
    ("lang", "label"), [("en", "Your reply on another ticket"), ("zh", "您在另一张工单上的回复")]
)
def test_another_tickets_banner_says_which_and_leads_there(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
    lang: str,
    label: str,
) -> None:
    # Sent, then on to the next ticket: the reply is still the agent's to take back, so the
    # banner there names the ticket it is about and links to it (it read "SUP-00001: Sending
    # in 27 s" on a phone, the Undo undoing a ticket no longer on the screen).
    make_user(session, email="agent@example.com", name="Andy")
    sent = make_ticket(session, subject="Kettle never heats", body="It never heats.")
    other = make_ticket(session, subject="Lid broken", body="The lid snapped.")
    session.commit()
    sent_id, other_id, reference = sent.id, other.id, sent.reference
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{sent_id}?queue=service&lang={lang}")
    page.locator("textarea[name='reply-body']").fill("A new kettle is on its way.")
    page.get_by_test_id("send-resolve").click()
    expect(page.get_by_test_id("held-reply")).to_have_count(1)
    expect(page.get_by_test_id("held-ticket")).to_have_count(0)  # its own ticket: no link

    page.goto(f"/staff/tickets/{other_id}?queue=service")
    banner = page.get_by_test_id("held-reply")
    expect(banner).to_contain_text(label)
    link = banner.get_by_test_id("held-ticket")
    expect(link).to_have_text(f"{reference} · Kettle never heats")
    assert overflow_px(page) == 0
    page.screenshot(path=f"/tmp/tap-held-other-phone-{lang}.png")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=f"/tmp/tap-held-other-laptop-{lang}.png")
    link.click()
    page.wait_for_url(f"**/staff/tickets/{sent_id}")
    expect(page.get_by_test_id("held-reply")).to_have_count(1)
    expect(page.get_by_test_id("held-ticket")).to_have_count(0)


def test_z_undoes_only_this_tickets_reply(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
) -> None:
    # Sent on the lid ticket, then on the kettle one (the newest), back on the lid ticket: z
    # took back the kettle reply, which was not on the screen. It takes back this ticket's
    # only; with none here it does nothing (the other ticket's banner has its own Undo).
    make_user(session, email="agent@example.com", name="Andy")
    lid = make_ticket(session, subject="Lid broken", body="The lid snapped.")
    kettle = make_ticket(session, subject="Kettle never heats", body="It never heats.")
    session.commit()
    lid_id, kettle_id = lid.id, kettle.id
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    sent = ((lid_id, "A new lid is on its way."), (kettle_id, "A new kettle."))
    for count, (ticket_id, text) in enumerate(sent, start=1):
        page.goto(f"/staff/tickets/{ticket_id}?queue=service")
        page.locator("textarea[name='reply-body']").fill(text)
        page.get_by_test_id("send-resolve").click()
        expect(page.get_by_test_id("held-reply")).to_have_count(count)

    page.goto(f"/staff/tickets/{lid_id}?queue=service")
    expect(page.get_by_test_id("held-reply")).to_have_count(2)
    for button in page.get_by_test_id("undo-send").all():  # a finger's size on a phone
        box = button.bounding_box()
        assert box is not None and box["width"] >= 44 and box["height"] >= 44, box
    page.wait_for_load_state()
    page.keyboard.press("z")
    expect(page.locator(".flash")).to_contain_text("Sending undone")
    expect(page.get_by_label("Reply to the customer")).to_have_value("A new lid is on its way.")
    expect(page.get_by_test_id("held-reply")).to_have_count(1)
    expect(page.get_by_test_id("held-ticket")).to_contain_text("Kettle never heats")

    page.wait_for_load_state()
    page.evaluate("window.stillHere = true")
    page.keyboard.press("z")  # no reply of this ticket held: nothing happens
    page.wait_for_timeout(500)
    assert page.evaluate("window.stillHere === true")
    expect(page.get_by_test_id("held-reply")).to_have_count(1)
    session.expire_all()
    held = {
        m.ticket_id: m.state
        for m in session.scalars(select(OutboundMail).where(OutboundMail.kind == "reply"))
    }
    session.rollback()
    assert held == {kettle_id: "held"}


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_once_the_hold_is_over_the_banner_offers_no_undo(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
    width: int,
    height: int,
) -> None:
    """At 0 the banner said "Reply sent to the outbox. — Undo": app.js hid the button with the
    `hidden` attribute, which the stylesheet's `button { display:inline-block }` overrode."""
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="Kettle", body="It never heats.")
    session.commit()
    ticket_id = ticket.id
    page.set_viewport_size({"width": width, "height": height})
    page.clock.install()
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}?queue=service")
    page.get_by_label("Reply to the customer").fill("A new kettle is on its way.")
    page.locator("input[name=reply-send]").click()
    banner = page.get_by_test_id("held-reply")
    expect(banner.get_by_role("button", name="Undo")).to_be_visible()
    page.wait_for_load_state()

    page.clock.run_for(31_000)  # the hold (30 s) is over in the page's clock

    expect(banner).to_contain_text("Reply sent to the outbox.")
    expect(banner.get_by_role("button", name="Undo")).to_be_hidden()
    assert "—" not in (banner.inner_text() or "")
    page.keyboard.press("z")  # nothing left to undo here
    expect(banner).to_contain_text("Reply sent to the outbox.")


@pytest.mark.parametrize(
    ("lang", "during", "after"),
    [
        ("en", "you can undo it until then", "in the outbox"),
        ("zh", "在此之前可以撤销", "已进入发件队列"),
    ],
)
def test_once_the_hold_is_over_the_notice_and_the_message_promise_no_undo(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
    lang: str,
    during: str,
    after: str,
) -> None:
    # A trial: the banner said "Reply sent to the outbox." at 0, while the notice above it
    # still said "goes out in 30 s: you can undo it until then" and the reply in the
    # conversation "not sent yet: its author may still undo it".
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="Kettle", body="It never heats.")
    session.commit()
    ticket_id = ticket.id
    page.set_viewport_size({"width": 390, "height": 844})
    page.clock.install()
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}?queue=service&lang={lang}")
    page.locator("textarea[name='reply-body']").fill("A new kettle is on its way.")
    page.locator("input[name=reply-send]").click()
    flash, marker = page.locator(".flash"), page.get_by_test_id("held-message")
    expect(flash).to_contain_text(during)
    expect(marker).to_have_count(1)
    undo_promise = marker.inner_text()
    page.wait_for_load_state()

    page.clock.run_for(31_000)  # the hold (30 s) is over in the page's clock

    expect(flash).to_contain_text(after)
    expect(flash).not_to_contain_text(during)
    expect(marker).to_contain_text(after)
    expect(marker).not_to_have_text(undo_promise)
    assert overflow_px(page) == 0
