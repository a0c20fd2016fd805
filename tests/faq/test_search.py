"""Behaviour of the bilingual FAQ search a customer or the portal would notice."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from faq.evaluate import DEMO_EVAL, evaluate, load_demo_docs, read_eval_csv
from faq.importexport import import_articles
from faq.knowledge import search_faq
from faq.models import Article
from faq.search import (
    _NO_POSTINGS,
    ANALYZER,
    CHAR_ANALYZER,
    CURRENT_FILE,
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    POSTINGS_ENTRY_COST,
    SCHEMA_VERSION,
    ArticleDoc,
    SearchIndex,
    SearchResults,
    _match_clauses,
    _PostingsCache,
    analyze,
    query_terms,
)
from support.core.db import get_db
from tests.conftest import make_app
from tests.handwritten_mails import handwritten_texts
from tests.template_code import SharedTemplateCode

ROOT = Path(__file__).resolve().parents[2]


def make_doc(article_id: int, question: str, answer: str = "", **overrides) -> ArticleDoc:
    language = overrides.pop(
        "language", "zh" if any("\u4e00" <= c <= "\u9fff" for c in question) else "en"
    )
    fields = {
        "article_id": article_id,
        "slug": f"article-{article_id}",
        "language": language,
        "category_id": 1,
        "category_name": "General",
        "question": question,
        "answer": answer or f"Answer number {article_id}.",
        "phrasings": [],
    }
    fields.update(overrides)
    return ArticleDoc(**fields)


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    index = SearchIndex(tmp_path_factory.mktemp("demo-index"))
    index.rebuild(load_demo_docs())
    yield index
    index.close()


@pytest.fixture
def small_index(tmp_path: Path) -> SearchIndex:
    index = SearchIndex(tmp_path / "index")
    yield index
    index.close()


def slugs(results: SearchResults) -> list[str]:
    return [hit.slug for hit in results.hits]


# -- language -----------------------------------------------------------------------------------


def test_chinese_question_finds_the_chinese_article(demo_index: SearchIndex) -> None:
    results = demo_index.search("我退回去的东西钱多久能回到支付宝")
    assert slugs(results)[0] == "refund-time-zh"
    assert results.hits[0].language == "zh"


def test_traditional_chinese_finds_the_simplified_article(demo_index: SearchIndex) -> None:
    traditional = demo_index.search("請問發票要怎麼開？")
    simplified = demo_index.search("请问发票要怎么开？")
    assert slugs(traditional)[0] == "invoice-zh"
    assert slugs(traditional)[:3] == slugs(simplified)[:3]


# Traditional and Simplified spellings of one question: 帳號 used to become 帐号 (t2s) and miss
# the 账号 of the articles, scoring 3.4 against 18.6 for the Simplified query.
SCRIPT_PAIRS = [
    ("帳號被鎖定", "账号被锁定"),
    ("退貨", "退货"),
    ("發票", "发票"),
    ("帳戶餘額", "账户余额"),
    ("退款還沒到帳怎麼辦", "退款还没到账怎么办"),
    # Taiwan's words for the mainland's (support.core.text._MAINLAND_WORDS).
    ("保固期多久", "保修期多久"),
    ("驗證簡訊收不到", "验证短信收不到"),
]


def test_taiwans_word_finds_the_article_written_with_the_mainlands(
    demo_index: SearchIndex,
) -> None:
    # 保固 (Taiwan) is 保修 (mainland): the word search alone used to find nothing for it.
    assert slugs(demo_index.search("保固期內可以免費維修嗎"))[0] == "warranty-zh"


def test_hong_kongs_warranty_finds_the_warranty_article(demo_index: SearchIndex) -> None:
    # Hong Kong's 保養期 is the warranty period (保修期), not care (保养方法): read as care, the
    # repair article came first.
    assert slugs(demo_index.search("部機仲喺保養期內，壞咗可唔可以免費整"))[0] == "warranty-zh"


def test_cantonese_is_searched_with_the_mandarin_words_it_means() -> None:
    # 收唔到貨 is 收不到货, 仲未 is 还没 in written Cantonese: the same terms, the same articles.
    assert query_terms("收唔到貨") == query_terms("收不到货")
    assert query_terms("仲未收到退款") == query_terms("还没收到退款")


def test_mandarin_words_with_cantonese_characters_are_searched_as_written() -> None:
    # 關係, 地點, 未來, 仲裁 are Mandarin words: no Cantonese reading changes their terms.
    for mandarin, other in (("关系", "关是"), ("地点", "地怎"), ("未来", "没来"), ("仲裁", "还裁")):
        assert query_terms(mandarin) != query_terms(other)
        assert mandarin in query_terms(mandarin)


@pytest.mark.parametrize(("traditional", "simplified"), SCRIPT_PAIRS)
def test_traditional_and_simplified_queries_score_alike(
    demo_index: SearchIndex, traditional: str, simplified: str
) -> None:
    assert query_terms(traditional) == query_terms(simplified)
    found = [
        [(hit.slug, hit.score) for hit in demo_index.search(query, limit=20).hits]
        for query in (traditional, simplified)
    ]
    assert found[0]
    assert found[0] == found[1]


@pytest.fixture(scope="module")
def demo_apps() -> Iterator[dict[str, tuple[Flask, set[int]]]]:
    """Database URL -> an app holding the demo FAQ, and its articles' ids (portal_demo)."""
    apps: dict[str, tuple[Flask, set[int]]] = {}
    yield apps
    for app, _ in apps.values():
        get_db(app).dispose()


