"""Reference data kept by a worker from one transaction to the next, for a few seconds.

On PostgreSQL the worker writes each message in a transaction of its own (see
``mailrouter.intake.worker``), so data read "once per transaction" (departments with their
members, urgency levels, our addresses, reply templates, triage staff) was read again for
every message: 6 of 31 statements of a new ticket. A ``ReferenceCache`` in a session's
``info`` (the worker puts its own there) keeps each such value for up to ``ttl`` seconds
instead, in every transaction of that worker.

What staff change reaches the worker:

* from another process or host: within ``ttl`` (REFERENCE_TTL_SECONDS), as nothing tells it;
* from this process (``support run``: web pages and worker threads; tests): at once, as a
  transaction whose ORM flush wrote one of the tables a value was read from moves this
  process's generation on when it ends, and a value read at an older generation is read again
  (a Core UPDATE of such a table waits for the ttl, as on another host).

Values are kept as plain data or as detached copies of ORM objects that no session holds;
each transaction gets its own copies (``Session.merge(load=False)``: no SQL), so whatever a
transaction does to them never reaches the next one; a dict's values are copied only when the
transaction uses them (a mapping, not a dict, then). Sessions without a cache (web requests,
the CLI) read once per transaction, as before.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from support.core.db import once_per_transaction

T = TypeVar("T")

#: How long a worker uses reference data before reading it again (a change made on another
#: host reaches the worker within this).
REFERENCE_TTL_SECONDS = 2.0
#: ``Session.info`` key of the session's ``ReferenceCache`` (set by the worker).
REFERENCE_CACHE = "reference_cache"
#: ``Session.info`` key: this session wrote a watched table (its commit moves the generation).
_WROTE_REFERENCE = "reference_cache.wrote"

_generations = itertools.count(1)
_generation = 0
_generation_lock = threading.Lock()
#: Names of the tables reference values were read from; a commit writing one moves the generation.
_watched: set[str] = set()


def current_generation() -> int:
    """This process's reference generation: moves on with each commit that wrote a watched
    table (the values read before it are read again)."""
    return _generation


def _next_generation() -> None:
    global _generation
    with _generation_lock:
        _generation = next(_generations)


@dataclass(frozen=True)
class _Entry:
    read_at: float
    generation: int
    #: Plain data, or detached copies of ORM objects that no session holds.
    value: Any


class ReferenceCache:
    """One worker's reference values (a worker runs one transaction at a time; the lock only
    keeps two threads sharing a cache from corrupting it)."""

    def __init__(
        self, *, ttl: float = REFERENCE_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        #: How often a value was read from the database (for tests and benches).
        self.loads = 0

    def get(self, session: Session, key: str, load: Callable[[], T]) -> T:
        """The value under ``key`` for ``session``'s transaction: kept, or ``load()`` now."""
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
        if (
            entry is not None
            and entry.generation == current_generation()
            and now - entry.read_at < self.ttl
        ):
            return _copied_into(session, entry.value)
        generation = current_generation()  # before reading: a commit meanwhile means "stale"
        value = load()
        kept = _detached_copy(value)
        with self._lock:
            self._entries[key] = _Entry(now, generation, kept)
            self.loads += 1
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def reference_data(
    session: Session, key: str, load: Callable[[], T], *, tables: Iterable[Table]
) -> T:
    """``load()`` once per transaction, or, in a session with a ``ReferenceCache`` (the
    worker's), once per REFERENCE_TTL_SECONDS. ``tables`` are those ``load`` reads: a commit
    in this process that writes one of them makes every cache read its values again.

    The value must be plain data (never changed by the caller) or ORM objects, alone or in a
    list, tuple or dict's values, whose loaded relationships are all it needs. A dict comes
    back as a read-only mapping in a session with a cache (see ``_CopiedOnUse``).
    """
    _watched.update(table.name for table in tables)
    cache = session.info.get(REFERENCE_CACHE)
    if cache is None:
        return once_per_transaction(session, key, load)
    return once_per_transaction(session, key, lambda: cache.get(session, key, load))


def _copied_into(session: Session, value: Any) -> Any:
    """``value`` for a transaction of ``session``: its ORM objects copied into the session
    (``Session.merge(load=False)``: no SQL). A dict's values are copied when the transaction
    first uses them (``_CopiedOnUse``): on PostgreSQL every message is a transaction, and it
    uses one of the five departments, but copied all of them (with their members) each time."""
    if isinstance(value, dict):
        return _CopiedOnUse(session, value)
    return _each_instance(value, lambda obj: session.merge(obj, load=False))


class _CopiedOnUse(Mapping[Any, Any]):
    """A kept dict seen by one transaction: each value copied into its session on first use
    (``[]``, ``get``, ``values()``...), then the same copy; keys and ``in`` copy nothing."""

    def __init__(self, session: Session, kept: dict[Any, Any]) -> None:
        self._session = session
        self._kept = kept
        self._copies: dict[Any, Any] = {}

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._copies[key]
        except KeyError:
            copy = _copied_into(self._session, self._kept[key])
            self._copies[key] = copy
            return copy

    def __contains__(self, key: object) -> bool:
        return key in self._kept

    def __iter__(self) -> Iterator[Any]:
        return iter(self._kept)

    def __len__(self) -> int:
        return len(self._kept)


def _each_instance(value: Any, change: Callable[[Any], Any]) -> Any:
    """``value`` with each ORM object in it (alone, in a list, tuple or dict) changed."""
    if isinstance(value, dict):
        return {k: _each_instance(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_each_instance(v, change) for v in value)
    if hasattr(value, "_sa_instance_state"):  # a mapped object
        return change(value)
    return value


def _detached_copy(value: Any) -> Any:
    """Copies of the ORM objects in ``value`` (and the related objects they have loaded) that
    belong to no session: the caller's transaction keeps using its own."""
    scratch = Session()
    try:
        return _each_instance(value, lambda obj: scratch.merge(obj, load=False))
    finally:
        scratch.expunge_all()
        scratch.close()


@event.listens_for(Session, "after_flush")
def _note_reference_writes(session: Session, _context: Any) -> None:
    if not _watched or session.info.get(_WROTE_REFERENCE):
        return
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        tables = inspect(obj).mapper.tables
        if any(table.name in _watched for table in tables):
            session.info[_WROTE_REFERENCE] = True
            return


@event.listens_for(Session, "after_transaction_end")
def _move_generation(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended: if it wrote a watched table, values read before are
    stale (on a rollback too: a reread costs little, a skipped one could keep a change out)."""
    if transaction.parent is None and session.info.pop(_WROTE_REFERENCE, False):
        _next_generation()
