"""A Taiwan agent in a real browser (Playwright + the system Chromium): the sign-in page follows
the browser's Traditional Chinese, the account page's 繁體 choice turns the inbox and the ticket
page Traditional, on a desktop and on a phone. Screenshots go to $SCREENSHOT_DIR (default /tmp)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_tools import chromium, live_server, overflow_px
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import PASSWORD, fast_passwords

SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures(fast_passwords.__name__)]


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "DEFAULT_LANGUAGE": "zh"}


def test_a_taiwan_agent_works_in_traditional_on_desktop_and_phone(app, session) -> None:
    make_user(session, email="ann@example.com", name="林怡君")
    mainland = make_customer(session, name="李娜", email="li@example.cn")
    taiwan = make_customer(session, name="陳台生", email="chen@example.tw", company="台北電器行")
    ticket = make_ticket(
        session,
        customer=mainland,
        subject="发票还没收到",
        body="我的订单已经付款一周了，发票还没收到，请尽快回复。",
        urgency=4,
    )
    make_ticket(
        session,
        customer=taiwan,
        subject="電熱水壺保固問題",
        body="水壺不能加熱了，請問還在保固期內嗎？",
        urgency=3,
    )
    session.commit()
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(base_url=base, locale="zh-TW", viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/staff/login")
        assert page.locator("html").get_attribute("lang") == "zh-Hant"
        assert "員工登入" in page.locator("h1").inner_text()
        assert page.get_by_role("link", name="简体").count() == 1  # the portal's switch
        page.screenshot(path=str(SCREENSHOT_DIR / "staff-login-hant.png"), full_page=True)
        page.locator("#email").fill("ann@example.com")
        page.locator("#password").fill(PASSWORD)
        page.locator("input[type=submit]").click()
        page.wait_for_url("**/staff/inbox/**")

        page.goto("/staff/account")
        page.locator("#language-language").select_option("zh-Hant")
        page.locator("#language-submit").click()
        page.wait_for_url("**/staff/account")
        page.screenshot(path=str(SCREENSHOT_DIR / "staff-account-hant.png"), full_page=True)

        page.goto("/staff/")
        inbox = page.locator("main").inner_text()
        for word in ("緊急程度", "客戶", "負責人"):
            assert word in inbox
        assert "紧急程度" not in inbox and "客户" not in inbox
        assert "发票还没收到" in inbox and "電熱水壺保固問題" in inbox  # each as written
        assert "台北電器行" in inbox and "臺北" not in inbox
        page.screenshot(path=str(SCREENSHOT_DIR / "staff-inbox-hant.png"), full_page=True)

        page.goto(f"/staff/tickets/{ticket.id}")
        workspace = page.locator("main").inner_text()
        assert "回覆" in workspace and "回复" not in workspace.replace("请尽快回复", "")
        assert "我的订单已经付款一周了，发票还没收到，请尽快回复。" in workspace
        page.screenshot(path=str(SCREENSHOT_DIR / "staff-ticket-hant.png"), full_page=True)

        page.set_viewport_size(PHONE)
        for path, name in (("/staff/", "inbox"), (f"/staff/tickets/{ticket.id}", "ticket")):
            page.goto(path)
            assert overflow_px(page) == 0, path
            assert "緊急程度" in page.locator("main").inner_text() or name == "ticket"
            page.screenshot(
                path=str(SCREENSHOT_DIR / f"staff-{name}-hant-phone.png"), full_page=True
            )
        context.close()