@pytest.fixture
def portal_demo(
    database_url: str,
    demo_apps: dict[str, tuple[Flask, set[int]]],
    tmp_path_factory: pytest.TempPathFactory,
    compiled_translations: Path,
    compiled_templates: SharedTemplateCode,
    demo_faq_vectors: None,
) -> Flask:
    """An app with the demo FAQ imported and indexed, once a module per database, for tests
    that only search it (the `demo` fixture imports and indexes it again for each test: 1-2 s
    of CPU). Made again if its articles are no longer those in the database (another test's
    app emptied it in between)."""
    kept = demo_apps.get(database_url)
    if kept is not None:
        app, ids = kept
        with get_db(app).session() as session:
            if set(session.scalars(select(Article.id))) == ids:
                return app
        get_db(app).dispose()
    instance = tmp_path_factory.mktemp("demo-app") / "instance"
    app = make_app(database_url, instance, {}, compiled_translations, compiled_templates)
    with get_db(app).session() as session:
        demo = json.loads((ROOT / "faq" / "demo_content.json").read_text(encoding="utf-8"))
        import_articles(session, demo)
    with get_db(app).session() as session:
        ids = set(session.scalars(select(Article.id)))
    demo_apps[database_url] = (app, ids)
    return app


@pytest.mark.parametrize(("traditional", "simplified"), SCRIPT_PAIRS)
def test_portal_search_treats_both_scripts_alike(
    portal_demo: Flask, traditional: str, simplified: str
) -> None:
    found = []
    with get_db(portal_demo).sessionmaker() as session:
        for query in (traditional, simplified):
            results, language = search_faq(query, session=session, app=portal_demo)
            found.append((language, [(hit.slug, hit.score) for hit in results.hits]))
    assert found[0][1]
    assert found[0] == found[1]


def test_english_words_are_stemmed(small_index: SearchIndex) -> None:
    small_index.rebuild(
        [
            make_doc(1, "How long does a refund take?"),
            make_doc(2, "Where is the nearest showroom?"),
        ]
    )
    for query in ("refunds", "refunding", "REFUNDED"):
        assert slugs(small_index.search(query)) == ["article-1"], query


def test_mixed_chinese_and_english_query_prefers_chinese_articles(
    demo_index: SearchIndex,
) -> None:
    results = demo_index.search("invoice怎么开")
    assert slugs(results)[0] == "invoice-zh"
    assert "invoice-en" in slugs(results)


def test_language_and_category_filters(demo_index: SearchIndex) -> None:
    only_en = demo_index.search("退款 refund", language="en")
    assert only_en.hits and all(hit.language == "en" for hit in only_en.hits)
    category = only_en.hits[0].category_id
    in_category = demo_index.search("refund shipping", category_id=category)
    assert in_category.hits and all(hit.category_id == category for hit in in_category.hits)


# -- relevance ----------------------------------------------------------------------------------


def test_long_paraphrased_question_finds_the_article(demo_index: SearchIndex) -> None:
    question = (
        "Hello, I bought a kettle from your shop on Monday and I would like to know how many "
        "days it normally takes before it arrives at my flat in Hangzhou. Thanks!"
    )
    results = demo_index.search(question)
    assert slugs(results)[0] == "delivery-time-en"
    assert results.total > 1  # not every word had to match


def test_question_match_beats_answer_only_match(small_index: SearchIndex) -> None:
    small_index.rebuild(
        [
            make_doc(1, "Account security", "You can reset your password on the sign-in page."),
            make_doc(2, "How do I reset my password?", "Use the link on the sign-in page."),
        ]
    )
    assert slugs(small_index.search("reset password")) == ["article-2", "article-1"]


def test_alternate_phrasings_are_searched(small_index: SearchIndex) -> None:
    small_index.rebuild(
        [
            make_doc(1, "What is your return policy?", phrasings=["Can I send back a gift?"]),
            make_doc(2, "Gift wrapping", "We do not offer gift wrapping."),
        ]
    )
    assert slugs(small_index.search("send back"))[0] == "article-1"


@pytest.mark.parametrize("query", ["what is the", "How do I ...?", "我的是什么", "请问 怎么 如何"])
def test_stop_words_alone_find_nothing(demo_index: SearchIndex, query: str) -> None:
    results = demo_index.search(query)
    assert results.total == 0 and results.hits == []


