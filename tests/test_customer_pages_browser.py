"""The customer's pages in real Chromium: contact confirmation, replying on the follow page,
rating with a chosen score. Screenshots go to $SCREENSHOT_DIR (default /tmp)."""

from __future__ import annotations

import os
import re
from datetime import UTC, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.outbound.customer_links import follow_url
from support.desk.models import Message, OutboundMail, Ticket
from support.desk.satisfaction import rating_links
from tests.browser_tools import PHONE, chromium, live_server, overflow_px
from tests.factories import make_customer, make_ticket
from tests.mailrouter.conftest import make_mail, process_all, send_over_smtp

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
    page.get_by_test_id("contact-reference").wait_for(timeout=60_000)
    assert page.get_by_test_id("contact-reference").inner_text() == reference
    page.screenshot(path=str(SCREENSHOT_DIR / "contact-confirmation.png"), full_page=True)
    # The follow link goes by mail, for every address: the page reads the same for all.
    expect(page.get_by_text("We have sent the link to follow your request")).to_be_visible()


def _ask(page, base: str, name: str, email: str, question: str) -> None:
    """Send the contact form in English as a customer does, up to its confirmation."""
    page.goto(f"{base}/contact?lang=en")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Your email address").fill(email)
    page.get_by_label("Your question").fill(question)
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send question").click()
    page.wait_for_url("**/contact/sent?r=*")


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 900}, PHONE])
def test_the_thank_you_page_reads_well_in_both_languages(app, session, site, viewport) -> None:
    """The confirmation with its reference and promised time, in English and Chinese, on a
    desktop and a phone: nothing wider than the screen, the promise on the reader's clock."""
    base, browser = site
    page = browser.new_page(viewport=viewport)
    _ask(page, base, "Chen Li", "chen.li2026@example.com", "The kettle's lid is cracked. Help?")
    assert process_all(app) == 1
    session.commit()
    for language in ("en", "zh"):
        page.goto(f"{page.url.split('&lang=')[0]}&lang={language}")
        expect(page.get_by_test_id("contact-reference")).to_be_visible()
        expect(page.get_by_test_id("contact-answer-by")).to_contain_text(
            "your time" if language == "en" else "您当地时间"
        )
        assert overflow_px(page) == 0
        name = f"contact-thanks-{language}-{viewport['width']}.png"
        page.screenshot(path=str(SCREENSHOT_DIR / name), full_page=True)
    page.close()


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


def test_a_refused_reply_keeps_its_text_and_a_long_message_folds(
    app, session, site, tmp_path
) -> None:
    """Eleven files: refused, and the page comes back at the form with the message still in
    the box (a redirect lost it). A 15,000-character message shows its opening; "Show all"
    opens the rest."""
    base, browser = site
    long_body = "\n\n".join(
        f"Paragraph {n}: the kettle clicks off too early. " * 8 for n in range(40)
    )
    ticket = make_ticket(session, body=long_body + " THE END")
    session.commit()
    files = []
    for n in range(11):
        files.append(tmp_path / f"photo{n}.png")
        files[-1].write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    page = browser.new_page(viewport=PHONE, is_mobile=True)
    page.goto(base + _path(follow_url(app.config, ticket.reference, "en")))
    expect(page.get_by_text("THE END")).to_be_hidden()
    page.locator("summary", has_text="Show all (").click()
    expect(page.get_by_text("THE END")).to_be_visible()
    page.get_by_label("Your message").fill("Photos of the kettle's base and the receipt.")
    page.get_by_label("Attach files").set_input_files([str(f) for f in files])
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_test_id("reply-refused")).to_be_visible()
    box = page.get_by_label("Your message")
    expect(box).to_have_value("Photos of the kettle's base and the receipt.")
    expect(box).to_be_in_viewport()  # the action's #reply: the form, not the page's top
    assert page.url.endswith("/reply#reply")
    assert overflow_px(page) <= 1
    page.screenshot(path=str(SCREENSHOT_DIR / "follow-refused-phone.png"))


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


