"""Excerpts of a text with the words a search found marked: escaped HTML, safe in a page.

Shared by the FAQ's search results (`faq.search.snippets`, whose analyzer finds the words) and
the staff's ticket search (`support.desk.search`, whose words are `support.core.fulltext`'s):
each finds where its words are; this module cuts the window and marks them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

EXCERPT_CHARS = 180
#: Characters shown before the first marked word of the window.
LEAD_CHARS = 40


def merged_spans(spans: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Spans in order, overlapping or touching ones joined (jieba's search mode yields
    overlapping words; 上海 + 明辉 is one mark)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def marked_excerpt(text: str, spans: Iterable[tuple[int, int]], chars: int = EXCERPT_CHARS) -> str:
    """An escaped excerpt of `text` with `spans` (offsets into it) in <mark>: the window of
    `chars` holding the most of them, starting a little before the first; the start of the text
    if there are none. Everything outside the marks is HTML-escaped: texts come from people."""
    marks = merged_spans(spans)
    if not marks:
        window_start, window_end = 0, min(len(text), chars)
    else:
        best, best_count = marks[0][0], 0
        for span in marks:
            count = sum(1 for s in marks if span[0] <= s[0] and s[1] <= span[0] + chars)
            if count > best_count:
                best, best_count = span[0], count
        window_start = max(0, best - LEAD_CHARS)
        window_end = min(len(text), window_start + chars)
    window_start = _word_boundary(text, window_start, backwards=True)
    window_end = _word_boundary(text, window_end, backwards=False)
    parts = ["… "] if window_start > 0 else []
    cursor = window_start
    for start, end in marks:
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
