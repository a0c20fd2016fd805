"""Snippets: an escaped excerpt of an answer with the query's words highlighted."""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable

from faq.search.analysis import ANALYZER, UNMARKED_CHARS

SNIPPET_CHARS = 180


@functools.lru_cache(maxsize=4096)
def _snippet_tokens(text: str) -> tuple[tuple[str, int, int], ...]:
    """Analyzed words of an answer with their offsets (answers repeat across queries)."""
    return tuple((t.text, t.startchar, t.endchar) for t in ANALYZER(text, chars=True))


def snippet_html(text: str, terms: Iterable[str]) -> str:
    """An escaped excerpt of `text` with matched words in <mark>; the start if none matched.
    A single-character function word (``UNMARKED_CHARS``: 不, 的) is never marked alone.

    Everything outside the marks is HTML-escaped: answers and queries come from people.
    """
    termset = frozenset(terms) - UNMARKED_CHARS
    spans: list[list[int]] = []
    for _term, start, end in sorted(
        (t for t in _snippet_tokens(text) if t[0] in termset), key=lambda t: t[1]
    ):
        if spans and start <= spans[-1][1]:  # jieba's search mode yields overlapping words
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    if not spans:
        window_start, window_end = 0, min(len(text), SNIPPET_CHARS)
    else:
        # The window holding the most matched words, starting a little before the first one.
        best, best_count = spans[0][0], 0
        for span in spans:
            count = sum(1 for s in spans if span[0] <= s[0] and s[1] <= span[0] + SNIPPET_CHARS)
            if count > best_count:
                best, best_count = span[0], count
        window_start = max(0, best - 40)
        window_end = min(len(text), window_start + SNIPPET_CHARS)
    window_start = _word_boundary(text, window_start, backwards=True)
    window_end = _word_boundary(text, window_end, backwards=False)
    parts = ["… "] if window_start > 0 else []
    cursor = window_start
    for start, end in spans:
        if start < window_start or end > window_end:
            continue
        parts.append(html.escape(text[cursor:start], quote=False))
        parts.append(f"<mark>{html.escape(text[start:end], quote=False)}</mark>")
        cursor = end
    parts.append(html.escape(text[cursor:window_end], quote=False))
    if window_end < len(text):
        parts.append(" …")
    return "".join(parts).strip()


def _word_boundary(text: str, index: int, *, backwards: bool) -> int:
    """Move `index` off the middle of a Latin word (any place between Chinese characters is
    a boundary), looking at most 20 characters away."""

    def inside_word(i: int) -> bool:
        return (
            0 < i < len(text)
            and text[i - 1].isascii()
            and text[i - 1].isalnum()
            and (text[i].isascii() and text[i].isalnum())
        )

    for step in range(21):
        i = index - step if backwards else index + step
        if not inside_word(i):
            return max(0, min(i, len(text)))
    return index
