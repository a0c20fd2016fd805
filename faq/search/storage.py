"""Index storage: the Whoosh schema and the index folder (generations, pointer, lock).

Layout of an index folder::

    <path>/CURRENT       JSON: which generation folder is live and its schema version
    <path>/write.lock    fcntl lock: one writer at a time across processes
    <path>/gen-.../      a complete Whoosh index (and its vectors and term counts)
    <path>/gen-.../changes.log  the saves since the vectors and term counts were written
                         (faq.search.changes)
    <path>/gen-.../SYNCED  JSON: the database's FAQ generation this index has applied

`rebuild()` builds a new generation beside the live one and then replaces CURRENT atomically,
so a reader sees either the old index or the new one, never a half-built one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index
from whoosh.fields import ID, STORED, TEXT, Schema

from faq.search.analysis import ANALYZER, CHAR_ANALYZER, SPELLING_ANALYZER, markdown_to_text
from faq.search.changes import Change, append_change, merge_due, new_token, read_log, start_log
from faq.search.embedding import Embedder
from faq.search.english_model import LANGUAGE as ENGLISH_LANGUAGE
from faq.search.ranking import Ranking
from faq.search.terms import (
    TermVectors,
    article_text,
    count_articles,
    has_terms,
    read_main_terms,
    read_terms,
    term_record,
    write_terms,
)
from faq.search.vectors import (
    ENGLISH,
    PRIMARY,
    ArticleTexts,
    ArticleVectors,
    VectorFiles,
    concatenate,
    embed_articles,
    latest_rows,
    read_main_vectors,
    read_vectors,
    stored_model_id,
    vector_record,
    write_vectors,
)
from support.core.atomic_files import sync_folder, write_atomically

try:  # POSIX; elsewhere Whoosh's own writer lock (with retries) is the only guard.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

# Bump whenever the schema, the analysis or the stored fields change: an index built by another
# version is then reported by needs_rebuild() instead of silently answering badly.
# 3: Chinese analysis moved to support.core.text (帳 -> 账, one CJK range, one jieba).
# 4: Taiwan's words read as the mainland's (保固 -> 保修, support.core.text.to_simplified).
# 5: more of Taiwan's words read as the mainland's (支援 -> 支持, 範本 -> 模板, 字元 -> 字符 ...).
# 6: Hong Kong's warranty read as the mainland's where it is one (保養期 -> 保修期, not 保養方法).
# 7: written Cantonese read as Mandarin (收唔到貨 -> 收不到货, support.core.text.search_simplified).
SCHEMA_VERSION = 7

CURRENT_FILE = "CURRENT"
SYNCED_FILE = "SYNCED"
LOCK_FILE = "write.lock"
GENERATION_PREFIX = "gen-"


# Index-time boosts (multiply term frequency) and query-time weights (multiply the score),
# tuned on demo_eval.csv (see tests/faq/test_search.py for the measured floor). Boosting
# questions 3x and phrasings 2x at index and query time measured MRR@10 0.76 against 0.85 for
# these milder weights (with BM25 K1 3.0, B 0.75): a question word already scores far above
# the same word in a long answer through BM25's length normalisation, and answers hold the
# concrete words customers use ("Alipay", "Xinjiang"). Kept in the schema so they can be tuned.
FIELD_BOOSTS = {"question": 1.0, "phrasings": 1.0}
QUERY_WEIGHTS = {"question": 1.5, "phrasings": 1.25, "answer": 1.0}
CHARS_WEIGHT = 1.2
VECTOR_BATCH = 16  # articles embedded at once while rebuilding (progress is told after each)


def _schema() -> Schema:
    return Schema(
        article_id=ID(stored=True, unique=True),
        slug=ID(stored=True),
        language=ID(stored=True),
        category_id=ID(stored=True),
        category_name=STORED(),
        question=TEXT(analyzer=ANALYZER, phrase=False, field_boost=FIELD_BOOSTS["question"]),
        phrasings=TEXT(analyzer=ANALYZER, phrase=False, field_boost=FIELD_BOOSTS["phrasings"]),
        answer=TEXT(analyzer=ANALYZER, phrase=False, stored=True),
        # Chinese characters of the question and phrasings, a fallback for segmentation misses.
        question_chars=TEXT(analyzer=CHAR_ANALYZER, phrase=False),
        question_stored=STORED(),
        phrasings_stored=STORED(),
        spelling=TEXT(analyzer=SPELLING_ANALYZER, phrase=False, spelling=True),
    )


@dataclass(frozen=True)
class ArticleDoc:
    """What the index needs to know about one published article."""

    article_id: int
    slug: str
    language: str
    category_id: int
    category_name: str
    question: str
    answer: str  # Markdown
    phrasings: list[str] = field(default_factory=list)


class SearchIndexBusy(TimeoutError):
    """Another process held the write lock for longer than the caller was willing to wait."""


@dataclass
class _Reader:
    generation: str | None = None
    index: index.Index | None = None
    searcher: Any = None  # whoosh.searching.Searcher (Whoosh has no type information)
    ranking: Ranking | None = None  # a ranking.Ranking on `searcher`, made by the first search


class IndexStorage:
    """One FAQ search index on disk, shared by every process that opens the same path.

    Writing, and this thread's Whoosh searcher on the live generation; searching is
    `faq.search.engine.SearchIndex`, built on this.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        lock_timeout: float = 30.0,
        embedder: Embedder | None = None,
        english: Embedder | None = None,
    ) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.embedder = embedder  # None: BM25 alone, no vectors written or read
        # The second model of English articles (faq.search.english_model), only beside e5.
        self.english = english if embedder is not None else None
        self._local = threading.local()
        self._pointer_cache: tuple[tuple[int, int, int], dict] | None = None

    # -- state --------------------------------------------------------------------------------

    def needs_rebuild(self) -> bool:
        """True when there is no usable index or it was built by another SCHEMA_VERSION."""
        pointer = self._read_pointer()
        if pointer is None or pointer.get("schema_version") != SCHEMA_VERSION:
            return True
        if self.embedder is not None and (
            stored_model_id(self.path / pointer["generation"]) != self.embedder.model_id
        ):
            return True  # no vectors yet, or made by another model
        if self.english is not None and (
            stored_model_id(self.path / pointer["generation"], ENGLISH) != self.english.model_id
        ):
            return True  # the English model was installed since (e5's rows are reused)
        if self.embedder is not None and not has_terms(self.path / pointer["generation"]):
            return True  # no term vectors yet (an index built before them), or another format
        try:
            ix = index.open_dir(str(self.path / pointer["generation"]))
            ix.close()
        except Exception:
            logger.warning("search index at %s is unreadable", self.path, exc_info=True)
            return True
        return False

    def doc_count(self) -> int:
        searcher = self._searcher()
        return searcher.doc_count() if searcher is not None else 0

    # -- writing ------------------------------------------------------------------------------

    def rebuild(
        self,
        docs: Iterable[ArticleDoc],
        *,
        progress: Callable[[int], None] | None = None,
        synced: int | None = None,
    ) -> int:
        """Index `docs` into a new generation and make it live atomically; returns the count.

        `progress` is told how many articles were added since its last call; `synced` is the
        database's FAQ generation the docs were read at (see synced_generation).
        """
        started = time.perf_counter()
        seen = self._read_pointer(use_cache=False)
        with self._write_lock():
            previous = self._read_pointer(use_cache=False)
            if self._rebuilt_meanwhile(seen, previous, synced):
                logger.info(
                    "search index rebuilt by another process of this host meanwhile (%s)",
                    previous["generation"] if previous else "?",
                )
                return self.doc_count()
            generation = (
                f"{GENERATION_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
            )
            folder = self.path / generation
            folder.mkdir()
            try:
                ix = index.create_in(str(folder), _schema())
                writer = ix.writer(limitmb=128)
                count = 0
                # The previous generation's rows are reused for texts that did not change: a
                # rebuild embeds only new and edited articles (see embed_articles).
                reuse = self.vectors()
                reuse_english = self.english_vectors()
                parts: list[ArticleVectors] | None = (
                    [ArticleVectors.empty(self.embedder.model_id, self.embedder.dim)]
                    if self.embedder is not None
                    else None
                )
                english_parts: list[ArticleVectors] = (
                    [ArticleVectors.empty(self.english.model_id, self.english.dim)]
                    if self.english is not None
                    else []
                )
                batch: list[ArticleTexts] = []
                words: list[tuple[int, str, str]] = []

                def embed_batch() -> None:
                    assert parts is not None
                    parts.append(self._embed(batch, reuse))
                    english = self._embed_english(batch, reuse_english)
                    if english is not None:
                        english_parts.append(english)
                    if progress is not None:
                        progress(len(batch))

                try:
                    for doc in docs:
                        writer.add_document(**_fields(doc))
                        count += 1
                        if parts is None:
                            if progress is not None:
                                progress(1)
                            continue
                        batch.append(_texts(doc))
                        words.append(_words(doc))
                        if len(batch) >= VECTOR_BATCH:
                            embed_batch()
                            batch = []
                    if parts is not None and batch:
                        embed_batch()
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
                ix.close()
                if parts is not None:
                    token = new_token()
                    write_vectors(folder, concatenate(parts[0].model_id, parts), token=token)
                    if english_parts:
                        english = concatenate(english_parts[0].model_id, english_parts)
                        write_vectors(folder, english, ENGLISH, token)
                    write_terms(folder, count_articles(words), token)
                    start_log(folder, token)
                if synced is not None:
                    _write_json(folder / SYNCED_FILE, {"generation": synced})
                _fsync_tree(folder)
                self._write_pointer(generation)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            keep = {generation, previous["generation"] if previous else ""}
            self._remove_generations(keep)
        logger.info(
            "search index rebuilt: %d articles in %.1fs (%s)",
            count,
            time.perf_counter() - started,
            generation,
        )
        return count

    def _rebuilt_meanwhile(self, seen: dict | None, live: dict | None, synced: int | None) -> bool:
        """Whether another process of this host made a new generation, from the database's
        generation `synced` or a later one, while this one waited for the write lock (a
        `support faq import` or `faq reindex` beside the portal's own catch-up): rebuilding
        again would only repeat it (it did, for 23 s, once the command was done)."""
        if synced is None or live is None or seen == live:
            return False
        applied = self.synced_generation()
        return applied is not None and applied >= synced

    def synced_generation(self) -> int | None:
        """The database's FAQ generation the live index has applied (None: unknown, an index
        built before the change log or by hand: rebuild it)."""
        pointer = self._read_pointer()
        if pointer is None:
            return None
        try:
            value = json.loads((self.path / pointer["generation"] / SYNCED_FILE).read_text())
        except (OSError, ValueError):
            return None
        generation = value.get("generation") if isinstance(value, dict) else None
        return generation if isinstance(generation, int) else None

    def mark_synced(self, generation: int, *, after: int | None = None) -> bool:
        """Record that the live index has applied ``generation``; with ``after``, only when it
        had applied exactly that one before (a change applied here, not a gap skipped)."""
        with self._write_lock():
            pointer = self._read_pointer(use_cache=False)
            if pointer is None:
                return False
            current = self.synced_generation()
            if (after is not None and current != after) or (
                current is not None and current >= generation
            ):
                return False
            _write_json(self.path / pointer["generation"] / SYNCED_FILE, {"generation": generation})
            return True

    def upsert(self, doc: ArticleDoc) -> None:
        """Add or replace one article; other processes see it after the commit."""
        # Rows whose text did not change are the article's own (see embed_articles), looked up
        # without applying the whole change log.
        added = (
            self._embed([_texts(doc)], self._latest_rows(doc.article_id, PRIMARY))
            if self.embedder is not None
            else None
        )
        words = count_articles([_words(doc)]) if self.embedder is not None else None
        english = self._embed_english(
            [_texts(doc)], self._latest_rows(doc.article_id, ENGLISH, self.english)
        )
        with self._write_lock(), self._writer() as writer:
            if writer is not None:
                writer.update_document(**_fields(doc))
                self._change_live_vectors({doc.article_id}, added, english, words)

    def delete(self, article_id: int) -> None:
        with self._write_lock(), self._writer() as writer:
            if writer is not None:
                writer.delete_by_term("article_id", str(article_id))
                self._change_live_vectors({article_id}, None, None, None)

    def _embed(
        self, batch: list[ArticleTexts], reuse: ArticleVectors | None = None
    ) -> ArticleVectors:
        assert self.embedder is not None
        return embed_articles(self.embedder, batch, reuse)

    def _embed_english(
        self, batch: list[ArticleTexts], reuse: ArticleVectors | None
    ) -> ArticleVectors | None:
        """The English model's vectors of the batch's English articles (None without it)."""
        if self.english is None:
            return None
        english = [texts for texts in batch if texts.language == ENGLISH_LANGUAGE]
        return embed_articles(self.english, english, reuse, ArticleTexts.english_rows)

    def _change_live_vectors(
        self,
        removed: set[int],
        added: ArticleVectors | None,
        english: ArticleVectors | None,
        words: TermVectors | None,
    ) -> None:
        """Replace these articles' vectors (of both models) and term vectors in the live
        generation (under the writer lock): one record appended to its change log, or, when
        the log is due a merge or a kind of rows has no main file of this model and the log's
        token, all main files written anew (see faq.search.changes)."""
        if self.embedder is None and self.english is None:
            return
        pointer = self._read_pointer(use_cache=False)
        if pointer is None:
            return
        folder = self.path / pointer["generation"]
        assert self.embedder is not None  # no English model without e5
        log = read_log(folder)
        primary = read_main_vectors(folder, PRIMARY)
        counted = read_main_terms(folder)
        english_main = read_main_vectors(folder, ENGLISH) if self.english is not None else None
        tokens = [
            primary.token if primary and _made_by(primary.rows, self.embedder) else 0,
            counted.token if counted is not None and counted.rows is not None else 0,
        ]
        if self.english is not None:
            usable = english_main is not None and _made_by(english_main.rows, self.english)
            tokens.append(english_main.token if english_main and usable else 0)
        main_bytes = sum(main.size for main in (primary, counted, english_main) if main)
        if log is None or any(token != log.token for token in tokens) or merge_due(log, main_bytes):
            self._merge(folder, removed, added, english, words)
            return
        rows = {
            PRIMARY.kind: vector_record(
                added or ArticleVectors.empty(self.embedder.model_id, self.embedder.dim)
            ),
            "terms": term_record(words or TermVectors.empty()),
        }
        if self.english is not None:
            empty = ArticleVectors.empty(self.english.model_id, self.english.dim)
            rows[ENGLISH.kind] = vector_record(english or empty)
        ids = {int(a) for part in (added, english, words) if part for a in part.article_ids}
        append_change(folder, log, Change(frozenset(removed | ids), rows))

    def _merge(
        self,
        folder: Path,
        removed: set[int],
        added: ArticleVectors | None,
        english: ArticleVectors | None,
        words: TermVectors | None,
    ) -> None:
        """Write the main files anew with the change log and this change applied, then start
        an empty log (a new token: see faq.search.changes)."""
        assert self.embedder is not None
        token = new_token()
        before = self._replace_rows(folder, self.embedder, PRIMARY, removed, added, token)
        counted = read_terms(folder)
        # None beside articles: built before term vectors; the pending rebuild makes them.
        if counted is not None or not len(before):
            counted = (counted or TermVectors.empty()).without(removed)
            counted = counted.plus(words) if words is not None else counted
            write_terms(folder, counted, token)
        if self.english is not None:
            others = read_vectors(folder)
            # Built without the English model: the pending rebuild embeds them all.
            rebuild_pending = others is not None and len(others) > 0
            self._replace_rows(
                folder, self.english, ENGLISH, removed, english, token, rebuild_pending
            )
        else:  # another process's English rows, kept as they are
            found = read_vectors(folder, ENGLISH)
            if found is not None:
                write_vectors(folder, found, ENGLISH, token)
        start_log(folder, token)

    @staticmethod
    def _replace_rows(
        folder: Path,
        model: Embedder,
        files: VectorFiles,
        removed: set[int],
        added: ArticleVectors | None,
        token: str,
        rebuild_pending: bool = False,
    ) -> ArticleVectors:
        """Write `folder`'s vectors of `model` without the `removed` articles' rows and with
        the `added` ones; returns the rows before. Without usable vectors there: start from
        none, or leave them to the pending rebuild."""
        current = read_vectors(folder, files)
        if current is None or current.model_id != model.model_id:
            current = ArticleVectors.empty(model.model_id, model.dim)
            if rebuild_pending:
                return current
        changed = current.without(removed)
        if added is not None:
            changed = changed.plus(added)
        write_vectors(folder, changed, files, token)
        return current

    def _latest_rows(
        self, article_id: int, files: VectorFiles, model: Embedder | None = None
    ) -> ArticleVectors | None:
        """The live generation's rows of this article by this index's model (`model`: another
        one's; None: none)."""
        model = model or self.embedder
        pointer = self._read_pointer()
        if model is None or pointer is None:
            return None
        found = latest_rows(self.path / pointer["generation"], files, article_id)
        return found if found is not None and found.model_id == model.model_id else None

    def vectors(self) -> ArticleVectors | None:
        """The live generation's article vectors made by this index's model (None: none)."""
        return self._live_vectors(self.embedder)

    def english_vectors(self) -> ArticleVectors | None:
        """The live generation's English articles' vectors made by the English model (None:
        none, or no English model)."""
        return self._live_vectors(self.english, ENGLISH)

    def _live_vectors(self, model: Embedder | None, *files: VectorFiles) -> ArticleVectors | None:
        if model is None:
            return None
        pointer = self._read_pointer()
        if pointer is None:
            return None
        found = read_vectors(self.path / pointer["generation"], *files)
        if found is None or found.model_id != model.model_id:
            return None
        return found

    def term_vectors(self) -> TermVectors | None:
        """The live generation's term vectors (None: none, or no model: they serve the fusion
        with the semantic ranking only)."""
        if self.embedder is None:
            return None
        pointer = self._read_pointer()
        if pointer is None:
            return None
        return read_terms(self.path / pointer["generation"])

    @contextlib.contextmanager
    def _writer(self) -> Iterator[Any]:
        pointer = self._read_pointer(use_cache=False)
        if pointer is None:
            self._create_empty_generation()
            pointer = self._read_pointer(use_cache=False)
        if pointer is None or pointer.get("schema_version") != SCHEMA_VERSION:
            # The pending rebuild will index this article from the database.
            logger.warning("search index at %s needs a rebuild; change not indexed", self.path)
            yield None
            return
        ix = index.open_dir(str(self.path / pointer["generation"]))
        writer = ix.writer(timeout=self.lock_timeout, delay=0.05)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        else:
            writer.commit()
        finally:
            ix.close()

    def _create_empty_generation(self) -> None:
        generation = f"{GENERATION_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%f}-empty"
        folder = self.path / generation
        folder.mkdir()
        index.create_in(str(folder), _schema()).close()
        self._write_pointer(generation)

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """Serialise writers across processes and threads (flock is per open file)."""
        self.path.mkdir(parents=True, exist_ok=True)
        if fcntl is None:  # pragma: no cover
            yield
            return
        with open(self.path / LOCK_FILE, "a+b") as lock_file:
            deadline = time.monotonic() + self.lock_timeout
            delay = 0.005
            while True:
                try:
                    fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise SearchIndexBusy(
                            f"search index {self.path} is locked by another writer"
                        ) from exc
                    time.sleep(delay)
                    delay = min(delay * 2, 0.25)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)

    def _write_pointer(self, generation: str) -> None:
        payload = {
            "generation": generation,
            "schema_version": SCHEMA_VERSION,
            "built_at": datetime.now(UTC).isoformat(),
        }
        _write_json(self.path / CURRENT_FILE, payload)
        self._pointer_cache = None

    def _read_pointer(self, use_cache: bool = True) -> dict | None:
        """The live generation, re-read only when the CURRENT file was replaced."""
        current = self.path / CURRENT_FILE
        try:
            st = os.stat(current)
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if use_cache and self._pointer_cache and self._pointer_cache[0] == key:
            return self._pointer_cache[1]
        try:
            pointer = json.loads(current.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(pointer, dict) or not isinstance(pointer.get("generation"), str):
            return None
        self._pointer_cache = (key, pointer)
        return pointer

    def _remove_generations(self, keep: set[str]) -> None:
        # The previous generation is kept: another process may have read CURRENT a moment ago.
        for child in self.path.iterdir():
            if (
                child.is_dir()
                and child.name.startswith(GENERATION_PREFIX)
                and child.name not in keep
            ):
                shutil.rmtree(child, ignore_errors=True)

    # -- reading ------------------------------------------------------------------------------

    def _searcher(self):
        """This thread's searcher on the live generation, refreshed if a writer committed."""
        reader: _Reader = getattr(self._local, "reader", None) or _Reader()
        self._local.reader = reader
        for attempt in range(2):
            # Second attempt: a rebuild swapped generations between reading CURRENT and opening.
            pointer = self._read_pointer(use_cache=attempt == 0)
            if pointer is None or pointer.get("schema_version") != SCHEMA_VERSION:
                self._close_reader(reader)
                return None
            generation = pointer["generation"]
            try:
                if reader.generation != generation or reader.searcher is None:
                    self._close_reader(reader)
                    reader.index = index.open_dir(str(self.path / generation))
                    reader.searcher = reader.index.searcher()
                    reader.generation = generation
                elif (opened := reader.index) is not None and (
                    opened.latest_generation() != reader.searcher.reader().generation()
                ):
                    # A writer committed. Whoosh's searcher.refresh() would reuse segment
                    # readers that do not know about new deletions, so open afresh.
                    stale, reader.searcher = reader.searcher, opened.searcher()
                    stale.close()
                return reader.searcher
            except Exception:
                self._close_reader(reader)
                if attempt:
                    logger.exception("cannot open search index %s", self.path / generation)
        return None

    @staticmethod
    def _close_reader(reader: _Reader) -> None:
        if reader.searcher is not None:
            with contextlib.suppress(Exception):
                reader.searcher.close()
        if reader.index is not None:
            with contextlib.suppress(Exception):
                reader.index.close()
        reader.generation = reader.index = reader.searcher = reader.ranking = None

    def close(self) -> None:
        """Close this thread's open files (tests and tidy shutdowns)."""
        reader = getattr(self._local, "reader", None)
        if reader is not None:
            self._close_reader(reader)


def _made_by(vectors: ArticleVectors | None, model: Embedder) -> bool:
    return vectors is not None and vectors.model_id == model.model_id


def _fields(doc: ArticleDoc) -> dict[str, str | list[str]]:
    phrasings = "\n".join(p for p in doc.phrasings if p and p.strip())
    return {
        "article_id": str(doc.article_id),
        "slug": doc.slug,
        "language": doc.language,
        "category_id": str(doc.category_id),
        "category_name": doc.category_name,
        "question": doc.question,
        "phrasings": phrasings,
        "answer": markdown_to_text(doc.answer),
        "question_chars": f"{doc.question}\n{phrasings}",
        "question_stored": doc.question,
        "phrasings_stored": [p for p in doc.phrasings if p and p.strip()],
        "spelling": f"{doc.question}\n{phrasings}",
    }


def _texts(doc: ArticleDoc) -> ArticleTexts:
    return ArticleTexts(
        doc.article_id, doc.language, doc.category_id, doc.question, doc.phrasings, doc.answer
    )


def _words(doc: ArticleDoc) -> tuple[int, str, str]:
    return doc.article_id, doc.language, article_text(doc.question, doc.phrasings, doc.answer)


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Replace ``path`` atomically."""
    write_atomically(path, json.dumps(payload).encode("utf-8"))


def _fsync_tree(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_file():
            with contextlib.suppress(OSError), open(child, "rb") as fh:
                os.fsync(fh.fileno())
    sync_folder(folder)
