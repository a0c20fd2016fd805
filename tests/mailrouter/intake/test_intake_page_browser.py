"""The mail intake page in a real browser (Playwright + the system Chromium): what became of a
message reads in the staff's language, on a phone too, never as the worker's code words."""

from __future__ import annotations

import smtplib

import pytest
from playwright.sync_api import expect

from tests.browser_tools import PHONE, chromium, live_server, overflow_px, sign_in
from tests.conftest import shared_path
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser


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
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail("max@firma.de", ["service@example.com"], raw)
    assert process_all(app) == 1
    with live_server(app) as base, chromium() as browser:
        page = browser.new_context(locale=locale, viewport=PHONE).new_page()
        page.set_default_timeout(60_000)
        sign_in(page, base, "lead@example.com", PASSWORD)
        page.goto(f"{base}/staff/quarantine/")
        page.locator("tr", has_text="max@firma.de").get_by_role("link").click()
        main = page.locator("main")
        expect(main).to_contain_text(shown)
        expect(main).not_to_contain_text("set_aside")  # the worker's word
        assert overflow_px(page) <= 1


@pytest.mark.parametrize(
    ("locale", "viewport", "shown"),
    [
        ("zh-CN", PHONE, "退信（投递失败）"),
        ("en-US", PHONE, "delivery failure report"),
        ("zh-CN", {"width": 1366, "height": 900}, "退信（投递失败）"),
    ],
)
def test_a_set_aside_bounce_is_named_in_the_staff_language(
    app, session, intake, tmp_path, locale, viewport, shown
) -> None:
    """A bounce our filter would call spam (an advert returned undelivered) is on the intake
    page among the automatic mail, its kind in the staff's words, on a phone too."""
    make_user(session, email="lead@example.com", role="admin", password=PASSWORD)
    session.commit()
    raw = shared_path("corpora", "bounces", "lhost-office365-04.eml").read_bytes()
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail("", ["service@example.com"], raw)
    assert process_all(app) == 1
    with live_server(app) as base, chromium() as browser:
        page = browser.new_context(locale=locale, viewport=viewport).new_page()
        page.set_default_timeout(60_000)
        sign_in(page, base, "lead@example.com", PASSWORD)
        page.goto(f"{base}/staff/quarantine/")
        row = page.locator("tr", has_text=shown)
        expect(row).to_have_count(1)
        page.screenshot(path=str(tmp_path / f"intake-{locale}-{viewport['width']}.png"))
        assert overflow_px(page) <= 1
        page.goto(f"{base}/staff/spam/")
        expect(page.locator("main")).not_to_contain_text("Undeliverable")
