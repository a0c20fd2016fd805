"""Bilingual (Chinese/English) full-text search over FAQ articles.

This is the only module that knows about Whoosh, so the search engine can be replaced in one
place. Callers pass and receive plain dataclasses.

Layout of an index folder::

    <path>/CURRENT       JSON: which generation folder is live and its schema version
    <path>/write.lock    fcntl lock: one writer at a time across processes
    <path>/gen-.../      a complete Whoosh index

`rebuild()` builds a new generation beside the live one and then replaces CURRENT atomically,
so a reader sees either the old index or the new one, never a half-built one.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import html
import itertools
import json
import logging
import math
import os
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import jieba
import numpy as np
from opencc import OpenCC
from whoosh import index
from whoosh.analysis import LowercaseFilter, StemFilter, StopFilter, Token, Tokenizer
from whoosh.analysis.filters import STOP_WORDS
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.lang.porter import stem

try:  # POSIX; elsewhere Whoosh's own writer lock (with retries) is the only guard.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

# Bump whenever the schema, the analysis or the stored fields change: an index built by another
# version is then reported by needs_rebuild() instead of silently answering badly.
SCHEMA_VERSION = 2

CURRENT_FILE = "CURRENT"
LOCK_FILE = "write.lock"
GENERATION_PREFIX = "gen-"

MAX_QUERY_CHARS = 500  # customers paste whole emails; the first lines carry the question
MAX_QUERY_TERMS = 40
SNIPPET_CHARS = 180
FEW_RESULTS = 3  # fewer hits than this count as poor results for "did you mean"

# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_CJK_RUN_RE = re.compile(f"[{_CJK}]+")
_RUN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*)")
# Full-width ASCII (ｉｐｈｏｎｅ，１２３) typed with a Chinese IME -> ASCII, one char for one char.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

ENGLISH_STOP_WORDS = STOP_WORDS | {
    "i", "me", "my", "mine", "myself", "our", "ours", "you're", "he", "she", "they", "them",
    "their", "his", "her", "its", "it's", "i'm", "i've", "i'd", "i'll", "do", "does", "did",
    "done", "doing", "don't", "doesn't", "didn't", "can't", "cannot", "won't", "isn't", "aren't",
    "wasn't", "was", "were", "been", "being", "am", "has", "had", "having", "how", "what",
    "what's", "which", "who", "whom", "where", "why", "there", "here", "then", "than", "so",
    "just", "about", "any", "some", "all", "please", "pls", "plz", "hi", "hello", "hey",
    "thanks", "thank", "thx", "would", "could", "should", "shall", "might", "must", "get",
    "got", "also", "still", "very", "really", "much", "many", "ok", "okay", "need", "want",
    "know", "tell", "there's", "into", "out", "up", "down", "over", "again", "only", "own",
    "same", "too", "other", "such", "these", "those", "because", "while", "per",
}  # fmt: skip

# Function words and question scaffolding that carry no topic; "多久", "多少", "哪里" do and stay.
CHINESE_STOP_WORDS = frozenset(
    """
    的 地 得 了 着 过 吗 嘛 呢 吧 啊 呀 哦 喔 哈 嗯 么 我 你 您 他 她 它 我们 你们 他们 她们 咱们
    是 在 有 没 和 与 及 或 或者 而 就 都 也 还 又 才 很 太 更 最 被 把 给 让 对 从 向 到底
    一下 一个 个 这 那 这个 那个 这些 那些 这样 那样 怎么 怎么样 怎样 如何 什么 甚么 啥 为什么
    为何 请问 请 问 问一下 想 想要 要 会 能 能够 可以 可 可不可以 能不能 是不是 有没有 应该 需要
    啦 一 哪 哪个 自己 已经 现在 如果 的话 因为 所以 但是 但 还是 然后 谢谢 你好 您好 麻烦 帮 帮忙
    """.split()
)

STOP_WORDS_ALL = frozenset(ENGLISH_STOP_WORDS | CHINESE_STOP_WORDS)
CHINESE_STOP_CHARS = frozenset(
    "的地得了着过吗嘛呢吧啊呀哦喔哈嗯么我你您他她它们是在有没和与及或而就都也还又才很太更最被把给让对从向"
    "一个这那些样怎如何什甚啥为请问想要会能够可以应该需自己已经因所但然谢麻烦帮忙哪儿"
)

_jieba_lock = threading.Lock()
_jieba: jieba.Tokenizer | None = None
_opencc = OpenCC("t2s")

# Words jieba's general dictionary splits in ways that hurt a shop's FAQ.
_DOMAIN_WORDS = (
    "退货", "退款", "换货", "运费", "包邮", "到货", "发货", "物流", "快递", "顺丰", "保修", "维修",
    "发票", "增值税", "专票", "普票", "优惠券", "优惠码", "折扣", "会员", "积分", "账号", "账户",
    "密码", "验证码", "收货地址", "订单号", "支付宝", "微信支付", "银联", "信用卡", "分期", "花呗",
    "价保", "保价", "差价", "缺货", "预售", "到货通知", "开箱", "破损", "无理由", "七天无理由",
    "以旧换新", "招聘", "实习", "门店", "客服", "工作日", "海外", "关税", "签收", "拒收", "自提",
)  # fmt: skip


def _segmenter() -> jieba.Tokenizer:
    """Our own jieba instance, loaded once per process, quietly and with the shop's words."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                jieba.setLogLevel(logging.WARNING)
                segmenter = jieba.Tokenizer()
                segmenter.initialize()
                for word in _DOMAIN_WORDS:
                    segmenter.add_word(word, freq=20000)
                _jieba = segmenter
    return _jieba