def _mail_from_the_customers_clock(app, session, sender: str, date: str, subject: str, body: str):
    """The ticket a mail dated on the sender's own clock (its Date header) opens."""
    raw = make_mail(sender=sender, subject=subject, body=body)
    raw = re.sub(rb"^Date: [^\r\n]*", b"Date: " + date.encode(), raw, count=1, flags=re.M)
    queue.store_inbound(
        session, channel="smtp", raw=raw, envelope_from="x@example.org", department_code="service"
    )
    session.commit()
    assert process_all(app) == 1
    return session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def test_the_follow_page_gives_the_answer_time_on_the_customers_own_clock(
    app, session, site
) -> None:
    """The auto-reply promised the answer on the customer's clock (UTC-5, from their mail's
    Date header), but the follow page did not say when the answer was due and showed every
    time in the company's zone (Asia/Shanghai): the offset was not kept past intake."""
    base, browser = site
    ticket = _mail_from_the_customers_clock(
        app,
        session,
        "Jane Roe <jane.roe@example.org>",
        "Sun, 06 Dec 2026 03:46:00 -0500",
        "My kettle stopped heating",
        "The kettle does not heat since yesterday. What can I do?",
    )
    message = ticket.messages[0]
    assert message.date_offset_minutes == -5 * 60
    due = ticket.first_response_due_at.replace(tzinfo=UTC)
    theirs = due.astimezone(timezone(timedelta(hours=-5)))
    reference = ticket.reference
    session.commit()

    page = browser.new_page(viewport=PHONE, is_mobile=True)
    page.goto(base + _path(follow_url(app.config, reference, "en")))
    answer_by = page.get_by_test_id("answer-by")
    expect(answer_by).to_contain_text(f"{theirs:%H:%M}")
    expect(answer_by).to_contain_text("your time (UTC-5)")
    expect(answer_by).to_contain_text("Asia/Shanghai, UTC+8")  # and the company's clock
    # The conversation's times on the same clock as the promise.
    expect(page.locator("article.message-in time").first).to_contain_text("(UTC-5)")
    assert overflow_px(page) <= 1
    page.screenshot(path=str(SCREENSHOT_DIR / "follow-own-clock-phone.png"), full_page=True)

    page.goto(base + _path(follow_url(app.config, reference, "zh")))
    expect(page.get_by_test_id("answer-by")).to_contain_text("您当地时间")
    expect(page.get_by_test_id("answer-by")).to_contain_text(f"{theirs:%H:%M}（UTC-5）")
    page.screenshot(path=str(SCREENSHOT_DIR / "follow-own-clock-phone-zh.png"), full_page=True)


def test_the_follow_page_of_a_customer_on_the_company_s_clock_names_one_zone(
    app, session, site
) -> None:
    """A mail from the company's own clock (+0800) is told its answer time once, in 北京时间,
    not as "your time"; a Date offset no clock uses (+1500) is not kept."""
    base, browser = site
    ticket = _mail_from_the_customers_clock(
        app,
        session,
        "王芳 <wangfang@example.cn>",
        "Sun, 06 Dec 2026 16:46:00 +0800",
        "发票开错了",
        "你好，发票抬头写错了，请帮忙重新开一张。订单号 88213。",
    )
    assert ticket.messages[0].date_offset_minutes == 8 * 60
    reference = ticket.reference
    hostile = _mail_from_the_customers_clock(
        app, session, "Eve <eve@example.org>", "Sun, 06 Dec 2026 16:46:00 +1500", "Hi", "Refund?"
    )
    assert hostile.messages[0].date_offset_minutes is None
    session.commit()

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(base + _path(follow_url(app.config, reference, "zh")))
    answer_by = page.get_by_test_id("answer-by")
    expect(answer_by).to_contain_text("（北京时间）")
    expect(answer_by).not_to_contain_text("您当地时间")
    page.screenshot(path=str(SCREENSHOT_DIR / "follow-company-clock-zh.png"), full_page=True)


def test_the_contact_form_sends_the_browser_s_clock(app, session, site) -> None:
    """A question from the form keeps the customer's UTC offset, from the browser's clock
    (the ticket page's "customer local time" and the follow page read it)."""
    base, browser = site
    context = browser.new_context(timezone_id="America/Sao_Paulo")  # UTC-3, no summer time
    page = context.new_page()
    _ask(page, base, "Ana Souza", "ana.souza@example.org", "My kettle stopped heating, help?")
    assert process_all(app) == 1
    offset = session.scalar(select(Message.date_offset_minutes).where(Message.direction == "in"))
    assert offset == -180


