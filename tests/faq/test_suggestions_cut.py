"""Suggestions while typing are the results the page would show first: no unrelated ones."""

from __future__ import annotations

import pytest

from faq.knowledge import close_to_first
from faq.search import SearchIndex


@pytest.mark.parametrize(
    "typed",
    ["包裹一直没", "我想改一下收货地址", "付款失败怎么办", "delete my account "],
)
def test_suggestions_are_the_results_shown_before_show_all(hybrid: SearchIndex, typed: str) -> None:
    # "包裹一直没" suggested the out-of-stock, refund and instalment questions beside the
    # missing parcel's; its results page showed that one alone.
    language = "en" if typed.isascii() else "zh"
    suggested = [s.slug for s in hybrid.suggest(typed, language=language, limit=6)]
    shown = [hit.slug for hit in close_to_first(hybrid.search(typed.strip(), language=language))]
    assert suggested
    assert set(suggested) <= set(shown), (suggested, shown)
