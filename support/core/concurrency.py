"""What differs between SQLite and PostgreSQL when writers meet, in one place.

Business code says what it needs (insert unless present, take turns on a key, lock the rows
it claims, batch commits when there is one writer) and never asks which database it runs on.

SQLite: write sessions begin IMMEDIATE (see ``db.make_engine``), so one writer runs at a time
and none of this needs a lock. PostgreSQL: many writers at once, serialised here with row locks,
advisory locks, ON CONFLICT and savepoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, Function, Label, Row, Select, Table, bindparam, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support.core.db import execute_core
from support.core.round_trips import result_unread

T = TypeVar("T")

# Its answer is not waited for (round_trips.result_unread): the server runs what follows once
# it holds the lock anyway.
_ADVISORY_LOCK = result_unread(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"))


def advisory_lock_on(parameter: str) -> Function[Any]:
    """``serialise_on``'s lock as an expression, its key bound as ``parameter``: for a caller
    that sends a statement of its own right before it (PostgreSQL only), to take both in one
    statement (each statement costs the worker and the server CPU)."""
    return func.pg_advisory_xact_lock(func.hashtextextended(bindparam(parameter), 0))


_INSERT_IGNORING: dict[tuple[Any, ...], Any] = {}


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def single_writer(bind: Session | Engine) -> bool:
    """True when the database lets one writer in at a time (SQLite): a transaction then blocks
    nobody who could have run beside it, and holding it longer costs no concurrency."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "sqlite"


def insert_ignoring_conflict(
    session: Session,
    table: Table,
    values: dict[str, Any],
    *,
    index_elements: tuple[str, ...] | None,
    awaited: bool = False,
) -> bool | None:
    """INSERT the row unless one with the same ``index_elements`` exists (``None``: the same
    value of any unique key) (ON CONFLICT DO NOTHING on both databases). ``awaited``: the
    answer is waited for and says whether the row was written; otherwise None (nothing to
    wait for: the statement may travel with the next one). Statements are built once."""
    dialect = dialect_of(session)
    key = (dialect, table, index_elements, awaited)
    statement = _INSERT_IGNORING.get(key)
    if statement is None:
        inserting = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        statement = (
            inserting.on_conflict_do_nothing(index_elements=list(index_elements))
            if index_elements is not None
            else inserting.on_conflict_do_nothing()
        )
        if awaited:
            statement = statement.returning(*table.primary_key.columns)
        _INSERT_IGNORING[key] = statement
    result = execute_core(session, statement, values)
    return result.first() is not None if awaited else None


_UPSERT: dict[tuple[Any, ...], Any] = {}


def upsert(
    session: Session, table: Table, values: dict[str, Any], *, index_elements: tuple[str, ...]
) -> None:
    """INSERT the row, or UPDATE the existing one with the same ``index_elements`` to
    ``values`` (ON CONFLICT DO UPDATE on both databases), in one statement built once."""
    dialect = dialect_of(session)
    key = (dialect, table, index_elements, tuple(sorted(values)))
    statement = _UPSERT.get(key)
    if statement is None:
        inserting = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        statement = _UPSERT[key] = inserting.on_conflict_do_update(
            index_elements=list(index_elements),
            set_={name: inserting.excluded[name] for name in values if name not in index_elements},
        )
    session.execute(statement, values)


_INSERT_OR_LOCK: dict[tuple[Any, ...], Any] = {}


def insert_or_lock(
    session: Session,
    table: Table,
    values: dict[str, Any],
    *,
    index_elements: tuple[str, ...],
    also: tuple[Label[Any], ...] = (),
    parameters: dict[str, Any] | None = None,
) -> Row[Any]:
    """The row with ``values``' ``index_elements``, INSERTed with ``values`` if absent, locked
    until the transaction ends, in one statement: INSERT ... ON CONFLICT DO UPDATE (setting the
    key to itself, which locks the row as SELECT ... FOR UPDATE would) RETURNING the row.
    A writer holding the row is waited for; the row comes back as that writer left it.

    ``also``: labelled expressions (scalar subqueries) returned with the row, so a caller that
    needs them anyway waits for one answer, not two; their bind ``parameters`` must not be
    named after the table's columns. On PostgreSQL they see the statement's snapshot: rows that
    a writer holding the row committed while it was waited for are not among them (the row
    itself is as that writer left it)."""
    dialect = dialect_of(session)
    key = (dialect, table, index_elements, also)
    statement = _INSERT_OR_LOCK.get(key)
    if statement is None:
        inserting = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        statement = _INSERT_OR_LOCK[key] = inserting.on_conflict_do_update(
            index_elements=list(index_elements),
            set_={name: inserting.excluded[name] for name in index_elements},
        ).returning(*table.columns, *also)
    return session.execute(statement, {**values, **(parameters or {})}).one()


def insert_or_get(
    session: Session, insert: Callable[[], T], get: Callable[[], T | None]
) -> tuple[T, bool]:
    """``insert()`` a row that another writer may be inserting at the same time; on a unique
    conflict, the row ``get()`` finds instead. Returns (row, created).

    SQLite's single writer cannot race, so the insert runs as it is; elsewhere it runs in a
    savepoint that the IntegrityError rolls back, leaving the caller's transaction usable.
    """
    if single_writer(session):
        return insert(), True
    try:
        with session.begin_nested():
            return insert(), True
    except IntegrityError:
        existing = get()
        if existing is None:
            raise
        return existing, False


def serialise_on(session: Session, key: str) -> None:
    """Make concurrent writers take turns on ``key`` until the transaction ends (a PostgreSQL
    advisory lock; nothing on SQLite, whose write transactions already take turns)."""
    if not single_writer(session):
        session.execute(_ADVISORY_LOCK, {"key": key})


def lock_claimed_rows(query: Select[Any], session: Session) -> Select[Any]:
    """``query`` locking the rows it returns and skipping rows others locked (FOR UPDATE SKIP
    LOCKED), so concurrent claimers take different rows; unchanged on SQLite."""
    if single_writer(session):
        return query
    return query.with_for_update(skip_locked=True)
