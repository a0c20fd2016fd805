"""The note box offers colleagues after "@" (app.js), in a real browser, on a phone: typing
"@wa" lists Wang Fang (not a colleague of another department), Enter puts "@Wang Fang " in
the text, and the note tells her."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from support.desk.models import OutboundMail
from tests.browser_tools import overflow_px, sign_in
from tests.factories import make_ticket, make_user
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


def test_mention_autocomplete_on_a_phone(page, live_server, session) -> None:  # noqa: F811
    make_user(session, email="agent@example.com", name="Andy")
    make_user(session, email="wang@example.com", name="Wang Fang")
    make_user(session, email="wanda@example.com", name="Wanda Sales", departments=("sales",))
    ticket_id = make_ticket(session, subject="Kettle").id
    session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}")
    page.wait_for_load_state()

    box = page.get_by_label("Internal note (never sent)")
    box.click()
    page.keyboard.type("Please check, @wa")
    options = page.get_by_test_id("mention-list").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Wang Fang")
    assert overflow_px(page) == 0
    page.keyboard.press("Enter")
    expect(box).to_have_value("Please check, @Wang Fang ")
    expect(page.get_by_test_id("mention-list")).to_be_hidden()
    page.keyboard.type("thanks")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".flash")).to_contain_text("Note added")
    session.expire_all()
    sent = session.scalars(select(OutboundMail.recipients).where(OutboundMail.kind == "mention"))
    assert list(sent) == [["wang@example.com"]]
    session.rollback()


def test_a_triager_is_offered_the_triage_team_on_a_ticket_in_triage(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
) -> None:
    """On a ticket waiting in triage the note box offers the triagers of other departments
    (the ticket may be theirs), never staff of another department who do not triage."""
    make_user(session, email="agent@example.com", name="Andy", can_triage=True)
    make_user(
        session,
        email="wanda@example.com",
        name="Wanda Sales",
        departments=("sales",),
        can_triage=True,
    )
    make_user(session, email="walt@example.com", name="Walt Sales", departments=("sales",))
    ticket_id = make_ticket(
        session, subject="Which team?", department_code=None, needs_triage=True
    ).id
    session.commit()
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}?lang=zh")
    page.wait_for_load_state()
    box = page.get_by_label("内部备注（不会发送给客户）")
    box.click()
    page.keyboard.type("@wa")
    options = page.get_by_test_id("mention-list").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Wanda Sales")
    page.keyboard.press("Enter")
    page.keyboard.type("是销售部的吗？")
    page.get_by_role("button", name="添加备注").click()
    expect(page.locator(".flash")).to_be_visible()
    session.expire_all()
    sent = session.scalars(select(OutboundMail.recipients).where(OutboundMail.kind == "mention"))
    assert list(sent) == [["wanda@example.com"]]
    session.rollback()


def _offered(tab, typed: str) -> list[str]:
    box = tab.get_by_label("Internal note (never sent)")
    box.fill("")
    box.click()
    tab.keyboard.type(typed)
    items = tab.get_by_test_id("mention-list").get_by_role("option")
    return sorted(text.split(" <")[0] for text in items.all_inner_texts())


def test_suggestions_match_the_start_of_a_word_or_any_chinese_character(
    page,  # noqa: F811
    live_server,  # noqa: F811
    session,
) -> None:
    """ "@S" offered Administrator (an s inside the name): a suggestion needs a word of the
    name or of the address's local part to start with what was typed; in a Chinese name each
    character starts a word, so "@芳" finds 王芳 as "@Fang" finds Wang Fang."""
    make_user(session, email="agent@example.com", name="Andy")
    make_user(session, email="admin@example.com", name="Administrator")
    make_user(session, email="sam.li@example.com", name="Sam Li")
    make_user(session, email="emily@example.com", name="Emily Zhou")
    make_user(session, email="wf@example.com", name="王芳")
    make_user(session, email="ks@example.com", name="Kim Sun")
    ticket_id = make_ticket(session, subject="Kettle").id
    session.commit()
    sign_in(page, live_server, "agent@example.com", PASSWORD)
    page.goto(f"/staff/tickets/{ticket_id}")
    page.wait_for_load_state()

    assert _offered(page, "@S") == ["Kim Sun", "Sam Li"]  # not Administrator
    assert _offered(page, "@li") == ["Sam Li"]  # not Emily
    assert _offered(page, "@ily") == []  # inside Emily
    assert _offered(page, "@芳") == ["王芳"]
    assert _offered(page, "@王芳") == ["王芳"]
    assert _offered(page, "@ad") == ["Administrator"]
    assert _offered(page, "@ks") == ["Kim Sun"]  # the address's local part
    assert _offered(page, "@xample") == []  # the address's domain is no one's name