@functools.lru_cache(maxsize=65536)
def _to_simplified(run: str) -> str:
    """Traditional -> Simplified, one character for one character so offsets stay valid."""
    converted = _opencc.convert(run)
    if len(converted) == len(run):
        return converted
    chars = []
    for char in run:
        one = _opencc.convert(char)
        chars.append(one if len(one) == 1 else char)
    return "".join(chars)


@functools.lru_cache(maxsize=65536)
def _segment(run: str) -> tuple[tuple[str, int, int], ...]:
    return tuple(_segmenter().tokenize(run, mode="search"))


def _run_pieces(run: str, cjk: bool) -> tuple[tuple[str, int, int], ...]:
    """The words of one run of Chinese or one Latin word, with offsets within the run."""
    if cjk:
        return _segment(_to_simplified(run))
    word = run.replace("’", "'")
    if word.endswith("'s"):  # "company's" -> "company"
        word = word[:-2]
    if len(word) < 2 and not word.isdigit():
        return ()
    return ((word, 0, len(word)),)


class BilingualTokenizer(Tokenizer):
    """Splits text into Chinese runs (segmented by jieba) and Latin/digit words.

    Traditional characters are converted to Simplified first, so both find the same article.
    Chinese runs are segmented in jieba's search mode (long words plus their parts) for recall.
    Character offsets refer to the original text, which is what highlighting needs.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __call__(  # noqa: PLR0913 - Whoosh's tokenizer protocol
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in _RUN_RE.finditer(value.translate(_FULLWIDTH)):
            base = match.start()
            for text, start, end in _run_pieces(match.group(), match.lastgroup == "cjk"):
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = text
                if positions:
                    token.pos = pos
                    pos += 1
                if chars:
                    token.startchar = start_char + base + start
                    token.endchar = start_char + base + end
                yield token


class CjkCharTokenizer(Tokenizer):
    """Single Chinese characters (Simplified), for the low-weight fallback field.

    jieba and the customer do not always agree on word boundaries (保固/保修, 删号/注销账号);
    shared characters still connect them, weakly.
    """

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        pos = start_pos
        for match in _CJK_RUN_RE.finditer(value):
            run = _to_simplified(match.group())
            for offset, char in enumerate(run):
                if char in CHINESE_STOP_CHARS:
                    continue
                token.text = char
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = char
                if positions:
                    token.pos = pos
                    pos += 1
                if chars:
                    token.startchar = start_char + match.start() + offset
                    token.endchar = token.startchar + 1
                yield token


def _build_analyzer(stemming: bool):  # noqa: ANN202 - a Whoosh composed analyzer
    chain = BilingualTokenizer() | LowercaseFilter() | StopFilter(STOP_WORDS_ALL, minsize=1)
    return chain | StemFilter() if stemming else chain


# Porter leaves CJK tokens unchanged, so one chain serves both languages.
ANALYZER = _build_analyzer(stemming=True)
# Unstemmed words for "did you mean": suggesting "deliveri" to a customer would look broken.
SPELLING_ANALYZER = _build_analyzer(stemming=False)
CHAR_ANALYZER = CjkCharTokenizer()

# Index-time boosts (multiply term frequency) and query-time weights (multiply the score),
# tuned on demo_eval.csv (see tests/faq/test_search.py for the measured floor). Boosting
# questions 3x and phrasings 2x at index and query time measured MRR@10 0.76 against 0.85 for
# these milder weights (with BM25 K1 3.0, B 0.75): a question word already scores far above
# the same word in a long answer through BM25's length normalisation, and answers hold the
# concrete words customers use ("Alipay", "Xinjiang"). Kept in the schema so they can be tuned.
FIELD_BOOSTS = {"question": 1.0, "phrasings": 1.0}
QUERY_WEIGHTS = {"question": 1.5, "phrasings": 1.25, "answer": 1.0}
CHARS_WEIGHT = 1.2


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


def analyze(text: str, limit: int | None = None) -> list[str]:
    """The distinct index terms of `text`, in order (what a query will look for).

    With a `limit`, analysis stops at that many terms and the rest of the text is not read:
    segmenting Chinese is the dearest part of a search, and a long email has far more words
    than a search uses.
    """
    return list(_analyzed(text[:MAX_QUERY_CHARS], limit))


def query_terms(text: str) -> list[str]:
    """The terms a search for `text` looks for: its first MAX_QUERY_TERMS distinct ones."""
    return analyze(text, MAX_QUERY_TERMS)


@functools.lru_cache(maxsize=2048)
def _analyzed(text: str, limit: int | None) -> tuple[str, ...]:
    # Cached: the auto-reply compares a message's terms with the questions its search found,
    # and those questions recur from message to message.
    runs = _RUN_RE.finditer(text.translate(_FULLWIDTH))
    terms = (term for run in runs for term in _run_terms(run.group(), run.lastgroup == "cjk"))
    return _first_distinct(terms, limit)


_stem = functools.lru_cache(maxsize=65536)(stem)  # what StemFilter's own cache did


@functools.lru_cache(maxsize=65536)
def _run_terms(run: str, cjk: bool) -> tuple[str, ...]:
    """ANALYZER's terms for one run (what BilingualTokenizer and the filters make of it).

    Whoosh's filter chain costs more per word than the words' analysis itself, and a search
    analyzes a hundred words of a long email; runs and words recur from mail to mail.
    """
    terms = []
    for text, _start, _end in _run_pieces(run, cjk):
        text = text.lower()  # LowercaseFilter, StopFilter(minsize=1), StemFilter
        if text and text not in STOP_WORDS_ALL:
            terms.append(_stem(text))
    return tuple(terms)


def _first_distinct(items: Iterable[str], limit: int | None) -> tuple[str, ...]:
    """The distinct items in order, reading no further than needed for `limit` of them."""
    seen: dict[str, None] = {}
    for item in items:
        seen[item] = None
        if limit is not None and len(seen) >= limit:
            break
    return tuple(seen)


_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKUP_RE = re.compile(r"(^|\n)\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)|[*_`~]{1,3}")


def markdown_to_text(markdown: str) -> str:
    """Plain text of a Markdown answer: what gets indexed and shown in snippets."""
    text = _MD_LINK_RE.sub(r"\1", markdown)
    text = _MD_MARKUP_RE.sub(r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------------------
# Public data
# ---------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    slug: str
    score: float
    question: str
    snippet_html: str  # escaped text with <mark> around matched words; safe to put in a page
    category_id: int
    category_name: str
    language: str
    phrasings: tuple[str, ...] = ()  # the approved phrasings, as indexed
    answer_text: str = ""  # plain text of the answer, as indexed


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]
    did_you_mean: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """A question offered while the customer is still typing."""

    article_id: int
    slug: str
    question: str
    language: str


class SearchIndexBusy(TimeoutError):
    """Another process held the write lock for longer than the caller was willing to wait."""


# ---------------------------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------------------------


@dataclass
class _Reader:
    generation: str | None = None
    index: index.Index | None = None
    searcher: object | None = None
    ranking: _Ranking | None = None  # on `searcher`, made by the first search


class SearchIndex:
    """One FAQ search index on disk, shared by every process that opens the same path."""

    def __init__(self, path: str | Path, *, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._local = threading.local()
        self._pointer_cache: tuple[tuple[int, int, int], dict] | None = None

    # -- state --------------------------------------------------------------------------------

    def needs_rebuild(self) -> bool:
        """True when there is no usable index or it was built by another SCHEMA_VERSION."""
        pointer = self._read_pointer()
        if pointer is None or pointer.get("schema_version") != SCHEMA_VERSION:
            return True
        try:
            ix = index.open_dir(str(self.path / pointer["generation"]))
            ix.close()
        except Exception:  # noqa: BLE001 - any unreadable index means "rebuild it"
            logger.warning("search index at %s is unreadable", self.path, exc_info=True)
            return True
        return False

    def doc_count(self) -> int:
        searcher = self._searcher()
        return searcher.doc_count() if searcher is not None else 0

    # -- writing ------------------------------------------------------------------------------

    def rebuild(self, docs: Iterable[ArticleDoc]) -> int:
        """Index `docs` into a new generation and make it live atomically; returns the count."""
        started = time.perf_counter()
        with self._write_lock():
            previous = self._read_pointer(use_cache=False)
            generation = (
                f"{GENERATION_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
            )
            folder = self.path / generation
            folder.mkdir()
            try:
                ix = index.create_in(str(folder), _schema())
                writer = ix.writer(limitmb=128)
                count = 0
                try:
                    for doc in docs:
                        writer.add_document(**_fields(doc))
                        count += 1
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
                ix.close()
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

    def upsert(self, doc: ArticleDoc) -> None:
        """Add or replace one article; other processes see it after the commit."""
        with self._write_lock(), self._writer() as writer:
            if writer is not None:
                writer.update_document(**_fields(doc))

    def delete(self, article_id: int) -> None:
        with self._write_lock(), self._writer() as writer:
            if writer is not None:
                writer.delete_by_term("article_id", str(article_id))

    @contextlib.contextmanager
    def _writer(self) -> Iterator[object | None]:
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
        tmp = self.path / f".{CURRENT_FILE}.{secrets.token_hex(4)}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path / CURRENT_FILE)
        _fsync_dir(self.path)
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

    def _searcher(self):  # noqa: ANN202 - a Whoosh searcher, private
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
                elif reader.index.latest_generation() != reader.searcher.reader().generation():
                    # A writer committed. Whoosh's searcher.refresh() would reuse segment
                    # readers that do not know about new deletions, so open afresh.
                    stale, reader.searcher = reader.searcher, reader.index.searcher()
                    stale.close()
                return reader.searcher
            except Exception:  # noqa: BLE001 - a broken index must not break the page
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

    def _ranking(self) -> _Ranking | None:
        """This thread's ranking on the live searcher (None: no usable index)."""
        searcher = self._searcher()
        if searcher is None:
            return None
        reader: _Reader = self._local.reader
        if reader.ranking is None or reader.ranking.searcher is not searcher:
            reader.ranking = _Ranking(searcher)
        return reader.ranking

    def close(self) -> None:
        """Close this thread's open files (tests and tidy shutdowns)."""
        reader = getattr(self._local, "reader", None)
        if reader is not None:
            self._close_reader(reader)

    def search(
        self,
        text: str,
        *,
        language: str | None = None,
        category_id: int | None = None,
        limit: int = 10,
        page: int = 1,
        spelling: bool = True,
        snippets: bool = True,
    ) -> SearchResults:
        """Articles answering a question typed in the customer's own words, best first.

        Not every word has to match: the more words match, the rarer they are and the more
        of them are in the question or its phrasings rather than the answer, the higher the
        article ranks. Any text is accepted; query syntax has no meaning here. Without a
        `language`, articles in the language the query is written in come first. `spelling`
        False skips the "did you mean" correction, which only a person typing can use and
        which costs more than the search itself on a long email. `snippets` False leaves
        each hit's `snippet_html` empty, for callers that show no excerpt of the match.
        """
        text = (text or "")[:MAX_QUERY_CHARS]
        limit = max(1, min(int(limit), 100))
        page = max(1, int(page))
        ranking = self._ranking()
        terms = query_terms(text)
        if ranking is None or not text.strip():
            return SearchResults(total=0, hits=[])
        allowed = ranking.allowed(language=language, category_id=category_id)
        preferred = None if language else query_language(text)
        total, ranked = ranking.rank(
            _match_clauses(text, terms),
            allowed=allowed,
            preferred_language=preferred,
            limit=page * limit,
        )
        marked = analyze(text) if snippets else None  # snippets mark all of the query's words
        hits = [
            _hit(ranking, docnum, score, marked) for docnum, score in ranked[(page - 1) * limit :]
        ]
        top_score = max((score for _, score in ranked), default=0.0)
        suggestion = (
            self._did_you_mean(ranking, text, total, top_score, allowed) if spelling else None
        )
        return SearchResults(total=total, hits=hits, did_you_mean=suggestion)

    def suggest(
        self, prefix: str, *, language: str | None = None, limit: int = 8
    ) -> list[Suggestion]:
        """Questions matching what the customer has typed so far (the last word may be partial)."""
        prefix = (prefix or "")[:MAX_QUERY_CHARS]
        ranking = self._ranking()
        if ranking is None or not prefix.strip():
            return []
        clauses = _suggest_clauses(prefix, ranking.searcher)
        if not clauses:
            return []
        _, ranked = ranking.rank(
            clauses,
            allowed=ranking.allowed(language=language),
            preferred_language=None if language else query_language(prefix),
            limit=max(1, min(int(limit), 50)),
        )
        suggestions = []
        for docnum, _ in ranked:
            stored = ranking.stored_fields(docnum)
            suggestions.append(
                Suggestion(
                    article_id=int(stored["article_id"]),
                    slug=stored["slug"],
                    question=stored["question_stored"],
                    language=stored["language"],
                )
            )
        return suggestions

    def _did_you_mean(
        self,
        ranking: _Ranking,
        text: str,
        total: int,
        top_score: float,
        allowed: np.ndarray | None,
    ) -> str | None:
        """A corrected query, offered only when results are poor and an unknown English word
        has a close spelling in the questions that clearly finds more."""
        searcher = ranking.searcher
        words = [
            (word, start, end)
            for word, start, end in _latin_words(text)
            if 3 <= len(word) <= 30 and word.isalpha() and word not in ENGLISH_STOP_WORDS
        ]
        unknown = [
            (word, start, end)
            for word, start, end in words
            if not any(searcher.doc_frequency(f, stem(word)) for f in QUERY_WEIGHTS)
        ]
        if not unknown:
            return None
        if total >= FEW_RESULTS and len(unknown) * 2 < len(words):
            return None  # most words found something: the results are not poor
        corrector = searcher.corrector("spelling")
        replacements: list[tuple[int, int, str]] = []
        for word, start, end in unknown[:5]:
            for maxdist in (1, 2) if len(word) > 4 else (1,):
                found = corrector.suggest(word, limit=1, maxdist=maxdist, prefix=1)
                if found:
                    replacements.append((start, end, found[0]))
                    break
        if not replacements:
            return None
        corrected = text
        for start, end, word in reversed(replacements):
            corrected = corrected[:start] + word + corrected[end:]
        if total:
            _, better = ranking.rank(
                _match_clauses(corrected, query_terms(corrected)), allowed=allowed, limit=1
            )
            if not better or better[0][1] < top_score * 1.5:
                return None
        return corrected.strip()


