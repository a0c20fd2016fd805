"""Article vectors beside the Whoosh index: which articles mean what a query means.

Each article has several rows (its question, each approved phrasing, and its question with the
start of its answer), stored contiguously; an article's similarity to a query is a soft maximum
of its rows' similarities (see ROW_POOL_TEMPERATURE and `_best_rows`).
Files in a generation folder::

    vectors.npy    float16 matrix, one L2-normalised row per text
    vectors.json   the model's identity and, per article, its id, language, category, first row
    vector-keys.npy  per row, a 64-bit hash of the text as the model saw it: a rebuild embeds
                   only the texts the previous generation does not have (see `embed_articles`)

Written atomically (aside, then renamed) under the index's writer lock, whole by a rebuild and
by a merge of the change log; an article save appends its rows to the log instead
(faq.search.changes), and `read_vectors` gives these files with the log applied. Read once per
process and file version. A file made by another model is ignored (and reported by `model_id`,
so the index is rebuilt).
"""

from __future__ import annotations

import hashlib
import json
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faq.search.analysis import markdown_to_text
from faq.search.changes import Live, LiveRows, Main, Torn
from faq.search.embedding import Embedder, prepare
from support.core.atomic_files import replacing, write_atomically

MATRIX_FILE = "vectors.npy"
META_FILE = "vectors.json"
KEYS_FILE = "vector-keys.npy"


@dataclass(frozen=True)
class VectorFiles:
    """The three files of one model's vectors in a generation folder."""

    matrix: str
    meta: str
    keys: str

    @property
    def kind(self) -> str:
        """This model's name for its rows in the change log."""
        return Path(self.matrix).stem


# e5's rows for every article, and the second English model's for English articles (see
# faq.search.english_model).
PRIMARY = VectorFiles(MATRIX_FILE, META_FILE, KEYS_FILE)
ENGLISH = VectorFiles("vectors-en.npy", "vectors-en.json", "vector-keys-en.npy")
MAX_PHRASING_ROWS = 8
# The answer adds context ("Alipay", "Xinjiang"); its start is enough, and the embedder cuts
# the text to its budget anyway.
ANSWER_CHARS = 300
EMBED_BATCH = 32
# The second English model's rows (faq.search.english_model) also hold each paragraph of the
# answer alone, up to this many (twentieth session, docs/semantic-search.md, "Twentieth
# session"): a community thread's long answer says in its later paragraphs what a question may
# ask about, and MiniLM, trained on question-answer pairs, matches a question to such a passage.
MAX_PARAGRAPH_ROWS = 6
# An article's similarity: a soft maximum of its rows' similarities, T x log(mean(exp(s / T))):
# near the best row when one row stands out by much more than T, near the mean when the rows
# agree. The best row alone lets one loosely worded phrasing win a query by chance; a fixed
# mix of best and mean (best + 0.5 x mean, the earlier rule) lets an article's unrelated rows
# pull a clear match down. Dense R@1 on faq/eval/tune.csv: 0.852 en / 0.913 zh with the fixed mix,
# 0.869 / 0.913 at T = 0.02 (0.828 / 0.890 at 0.01, 0.861 / 0.921 at 0.03); fused 0.885 en (as
# before) / 0.961 zh (0.937 before). docs/semantic-search.md has the rest.
ROW_POOL_TEMPERATURE = 0.02
# Above this many rows a query first scores each article's centroid (one row per article, a
# third of the memory to read: the product is bound by memory bandwidth, 65 ms for 300,000
# rows here) and then only the best CANDIDATES articles' own rows; the average that
# similarities are measured against comes from AVERAGE_SAMPLE articles.
EXACT_ROWS = 60_000
CANDIDATES = 2_000
AVERAGE_SAMPLE = 4_000


@dataclass(frozen=True)
class ArticleTexts:
    """What is embedded for one article."""

    article_id: int
    language: str
    category_id: int
    question: str
    phrasings: Sequence[str]
    answer_md: str

    def rows(self) -> list[str]:
        answer = markdown_to_text(self.answer_md)[:ANSWER_CHARS]
        phrasings = [p for p in self.phrasings if p and p.strip()][:MAX_PHRASING_ROWS]
        return [self.question, *phrasings, f"{self.question}\n{answer}"]

    def english_rows(self) -> list[str]:
        """The second English model's rows: `rows` and each paragraph of the answer alone (see
        MAX_PARAGRAPH_ROWS)."""
        return [*self.rows(), *answer_paragraphs(self.answer_md)[:MAX_PARAGRAPH_ROWS]]


