"""The sent-mail page in a real browser, as a new admin trying the demo sees it: with no relay
the auto-replies are only files in instance/outbox/, and the page said "Sent"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mailrouter.outbound import views as outbox_views
from mailrouter.outbound.sender import OutboxSender
from support.desk.outbox import enqueue_mail
from tests.browser_tools import PHONE, chromium, live_server, overflow_px, sign_in
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "viewport", "shown"),
    [
        ("zh-CN", PHONE, "已写入文件，未发出"),
        ("en-US", {"width": 1366, "height": 900}, "Written to a file, not sent"),
    ],
)
def test_without_a_relay_a_written_mail_does_not_read_as_sent(
    app, session, db, tmp_path, locale, viewport, shown
) -> None:
    if "outbox_views" not in app.blueprints:
        outbox_views.init_app(app)
    app.config["OUTBOUND_SMTP_HOST"] = ""
    make_user(session, email="lead@example.com", role="admin", password=PASSWORD)
    ticket = make_ticket(session)
    enqueue_mail(
        session,
        ticket=ticket,
        subject="Re: Kettle broken",
        text="We are sending you a new kettle today.\n",
        to=[ticket.customer.email],
        kind="reply",
        config=app.config,
    )
    session.commit()
    assert OutboxSender(db, app.config, outbox_dir=tmp_path / "outbox").run_once().sent == 1
    with live_server(app) as base, chromium() as browser:
        page = browser.new_context(locale=locale, viewport=viewport).new_page()
        page.set_default_timeout(60_000)
        sign_in(page, base, "lead@example.com", PASSWORD)
        page.goto(f"{base}/staff/mail")
        row = page.locator("tr", has_text="Kettle broken")
        expect(row.locator(".badge")).to_have_text(shown)
        assert overflow_px(page) <= 1
        row.get_by_role("link", name="Kettle broken").click()
        expect(page.locator("main .badge").first).to_have_text(shown)
        assert overflow_px(page) <= 1