# ---------------------------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------------------------
# Whoosh stores the index; the ranking below reads its posting lists into numpy arrays and
# scores with the same BM25F formula Whoosh uses. Whoosh's own matchers walk every posting in
# pure Python through a tree of union matchers, which took 100-400 ms per question at 10,000
# articles; term-at-a-time with cached arrays takes a few.

BM25_K1 = 3.0
BM25_B = 0.75
POSTINGS_CACHE_BUDGET = 4_000_000  # cached postings per process (8 bytes each)
# What one cached entry costs besides its postings, counted in postings: most words of an email
# are in no article, and those empty entries must not grow the cache without bound.
POSTINGS_ENTRY_COST = 32
MAX_PREFIX_EXPANSIONS = 30
# Words whose scores a searcher keeps, a few MB (dropped all at once when full).
TERM_SCORES_PER_SEARCHER = 20_000


def term_weight(doc_count: int, doc_frequency: int) -> float:
    """How much a word found in `doc_frequency` of `doc_count` articles counts (BM25's idf)."""
    return math.log(doc_count / (doc_frequency + 1)) + 1.0


class _Clause(NamedTuple):  # a long email makes over a hundred of them per search
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

    def lengths(self, reader, fieldname: str) -> np.ndarray:  # noqa: ANN001
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

    def get(self, key: tuple, load) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
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


