"""A new user's first steps on the staff side in a real browser (Playwright + system Chromium),
as seen from a fresh `./start.sh`: adding a department address, finding where the company's
names are set, and seeing why a test mail got no confirmation."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mailrouter.intake import queue
from support.desk.models import Department, Ticket
from tests.factories import make_ticket, make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.support.staff.test_browser import CHROMIUM, live_server, page  # noqa: F401 - fixtures
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


@pytest.fixture
def app_settings() -> dict:
    return {
        "WTF_CSRF_ENABLED": True,
        "DEFAULT_LANGUAGE": "en",
        "COMPANY_NAME": "Harbour Appliances",
        "COMPANY_NAME_ZH": "港湾电器",
    }


@pytest.fixture
def admin(session):
    user = make_user(
        session, role="admin", email="admin@example.com", name="Zhou Min", departments=("service",)
    )
    session.commit()
    return user


def _sign_in(page) -> None:  # noqa: F811 - `page` is the fixture's tab
    page.goto("/staff/login")
    page.get_by_label("Email address").fill("admin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda url: "/staff/" in url and "/staff/login" not in url)


def test_a_department_needs_no_second_name_and_says_what_its_code_is(
    page,  # noqa: F811
    admin,
    session,
) -> None:
    """The "display name in mail" was required: a new admin who filled the code, the name and the
    address got only the browser's bubble on Save. It now falls back to the name (as mail
    already did), and the code says what it is before a wrong one is refused."""
    _sign_in(page)
    page.goto("/staff/admin/departments/new")
    code = page.get_by_label("Code")
    expect(code).to_have_accessible_description(re.compile("^A short name for links and commands"))
    code.fill("warranty")
    page.get_by_label("Name", exact=True).fill("Warranty")
    page.get_by_label("Chinese name").fill("保修部")
    page.get_by_label("Address").fill("warranty@example.com")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/staff/admin/departments")
    expect(page.get_by_text("Saved department Warranty.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="warranty@example.com")
    expect(row).to_contain_text("Warranty / 保修部")
    names = [line.strip() for line in row.locator("td").nth(3).inner_text().splitlines()]
    assert names == ["English mail: Warranty", "Chinese mail: 保修部"]  # the sender names mail uses
    session.expire_all()
    saved = session.scalar(select(Department).where(Department.code == "warranty"))
    assert saved is not None and saved.email_address == "warranty@example.com"
    session.commit()

    page.context.add_cookies([{"name": "lang", "value": "zh", "url": page.url}])
    page.goto("/staff/admin/departments/new")
    expect(page.get_by_label("邮件中显示的名称（可选）")).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "staff-department-new-zh.png"), full_page=True)


def test_the_departments_page_says_where_the_company_name_is_set(page, admin, app) -> None:  # noqa: F811
    """Replacing the demo company's names: no staff page named them or said where they are set
    (instance/config.toml, read at start)."""
    _sign_in(page)
    page.goto("/staff/admin/departments")
    section = page.get_by_role("region", name="Company name")
    expect(section).to_contain_text("Harbour Appliances / 港湾电器")
    expect(section).to_contain_text(f"{app.instance_path}/config.toml")
    expect(section).to_contain_text("company_name_zh")
    page.screenshot(path=str(SCREENSHOT_DIR / "staff-departments.png"), full_page=True)


def test_the_company_name_section_reads_the_names_as_mail_does(page, admin, app) -> None:  # noqa: F811
    """The section read COMPANY_NAME and COMPANY_NAME_ZH itself, not through `company_name` as
    every page and mail does: a company with one name for both languages read "Acme / Acme",
    and a Chinese reader got the English name first."""
    _sign_in(page)
    page.goto("/staff/admin/departments")
    page.context.add_cookies([{"name": "lang", "value": "zh", "url": page.url}])
    page.reload()
    section = page.get_by_role("region", name="公司名称")
    expect(section).to_contain_text("港湾电器 / Harbour Appliances")
    page.screenshot(path=str(SCREENSHOT_DIR / "staff-departments-zh.png"), full_page=True)

    app.config["COMPANY_NAME_ZH"] = "Harbour Appliances"  # one name in both languages
    page.goto("/staff/admin/departments")
    names = section.locator("strong")
    expect(names).to_have_count(1)
    expect(names).to_have_text("Harbour Appliances")


def test_a_custom_auto_reply_says_which_paragraphs_it_leaves_out(page, admin) -> None:  # noqa: F811
    """A saved custom template that never reads `says_nothing` (or `danger`) answered "hi" without
    asking for the question, and smoke without the safety advice, and no page said so."""
    _sign_in(page)
    page.goto("/staff/templates")
    page.get_by_label("Add a template for a key").fill("sales.en.txt")
    page.get_by_role("button", name="Add").click()
    page.get_by_label("Template", exact=True).fill(
        "Dear {{ customer_name }}, we have your message ({{ ticket_reference }})."
    )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Template saved; new auto-replies use it.")).to_be_visible()
    left_out = page.get_by_test_id("left-out")
    expect(left_out.locator("li")).to_have_count(2)
    asking = left_out.locator("li[data-variable=says_nothing]")
    expect(asking).to_contain_text("a mail that says nothing")
    asking.get_by_text("The shipped paragraph, to copy into this template").click()
    expect(asking.locator("pre")).to_contain_text("{% if says_nothing %}")
    expect(asking.locator("pre")).to_contain_text("Please reply to this email with your question")
    page.screenshot(path=str(SCREENSHOT_DIR / "staff-template-left-out.png"), full_page=True)

    source = page.get_by_label("Template", exact=True)
    source.fill(source.input_value() + "\n" + asking.locator("pre").inner_text())
    page.get_by_role("button", name="Save").click()
    expect(left_out.locator("li")).to_have_count(1)
    expect(left_out.locator("li[data-variable=danger]")).to_contain_text("emergency services")

    page.goto("/staff/templates/default.en.txt")  # the shipped text has both
    expect(page.get_by_role("heading", name="default.en.txt")).to_be_visible()
    expect(page.get_by_test_id("left-out")).to_have_count(0)


def test_the_departments_page_flags_addresses_outside_the_mail_domains(page, admin, app) -> None:  # noqa: F811
    """A new admin who set mail_domains to their own domain kept the demo's department addresses
    (service@example.com): auto-replies went out from a domain not theirs and mail to
    service@ their domain was classified, not routed by address; no page said so."""
    app.config["MAIL_DOMAINS"] = ["harbour.example"]
    _sign_in(page)
    page.goto("/staff/admin/departments")
    outside = page.get_by_test_id("outside-domains")
    expect(outside).to_contain_text("harbour.example")
    expect(outside).to_contain_text("mail_domains")
    row = page.get_by_role("row").filter(has_text="service@example.com")
    expect(row.get_by_test_id("outside-domain")).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "staff-departments-outside.png"), full_page=True)

    row.get_by_role("link", name="service").click()
    page.get_by_label("Address").fill("service@harbour.example")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/staff/admin/departments")
    row = page.get_by_role("row").filter(has_text="service@harbour.example")
    expect(row.get_by_test_id("outside-domain")).to_have_count(0)

    app.config["MAIL_DOMAINS"] = ["example.com", "harbour.example"]  # both are ours
    page.reload()
    expect(page.get_by_test_id("outside-domains")).to_have_count(0)


def test_the_ticket_says_why_a_second_test_mail_got_no_confirmation(
    page,  # noqa: F811
    admin,
    app,
    session,
) -> None:
    """README's "Trying it" sends mail from one address: the second within four hours got no
    auto-reply (one per sender, AUTOREPLY_WINDOW_HOURS), and its ticket's history said only "No
    automatic confirmation sent"."""
    for subject in ("Where is my order?", "And my invoice?"):
        queue.store_inbound(
            session,
            channel="smtp",
            raw=make_mail(sender="Me <me@example.org>", subject=subject, body=f"{subject} Thanks."),
            envelope_from="me@example.org",
            department_code="service",
        )
    session.commit()
    assert process_all(app) == 2
    second = session.scalar(select(Ticket).where(Ticket.subject == "And my invoice?"))
    assert second is not None
    session.commit()
    _history_says(
        page,
        second.id,
        "No automatic confirmation sent: this sender already got one in the last 4 hours"
        " (AUTOREPLY_WINDOW_HOURS)",
    )