@pytest.mark.parametrize(
    "query",
    [
        'AND OR NOT ( " * : ~',
        "title:refund* OR (answer:[a TO z]",
        "refund^5 ~2 \\ / { } [ ] ! -",
        "",
        "   ",
        "\x00\x01",
        "🙂🙂🙂",
        "<script>alert(1)</script>",
        "退款" * 3000,
        "refund " * 20000,
    ],
)
def test_hostile_queries_do_not_raise(demo_index: SearchIndex, query: str) -> None:
    results = demo_index.search(query)
    assert isinstance(results, SearchResults)
    demo_index.suggest(query)


def test_paging(demo_index: SearchIndex) -> None:
    first = demo_index.search("order refund delivery", limit=3, page=1)
    second = demo_index.search("order refund delivery", limit=3, page=2)
    assert first.total == second.total > 6
    assert len(first.hits) == len(second.hits) == 3
    assert not set(slugs(first)) & set(slugs(second))
    everything = demo_index.search("order refund delivery", limit=6)
    assert slugs(everything) == slugs(first) + slugs(second)


# -- snippets, suggestions, spelling ------------------------------------------------------------


def test_snippet_is_escaped_and_highlights_matches(small_index: SearchIndex) -> None:
    small_index.rebuild(
        [
            make_doc(
                1,
                "Refund question",
                "Refunds take <b>3 days</b>. <script>alert('x')</script> & more.",
            )
        ]
    )
    snippet = small_index.search("refunds alert").hits[0].snippet_html
    assert "<script>" not in snippet and "<b>" not in snippet
    assert "&lt;script&gt;" in snippet and "&amp;" in snippet
    assert "<mark>Refunds</mark>" in snippet and "<mark>alert</mark>" in snippet
    without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks


@pytest.mark.parametrize(
    ("query", "marked", "unmarked"),
    [
        ("为什么不退款", ["<mark>退款</mark>"], ["<mark>不</mark>"]),
        ("手机不开机", ["<mark>手机</mark>", "<mark>开机</mark>"], ["<mark>不", "不</mark>"]),
        ("不", [], ["<mark>"]),
        ("開不了機 之", ["<mark>开不了</mark>"], ["<mark>之</mark>"]),
    ],
)
def test_snippet_never_marks_a_lone_chinese_function_word(
    small_index: SearchIndex, query, marked, unmarked
) -> None:
    answer = (
        "如果手机不开机，请先充电。不要拆机，之后也不要自行维修，开不了机请寄回。退款一般3天到账。"
    )
    small_index.rebuild([make_doc(1, "手机不开机怎么办", answer)])
    snippet = small_index.search(query).hits[0].snippet_html
    for mark in marked:
        assert mark in snippet, snippet
    for mark in unmarked:
        assert mark not in snippet, snippet


def test_snippet_shows_the_part_of_a_long_answer_that_matches(small_index: SearchIndex) -> None:
    answer = "Filler sentence about nothing. " * 20 + "Invoices are emailed after delivery."
    small_index.rebuild([make_doc(1, "Paperwork", answer)])
    snippet = small_index.search("invoice").hits[0].snippet_html
    assert snippet.startswith("… ") and "<mark>Invoices</mark>" in snippet
    assert len(snippet) < 260


def test_hits_carry_the_indexed_texts_and_skip_the_snippet_on_request(
    small_index: SearchIndex,
) -> None:
    """The auto-reply judges and quotes a hit from the index, without loading the article."""
    small_index.rebuild(
        [
            make_doc(
                1,
                "What is your return policy?",
                "**Thirty** days, [see the terms](https://example.com/terms).",
                phrasings=["Can I send back a gift?", " "],
            )
        ]
    )
    hit = small_index.search("return policy", snippets=False).hits[0]
    assert hit.phrasings == ("Can I send back a gift?",)
    assert hit.answer_text == "Thirty days, see the terms."
    assert hit.snippet_html == ""
    assert "<mark>" in small_index.search("terms").hits[0].snippet_html


def test_a_long_message_is_searched_by_its_first_words() -> None:
    """A pasted email is analyzed only as far as the search reads it."""
    english = " ".join(f"kettle{n} lamp{n}" for n in range(60))
    chinese = "\n".join(doc.answer for doc in load_demo_docs() if doc.language == "zh")
    for text in (english, chinese):
        assert query_terms(text) == analyze(text)[:MAX_QUERY_TERMS]
        assert len(query_terms(text)) == MAX_QUERY_TERMS


