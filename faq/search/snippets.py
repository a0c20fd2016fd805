"""Snippets: an escaped excerpt of an answer with the query's words highlighted."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from faq.search.analysis import ANALYZER, UNMARKED_CHARS
from support.core.snippets import EXCERPT_CHARS, marked_excerpt

SNIPPET_CHARS = EXCERPT_CHARS


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
    spans = [(start, end) for term, start, end in _snippet_tokens(text) if term in termset]
    return marked_excerpt(text, spans, SNIPPET_CHARS)
