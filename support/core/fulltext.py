"""Full-text search over a table of pre-tokenised documents, on SQLite and PostgreSQL alike.

Why pre-tokenised: neither database segments Chinese, and their own parsers split words
differently (PostgreSQL's depends on the server locale). So the words are made here, once, the
same way for documents and queries (`support.core.text`: Traditional -> Simplified, jieba for
Chinese runs, letters and digits for the rest, case-folded), and stored space-separated. The
databases only look them up:

- SQLite: an FTS5 table with external content (`<table>_fts`, tokenizer unicode61, which splits
  on the spaces we wrote), kept in step with `<table>` by triggers;
- PostgreSQL: a GIN index over `array_to_tsvector(string_to_array(document, ' '))`, queried with
  a `tsquery` built from the same words (no parser, no dictionary, no locale).

Both answer "every word present, the last one as a prefix". Only this module (with `db.py`)
knows which database it runs on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    TextClause,
    column,
    select,
    text,
    true,
)
from sqlalchemy import table as table_clause
from sqlalchemy.orm import Session

from support.core.text import CJK_RUN_RE, segment, segment_for_search, to_simplified

#: Runs of letters or digits (no underscore: FTS5's unicode61 splits there, so we do too).
_WORD_RE = re.compile(r"[^\W_]+")
MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 8
MAX_TERM_CHARS = 40


def _words(text: str, *, for_search: bool) -> list[str]:
    normal = to_simplified(unicodedata.normalize("NFKC", text)).casefold()
    words: list[str] = []
    position = 0
    for run in CJK_RUN_RE.finditer(normal):
        words += _WORD_RE.findall(normal[position : run.start()])
        chinese = run.group()
        if for_search:
            # Search-mode words (long words and their parts) and every character: a query
            # jieba cuts differently ("热水壶" -> 热 + 水壶) still finds its words.
            words += [w for w, _start, _end in segment_for_search(chinese) if w]
            words += chinese  # its characters
        else:
            words += [w for w in segment(chinese) if w]
        position = run.end()
    words += _WORD_RE.findall(normal[position:])
    # No word found here holds whitespace (_WORD_RE's runs hold none, nor do runs of CJK
    # characters), so only the empty ones are left out, and only over-long ones are cut:
    # the same list as cutting and checking every word (test_fulltext checks both).
    if max(map(len, words), default=0) > MAX_TERM_CHARS:
        words = [w[:MAX_TERM_CHARS] for w in words]
    return words


def document_words(text: str) -> tuple[str, ...]:
    """The words one part of a document contributes (see `document`)."""
    return tuple(_words(text, for_search=True))


def document(
    parts: Iterable[str | None],
    max_chars: int = 60_000,
    known: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The stored words of a document: each distinct word once, space-separated, bounded.

    ``known``: `document_words` of some parts, worked out ahead (by text), so segmenting them
    need not happen where time is short."""
    seen: dict[str, None] = {}
    size = 0
    for part in parts:
        text = part or ""
        words = known[text] if known and text in known else _words(text, for_search=True)
        for word in words:
            if word not in seen:
                size += len(word) + 1
                if size > max_chars:
                    return " ".join(seen)
                seen[word] = None
    return " ".join(seen)


def query_terms(query: str) -> list[str]:
    """The words of a search (bounded: the first MAX_QUERY_TERMS distinct words)."""
    terms = list(dict.fromkeys(_words(query[:MAX_QUERY_CHARS], for_search=False)))
    return terms[:MAX_QUERY_TERMS]


#: Full-width letters and digits (Ｅ２１), which NFKC makes ASCII: NFKC itself costs 0.4 ms on
#: 4,000 Chinese characters (their full-width commas make no such text normal), ten times the
#: rest of finding the words; full-width punctuation is in no word.
_FULL_WIDTH_RE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _ascii_of(found: re.Match[str]) -> str:
    return chr(ord(found.group()) - 0xFEE0)


def _normal_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """`text` as `_words` reads it (Simplified, case-folded, full-width letters and digits as
    NFKC makes them) and, where that changed its length, the offset in `text` of each
    character of the result (None: the same offsets). Only for finding words to mark: a rarer
    NFKC compatibility form (a ligature, a circled digit) goes unmarked, never mis-marked."""
    simple = to_simplified(text)  # character for character
    if simple.isascii():
        return simple.lower(), None
    normal = _FULL_WIDTH_RE.sub(_ascii_of, simple).casefold()
    if len(normal) == len(text):
        return normal, None
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(simple):
        piece = unicodedata.normalize("NFKC", char).casefold()
        pieces.append(piece)
        offsets += [index] * len(piece)
    return "".join(pieces), offsets


def _inside_latin_word(text: str, index: int) -> bool:
    """Whether text[index] is a letter or digit of a non-Chinese word (a Latin term must not
    start or end beside one: "e21" is not found in "be21")."""
    if not 0 <= index < len(text):
        return False
    char = text[index]
    return _WORD_RE.fullmatch(char) is not None and CJK_RUN_RE.fullmatch(char) is None


