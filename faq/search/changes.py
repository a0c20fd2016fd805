"""The changes to a generation's vectors and term counts since their main files were written: an
append-only log beside them, so that an article save costs what it changes, not the index's size.

Rewriting each whole vector file and the term file with fsync for one article cost 190 ms CPU
at 3,000 articles and 315 ms at 10,000, per model (docs/measurements.md, twenty-eighth and
twenty-ninth sessions). A save now appends one record to ``changes.log`` (the articles it
replaces or deletes and their new rows of each kind) and flushes it; readers apply the log's
records to the main files they read; a save that finds the log grown past MERGE_FRACTION of the
main files (or MIN_MERGE_BYTES) writes the main files anew, with the log applied, and starts an
empty log.

Layout of the log::

    MAGIC, then the token (TOKEN_BYTES ASCII characters)
    records: length (uint32), CRC-32 of the payload (uint32), payload (an .npz: "removed", the
             replaced or deleted article ids, and per kind of rows "<kind>.<array>")

Consistency: each main file names the token of the log it was written with; a reader applies
the log only to main files of the same token. A merge writes the main files with a new token and
then replaces the log with an empty one of that token, each file atomically: a reader between
the two sees main files that already hold the log's records and a log of another token, which
it ignores. Appending: a record interrupted by a crash (or still being written) fails its length
or CRC, and the records before it are the state; the next writer rewrites the log without the
torn bytes (a new file: a reader's cache is by inode and size) before it appends. Writers are
serialised by the index's writer lock.

A record's rows replace, for each article in "removed", whatever it had: applying a record
twice, or to main files that already hold it, leaves the same articles with the same rows.
"""

from __future__ import annotations

import io
import os
import secrets
import struct
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, Self, TypeVar

import numpy as np

from support.core.atomic_files import write_atomically

LOG_FILE = "changes.log"
MAGIC = b"FAQ-CHANGES-1\n"
TOKEN_BYTES = 16
_HEADER = len(MAGIC) + TOKEN_BYTES
_RECORD = struct.Struct("<II")
# The log is merged when it outgrows this share of the main files: a merge rewrites them all
# (O(index)), so saves between two merges grow with the index and each save's share of the
# merge stays bounded. A save of one English article appends about 20 kB.
MERGE_FRACTION = 0.125
MIN_MERGE_BYTES = 1 << 20


@dataclass(frozen=True)
class Change:
    """One save: the articles it replaces or deletes, and their new rows per kind (each of
    those articles is in `removed`)."""

    removed: frozenset[int]
    rows: Mapping[str, Mapping[str, np.ndarray]]  # kind -> that kind's arrays


@dataclass(frozen=True)
class ChangeLog:
    """The log's valid records, read up to `size` bytes of the file `inode`."""

    token: str
    changes: tuple[Change, ...]
    size: int  # bytes of whole records and header
    inode: int
    seen: int  # bytes looked at (a torn record's too)
    stamp: tuple = ()  # the file's inode, size and time when read


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES // 2)


def start_log(folder: Path, token: str) -> None:
    """An empty log of `token` (replacing any), flushed to disk."""
    write_atomically(folder / LOG_FILE, MAGIC + token.encode("ascii"))


def append_change(folder: Path, log: ChangeLog, change: Change) -> None:
    """Add `change` to the log read as `log` (under the writer lock), flushed to disk."""
    path = folder / LOG_FILE
    if log.seen != log.size:  # a torn record (a writer died mid-append): write the log without
        with open(path, "rb") as fh:
            valid = fh.read(log.size)
        write_atomically(path, valid)
    payload = encode(change)
    record = _RECORD.pack(len(payload), zlib.crc32(payload)) + payload
    with open(path, "ab") as fh:
        fh.write(record)
        fh.flush()
        os.fsync(fh.fileno())


def merge_due(log: ChangeLog, main_bytes: int) -> bool:
    """Whether the log has grown enough to be merged into main files of `main_bytes`."""
    return log.size > max(MIN_MERGE_BYTES, MERGE_FRACTION * main_bytes)


def encode(change: Change) -> bytes:
    arrays = {"removed": np.asarray(sorted(change.removed), np.int64)}
    for kind, rows in change.rows.items():
        arrays.update({f"{kind}.{name}": array for name, array in rows.items()})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def decode(payload: bytes) -> Change:
    with np.load(io.BytesIO(payload), allow_pickle=False) as stored:
        rows: dict[str, dict[str, np.ndarray]] = {}
        for key in stored.files:
            if key != "removed":
                kind, name = key.split(".", 1)
                rows.setdefault(kind, {})[name] = stored[key]
        return Change(frozenset(int(a) for a in stored["removed"].tolist()), rows)


_cache: dict[str, ChangeLog] = {}
_cache_lock = threading.Lock()


def read_log(folder: Path) -> ChangeLog | None:
    """The log in `folder` (None: none, or not one this code wrote); a log read before is read
    on from where it was, while its file only grew."""
    path = folder / LOG_FILE
    key = str(path)
    try:
        st = os.stat(path)
        with _cache_lock:
            known = _cache.get(key)
        if known is not None and known.stamp == (st.st_ino, st.st_size, st.st_mtime_ns):
            return known  # every search reads the log: a stat when it did not change
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            header = fh.read(_HEADER)
            if len(header) != _HEADER or not header.startswith(MAGIC):
                return None
            token = header[len(MAGIC) :].decode("ascii", "replace")
            with _cache_lock:
                known = _cache.get(key)
            # The same file read on (a new log may have the freed inode of an old one: its
            # token differs; a log rewritten without a torn record holds the old one's records).
            if (
                known is not None
                and (known.inode, known.token) == (st.st_ino, token)
                and known.seen <= st.st_size
            ):
                fh.seek(known.size)
                changes, offset = list(known.changes), known.size
            else:
                changes, offset = [], _HEADER
            data = fh.read(st.st_size - offset)
    except OSError:
        return None
    at = 0
    while at + _RECORD.size <= len(data):
        length, crc = _RECORD.unpack_from(data, at)
        payload = data[at + _RECORD.size : at + _RECORD.size + length]
        if len(payload) != length or zlib.crc32(payload) != crc:
            break  # torn: a writer died mid-record, or is still writing it
        try:
            changes.append(decode(payload))
        except (ValueError, KeyError, OSError):
            break
        at += _RECORD.size + length
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    log = ChangeLog(token, tuple(changes), offset + at, st.st_ino, offset + len(data), stamp)
    with _cache_lock:
        while len(_cache) >= 8 and key not in _cache:  # old generations' logs
            _cache.pop(next(iter(_cache)))
        _cache[key] = log
    return log