def _segment_arrays(reader) -> _SegmentArrays:  # noqa: ANN001
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


def _read_postings(reader, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
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
            if matcher._ids is None:  # noqa: SLF001
                matcher._read_ids()  # noqa: SLF001
            if matcher._weights is None:  # noqa: SLF001
                matcher._read_weights()  # noqa: SLF001
            ids.extend(matcher._ids[matcher._i :])  # noqa: SLF001
            weights.extend(matcher._weights[matcher._i :])  # noqa: SLF001
            matcher._next_block()  # noqa: SLF001
    else:  # pragma: no cover - another codec
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32)


class _Ranking:
    """Scores clauses over every segment of one searcher.

    Kept for as long as its searcher (one per thread, see SearchIndex._ranking): a word's
    BM25 scores depend only on the searcher's documents, and the same words recur from mail
    to mail, so each word is scored once and a search only adds up the scores of its words.
    """

    def __init__(self, searcher) -> None:  # noqa: ANN001
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
    def _postings(  # noqa: ANN001
        leaf, arrays: _SegmentArrays, fieldname: str, term: str
    ) -> tuple[np.ndarray, np.ndarray]:
        key = (arrays.segment_id, fieldname, term)
        return _postings.get(key, lambda: _read_postings(leaf, fieldname, term))

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
        clauses: list[_Clause],
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


