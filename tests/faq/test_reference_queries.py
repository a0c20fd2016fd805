"""A query that is only a reference (an order, parcel or ticket number) shows no articles but
where a request is followed, and says nothing about the reference itself."""

from __future__ import annotations

import re

import pytest

from faq.search import SearchIndex, only_a_reference
from tests.factories import make_ticket
from tests.faq.conftest import result_links

REFERENCES = [
    "LH20260311-20417",
    "lh20260311-20417",
    "ＬＨ２０２６０３１１－２０４１７",  # typed with a Chinese input method's full-width letters
    "SUP-00042",
    "#SUP-42",
    "[#SUP-00042]",
    "sup00042",
    "88240193",
    "A-77301",
    "SF1234567890",
    "order LH20260311-20417",
    "Order no. A-77301",
    "my order number is 88240193",
    "ticket SUP-00042",
    "订单号：LH20260311-20417",
    "訂單編號 88240193",
    "工单 SUP-00042",
    "快递单号 SF1234567890",
    "LH20260311-20417, LH20260311-20418",
]

NOT_REFERENCES = [
    "",
    "refund",
    "where is my order LH20260311-20417",  # a question: searched as one
    "退款 LH20260311-20417",
    "iphone 15",
    "covid-19",
    "KT-2000 kettle",
    "KT-2000",  # a model: four digits
    "2026",
    "order",
    "SUP",
    "订单",
    "12345 refund",
    "물류 88240193",
]


@pytest.mark.parametrize("typed", REFERENCES)
def test_a_reference_alone_is_a_reference(typed: str) -> None:
    assert only_a_reference(typed)


@pytest.mark.parametrize("typed", NOT_REFERENCES)
def test_words_or_a_short_number_are_not_a_reference(typed: str) -> None:
    assert not only_a_reference(typed)


def test_a_long_text_is_not_read_as_a_reference() -> None:
    assert not only_a_reference("LH20260311-20417 " * 200)


@pytest.mark.parametrize(
    ("typed", "language"),
    [("LH20260311-20417", "en"), ("订单号 LH20260311-20417", "zh"), ("SUP-00042", None)],
)
def test_a_reference_finds_no_article_even_by_the_model(
    hybrid: SearchIndex, typed: str, language: str | None
) -> None:
    # The model placed "LH20260311-20417" near the careers article: any string is near some.
    results = hybrid.search(typed, language=language)
    assert (results.total, results.hits, results.reference) == (0, [], True)
    assert hybrid.suggest(typed, language=language) == []


def test_a_question_with_a_reference_is_still_searched(hybrid: SearchIndex) -> None:
    results = hybrid.search("where is my order LH20260311-20417", language="en")
    assert not results.reference
    assert results.hits[0].slug == "track-order-en"


def _notice(html: str) -> str:
    found = re.search(r'<section class="card reference-query".*?</section>', html, re.S)
    assert found, "the reference notice is missing"
    return found.group()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_portal_says_where_a_request_is_followed(
    client, session, indexed_demo, browser_headers, lang
) -> None:
    html = client.get(f"/search?q=LH20260311-20417&lang={lang}", headers=browser_headers).text
    notice = _notice(html)
    assert result_links(html) == []
    assert "/contact" in notice
    if lang == "en":
        assert "order or ticket number" in notice and "email we sent you" in notice
    else:
        assert "订单号或工单号" in notice and "邮件" in notice


def test_the_notice_tells_nothing_about_the_reference(
    client, session, indexed_demo, browser_headers
) -> None:
    # Anyone can type any reference: a real ticket's reads exactly as one that does not exist.
    ticket = make_ticket(session, subject="Zanzibar toaster")
    session.commit()
    real, unknown = ticket.reference, "SUP-99999"
    pages = [
        client.get(f"/search?q={typed}&lang=en", headers=browser_headers).text.replace(typed, "X")
        for typed in (real, unknown)
    ]
    assert _notice(pages[0]) == _notice(pages[1])
    assert "Zanzibar" not in pages[0]