def test_queries_are_analyzed_as_the_index_analyzes_articles() -> None:
    """A query's words skip Whoosh's filter chain (for speed): they must be the very terms
    the index holds for the same text, characters included."""
    texts = [f"{doc.question}\n{doc.answer}" for doc in load_demo_docs()]
    texts += [
        "ＩＰＨＯＮＥ，１２３ company's don’t it's I'm A a 1 x Straße ÉCOLE İstanbul",
        "帳號被盜了！運費多少？The kettle's lid isn't closing; 退貨 7 days.",
        "",
    ]
    for text in texts:
        terms = list(dict.fromkeys(token.text for token in ANALYZER(text[:MAX_QUERY_CHARS])))
        assert analyze(text) == terms
        chars = [token.text for token in CHAR_ANALYZER(text[:MAX_QUERY_CHARS])]
        clauses = _match_clauses(text, [])
        assert [c.term for c in clauses] == list(dict.fromkeys(chars))[:MAX_QUERY_TERMS]


def test_deleting_the_first_or_the_last_article_scores_the_rest_alike(tmp_path: Path) -> None:
    """Until segments merge, a deleted article still counts in Whoosh's term statistics; which
    article was deleted must not change how the others score."""
    answer = "Refunds reach your card within a week."
    docs = [make_doc(n, f"Payment question {n}", answer) for n in (1, 2, 3)]
    scores = []
    for deleted in (1, 3):
        index = SearchIndex(tmp_path / f"ix-{deleted}")
        index.rebuild(docs)
        index.delete(deleted)
        scores.append({hit.article_id: hit.score for hit in index.search("refund card").hits})
        index.close()
    assert deleted not in scores[1]
    assert scores[0][2] == scores[1][2]


def test_words_in_no_article_do_not_grow_the_postings_cache_without_bound() -> None:
    """Most words of an email are in no article; a worker running for months must not keep
    one cache entry for each."""
    cache = _PostingsCache(budget=10 * POSTINGS_ENTRY_COST)
    for n in range(1000):
        assert cache.get(("segment", "answer", f"word{n}"), lambda: _NO_POSTINGS) == _NO_POSTINGS
    assert len(cache._items) <= 10


def test_suggest_completes_the_word_being_typed(demo_index: SearchIndex) -> None:
    english = demo_index.suggest("how do i track my pa")
    assert english[0].slug == "track-order-en"
    chinese = demo_index.suggest("发")
    assert chinese and all(s.language == "zh" for s in chinese)
    assert "invoice-zh" in [s.slug for s in chinese]
    assert demo_index.suggest("refund", language="zh") == [] or all(
        s.language == "zh" for s in demo_index.suggest("refund", language="zh")
    )


def test_suggest_corrects_a_misspelled_word_that_finds_nothing(demo_index: SearchIndex) -> None:
    # The search page says "showing results for invoice"; the box must not stay silent first.
    assert demo_index.suggest("invoce")[0].slug == "invoice-en"
    assert "refund-time-en" in [s.slug for s in demo_index.suggest("how long for my refnud")]
    assert "invoice-zh" in [s.slug for s in demo_index.suggest("发漂")]  # typed by sound
    assert demo_index.suggest("xyzzy") == []  # nothing close: still nothing


def test_did_you_mean_for_a_misspelled_word(demo_index: SearchIndex) -> None:
    # The corrected words find articles: their results are shown at once ("showing results
    # for refund"), and the typed words are offered instead.
    corrected = demo_index.search("refnud", language="en")
    assert (corrected.corrected_query, corrected.did_you_mean) == ("refund", None)
    assert corrected.hits[0].slug == "refund-time-en"
    assert demo_index.search("warrenty").corrected_query == "warranty"
    assert demo_index.search("refund").did_you_mean is None
    assert demo_index.search("退款").did_you_mean is None
    # Without "did you mean" (the auto-reply) the closest question word is still looked for,
    # at less weight than a typed word, and nothing says the query was corrected.
    typed = demo_index.search("refnud", language="en", spelling=False)
    assert typed.did_you_mean is None and typed.corrected_query is None
    assert typed.hits[0].slug == "refund-time-en"
    assert demo_index.search("xyzzy", spelling=False).total == 0  # nothing close: nothing found


def test_did_you_mean_counts_two_swapped_letters_as_one_slip(demo_index: SearchIndex) -> None:
    # "recieve" is three Levenshtein edits from the questions' "received" (ie/ei and the d):
    # beyond the two a long word may have, so it was left as typed and found nothing.
    corrected = demo_index.search("recieve", language="en")
    assert corrected.corrected_query == "received"
    assert corrected.hits[0].slug in {"missing-package-en", "damaged-item-en"}  # "received"
    # A word of four letters may have one edit, and a swap is one ("rfeund", longer, was
    # already two substitutions).
    assert demo_index.search("shipping csot", language="en").corrected_query == "shipping cost"
    assert demo_index.search("xyzzy").corrected_query is None  # nothing close: still nothing


def test_a_real_word_the_faq_does_not_use_is_not_corrected(demo_index: SearchIndex) -> None:
    # "stolen" and "seems" are in no article, but they are spelled right: correcting them to
    # the closest article words ("stores", "see") showed another question's results.
    stolen = demo_index.search("my package was stolen it seems", language="en")
    assert (stolen.corrected_query, stolen.did_you_mean) == (None, None)
    euros = demo_index.search("spent euros on vacation", language="en")
    assert (euros.corrected_query, euros.did_you_mean) == (None, None)
    # A misspelled word beside them still is.
    assert demo_index.search("my pakage was stolen").corrected_query == "my package was stolen"


