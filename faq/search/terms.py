"""Word vectors beside the index: a plain TF-IDF cosine between a query and each article's text.

The fusion's word signal (see faq.search.fusion.blend). BM25 ranks articles by the query's
words, but in an FAQ of hundreds of articles most of them share a query's common words
("帳單", "account", "budget") and its first place is often wrong (R@1 0.53-0.68); a TF-IDF
cosine over the article's whole text (question, phrasings, answer), added to the model's
similarity by its size rather than its rank, lets a shared rare word or phrase break the model's
near ties without a common word's first place outweighing the model. English is read as words
and pairs of words, Chinese (after Traditional -> Simplified, support.core.text) as characters
and runs of 2 and 3 characters, which needs no segmentation and forgives a segmenter's misses.

Stored per article as raw counts of hashed terms (`terms.npz` in the generation folder, beside
the vectors; no vocabulary to keep), so that one article can be added or removed without
reading the others' texts; the inverse document frequencies, per language, and the weighted,
L2-normalised rows are made when the file is read (once per file version). Memory: 8 bytes per
distinct term of an article, its text cut at MAX_TEXT_CHARS. An article save appends its counts
to the generation's change log (faq.search.changes); `read_terms` applies it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from faq.search.analysis import markdown_to_text
from faq.search.changes import Live, LiveRows, Main
from support.core.atomic_files import replacing
from support.core.text import search_simplified

TERMS_FILE = "terms.npz"
# Bump when the terms or their hashing change: an older file is then rebuilt.
# 2: no Chinese n-gram joins a negation to a topic's characters (see NEGATION_CHARS).
# 3: nor 不 of a verb's "cannot get" (收不到, see NEGATION_CHARS).
FORMAT = 3
# Hashed term space: 2^20 columns; two terms rarely share one in an FAQ's few hundred thousand.
FEATURES = 1 << 20
# An article's text is cut here (question and phrasings first, then the answer): the start of a
# long answer says what it is about, and it bounds the memory per article.
MAX_TEXT_CHARS = 2000
ENGLISH_NGRAMS = (1, 2)  # words and pairs of words
CHINESE_NGRAMS = (1, 3)  # characters and runs of 2-3 characters
# A Chinese n-gram that joins a negation to other characters ("没收到", "还没收", "票还没") is
# no topic: an FAQ seldom says what has not happened, so such n-grams are rare, weigh like a rare
# topic word and drew a question to whichever article has one negated phrasing: "發票還沒收到"
# (invoice not received) ranked the refund answer ("退货了还没收到退款") and the lost parcel
# first, the invoice answer third. The characters stay, and so do n-grams of the negation's own
# words alone ("还没", "没有", "尚未"): "钱还没到" still shares "still not" with that refund
# phrasing. Measured on the tuning sets only (docs/measurements.md, twenty-third session).
# Thirty-fifth session: 不 before 到 too, a verb's "did not / cannot get" (收不到, 找不到,
# Cantonese 收唔到, read as 收不到): "收唔到貨" (goods not received) listed the password answer
# second for its phrasing "收不到验证码", the verb and its negation shared, the object not. Not
# 不 elsewhere: "付不了", "登录不上" name the article's own problem.
NEGATION_CHARS = ("没", "未")  # after Traditional -> Simplified (沒 -> 没)
NEGATION_WORD_CHARS = frozenset("还没未尚有并仍")
_NEGATION_RE = re.compile(f"[{''.join(NEGATION_CHARS)}]|不(?=到)")
_NUMBER_RE = re.compile(r"\d+")
_WHITE_RE = re.compile(r"\s\s+")
_WORD_RE = re.compile(r"(?u)\b\w+\b")


def article_text(question: str, phrasings: Sequence[str], answer_md: str) -> str:
    """What the word vectors read of an article."""
    parts = [question, *(p for p in phrasings if p and p.strip()), markdown_to_text(answer_md)]
    return "\n".join(parts)[:MAX_TEXT_CHARS]


def terms(text: str, language: str) -> list[str]:
    """A text's terms: Chinese character n-grams after Traditional -> Simplified, English word
    n-grams; lower case, every number as '#'."""
    if language == "zh":
        text = _WHITE_RE.sub(" ", _NUMBER_RE.sub("#", search_simplified(text).lower()))
        low, high = CHINESE_NGRAMS
        sizes = range(low, min(high, len(text)) + 1)
        grams = [text[i : i + n] for n in sizes for i in range(len(text) - n + 1)]
        if _NEGATION_RE.search(text):
            for index in _negation_grams(text, sizes):
                del grams[index]
        return grams
    words = _WORD_RE.findall(_NUMBER_RE.sub("#", text.lower()))
    low, high = ENGLISH_NGRAMS
    return [
        " ".join(words[i : i + n])
        for n in range(low, min(high, len(words)) + 1)
        for i in range(len(words) - n + 1)
    ]


def _negation_grams(text: str, sizes: range) -> list[int]:
    """Where in `terms`' list of `text`'s n-grams (each size in turn, then by start) those
    that join a negation to other characters are, last first. Only the few n-grams around each
    negation are looked at: a mail's query row is made for every mail (see `hashed_counts`), and
    a filter over all of its n-grams tripled that time."""
    found: set[int] = set()
    offset = 0
    for n in sizes:
        count = len(text) - n + 1
        if n > 1:
            for negation in _NEGATION_RE.finditer(text):
                at = negation.start()
                for start in range(max(0, at - n + 1), min(at, count - 1) + 1):
                    if not NEGATION_WORD_CHARS.issuperset(text[start : start + n]):
                        found.add(offset + start)
        offset += count
    return sorted(found, reverse=True)


@functools.cache
def _murmurhash3_32() -> Callable[[str], int]:
    """scikit-learn's MurmurHash3, imported when a text is first hashed: importing scikit-learn
    (and SciPy's statistics with it) takes seconds of CPU that a command's --help, or a staff
    page that never searches, need not pay."""
    from sklearn.utils import murmurhash3_32

    return murmurhash3_32


def hashed_counts(row_terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """One text's terms as hashed columns, sorted, and their counts (float32).

    The hashing of scikit-learn's ``FeatureHasher(n_features=FEATURES, input_type="string",
    alternate_sign=False)`` (MurmurHash3 of the UTF-8 bytes, seed 0, |h| mod FEATURES), done
    here on one text at a time: the hasher's input checks and sparse matrices cost the worker
    as much again as the hashing for each mail's query row (0.36 -> 0.19 ms of a mail's
    preparing, loaded machine). Performance budget: a mail's query row in 0.05 ms on a quiet
    machine; ``tests/faq/test_search_terms.py`` holds the result equal to the hasher's.
    """
    hashes = np.fromiter(map(_murmurhash3_32(), row_terms), np.int64, len(row_terms))
    columns, counts = np.unique(np.abs(hashes) % FEATURES, return_counts=True)
    return columns, counts.astype(np.float32)


def _counts(texts: Iterable[tuple[str, str]]) -> sp.csr_matrix:
    """Raw term counts, one row per (text, language)."""
    rows = [hashed_counts(terms(text, language)) for text, language in texts]
    indptr = np.zeros(len(rows) + 1, np.int64)
    indptr[1:] = np.cumsum([len(columns) for columns, _ in rows])
    indices = np.concatenate([columns for columns, _ in rows]) if rows else np.zeros(0, np.int64)
    data = np.concatenate([counts for _, counts in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), FEATURES), dtype=np.float32)


@dataclass
class TermVectors:
    """Every article's term counts (hashed) and, made on first use, its TF-IDF row."""

    counts: sp.csr_matrix  # (articles, FEATURES) float32 raw counts
    article_ids: np.ndarray  # (articles,) int64
    languages: np.ndarray  # (articles,) str
    _weighted: sp.csr_matrix | None = field(default=None, repr=False, compare=False)
    _idf: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    _positions: dict[int, int] | None = field(default=None, repr=False, compare=False)
    _term_order: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def empty(cls) -> TermVectors:
        return cls(
            sp.csr_matrix((0, FEATURES), dtype=np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, "<U8"),
        )

    def __len__(self) -> int:
        return len(self.article_ids)

    def position(self, article_id: int) -> int | None:
        if self._positions is None:
            self._positions = {int(a): i for i, a in enumerate(self.article_ids.tolist())}
        return self._positions.get(article_id)

    def cosines(self, text: str, language: str, article_ids: Sequence[int]) -> np.ndarray:
        """The TF-IDF cosine of `text` (read as `language`) to each of these articles; 0 for an
        article not here or in another language (its terms are read another way)."""
        result = np.zeros(len(article_ids), np.float32)
        if not len(self) or not len(article_ids):
            return result
        self.position(-1)  # makes the map
        assert self._positions is not None
        positions = np.fromiter(
            (self._positions.get(a, -1) for a in article_ids), np.int64, len(article_ids)
        )
        known = np.flatnonzero(positions >= 0)
        known = known[self.languages[positions[known]] == language]
        if not len(known):
            return result
        indices, data = self._query_row(text, language)
        if not len(indices):
            return result
        result[known] = self._dot_products(indices, data)[positions[known]]
        return result

    def _dot_products(self, indices: np.ndarray, data: np.ndarray) -> np.ndarray:
        """Every article's dot product with a query row (sorted term columns, weights), from the
        weighted rows' entries sorted by term, made once: only the entries of the query's few
        terms are read. Performance budget: 0.1 ms a mail over 60 articles on a quiet machine
        (measured at load 15: 0.12 ms, against 0.21 reading every candidate's whole row).

        Exactly the sums of reading the rows: an article's products are added in the order of
        its row (ascending term columns, as the query's terms are read here), and the terms a
        row does not share added 0.0, which changes no sum of these non-negative weights.
        ``tests/faq/test_search_terms.py`` holds it equal to the row-by-row sums."""
        terms_sorted, rows_sorted, weights_sorted = self._by_term()
        starts = np.searchsorted(terms_sorted, indices, side="left")
        lengths = np.searchsorted(terms_sorted, indices, side="right") - starts
        total = int(lengths.sum())
        if not total:
            return np.zeros(len(self), np.float64)
        entries = np.arange(total) + np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        products = weights_sorted[entries] * np.repeat(data, lengths)
        return np.bincount(rows_sorted[entries], weights=products, minlength=len(self))

    def _by_term(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weighted rows' entries as (term column, row, weight), sorted by term column and,
        within one, by row; made once."""
        if self._term_order is None:
            weighted = self.weighted()
            rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
            order = np.argsort(weighted.indices, kind="stable")
            self._term_order = (weighted.indices[order], rows[order], weighted.data[order])
        return self._term_order

    def _query_row(self, text: str, language: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's TF-IDF row as sorted term columns and weights, weighed as `_weigh`
        weighs a row, without building sparse matrices (a third of a search's word signal)."""
        columns, counts = hashed_counts(terms(text, language))
        weights = (1.0 + np.log(counts)) * self.idf(language)[columns]
        norm = float(np.sqrt(np.dot(weights, weights)))
        return columns, (weights / max(norm, 1e-12)).astype(np.float32)

    def weighted(self) -> sp.csr_matrix:
        """Each article's TF-IDF row (sublinear term frequency x its language's inverse
        document frequency), L2-normalised; made once."""
        if self._weighted is None:
            self._weighted = self._weigh(self.counts, self.languages)
        return self._weighted

    def _weigh(self, counts: sp.csr_matrix, languages: np.ndarray) -> sp.csr_matrix:
        weighted = counts.copy()
        weighted.data = 1.0 + np.log(weighted.data)
        row_of = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        for language in np.unique(languages).tolist():
            idf = self.idf(str(language))
            inside = languages[row_of] == language
            weighted.data[inside] *= idf[weighted.indices[inside]]
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        weighted.data /= np.repeat(np.maximum(norms, 1e-12), np.diff(weighted.indptr))
        return weighted.astype(np.float32)

    def idf(self, language: str) -> np.ndarray:
        """Smoothed inverse document frequency over this language's articles,
        ln((1 + n) / (1 + df)) + 1 (scikit-learn's), and 0 for a term no article has: a query's
        unknown words (names, typos) say nothing of which article it means, and counted they
        would only shrink its cosines."""
        found = self._idf.get(language)
        if found is None:
            rows = self.counts[self.languages == language]
            df = np.bincount(rows.indices, minlength=FEATURES).astype(np.float32)
            found = (np.log((1.0 + rows.shape[0]) / (1.0 + df)) + 1.0).astype(np.float32)
            found[df == 0] = 0.0
            self._idf[language] = found
        return found

    def without(self, article_ids: set[int]) -> TermVectors:
        return self.replacing(article_ids, [])

    def plus(self, other: TermVectors) -> TermVectors:
        return self.replacing(set(), [other])

    def replacing(self, article_ids: set[int], parts: Sequence[TermVectors]) -> TermVectors:
        """These counts less the given articles', followed by `parts`': the entries are copied
        once, the kept ones in runs of neighbouring articles (see ArticleVectors.replacing)."""
        keep = ~np.isin(self.article_ids, list(article_ids))
        if keep.all() and not parts:
            return self
        edges = np.flatnonzero(np.diff(np.concatenate(([0], keep.view(np.int8), [0]))))
        pieces = [(self, int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        pieces += [(part, 0, len(part)) for part in parts]
        if not pieces:
            return TermVectors.empty()
        spans = [(p.counts, p.counts.indptr[a], p.counts.indptr[b]) for p, a, b in pieces]
        lengths = np.concatenate([np.diff(p.counts.indptr[a : b + 1]) for p, a, b in pieces])
        counts = sp.csr_matrix(
            (
                np.concatenate([c.data[start:stop] for c, start, stop in spans]),
                np.concatenate([c.indices[start:stop] for c, start, stop in spans]),
                np.concatenate(([0], np.cumsum(lengths))),
            ),
            shape=(len(lengths), FEATURES),
            dtype=np.float32,
        )
        return TermVectors(
            counts,
            np.concatenate([p.article_ids[a:b] for p, a, b in pieces]),
            np.concatenate([p.languages[a:b] for p, a, b in pieces]).astype("<U8"),
        )


def count_articles(articles: Sequence[tuple[int, str, str]]) -> TermVectors:
    """Term vectors of (article id, language, text as made by `article_text`) triples."""
    if not articles:
        return TermVectors.empty()
    counts = _counts((text, language) for _id, language, text in articles)
    return TermVectors(
        counts,
        np.asarray([a[0] for a in articles], np.int64),
        np.asarray([a[1] for a in articles], "<U8"),
    )


def write_terms(folder: Path, vectors: TermVectors, token: str | None = None) -> None:
    """Save atomically (one file); `token`: the change log's it goes with (None: none)."""
    with replacing(folder / TERMS_FILE) as fh:
        arrays = {
            "format": np.int64(FORMAT),
            "features": np.int64(FEATURES),
            "log": np.asarray(token or ""),
            **term_record(vectors),
        }
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def term_record(vectors: TermVectors) -> dict[str, np.ndarray]:
    """These counts as arrays of the term file or of a change log record."""
    counts = vectors.counts.tocsr()
    counts.sum_duplicates()
    return {
        "data": counts.data.astype(np.float32),
        "indices": counts.indices.astype(np.int32),
        "indptr": counts.indptr.astype(np.int64),
        "article_ids": vectors.article_ids.astype(np.int64),
        "languages": vectors.languages.astype("<U8"),
    }


def _from_change(stored: Mapping[str, np.ndarray]) -> TermVectors:
    ids = stored["article_ids"]
    counts = sp.csr_matrix(
        (stored["data"], stored["indices"], stored["indptr"]),
        shape=(len(ids), FEATURES),
        dtype=np.float32,
    )
    return TermVectors(counts, ids.astype(np.int64), stored["languages"].astype("<U8"))


def has_terms(folder: Path) -> bool:
    """Whether `folder` holds term vectors this code can read (else the index is rebuilt)."""
    main = read_main_terms(folder)
    return main is not None and main.rows is not None


def read_terms(folder: Path) -> TermVectors | None:
    """The term vectors in `folder` with the change log applied: the file read once per version,
    the log's new records applied as they come (None: none usable)."""
    return _live.current(folder)


def read_main_terms(folder: Path) -> Live[TermVectors] | None:
    """The term file's token and size (see changes.LiveRows.main; None: none)."""
    return _live.main(folder)


def _load(folder: Path) -> Main[TermVectors]:
    try:
        with np.load(folder / TERMS_FILE, allow_pickle=False) as stored:
            if int(stored["format"]) != FORMAT or int(stored["features"]) != FEATURES:
                return Main(None, None, 0)
            token = str(stored["log"]) if "log" in stored.files else ""
            vectors = _from_change({name: stored[name] for name in stored.files})
        return Main(vectors, token or None, (folder / TERMS_FILE).stat().st_size)
    except (OSError, ValueError, KeyError):
        return Main(None, None, 0)


_live = LiveRows("terms", (TERMS_FILE,), _load, _from_change)