def test_a_form_customer_on_utc_is_told_the_answer_time_on_their_own_clock(
    app, session, site
) -> None:
    """A customer whose browser is on UTC+0 (London or Lisbon in winter, Reykjavik, Accra all
    year) was told the answer time on the company's clock, "Asia/Shanghai, UTC+8", in the
    auto-reply and on the follow page: the form wrote their offset as the Date header's
    "+0000", which mail programs also write when they do not know the zone, and it was read
    as unknown. Their browser did say, unlike such a mail."""
    base, browser = site
    context = browser.new_context(timezone_id="Atlantic/Reykjavik")  # UTC+0, no summer time
    page = context.new_page()
    page.goto(f"{base}/contact?lang=en")
    page.get_by_label("Your name").fill("Anna Jónsdóttir")
    page.get_by_label("Your email address").fill("anna.j@example.is")
    page.get_by_label("Your question").fill("My kettle stopped heating, what can I do?")
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send question").click()
    page.wait_for_url("**/contact/sent?r=*")
    assert process_all(app) == 1
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.messages[0].date_offset_minutes == 0
    reference = ticket.reference
    raw = session.scalars(select(OutboundMail.raw).where(OutboundMail.kind == "auto_reply")).one()
    text = message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    assert re.search(r"answer you personally by \w+ \d+ December 2026, \d\d:\d\d \(UTC\)", text)
    session.commit()

    page.goto(base + _path(follow_url(app.config, reference, "en")))
    answer_by = page.get_by_test_id("answer-by")
    expect(answer_by).to_contain_text("your time (UTC)")
    expect(page.locator("article.message-in time").first).to_contain_text("(UTC)")
    page.screenshot(path=str(SCREENSHOT_DIR / "follow-utc-clock-phone.png"), full_page=True)


def test_a_form_question_without_the_browser_s_clock_stays_on_the_company_s(
    app, session, site
) -> None:
    """No script, no offset: the form's message is dated "-0000" (no zone known, RFC 5322),
    and the customer is told the company's clock, not UTC."""
    base, browser = site
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _ask(page, base, "Ana Souza", "ana.souza@example.org", "My kettle stopped heating, help?")
    assert process_all(app) == 1
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.messages[0].date_offset_minutes is None
    reference = ticket.reference
    session.commit()
    page.goto(base + _path(follow_url(app.config, reference, "en")))
    expect(page.get_by_test_id("answer-by")).to_contain_text("Asia/Shanghai, UTC+8")
    expect(page.get_by_test_id("answer-by")).not_to_contain_text("your time")


