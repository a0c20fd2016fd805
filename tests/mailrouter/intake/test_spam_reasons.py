"""The spam filter's reasons in words: "h:url-shortener +6.1" meant nothing to a new lead."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from mailrouter.intake.spam_reasons import explained, readable
from tests.mailrouter.conftest import process_all
from tests.mailrouter.intake.test_spam_intake import (
    SUSPECTED_SPAM,
    corpus_spam,
    sales_agent,  # noqa: F401  (a fixture)
    send,
)
from tests.support.staff_helpers import login


@pytest.mark.parametrize(
    ("code", "english"),
    [
        ("h:url-shortener +6.1", "link through a URL shortener +6.1"),
        ("b:sites-3 +1.2", "links to 4-7 sites +1.2"),
        ("b:sites-5 +2.0", "links to 16+ sites +2.0"),
        ("u:bit.ly +0.9", "link to bit.ly +0.9"),
        ("s:free +1.5", "“free” in the subject +1.5"),
        ("viagra +3.0", "the word “viagra” +3.0"),
        ("cold pitch +4.0", "cold sales pitch +4.0"),
        ("h:some-new-trait +1.0", "h:some-new-trait +1.0"),
    ],
)
def test_a_reason_is_named_in_words_and_keeps_its_code(app, code, english) -> None:
    with app.test_request_context("/?lang=en"):
        reason = readable(code, builtin=True)
    assert (reason.text, reason.code) == (english, code)


def test_reasons_read_in_chinese_and_another_filters_stay_as_written(app) -> None:
    detail = {"source": "builtin", "reasons": ["h:url-shortener +6.1", "s:免费 +1.0"]}
    with app.test_request_context("/"), app.app_context():
        with force_locale("zh_Hans"):
            source, reasons = explained(detail)
            assert source == "内置过滤器"
            assert [r.text for r in reasons] == [
                "经短链接服务跳转的链接 +6.1",
                "主题中有“免费” +1.0",
            ]
        assert (
            explained({"source": "spamassassin", "reasons": ["URIBL_BLACK 2.5"]})[1][0].text
            == "URIBL_BLACK 2.5"
        )


def test_the_spam_page_shows_reasons_in_words_with_the_codes_in_titles(
    app,
    intake,
    session,
    client,
    sales_agent,  # noqa: F811
) -> None:
    send(intake, corpus_spam(SUSPECTED_SPAM))
    process_all(app)
    session.commit()
    login(client, sales_agent)
    for lang in ("en", "zh"):
        page = client.get(f"/staff/spam/?lang={lang}").get_data(as_text=True)
        shown = re.findall(r'<span title="([^"]+)">([^<]+)</span>', page)
        assert shown, page
        assert all(text != code for code, text in shown)
        # No code outside a title: the visible text carries none.
        visible = re.sub(r'title="[^"]*"', "", page)
        assert not re.search(r"\b[hbls]:[a-z]", visible)
        # The filter's name before its reasons with the page's colon ("内置过滤器：").
        assert ("内置过滤器：" if lang == "zh" else "built-in filter: ") in page
        # The times name their zone, as every staff page does.
        assert ("（北京时间）" if lang == "zh" else "(Asia/Shanghai, UTC+8)") in page
