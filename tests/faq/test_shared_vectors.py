"""The host's file of embedded texts: a text one process embedded is not embedded again by
another (four workers and their prepare processes each embedded every recurring sentence)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

from faq.search import embedding, shared_vectors
from faq.search.embedding import CachedEmbedder
from tests.faq.test_embedding_sharing import TEXTS, CountingModel


def _embedder(path: Path, model_id: str = "m") -> CachedEmbedder:
    """One process's embedder: its own model and cache, the host's file."""
    embedder = CachedEmbedder(CountingModel(), model_id)
    embedder.share(path)
    return embedder


def _count(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM vectors").fetchone()[0]


def test_a_text_embedded_by_one_process_is_not_embedded_by_another(tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    first, second = _embedder(path), _embedder(path)
    expected = first.queries(TEXTS)
    assert np.array_equal(second.queries(TEXTS), expected)  # the same vectors, bit for bit
    assert second._model.embedded == []
    # Queries and passages are kept apart, as in one process.
    second.passages(TEXTS[:1])
    assert second._model.embedded == [TEXTS[0]]


def test_another_model_embeds_its_own(tmp_path) -> None:
    path = tmp_path / "cache.sqlite3"
    _embedder(path, "model-a").queries(TEXTS)
    other = _embedder(path, "model-b")
    other.queries(TEXTS)
    assert len(other._model.embedded) == len(TEXTS)  # never another model's vectors


def test_the_file_keeps_at_most_its_bound(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(shared_vectors, "TRIM_EVERY", 1)
    path = tmp_path / "cache.sqlite3"
    embedder = _embedder(path)
    assert embedder.shared is not None
    embedder.shared.max_entries = 3
    embedder.queries([f"question number {word}" for word in "abcdefg"])  # one insert
    embedder.queries(["one more question", "and another one"])
    assert _count(path) == 3
    # The newest stay.
    fresh = _embedder(path)
    fresh.queries(["and another one"])
    assert fresh._model.embedded == []


def test_a_damaged_file_only_turns_the_sharing_off(tmp_path, caplog) -> None:
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    embedder = _embedder(path)
    expected = CachedEmbedder(CountingModel(), "m").queries(TEXTS)
    assert np.array_equal(embedder.queries(TEXTS), expected)
    assert np.array_equal(embedder.queries(TEXTS[:1]), expected[:1])
    assert "shared embedding cache" in caplog.text


def _writer(path: str, texts: list[str], start, result) -> None:
    embedder = CachedEmbedder(CountingModel(), "m")
    embedder.share(Path(path))
    start.wait()
    for text in texts:
        embedder.queries([text])
    result.put((embedder.shared is not None and not embedder.shared._off, embedder._model.embedded))


def test_processes_writing_at_once_all_keep_sharing(tmp_path) -> None:
    """Four processes embed overlapping texts at the same moment: no lock error turns the
    file off, and every text is in it once."""
    path = tmp_path / "cache.sqlite3"
    texts = [f"is my order {word} shipped?" for word in "abcdefghijklmnopqrstuvwxyz"]
    context = multiprocessing.get_context("spawn")
    start, result = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=_writer, args=(str(path), texts[i::2] + texts, start, result))
        for i in range(4)
    ]
    for process in processes:
        process.start()
    reports = [result.get(timeout=100) for _ in processes]
    for process in processes:
        process.join()
    assert all(on for on, _embedded in reports)
    assert _count(path) == len(texts)
    late = _embedder(path)
    late.queries(texts)
    assert late._model.embedded == []


class Clock:
    """The Unix time the embedders read, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _timed(path: Path, clock: Clock) -> CachedEmbedder:
    embedder = CachedEmbedder(CountingModel(), "m", clock=clock)
    embedder.share(path)
    return embedder


