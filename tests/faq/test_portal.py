"""The customer portal: search, suggestions, article pages, votes, language, index upkeep."""

from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy import event, select, text

from faq.index_sync import get_index, index_path, rebuild_index
from faq.knowledge import search_faq, suggest_articles, update_article
from faq.models import Article, DemandEvent, Feedback, SearchQuery
from faq.portal import VISITOR_COOKIE


def _text(response) -> str:
    return response.get_data(as_text=True)


def _committed(session, statement):
    """Read, then end the transaction (SQLite admits one writer, and the app must write)."""
    value = session.scalars(statement.execution_options(populate_existing=True)).all()
    session.commit()
    return value


@pytest.fixture
def returns_kb(kb):
    returns = kb.category("returns", "Returns", "退换货")
    delivery = kb.category("delivery", "Delivery", "配送")
    refund = kb.article(
        returns,
        "How long does a refund take?",
        "Refunds reach your **bank card** within 5 working days after the parcel arrives.",
        translation_key="refund-time",
        phrasings=["when do I get my money back"],
    )
    refund_zh = kb.article(
        returns,
        "退款多久到账？",
        "仓库收到退货后，退款会在5个工作日内退回原支付账户。",
        language="zh",
        translation_key="refund-time",
    )
    used = kb.article(returns, "Can I return a used kettle?", "Yes, within 7 days if it works.")
    parcel = kb.article(
        delivery, "Where is my parcel?", "Track the parcel with the number we sent."
    )
    kb.commit()
    return {"refund": refund, "refund_zh": refund_zh, "used": used, "parcel": parcel}


def test_search_shows_question_highlighted_snippet_and_category(
    client, returns_kb, browser_headers
):
    response = client.get("/search?q=refund+bank+card&lang=en", headers=browser_headers)
    html = _text(response)
    assert response.status_code == 200
    first = html.index("How long does a refund take?")
    assert first < html.find("Where is my parcel?") or "Where is my parcel?" not in html
    assert re.search(r"<mark[^>]*>bank</mark>", html)
    assert ">Returns</span>" in html


def test_search_query_is_escaped_everywhere(client, returns_kb, browser_headers):
    html = _text(client.get("/search?q=<script>alert(1)</script>", headers=browser_headers))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_each_search_is_logged_with_a_hashed_visitor(client, session, returns_kb, browser_headers):
    client.get("/search?q=refund", headers=browser_headers)
    # (Real words find something by meaning now: "nothing matches" is close to a few articles.)
    client.get("/search?q=xyzzy+asdf", headers=browser_headers)
    cookie = client.get_cookie(VISITOR_COOKIE)
    logged = _committed(session, select(SearchQuery).order_by(SearchQuery.id))
    assert [q.query for q in logged] == ["refund", "xyzzy asdf"]
    assert logged[0].result_count >= 1 and logged[1].result_count == 0
    assert logged[0].visitor == logged[1].visitor and len(logged[0].visitor) == 32
    assert cookie is not None and cookie.value not in logged[0].visitor


def test_crawlers_searches_are_not_logged(client, session, returns_kb):
    client.get("/search?q=refund", headers={"User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0)"})
    assert _committed(session, select(SearchQuery)) == []


def test_opening_a_result_records_the_click_and_demand(
    client, session, returns_kb, browser_headers
):
    html = _text(client.get("/search?q=refund", headers=browser_headers))
    link = re.search(r'href="(/a/[^"]+\?sq=\d+)"', html).group(1).replace("&amp;", "&")
    client.get(link, headers=browser_headers)
    client.get(link, headers=browser_headers)  # a reload is not a second click
    query = _committed(session, select(SearchQuery))[0]
    assert query.clicked_article_id == returns_kb["refund"].id
    kinds = _committed(session, select(DemandEvent.kind).order_by(DemandEvent.id))
    assert kinds == ["search_click", "view"]


def test_another_visitor_cannot_claim_a_search_click(
    app, client, session, returns_kb, browser_headers
):
    client.get("/search?q=refund", headers=browser_headers)
    query = _committed(session, select(SearchQuery))[0]
    app.test_client().get(f"/a/refund-time?sq={query.id}", headers=browser_headers)
    assert _committed(session, select(SearchQuery))[0].clicked_article_id is None