def test_did_you_mean_for_a_chinese_word_typed_with_the_wrong_characters(
    demo_index: SearchIndex,
) -> None:
    # Pinyin input: the typo sounds like the meant word ("退宽" for 退款, "發漂" for 發票).
    corrected = demo_index.search("退宽多久到账")
    assert corrected.corrected_query == "退款多久到账"
    assert corrected.hits[0].slug == "refund-time-zh"
    traditional = demo_index.search("發漂怎麼開")
    assert traditional.corrected_query == "發票怎麼開"  # shown in the script it was typed in
    assert traditional.hits[0].slug == "invoice-zh"
    assert demo_index.search("分气付款").corrected_query == "分期付款"
    assert demo_index.search("退款多久到账").corrected_query is None  # nothing to correct
    assert demo_index.search("我的包裹在哪里").corrected_query is None
    typed = demo_index.search("退宽多久到账", spelling=False)  # the auto-reply's search
    assert typed.corrected_query is None and typed.hits[0].slug == "refund-time-zh"


def test_near_homophones_sound_alike() -> None:
    from faq.search.homophones import Homophones, sound

    assert sound("退款") == sound("退宽") == "tui kuan"
    assert sound("是") == sound("四")  # sh/s folded, as many speakers say them
    assert sound("牛") == sound("刘")  # n/l
    words = Homophones(["退款", "发票", "保修", "x"])
    assert len(words) == 3
    assert words.word_like("保秀") == "保修" and words.word_like("保修") is None
    assert words.word_like("天气") is None


def test_a_typo_beside_a_known_word_is_corrected_with_it() -> None:
    # "信用咔" (信用卡 typed by sound): 信用 is a known word, so only "咔掉" was left to read,
    # and it sounded like nothing meant; three characters that sound like a question word of
    # three may share characters with a known word ("驗證馬" -> 驗證碼).
    from faq.search.homophones import Homophones, corrections

    vocabulary = {"信用卡", "信用", "验证码", "验证", "挂失", "收不到", "卡掉"}
    words = Homophones(sorted(vocabulary))
    assert corrections("信用咔掉了", words, vocabulary.__contains__) == [(0, 3, "信用卡")]
    assert corrections("驗證馬收不到", words, vocabulary.__contains__) == [(0, 3, "驗證碼")]
    # Two characters still need a stretch no known word covers: 信用 stays as typed.
    assert corrections("信用挂失", words, vocabulary.__contains__) == []


def test_words_that_only_sound_like_a_question_word_are_not_corrected() -> None:
    # Two characters straddling two words ("今天天氣好嗎" was shown as "Showing results for
    # 今天天氣號碼"), a word typed as meant that sounds like another with an accent (辦卡, ban
    # ka, is not 綁卡, bang ka) and a dictionary word (認識 is not 人士, 一封 not 一份) are not
    # typos: a typo keeps a character of the word in place and sounds exactly like it, and the
    # characters it changes are in no dictionary word of the query (错五次 is 错 and 五次).
    from faq.search.homophones import Homophones, corrections

    vocabulary = {"号码", "绑卡", "人士", "一份", "密码", "发票", "需要", "资料", "刷卡", "错误"}
    vocabulary |= {"分期", "付款"}
    words = Homophones(sorted(vocabulary))
    known = vocabulary.__contains__
    assert corrections("今天天氣好嗎", words, known) == []
    assert corrections("辦卡需要什麼資料", words, known) == []
    assert corrections("外國人可以辦卡嗎", words, known) == []
    assert corrections("有不認識的刷卡紀錄", words, known) == []
    assert corrections("傳簡訊一封多少錢", words, known) == []
    assert corrections("登入錯五次鎖住", words, known) == []
    # Typos beside them still are.
    assert corrections("蜜碼忘了", words, known) == [(0, 2, "密碼")]
    assert corrections("发漂怎么开", words, known) == [(0, 2, "发票")]
    assert corrections("想改成分其付款", words, known) == [(3, 5, "分期")]


def test_taiwans_word_typed_by_sound_is_corrected() -> None:
    # Questions are read in the mainland's words (簡訊 -> 短信), but a Taiwanese customer types
    # Taiwan's by sound: "簡迅" sounds like 簡訊, not like 短信.
    from faq.search.homophones import Homophones, corrections

    vocabulary = {"短信", "登录", "收不到"}
    words = Homophones(sorted(vocabulary))
    assert words.word_like("简迅") == "短信"
    assert corrections("收不到簡迅", words, vocabulary.__contains__) == [(3, 5, "簡訊")]


# -- writes and processes -----------------------------------------------------------------------