def _on_disk(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


ARTICLE = "How do I reset the water heater?"


def test_customers_sentences_expire_everywhere_and_article_texts_stay(tmp_path) -> None:
    """A mail's sentence (a query) is kept as a vector at most QUERY_LIFETIME_SECONDS: in the
    process that embedded it, in another that read it from the host's file, and in the file,
    whose bytes no longer hold it (a vector can be inverted, a hash confirms a guess)."""
    path, clock = tmp_path / "cache.sqlite3", Clock()
    first, second = _timed(path, clock), _timed(path, clock)
    secret = "My account number is in the attached letter, Mrs Okafor wrote"
    vector = first.queries([secret])[0]
    first.passages([ARTICLE])
    second.queries([secret])
    assert second._model.embedded == []  # read from the file while it lives
    assert vector.tobytes() in _on_disk(path)

    clock.now += embedding.QUERY_LIFETIME_SECONDS + 1
    first.forget_expired()  # what the FAQ index's sync does every few seconds
    second.forget_expired()
    assert vector.tobytes() not in _on_disk(path)
    assert embedding._key(embedding.prepare(secret), True) not in _on_disk(path)
    assert _count(path) == 1  # the article text
    assert list(first._cache) == [embedding._key(embedding.prepare(ARTICLE), False)]
    second.passages([ARTICLE])
    assert second._model.embedded == []  # article texts are kept
    second.queries([secret])
    assert second._model.embedded == [secret]  # embedded afresh, not read from anywhere


def test_an_expired_entry_is_not_used_before_a_sweep(tmp_path) -> None:
    path, clock = tmp_path / "cache.sqlite3", Clock()
    first, late = _timed(path, clock), _timed(path, clock)
    first.queries(TEXTS[:1])
    clock.now += embedding.QUERY_LIFETIME_SECONDS + 1
    # No sweep ran: the lookups alone refuse it.
    first.queries(TEXTS[:1])  # neither its own entry nor the file's row
    assert first._model.embedded == TEXTS[:1] * 2
    late.queries(TEXTS[:1])  # the row just embedded again lives
    assert late._model.embedded == []


def test_what_another_process_embedded_expires_when_it_does_there(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(embedding, "_sharing", True)
    clock = Clock()
    worker = CachedEmbedder(CountingModel(), "m", clock=clock)
    prepare_process = CachedEmbedder(CountingModel(), "m", clock=clock)
    worker.queries(TEXTS)
    clock.now += embedding.QUERY_LIFETIME_SECONDS / 2
    prepare_process.learn(worker.take_new())
    prepare_process.queries(TEXTS)
    assert prepare_process._model.embedded == []
    clock.now += embedding.QUERY_LIFETIME_SECONDS / 2 + 1  # expired where it was embedded
    prepare_process.forget_expired()
    assert not prepare_process._cache


def test_a_file_written_before_expiries_is_emptied(tmp_path) -> None:
    """Its rows (customers' sentences among them) have no expiry: it is emptied when opened."""
    path = tmp_path / "cache.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE vectors (id INTEGER PRIMARY KEY, model TEXT NOT NULL, key BLOB NOT NULL,"
            " vector BLOB NOT NULL, UNIQUE (model, key))"
        )
        connection.execute(
            "INSERT INTO vectors (model, key, vector) VALUES ('m', x'00', ?)", (b"SECRETVECTOR",)
        )
    connection.close()
    embedder = _embedder(path)
    embedder.queries(TEXTS[:1])
    assert embedder.shared is not None and not embedder.shared._off
    assert _count(path) == 1
    assert b"SECRETVECTOR" not in _on_disk(path)


def test_an_idle_process_drops_expired_sentences_by_itself(tmp_path, monkeypatch) -> None:
    """No lookup and no call: the process's sweeper thread drops them (and the file's rows)."""
    monkeypatch.setattr(embedding, "EXPIRY_SWEEP_SECONDS", 0.05)
    path, clock = tmp_path / "cache.sqlite3", Clock()
    embedder = _timed(path, clock)
    embedder.queries(TEXTS)
    clock.now += embedding.QUERY_LIFETIME_SECONDS + 1
    deadline = time.monotonic() + 30
    while (embedder._cache or _count(path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not embedder._cache and _count(path) == 0


def _late_reader(path: str, result) -> None:
    embedder = CachedEmbedder(CountingModel(), "m")
    embedder.share(Path(path))
    embedder.queries(TEXTS)
    result.put((embedder.shared is not None and not embedder.shared._off, embedder._model.embedded))


def test_a_cleared_file_stays_shared_by_processes_that_had_it_open_and_new_ones(tmp_path) -> None:
    """The intake bench starts each run cold; deleting the file while its own process had it
    open turned the sharing off ("disk I/O error") in every process started after."""
    path = tmp_path / "cache.sqlite3"
    first = _embedder(path)
    first.queries(TEXTS)
    cleaner = shared_vectors.SharedVectors(path)
    cleaner.clear()
    cleaner.close()
    assert _count(path) == 0
    context = multiprocessing.get_context("spawn")
    result = context.Queue()
    process = context.Process(target=_late_reader, args=(str(path), result))
    process.start()
    on, embedded = result.get(timeout=100)
    process.join()
    assert on and len(embedded) == len(TEXTS)  # cleared: embedded again, stored for the others
    assert _count(path) == len(TEXTS)
    first.queries(["one more question"])
    assert first.shared is not None and not first.shared._off
    assert _count(path) == len(TEXTS) + 1


def test_a_lock_outwaited_once_skips_that_call_and_one_held_for_good_turns_the_file_off(
    tmp_path, monkeypatch
) -> None:
    """Processes opening a new file at once, or a checkpoint emptying the write-ahead log, may
    outwait the busy timeout on a loaded host: that call goes without the file (CI saw one
    such process embed alone). A file that stays locked is given up after LOCKED_TIMES."""
    monkeypatch.setattr(shared_vectors, "BUSY_SECONDS", 0.05)
    path = tmp_path / "cache.sqlite3"
    store = shared_vectors.SharedVectors(path)
    vector = np.ones(4, dtype=np.float32)
    store.put("m", {b"a": vector}, None)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    store.put("m", {b"b": vector}, None)
    assert not store._off  # skipped once, not given up
    holder.execute("COMMIT")
    store.put("m", {b"c": vector}, None)
    assert set(store.get("m", [b"a", b"b", b"c"], 4, 0.0)) == {b"a", b"c"}
    holder.execute("BEGIN IMMEDIATE")
    for _ in range(shared_vectors.LOCKED_TIMES):
        store.put("m", {b"d": vector}, None)
    assert store._off
    holder.execute("COMMIT")
    holder.close()
    store.close()


def test_lock_timeouts_between_calls_that_get_through_never_turn_the_file_off(
    tmp_path, monkeypatch
) -> None:
    """Only LOCKED_TIMES timeouts in a row give the file up: on a loaded host a long-lived
    worker meets a lock now and then (CI saw four writers meet three), and each call that gets
    through shows the file works."""
    monkeypatch.setattr(shared_vectors, "BUSY_SECONDS", 0.02)
    path = tmp_path / "cache.sqlite3"
    store = shared_vectors.SharedVectors(path)
    vector = np.ones(4, dtype=np.float32)
    store.put("m", {b"first": vector}, None)
    holder = sqlite3.connect(path, isolation_level=None)
    for round_ in range(3):
        holder.execute("BEGIN IMMEDIATE")
        for _ in range(shared_vectors.LOCKED_TIMES - 1):
            store.put("m", {b"skipped": vector}, None)
        holder.execute("COMMIT")
        store.put("m", {bytes([round_]): vector}, None)
    assert not store._off
    assert set(store.get("m", [b"first", b"skipped", b"\0", b"\1", b"\2"], 4, 0.0)) == {
        b"first",
        b"\0",
        b"\1",
        b"\2",
    }
    holder.close()
    store.close()


def test_searches_do_not_wait_for_the_files_expiry(tmp_path, monkeypatch) -> None:
    """The sweep deletes the file's expired rows outside the process's cache lock: a file
    another process holds locked delays the sweep, not this process's searches."""
    monkeypatch.setattr(shared_vectors, "BUSY_SECONDS", 10.0)
    path, clock = tmp_path / "cache.sqlite3", Clock()
    embedder = _timed(path, clock)
    embedder.passages([ARTICLE])
    embedder.queries(TEXTS[:1])
    clock.now += embedding.QUERY_LIFETIME_SECONDS + 1
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    sweeping = threading.Thread(target=embedder.forget_expired)
    sweeping.start()
    time.sleep(0.3)  # the sweep is waiting for the file's write lock
    embedder.passages([ARTICLE])  # from this process's cache, at once
    assert sweeping.is_alive()  # answered while the sweep still waits
    holder.execute("COMMIT")
    holder.close()
    sweeping.join()
    assert _count(path) == 1  # the article's row; the expired sentence is gone