@pytest.mark.parametrize("value", ["²", str(10**20)])
def test_odd_page_and_search_numbers_are_ignored(client, returns_kb, browser_headers, value):
    """'²' passes str.isdigit() but not int(); 10**20 overflows the id column: neither is a 500."""
    assert client.get(f"/search?q=refund&page={value}", headers=browser_headers).status_code == 200
    assert (
        client.get(f"/search?q=refund&page=2&sq={value}", headers=browser_headers).status_code
        == 200
    )
    assert client.get(f"/a/refund-time?sq={value}", headers=browser_headers).status_code == 200


def test_the_canonical_link_ignores_the_host_header(client, returns_kb, browser_headers):
    """The client chooses the Host header: a page's absolute links come from PUBLIC_BASE_URL."""
    headers = {**browser_headers, "Host": "evil.example"}
    html = _text(client.get("/a/refund-time", headers=headers))
    assert '<link rel="canonical" href="http://127.0.0.1:8080/a/refund-time">' in html
    assert "evil.example" not in html


def test_votes_from_one_address_are_counted_up_to_the_hourly_limit(
    app, session, returns_kb, browser_headers
):
    """Each fresh client (no cookie) was a new voter: one address stuffed 30 votes a minute."""
    app.config["FAQ_VOTES_PER_IP_HOUR"] = 2
    for _ in range(4):
        voter = app.test_client()
        response = voter.post(
            "/a/refund-time/feedback", data={"helpful": "yes"}, headers=browser_headers
        )
        assert response.status_code == 302  # thanked either way
    [article] = _committed(session, select(Article).where(Article.slug == "refund-time"))
    assert article.helpful_yes == 2
    assert len(_committed(session, select(Feedback))) == 2


def test_views_from_one_address_are_counted_up_to_the_hourly_limit(
    app, session, returns_kb, browser_headers
):
    """Views rank the FAQ; a client that drops its cookie was a new visitor every time."""
    app.config["FAQ_VIEWS_PER_IP_HOUR"] = 2
    for _ in range(4):
        assert app.test_client().get("/a/refund-time", headers=browser_headers).status_code == 200
    [article] = _committed(session, select(Article).where(Article.slug == "refund-time"))
    assert article.view_count == 2


def test_filters_by_category_and_language(client, returns_kb, browser_headers):
    html = _text(client.get("/search?q=parcel+refund&category=delivery", headers=browser_headers))
    assert "Where is my parcel?" in html and "How long does a refund take?" not in html
    html = _text(client.get("/search?q=退款&language=zh", headers=browser_headers))
    assert "退款多久到账？" in html and "How long does a refund take?" not in html
    html = _text(client.get("/search?q=refund&language=zh", headers=browser_headers))
    assert "How long does a refund take?" not in html


def test_a_chinese_question_finds_the_chinese_article(client, returns_kb, browser_headers):
    html = _text(client.get("/search?q=我的退款什么时候到账", headers=browser_headers))
    assert "退款多久到账？" in html


def test_did_you_mean_offers_a_corrected_search(client, returns_kb, browser_headers):
    html = _text(client.get("/search?q=refnd&lang=en", headers=browser_headers))
    assert 'Showing results for <strong class="corrected-query">refund</strong>' in html
    assert re.search(
        r'<a class="exact-query" href="/search\?q=refnd[^"]*exact=1[^"]*">'
        r"(<!--as-written-->)?refnd(<!--/as-written-->)?</a>",
        html,
    )
    assert "How long does a refund take?" in html
    typed = _text(client.get("/search?q=refnd&lang=en&exact=1", headers=browser_headers))
    assert "Showing results for" not in typed
    # In Chinese one sentence, with Chinese punctuation: no "：" before the word, no ( ).
    html = _text(client.get("/search?q=refnd&lang=zh", headers=browser_headers))
    assert re.search(
        r'以下是<strong class="corrected-query">refund</strong>的结果'
        r'（仍要搜索<a class="exact-query" [^>]*>refnd</a>）</p>',
        html,
    )