def _history_says(page, ticket_id: int, words: str) -> None:  # noqa: F811 - the fixture's tab
    """Signed in, the ticket's History opened holds ``words``."""
    _sign_in(page)
    page.goto(f"/staff/tickets/{ticket_id}")
    page.locator("#history-title").click()
    expect(page.locator("#history-title").locator("..")).to_contain_text(words)


def test_swakss_own_test_mail_waits_in_triage_and_says_why_no_confirmation(
    page,  # noqa: F811
    admin,
    app,
    session,
) -> None:
    """`swaks --to support@example.com --server 127.0.0.1:2525`, a new admin's first mail:
    swaks writes "This is a test mailing" under "test <date>" from root@<host>. It became an
    Important Sales ticket (84 %), and its history said "the sender gave no address to answer"
    of a mail that gave one (root@vm, which no mail reaches)."""
    raw = (
        b"Date: Mon, 07 Dec 2026 10:43:21 +0000\r\nTo: support@example.com\r\n"
        b"From: root@vm\r\nSubject: test Mon, 07 Dec 2026 10:43:21 +0000\r\n"
        b"Message-Id: <20261207104321.024416@vm>\r\nX-Mailer: swaks v20201014.0\r\n\r\n"
        b"This is a test mailing\r\n\r\n"
    )
    queue.store_inbound(
        session,
        channel="smtp",
        raw=raw,
        envelope_from="root@vm",
        envelope_to=["support@example.com"],
    )
    session.commit()
    assert process_all(app) == 1
    ticket = session.scalar(select(Ticket))
    assert ticket is not None and ticket.needs_triage and ticket.urgency == 2
    session.commit()
    _history_says(
        page,
        ticket.id,
        "No automatic confirmation sent: the sender's address, root@vm, is not one mail can reach",
    )


