"""Tags and saved views in a real browser (CSRF on), on a desktop and on a phone, in English
and Chinese: a tag added on the ticket page, the inbox filtered by it, the filter saved as a
view that then shows in the inbox with its count; no sideways scrolling, no axe-core
violations on the desktop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.desk.models import SavedView, Ticket, TicketTag
from tests.browser_tools import axe_script, axe_violations, overflow_px
from tests.factories import make_ticket, make_user
from tests.support.staff.test_presence_browser import DESKTOP, PHONE, _agent, site  # noqa: F401

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "add": "Add tag",
        "new_tag": "Add a tag",
        "filters": "Filter tickets",
        "tag": "Tag",
        "filter": "Filter",
        "view_name": "View name",
        "save": "Save view",
        "views": "My views",
        "name": "Refunds",
        "manage": "Rename or delete my views",
        "rename": "Rename",
        "new_name": "Refunds to check",
        "delete": "Delete view Refunds to check",
    },
    "zh": {
        "add": "添加",
        "new_tag": "添加标签",
        "filters": "筛选工单",
        "tag": "标签",
        "filter": "筛选",
        "view_name": "视图名称",
        "save": "保存视图",
        "views": "我的视图",
        "name": "退款工单",
        "manage": "重命名或删除我的视图",
        "rename": "重命名",
        "new_name": "待查退款",
        "delete": "删除视图 待查退款",
    },
}


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


def _stored(session, model, column) -> list:
    values = list(session.scalars(select(column)))
    session.rollback()  # no read transaction left open while the page writes (SQLite)
    return values


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_tag_filter_and_save_a_view(site, session, viewport, lang) -> None:  # noqa: F811
    words = WORDS[lang]
    make_user(session, email="agent@example.com", name="Andy")
    kettle = make_ticket(session, subject="Kettle stopped heating")
    make_ticket(session, subject="Fan is noisy", urgency=4)
    session.commit()
    kettle_id = kettle.id
    page = _agent(site, "agent@example.com", viewport=viewport, lang=lang, bypass_csp=True)
    shots = f"/tmp/agent-s24-{lang}-{viewport['width']}"

    # 1. A tag on the ticket page, typed as the agent likes it; stored normalised.
    page.goto(f"/staff/tickets/{kettle_id}")
    box = page.get_by_test_id("ticket-tags")
    box.get_by_placeholder(words["new_tag"]).fill("  #Refund ")
    box.get_by_role("button", name=words["add"], exact=True).click()
    expect(page.get_by_test_id("ticket-tags").get_by_role("link", name="refund")).to_be_visible()
    assert _stored(session, TicketTag, TicketTag.tag) == ["refund"]
    assert overflow_px(page) == 0
    page.screenshot(path=f"{shots}-ticket-tag.png")
    if viewport is DESKTOP:
        assert axe_violations(page, axe_script()) == []

    # 2. The inbox filtered by the tag (on a phone the filters are folded first).
    page.goto("/staff/inbox/service")
    expect(page.get_by_role("link", name="Fan is noisy")).to_be_visible()
    filters = page.locator("details.filter-box")
    if not filters.evaluate("d => d.open"):
        filters.locator("summary").click()
    page.get_by_role("combobox", name=words["tag"], exact=True).fill("REFUND")
    page.get_by_role("button", name=words["filter"], exact=True).click()
    page.wait_for_url(re.compile(r"/staff/inbox/service\?.*tag=REFUND"))
    expect(page.get_by_role("link", name="Kettle stopped heating")).to_be_visible()
    expect(page.get_by_role("link", name="Fan is noisy")).to_have_count(0)
    expect(page.get_by_role("combobox", name=words["tag"], exact=True)).to_have_value(
        "refund"
    )  # as stored

    # 3. Saved under a name: listed above the inbox with its count, the current one marked.
    page.get_by_label(words["view_name"]).fill(words["name"])
    page.get_by_role("button", name=words["save"]).click()
    views = page.get_by_test_id("saved-views")
    expect(views).to_contain_text(words["views"])
    saved = views.get_by_role("link", name=words["name"])
    expect(saved).to_have_attribute("aria-current", "page")
    expect(saved.locator(".count")).to_have_text("1")
    assert _stored(session, SavedView, SavedView.name) == [words["name"]]
    assert overflow_px(page) == 0
    page.screenshot(path=f"{shots}-inbox-view.png", full_page=True)
    if viewport is DESKTOP:
        assert axe_violations(page, axe_script()) == []

    # 4. From the unfiltered inbox, the view brings the filter back.
    page.goto("/staff/inbox/service")
    page.get_by_test_id("saved-views").get_by_role("link", name=words["name"]).click()
    page.wait_for_url(re.compile(r"/staff/inbox/service\?tag=refund$"))
    expect(page.get_by_role("link", name="Fan is noisy")).to_have_count(0)
    expect(page.get_by_role("link", name="Kettle stopped heating")).to_be_visible()

    # 5. Renamed, then deleted, from the fold below the filters.
    filters = page.locator("details.filter-box")
    if not filters.evaluate("d => d.open"):
        filters.locator("summary").click()
    page.get_by_text(words["manage"]).click()
    manage = page.locator("details.manage-views")
    manage.get_by_role("textbox").fill(words["new_name"])
    manage.get_by_role("button", name=words["rename"], exact=True).click()
    expect(page.get_by_test_id("saved-views").get_by_role("link")).to_have_text(
        re.compile(re.escape(words["new_name"]))
    )
    assert overflow_px(page) == 0
    filters = page.locator("details.filter-box")
    if not filters.evaluate("d => d.open"):
        filters.locator("summary").click()
    page.get_by_text(words["manage"]).click()
    page.screenshot(path=f"{shots}-manage-views.png", full_page=True)
    page.get_by_role("button", name=words["delete"]).click()
    expect(page.get_by_test_id("saved-views")).to_have_count(0)
    assert _stored(session, SavedView, SavedView.name) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_a_tag_keeps_the_inbox_the_ticket_came_from(site, session, viewport, lang) -> None:  # noqa: F811
    """Opened from "Mine", tagged: the page came back without ``?queue=mine``, so `u` and `j`
    went through the department's inbox instead."""
    words = WORDS[lang]
    agent = make_user(session, email="agent@example.com", name="Andy")
    kettle = make_ticket(session, subject="Kettle stopped heating", assignee=agent)
    make_ticket(session, subject="Fan is noisy")  # the department's, not the agent's
    session.commit()
    kettle_id = kettle.id
    page = _agent(site, "agent@example.com", viewport=viewport, lang=lang)
    page.goto("/staff/inbox/mine")
    page.get_by_role("link", name="Kettle stopped heating").click()
    page.wait_for_url(f"**/staff/tickets/{kettle_id}?queue=mine")
    box = page.get_by_test_id("ticket-tags")
    box.get_by_placeholder(words["new_tag"]).fill("refund")
    box.get_by_role("button", name=words["add"], exact=True).click()
    expect(page.get_by_test_id("ticket-tags").get_by_role("link", name="refund")).to_be_visible()
    assert page.url.endswith(f"/staff/tickets/{kettle_id}?queue=mine")
    page.get_by_test_id("ticket-tags").get_by_role("button").first.click()  # remove it again
    expect(page.get_by_test_id("ticket-tags").get_by_role("link", name="refund")).to_have_count(0)
    expect(page.get_by_test_id("ticket-tags")).to_be_visible()  # the new page, not a blank one
    assert page.url.endswith(f"/staff/tickets/{kettle_id}?queue=mine")
    assert overflow_px(page) == 0
    page.screenshot(path=f"/tmp/agentpolish-{lang}-{viewport['width']}-tag-queue.png")
    page.keyboard.press("u")  # back to the inbox it came from
    page.wait_for_url("**/staff/inbox/mine")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_bulk_tag_with_enter_in_the_tag_field(site, session, viewport) -> None:  # noqa: F811
    """Enter in the bulk bar's tag field adds the tag to the selected tickets: it must not
    take the form's first visible action ("Assign") instead."""
    make_user(session, email="agent@example.com", name="Andy")
    kettle = make_ticket(session, subject="Kettle stopped heating")
    make_ticket(session, subject="Fan is noisy", urgency=4)
    session.commit()
    kettle_id = kettle.id
    page = _agent(site, "agent@example.com", viewport=viewport, lang="en", bypass_csp=True)
    page.goto("/staff/inbox/service")
    page.locator(f'input[name="ticket_id"][value="{kettle_id}"]').check()
    field = page.get_by_role("combobox", name="Tag to add or remove")
    field.fill("#Refund")
    field.press("Enter")
    expect(page.get_by_text("Tag “refund” added to 1 ticket")).to_be_visible()
    rows = list(session.execute(select(TicketTag.ticket_id, TicketTag.tag)))
    assigned = session.scalar(select(Ticket.assignee_id).where(Ticket.id == kettle_id))
    session.rollback()
    assert rows == [(kettle_id, "refund")] and assigned is None
    assert overflow_px(page) == 0
    if viewport is DESKTOP:
        assert axe_violations(page, axe_script()) == []