def test_did_you_mean_reads_as_one_sentence(client, returns_kb, browser_headers, monkeypatch):
    # When the corrected words find nothing either, the page only offers them.
    from faq import portal
    from faq.search.engine import SearchResults

    offered = SearchResults(total=0, hits=[], did_you_mean="refund")
    monkeypatch.setattr(portal, "search_faq", lambda *args, **kwargs: (offered, "en"))
    html = _text(client.get("/search?q=refnd&lang=en", headers=browser_headers))
    assert re.search(r'Did you mean <a href="/search\?q=refund[^"]*">refund</a>\?', html)
    html = _text(client.get("/search?q=refnd&lang=zh", headers=browser_headers))
    assert re.search(r'您是不是要找<a href="/search\?q=refund[^"]*">refund</a>？', html)


def test_suggestions_while_typing_are_json_and_only_published(client, session, returns_kb):
    data = client.get("/suggest?q=refu").get_json()
    assert {
        "question": "How long does a refund take?",
        "lang": "en",  # the text's own language: the page sets it on the suggestion
        "url": "/a/refund-time",
    } in data["suggestions"]
    assert client.get("/suggest?q=退").get_json()["suggestions"][0]["url"] == "/a/refund-time-zh"
    refund = session.get(Article, returns_kb["refund"].id)
    update_article(session, refund, is_published=False)
    session.commit()
    assert client.get("/suggest?q=refu").get_json()["suggestions"] == []
    assert client.get("/a/refund-time").status_code == 404


def test_article_page_renders_sanitised_markdown_related_and_translation(
    client, kb, browser_headers
):
    returns = kb.category("returns")
    article = kb.article(
        returns,
        "Is it safe?",
        "**Bold** and [a link](https://example.com)\n\n<script>alert(1)</script>\n\n"
        "[bad](javascript:alert(2))\n\n# Big heading",
        translation_key="safe",
    )
    kb.article(returns, "是否安全？", "是的。", language="zh", translation_key="safe")
    kb.article(returns, "Another returns question?")
    kb.commit()
    html = _text(client.get(f"/a/{article.slug}", headers=browser_headers))
    assert "<strong>Bold</strong>" in html
    assert 'href="https://example.com"' in html and "noopener" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert "<h2>Big heading</h2>" in html
    assert "Another returns question?" in html  # related: same category, same language
    assert 'href="/a/safe-zh"' in html  # the translation


def test_switching_language_on_an_article_opens_its_translation(client, returns_kb):
    response = client.get("/a/refund-time?lang=zh")
    assert response.status_code == 302 and response.location.endswith("/a/refund-time-zh")


def test_helpful_vote_counts_once_and_can_be_changed(client, session, returns_kb, browser_headers):
    slug = "refund-time"
    client.get(f"/a/{slug}?lang=en", headers=browser_headers)
    response = client.post(f"/a/{slug}/feedback", data={"helpful": "yes"}, headers=browser_headers)
    assert response.status_code == 302
    page = _text(client.get(response.location, headers=browser_headers))
    assert "glad this helped" in page
    client.post(f"/a/{slug}/feedback", data={"helpful": "yes"}, headers=browser_headers)
    article = _committed(session, select(Article).where(Article.slug == slug))[0]
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    kinds = _committed(session, select(DemandEvent.kind).where(DemandEvent.kind == "helpful"))
    assert kinds == ["helpful"]
    edited = article.updated_at
    client.post(f"/a/{slug}/feedback", data={"helpful": "no"}, headers=browser_headers)
    session.expire_all()
    article = _committed(session, select(Article).where(Article.slug == slug))[0]
    assert (article.helpful_yes, article.helpful_no) == (0, 1)
    assert article.updated_at == edited  # a vote is not an edit


def test_no_vote_offers_a_comment_and_a_way_to_ask_us(client, session, returns_kb, browser_headers):
    slug = "refund-time"
    response = client.post(f"/a/{slug}/feedback", data={"helpful": "no"}, headers=browser_headers)
    page = _text(client.get(response.location, headers=browser_headers))
    assert 'name="comment"' in page and f'href="/contact?article={slug}"' in page
    english = _text(client.get(f"/a/{slug}?voted=no&lang=en", headers=browser_headers))
    assert "Sorry, this did not help." in english  # it read "Sorry this did not help."
    client.post(
        f"/a/{slug}/feedback", data={"comment": "Which bank card?"}, headers=browser_headers
    )
    feedback = _committed(session, select(Feedback))
    assert [(f.helpful, f.comment) for f in feedback] == [(False, "Which bank card?")]