def answer_paragraphs(answer_md: str) -> list[str]:
    """The answer's paragraphs (its lines, as plain text; the whole answer when it has none)."""
    parts = [markdown_to_text(line).strip() for line in answer_md.split("\n")]
    return [p for p in parts if p] or [markdown_to_text(answer_md)]


@dataclass
class ArticleVectors:
    """All articles' rows and what each article is (numpy arrays, read-only once loaded)."""

    model_id: str
    matrix: np.ndarray  # (rows, dim) float32
    article_ids: np.ndarray  # (articles,) int64
    starts: np.ndarray  # (articles,) first row of each article
    languages: np.ndarray  # (articles,) str
    category_ids: np.ndarray  # (articles,) int64
    keys: np.ndarray | None = None  # (rows,) uint64, see row_key (None: not known)
    _centroids: np.ndarray | None = field(default=None, repr=False, compare=False)
    _positions: dict[int, int] | None = field(default=None, repr=False, compare=False)

    def position(self, article_id: int) -> int | None:
        """Where an article is in these vectors (None: not here)."""
        if self._positions is None:
            self._positions = {int(a): i for i, a in enumerate(self.article_ids.tolist())}
        return self._positions.get(article_id)

    @classmethod
    def empty(cls, model_id: str, dim: int) -> ArticleVectors:
        return cls(
            model_id,
            np.zeros((0, dim), np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, "<U8"),
            np.zeros(0, np.int64),
            np.zeros(0, np.uint64),
        )

    def __len__(self) -> int:
        return len(self.article_ids)

    def similarities(self, queries: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
        """How much closer each article is to the query than the average `allowed` article.

        Per query row (a sentence of a mail): an article's best cosine similarity minus the
        mean over the allowed articles; then the best row. Raw e5 similarities sit in a narrow
        band that shifts with the language and the sentence (a greeting is close to
        everything); the difference to the average says how specifically a sentence points at
        an article, which is what an offer needs.
        """
        return self.scores(queries, allowed)[0]

    def scores(
        self, queries: np.ndarray, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`similarities` and, per article, the cosine similarity itself (of the query row that
        gave its similarity). The offer's confidence reads both: the relative similarity grows
        with the FAQ's size (more unrelated articles lower the average), the cosine does not."""
        if not len(self):
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        queries = np.atleast_2d(queries).astype(np.float32)
        if len(self.matrix) <= EXACT_ROWS:
            per_article = self._best_rows(queries, None)
            pool = per_article if allowed is None or not allowed.any() else per_article[allowed]
            return _best_row(per_article, pool.mean(axis=0, keepdims=True))
        # Large: centroids pick the candidates, their own rows score them (see EXACT_ROWS).
        rough = (self.centroids() @ queries.T).max(axis=1)
        if allowed is not None:
            rough = np.where(allowed, rough, -np.inf)
        candidates = np.argpartition(-rough, CANDIDATES - 1)[:CANDIDATES]
        eligible = np.flatnonzero(allowed) if allowed is not None else np.arange(len(self))
        step = max(1, len(eligible) // AVERAGE_SAMPLE)
        average = self._best_rows(queries, eligible[::step]).mean(axis=0, keepdims=True)
        relative, cosine = _best_row(self._best_rows(queries, candidates), average)
        result = np.full(len(self), -1.0, np.float32)
        result[candidates] = relative
        raw = np.zeros(len(self), np.float32)
        raw[candidates] = cosine
        return result, raw

    def pooled(self, queries: np.ndarray, articles: np.ndarray) -> np.ndarray:
        """These articles' similarity to the query: the soft maximum over each article's rows
        (see ROW_POOL_TEMPERATURE), the best query row; raw, not relative to an average."""
        queries = np.atleast_2d(queries).astype(np.float32)
        return self._best_rows(queries, np.asarray(articles, np.int64)).max(axis=1)

    def _best_rows(self, queries: np.ndarray, articles: np.ndarray | None) -> np.ndarray:
        """These articles' (None: all) similarity per query row (articles x queries): a soft
        maximum of each article's rows (see ROW_POOL_TEMPERATURE)."""
        ends = np.append(self.starts[1:], len(self.matrix))
        if articles is None:
            rows, starts = self.matrix, self.starts
        else:
            lengths = ends[articles] - self.starts[articles]
            index = np.repeat(self.starts[articles] - np.cumsum(lengths) + lengths, lengths)
            index += np.arange(int(lengths.sum()))
            rows = self.matrix[index]
            starts = np.cumsum(lengths) - lengths
        # Queries x rows, so that each article's rows are contiguous for the sums. Rows and
        # queries are L2-normalised: a similarity is at most 1, exp(1 / T) fits in float32
        # (e^50 ~ 5e21), and the usual subtraction of the maximum is not needed.
        spread = queries @ rows.T
        np.multiply(spread, 1.0 / ROW_POOL_TEMPERATURE, out=spread)
        np.exp(spread, out=spread)
        sums = np.add.reduceat(spread, starts, axis=1)
        sums /= np.diff(np.append(starts, len(rows))).astype(np.float32)
        return (ROW_POOL_TEMPERATURE * np.log(sums)).T

    def centroids(self) -> np.ndarray:
        """One normalised mean row per article, made once per loaded file."""
        if self._centroids is None:
            sums = np.add.reduceat(self.matrix, self.starts, axis=0)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            self._centroids = (sums / np.maximum(norms, 1e-6)).astype(np.float32)
        return self._centroids

    def without(self, article_ids: set[int]) -> ArticleVectors:
        """These vectors less the given articles."""
        return self.replacing(article_ids, [])

    def plus(self, other: ArticleVectors) -> ArticleVectors:
        """These vectors followed by `other`'s (same model)."""
        return self.replacing(set(), [other])

    def replacing(self, article_ids: set[int], parts: Sequence[ArticleVectors]) -> ArticleVectors:
        """These vectors less the given articles, followed by `parts`' (same model): the rows
        are copied once, the kept ones in runs of neighbouring articles (a reader applies a
        change log to the main files this way after every save)."""
        keep = ~np.isin(self.article_ids, list(article_ids))
        if keep.all() and not parts:
            return self
        edges = np.flatnonzero(np.diff(np.concatenate(([0], keep.view(np.int8), [0]))))
        runs = [self._articles(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        if not runs and not parts:
            return ArticleVectors.empty(self.model_id, self.matrix.shape[1])
        return concatenate(self.model_id, [*runs, *parts])

    def only(self, article_id: int) -> ArticleVectors | None:
        """This article's rows alone (None: not here)."""
        position = self.position(article_id)
        return None if position is None else self._articles(position, position + 1)

    def _articles(self, first: int, end: int) -> ArticleVectors:
        """The articles from `first` to before `end`, sharing these arrays."""
        start = int(self.starts[first])
        stop = int(self.starts[end]) if end < len(self) else len(self.matrix)
        return ArticleVectors(
            self.model_id,
            self.matrix[start:stop],
            self.article_ids[first:end],
            self.starts[first:end] - start,
            self.languages[first:end],
            self.category_ids[first:end],
            self.keys[start:stop] if self.keys is not None else None,
        )

    def known_rows(self) -> dict[int, int]:
        """Row by key (see row_key), for reusing rows whose text is unchanged."""
        if self.keys is None:
            return {}
        return {int(key): row for row, key in enumerate(self.keys.tolist())}


def concatenate(model_id: str, parts: Sequence[ArticleVectors]) -> ArticleVectors:
    """One ArticleVectors of these parts in order (same model), copied once."""
    offsets = np.cumsum([0] + [len(part.matrix) for part in parts])[:-1]
    keys = [part.keys for part in parts]
    return ArticleVectors(
        model_id,
        np.concatenate([part.matrix for part in parts]),
        np.concatenate([part.article_ids for part in parts]),
        np.concatenate(
            [part.starts + offset for part, offset in zip(parts, offsets, strict=True)]
        ).astype(np.int64),
        np.concatenate([part.languages for part in parts]),
        np.concatenate([part.category_ids for part in parts]),
        None if any(k is None for k in keys) else np.concatenate(keys),  # type: ignore[arg-type]
    )


def row_key(text: str) -> int:
    """A row's key: a 64-bit hash of the text as the model sees it (see embedding.prepare), so
    that a change to the preparation changes the key."""
    digest = hashlib.blake2b(prepare(text).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def embed_articles(
    embedder: Embedder,
    articles: Sequence[ArticleTexts],
    reuse: ArticleVectors | None = None,
    texts_of: Callable[[ArticleTexts], list[str]] = ArticleTexts.rows,
) -> ArticleVectors:
    """Vectors of these articles, embedded in batches; rows whose text `reuse` (vectors of the
    same model, e.g. the previous generation's) already has are copied from it instead.
    `texts_of`: an article's texts to embed (e5's; the English model's are `english_rows`)."""
    texts: list[str] = []
    starts: list[int] = []
    for article in articles:
        starts.append(len(texts))
        texts.extend(texts_of(article))
    keys = np.asarray([row_key(text) for text in texts], np.uint64)
    matrix = np.zeros((len(texts), embedder.dim), np.float32)
    known = reuse.known_rows() if reuse is not None and reuse.model_id == embedder.model_id else {}
    todo = []
    for row, key in enumerate(keys.tolist()):
        found = known.get(key)
        if found is None:
            todo.append(row)
        else:
            matrix[row] = reuse.matrix[found]  # type: ignore[union-attr]
    for i in range(0, len(todo), EMBED_BATCH):
        rows = todo[i : i + EMBED_BATCH]
        matrix[rows] = embedder.passages([texts[row] for row in rows])
    return ArticleVectors(
        embedder.model_id,
        matrix,
        np.asarray([a.article_id for a in articles], np.int64),
        np.asarray(starts, np.int64),
        np.asarray([a.language for a in articles], "<U8"),
        np.asarray([a.category_id for a in articles], np.int64),
        keys,
    )


def write_vectors(
    folder: Path, vectors: ArticleVectors, files: VectorFiles = PRIMARY, token: str | None = None
) -> None:
    """Save atomically: the matrix first, then the description that names it; `token`: the
    change log's these files go with (None: none, a log is then not applied to them)."""
    keys_file = folder / files.keys
    matrix = vectors.matrix.astype(np.float16)
    keys = None
    if vectors.keys is not None and len(vectors.keys) == len(vectors.matrix):
        keys = vectors.keys.astype(np.uint64)
        # Read only by writers, under the same lock; cheap to make again.
        with replacing(keys_file, durable=False) as fh:
            np.save(fh, keys)
    else:
        keys_file.unlink(missing_ok=True)
    meta = {
        "model_id": vectors.model_id,
        "rows": len(vectors.matrix),
        # The description names the matrix and the keys it describes by their checksums, so a
        # reader that sees the new matrix with the old description (until the second file is
        # replaced) ignores the pair until both are new.
        "matrix_crc": _crc(matrix),
        "keys_crc": _crc(keys) if keys is not None else None,
        "log": token,
        "article_ids": vectors.article_ids.tolist(),
        "starts": vectors.starts.tolist(),
        "languages": vectors.languages.tolist(),
        "category_ids": vectors.category_ids.tolist(),
    }
    with replacing(folder / files.matrix) as fh:
        np.save(fh, matrix)
    write_atomically(folder / files.meta, json.dumps(meta).encode("utf-8"))


def vector_record(vectors: ArticleVectors) -> dict[str, np.ndarray]:
    """These vectors as arrays of a change log record (rows in float16, as the matrix file)."""
    return {
        "model_id": np.asarray(vectors.model_id),
        "matrix": vectors.matrix.astype(np.float16),
        "article_ids": vectors.article_ids.astype(np.int64),
        "starts": vectors.starts.astype(np.int64),
        "languages": vectors.languages.astype("<U8"),
        "category_ids": vectors.category_ids.astype(np.int64),
        **({"keys": vectors.keys.astype(np.uint64)} if vectors.keys is not None else {}),
    }


def _from_change(rows: Mapping[str, np.ndarray]) -> ArticleVectors:
    return ArticleVectors(
        str(rows["model_id"]),
        rows["matrix"].astype(np.float32),
        rows["article_ids"],
        rows["starts"],
        rows["languages"],
        rows["category_ids"],
        rows.get("keys"),
    )


def stored_model_id(folder: Path, files: VectorFiles = PRIMARY) -> str | None:
    """The model that made the vectors in `folder` (None: none stored)."""
    try:
        meta = json.loads((folder / files.meta).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta.get("model_id") if isinstance(meta, dict) else None


def read_vectors(folder: Path, files: VectorFiles = PRIMARY) -> ArticleVectors | None:
    """The vectors in `folder` with the change log applied: the main files read once per version
    of them, the log's new records applied as they come (None: none usable)."""
    return _live(files).current(folder)


def read_main_vectors(folder: Path, files: VectorFiles = PRIMARY) -> Live[ArticleVectors] | None:
    """The main files' token and size (see changes.LiveRows.main; None: none)."""
    return _live(files).main(folder)


def latest_rows(folder: Path, files: VectorFiles, article_id: int) -> ArticleVectors | None:
    """One article's rows in `folder` as `read_vectors` has them, without applying the whole
    log (None: not there)."""
    found = _live(files).latest(folder, article_id)
    return found.only(article_id) if found is not None else None


_lives: dict[VectorFiles, LiveRows[ArticleVectors]] = {}
_lives_lock = threading.Lock()


def _live(files: VectorFiles) -> LiveRows[ArticleVectors]:
    with _lives_lock:
        found = _lives.get(files)
        if found is None:
            found = _lives[files] = LiveRows(
                files.kind, (files.matrix, files.meta), lambda f: _load(f, files), _from_change
            )
        return found


def _load(folder: Path, files: VectorFiles) -> Main[ArticleVectors]:
    """The main files' vectors (rows None: unreadable); raises Torn when the matrix and
    its description do not match."""
    try:
        meta = json.loads((folder / files.meta).read_text(encoding="utf-8"))
        matrix = np.load(folder / files.matrix, allow_pickle=False)
    except (OSError, ValueError):
        return Main(None, None, 0)
    crc = meta.get("matrix_crc")
    if len(matrix) != meta.get("rows") or (crc is not None and crc != _crc(matrix)):
        raise Torn(folder / files.matrix)
    try:
        keys: np.ndarray | None = np.load(folder / files.keys, allow_pickle=False)
    except (OSError, ValueError):
        keys = None
    if keys is not None and (
        keys.dtype != np.uint64
        or keys.shape != (len(matrix),)
        or meta.get("keys_crc", _crc(keys)) != _crc(keys)
    ):
        keys = None
    vectors = ArticleVectors(
        str(meta["model_id"]),
        matrix.astype(np.float32),
        np.asarray(meta["article_ids"], np.int64),
        np.asarray(meta["starts"], np.int64),
        np.asarray(meta["languages"], "<U8"),
        np.asarray(meta["category_ids"], np.int64),
        keys,
    )
    _freeze(vectors)
    token = meta.get("log")
    return Main(vectors, token if isinstance(token, str) else None, matrix.nbytes)


def _crc(array: np.ndarray) -> int:
    """CRC-32 of an array's bytes (names a matrix in its description: see write_vectors)."""
    return zlib.crc32(np.ascontiguousarray(array).view(np.uint8).data)


def _freeze(vectors: ArticleVectors) -> None:
    for array in (
        vectors.matrix,
        vectors.article_ids,
        vectors.starts,
        vectors.languages,
        vectors.category_ids,
    ):
        array.setflags(write=False)


def _best_row(per_article: np.ndarray, average: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per article (rows of `per_article`, one column per query row): its best similarity
    relative to the query row's `average`, and the cosine of that same query row."""
    relative = per_article - average
    if per_article.shape[1] == 1:  # a typed question: one row
        return relative[:, 0], per_article[:, 0]
    best = relative.argmax(axis=1)[:, None]
    return (
        np.take_along_axis(relative, best, axis=1)[:, 0],
        np.take_along_axis(per_article, best, axis=1)[:, 0],
    )
