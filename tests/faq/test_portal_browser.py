"""The portal in a real browser (Chromium through Playwright) against a real server thread."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from faq.demand import record_demand
from faq.index_sync import rebuild_index
from faq.knowledge import create_article
from faq.models import Article, Category, Feedback
from mailrouter.models import InboundMail
from support.desk.models import Ticket
from support.desk.outbox import enqueue_mail
from tests.browser_tools import PHONE, chromium, overflow_px, png_grey, sign_in
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT_DIR = os.environ.get("FAQ_SCREENSHOT_DIR", "/tmp")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture
def app_settings() -> dict:
    return {"FAQ_HOME_CACHE_SECONDS": 0}  # the order test reloads right after demand changes


@pytest.fixture
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(app, demo) -> Iterator[str]:
    """The app on a free port, served by a real WSGI server in a thread, its search index built
    first (as `support init` does): a first build embeds every article (10-15 s on two busy
    cores), longer than a browser step may wait."""
    rebuild_index(app)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


def test_search_from_a_category_page_open_a_result_and_vote(page, server, session):
    page.goto(f"{server}/c/returns-and-repairs?lang=en")
    page.get_by_label("Search in Returns and repairs").fill("how long for my money back")
    page.get_by_label("Search in Returns and repairs").press("Enter")
    page.wait_for_url("**/search?**")
    assert page.get_by_label("Topic").input_value() == "returns-and-repairs"
    first = page.locator("ol.results li").first
    assert "refund" in first.inner_text().lower()
    first.locator("h2 a").click()
    page.wait_for_url("**/a/refund-time-en**")
    expect(page.locator("h1")).to_have_text("How long does it take to get my refund?")
    page.get_by_role("button", name="Yes").click()
    page.wait_for_url("**voted=yes**")
    expect(page.get_by_text("We are glad this helped")).to_be_visible()
    votes = session.scalars(select(Feedback.helpful)).all()
    session.commit()
    assert votes == [True]


def test_suggestions_appear_while_typing_and_open_the_article(page, server):
    page.goto(f"{server}/?lang=en")
    box = page.locator("#hero-search")  # the home page's one search box
    box.press_sequentially("track my ord", delay=40)
    option = page.locator("#hero-search-suggestions [role=option]").first
    option.wait_for(state="visible")
    assert "track" in option.inner_text().lower()
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url("**/a/track-order-en")


def test_ask_through_the_contact_form_and_a_ticket_is_created(app, page, server, session):
    page.goto(f"{server}/contact?lang=en")
    page.get_by_label("Your name").fill("Li Wei")
    page.get_by_label("Your email address").fill("li.wei@example.org")
    page.get_by_label("Subject").fill("Refund still missing")
    page.get_by_label("Your question").press_sequentially(
        "I returned the lamp two weeks ago, where is my refund?", delay=5
    )
    matches = page.locator("#contact-matches")
    matches.wait_for(state="visible")  # answers offered while typing
    assert "refund" in matches.inner_text().lower()
    page.get_by_label("I agree that").check()
    page.get_by_role("button", name="Send question").click()
    page.wait_for_url("**/contact/sent?r=*")
    expect(page.get_by_role("heading", name="We received your question")).to_be_visible()
    (mail,) = session.scalars(select(InboundMail)).all()
    session.commit()
    assert mail.channel == "web" and mail.envelope_from == "li.wei@example.org"

    from mailrouter.intake.worker import Worker

    assert Worker(app).run_until_idle() == 1
    (ticket,) = session.scalars(select(Ticket)).all()
    assert ticket.subject == "Refund still missing" and ticket.channel == "web"
    session.commit()


# A proxy refuses longer request lines: nginx's default large_client_header_buffers is 8 kB,
# and it answers 414 (docs/deploy.md's proxy).
PROXY_REQUEST_LINE_BYTES = 8 * 1024


@pytest.mark.parametrize("app_settings", [{"FAQ_HOME_CACHE_SECONDS": 0, "WTF_CSRF_ENABLED": True}])
def test_a_long_chinese_question_still_gets_matching_answers(page, server):
    """1,500 Chinese characters are some 13.5 kB percent-encoded: the text goes in the body
    (with the form's CSRF token), the request line stays short, and the answers appear."""
    sent = []
    page.on(
        "request",
        lambda request: sent.append(request) if "/contact/matches" in request.url else None,
    )
    page.goto(f"{server}/contact?lang=zh")
    story = (
        "我上个月退回了一台台灯，快递已经签收退货，可是退款到现在还没有到账，请问退款多久能到账？"
    )
    question = (story * (1500 // len(story) + 1))[:1500]
    page.locator("form.contact-form [name=subject]").fill("退款还没到账")
    page.locator("form.contact-form [name=question]").fill(question)
    matches = page.locator("#contact-matches")
    expect(matches.locator("a[href='/a/refund-time-zh']")).to_be_visible()
    assert sent
    for request in sent:
        path = request.url.removeprefix(server)
        request_line = f"{request.method} {path} HTTP/1.1\r\n".encode()
        assert len(request_line) < PROXY_REQUEST_LINE_BYTES, len(request_line)
    # The whole question is sent, none of it cut for the URL's sake.
    assert question.encode() in sent[-1].post_data_buffer


def test_a_two_character_chinese_question_gets_matching_answers_while_typing(page, server):
    """退款 alone is a question: app.js asked only from six characters on, so a Chinese
    customer who typed it saw no answers (an English "refund" has six)."""
    page.goto(f"{server}/contact?lang=zh")
    page.locator("form.contact-form [name=question]").press_sequentially("退款", delay=5)
    expect(page.locator("#contact-matches a[href='/a/refund-time-zh']")).to_be_visible()


@pytest.mark.parametrize(
    ("lang", "near", "reached"),
    [
        ("en", "9,500 of 10,000 characters", "at most 10,000 characters: the rest was not added"),
        ("zh", "9,500 / 10,000 字", "最多 10,000 字，超出的部分没有加入"),
    ],
)
def test_a_pasted_question_cut_at_the_limit_says_so(page, server, lang, near, reached):
    """The browser cuts a paste at the box's maxlength without a word: a customer who pasted a
    long mail lost its end unaware. Near the limit the box tells how much it holds, at it that
    the rest was not added."""
    page.goto(f"{server}/contact?lang={lang}")
    box = page.locator("form.contact-form [name=question]")
    status = page.locator("#question-limit")
    box.fill("word " * 100)
    expect(status).to_have_text("")
    box.fill("x" * 9_500)
    expect(status).to_have_text(near)
    box.fill("")
    box.focus()
    page.keyboard.insert_text("A long pasted mail. " * 700)  # 14,000 characters
    assert len(box.input_value()) == 10_000
    expect(status).to_contain_text(reached)
    assert status.get_attribute("role") == "status"


def test_home_page_order_follows_demand(page, server, session):
    def order() -> list[str]:
        page.goto(f"{server}/?lang=en")
        return page.locator("[data-category]").evaluate_all(
            "nodes => nodes.map(n => n.dataset.category)"
        )

    before = order()
    last = before[-1]
    article_ids = session.scalars(
        select(Article.id).join(Category).where(Category.slug == last, Article.language == "en")
    ).all()
    for article_id in article_ids:
        record_demand(session, article_id, "email_match", weight=100)
    session.commit()
    after = order()
    assert after[0] == last and after[1:] == before[:-1]


def test_chinese_screenshots(browser, server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 1000})
    page = context.new_page()
    page.goto(f"{server}/?lang=zh")
    expect(page.locator("h1")).to_have_text("有什么可以帮您？")
    page.screenshot(path=f"{SCREENSHOT_DIR}/faq-home-zh.png", full_page=True)
    page.locator("#hero-search").fill("退货运费谁出")
    page.locator("#hero-search").press("Enter")
    page.wait_for_url("**/search?**")
    expect(page.locator(".result-count")).to_contain_text("找到")
    assert page.locator("ol.results mark").count() > 0
    page.screenshot(path=f"{SCREENSHOT_DIR}/faq-search-zh.png", full_page=True)
    phone = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    small = phone.new_page()
    small.goto(f"{server}/a/return-policy-zh?lang=zh")
    small.screenshot(path=f"{SCREENSHOT_DIR}/faq-article-zh-phone.png", full_page=True)
    phone.close()
    context.close()


def test_a_misspelt_query_shows_the_corrected_results_and_offers_the_typed_one(page, server):
    page.goto(f"{server}/?lang=en")
    page.locator("#hero-search").fill("refnd")
    page.locator("#hero-search").press("Enter")
    page.wait_for_url("**/search?**")
    notice = page.locator("p.did-you-mean.corrected")
    expect(notice.locator(".corrected-query")).to_have_text("refund")
    expect(notice).to_contain_text("Showing results for")
    first = page.locator("ol.results li").first
    assert "refund" in first.locator("h2").inner_text().lower()
    assert "0 answers" not in page.locator(".result-count").inner_text()
    page.screenshot(path=os.path.join(SCREENSHOT_DIR, "faq-search-corrected.png"))
    # "search instead for refnd": the words as typed, with no correction.
    notice.locator("a.exact-query").click()
    page.wait_for_url("**exact=1**")
    assert page.locator("p.did-you-mean.corrected").count() == 0


@pytest.mark.parametrize("lang", ["en", "zh", "zh-TW"])
def test_several_typos_and_pinyin_show_the_corrected_results(browser, server, lang):
    """ "wher is my oder??" (two slips, one of them the rare real word "oder") and "tuikuan"
    (退款 typed without a Chinese keyboard) found nothing to correct: now the corrected
    query's results show at once, with the words as typed one click away; also while typing."""
    locale = {"en": "en-GB", "zh": "zh-CN", "zh-TW": "zh-TW"}[lang]
    context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    for typed, corrected, first in (
        ("wher is my oder??", "where is my order??", "order"),
        ("tuikuan", "退款", "退款"),
    ):
        page.goto(f"{server}/")
        page.locator("#hero-search").fill(typed)
        page.locator("#hero-search").press("Enter")
        page.wait_for_url("**/search?**")
        notice = page.locator("p.did-you-mean.corrected")
        expect(notice.locator(".corrected-query")).to_have_text(corrected)
        expect(notice.locator("a.exact-query")).to_have_text(typed)
        expect(notice).to_contain_text("Showing results for" if lang == "en" else "以下是")
        assert first in page.locator("ol.results li h2").first.inner_text().lower()
        name = "pinyin" if typed == "tuikuan" else "typos"
        page.screenshot(path=f"{SCREENSHOT_DIR}/faq-corrected-{name}-{lang}.png")
        notice.locator("a.exact-query").click()
        page.wait_for_url("**exact=1**")
        assert page.locator("p.did-you-mean.corrected").count() == 0
    # While typing: the box's suggestions read the pinyin too.
    page.goto(f"{server}/")
    page.locator("#hero-search").press_sequentially("tuikuan", delay=40)
    option = page.locator("#hero-search-suggestions [role=option]").first
    expect(option).to_contain_text("退款")
    context.close()


@pytest.mark.parametrize("lang", ["en", "zh", "zh-TW"])
def test_an_order_number_alone_shows_where_to_follow_a_request(browser, server, lang):
    """ "LH20260311-20417" showed the careers article on the English portal (the model places
    any string near some article): now no article, and where a request is followed."""
    locale = {"en": "en-GB", "zh": "zh-CN", "zh-TW": "zh-TW"}[lang]
    context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    typed = "LH20260311-20417" if lang == "en" else "订单号：LH20260311-20417"
    page.goto(f"{server}/")
    box = page.locator("#hero-search")
    box.press_sequentially(typed, delay=30)
    page.wait_for_timeout(600)  # the suggestions' debounce and answer
    expect(page.locator("#hero-search-suggestions [role=option]")).to_have_count(0)
    box.press("Enter")
    page.wait_for_url("**/search?**")
    notice = page.locator("section.reference-query")
    expect(notice).to_be_visible()
    expect(notice.locator("h2")).to_have_text(
        {
            "en": "This looks like an order or ticket number",
            "zh": "这看起来是订单号或工单号",
            "zh-TW": "這看起來是訂單號或工單號",
        }[lang]
    )
    expect(notice.locator("a.ask-us")).to_be_visible()
    assert page.locator("ol.results li").count() == 0
    assert page.locator(".no-results").count() == 0
    page.screenshot(path=f"{SCREENSHOT_DIR}/faq-reference-query-{lang}.png")
    context.close()


def test_swapped_letters_are_corrected_while_typing_and_on_the_results(browser, server):
    """ "recieve" (ie/ei swapped, and the questions only say "received") got no suggestion
    while typed and no correction on the results page; on a wide screen and a phone."""
    for name, viewport in (("wide", {"width": 1366, "height": 900}), ("phone", PHONE)):
        context = browser.new_context(locale="en-GB", viewport=viewport, is_mobile=name == "phone")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{server}/?lang=en")
        box = page.locator("#hero-search")
        box.press_sequentially("recieve", delay=40)
        option = page.locator("#hero-search-suggestions [role=option]").first
        expect(option).to_contain_text("received")
        box.press("Enter")
        page.wait_for_url("**/search?**")
        notice = page.locator("p.did-you-mean.corrected")
        expect(notice.locator(".corrected-query")).to_have_text("received")
        expect(page.locator("ol.results li h2").first).to_contain_text("received")
        assert overflow_px(page) == 0
        page.screenshot(path=f"{SCREENSHOT_DIR}/faq-search-swapped-letters-{name}.png")
        context.close()


@pytest.mark.parametrize("lang", ["en", "zh", "zh-TW"])
def test_a_search_no_article_answers_says_so_on_a_wide_screen_and_a_phone(browser, server, lang):
    """The notice above the list, its "ask us" link leading to the contact form with the search
    as the subject, the results still listed under "related articles"; both sizes screenshot."""
    words = {
        "en": (
            "what is the weather in paris tomorrow",
            "No article seems to answer this exactly",
            "Possibly related articles",
            "Ask us your question",
            "Subject",
        ),
        "zh": ("明天上海天气怎么样", "没有找到完全匹配的答案", "相关文章", "向我们提问", "主题"),
        "zh-TW": ("明天台北天氣怎麼樣", "沒有找到完全匹配的答案", "相關文章", "向我們提問", "主題"),
    }
    query, notice, related, ask, subject = words[lang]
    locale = {"en": "en-GB", "zh": "zh-CN", "zh-TW": "zh-TW"}[lang]
    for name, viewport in (("wide", {"width": 1366, "height": 900}), ("phone", PHONE)):
        context = browser.new_context(locale=locale, viewport=viewport, is_mobile=name == "phone")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{server}/")
        page.locator("#hero-search").fill(query)
        page.locator("#hero-search").press("Enter")
        page.wait_for_url("**/search?**")
        box = page.locator("section.no-exact-answer")
        expect(box.get_by_role("heading")).to_have_text(notice)
        expect(page.get_by_role("heading", name=related)).to_be_visible()
        expect(page.locator("ol.results.related li").first).to_be_visible()
        expect(page.locator(".ask-hint")).to_have_count(0)
        assert overflow_px(page) == 0
        page.screenshot(
            path=f"{SCREENSHOT_DIR}/faq-no-exact-answer-{lang}-{name}.png", full_page=True
        )
        box.get_by_role("link", name=ask).click()
        page.wait_for_url("**/contact?q=**")
        expect(page.get_by_label(subject)).to_have_value(query)
        context.close()


def test_an_answered_search_shows_no_notice(page, server):
    page.goto(f"{server}/search?q=how+can+I+track+my+order&lang=en")
    expect(page.locator("ol.results li").first).to_contain_text("track")
    expect(page.locator("section.no-exact-answer")).to_have_count(0)
    expect(page.locator(".result-count")).to_contain_text("answers found")


def _editor_and_three_sent_mails(app, session, subject: str) -> None:
    """An admin (editor@example.com) and an auto-reply, a staff notification and a reply sent
    on one ticket, each with ``subject`` after the ticket's reference."""
    make_user(session, email="editor@example.com", role="admin")
    ticket = make_ticket(session, subject="水壶漏水")
    for kind in ("auto_reply", "notification", "reply"):
        enqueue_mail(
            session,
            ticket=ticket,
            kind=kind,
            to=["wang.fang@example.com"],
            subject=f"[#{ticket.reference}] {subject}",
            text="您好",
            config=app.config,
        )
    session.commit()


def test_long_staff_lists_read_on_a_phone(app, browser, server, session):
    """As many-column tables, the demo's 60 FAQ articles were 8,880 px on a 390 px phone,
    each up to 236 px high with the status out of sight, and the sent-mail list showed its
    kind one Chinese character a line. Now each row is its main line and one of facts."""
    _editor_and_three_sent_mails(app, session, "已收到：水壶漏水")
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="en-GB")
    page = context.new_page()
    sign_in(page, server, "editor@example.com", PASSWORD)
    for path, rows, lines in (("/staff/faq/?lang=en", 60, 4), ("/staff/mail?lang=zh", 3, 4)):
        page.goto(f"{server}{path}")
        heights = page.evaluate(
            "[...document.querySelectorAll('table.phone-list tbody tr')]"
            ".map(row => row.getBoundingClientRect().height)"
        )
        assert len(heights) == rows, path
        assert max(heights) <= lines * 26, path  # a title of two lines, two of facts at most
        table = page.locator("table.phone-list")
        assert table.evaluate("t => t.scrollWidth - t.clientWidth") == 0, path
        assert overflow_px(page) == 0, path
    page.goto(f"{server}/staff/faq/?lang=en")
    expect(page.locator("table.phone-list tbody tr").first).to_contain_text("Helpful 0 / 0")
    context.close()


def test_home_page_cards_keep_their_spacing(page, server):
    # The "Did not find your answer?" card sat glued to the topics above it, and a card's
    # heading had its own margin on top of the card's padding (an empty band above it).
    page.goto(f"{server}/?lang=en")
    grid = page.locator(".category-grid").bounding_box()
    ask = page.locator(".ask-us").bounding_box()
    assert ask["y"] - (grid["y"] + grid["height"]) >= 12
    heading = page.locator(".ask-us h2").bounding_box()
    assert heading["y"] - ask["y"] <= 24


def test_sent_mail_on_a_wide_screen_keeps_short_cells_on_one_line(app, browser, server, session):
    # Long subjects took the width, and 员工通知, 已发送 and SUP-00001 broke a character or
    # two a line (Chinese may break between any two characters; a reference at its hyphen).
    _editor_and_three_sent_mails(app, session, "新工单（紧急程度 2 · 一般）：" + "水壶漏水，" * 20)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    sign_in(page, server, "editor@example.com", PASSWORD)
    page.goto(f"{server}/staff/mail?lang=zh")
    lines = page.evaluate(
        """[...document.querySelectorAll('table.phone-list tbody td:not(.main)')].map(cell => {
             const range = document.createRange();
             range.selectNodeContents(cell);
             const tops = [...range.getClientRects()].map(r => r.top).sort((a, b) => a - b);
             return tops.filter((top, i) => i === 0 || top - tops[i - 1] > 10).length;
           })"""
    )
    assert len(lines) == 3 * 5 and max(lines) == 1, lines
    context.close()


def test_a_wide_table_in_an_answer_scrolls_inside_it_on_a_phone(app, browser, server, session):
    """An answer's table with many columns pushed the whole article page sideways on a phone;
    it scrolls inside the answer instead, with a shadow on the side that hides more."""
    category = session.scalars(select(Category)).first()
    row = "| LH-AP100 | HEPA H13 | 260x260x45 | 420 g | 300 m³/h | 32 dB | ¥199 | LH-F-100-H13 |"
    with app.app_context():
        create_article(
            session,
            category=category,
            question="Which filter fits my purifier?",
            answer_md="| Model | Filter | Size (mm) | Weight | CADR | Noise | Price | Part |\n"
            + "|---|---|---|---|---|---|---|---|\n"
            + row,
            slug="filter-fit",
        )
        session.commit()
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    page = context.new_page()
    page.goto(f"{server}/a/filter-fit")
    table = page.locator(".answer-body table")
    assert overflow_px(page) == 0
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    page.add_style_tag(content=".answer-body table * { visibility: hidden !important; }")
    rows = png_grey(table.screenshot())[5:-5]
    right, middle = (sum(r[x] for r in rows) / len(rows) for x in (-2, len(rows[0]) // 2))
    assert right < middle - 8, (right, middle)
    context.close()


def _language_of(locator) -> str:
    """The language the browser and a screen reader take the element's text to be in."""
    return locator.evaluate("e => e.closest('[lang]').lang")


def test_faq_text_in_another_language_than_the_page_says_which(browser, server):
    """A Chinese answer listed on an English page, or an English one on a Chinese page, took
    the page's language: a screen reader spoke it in the wrong voice (WCAG 3.1.2) and a
    browser drew the Chinese with whatever CJK font it had for English text (Japanese glyph
    forms on many computers). The article page said it; the lists did not."""
    context = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server}/search?q=退款&lang=en")
    assert _language_of(page.locator("li.result h2 a").first) == "zh-Hans"
    assert _language_of(page.locator("li.result .snippet").first) == "zh-Hans"
    assert _language_of(page.locator("h1")) == "en"  # the page's own words stay English
    page.screenshot(path=f"{SCREENSHOT_DIR}/search-chinese-on-english-page.png", full_page=True)
    # Typed in Traditional characters: the results are shown in them, and tagged so.
    page.goto(f"{server}/search?q=退貨運費&lang=en")
    assert _language_of(page.locator("li.result h2 a").first) == "zh-Hant"
    page.goto(f"{server}/search?q=refund&lang=en")
    assert _language_of(page.locator("li.result h2 a").first) == "en"

    context.close()

    # A Taiwan reader's browser opens an English article (a link, not ?lang=, which would
    # lead to its Chinese version): its related questions are English too.
    context = browser.new_context(
        locale="zh-TW", extra_http_headers={"Accept-Language": "zh-TW"}, viewport=PHONE
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server}/a/refund-time-en")
    assert _language_of(page.locator(".related a").first) == "en"
    assert _language_of(page.locator("#feedback-title")) == "zh-Hant"
    page.screenshot(path=f"{SCREENSHOT_DIR}/english-article-on-taiwan-page.png", full_page=True)

    page.goto(f"{server}/?lang=zh&script=hans")
    page.locator("#hero-search").press_sequentially("track my ord", delay=40)
    option = page.locator("#hero-search-suggestions [role=option] a").first
    option.wait_for(state="visible")
    assert _language_of(option) == "en"
    page.locator("#hero-search").fill("")
    page.locator("#hero-search").press_sequentially("退款多久", delay=40)
    option = page.locator("#hero-search-suggestions [role=option] a").first
    expect(option).to_contain_text("退款")
    assert _language_of(option) == "zh-Hans"

    page.goto(f"{server}/contact?lang=zh")
    page.locator("#question").press_sequentially("How long does a refund take?", delay=20)
    match = page.locator("#contact-matches a").first
    match.wait_for(state="visible")
    assert _language_of(match) == "en"
    context.close()
