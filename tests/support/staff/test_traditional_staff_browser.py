"""A Taiwan agent in a real browser (Playwright + the system Chromium): the sign-in page follows
the browser's Traditional Chinese, the account page's 繁體 choice turns the inbox and the ticket
page Traditional, on a desktop and on a phone. Screenshots go to $SCREENSHOT_DIR (default /tmp)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser_tools import chromium, live_server, overflow_px
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


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
        page.set_default_timeout(60_000)
        page.goto("/staff/login")
        assert page.locator("html").get_attribute("lang") == "zh-Hant"
        expect(page.locator("h1")).to_contain_text("員工登入")
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


def test_taiwans_words_on_staff_and_portal_pages_in_a_browser(app, session) -> None:
    # 保存, 字節 and 支持 read as the mainland's on 繁體 pages; a Hong Kong reader with an
    # English browser who searched in Traditional got Simplified results.
    from sqlalchemy import select

    from faq.knowledge import create_article, create_category
    from support.desk.models import Attachment, Message

    make_user(session, email="ann@example.com", name="林怡君", language="zh-Hant")
    customer = make_customer(session, name="陳台生", email="chen@example.tw")
    ticket = make_ticket(
        session, customer=customer, subject="發票問題", body="請問發票什麼時候寄出？", urgency=3
    )
    message = session.scalar(select(Message).where(Message.ticket_id == ticket.id))
    session.add(
        Attachment(
            message=message, filename="收據.txt", content_type="text/plain", size=13, sha256=""
        )
    )
    payment = create_category(session, slug="payment", name_en="Payment", name_zh="支付与发票")
    create_article(
        session,
        category=payment,
        language="zh",
        question="支持哪些付款方式？",
        answer_md="支持支付宝、微信支付和银联信用卡。茶叶的保存期限见包装。",
    )
    session.commit()
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(base_url=base, locale="zh-TW", viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto("/staff/login")
        page.locator("#email").fill("ann@example.com")
        page.locator("#password").fill(PASSWORD)
        page.locator("input[type=submit]").click()
        page.wait_for_url("**/staff/inbox/**")
        page.goto(f"/staff/tickets/{ticket.id}")
        workspace = page.locator("main").inner_text()
        assert "13 位元組" in workspace and "字節" not in workspace
        page.screenshot(path=str(SCREENSHOT_DIR / "staff-ticket-taiwan-words.png"), full_page=True)
        page.goto("/staff/faq/categories/new")
        assert page.get_by_role("button", name="儲存").count() == 1
        page.screenshot(path=str(SCREENSHOT_DIR / "staff-category-hant.png"), full_page=True)
        page.goto("/c/payment")
        listed = page.locator("main").inner_text()
        assert "支援哪些付款方式？" in listed and "支持" not in listed
        page.screenshot(path=str(SCREENSHOT_DIR / "portal-category-hant.png"), full_page=True)
        context.close()

        english = browser.new_context(base_url=base, locale="en-HK", viewport=DESKTOP)
        page = english.new_page()
        page.goto("/search?q=付款後請問哪些方式")
        assert page.locator("html").get_attribute("lang") == "en"
        results = page.locator("ol.results").inner_text()
        assert "支援哪些付款方式？" in results and "支付與發票" in results
        page.screenshot(
            path=str(SCREENSHOT_DIR / "portal-search-en-hant-query.png"), full_page=True
        )
        english.close()