def test_vote_without_csrf_token_is_rejected(app, client, session, returns_kb, browser_headers):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/a/refund-time/feedback", data={"helpful": "yes"}, headers=browser_headers
    )
    assert response.status_code == 400
    assert _committed(session, select(Feedback)) == []


def test_vote_with_the_pages_csrf_token_is_accepted(
    app, client, session, returns_kb, browser_headers
):
    app.config["WTF_CSRF_ENABLED"] = True
    page = _text(client.get("/a/refund-time", headers=browser_headers))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/a/refund-time/feedback",
        data={"helpful": "yes", "csrf_token": token},
        headers=browser_headers,
    )
    assert response.status_code == 302
    assert len(_committed(session, select(Feedback))) == 1


def test_chinese_interface(client, returns_kb, browser_headers):
    html = _text(client.get("/?lang=zh", headers=browser_headers))
    assert '<html lang="zh-Hans">' in html
    assert "帮助中心" in html and "搜索" in html and "联系我们" in html
    assert "退换货" in html  # category names in Chinese
    html = _text(client.get("/search?q=退款&lang=zh", headers=browser_headers))
    assert "退款多久到账？" in html and "找到" in html


def test_taiwan_and_hong_kong_readers_get_traditional_characters(
    client, staff_client, returns_kb, browser_headers
):
    taiwan = {**browser_headers, "Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}
    html = _text(client.get("/", headers=taiwan))
    assert '<html lang="zh-Hant">' in html
    assert {"Accept-Language", "Cookie"} <= set(client.get("/", headers=taiwan).vary)
    assert "幫助中心" in html and "退換貨" in html and "帮助中心" not in html
    # The switch back to Simplified keeps its own characters, and is remembered.
    assert "&#31616;&#20307;" in html and 'href="/?script=hans"' in html
    html = _text(client.get("/search?q=退款多久到帳", headers=taiwan))
    assert "退款多久到帳？" in html and "退款多久到账？" not in html
    suggestions = client.get("/suggest?q=退", headers=taiwan).get_json()["suggestions"]
    assert suggestions[0]["question"] == "退款多久到帳？"
    response = client.get("/?script=hans", headers=taiwan)
    assert "帮助中心" in _text(response) and "script=hans" in response.headers["Set-Cookie"]
    assert "帮助中心" in _text(client.get("/", headers=taiwan))  # the cookie decides now
    # Mainland readers, and English pages, are unchanged. Staff pages follow the browser too
    # unless the staff member chose a language (tests/support/staff/test_traditional_staff.py).
    mainland = {**browser_headers, "Accept-Language": "zh-CN,zh;q=0.9"}
    fresh = client.application.test_client()
    html = _text(fresh.get("/", headers=mainland))
    assert "帮助中心" in html and "繁體" in html
    assert "Help centre" in _text(fresh.get("/?lang=en", headers=taiwan))
    staff = _text(staff_client.get("/staff/inbox/service?lang=zh", headers=taiwan))
    assert '<html lang="zh-Hant">' in staff and "幫助中心" in staff


def test_a_traditional_page_echoes_the_search_as_the_customer_typed_it(
    client, returns_kb, browser_headers
):
    # The page is converted to Traditional; the query shown back is the customer's own text:
    # 台北 and 十台 must not come back as the converter's 臺北 and 十臺.
    html = _text(
        client.get("/search?q=台北門市有十台嗎&lang=zh&script=hant", headers=browser_headers)
    )
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    assert "台北門市有十台嗎" in heading and "臺" not in heading
    assert heading.startswith("「台北門市有十台嗎」")  # Taiwan's quotes around it, no markers
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)  # the tab says it so too
    assert "台北門市有十台嗎" in title and "臺" not in title and "<!--" not in title
    assert "搜尋" in html  # the page's own words are Traditional