def test_upsert_and_delete_are_visible_to_another_instance(tmp_path: Path) -> None:
    writer, reader = SearchIndex(tmp_path / "ix"), SearchIndex(tmp_path / "ix")
    writer.rebuild([make_doc(1, "How long does delivery take?")])
    assert slugs(reader.search("delivery")) == ["article-1"]  # reader now holds a searcher

    writer.upsert(make_doc(2, "Do you deliver on Sundays?", "Yes, Sunday delivery is free."))
    assert set(slugs(reader.search("delivery"))) == {"article-1", "article-2"}

    writer.upsert(make_doc(1, "How long does shipping take?", "Two days."))
    assert slugs(reader.search("shipping")) == ["article-1"]
    assert reader.doc_count() == 2

    writer.delete(2)
    assert slugs(reader.search("sunday")) == []
    assert reader.doc_count() == 1


def test_writes_from_another_process_are_visible(tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "ix")
    index.rebuild([make_doc(1, "How long does delivery take?")])
    assert index.search("warranty").total == 0
    script = (
        "import sys; from faq.search import SearchIndex, ArticleDoc; "
        "SearchIndex(sys.argv[1]).upsert(ArticleDoc(7, 'warranty-en', 'en', 1, 'General', "
        "'What does the warranty cover?', 'Two years.', []))"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "ix")], check=True, cwd=ROOT)
    assert slugs(index.search("warranty")) == ["warranty-en"]


