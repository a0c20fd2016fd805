"""The ticket page in a real browser: a customer's photo as a thumbnail that opens the full
picture, a web address in a note that opens in a new tab, and the reply box's one-click
conversion to Traditional characters (with Undo) for a customer who writes them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.core.db import utcnow
from support.desk import actions
from support.desk.models import Attachment
from tests.browser_tools import PHONE, chromium, live_server, overflow_px, sign_in
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff.test_attachment_pictures import png
from tests.support.staff.test_reply_in_traditional import (
    IN_TRADITIONAL,
    SIMPLIFIED_ANSWER,
    TRADITIONAL_MAIL,
)
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en"}


@pytest.fixture
def context(app) -> Iterator[object]:
    with live_server(app) as base_url, chromium() as browser:
        made = browser.new_context(
            base_url=base_url, locale="en-US", viewport={"width": 1366, "height": 900}
        )
        made.set_default_timeout(60_000)
        yield made
        made.close()


def _sign_in(page, email: str) -> None:
    sign_in(page, "", email, PASSWORD)  # the context's base URL


def _ticket(session):
    agent = make_user(session, email="mei@example.com", name="Mei")
    ticket = make_ticket(
        session,
        customer=make_customer(session, email="chen@example.tw", name="陳小姐"),
        subject="熱水壺壞了",
        body=TRADITIONAL_MAIL,
        language="zh",
    )
    session.add(
        Attachment(
            message=ticket.messages[0],
            filename="kettle.png",
            content_type="image/png",
            size=0,
            sha256="0" * 64,
            data=png(400, 300),
        )
    )
    actions.add_note(
        session, ticket, agent, "Known fault: https://wiki.example.com/kettle-42 (batch 7)."
    )
    ticket.messages[0].created_at = utcnow()
    session.commit()
    return ticket


def test_a_photo_opens_full_size_and_a_notes_link_in_a_new_tab(app, session, context) -> None:
    ticket = _ticket(session)
    page = context.new_page()
    _sign_in(page, "mei@example.com")
    page.goto(f"/staff/tickets/{ticket.id}")
    thumbnail = page.get_by_test_id("attachment-picture").locator("img")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 400", arg=thumbnail.element_handle()
    )
    box = thumbnail.bounding_box()
    assert box is not None and box["width"] <= 240 and box["height"] <= 180
    with context.expect_page() as opened:
        page.get_by_test_id("attachment-picture").click()
    full = opened.value
    full.wait_for_load_state()
    assert full.url.endswith("/picture")
    assert full.evaluate("() => document.images.length && document.images[0].naturalWidth") == 400
    full.close()

    link = page.get_by_role("link", name="https://wiki.example.com/kettle-42")
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "nofollow noopener noreferrer"
    for size in (PHONE, {"width": 1366, "height": 900}):
        page.set_viewport_size(size)
        assert overflow_px(page) == 0, size


def test_an_agent_converts_their_answer_to_traditional_and_can_undo_it(
    app, session, context
) -> None:
    ticket = _ticket(session)
    page = context.new_page()
    _sign_in(page, "mei@example.com")
    page.goto(f"/staff/tickets/{ticket.id}?lang=zh")
    box = page.get_by_label("回复客户")
    box.fill(SIMPLIFIED_ANSWER)
    page.get_by_role("button", name="转为繁体").click()
    page.wait_for_function(
        "text => document.getElementById('reply-body').value === text", arg=IN_TRADITIONAL
    )
    assert page.url.endswith(f"/staff/tickets/{ticket.id}?lang=zh")  # no reload
    status = page.get_by_test_id("to-traditional").get_by_role("status")
    assert status.inner_text() == "您的文字已转为繁体：发送前请再读一遍。"
    page.get_by_role("button", name="撤销").click()
    assert box.input_value() == SIMPLIFIED_ANSWER
    assert page.get_by_role("button", name="撤销").is_hidden()


def _pasted_screenshot(session):
    """A mail whose HTML shows a pasted screenshot (cid:) and which attaches a photo too."""
    make_user(session, email="mei@example.com", name="Mei")
    ticket = make_ticket(session, subject="App crashes", body="See the error below.")
    message = ticket.messages[0]
    message.html_sanitized = (
        '<p>See the error below:</p><img src="cid:shot.1@mail.example" alt="error"><p>Thanks</p>'
    )
    files = [
        Attachment(
            message=message,
            filename=name,
            content_type="image/png",
            size=len(data),
            sha256="0" * 64,
            data=data,
            content_id=content_id,
            is_inline=content_id is not None,
        )
        for name, data, content_id in (
            ("image001.png", png(320, 200), "shot.1@mail.example"),
            ("receipt.png", png(200, 300), None),
        )
    ]
    session.add_all(files)
    session.commit()
    return ticket, files


def _shown(page, attachment_id: int) -> int:
    """How many pictures of this attachment the reader sees on the page."""
    return page.evaluate(
        """src => [...document.images].filter(i => i.getAttribute('src') === src
              && i.checkVisibility({visibilityProperty: true})).length""",
        f"/staff/attachments/{attachment_id}/picture",
    )


@pytest.mark.parametrize(
    ("lang", "formatted", "above"),
    [("en", "Formatted version", "shown above"), ("zh", "带格式的版本", "已在上方显示")],
)
def test_a_pasted_screenshot_is_shown_once(
    app, session, context, tmp_path, lang, formatted, above
) -> None:
    """A picture the mail's HTML shows where the customer pasted it is not shown a second
    time as a thumbnail below (as Zendesk, Help Scout and Front list no inline picture among
    the attachments); while the formatted version is folded the thumbnail is the one place it
    shows. Its file stays a download, "shown above" once the formatted version is open."""
    ticket, (inline, photo) = _pasted_screenshot(session)
    page = context.new_page()
    _sign_in(page, "mei@example.com")
    for size in ({"width": 1366, "height": 900}, PHONE):
        page.set_viewport_size(size)
        page.goto(f"/staff/tickets/{ticket.id}?lang={lang}")
        assert (_shown(page, inline.id), _shown(page, photo.id)) == (1, 1)
        message = page.locator("article", has=page.locator(".html-body"))
        message.screenshot(path=tmp_path / f"folded-{lang}-{size['width']}.png")
        page.get_by_text(formatted, exact=True).click()
        body_picture = page.locator(".html-body img")
        body_picture.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth === 320", arg=body_picture.element_handle()
        )
        assert (_shown(page, inline.id), _shown(page, photo.id)) == (1, 1)
        item = page.locator(".attachments li", has_text="image001.png")
        assert item.get_by_text(above).is_visible()
        assert item.get_by_role("link", name="image001.png").get_attribute("download") is not None
        assert overflow_px(page) == 0, size
        message.screenshot(path=tmp_path / f"inline-{lang}-{size['width']}.png")
