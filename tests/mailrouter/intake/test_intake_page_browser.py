"""The mail intake page in a real browser (Playwright + the system Chromium): what became of a
message reads in the staff's language, on a phone too, never as the worker's code words."""

from __future__ import annotations

import smtplib

import pytest
from playwright.sync_api import expect

from tests.browser_tools import PHONE, chromium, live_server, overflow_px, sign_in
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.support.staff_helpers import PASSWORD, fast_passwords

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures(fast_passwords.__name__)]


@pytest.fixture
def app_settings() -> dict:
    return {"DEFAULT_LANGUAGE": "zh"}


@pytest.mark.parametrize(
    ("locale", "shown"),
    [("zh-CN", "已处理（自动邮件，已搁置）"), ("en-US", "processed (automatic")],
)
def test_a_set_aside_out_of_office_reads_in_the_staff_language(
    app, session, intake, locale, shown
) -> None:
    make_user(session, email="lead@example.com", role="admin", password=PASSWORD)
    session.commit()
    raw = make_mail(
        sender="Max Mustermann <max@firma.de>",
        subject="Automatic reply: Your order",
        body="I am out of the office until 10 December with limited access to email.",
        message_id="<ooo-1@firma.de>",
        headers={"Auto-Submitted": "auto-replied"},
    )
    with smtplib.SMTP(intake.host, intake.port, timeout=10) as smtp:
        smtp.sendmail("max@firma.de", ["service@example.com"], raw)
    assert process_all(app) == 1
    with live_server(app) as base, chromium() as browser:
        page = browser.new_context(locale=locale, viewport=PHONE).new_page()
        page.set_default_timeout(15_000)
        sign_in(page, base, "lead@example.com", PASSWORD)
        page.goto(f"{base}/staff/quarantine/")
        page.locator("tr", has_text="max@firma.de").get_by_role("link").click()
        main = page.locator("main")
        expect(main).to_contain_text(shown)
        expect(main).not_to_contain_text("set_aside")  # the worker's word
        assert overflow_px(page) <= 1