def term_spans(
    text: str, terms: Sequence[str], *, max_spans: int = 50
) -> tuple[list[tuple[int, int]], frozenset[str]]:
    """Where the words of a search (`query_terms`) stand in `text`, as (start, end) offsets into
    `text` itself (a term in Simplified marks the customer's Traditional characters), and
    which terms were found. As `match` finds them: a Latin word whole (the last one as a
    prefix: "drai" finds "draining"), a Chinese word anywhere. At most `max_spans`."""
    normal, offsets = _normal_with_offsets(text)
    spans: list[tuple[int, int]] = []
    found: set[str] = set()
    for position, term in enumerate(terms):
        latin = CJK_RUN_RE.search(term) is None
        prefix = position == len(terms) - 1
        start = normal.find(term)
        while start >= 0 and len(spans) < max_spans:
            end = start + len(term)
            whole = not latin or (
                not _inside_latin_word(normal, start - 1)
                and (prefix or not _inside_latin_word(normal, end))
            )
            if whole:
                if latin:  # a prefix marks the whole word it starts
                    while _inside_latin_word(normal, end):
                        end += 1
                found.add(term)
                if offsets is None:
                    spans.append((start, end))
                else:
                    spans.append((offsets[start], offsets[end - 1] + 1))
            start = normal.find(term, start + 1)
    return spans, frozenset(found)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@dataclass(frozen=True)
class Match:
    """Where the matching documents are: join `source` on `key` and add `condition`. Ordering
    by `key` descending lets SQLite's FTS5 stream matches newest first and stop at the limit."""

    source: FromClause
    key: ColumnElement[Any]
    condition: ColumnElement[bool] | TextClause


def match(session: Session, table: str, key: str, terms: list[str]) -> Match:
    """Documents of `table` holding every term (the last as a prefix).

    `table` and `key` are our own identifiers, never user input; the terms are bound.
    """
    if not terms:
        raise ValueError("no terms")
    if _dialect(session) == "postgresql":
        tsquery = " & ".join([*(f"'{t}'" for t in terms[:-1]), f"'{terms[-1]}':*"])
        condition = text(
            f"array_to_tsvector(string_to_array({table}.document, ' '))"
            " @@ CAST(:fts_query AS tsquery)"
        ).bindparams(fts_query=tsquery)
        # Materialised first, through the GIN index: left to itself the planner may walk the
        # key backwards and test every row's words ("newest first, stop at the limit"), which
        # takes seconds for a word no ticket holds.
        hits = (
            select(column(key, Integer))
            .select_from(table_clause(table))
            .where(condition)
            .cte(f"{table}_hits")
            .prefix_with("MATERIALIZED")
        )
        return Match(hits, hits.c[key], true())
    fts = f"{table}_fts"
    query = " ".join([*(f'"{t}"' for t in terms[:-1]), f'"{terms[-1]}"*'])
    source = table_clause(fts, column("rowid", Integer))
    condition = text(f"{fts} MATCH :fts_query").bindparams(fts_query=query)
    return Match(source, source.c.rowid, condition)


@contextmanager
def index_lookup(session: Session) -> Iterator[None]:
    """Run a search's statement with the planner told to read the full-text index.

    PostgreSQL prices building a row's words as nearly free, so for a common word it scans
    the whole table (2 s at 100,000 tickets) where the GIN index answers in 70 ms. SQLite needs
    nothing. Only for the statement inside: set and reset within the transaction.
    """
    if _dialect(session) != "postgresql":
        yield
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_seqscan = on"))


def create_index_ddl(dialect: str, table: str, key: str) -> list[str]:
    """Statements creating the full-text index over `table.document` (run by the migration)."""
    if dialect == "postgresql":
        return [
            f"CREATE INDEX ix_{table}_words ON {table} USING gin"
            " (array_to_tsvector(string_to_array(document, ' ')))",
        ]
    fts = f"{table}_fts"
    delete = (
        f"INSERT INTO {fts}({fts}, rowid, document) VALUES ('delete', old.{key}, old.document);"
    )
    insert = f"INSERT INTO {fts}(rowid, document) VALUES (new.{key}, new.document);"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(document, content='{table}',"
        f" content_rowid='{key}', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} BEGIN {delete} {insert} END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def drop_index_ddl(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP INDEX IF EXISTS ix_{table}_words"]
    return [
        *(f"DROP TRIGGER IF EXISTS {table}_{suffix}" for suffix in ("ai", "ad", "au")),
        f"DROP TABLE IF EXISTS {table}_fts",
    ]


_OBJECT_RE = re.compile(r"ix_\w+_words|\w+_fts(?:_(?:data|idx|docsize|config|content))?")


def is_fulltext_object(name: str | None) -> bool:
    """Tables and indexes this module adds beside the models (schema comparisons skip them)."""
    return name is not None and _OBJECT_RE.fullmatch(name) is not None
