"""The intake page's lists (quarantined mail, automatic mail set aside) name each mail by its
subject and sender, as its headers say them: decoded from RFC 2047, escaped, cut short, on a
phone and a laptop, in English and Chinese. Before, they showed a number and the envelope's
sender ("<>" for every bounce), so staff opened each to learn what it was."""

from __future__ import annotations

import base64
import smtplib

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.intake import views as intake_views
from mailrouter.models import InboundMail
from tests.browser_tools import PHONE, chromium, live_server, overflow_px, sign_in
from tests.factories import make_user
from tests.mailrouter.conftest import process_all
from tests.support.staff_helpers import PASSWORD, login

LAPTOP = {"width": 1366, "height": 900}
#: 自动回复: <b>关于</b> then 150 characters with no space to wrap at.
SUBJECT = "自动回复: <b>关于</b>" + "空气炸锅批量采购报价单" * 15


def _word(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def _out_of_office() -> bytes:
    # A long subject as mailers write it: encoded words of at most 75 characters, folded.
    data = SUBJECT.encode()
    words = [_word(data[i : i + 45].decode("utf-8", "ignore")) for i in range(0, len(data), 45)]
    assert "".join(base64.b64decode(w[10:-2]).decode() for w in words) == SUBJECT  # whole chars
    return (
        f"From: {_word('陈志明')} <chenzm@hengtai-elec.com>\r\n"
        "To: service@example.com\r\n"
        "Subject: " + "\r\n ".join(words) + "\r\n"
        "Message-ID: <ooo-subject-1@hengtai-elec.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "我于12月5日至12月13日休假。\r\n"
    ).encode()


def _shown_subject() -> str:
    return SUBJECT[:119] + "…"


@pytest.fixture
def set_aside(app, session, intake) -> None:
    make_user(session, email="lead@example.com", role="admin", password=PASSWORD)
    session.commit()
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail("chenzm@hengtai-elec.com", ["service@example.com"], _out_of_office())
    assert process_all(app) == 1


@pytest.mark.usefixtures("set_aside")
def test_the_set_aside_list_names_the_subject_and_sender_escaped(app, session, client) -> None:
    if "quarantine" not in app.blueprints:
        intake_views.init_app(app)
    assert [row.id for row in queue.set_aside(session)] == [session.scalar(select(InboundMail.id))]
    session.commit()  # SQLite: the test's read must not keep the login's write waiting
    login(client, "lead@example.com")
    for lang in ("en", "zh"):
        page = client.get(f"/staff/quarantine/?lang={lang}").get_data(as_text=True)
        shown = _shown_subject().replace("<", "&lt;").replace(">", "&gt;")
        assert shown in page and "<b>关于" not in page and "=?utf-8?" not in page
        assert "陈志明 &lt;chenzm@hengtai-elec.com&gt;" in page


@pytest.mark.browser
@pytest.mark.usefixtures("set_aside")
@pytest.mark.parametrize(
    ("locale", "viewport", "reason"),
    [
        ("zh-CN", PHONE, "外出或自动回复"),
        ("en-US", PHONE, "out-of-office or automatic reply"),
        ("zh-CN", LAPTOP, "外出或自动回复"),
        ("en-US", LAPTOP, "out-of-office or automatic reply"),
    ],
)
def test_the_subject_fits_the_screen(app, tmp_path, locale, viewport, reason) -> None:
    with live_server(app) as base, chromium() as browser:
        page = browser.new_context(locale=locale, viewport=viewport).new_page()
        page.set_default_timeout(60_000)
        sign_in(page, base, "lead@example.com", PASSWORD)
        page.goto(f"{base}/staff/quarantine/")
        row = page.locator("tr", has_text="chenzm@hengtai-elec.com")
        expect(row).to_have_count(1)
        expect(row.get_by_role("link")).to_have_text(_shown_subject())
        expect(row).to_contain_text(reason)
        page.screenshot(path=str(tmp_path / f"intake-{locale}-{viewport['width']}.png"))
        assert overflow_px(page) <= 1
        row.get_by_role("link").click()
        main = page.locator("main")
        expect(main).to_contain_text("ooo-subject-1@hengtai-elec.com")
        expect(main).to_contain_text(_shown_subject())
        assert overflow_px(page) <= 1
