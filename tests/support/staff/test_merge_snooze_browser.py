"""Merge with its confirmation and undo, and snooze, in a real browser (CSRF on), on a desktop
and on a phone, in English and Chinese: every step by a visible button, no sideways scrolling,
and no axe-core violations on the pages that are new."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.core.db import utcnow
from support.desk import tags
from support.desk.models import Message, Ticket
from support.desk.sla import start_clock
from tests.browser_tools import axe_script, axe_violations, overflow_px
from tests.factories import make_customer, make_ticket, make_user, same_matter_tickets
from tests.support.staff.test_presence_browser import DESKTOP, PHONE, _agent, site  # noqa: F401

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "merge": "Merge this ticket into {ref}",
        "confirm": "Merge into {ref}",
        "undo": "Undo merge",
        "undone": "Merge undone",
        "in3": "In 3 days",
        "custom": "Choose a date and time",
        "when": "Date and time",
        "snooze": "Snooze",
        "snoozed": "Snoozed until",
        "back": "Back in the queue now",
        "no_snooze": "Important and emergency tickets cannot be snoozed",
        "take_in": "Merge {ref} into this ticket",
        "kept": "Kept",
        "merge_field": "Merge into ticket (reference)",
        "merge_button": "Merge",
        "instead": "Merge {ref} into {target} instead",
    },
    "zh": {
        "merge": "将本工单合并到 {ref}",
        "confirm": "合并到 {ref}",
        "undo": "撤销合并",
        "undone": "已撤销合并",
        "in3": "3 天后",
        "custom": "选择日期和时间",
        "when": "日期和时间",
        "snooze": "暂缓",
        "snoozed": "暂缓到",
        "back": "立即回到队列",
        "no_snooze": "重要和紧急工单不能暂缓",
        "take_in": "将 {ref} 合并到本工单",
        "kept": "保留",
        "merge_field": "合并到工单（编号）",
        "merge_button": "合并",
        "instead": "改为将 {ref} 合并到 {target}",
    },
}


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


def _open(site, viewport: dict, lang: str):  # noqa: F811
    # axe-core is injected as an inline script: the page's CSP would refuse it.
    return _agent(site, "agent@example.com", viewport=viewport, lang=lang, bypass_csp=True)


def _merged_into(session, ticket_id: int) -> int | None:
    value = session.scalar(select(Ticket.merged_into_id).where(Ticket.id == ticket_id))
    session.rollback()  # no read transaction left open while the page writes (SQLite)
    return value


def _snoozed_until(session, ticket_id: int):
    value = session.scalar(select(Ticket.snoozed_until).where(Ticket.id == ticket_id))
    session.rollback()
    return value


def _looked_at(page, viewport: dict, path: str) -> None:
    """No sideways scrolling, a full-page screenshot to look at, axe-core on the desktop."""
    assert overflow_px(page) == 0
    page.screenshot(path=path, full_page=True)
    if viewport is DESKTOP:
        assert axe_violations(page, axe_script()) == []


def _two_tickets(session, app, *, answered: bool) -> tuple[int, int, str, str]:
    """The agent, and two open tickets of one customer, the older one answered or not, the
    newer one tagged (the kept ticket gains its tags with the merge): their ids and
    references, read now (a lazy load later holds SQLite's write lock against the page)."""
    andy = make_user(session, email="agent@example.com", name="Andy")
    alice = make_customer(session, name="Alice Brown", email="alice@example.org")
    first, again = same_matter_tickets(
        session, alice, "Kettle stopped heating", "Kettle stopped heating (again)"
    )
    for ticket in (first, again):
        start_clock(ticket, app.config, now=ticket.created_at)
    if answered:
        first.first_response_at = utcnow()
    for tag in ("refund", "退货"):  # the kept ticket gains them with the merge
        tags.add_tag(session, again, andy, tag)
    session.commit()
    return first.id, again.id, first.reference or "", again.reference or ""


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_merge_confirm_undo_and_snooze(site, session, app, viewport, lang) -> None:  # noqa: F811
    words = WORDS[lang]
    first_id, again_id, first_ref, again_ref = _two_tickets(session, app, answered=True)
    page = _open(site, viewport, lang)
    shots = f"/tmp/agent-s23-{lang}-{viewport['width']}"

    # 1. Merge: asked first, on a page of its own.
    page.goto(f"/staff/tickets/{again_id}")
    page.get_by_role("button", name=words["merge"].format(ref=first_ref)).click()
    confirm = page.get_by_test_id("merge-confirm")
    expect(confirm).to_contain_text(again_ref)
    expect(confirm.get_by_test_id("merge-tags").locator(".tag-chip")).to_have_text(
        ["refund", "退货"]
    )
    _looked_at(page, viewport, f"{shots}-merge-confirm.png")
    assert _merged_into(session, again_id) is None  # nothing happened yet
    page.get_by_role("button", name=words["confirm"].format(ref=first_ref)).click()
    page.wait_for_url(f"**/staff/tickets/{first_id}?queue=service")
    assert _merged_into(session, again_id) == first_id
    expect(page.get_by_test_id("ticket-tags")).to_contain_text("退货")

    # 2. Undo, from the kept ticket's head.
    banner = page.get_by_test_id("undo-merge")
    expect(banner).to_contain_text(again_ref)
    assert overflow_px(page) == 0
    page.screenshot(path=f"{shots}-undo.png")
    banner.get_by_role("button", name=words["undo"]).click()
    page.wait_for_url(f"**/staff/tickets/{again_id}?queue=service")
    expect(page.locator(".flash")).to_contain_text(words["undone"])
    assert _merged_into(session, again_id) is None

    # 3. Snooze the answered ticket for three days; it leaves the inbox until then.
    page.goto(f"/staff/tickets/{first_id}")
    snooze = page.get_by_test_id("snooze")
    snooze.get_by_label(words["in3"]).check()
    snooze.get_by_role("button", name=words["snooze"], exact=True).click()
    expect(page.get_by_test_id("snoozed-note")).to_contain_text(words["snoozed"])
    until = _snoozed_until(session, first_id)
    assert until is not None and timedelta(days=2) < until - utcnow() < timedelta(days=4)
    assert overflow_px(page) == 0
    page.screenshot(path=f"{shots}-snoozed.png")
    if viewport is DESKTOP:
        assert axe_violations(page, axe_script()) == []
    page.goto("/staff/inbox/service")
    expect(page.get_by_role("link", name="Kettle stopped heating (again)")).to_be_visible()
    expect(page.get_by_role("link", name="Kettle stopped heating", exact=True)).to_have_count(0)

    # 4. Back now, then a date and time of the agent's choosing.
    page.goto(f"/staff/tickets/{first_id}")
    page.get_by_role("button", name=words["back"]).click()
    expect(page.get_by_test_id("snoozed-note")).to_have_count(0)
    assert _snoozed_until(session, first_id) is None
    snooze = page.get_by_test_id("snooze")
    snooze.get_by_label(words["custom"]).check()
    snooze.get_by_label(words["when"], exact=True).fill(
        "2099-01-01T09:00"
    )  # beyond 90 days: refused
    snooze.get_by_role("button", name=words["snooze"], exact=True).click()
    expect(page.locator(".flash-error, .flash.error, [class*=flash]").first).to_be_visible()
    assert _snoozed_until(session, first_id) is None
    later = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT10:30")
    snooze = page.get_by_test_id("snooze")
    snooze.get_by_label(words["custom"]).check()
    snooze.get_by_label(words["when"], exact=True).fill(later)
    snooze.get_by_role("button", name=words["snooze"], exact=True).click()
    expect(page.get_by_test_id("snoozed-note")).to_contain_text(words["snoozed"])
    assert _snoozed_until(session, first_id) is not None


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_the_older_ticket_takes_the_newer_one_in(site, session, app, viewport, lang) -> None:  # noqa: F811
    """On the older ticket, which holds the conversation, the offer merges the newer one into
    it (it offered the other way round): asked first, kept here, undone here."""
    words = WORDS[lang]
    first_id, again_id, first_ref, again_ref = _two_tickets(session, app, answered=False)
    page = _open(site, viewport, lang)
    shots = f"/tmp/agentpolish-{lang}-{viewport['width']}"

    page.goto("/staff/inbox/service")
    page.get_by_role("link", name="Kettle stopped heating", exact=True).click()
    page.wait_for_url(f"**/staff/tickets/{first_id}?queue=service")
    offers = page.get_by_test_id("open-duplicates")
    expect(offers.get_by_role("button")).to_have_text([words["take_in"].format(ref=again_ref)])
    page.screenshot(path=f"{shots}-merge-offer.png")
    offers.get_by_role("button").click()
    confirm = page.get_by_test_id("merge-confirm")
    expect(confirm.locator("dd").last).to_contain_text(first_ref)  # the one kept
    expect(confirm.locator("dt").last).to_have_text(words["kept"])
    _looked_at(page, viewport, f"{shots}-merge-confirm-older.png")
    assert _merged_into(session, again_id) is None
    page.get_by_role("button", name=words["confirm"].format(ref=first_ref)).click()
    page.wait_for_url(f"**/staff/tickets/{first_id}?queue=service")  # where it was asked from
    assert _merged_into(session, again_id) == first_id
    page.get_by_test_id("undo-merge").get_by_role("button", name=words["undo"]).click()
    expect(page.locator(".flash")).to_contain_text(words["undone"])
    assert _merged_into(session, again_id) is None

    # Typed the other way round (the older into the newer): still possible, but the page
    # offers the way round that keeps the conversation where it began.
    page.goto(f"/staff/tickets/{first_id}?queue=service")
    page.get_by_label(words["merge_field"]).fill(again_ref)
    page.get_by_role("button", name=words["merge_button"], exact=True).click()
    note = page.get_by_test_id("merge-older")
    expect(note).to_contain_text(first_ref)
    _looked_at(page, viewport, f"{shots}-merge-confirm-typed.png")
    note.get_by_role(
        "button", name=words["instead"].format(ref=again_ref, target=first_ref)
    ).click()
    expect(page.get_by_test_id("merge-confirm").locator("dd").last).to_contain_text(first_ref)
    assert _merged_into(session, again_id) is None and _merged_into(session, first_id) is None


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_an_emergency_offers_no_snooze(site, session, app, viewport, lang) -> None:  # noqa: F811
    """An emergency was snoozed for three days with no second look: the page says, where the
    snooze choices were, that it needs handling now and what to do instead."""
    words = WORDS[lang]
    make_user(session, email="agent@example.com", name="Andy")
    ticket = make_ticket(session, subject="Cooker smoking", urgency=5)
    start_clock(ticket, app.config, now=ticket.created_at)
    ticket.first_response_at, ticket.status = utcnow(), "open"
    session.commit()
    ticket_id = ticket.id
    page = _open(site, viewport, lang)
    page.goto(f"/staff/tickets/{ticket_id}")
    snooze = page.get_by_test_id("snooze")
    expect(snooze.get_by_test_id("no-snooze")).to_contain_text(words["no_snooze"])
    expect(snooze.get_by_role("button", name=words["snooze"], exact=True)).to_have_count(0)
    expect(snooze.get_by_label(words["in3"])).to_have_count(0)
    assert overflow_px(page) == 0
    snooze.scroll_into_view_if_needed()
    page.screenshot(path=f"/tmp/agentpolish-{lang}-{viewport['width']}-no-snooze.png")
    assert _snoozed_until(session, ticket_id) is None


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_a_reply_copies_who_the_customer_copied(site, session, viewport, lang) -> None:  # noqa: F811
    make_user(session, email="agent@example.com", name="Andy")
    wang = make_customer(session, name="Wang Fang", email="wang.fang@example.net")
    ticket = make_ticket(session, customer=wang, subject="Kettle")
    ticket.messages[0].cc_addresses = ["li.lei@example.net"]
    session.commit()
    ticket_id = ticket.id
    page = _open(site, viewport, lang)
    page.goto(f"/staff/tickets/{ticket_id}")
    cc = page.get_by_test_id("reply-cc")
    expect(cc).to_have_value("li.lei@example.net")  # offered: she copied him
    expect(page.get_by_test_id("message-cc")).to_contain_text("li.lei@example.net")
    assert overflow_px(page) == 0
    cc.fill("li.lei@example.net, stranger@example.org")  # not in the conversation
    page.get_by_label("回复客户" if lang == "zh" else "Reply to the customer").fill("On its way.")
    page.locator("[name=reply-send]").click()
    expect(page.locator("[class*=flash]").first).to_contain_text("stranger@example.org")
    expect(page.get_by_test_id("reply-cc")).to_have_value(
        "li.lei@example.net, stranger@example.org"
    )
    page.screenshot(path=f"/tmp/agent-s23-{lang}-{viewport['width']}-cc.png")
    page.get_by_test_id("reply-cc").fill("li.lei@example.net")
    page.locator("[name=reply-send]").click()
    expect(page.get_by_test_id("message-cc")).to_have_count(2)  # her mail and our reply
    session.expire_all()
    sent = session.scalars(
        select(Message.cc_addresses).where(
            Message.ticket_id == ticket_id, Message.direction == "out"
        )
    ).all()
    assert sent == [["li.lei@example.net"]]
    session.rollback()
