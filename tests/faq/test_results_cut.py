"""The results page shows the results close to the first (faq.knowledge.close_to_first), with a
link to all of them: "refund takes long" listed 16 and "保固多久" 12 loosely related articles
under the one that answers."""

from __future__ import annotations

import re

import pytest

from faq.knowledge import close_to_first
from faq.search import SHOWN_SCORE_SHARE, SearchHit, SearchResults
from tests.faq.conftest import result_links


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "answer", "show_all", "count"),
    [
        (
            "refund takes long",
            "/a/refund-time-en",
            "Show all 16 results",
            "16 answers found; the closest 1 shown",
        ),
        ("保固多久", "/a/warranty-zh", "显示全部 12 条结果", "找到 12 个答案，以下是最相关的 1 个"),
    ],
)
def test_the_answer_is_shown_without_the_tail_which_is_a_click_away(
    client, indexed_demo, browser_headers, query, answer, show_all, count
):
    lang = "zh" if answer.endswith("zh") else "en"
    html = _text(
        client.get("/search", query_string={"q": query, "lang": lang}, headers=browser_headers)
    )
    assert result_links(html) == [answer]
    assert show_all in html
    # The count says how many were found and how many are shown ("1 answer found" above "Show
    # all 16 results" read as a contradiction).
    assert count in html
    assert "Page 1 of" not in html and "第 1 页" not in html  # the link, not the pages
    link = re.search(r'<p class="show-all"><a href="([^"]+)"', html)
    assert link and "all=1" in link.group(1)

    everything = _text(client.get(link.group(1).replace("&amp;", "&"), headers=browser_headers))
    titles = result_links(everything)
    assert titles[0] == answer and len(titles) == 10  # ranked as ever, ten a page
    assert 'class="show-all"' not in everything


def test_all_results_keep_their_pages(client, indexed_demo, browser_headers):
    html = _text(client.get("/search?q=refund+takes+long&all=1&lang=en", headers=browser_headers))
    assert "Page 1 of 2" in html
    next_page = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert next_page and "all=1" in next_page.group(1) and "page=2" in next_page.group(1)
    second = _text(client.get(next_page.group(1).replace("&amp;", "&"), headers=browser_headers))
    assert len(result_links(second)) == 6
    previous = re.search(r'<a rel="prev" href="([^"]+)"', second)
    assert previous and "all=1" in previous.group(1)  # back to all of page 1, not the cut


def _hit(article_id: int, score: float) -> SearchHit:
    return SearchHit(
        article_id=article_id,
        slug=f"a{article_id}",
        score=score,
        question="?",
        snippet_html="",
        category_id=1,
        category_name="c",
        language="en",
    )


def test_the_cut_is_a_share_of_the_first_score() -> None:
    first = 0.2
    hits = [_hit(1, first), _hit(2, first * SHOWN_SCORE_SHARE), _hit(3, first * 0.49)]
    assert [h.article_id for h in close_to_first(SearchResults(3, hits, semantic=True))] == [1, 2]
    # Word-search scores alone, or a first hit scoring nothing: nothing to compare, all shown.
    assert close_to_first(SearchResults(3, hits, semantic=False)) == hits
    flat = [_hit(1, 0.0), _hit(2, -0.01)]
    assert close_to_first(SearchResults(2, flat, semantic=True)) == flat


def test_show_all_and_the_pages_keep_the_language_script_and_the_words_as_typed(
    app, client, indexed_demo, browser_headers
):
    """A reader whose browser keeps no cookie (or who opened a shared link) stays on the
    language, script and exact words the page had: "Show all" once dropped ``lang`` and
    ``exact`` (its corrected words came back)."""
    html = _text(
        client.get(
            "/search",
            query_string={"q": "保固多久", "lang": "zh", "script": "hant", "category": "nope"},
            headers=browser_headers,
        )
    )
    link = re.search(r'<p class="show-all"><a href="([^"]+)"', html)
    assert link
    href = link.group(1).replace("&amp;", "&")
    for kept in ("lang=zh", "script=hant", "all=1", "category=nope"):
        assert kept in href, kept
    # Followed without a cookie, it is still the Chinese page in Traditional characters.
    fresh = app.test_client()
    everything = _text(fresh.get(href, headers=browser_headers))
    assert "顯示全部" not in everything and "第 1 頁，共 2 頁" in everything
    next_page = re.search(r'<a rel="next" href="([^"]+)"', everything)
    assert next_page and "lang=zh" in next_page.group(1) and "script=hant" in next_page.group(1)
    # The search form carries them too, and words searched as typed stay so.
    assert '<input type="hidden" name="lang" value="zh">' in html
    typed = _text(
        fresh.get(
            "/search",
            query_string={"q": "refund takes long", "exact": "1", "lang": "en"},
            headers=browser_headers,
        )
    )
    found = re.search(r'<p class="show-all"><a href="([^"]+)"', typed)
    assert found and "exact=1" in found.group(1) and "lang=en" in found.group(1)