class Rows(Protocol):
    """Articles' rows of one kind (faq.search.vectors.ArticleVectors, terms.TermVectors)."""

    article_ids: np.ndarray

    def without(self, article_ids: set[int]) -> Self: ...

    def replacing(self, article_ids: set[int], parts: Sequence[Self]) -> Self: ...


T = TypeVar("T", bound=Rows)


def apply(
    rows: T,
    changes: Sequence[Change],
    kind: str,
    rows_of: Callable[[Mapping[str, np.ndarray]], T],
) -> T:
    """`rows` with the `changes` that have rows of `kind` applied in order, as if each had
    replaced its articles in turn: the articles none touched, then each touched article as the
    last change left it, in the order of those changes; the rows copied once. A change without
    rows of `kind` (written by a process without that model) leaves them as they are."""
    mine = [(number, change) for number, change in enumerate(changes) if kind in change.rows]
    if not mine:
        return rows
    last: dict[int, int] = {}
    for number, change in mine:
        for article_id in change.removed:
            last[article_id] = number
    parts = []
    for number, change in mine:
        added = rows_of(change.rows[kind])
        stale = {int(a) for a in added.article_ids.tolist() if last.get(int(a)) != number}
        parts.append(added.without(stale) if stale else added)
    return rows.replacing(set(last), parts)


class Torn(Exception):
    """A main file and its description did not match: read between a writer's two renames."""


@dataclass(frozen=True)
class Main(Generic[T]):
    """What a kind's main files hold: rows (None: unusable, e.g. another format), the log's
    token they go with, their size in bytes."""

    rows: T | None
    token: str | None
    size: int


@dataclass(frozen=True)
class Live(Main[T]):
    """A kind's main files as this process read them, with the first `applied` records of the
    log of their token applied to `rows`."""

    version: tuple = ()  # the main files' inodes, times and sizes
    applied: int = 0


class LiveRows(Generic[T]):
    """One kind of rows of each generation folder as this process last read it: the main files
    read once per version of them, the log's records applied as they come (each process keeps
    one copy of the rows, not the main files' and the applied ones)."""

    def __init__(
        self,
        kind: str,
        files: Sequence[str],
        load: Callable[[Path], Main[T]],
        rows_of: Callable[[Mapping[str, np.ndarray]], T],
    ) -> None:
        self.kind, self.files, self._load, self._rows_of = kind, tuple(files), load, rows_of
        self._cache: dict[str, Live[T]] = {}
        self._lock = threading.Lock()

    def main(self, folder: Path, again: bool = False) -> Live[T] | None:
        """The main files' token and size, and rows: theirs with the log's first `applied`
        records (None: no main files); `again`: read them even if they did not change."""
        key = str(folder)
        for _attempt in range(3):  # the second and third: caught between a writer's renames
            try:
                version = tuple(
                    (st.st_ino, st.st_mtime_ns, st.st_size)
                    for st in (os.stat(folder / name) for name in self.files)
                )
            except OSError:
                return None
            with self._lock:
                found = self._cache.get(key)
            if found is not None and found.version == version and not again:
                return found
            try:
                main = self._load(folder)
            except Torn:
                continue
            live = Live(main.rows, main.token, main.size, version, 0)
            self._store(key, live)
            return live
        return None

    def current(self, folder: Path) -> T | None:
        """The rows with the whole log applied (None: none usable)."""
        live = self.main(folder)
        log = read_log(folder)
        if live is not None and log is not None and log.token != live.token:
            live = self.main(folder)  # a merge between reading the two: its main files are new
        rows = live.rows if live is not None else None
        if live is None or rows is None:
            return None
        if log is None or log.token != live.token or len(log.changes) < live.applied:
            if live.applied:  # the main files' own rows (a log replaced or removed by hand)
                again = self.main(folder, again=True)
                return again.rows if again is not None else None
            return rows
        if len(log.changes) == live.applied:
            return rows
        rows = apply(rows, log.changes[live.applied :], self.kind, self._rows_of)
        self._store(str(folder), Live(rows, live.token, live.size, live.version, len(log.changes)))
        return rows

    def latest(self, folder: Path, article_id: int) -> T | None:
        """Rows that hold the article as `current` has it, without applying the whole log: its
        last record's, or (no record has it) those already read (None: none usable)."""
        live = self.main(folder)
        log = read_log(folder)
        if live is None or live.rows is None or log is None or log.token != live.token:
            return self.current(folder)
        for change in reversed(log.changes):
            if article_id in change.removed and self.kind in change.rows:
                return self._rows_of(change.rows[self.kind])
        return live.rows

    def _store(self, key: str, live: Live[T]) -> None:
        with self._lock:
            self._cache.pop(key, None)
            while len(self._cache) >= 4:  # old generations' (a rebuild replaced them)
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = live
