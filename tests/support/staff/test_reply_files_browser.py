"""A reply with a file, sent through the ticket page in a real browser (CSRF on), and files over
the limit refused on the page before any upload, the typed text still in the box."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from support.desk.models import Attachment, OutboundMail
from tests.browser_tools import chromium, live_server
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "en", "REPLY_MAX_FILES": 2}


@pytest.fixture
def page(app) -> Iterator[object]:
    with live_server(app) as base_url, chromium() as browser:
        context = browser.new_context(base_url=base_url, locale="en-US")
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        yield tab
        context.close()


def _sign_in(page, email: str) -> None:
    page.goto("/staff/login?lang=en")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/staff/inbox/**")


def test_an_agent_attaches_a_file_and_the_mail_carries_it(app, session, page) -> None:
    make_user(session, email="mei@example.com")
    ticket = make_ticket(session)
    session.commit()
    _sign_in(page, "mei@example.com")
    page.goto(f"/staff/tickets/{ticket.id}")
    page.get_by_label("Reply to the customer").fill("The manual is attached.")
    files = page.get_by_label("Attach files", exact=True)
    three = [{"name": f"{n}.txt", "mimeType": "text/plain", "buffer": b"x"} for n in range(3)]
    files.set_input_files(three)
    assert page.locator(".reply-files", has=files).locator("[data-files-status]").inner_text() == (
        "Attach at most 2 files at once."
    )
    page.get_by_role("button", name="Check and send").click()  # the browser holds it back
    assert page.url.endswith(f"/staff/tickets/{ticket.id}")  # not posted to .../reply
    assert page.get_by_label("Reply to the customer").input_value() == "The manual is attached."
    files.set_input_files(
        [{"name": "manual.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 manual"}]
    )
    page.get_by_role("button", name="Check and send").click()
    page.wait_for_selector("text=Reply queued for sending")
    link = page.get_by_role("link", name="manual.pdf")
    assert "/staff/attachments/" in (link.get_attribute("href") or "")

    [mail] = session.scalars(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id))
    [stored] = session.scalars(select(Attachment).where(Attachment.filename == "manual.pdf"))
    session.commit()
    sent = message_from_bytes(mail.raw, policy=policy.default)
    [part] = sent.iter_attachments()
    assert part.get_filename() == "manual.pdf" and part.get_content() == b"%PDF-1.4 manual"
    assert stored.content_type == "application/pdf"
