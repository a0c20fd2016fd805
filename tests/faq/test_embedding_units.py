"""The embedding budget's count and cut (faq.search.embedding.prepare, _units) are the same as
counting one character at a time, as they were written first."""

from __future__ import annotations

import random

from faq.search.embedding import _NUMBER_RE, CJK_UNITS, MAX_EMBED_UNITS, _units, prepare
from support.core.text import CJK_RE, to_simplified

WORDS = (
    "你好",
    "我的",
    "订单",
    "快递",
    "發票",
    "退款",
    "hello",
    "order",
    "refund",
    "the",
    "kettle",
    "１２３",
    "42",
    "！",
    "？",
    "，",
    "。",
    "(",
    ")",
    "é",
    "ß",
    "😀",
    "\u3000",
    "ｈｅｌｌｏ",
    "가나",
    "カタカナ",
    "ひらがな",
    "\t",
    "\n",
    "  ",
)


def _units_per_character(text: str) -> int:
    return sum(CJK_UNITS if CJK_RE.match(char) else 1 for char in text)


def _prepared_per_character(text: str) -> str:
    """`prepare` as first written: the running count one character at a time."""
    text = _NUMBER_RE.sub("#", " ".join(to_simplified(text or "").split()))
    units = 0
    for position, char in enumerate(text):
        units += _units_per_character(char)
        if units > MAX_EMBED_UNITS:
            cut = text[:position]
            space = cut.rfind(" ")
            return cut[:space] if space > position * 0.8 else cut
    return text


def _texts() -> list[str]:
    rng = random.Random(18)
    texts = ["", " ", "你", "a" * MAX_EMBED_UNITS, "a" * (MAX_EMBED_UNITS + 1)]
    texts += ["好" * (MAX_EMBED_UNITS // CJK_UNITS + k) for k in (-1, 0, 1, 2)]
    for _ in range(600):
        length = rng.choice((3, 20, 60, 120, 200, 400))
        texts.append(rng.choice(("", " ")).join(rng.choice(WORDS) for _ in range(length)))
    return texts


def test_the_count_and_the_cut_are_the_same_as_one_character_at_a_time():
    texts = _texts()
    cut = 0
    for text in texts:
        assert _units(text) == _units_per_character(text), text
        prepared = prepare(text)
        assert prepared == _prepared_per_character(text), text
        cut += len(prepared) < len(" ".join(text.split()))
    assert cut > 100  # the long texts were cut, so both ways of cutting were compared
