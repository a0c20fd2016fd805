"""Bilingual (Chinese/English) full-text search over FAQ articles.

This package is the only code that knows about Whoosh, so the search engine can be replaced
in one place. Callers pass and receive plain dataclasses, and import from here only.

Its parts, each importing only those above it:

- `analysis`: text -> index terms (Chinese through support.core.text);
- `snippets`: escaped excerpts with the matched words marked;
- `shared_vectors`: embedded texts shared by a host's processes (a bounded SQLite file);
- `embedding`: the sentence-embedding model behind one small interface (`Embedder`);
- `english_model`: a second model for English questions (all-MiniLM-L6-v2), optional;
- `dictionary`: real English words (the English model's vocabulary), which are not typos;
- `homophones`: Chinese words by how they sound, for typos and pinyin (not English: `dictionary`);
- `ranking`: BM25F over Whoosh's posting lists with numpy (`rank`);
- `asking`: which sentences of a mail ask (what a mail's search looks for), a reference alone;
- `negation`: the verbs a Chinese text negates, and the articles that say them negated;
- `changes`: the log of article saves beside the vectors and word vectors (merged when it grows);
- `vectors`: article vectors beside the index; `terms`: TF-IDF word vectors beside them;
- `fusion`: the model's similarity and the TF-IDF cosine (or both rankings' ranks) into one;
- `storage`: the Whoosh schema and the index folder (generations, pointer, writer lock, vectors);
- `engine`: `SearchIndex`, which searches, suggests and corrects spelling.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faq.search.analysis import (
        ANALYZER,
        CHAR_ANALYZER,
        CHINESE_STOP_CHARS,
        CHINESE_STOP_WORDS,
        ENGLISH_STOP_WORDS,
        MAX_QUERY_CHARS,
        MAX_QUERY_TERMS,
        SPELLING_ANALYZER,
        STOP_WORDS_ALL,
        BilingualTokenizer,
        CjkCharTokenizer,
        analyze,
        markdown_to_mail_text,
        markdown_to_text,
        query_terms,
    )
    from faq.search.asking import (
        REQUEST_ACTIONS,
        answered_actions,
        asked_actions,
        focus,
        is_mail,
        only_a_reference,
        only_thanks,
        request_words,
        says_anything,
    )
    from faq.search.embedding import Embedder, learn_embeddings, load_embedder, new_embeddings
    from faq.search.engine import (
        FEW_RESULTS,
        SearchHit,
        SearchIndex,
        SearchResults,
        Suggestion,
        _match_clauses,
    )
    from faq.search.english_model import load_english_model
    from faq.search.fusion import SHOWN_SCORE_SHARE
    from faq.search.negation import negated_first, negated_verbs
    from faq.search.ranking import (
        _NO_POSTINGS,
        BM25_B,
        BM25_K1,
        POSTINGS_CACHE_BUDGET,
        POSTINGS_ENTRY_COST,
        _PostingsCache,
        rank,
        term_weight,
    )
    from faq.search.snippets import SNIPPET_CHARS, snippet_html
    from faq.search.storage import (
        CHARS_WEIGHT,
        CURRENT_FILE,
        FIELD_BOOSTS,
        GENERATION_PREFIX,
        LOCK_FILE,
        QUERY_WEIGHTS,
        SCHEMA_VERSION,
        ArticleDoc,
        SearchIndexBusy,
    )

#: Where each name lives. The package imports a part on first use of one of its names (PEP 562),
#: not with the package: Whoosh, SciPy and the embedding models cost seconds of CPU, and the
#: app's factory, its commands and its pages import the FAQ's modules without searching.
_PARTS: dict[str, tuple[str, ...]] = {
    "analysis": (
        "ANALYZER",
        "CHAR_ANALYZER",
        "CHINESE_STOP_CHARS",
        "CHINESE_STOP_WORDS",
        "ENGLISH_STOP_WORDS",
        "MAX_QUERY_CHARS",
        "MAX_QUERY_TERMS",
        "SPELLING_ANALYZER",
        "STOP_WORDS_ALL",
        "BilingualTokenizer",
        "CjkCharTokenizer",
        "analyze",
        "markdown_to_mail_text",
        "markdown_to_text",
        "query_terms",
    ),
    "asking": (
        "REQUEST_ACTIONS",
        "answered_actions",
        "asked_actions",
        "focus",
        "is_mail",
        "only_a_reference",
        "only_thanks",
        "request_words",
        "says_anything",
    ),
    "embedding": (
        "Embedder",
        "learn_embeddings",
        "load_embedder",
        "new_embeddings",
    ),
    "engine": (
        "FEW_RESULTS",
        "SearchHit",
        "SearchIndex",
        "SearchResults",
        "Suggestion",
        "_match_clauses",
    ),
    "english_model": ("load_english_model",),
    "fusion": ("SHOWN_SCORE_SHARE",),
    "negation": ("negated_first", "negated_verbs"),
    "ranking": (
        "_NO_POSTINGS",
        "BM25_B",
        "BM25_K1",
        "POSTINGS_CACHE_BUDGET",
        "POSTINGS_ENTRY_COST",
        "_PostingsCache",
        "rank",
        "term_weight",
    ),
    "snippets": (
        "SNIPPET_CHARS",
        "snippet_html",
    ),
    "storage": (
        "CHARS_WEIGHT",
        "CURRENT_FILE",
        "FIELD_BOOSTS",
        "GENERATION_PREFIX",
        "LOCK_FILE",
        "QUERY_WEIGHTS",
        "SCHEMA_VERSION",
        "ArticleDoc",
        "SearchIndexBusy",
    ),
}
_HOMES = {name: part for part, names in _PARTS.items() for name in names}

if not TYPE_CHECKING:  # mypy reads the imports above; an unknown name stays an error there

    def __getattr__(name: str) -> Any:
        part = _HOMES.get(name)
        if part is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{__name__}.{part}"), name)
        globals()[name] = value
        return value


__all__ = [
    "ANALYZER",
    "BM25_B",
    "BM25_K1",
    "CHARS_WEIGHT",
    "CHAR_ANALYZER",
    "CHINESE_STOP_CHARS",
    "CHINESE_STOP_WORDS",
    "CURRENT_FILE",
    "ENGLISH_STOP_WORDS",
    "Embedder",
    "FEW_RESULTS",
    "FIELD_BOOSTS",
    "GENERATION_PREFIX",
    "LOCK_FILE",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "POSTINGS_CACHE_BUDGET",
    "POSTINGS_ENTRY_COST",
    "QUERY_WEIGHTS",
    "REQUEST_ACTIONS",
    "SCHEMA_VERSION",
    "SHOWN_SCORE_SHARE",
    "SNIPPET_CHARS",
    "SPELLING_ANALYZER",
    "STOP_WORDS_ALL",
    "_NO_POSTINGS",
    "ArticleDoc",
    "BilingualTokenizer",
    "CjkCharTokenizer",
    "SearchHit",
    "SearchIndex",
    "SearchIndexBusy",
    "SearchResults",
    "Suggestion",
    "_PostingsCache",
    "_match_clauses",
    "analyze",
    "answered_actions",
    "asked_actions",
    "load_embedder",
    "load_english_model",
    "focus",
    "is_mail",
    "only_a_reference",
    "only_thanks",
    "request_words",
    "says_anything",
    "markdown_to_mail_text",
    "markdown_to_text",
    "negated_first",
    "negated_verbs",
    "query_terms",
    "rank",
    "snippet_html",
    "term_weight",
    "learn_embeddings",
    "new_embeddings",
]