def test_an_empty_department_inbox_says_which_address_fills_it(
    page,  # noqa: F811
    admin,
    session,
) -> None:
    """A new admin who added a department opened its inbox to "No tickets here." and nothing on
    what to do: it now names the address whose mail comes here."""
    session.add(
        Department(
            code="install",
            name="Installation",
            display_name="Installation",
            email_address="install@example.com",
        )
    )
    session.commit()
    _sign_in(page)
    page.goto("/staff/inbox/install")
    empty = page.get_by_test_id("empty-inbox")
    expect(empty).to_contain_text("No tickets here.")
    expect(empty).to_contain_text("Mail to install@example.com comes here")
    page.goto("/staff/inbox/install?q=nothing-matches-this")
    expect(page.get_by_test_id("empty-inbox")).not_to_contain_text("install@example.com")
    # In Chinese, one sentence after the other, no space between them.
    page.goto("/staff/inbox/install?lang=zh")
    expect(page.get_by_test_id("empty-inbox")).to_have_text(
        "这里没有工单。发到 install@example.com 的邮件会出现在这里。"
    )


@pytest.mark.parametrize("size", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}])
def test_a_new_admins_first_inbox_shows_tickets_beside_the_getting_started_steps(
    page,  # noqa: F811
    session,
    size,
) -> None:
    """After `./start.sh` the demo's unnamed admin opened Customer Service to the name notice,
    six "Getting started" steps, the filters and the bulk bar: at 1366x900 the first ticket
    began below the screen, on a phone a screen and a half down. The list now shows the next
    step, its other steps one click away."""
    make_user(session, role="admin", email="admin@example.com", name="Administrator")
    for number in range(4):
        make_ticket(session, subject=f"Kettle {number} broken")
    session.commit()
    page.set_viewport_size(size)
    _sign_in(page)
    page.goto("/staff/inbox/service")
    card = page.get_by_test_id("getting-started")
    expect(card).to_contain_text(re.compile(r"\d of 6 done"))
    expect(card.get_by_test_id("next-step").get_by_role("link")).to_be_visible()
    first = page.locator("tbody tr").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= size["height"], box
    page.screenshot(path=str(SCREENSHOT_DIR / f"first-inbox-{size['width']}.png"))
    card.get_by_text("All steps").click()
    expect(card.get_by_role("link", name="Add your colleagues")).to_be_visible()
    expect(card.get_by_role("button", name="Hide this list")).to_be_visible()