def test_links_to_chinese_read_in_the_readers_script(client, returns_kb, browser_headers):
    # A Taiwan reader on the English article: its Chinese version opens in Traditional
    # characters, so the link says so in them (and is tagged so for fonts and screen readers).
    english = _text(client.get("/a/refund-time?lang=en&script=hant", headers=browser_headers))
    assert re.search(r'lang="zh-Hant">閱讀中文版</a>', english)
    assert re.search(r'hreflang="zh" lang="zh-Hant">中文</a>', english)
    chinese = _text(client.get("/a/refund-time-zh?lang=zh", headers=browser_headers))
    assert '<article class="card answer" lang="zh-Hant">' in chinese  # converted: tagged so
    assert re.search(r'lang="en">Read in English</a>', chinese)
    mainland = client.application.test_client()
    english = _text(mainland.get("/a/refund-time?lang=en&script=hans", headers=browser_headers))
    assert re.search(r'lang="zh-Hans">阅读中文版</a>', english)


def test_language_switch_keeps_the_search(client, returns_kb, browser_headers):
    html = _text(client.get("/search?q=refund&lang=en", headers=browser_headers))
    assert re.search(r'href="/search\?q=refund&amp;lang=zh"', html)


def test_changes_reach_the_index_only_after_commit(app, session, returns_kb):
    with app.app_context():  # as the worker and the CLI run: the index and settings are the app's
        refund = session.get(Article, returns_kb["refund"].id)
        update_article(session, refund, question="How long does a reimbursement take?")
        # (The semantic ranking finds the refund article by meaning all along; its words decide.)
        results, _ = search_faq("reimbursement", app=app)
        assert not [h for h in results.hits if h.lexical_rank]  # not committed yet
        session.rollback()
        results, _ = search_faq("reimbursement", app=app)
        assert not [h for h in results.hits if h.lexical_rank]  # rolled back: never indexed
        refund = session.get(Article, returns_kb["refund"].id)
        update_article(session, refund, question="How long does a reimbursement take?")
        session.commit()
        results, _ = search_faq("reimbursement", app=app)
        assert [h.slug for h in results.hits] == ["refund-time"]


def test_a_missing_index_is_rebuilt_on_first_use(app, client, returns_kb, browser_headers):
    import faq.index_sync as index_sync

    get_index(app).close()
    shutil.rmtree(index_path(app))
    app.extensions[index_sync._EXTENSION_KEY].checked_at = float("-inf")  # next use checks
    html = _text(client.get("/search?q=refund", headers=browser_headers))
    assert "How long does a refund take?" in html
    assert not get_index(app).needs_rebuild()


def test_reindex_rebuilds_from_the_database(app, session, returns_kb):
    assert rebuild_index(app) == 4
    assert get_index(app).doc_count() == 4


def test_suggest_articles_for_other_parts(app, session, returns_kb):
    """The auto-reply and the contact form ask for answers with a session, not a request."""
    with app.app_context():  # as the worker and the CLI run: the index and settings are the app's
        found = suggest_articles(session, "Hello, how long until my refund arrives?", "en")
        assert found[0].slug == "refund-time" and found[0].url_path == "/a/refund-time"
        assert len(suggest_articles(session, "refund parcel kettle", None, limit=2)) == 2
        assert suggest_articles(session, "xyzzy plugh", "en") == []


def test_suggest_articles_asks_the_database_once_per_transaction(app, db, session, returns_kb):
    """Whether a hit is still published is asked once per article and transaction (the worker
    matches a batch of mails in one); the next transaction asks again."""
    with app.app_context():  # as the worker and the CLI run: the index and settings are the app's
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args) -> None:
            statements.append(statement)

        question = "Hello, how long until my refund arrives?"
        session.commit()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            first = suggest_articles(session, question, "en")
            again = suggest_articles(session, question, "en")
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert first == again and first[0].slug == "refund-time"
        assert len([s for s in statements if "faq_articles" in s]) == 1

        session.commit()
        with db.engine.begin() as conn:  # unpublished behind the index's back
            conn.execute(
                text("UPDATE faq_articles SET is_published = :no WHERE slug = 'refund-time'"),
                {"no": False},
            )
        assert "refund-time" not in [m.slug for m in suggest_articles(session, question, "en")]


