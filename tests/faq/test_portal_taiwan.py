"""The portal for readers of Traditional characters: Taiwan's words on its pages, and the
results of a search typed in Traditional in Traditional, whatever the page's language."""

from __future__ import annotations

import pytest

TAIWAN = {"Accept-Language": "zh-TW,zh;q=0.9"}
#: A Hong Kong reader whose browser asks for English: the pages are English.
HONG_KONG_ENGLISH = {"Accept-Language": "en-HK,en;q=0.9"}


def _text(response) -> str:
    return response.get_data(as_text=True)


def _results(page: str) -> str:
    """The list of results (the page around it is in the page's own language)."""
    return page[page.index('<ol class="results">') :].split("</ol>")[0]


@pytest.fixture
def payment_kb(kb):
    payment = kb.category("payment", "Payment", "支付与发票")
    kb.article(
        payment,
        "支持哪些付款方式？",
        "支持支付宝、微信支付和银联信用卡。付款后请保存好订单号。",
        language="zh",
    )
    kb.article(
        payment,
        "茶叶的保存期限是多久？",
        "未开封的茶叶保存期限为18个月，请妥善保存在阴凉干燥处。",
        language="zh",
    )
    kb.article(payment, "Which payment methods do you accept?", "Cards and Alipay.")
    kb.commit()
    return kb


def test_a_taiwan_reader_reads_taiwans_words_on_the_portal(client, payment_kb, browser_headers):
    # The Traditional pages said 支持哪些付款方式 (Taiwan: 支援) before.
    headers = {**browser_headers, **TAIWAN}
    for path in ("/c/payment", "/search?q=付款方式"):
        page = _text(client.get(path, headers=headers))
        assert "支援哪些付款方式？" in page and "支持哪些付款方式" not in page, path
    # 保存 where something is kept stays 保存: shelf life, keeping the order number.
    page = _text(client.get("/search?q=茶葉保存期限", headers=headers))
    assert "茶葉的保存期限是多久？" in page and "儲存期限" not in page
    # Searching the word a page shows finds the article written with the mainland's.
    page = _text(client.get("/search?q=支援哪些付款方式", headers=headers))
    assert "支援哪些付款方式？" in page


@pytest.mark.parametrize("headers", [HONG_KONG_ENGLISH, {"Accept-Language": "zh-CN"}])
def test_a_search_typed_in_traditional_shows_chinese_results_in_traditional(
    client, payment_kb, browser_headers, headers
) -> None:
    # A Hong Kong reader with an English browser typed Traditional and read the results in
    # Simplified (支持哪些付款方式, 支付与发票).
    page = _text(client.get("/search?q=付款後請問哪些方式", headers={**browser_headers, **headers}))
    results = _results(page)
    assert "支援哪些付款方式？" in results and "支付與發票" in results
    assert "支持" not in results and "支付与发票" not in results
    suggestions = client.get("/suggest?q=哪些付款方式囉", headers=headers).get_json()
    assert [s["question"] for s in suggestions["suggestions"]][:1] == ["支援哪些付款方式？"]


def test_a_search_typed_in_simplified_keeps_simplified_results(
    client, payment_kb, browser_headers
) -> None:
    headers = {**browser_headers, **HONG_KONG_ENGLISH}
    results = _results(_text(client.get("/search?q=付款后请问哪些方式", headers=headers)))
    assert "支持哪些付款方式？" in results and "支援" not in results
    # Characters both scripts share (付款, 方式) are no sign of Traditional.
    results = _results(_text(client.get("/search?q=付款方式", headers=headers)))
    assert "支持哪些付款方式？" in results and "支付与发票" in results
