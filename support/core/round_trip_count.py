"""Counting the round trips to PostgreSQL a piece of work waits for, by what caused each one.

Statements are not round trips: inside ``round_trips.batched`` (psycopg 3's pipeline mode) most
are sent without waiting, and the waits come from a SELECT whose rows are read, a RETURNING,
a COMMIT; outside it every statement, COMMIT and pool checkout (its ping) is one. The worker's
throughput against a database on another host follows the waits, so that is what is counted:

* outside a pipeline, each exchange psycopg waits for (``Connection.wait``; a commit or
  rollback with no transaction open sends nothing and is not counted);
* inside one, each Sync (its answer is always waited for: ``_sync_gen``, ``_exit_gen``) and
  each read of a cursor's rows before the Sync that would bring them (``_fetch_pipeline``).
  Counted whether or not the answer happened to be there already: on loopback it often is,
  behind a network it is not, and the count must not depend on the machine's speed.

Each wait is put under a kind: ``commit``, ``rollback``, ``ping`` (a pool checkout's
``pool_pre_ping``), ``answer: <statement>`` inside a pipeline (the statement whose answer was
needed) and ``plain: <statement>`` outside one; the caller may add a ``phase`` (the name of
the innermost function of the call stack found in ``phases``). bench/worker_statements.py
checks the total against the turns a proxy saw on the wire.

A measuring tool, for tests and benches: it patches four psycopg methods (private ones: the
places every wait passes) for the whole process while it counts; one counter at a time.
"""

from __future__ import annotations

import collections
import contextlib
import re
import sys
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import psycopg
from psycopg._pipeline_base import BasePipeline
from sqlalchemy import Engine, event

_WHITESPACE = re.compile(r"\s+")
_PARAMETER = re.compile(r"%\(\w+\)s|\$\d+|\?")
#: SQLAlchemy numbers its savepoints per connection (sa_savepoint_1, _2, ...): one kind.
_SAVEPOINT_NAME = re.compile(r"\bsa_savepoint_\d+\b")
#: Functions that say what a wait is, by (name, a folder of the file defining it); innermost
#: first wins. Only the driver's commit and rollback: a Session.commit's flush is statements.
_CAUSES = {
    ("do_ping", "sqlalchemy"): "ping",
    ("commit", "psycopg"): "commit",
    ("do_commit", "support/core"): "commit",  # round_trips.batched's own COMMIT
    ("rollback", "psycopg"): "rollback",
}


def statement_kind(statement: str, width: int = 90) -> str:
    """A statement's text, one line, parameters as ``?``, cut to ``width`` characters."""
    kind = _PARAMETER.sub("?", _WHITESPACE.sub(" ", statement.strip())[:width])
    return _SAVEPOINT_NAME.sub("sa_savepoint_?", kind)


class RoundTrips:
    """Waits counted by (phase, kind); see the module's docstring."""

    def __init__(self, phases: Iterable[str] = ()) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.checkouts = 0
        self.commits = 0
        self._phases = frozenset(phases)
        self._statement = threading.local()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_phase(self) -> collections.Counter[str]:
        phases: collections.Counter[str] = collections.Counter()
        for (phase, _kind), number in self.counts.items():
            phases[phase] += number
        return phases

    def _label(self, in_pipeline: bool) -> tuple[str, str]:
        """(phase, kind) of a wait psycopg is about to do, from the call stack."""
        cause, phase = None, ""
        frame = sys._getframe(2)
        while frame is not None:
            code = frame.f_code
            name = code.co_name
            if cause is None:
                for (function, folder), kind in _CAUSES.items():
                    if name == function and f"/{folder}/" in code.co_filename:
                        cause = kind
            if name in self._phases:
                phase = name
                break
            frame = frame.f_back  # type: ignore[assignment]
        if cause is None:
            statement = getattr(self._statement, "kind", "?")
            cause = f"{'answer' if in_pipeline else 'plain'}: {statement}"
        return phase, cause

    def _counted(self, gen: Generator[Any, Any, Any], label: tuple[str, str]) -> Any:
        """``gen``, a psycopg exchange, counted under ``label`` if it goes to the network at
        all (a rollback or commit with no transaction open returns at once)."""
        try:
            request = gen.send(None)
        except StopIteration as stop:
            return stop.value
        self.counts[label] += 1
        while True:
            try:
                reply = yield request
            except BaseException as exc:  # psycopg's wait passing on an interruption
                request = gen.throw(exc)
                continue
            try:
                request = gen.send(reply)
            except StopIteration as stop:
                return stop.value

    def _before_execute(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self._statement.kind = statement_kind(statement)

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += 1

    def _commit(self, *_args: Any) -> None:
        self.commits += 1


_counting = threading.Lock()


@contextlib.contextmanager
def counting(engine: Engine, *, phases: Iterable[str] = ()) -> Iterator[RoundTrips]:
    """Count the round trips of ``engine``'s connections (psycopg) until the block ends."""
    counter = RoundTrips(phases)
    if not _counting.acquire(blocking=False):
        raise RuntimeError("one round-trip counter at a time")
    originals: list[tuple[Any, str, Any]] = [
        (psycopg.Connection, "wait", psycopg.Connection.wait),
        (BasePipeline, "_sync_gen", BasePipeline._sync_gen),
        (BasePipeline, "_exit_gen", BasePipeline._exit_gen),
        (psycopg.Cursor, "_fetch_pipeline", psycopg.Cursor._fetch_pipeline),
    ]
    wait, sync_gen, exit_gen, fetch_pipeline = (method for _c, _n, method in originals)

    def counted_wait(self: psycopg.Connection[Any], gen: Any, *args: Any, **kwargs: Any) -> Any:
        if self._pipeline is None:  # an exchange; in a pipeline, only what is counted below
            gen = counter._counted(gen, counter._label(in_pipeline=False))
        return wait(self, gen, *args, **kwargs)

    def counted_sync(self: BasePipeline) -> Any:  # a Sync: its answer is always waited for
        counter.counts[counter._label(in_pipeline=True)] += 1
        return sync_gen(self)

    def counted_exit(self: BasePipeline) -> Any:  # leaving the pipeline sends a Sync
        counter.counts[counter._label(in_pipeline=True)] += 1
        return exit_gen(self)

    def counted_fetch(self: psycopg.Cursor[Any]) -> None:  # rows read before any Sync
        pipeline = self._conn._pipeline
        if pipeline and not self.pgresult and self._execmany_returning is not False:
            counter.counts[counter._label(in_pipeline=True)] += 1
        fetch_pipeline(self)

    listeners: list[tuple[Any, str, Callable[..., Any]]] = [
        (engine, "before_cursor_execute", counter._before_execute),
        (engine, "commit", counter._commit),
        (engine.pool, "checkout", counter._checkout),
    ]
    try:
        for (owner, name, _method), replacement in zip(
            originals, (counted_wait, counted_sync, counted_exit, counted_fetch), strict=True
        ):
            setattr(owner, name, replacement)
        for target, name, listener in listeners:
            event.listen(target, name, listener)
        yield counter
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
        for owner, name, method in originals:
            setattr(owner, name, method)
        _counting.release()
