"""Fewer round trips to PostgreSQL: a statement whose result nobody reads (a write, taking a
lock) does not wait for its answer; that comes back with the answer of the next statement that
needs one (psycopg 3's pipeline mode).

The worker spent more time waiting for PostgreSQL's answers than working: each statement was
a round trip, and so were BEGIN, each SAVEPOINT and RELEASE. Inside ``batched(connection)``
a statement is sent at once but its answer is waited for only when the caller needs one: a
SELECT, a RETURNING, an ORM flush (which checks how many rows it changed), a ROLLBACK TO
SAVEPOINT, the COMMIT. BEGIN, SAVEPOINT, RELEASE SAVEPOINT and statements marked
``result_unread`` ride along with that next one.

BEGIN waits for nothing either: psycopg, left to begin transactions itself, waits for the
answer of each BEGIN it sends in a pipeline (to learn that the transaction began), a round trip
for every transaction of the worker, which has one per message. Inside ``batched`` the
connection is in psycopg's autocommit mode and the transactions SQLAlchemy begins and commits
are written out here instead: BEGIN sent with the transaction's first statement, COMMIT sent
and its answer waited for (an error of a write sent earlier shows there, as the commit's),
ROLLBACK as before.

The server still runs the statements one after the other, in order: a statement sent after
one that waits for a lock runs (and takes its snapshot) once the lock is held, as before.
What changes for the caller: an ``result_unread`` statement that fails raises at the next statement
that is answered (at the latest at the COMMIT), not where it was executed; the transaction
fails either way, and nothing is stored. So mark only statements whose failure the caller does
not catch, and whose result (rows, rowcount) it does not read. SQLite has no round trips to
save: there ``batched`` does nothing and every statement runs as it comes.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Insert, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.sql.elements import ReleaseSavepointClause, SavepointClause
from sqlalchemy.sql.expression import Executable

E = TypeVar("E", bound=Executable)

#: Execution option of a statement whose result nobody reads (see ``result_unread``).
RESULT_UNREAD = "result_unread"
#: Connection.info key: the psycopg pipeline the connection is in (see ``batched``).
_PIPELINE = "round_trips.pipeline"
#: psycopg connection -> its pipeline, while in ``batched`` (where the dialect's commit is ours).
_BATCHED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
#: Sent without waiting: their answer is never read (an error shows at the next answer).
_NOT_AWAITED = (SavepointClause, ReleaseSavepointClause)


def result_unread(statement: E) -> E:
    """``statement`` marked as one whose result (rows, rowcount) nobody reads and whose failure
    nobody catches (a write, taking a lock): inside ``batched`` its answer is not waited for."""
    if isinstance(statement, Insert):
        statement = statement.inline()  # no RETURNING of the new id: nobody reads it
    return statement.execution_options(**{RESULT_UNREAD: True})


@contextlib.contextmanager
def batched(connection: Connection) -> Iterator[None]:
    """Send ``connection``'s statements without waiting for answers nobody needs (PostgreSQL
    with psycopg 3; nothing on other databases). Commits and rollbacks inside work as usual."""
    if connection.dialect.driver != "psycopg" or _PIPELINE in connection.info:
        yield
        return
    driver_connection: Any = connection.connection.driver_connection
    # Before the pipeline: changing it inside one costs a round trip. Refused (raises) when a
    # transaction is open, as batched's own BEGIN and COMMIT would not match it.
    driver_connection.autocommit = True
    try:
        with driver_connection.pipeline() as pipeline:
            connection.info[_PIPELINE] = _BATCHED[driver_connection] = pipeline
            try:
                yield
            finally:
                connection.info.pop(_PIPELINE, None)
                _BATCHED.pop(driver_connection, None)
    finally:
        _leave_autocommit(connection, driver_connection)


def _leave_autocommit(connection: Connection, driver_connection: Any) -> None:
    """Back to psycopg's own transactions; a connection that cannot be (a transaction still
    open, a broken connection) is not given back to the pool, where it would autocommit."""
    try:
        driver_connection.autocommit = False
    except Exception:
        connection.invalidate()
        raise


def install(engine: Engine) -> None:
    """Wait for the answers that are needed (see the module's docstring)."""
    event.listen(engine, "begin", _begin)
    engine.dialect.do_commit = _committing(engine.dialect.do_commit)  # type: ignore[method-assign,assignment]
    event.listen(engine, "after_cursor_execute", _await_answer)
    event.listen(engine, "rollback", _before_rollback)
    event.listen(engine, "rollback_savepoint", _before_rollback_to_savepoint)
    event.listen(engine, "handle_error", _after_failed_commit)


def _begin(conn: Connection) -> None:
    """Inside ``batched``: BEGIN, sent with the transaction's first statement."""
    pipeline = conn.info.get(_PIPELINE)
    if pipeline is not None:
        conn.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]


def _committing(original: Callable[[Any], None]) -> Callable[[Any], None]:
    """The dialect's ``do_commit``, which inside ``batched`` sends COMMIT and waits for its
    answer. Not left to psycopg, which sends COMMIT only while the connection says a transaction
    is open, and learns that from answers: a transaction whose answers were all still on their
    way would not be committed. A write's error raised here is handled as the commit's own
    (``_after_failed_commit``)."""

    def do_commit(dbapi_connection: Any) -> None:
        # SQLAlchemy passes the pool's proxy; the pipeline belongs to psycopg's connection.
        driver_connection = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        pipeline = _BATCHED.get(driver_connection)
        if pipeline is None:
            original(dbapi_connection)
            return
        driver_connection.execute("COMMIT")
        pipeline.sync()

    return do_commit


def _await_answer(
    conn: Connection,
    _cursor: Any,
    _statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    pipeline = conn.info.get(_PIPELINE)
    if pipeline is None:
        return
    compiled = context.compiled
    if compiled is not None and isinstance(compiled.statement, _NOT_AWAITED):
        return
    if (
        context.execution_options.get(RESULT_UNREAD)
        and not context._is_explicit_returning
        and not context._is_implicit_returning
    ):
        return
    pipeline.sync()


def _discard_pending(conn: Connection) -> None:
    """Before a rollback: collect the answers still on their way; an error among them belongs
    to the work being rolled back (a rollback raising it instead would lose the connection)."""
    pipeline = conn.info.get(_PIPELINE)
    if pipeline is not None:
        with contextlib.suppress(Exception):
            pipeline.sync()


def _before_rollback(conn: Connection) -> None:
    _discard_pending(conn)


def _before_rollback_to_savepoint(conn: Connection, _name: str, _context: Any) -> None:
    _discard_pending(conn)


def _after_failed_commit(context: ExceptionContext) -> None:
    """A write's error raised by the COMMIT that awaited it: the server skipped that COMMIT, so
    the transaction is still open (and failed); end it, or the connection's next transaction
    would fail too. (A statement's error is rolled back by the caller, as everywhere.)"""
    conn = context.connection
    if conn is None or context.statement is not None or _PIPELINE not in conn.info:
        return
    # Until the answers up to the failed COMMIT's sync point are read, psycopg refuses the
    # rollback ("pipeline aborted"), and whether they were read when the error was raised
    # depends on timing: then the next transaction failed (half the time on a loaded machine).
    _discard_pending(conn)
    driver_connection: Any = conn.connection.driver_connection
    with contextlib.suppress(Exception):
        driver_connection.rollback()