def _fonts_drawing(page, selector: str) -> set[str]:
    """The fonts Chromium really drew the element's text with (not the CSS list it asked for)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    text = cdp.send("DOM.describeNode", {"nodeId": node, "depth": 1})["node"]["children"][0]
    found = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": text.get("nodeId") or node})
    return {font["familyName"] for font in found["fonts"]}


@pytest.mark.parametrize(
    ("query", "cjk_font"),
    [("lang=zh", "Noto Sans CJK SC"), ("lang=zh&script=hant", "Noto Sans CJK TC")],
)
def test_chinese_headings_are_drawn_in_a_cjk_font(app, site, query, cjk_font) -> None:
    """With system-ui first, a Chinese heading's “” and ？ came from a Latin font (DejaVu Sans
    here), narrow beside the Chinese characters: Chinese pages name CJK fonts first."""
    base, browser = site
    for viewport in ({"width": 1366, "height": 900}, PHONE):
        page = browser.new_page(viewport=viewport)
        page.goto(f"{base}/search?q=发票怎么开？&{query}")
        assert _fonts_drawing(page, "h1") == {cjk_font}
        page.screenshot(
            path=str(SCREENSHOT_DIR / f"cjk-heading-{cjk_font[-2:]}-{viewport['width']}.png")
        )
    english = browser.new_page()
    english.goto(f"{base}/search?q=invoice&lang=en")
    assert "Noto Sans CJK SC" not in _fonts_drawing(english, "h1")  # English keeps system-ui


@pytest.mark.parametrize(
    ("language", "script", "viewport", "comment", "forwarded", "heading"),
    [
        (
            "en",
            "",
            {"width": 1366, "height": 900},
            "FYI",
            "---------- Forwarded message ---------\nFrom: Tom Baker <tom@family.example>\n"
            "Date: Sat, Dec 5, 2026 at 3:12 PM\nSubject: Kettle leaking\n"
            "To: Anna Miles <anna@customer.example>\n\n\n"
            "The kettle I bought from you leaks from the bottom. Can I get a replacement?\n",
            "The mail you forwarded",
        ),
        (
            "zh",
            "hant",
            PHONE,
            "請幫忙處理",
            "開始轉寄的郵件：\n\n寄件者: 吳太太 <wu@family.example>\n主旨: 除濕機不會排水\n"
            "日期: 2026年12月5日 GMT+8 下午4:40:55\n收件者: 吳建宏 <anna@customer.example>\n\n"
            "除濕機水箱滿了也不會停，排水管接上後還是不排水。\n",
            "您轉來的郵件",
        ),
    ],
    ids=["gmail-en-desktop", "apple-mail-zh-hant-phone"],
)
def test_the_follow_page_shows_the_mail_the_customer_forwarded(
    app, session, site, intake, language, script, viewport, comment, forwarded, heading
) -> None:
    """A customer who forwards their problem with "FYI" saw their request as "FYI" alone:
    the follow page showed the comment and dropped the mail forwarded, which staff see."""
    base, browser = site
    raw = make_mail(
        sender="Anna <anna@customer.example>",
        to="service@example.com",
        subject="Fwd: kettle" if language == "en" else "轉寄：除濕機",
        body=f"{comment}\n\n{forwarded}",
    )
    send_over_smtp(app, session, intake, "anna@customer.example", raw)
    reference = session.scalar(select(Ticket.reference))
    session.commit()
    url = _path(follow_url(app.config, reference, language))
    url += f"&script={script}" if script else ""
    page = browser.new_page(viewport=viewport)
    page.goto(base + url)
    mail = page.locator("article.message-in").first
    expect(mail.get_by_text(comment, exact=True)).to_be_visible()
    shown = mail.get_by_test_id("forwarded-mail")
    expect(shown.get_by_role("heading")).to_have_text(heading)
    expect(shown).to_contain_text("leaks from the bottom" if language == "en" else "還是不排水")
    assert overflow_px(page) <= 1
    page.screenshot(path=str(SCREENSHOT_DIR / f"follow-forward-{language}.png"), full_page=True)


def test_an_address_typed_in_full_width_letters_is_the_ascii_address(app, session, site) -> None:
    """A Chinese input method left in full-width mode types ｃｈｅｎ＠ｅｘａｍｐｌｅ．ｃｏｍ: the
    form kept the local part ｃｈｅｎ (a mailbox only an SMTPUTF8 relay can try, and no one
    has), so the confirmation, the auto-reply and every answer went nowhere."""
    base, browser = site
    page = browser.new_page(viewport=PHONE, is_mobile=True)
    page.goto(f"{base}/contact?lang=zh")
    page.get_by_label("您的姓名").fill("陈小姐")
    page.get_by_label("您的邮箱地址").fill("ｃｈｅｎ．ｌｉ２０２６＠ｅｘａｍｐｌｅ．ｃｏｍ")
    page.get_by_label("您的问题").fill("我的订单还没发货，请问什么时候能发？")
    page.get_by_label("我同意").check()
    page.get_by_role("button", name="提交问题").click()
    page.wait_for_url("**/contact/sent?r=*")
    expect(page.get_by_test_id("contact-address")).to_have_text("chen.li2026@example.com")
    page.screenshot(path=str(SCREENSHOT_DIR / "contact-full-width-address.png"), full_page=True)
    assert process_all(app) == 1
    ticket = session.scalar(select(Ticket))
    assert ticket is not None and ticket.customer.email == "chen.li2026@example.com"
    session.commit()