def _match_clauses(text: str, terms: list[str]) -> list[_Clause]:
    """Every word in every searchable field, and Chinese characters as a weak fallback."""
    clauses = [
        _Clause(fieldname, term, weight)
        for term in terms[:MAX_QUERY_TERMS]
        for fieldname, weight in QUERY_WEIGHTS.items()
    ]
    if CHARS_WEIGHT:
        runs = _CJK_RUN_RE.finditer(text[:MAX_QUERY_CHARS])
        chars = (char for run in runs for char in _run_chars(run.group()))
        clauses += [
            _Clause("question_chars", char, CHARS_WEIGHT)
            for char in _first_distinct(chars, MAX_QUERY_TERMS)
        ]
    return clauses


@functools.lru_cache(maxsize=65536)
def _run_chars(run: str) -> tuple[str, ...]:
    """CHAR_ANALYZER's terms for one run of Chinese characters, without Whoosh's tokens."""
    return tuple(char for char in _to_simplified(run) if char not in CHINESE_STOP_CHARS)


def _suggest_clauses(prefix: str, searcher) -> list[_Clause]:  # noqa: ANN001
    """Complete words as terms, the word being typed expanded to question words it starts."""
    last: tuple[str, int] | None = None
    if not prefix[-1:].isspace():
        spans = [
            (t.text, t.startchar, t.endchar)
            for t in SPELLING_ANALYZER(prefix, chars=True, removestops=False)
        ]
        if spans:
            end = max(s[2] for s in spans)
            word, start, end = max((s for s in spans if s[2] == end), key=lambda s: s[2] - s[1])
            if end >= len(prefix.rstrip()):
                last = (word, start)
    head = prefix[: last[1]] if last else prefix
    clauses = [
        _Clause(fieldname, term, weight)
        for term in query_terms(head)
        for fieldname, weight in (("question", 2.0), ("phrasings", 1.0))
    ]
    if last:
        word = last[0]
        if _CJK_RUN_RE.match(word) or len(word) >= 2:
            reader = searcher.reader()
            for fieldname, weight in (("question", 2.0), ("phrasings", 1.0)):
                expansions: set[str] = set()
                for start in {word, stem(word)}:
                    for raw in itertools.islice(
                        reader.expand_prefix(fieldname, start), MAX_PREFIX_EXPANSIONS
                    ):
                        expansions.add(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
                clauses += [_Clause(fieldname, term, weight) for term in sorted(expansions)]
    return clauses


def _hit(ranking: _Ranking, docnum: int, score: float, terms: list[str] | None) -> SearchHit:
    """One result; without `terms` (no snippet wanted) its snippet is empty."""
    stored = ranking.stored_fields(docnum)
    answer = stored.get("answer", "")
    return SearchHit(
        article_id=int(stored["article_id"]),
        slug=stored["slug"],
        score=round(score, 4),
        question=stored["question_stored"],
        snippet_html=snippet_html(answer, terms) if terms is not None else "",
        category_id=int(stored["category_id"]),
        category_name=stored.get("category_name", ""),
        language=stored["language"],
        phrasings=tuple(stored.get("phrasings_stored", ())),
        answer_text=answer,
    )


def _fields(doc: ArticleDoc) -> dict[str, str]:
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


def query_language(text: str) -> str:
    """ "zh" if the text contains Chinese characters, else "en"."""
    return "zh" if _CJK_RUN_RE.search(text) else "en"


def _latin_words(text: str) -> Iterator[tuple[str, int, int]]:
    for match in _RUN_RE.finditer(text[:MAX_QUERY_CHARS]):
        if match.lastgroup == "word":
            yield match.group().lower(), match.start(), match.end()


# ---------------------------------------------------------------------------------------------
# Snippets and files
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _snippet_tokens(text: str) -> tuple[tuple[str, int, int], ...]:
    """Analyzed words of an answer with their offsets (answers repeat across queries)."""
    return tuple((t.text, t.startchar, t.endchar) for t in ANALYZER(text, chars=True))


def snippet_html(text: str, terms: Iterable[str]) -> str:
    """An escaped excerpt of `text` with matched words in <mark>; the start if none matched.

    Everything outside the marks is HTML-escaped: answers and queries come from people.
    """
    termset = frozenset(terms)
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


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_file():
            with contextlib.suppress(OSError), open(child, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(folder)
