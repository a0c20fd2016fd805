"""Embedded texts shared by every process of a host: a bounded SQLite file beside the index.

Each process keeps its own cache of embedded texts (faq.search.embedding.CachedEmbedder), and
with four workers, each with its prepare process, a recurring mail sentence was embedded up to
eight times, 30-50 ms of CPU each: in the intake bench (600 messages on PostgreSQL) each of
the eight processes embedded the same 16-21 texts. This file holds each text's vector once for
the host, by model identity and the hash of the prepared text, so a sentence one process
embedded is read (tens of microseconds) by the others.

It is an optimisation, never a dependency: an SQLite error (an unwritable or damaged file,
a lock outwaited LOCKED_TIMES times in a row) turns it off for the process with one log line, and
embedding goes on as before. Safe under concurrent writers: WAL, INSERT OR REPLACE (two
processes embedding the same text at once store the same vector; a row left expired is
replaced) and a busy timeout. Bounded: at most MAX_ENTRIES rows; the oldest are dropped first
(the per-process cache keeps the ones in use).

Customers' words are not kept for long: a row embedded as a query (a mail's sentence, a typed
search) carries an expiry (faq.search.embedding.QUERY_LIFETIME_SECONDS) and is neither read
nor kept after it; FAQ article texts (passages) have none. A vector can be inverted to
approximate its text, and the hash of a text confirms a guessed one, so an erased customer's
sentence must not stay here: every process of the host deletes expired rows (``expire``),
with SQLite's secure_delete (the freed pages are zeroed) and a truncated write-ahead log. A
file written before expiries existed (another ``user_version``) is emptied when first opened.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: Rows kept (1.5 kB of float32 each for 384 dimensions: about 75 MB at most).
MAX_ENTRIES = 50_000
#: Rows a process inserts between two trims to MAX_ENTRIES.
TRIM_EVERY = 500
#: How long a writer waits for another's lock before this process stops using the file.
BUSY_SECONDS = 2.0
#: Lock timeouts IN A ROW a process lets pass (that call goes without the file) before it stops
#: using the file: several processes opening a new file at once, or a checkpoint that empties
#: the write-ahead log, can outwait BUSY_SECONDS on a loaded host now and then (the suite's
#: four writers on a two-core machine under load did three times in one run); a file locked
#: for good must not cost every later call its wait. A call that gets through resets the count.
LOCKED_TIMES = 3
FILE_NAME = "embedding-cache.sqlite3"
#: The file's layout (PRAGMA user_version); a file of another is emptied and remade.
SCHEMA_VERSION = 2

_SCHEMA = (
    """
    CREATE TABLE vectors (
        id INTEGER PRIMARY KEY,
        model TEXT NOT NULL,
        key BLOB NOT NULL,
        vector BLOB NOT NULL,
        expires_at REAL,
        UNIQUE (model, key)
    )
    """,
    "CREATE INDEX vectors_expiry ON vectors (expires_at) WHERE expires_at IS NOT NULL",
)


class SharedVectors:
    """The host's file of embedded texts; one per process, used under the embedder's lock."""

    def __init__(self, path: Path, max_entries: int | None = None) -> None:
        self.path = Path(path)
        self.max_entries = MAX_ENTRIES if max_entries is None else max_entries
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._inserted = 0
        self._off = False
        self._locked = 0
        self._lock = threading.Lock()

    def get(
        self, model: str, keys: Iterable[bytes], dim: int, now: float
    ) -> dict[bytes, tuple[np.ndarray, float | None]]:
        """The vectors stored for those keys of ``model`` and not expired at ``now`` (a Unix
        time), with their expiry (None: none); missing keys are left out."""
        wanted = list(keys)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._run(
            f"SELECT key, vector, expires_at FROM vectors WHERE model = ? AND key IN ({marks})"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (model, *wanted, now),
        )
        return {
            bytes(key): (np.frombuffer(blob, dtype=np.float32).copy(), expires_at)
            for key, blob, expires_at in rows
            if len(blob) == 4 * dim
        }

    def put(
        self, model: str, vectors: Mapping[bytes, np.ndarray], expires_at: float | None
    ) -> None:
        """Store what this process embedded, to be dropped at ``expires_at`` (None: never);
        it replaces a row of the same text (the same vector, or an expired one)."""
        if not vectors:
            return
        rows = [
            (model, key, np.asarray(v, dtype=np.float32).tobytes(), expires_at)
            for key, v in vectors.items()
        ]
        self._run(
            "INSERT OR REPLACE INTO vectors (model, key, vector, expires_at) VALUES (?, ?, ?, ?)",
            rows,
        )
        self._inserted += len(rows)
        if self._inserted >= TRIM_EVERY:
            self._inserted = 0
            self.trim()

    def trim(self) -> None:
        """Drop the oldest rows beyond max_entries (ids grow with each insert)."""
        self._run(
            "DELETE FROM vectors WHERE id <= (SELECT max(id) FROM vectors) - ?",
            (self.max_entries,),
        )

    def expire(self, now: float) -> int:
        """Delete the rows expired at ``now`` (zeroed on disk: secure_delete) and empty the
        write-ahead log, which still holds the pages they were written in; how many went."""
        deleted = self._run("DELETE FROM vectors WHERE expires_at <= ? RETURNING id", (now,))
        if deleted:
            self._run("PRAGMA wal_checkpoint(TRUNCATE)", ())
        return len(deleted)

    def clear(self) -> None:
        """Forget every stored text (benches that start cold). The rows go, not the file: a
        process that opens the file after it was deleted while another process had it open
        finds that one's -wal and -shm files, gets "disk I/O error" and embeds alone."""
        self._run("DELETE FROM vectors", ())

    def _run(self, sql: str, parameters: tuple | list) -> list:
        with self._lock:
            if self._off:
                return []
            try:
                connection = self._connect()
                with connection:  # a transaction: committed, or rolled back on error
                    if isinstance(parameters, list):
                        connection.executemany(sql, parameters)
                        rows = []
                    else:
                        rows = connection.execute(sql, parameters).fetchall()
                self._locked = 0
                return rows
            except (sqlite3.Error, OSError) as exc:
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    self._locked += 1
                    if self._locked < LOCKED_TIMES:
                        log.info(
                            "shared embedding cache %s busy (%s, %d in a row): skipped once",
                            self.path,
                            exc,
                            self._locked,
                        )
                        return []
                self._off = True
                log.warning(
                    "shared embedding cache %s off for this process (%s): embedding alone",
                    self.path,
                    exc,
                )
                return []

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():  # not one a fork inherited
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                self.path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None
            )
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode=WAL")  # once per file: it is kept
            connection.execute("PRAGMA synchronous=NORMAL")  # a cache: no fsync per insert
            connection.execute("PRAGMA secure_delete=ON")  # deleted rows leave no bytes
            _ensure_schema(connection)
            connection.isolation_level = "DEFERRED"  # `with connection`: one transaction
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


def _ensure_schema(connection: sqlite3.Connection) -> None:
    """Make the table of SCHEMA_VERSION, dropping one of another version with its rows (they
    may be customers' sentences with no expiry); one process at a time (BEGIN IMMEDIATE)."""
    if connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    dropped = False
    connection.execute("BEGIN IMMEDIATE")
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            dropped = (
                connection.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vectors'"
                ).fetchone()
                is not None
            )
            connection.execute("DROP TABLE IF EXISTS vectors")
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    if dropped:  # the old rows' pages are in the write-ahead log too
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