def test_concurrent_writers_do_not_lose_updates(tmp_path: Path) -> None:
    SearchIndex(tmp_path / "ix").rebuild([])

    def write(start: int) -> None:
        own = SearchIndex(tmp_path / "ix")
        for article_id in range(start, start + 5):
            own.upsert(make_doc(article_id, f"Question number {article_id}"))

    threads = [threading.Thread(target=write, args=(start,)) for start in (1, 101, 201)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SearchIndex(tmp_path / "ix").doc_count() == 15


def test_rebuild_swaps_atomically(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    index, reader = SearchIndex(path), SearchIndex(path)
    index.rebuild([make_doc(1, "Old question about kettles")])
    assert slugs(reader.search("kettle")) == ["article-1"]

    def failing_docs():
        yield make_doc(2, "New question about lamps")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        index.rebuild(failing_docs())
    # The failed build left the live index and nothing else behind.
    assert slugs(reader.search("kettle")) == ["article-1"]
    assert len([p for p in path.iterdir() if p.name.startswith("gen-")]) == 1

    index.rebuild([make_doc(2, "New question about lamps")])
    assert slugs(reader.search("lamp")) == ["article-2"]
    assert reader.search("kettle").total == 0
    index.rebuild([make_doc(3, "Newest question about fans")])
    # Live and previous generation only: a process that just read CURRENT can still open it.
    assert len([p for p in path.iterdir() if p.name.startswith("gen-")]) == 2
    assert slugs(reader.search("fan")) == ["article-3"]


def test_needs_rebuild(tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "missing")
    assert index.needs_rebuild()
    assert index.search("refund").total == 0 and index.doc_count() == 0

    index.rebuild([make_doc(1, "Refund policy")])
    assert not index.needs_rebuild()
    assert index.doc_count() == 1

    current = tmp_path / "missing" / CURRENT_FILE
    pointer = json.loads(current.read_text())
    current.write_text(json.dumps(pointer | {"schema_version": SCHEMA_VERSION - 1}))
    other = SearchIndex(tmp_path / "missing")
    assert other.needs_rebuild()
    assert other.search("refund").total == 0  # an outdated index answers nothing, never raises

    current.write_text("not json")
    assert SearchIndex(tmp_path / "missing").needs_rebuild()


def test_an_index_built_empty_or_emptied_answers_nothing(tmp_path: Path) -> None:
    """A new deployment with no published articles yet: searching must not raise."""
    index = SearchIndex(tmp_path / "index")
    index.rebuild([])
    assert index.search("refund 退款").total == 0
    assert index.suggest("ref") == []
    index.upsert(make_doc(1, "Refund policy"))
    index.delete(1)
    assert index.search("refund").total == 0
    index.close()


def test_upsert_creates_a_missing_index(small_index: SearchIndex) -> None:
    small_index.upsert(make_doc(1, "How do I reset my password?"))
    assert not small_index.needs_rebuild()
    assert slugs(small_index.search("password")) == ["article-1"]


# -- relevance on the demo content --------------------------------------------------------------


def test_demo_evaluation_meets_the_measured_floor(demo_index: SearchIndex) -> None:
    """Measured when tuned: Recall@1 0.745, Recall@5 0.981, MRR@10 0.851 (106 questions)."""
    report = evaluate(
        read_eval_csv(DEMO_EVAL), lambda query: slugs(demo_index.search(query, limit=10))
    )
    assert report.n >= 80
    assert report.recall_at_1 >= 0.70, report.summary()
    assert report.recall_at_5 >= 0.95, report.summary()
    assert report.mrr_at_10 >= 0.80, report.summary()


def test_sound_corrections_remembered_per_run_are_the_straightforward_ones(
    demo_index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search remembers the typo-by-sound corrections of each run of Chinese on its
    searcher (`Ranking.run_corrections`): the same corrections as working each text out afresh,
    for every hand-written mail, the typos above and text past the 60 characters read; a
    repeated text works nothing out again."""
    from faq.search import engine
    from faq.search import ranking as ranking_module
    from faq.search.homophones import corrections

    ranking = demo_index._ranking()
    assert ranking is not None

    def known(word: str) -> bool:
        return ranking.indexed(engine._QUERY_FIELDS, word)

    texts = handwritten_texts()
    texts += ["退款蜜碼忘了，发漂怎么开", "驗證馬收不到。信用咔掉了", "发漂" * 40, "发漂 " * 40]
    corrected = 0
    for text in texts:
        expected = corrections(text, ranking.homophones(), known)
        assert engine._sounds_like(ranking, text) == expected, text
        corrected += bool(expected)
    assert corrected >= 3

    def no_work(*args: object, **kwargs: object) -> list[tuple[int, int, str]]:
        raise AssertionError("worked out again")

    monkeypatch.setattr(ranking_module, "run_corrections", no_work)
    assert engine._sounds_like(ranking, texts[-4]) == corrections(
        texts[-4], ranking.homophones(), known
    )


# -- "showing results for": several misspelt words, and pinyin typed for Chinese ----------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("wher is my oder??", "where is my order??"),
        ("how do i chnage my adress", "how do i change my address"),
        ("cancle my oder pls", "cancel my order pls"),
        ("refnd for brokn kettle", "refund for broken kettle"),
    ],
)
def test_every_misspelt_word_of_a_question_is_corrected(
    demo_index: SearchIndex, typed: str, meant: str
) -> None:
    # "oder" is in the English word list (a river, German "or"), but rare, and one letter from
    # the FAQ's everyday "order"; "wher" is one letter short of the question word "where",
    # which no article indexes (a stop word) but which reads right in "showing results for".
    results = demo_index.search(typed)
    assert (results.corrected_query, results.did_you_mean) == (meant, None)
    assert slugs(results) == slugs(demo_index.search(meant))  # as if typed right


@pytest.mark.parametrize(
    "typed", ["can i change my order", "long delivery", "my package was stolen", "order 12345"]
)
def test_english_spelled_right_is_left_as_typed(demo_index: SearchIndex, typed: str) -> None:
    results = demo_index.search(typed)
    assert (results.corrected_query, results.did_you_mean) == (None, None)


@pytest.mark.parametrize(
    ("typed", "meant", "first"),
    [
        ("tuikuan", "退款", "refund"),
        ("tui kuan", "退款", "refund"),
        ("baoxiu", "保修", "warranty"),
        ("wuliu", "物流", None),
        ("kuaidi", "快递", None),
        ("fa piao", "发票", "invoice"),
    ],
)
def test_pinyin_typed_without_a_chinese_keyboard_finds_the_chinese_articles(
    demo_index: SearchIndex, typed: str, meant: str, first: str | None
) -> None:
    results = demo_index.search(typed)
    assert (results.corrected_query, results.did_you_mean) == (meant, None)
    assert results.hits[0].language == "zh"
    if first:
        assert results.hits[0].slug.startswith(first)


def test_a_pinyin_word_the_english_faq_uses_is_offered_not_forced(demo_index: SearchIndex) -> None:
    # The English invoice article says "fapiao": its results stay, and 发票 is offered.
    results = demo_index.search("fapiao")
    assert results.hits[0].slug == "invoice-en"
    assert (results.corrected_query, results.did_you_mean) == (None, "发票")


@pytest.mark.parametrize(
    "typed",
    [
        # Both syllables are in the English word list, as the names Wu and Liu: read as pinyin
        # all the same (only everyday English words keep a query English).
        "wu liu",
        "Wu Liu",
        "WULIU",
        # Tones, as marks or as digits, are pinyin for certain.
        "wùliú",
        "wù liú",
        "wu4 liu2",
        "wu4liu2",
        "ｗｕ ｌｉｕ",  # a Chinese input method's full-width letters
    ],
)
def test_pinyin_is_read_spaced_or_joined_with_or_without_tones(
    demo_index: SearchIndex, typed: str
) -> None:
    results = demo_index.search(typed)
    assert (results.corrected_query, results.did_you_mean) == ("物流", None)
    assert results.hits[0].language == "zh"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ru he kai fa piao", "发票"),
        ("wo de bao guo hai mei you dao", "包裹"),
        ("wo you yi ge wen ti tuikuan", "退款"),
    ],
)
def test_pinyin_with_an_english_stop_word_among_it_is_read(
    demo_index: SearchIndex, typed: str, meant: str
) -> None:
    # "he" (如何), "you" (有) are English stop words; the other words are no English.
    assert meant in (demo_index.search(typed).corrected_query or "")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("tuì kuǎn", "退款"), ("tui4kuan3", "退款"), ("fa1 piao4", "发票"), ("bao3xiu1", "保修")],
)
def test_toned_pinyin_spells_the_words(demo_index: SearchIndex, typed: str, meant: str) -> None:
    assert demo_index.search(typed).corrected_query == meant


#: Real English queries made of pinyin syllables (or of letters that split into them): they
#: must never be read as pinyin, whatever Chinese words the FAQ has.
ENGLISH_QUERIES = [
    "can", "long", "hang men", "bin", "dan", "pan", "ten", "ban", "men can", "long run",
    "women", "dating", "change", "he ran", "pin", "fan", "gang", "tie", "die", "pie", "sun",
    "song", "man", "men", "run", "hen", "nun", "ping", "ding", "den", "pen", "tan", "bang",
    "hang", "pan dan", "bin dan", "fang", "sang", "rang", "ai", "wan", "can i change my order",
]  # fmt: skip


@pytest.mark.parametrize("typed", [*ENGLISH_QUERIES, "xqzv", "tuikuan 2", "tuikuan7"])
def test_english_words_and_nonsense_are_not_read_as_pinyin(
    demo_index: SearchIndex, typed: str
) -> None:
    results = demo_index.search(typed)
    assert (results.corrected_query, results.did_you_mean) == (None, None)


def test_english_stays_english_even_when_the_faq_has_words_of_that_sound() -> None:
    from faq.search.homophones import Homophones, read_as_pinyin

    # Each of these Chinese words sounds exactly like one of the English queries.
    words = Homophones(["航门", "门残", "龙润", "我们", "大厅", "嫦娥", "盘蛋", "彬丹", "物流"])
    for typed in ENGLISH_QUERIES:
        assert read_as_pinyin(typed, words) is None, typed
    # ... and the same letters with tones, or with a syllable no English word is, are pinyin.
    assert read_as_pinyin("hang2 men2", words) == ["航门"]
    assert read_as_pinyin("wǒmen", words) == ["我们"]
    assert read_as_pinyin("wu liu", words) == ["物流"]


def test_pinyin_is_read_while_typing_too(demo_index: SearchIndex) -> None:
    assert "refund-time-zh" in [s.slug for s in demo_index.suggest("tuikuan")]
    # Not what the letters' typo neighbours find in English ("guo" is close to "go").
    found = demo_index.suggest("wo de bao guo hai mei dao ", language="en")
    assert found and all(s.language == "zh" for s in found)


def test_pinyin_the_caller_took_for_english_finds_the_chinese_articles(
    demo_index: SearchIndex,
) -> None:
    # The portal searches the language a query looks written in first: pinyin looks English.
    results = demo_index.search("wo de bao guo hai mei dao", language="en")
    assert (results.corrected_query, results.did_you_mean) == ("包裹", None)
    assert results.hits and all(hit.language == "zh" for hit in results.hits)
    assert "track-order-en" in [s.slug for s in demo_index.suggest("wher is my oder ")]


def test_the_pinyin_syllables_are_pypinyins() -> None:
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    from faq.search.homophones import PINYIN_SYLLABLES

    readings = {to_normal(p) for value in pinyin_dict.values() for p in value.split(",")}
    assert PINYIN_SYLLABLES == {
        r for r in readings if r.isascii() and r.isalpha() and set(r) & set("aeiouv")
    }


def test_the_english_syllables_are_english_words_and_syllables() -> None:
    from faq.search.dictionary import english_words
    from faq.search.homophones import ENGLISH_SYLLABLES, PINYIN_SYLLABLES

    assert ENGLISH_SYLLABLES <= PINYIN_SYLLABLES & english_words().keys()


def test_pinyin_reading_is_bounded_and_needs_every_letter() -> None:
    from faq.search.homophones import MAX_PINYIN_LETTERS, Homophones

    words = Homophones(["退款", "发票", "方案", "保修"])
    assert words.pinyin_words(["wo", "yao", "tuikuan"]) == ["退款"]
    assert words.pinyin_words(["tuikuan", "fapiao"]) == ["退款", "发票"]
    assert words.pinyin_words(["fangan"]) == ["方案"]  # fang an, not fan gan
    assert words.pinyin_words(["tu", "ikuan"]) is None  # a space inside a syllable
    assert words.pinyin_words(["tuikuanx"]) is None  # a letter no syllable reads
    # Questions are indexed in the mainland's words; Taiwan's 保固 is 保修 (see as_taiwan_says).
    assert words.pinyin_words(["baoxiu"]) == words.pinyin_words(["bao", "gu"]) == ["保修"]
    assert words.pinyin_words(["ni", "hao"]) is None  # syllables, but no known word
    long = ["wo"] * (MAX_PINYIN_LETTERS // 2) + ["tuikuan"]
    assert words.pinyin_words(long) is None
