"""Ranking: BM25F scores read straight from Whoosh's posting lists with numpy.

Whoosh stores the index; the ranking below reads its posting lists into numpy arrays and
scores with the same BM25F formula Whoosh uses (`whoosh.scoring.BM25F` with B=BM25_B and
K1=BM25_K1; tests/faq/test_search_ranking.py checks the scores are Whoosh's own). Whoosh's
matchers walk every posting in pure Python through a tree of union matchers, which took
100-400 ms per question at 10,000 articles; term-at-a-time with cached arrays takes a few.

`rank` is the one entry point; `Ranking` holds the per-searcher caches it works on.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher

from faq.search.homophones import Homophones, run_corrections
from support.core.text import CJK_RUN_RE

BM25_K1 = 3.0
BM25_B = 0.75
POSTINGS_CACHE_BUDGET = 4_000_000  # cached postings per process (8 bytes each)
# What one cached entry costs besides its postings, counted in postings: most words of an email
# are in no article, and those empty entries must not grow the cache without bound.
POSTINGS_ENTRY_COST = 32
# Words whose scores a searcher keeps, a few MB (dropped all at once when full).
TERM_SCORES_PER_SEARCHER = 20_000


def term_weight(doc_count: int, doc_frequency: int) -> float:
    """How much a word found in `doc_frequency` of `doc_count` articles counts (BM25's idf)."""
    return math.log(doc_count / (doc_frequency + 1)) + 1.0


class Clause(NamedTuple):  # a long email makes over a hundred of them per search
    field: str
    term: str
    weight: float


class _SegmentArrays:
    """Immutable numpy views of one index segment (postings, field lengths), shared by threads.

    A segment never changes once written (deletions are applied separately), so the cache is
    keyed by the segment's id and survives searcher refreshes.
    """

    def __init__(self, segment_id: str, doc_count: int) -> None:
        self.segment_id = segment_id
        self.doc_count = doc_count
        self._lengths: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def lengths(self, reader, fieldname: str) -> np.ndarray:
        found = self._lengths.get(fieldname)
        if found is None:
            with self._lock:
                found = self._lengths.get(fieldname)
                if found is None:
                    found = np.fromiter(
                        (
                            reader.doc_field_length(d, fieldname, 0) or 0
                            for d in range(self.doc_count)
                        ),
                        dtype=np.float32,
                        count=self.doc_count,
                    )
                    self._lengths[fieldname] = found
        return found


class _PostingsCache:
    """Least-recently-used posting lists as (docnums, weights) arrays, bounded in size."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._size = 0
        self._items: OrderedDict[tuple, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, load) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = load()
        with self._lock:
            if key not in self._items:
                self._size += len(found[0]) + POSTINGS_ENTRY_COST
            self._items[key] = found
            while self._size > self.budget and len(self._items) > 1:
                _, (ids, _) = self._items.popitem(last=False)
                self._size -= len(ids) + POSTINGS_ENTRY_COST
        return found


_segments: OrderedDict[str, _SegmentArrays] = OrderedDict()
_segments_lock = threading.Lock()
_postings = _PostingsCache(POSTINGS_CACHE_BUDGET)


def _segment_arrays(reader) -> _SegmentArrays:
    key = reader.segment().segment_id()
    with _segments_lock:
        found = _segments.get(key)
        if found is None:
            found = _segments[key] = _SegmentArrays(key, reader.doc_count_all())
            while len(_segments) > 64:
                _segments.popitem(last=False)
        else:
            _segments.move_to_end(key)
        return found


_NO_POSTINGS = (np.empty(0, np.int32), np.empty(0, np.float32))  # shared by every unknown word
for _array in _NO_POSTINGS:
    _array.setflags(write=False)


def _read_postings(reader, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """All (docnum, weight) postings of a term in one segment, deleted documents included."""
    if (fieldname, term) not in reader:
        return _NO_POSTINGS
    matcher = reader.postings(fieldname, term)
    while hasattr(matcher, "child") and not isinstance(matcher, W3LeafMatcher):
        matcher = matcher.child  # unwrap the deletion filter; deletions are masked later
    ids: list[int] = []
    weights: list[float] = []
    if isinstance(matcher, W3LeafMatcher):
        # The deletion filter has already stepped over leading deleted documents: start again,
        # so the postings (and so the document frequency) are Whoosh's, as the docstring says.
        matcher.reset()
        # Block at a time: Whoosh decodes a whole block of ids and weights at once.
        while matcher.is_active():
            if matcher._ids is None:
                matcher._read_ids()
            if matcher._weights is None:
                matcher._read_weights()
            ids.extend(matcher._ids[matcher._i :])
            weights.extend(matcher._weights[matcher._i :])
            matcher._next_block()
    else:  # pragma: no cover - another codec
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32)


MAX_REMEMBERED_WORDS = 20_000  # spelling corrections kept per searcher


class Ranking:
    """Scores clauses over every segment of one searcher.

    Kept for as long as its searcher (one per thread, see SearchIndex._ranking): a word's
    BM25 scores depend only on the searcher's documents, and the same words recur from mail
    to mail, so each word is scored once and a search only adds up the scores of its words.
    """

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.leaves = [  # an index with no documents yet has a reader without a segment
            (leaf, offset, _segment_arrays(leaf))
            for leaf, offset in self.reader.leaf_readers()
            if leaf.segment() is not None
        ]
        self.doc_count = self.reader.doc_count_all()
        self._scored: dict[tuple[str, str], _TermScores | None] = {}
        self._average_lengths: dict[str, float] = {}
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._stored: dict[int, dict] = {}
        self._closest: dict[str, str | None] = {}
        self._indexed: dict[tuple[tuple[str, ...], str], bool] = {}
        self._homophones: Homophones | None = None
        self._sounded: dict[str, tuple[tuple[int, int, str], ...]] = {}
        self._corrector: Any = None  # whoosh's spelling corrector, made on first use

    def homophones(self) -> Homophones:
        """The questions' Chinese words by sound (see faq.search.homophones), made on first
        use per searcher."""
        if self._homophones is None:
            words = (
                raw.decode("utf-8") if isinstance(raw, bytes) else raw
                for raw in self.reader.lexicon("spelling")
            )
            self._homophones = Homophones(word for word in words if CJK_RUN_RE.match(word))
        return self._homophones

    def run_corrections(
        self, typed: str, known: Callable[[str], bool]
    ) -> tuple[tuple[int, int, str], ...]:
        """`homophones.run_corrections` of a run of Chinese with this searcher's homophones,
        remembered by the run: ``known`` must say what this searcher holds (it is one function
        of the word for a searcher's life). A mail's Chinese runs recur (greetings, product
        words), and each cost jieba's two segmentations and a sound lookup per window."""
        found = self._sounded.get(typed)
        if found is None:
            if len(self._sounded) >= MAX_REMEMBERED_WORDS:
                self._sounded.clear()
            found = tuple(run_corrections(typed, self.homophones(), known))
            self._sounded[typed] = found
        return found

    def closest_word(self, word: str) -> str | None:
        """The question word closest in spelling to `word` (one edit; two for words longer
        than four letters), remembered: Whoosh builds an automaton per lookup (2 ms), and a
        mail's unknown words (names, places) recur."""
        if word in self._closest:
            return self._closest[word]
        corrector = self._spelling_corrector()
        found = None
        for maxdist in (1, 2) if len(word) > 4 else (1,):
            suggestions = corrector.suggest(word, limit=1, maxdist=maxdist, prefix=1)
            if suggestions:
                found = suggestions[0]
                break
        return self._remember(word, found)

    def closest_spelling(self, word: str) -> str | None:
        """`closest_word`, or else the question word one swap of two neighbouring letters
        away, plus the same edits as `closest_word` allows less one: "recieve" is three
        Levenshtein edits from "received" (the questions' only form of the word) but one swap
        and one letter in the Damerau distance typists make. Only for "did you mean" (a person
        typing, MAX_CORRECTIONS words): each swap costs a lookup (about 2 ms), which the weak
        typo clauses of every mail's search do not pay for its unknown names."""
        found = self.closest_word(word)
        if found or not word.isalpha():
            return found
        key = f"\0{word}"  # its own entries beside closest_word's
        if key in self._closest:
            return self._closest[key]
        for at in range(1, len(word) - 1):  # the first letter stays, as in closest_word
            if word[at] == word[at + 1]:
                continue
            swapped = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
            if len(word) > 4:
                suggestions = self._spelling_corrector().suggest(
                    swapped, limit=1, maxdist=1, prefix=1
                )
            else:
                suggestions = [swapped] if ("spelling", swapped) in self.reader else []
            if suggestions:
                found = suggestions[0]
                break
        return self._remember(key, found)

    def _remember(self, key: str, found: str | None) -> str | None:
        """Keep a spelling lookup's answer (bounded: all dropped at once when full)."""
        if len(self._closest) >= MAX_REMEMBERED_WORDS:
            self._closest.clear()
        self._closest[key] = found
        return found

    def _spelling_corrector(self) -> Any:
        """Whoosh's corrector over the questions' words, made on first use."""
        if self._corrector is None:
            self._corrector = self.searcher.corrector("spelling")
        return self._corrector

    def indexed(self, fieldnames: tuple[str, ...], term: str) -> bool:
        """Whether any document has `term` in one of `fieldnames`, remembered: the typo checks
        ask this of every unknown-looking word of every mail, and Whoosh's term lookup was a
        tenth of a mail's preparing time."""
        key = (fieldnames, term)
        found = self._indexed.get(key)
        if found is None:
            if len(self._indexed) >= MAX_REMEMBERED_WORDS:
                self._indexed.clear()
            found = self._indexed[key] = any(
                self.searcher.doc_frequency(fieldname, term) for fieldname in fieldnames
            )
        return found

    def _term_docs(self, fieldname: str, term: str) -> np.ndarray:
        """Global docnums having `term` in `fieldname`."""
        parts = [
            offset + self._postings(leaf, arrays, fieldname, term)[0]
            for leaf, offset, arrays in self.leaves
        ]
        return np.concatenate(parts) if parts else np.empty(0, np.int32)

    def _mask(self, fieldname: str, term: str) -> np.ndarray:
        """Documents having `term` in `fieldname`, as a read-only boolean mask."""
        key = (fieldname, term)
        mask = self._masks.get(key)
        if mask is None:
            mask = np.zeros(self.doc_count, dtype=bool)
            mask[self._term_docs(fieldname, term)] = True
            mask.setflags(write=False)
            self._masks[key] = mask
        return mask

    @staticmethod
    def _postings(
        leaf, arrays: _SegmentArrays, fieldname: str, term: str
    ) -> tuple[np.ndarray, np.ndarray]:
        key = (arrays.segment_id, fieldname, term)
        return _postings.get(key, lambda: _read_postings(leaf, fieldname, term))

    def article_id(self, docnum: int) -> int:
        return int(self.stored_fields(docnum)["article_id"])

    def docnum(self, article_id: int, allowed: np.ndarray | None) -> int | None:
        """The live document of an article passing `allowed` (None: none)."""
        for docnum in self._term_docs("article_id", str(article_id)).tolist():
            if allowed is None or allowed[docnum]:
                if not any(
                    leaf.is_deleted(docnum - offset)
                    for leaf, offset, _ in self.leaves
                    if offset <= docnum < offset + leaf.doc_count_all()
                ):
                    return int(docnum)
        return None

    def stored_fields(self, docnum: int) -> dict:
        """A document's stored fields, read (and unpickled) once per searcher."""
        stored = self._stored.get(docnum)
        if stored is None:
            stored = self._stored[docnum] = self.searcher.stored_fields(docnum)
        return stored

    def allowed(
        self, *, language: str | None = None, category_id: int | None = None
    ) -> np.ndarray | None:
        """Live documents passing the filters, as a boolean mask (None: all documents)."""
        mask = None
        if any(leaf.has_deletions() for leaf, _, _ in self.leaves):
            mask = np.ones(self.doc_count, dtype=bool)
            for leaf, offset, _ in self.leaves:
                deleted = np.fromiter(leaf.segment().deleted_docs(), dtype=np.int64)
                mask[offset + deleted] = False
        for fieldname, value in (("language", language), ("category_id", category_id)):
            if value is None or value == "":
                continue
            selected = self._mask(fieldname, str(value))
            mask = selected if mask is None else mask & selected
        return mask

    def _term_scores(self, fieldname: str, term: str) -> _TermScores | None:
        """A word's BM25 scores in one field before the clause's weight (None: no document)."""
        key = (fieldname, term)
        try:
            return self._scored[key]
        except KeyError:
            pass
        postings = [
            self._postings(leaf, arrays, fieldname, term) for leaf, _, arrays in self.leaves
        ]
        # The cached postings (deleted documents included) give Whoosh's doc_frequency
        # without its term lookup, which cost more than the scoring on a long email.
        df = sum(len(ids) for ids, _ in postings)
        found = None
        if df:
            average = self._average_lengths.get(fieldname)
            if average is None:
                average = (self.reader.field_length(fieldname) / self.doc_count) or 1.0
                self._average_lengths[fieldname] = average
            docs, parts = [], []
            for (leaf, offset, arrays), (ids, tf) in zip(self.leaves, postings, strict=True):
                if len(ids):
                    lengths = arrays.lengths(leaf, fieldname)[ids]
                    norm = (1 - BM25_B) + BM25_B * lengths / np.float32(average)
                    docs.append(offset + ids)
                    parts.append(tf * (BM25_K1 + 1) / (tf + BM25_K1 * norm))
            found = _TermScores(
                np.concatenate(docs), np.concatenate(parts), term_weight(self.doc_count, df)
            )
        if len(self._scored) >= TERM_SCORES_PER_SEARCHER:
            self._scored.clear()  # most words of an email are in no article: start afresh
        self._scored[key] = found
        return found

    def rank(
        self,
        clauses: list[Clause],
        *,
        allowed: np.ndarray | None,
        preferred_language: str | None = None,
        limit: int,
    ) -> tuple[int, list[tuple[int, float]]]:
        """(number of matching documents, [(docnum, score)] of the best `limit`)."""
        scores = np.zeros(self.doc_count, dtype=np.float32)
        # Every clause's scores are gathered and added in one pass: a long email makes over a
        # hundred clauses, and numpy's cost per call outweighs the arithmetic.
        docs, parts, factors, counts = [], [], [], []
        for fieldname, term, weight in clauses:
            found = self._term_scores(fieldname, term)
            if found is not None:
                docs.append(found.docs)
                parts.append(found.scores)
                factors.append(weight * found.idf)
                counts.append(len(found.docs))
        if docs:
            factor = np.repeat(np.asarray(factors, dtype=np.float32), counts)
            # Added in clause order, as one clause at a time would: the same float32 sums.
            np.add.at(scores, np.concatenate(docs), factor * np.concatenate(parts))
        if allowed is not None:
            scores[~allowed] = 0.0
        matched = np.flatnonzero(scores > 0)
        if not matched.size:
            return 0, []
        key = scores[matched].astype(np.float64)
        if preferred_language:
            # A customer writing Chinese wants the Chinese article before its translation.
            preferred = self._mask("language", preferred_language)
            key += preferred[matched] * (float(key.max()) + 1.0)
        if matched.size > limit:
            top = np.argpartition(-key, limit - 1)[:limit]
        else:
            top = np.arange(matched.size)
        top = top[np.lexsort((matched[top], -key[top]))]  # best first, then index order
        return int(matched.size), [(int(matched[i]), float(scores[matched[i]])) for i in top]


class _TermScores(NamedTuple):
    docs: np.ndarray  # global docnums having the word, deleted documents included
    scores: np.ndarray  # float32 tf * (k1 + 1) / (tf + k1 * norm), one per document
    idf: float


def rank(
    ranking: Ranking,
    clauses: list[Clause],
    *,
    allowed: np.ndarray | None = None,
    preferred_language: str | None = None,
    limit: int,
) -> tuple[int, list[tuple[int, float]]]:
    """(number of matching documents, [(docnum, score)] of the best `limit`), best first.

    Each clause adds ``weight * idf * tf * (K1 + 1) / (tf + K1 * norm)`` for its term in its
    field: Whoosh's BM25F with a Term query per clause, boosted by the clause's weight, summed
    as an Or query would. `allowed` masks documents out (deletions, language and category
    filters); `preferred_language` puts that language's documents first, without changing
    their scores. Ties keep index order.

    Performance budget: a search of a long email (100+ clauses) over 10,000 articles must stay
    under 5 ms on one core once the words' postings are cached, and under 50 ms cold (about
    one tenth of what Whoosh's own matchers took); bench/faq_search_bench.py measures it.
    """
    return ranking.rank(
        clauses, allowed=allowed, preferred_language=preferred_language, limit=limit
    )
