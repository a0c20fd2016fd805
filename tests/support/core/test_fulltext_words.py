"""`fulltext._words` (the ticket search's words, worked out for every new ticket in the
worker's prepare step) checks and cuts only what needs it: the same words as checking and
cutting every word, as it did before."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from support.core import fulltext
from support.core.text import CJK_RUN_RE, segment, segment_for_search, to_simplified
from tests.handwritten_mails import handwritten_texts


def _every_word_checked(text: str, *, for_search: bool) -> list[str]:
    """The words as before the change: every word stripped, checked and cut."""
    normal = to_simplified(unicodedata.normalize("NFKC", text)).casefold()
    words: list[str] = []
    position = 0
    for run in CJK_RUN_RE.finditer(normal):
        words += fulltext._WORD_RE.findall(normal[position : run.start()])
        chinese = run.group()
        if for_search:
            words += [w for w, _start, _end in segment_for_search(chinese)]
            words += list(chinese)
        else:
            words += list(segment(chinese))
        position = run.end()
    words += fulltext._WORD_RE.findall(normal[position:])
    return [w[: fulltext.MAX_TERM_CHARS] for w in words if w.strip()]


def test_no_character_of_a_word_run_is_whitespace() -> None:
    """What makes leaving out the check safe: no character _WORD_RE takes into a word (nor
    any CJK character a Chinese run is made of) is whitespace, over all of Unicode."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if fulltext._WORD_RE.fullmatch(char) or CJK_RUN_RE.fullmatch(char):
            assert not char.strip() == "", hex(code)


@pytest.mark.parametrize("for_search", [True, False])
def test_words_are_those_of_every_word_checked_and_cut(for_search: bool) -> None:
    """Every hand-written mail of bench/ (English, Simplified, Traditional, Cantonese), and
    over-long words in both scripts, give the same words in the same order."""
    texts = handwritten_texts()
    assert len(texts) > 1000
    long_english = "x" * 45 + " ok " + "Supercalifragilistic" * 3
    long_chinese = "我们的" + "退货流程说明" * 10 + "谢谢 hello\u3000world"
    texts += [long_english, long_chinese, "", " \t\n", "a_b-c 1,2 ｆｕｌｌ　ｗｉｄｔｈ ①②"]
    for text in texts:
        assert fulltext._words(text, for_search=for_search) == _every_word_checked(
            text, for_search=for_search
        ), text
    cut = fulltext._words(long_english, for_search=for_search)
    assert max(map(len, cut)) == fulltext.MAX_TERM_CHARS  # the cutting is exercised
    assert any(
        re.fullmatch(r"[\u4e00-\u9fff]+", w)
        for w in cut + fulltext._words(long_chinese, for_search=for_search)
    )
