"""The privacy notice in a real browser: reached from the consent text (in a new tab, so the
half-filled form stays) and from the footer, readable on a desktop and a phone in both languages."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.browser_tools import PHONE, chromium, live_server, overflow_px

SCREENSHOT_DIR = os.environ.get("FAQ_SCREENSHOT_DIR", "/tmp")
DESKTOP = {"width": 1366, "height": 900}

pytestmark = pytest.mark.browser


def test_the_consent_text_opens_the_notice_beside_the_form(app) -> None:
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(locale="en-GB", viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{base}/contact?lang=en")
        # The box, then the text as one flex item: a bare link would be a column of its own.
        loose_text = page.locator("label[for=consent]").evaluate(
            "label => [...label.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim())"
            ".length"
        )
        assert loose_text == 0
        expect(page.locator("label[for=consent] > *")).to_have_count(2)
        page.get_by_label("Your question").fill("Where is my kettle?")
        with context.expect_page() as opened:
            page.locator("label[for=consent] a", has_text="privacy notice").click()
        notice = opened.value
        notice.wait_for_load_state()
        expect(notice.get_by_role("heading", level=1)).to_have_text("Privacy notice")
        expect(notice.get_by_text("up to 2 years after your question is closed")).to_be_visible()
        expect(page.get_by_label("Your question")).to_have_value("Where is my kettle?")
        expect(page.locator("#consent")).not_to_be_checked()  # the link is not the box
        context.close()


@pytest.mark.parametrize(
    ("language", "heading", "footer"),
    [("en", "Privacy notice", "Privacy notice"), ("zh", "隐私说明", "隐私说明")],
)
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_notice_fits_desktop_and_phone(app, language, heading, footer, viewport) -> None:
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{base}/?lang={language}")
        page.locator("footer").get_by_role("link", name=footer).click()
        expect(page).to_have_url(f"{base}/privacy")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("link", name="support@example.com")).to_be_visible()
        assert overflow_px(page) == 0
        name = f"privacy-{language}-{viewport['width']}.png"
        page.screenshot(path=os.path.join(SCREENSHOT_DIR, name), full_page=True)
        context.close()


def test_mixed_limits_read_per_tier_in_the_browser(app) -> None:
    """{"standard": 0, "key": 5}: the page does not tell key accounts they are kept until
    they ask for erasure (the purge removes theirs after 5 years)."""
    app.config["RETENTION_CLOSED_TICKET_YEARS"] = {"standard": 0, "key": 5}
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.set_default_timeout(60_000)
        page.goto(f"{base}/privacy?lang=en")
        expect(page.get_by_test_id("ticket-years")).to_contain_text(
            "until you ask us to erase them."
        )
        expect(page.get_by_test_id("key_accounts-years")).to_have_text(
            "For key-account customers: up to 5 years."
        )
        expect(page.get_by_test_id("vip-years")).to_have_text(
            "For VIP customers: until they ask us to erase them."
        )
