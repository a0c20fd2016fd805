"""The customer's pages in real Chromium: contact confirmation, replying on the follow page,
rating with a chosen score. Screenshots go to $SCREENSHOT_DIR (default /tmp)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mailrouter.outbound.customer_links import follow_url
from support.desk.models import Message, Ticket
from support.desk.satisfaction import rating_links
from tests.browser_tools import PHONE, chromium, live_server, overflow_px
from tests.factories import make_customer, make_ticket
from tests.mailrouter.conftest import process_all

pytestmark = pytest.mark.browser
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def site(app):
    with live_server(app) as base, chromium() as browser:
        app.config["PUBLIC_BASE_URL"] = base  # links in pages and mail lead to this server
        yield base, browser


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_the_confirmation_shows_the_address_then_the_reference(app, session, site) -> None:
    base, browser = site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{base}/contact?lang=en")
    page.get_by_label("Your name").fill("Li Wei")
    page.get_by_label("Your email address").fill("li.wei@exmaple.org")  # a typo to notice
    page.get_by_label("Subject").fill("Refund still missing")
    page.get_by_label("Your question").fill(
        "I returned the lamp two weeks ago, where is my refund?"
    )
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send question").click()
    page.wait_for_url("**/contact/sent?r=*")
    expect(page.get_by_test_id("contact-address")).to_have_text("li.wei@exmaple.org")
    expect(page.get_by_text("Not your address?")).to_be_visible()

    assert process_all(app) == 1  # the worker makes the ticket; the page checks again
    reference = session.scalar(select(Ticket.reference))
    session.commit()
    page.get_by_test_id("contact-reference").wait_for(timeout=15_000)
    assert page.get_by_test_id("contact-reference").inner_text() == reference
    page.screenshot(path=str(SCREENSHOT_DIR / "contact-confirmation.png"), full_page=True)
    # The follow link goes by mail, for every address: the page reads the same for all.
    expect(page.get_by_text("We have sent the link to follow your request")).to_be_visible()


def test_a_reply_on_the_follow_page_becomes_a_message_on_the_ticket(
    app, session, site, tmp_path
) -> None:
    base, browser = site
    customer = make_customer(session, email="wang.fang@example.net", name="Wang Fang")
    ticket = make_ticket(session, customer=customer, body="The kettle whistles all the time.")
    session.commit()
    photo = tmp_path / "label.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 2000)
    page = browser.new_page(viewport=PHONE, is_mobile=True)
    page.goto(base + _path(follow_url(app.config, ticket.reference, "en")))
    # The first card clear of the header (it sat against the header's border).
    header, card = page.locator("header").first.bounding_box(), page.locator("main .card").first
    assert card.bounding_box()["y"] - (header["y"] + header["height"]) >= 12
    # The status beside its label, not on a line of its own indented like a quotation.
    label, value = page.locator("dl.facts dt").first, page.locator("dl.facts dd").first
    assert abs(label.bounding_box()["y"] - value.bounding_box()["y"]) < 4
    assert value.bounding_box()["x"] > label.bounding_box()["x"] + label.bounding_box()["width"]
    page.get_by_label("Your message").fill("Here is a photo of the rating label.")
    page.get_by_label("Attach files").set_input_files(str(photo))
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_test_id("reply-sent")).to_be_visible()

    assert process_all(app) == 1
    page.reload()
    expect(page.get_by_text("Here is a photo of the rating label.")).to_be_visible()
    assert overflow_px(page) <= 1
    page.screenshot(path=str(SCREENSHOT_DIR / "follow-phone.png"), full_page=True)
    session.expire_all()
    reply = session.scalars(
        select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())
    ).first()
    assert reply is not None and reply.direction == "in" and reply.channel == "web"
    assert [a.filename for a in reply.attachments] == ["label.png"]
    session.commit()


def test_rating_with_a_score_other_than_the_links(app, session, site) -> None:
    base, browser = site
    ticket = make_ticket(session, status="resolved")
    session.commit()
    link = rating_links(ticket, app.config)[2]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(base + _path(link) + "?lang=en")
    assert page.get_by_label("2 - Poor").is_checked()  # the link's score, preselected
    session.expire_all()
    assert session.get(Ticket, ticket.id).satisfaction_rating is None  # nothing saved yet
    session.commit()
    page.get_by_label("4 - Good").check()
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("heading", name="Thank you for your rating")).to_be_visible()
    session.expire_all()
    assert session.get(Ticket, ticket.id).satisfaction_rating == 4
    session.commit()