def test_a_huge_query_is_cut_before_searching_storing_and_linking(
    client, session, returns_kb, browser_headers
):
    """Finding 17: a 100k-character query was stored and echoed into every link."""
    huge = "refund " + "x" * 100_000
    response = client.get(f"/search?q={huge}&lang=en", headers=browser_headers)
    assert response.status_code == 200
    html = _text(response)
    assert "x" * 201 not in html
    [logged] = _committed(session, select(SearchQuery))
    assert len(logged.query) <= 200 and logged.query.startswith("refund x")


def test_repeated_searches_are_stored_once_per_visitor_and_bounded_per_address(
    app, client, session, returns_kb, browser_headers
):
    """Finding 17: every search stored a row (3.5k rows in 30 s from one client)."""
    for _ in range(5):
        client.get("/search?q=refund", headers=browser_headers)
    assert len(_committed(session, select(SearchQuery))) == 1
    app.config["FAQ_SEARCH_LOG_PER_IP_HOUR"] = 3
    for n in range(10):  # fresh visitors (no cookie), all from one address
        app.test_client().get(f"/search?q=refund+{n}", headers=browser_headers)
    # The first search counted too: 3 in the hour from this address (in every process).
    assert len(_committed(session, select(SearchQuery))) == 3
    # Pages still work without a stored search.
    html = _text(app.test_client().get("/search?q=refund+bank", headers=browser_headers))
    assert "How long does a refund take?" in html


def test_old_stored_searches_are_purged(app, session, returns_kb):
    from datetime import timedelta

    from faq.phrasings import purge_old_searches
    from support.core.db import utcnow

    now = utcnow()
    session.add(SearchQuery(query="old", visitor="v", created_at=now - timedelta(days=121)))
    session.add(SearchQuery(query="recent", visitor="v", created_at=now - timedelta(days=89)))
    session.commit()
    with app.app_context():
        assert purge_old_searches(session, now=now) == 1
    session.commit()
    assert [q.query for q in _committed(session, select(SearchQuery))] == ["recent"]


def test_error_pages_speak_the_ui_language_and_pages_have_a_favicon(client) -> None:
    missing = client.get("/no-such-page?lang=zh")
    assert missing.status_code == 404
    page = missing.get_data(as_text=True)
    assert "The requested URL was not found" not in page  # Werkzeug's English description
    assert "找不到" in page or "未找到" in page
    assert 'rel="icon"' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.get_data().startswith(b"<svg")
    icon.close()


def test_the_home_page_has_one_search_box(client) -> None:
    page = client.get("/?lang=en").get_data(as_text=True)
    assert page.count('role="search"') == 1 and page.count('type="search"') == 1


def test_an_article_written_in_traditional_reads_in_each_readers_script(
    client, kb, browser_headers
):
    # A Taiwan company's admin writes in Traditional; a mainland reader of the portal got the
    # Traditional text (and Taiwan's 保固) on every page and in the suggestions as they typed.
    service = kb.category("service", "Service", "售後服務")
    written = kb.article(
        service,
        "主機保固多久？",
        "主機保固兩年，配件保固一年。請保留購買發票，登入會員帳號後即可線上申請維修。",
        language="zh",
    )
    kb.commit()
    slug = written.slug
    mainland = {**browser_headers, "Accept-Language": "zh-CN,zh;q=0.9"}
    page = _text(client.get(f"/a/{slug}", headers=mainland))
    assert "<h1>主机保修多久？</h1>" in page
    assert "主机保修两年，配件保修一年。请保留购买发票" in page
    assert "保固" not in page and "售后服务" in page
    for path in ("/?lang=zh", "/c/service?lang=zh", "/search?q=保修多久&lang=zh"):
        listed = _text(client.get(path, headers=mainland))
        assert "主机保修多久？" in listed and "主機保固多久？" not in listed, path
    suggestions = client.get("/suggest?q=主机保修", headers=mainland).get_json()["suggestions"]
    assert suggestions[0]["question"] == "主机保修多久？"
    # A reader of Traditional gets it as written, and search finds it in either script.
    taiwan = client.application.test_client()
    page = _text(taiwan.get(f"/a/{slug}?script=hant", headers=mainland))
    assert "<h1>主機保固多久？</h1>" in page and "主機保固兩年" in page
    suggestions = taiwan.get("/suggest?q=主機保固", headers=mainland).get_json()["suggestions"]
    assert suggestions[0]["question"] == "主機保固多久？"
