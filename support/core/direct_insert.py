"""New ORM objects written with one Core INSERT each, for the mail intake's hot path.

The worker writes a new ticket, its message, attachments and (on first contact) customer for
every mail. The ORM's unit of work spent several times longer on its bookkeeping for that
flush (dependency graph, sorting, history) than SQLite spent on the INSERTs. ``insert_new``
writes each object's row directly and then hands the object to the session as a loaded row,
so the code after it works with ordinary persistent objects.

What the unit of work would have done, done here explicitly and only that:

* many-to-one relationships set on the object fill its foreign-key columns (pass parents
  before children);
* columns not set get their Python-side default (``default=``), else NULL;
* the primary key comes from the object if set, else from the database (INSERT ... RETURNING,
  SQLite >= 3.35 and PostgreSQL): ids are never computed by us (no MAX(id) + 1);
* columns derived from the new key (a ticket's reference "SUP-00042", a customer's number) are
  written by one UPDATE right after the row's INSERT (``derived=``);
* in a session with ``KeyBlocks`` (the worker's, on PostgreSQL) the key is drawn ahead from the
  table's own sequence, a block of them with one query, so the INSERT carries the key and the
  derived columns and is sent without waiting for an answer (``support.core.round_trips``):
  the worker kept waiting for PostgreSQL at every new row's RETURNING, 3 to 5 times a mail;
* when the transaction or savepoint that wrote the rows rolls back, the objects leave the
  session, as new objects of a flush do: otherwise the session would keep rows that are gone,
  and refuse the next object that gets the same id.

Performance budget: one worker on SQLite must process >= 150 messages/s end to end
(bench/intake_bench.py; the README's figures: 158-176 msg/s), which is why this path exists.
It may spend one statement per row (plus one per derived row) and no ORM flush; anything that
adds a read per row, or falls back to the unit of work, must be measured against that figure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Insert,
    Table,
    Update,
    bindparam,
    event,
    insert,
    inspect,
    text,
    update,
)
from sqlalchemy.orm import (
    Mapper,
    RelationshipDirection,
    Session,
    SessionTransaction,
    make_transient_to_detached,
)

from support.core.concurrency import insert_ignoring_conflict
from support.core.db import execute_core
from support.core.round_trips import result_unread

_INSERTS: dict[Table, Insert] = {}
#: session.info key: (open transactions, objects) for each insert_new call since the last commit.
_WRITTEN = "direct_insert.written"


def _insert_for(table: Table) -> Insert:
    statement = _INSERTS.get(table)
    if statement is None:
        (key,) = table.primary_key.columns
        statement = _INSERTS[table] = insert(table).returning(key)
    return statement


_KEYED_INSERTS: dict[Table, Insert] = {}


def _keyed_insert_for(table: Table) -> Insert:
    """INSERT with the key given: nothing to read back, so nothing to wait for."""
    statement = _KEYED_INSERTS.get(table)
    if statement is None:
        statement = _KEYED_INSERTS[table] = result_unread(insert(table))
    return statement


#: ``Session.info`` key of the session's ``KeyBlocks`` (set by the worker on PostgreSQL).
KEY_BLOCKS = "direct_insert.key_blocks"
#: ``counts[i]`` keys of table ``tables[i]`` (key column ``columns[i]``) for each i, in one answer.
_NEXT_KEYS = text(
    "SELECT wanted.name, nextval(pg_get_serial_sequence(wanted.name, wanted.key_column)) AS key"
    " FROM unnest(CAST(:tables AS text[]), CAST(:columns AS text[]), CAST(:counts AS integer[]))"
    " AS wanted(name, key_column, count), generate_series(1, wanted.count) ORDER BY 1, 2"
)


class KeyBlocks:
    """Primary keys drawn from each table's sequence ahead, ``size`` at a time (PostgreSQL).

    Keys of a block that a process never uses (it stopped, a transaction rolled back) are
    gaps, as a rolled-back INSERT leaves; two workers' new tickets get references from their
    own blocks, so references are unique but not in the order the mail arrived across workers.
    A sequence set back under a running worker (a restore, ``RESTART IDENTITY``) would hand out
    keys the blocks still hold: the first duplicate key ``clear()``s them (the worker does,
    see ``mailrouter.intake.worker``) and the retry draws fresh ones.

    A draw also tops up the blocks of the other tables drawn from before, in the same
    statement: a new ticket takes keys of three to five tables, and each block running out was
    a wait for the server of its own (0.17 a mail, 4 % of the worker's round trips, in
    bench/worker_statements.py; now one draw where there were three). No block ever holds more
    than ``size`` keys, so a stop leaves no more unused keys than before.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._free: dict[str, list[int]] = {}
        #: Table name -> its key column, for each table drawn from (topped up with each draw).
        self._columns: dict[str, str] = {}
        self._lock = threading.Lock()

    def take(self, session: Session, table: Table) -> int:
        with self._lock:
            free = self._free.get(table.fullname)
            if free:
                return free.pop()
            (key,) = table.primary_key.columns
            self._columns[table.fullname] = key.name
            wanted = {
                name: self.size - len(self._free.get(name, ()))
                for name in self._columns
                if name == table.fullname or len(self._free.get(name, ())) < self.size
            }
            columns = dict(self._columns)
        names = list(wanted)
        drawn = execute_core(
            session,
            _NEXT_KEYS,
            {
                "tables": names,
                "columns": [columns[name] for name in names],
                "counts": [wanted[name] for name in names],
            },
        ).all()
        keys: dict[str, list[int]] = {}
        for name, drawn_key in cast(list[tuple[str, int]], drawn):
            keys.setdefault(name, []).append(int(drawn_key))
        first, *rest = sorted(keys.pop(table.fullname))
        with self._lock:
            for name, more in [(table.fullname, rest), *keys.items()]:
                free = self._free.setdefault(name, [])
                free.extend(more)
                free.sort(reverse=True)  # pop() takes the smallest: keys follow the mail's order
        return first

    def clear(self) -> None:
        with self._lock:
            self._free.clear()


_UPDATES: dict[tuple[Table, tuple[str, ...]], Update] = {}
_KEY_PARAM = "direct_insert_key"


def _update_for(table: Table, columns: tuple[str, ...]) -> Update:
    """One cached UPDATE per table and column set: built and compiled once, not per row."""
    statement = _UPDATES.get((table, columns))
    if statement is None:
        (key,) = table.primary_key.columns
        statement = _UPDATES[(table, columns)] = result_unread(
            update(table)
            .where(key == bindparam(_KEY_PARAM))
            .values({name: bindparam(name) for name in columns})
        )
    return statement


@dataclass(frozen=True)
class _ColumnPlan:
    """What ``insert_new`` reads of a mapper for every row, worked out once per mapper: the
    mapper's column-to-attribute lookups cost more than the row's INSERT on SQLite.

    Budget: a row's foreign keys and values from the plan cost 47-74 us of CPU against 58-99
    us looked up per row (/tmp micro-bench of a customer, ticket, message and attachment,
    docs/measurements.md, twenty-seventh session); about 4 rows a mail. Anything added here
    must stay a pure function of the mapper (no per-object state).
    """

    #: The attribute holding the primary key.
    key_attribute: str
    #: (column, attribute, is primary key, default) in the table's column order.
    columns: tuple[tuple[Column[Any], str, bool, Any], ...]
    #: (relationship, ((local attribute, remote column), ...)) of the many-to-one ones.
    parents: tuple[tuple[Any, tuple[tuple[str, ColumnElement[Any]], ...]], ...]


_PLANS: dict[Mapper[Any], _ColumnPlan] = {}


def _plan_for(mapper: Mapper[Any]) -> _ColumnPlan:
    plan = _PLANS.get(mapper)
    if plan is None:
        table = cast(Table, mapper.local_table)
        (key_column,) = table.primary_key.columns
        plan = _PLANS[mapper] = _ColumnPlan(
            key_attribute=mapper.get_property_by_column(key_column).key,
            columns=tuple(
                (
                    column,
                    mapper.get_property_by_column(column).key,
                    bool(column.primary_key),
                    column.default,
                )
                for column in cast("list[Column[Any]]", table.columns)
            ),
            parents=tuple(
                (
                    relationship,
                    tuple(
                        (mapper.get_property_by_column(local).key, remote)
                        for local, remote in relationship.local_remote_pairs
                    ),
                )
                for relationship in mapper.relationships
                if relationship.direction is RelationshipDirection.MANYTOONE
            ),
        )
    return plan


#: (parent's mapper, remote column) -> the parent's attribute holding it.
_PARENT_ATTRIBUTES: dict[tuple[Mapper[Any], ColumnElement[Any]], str] = {}


def _parent_attribute(parent: Any, remote: ColumnElement[Any]) -> str:
    mapper = inspect(parent).mapper
    attribute = _PARENT_ATTRIBUTES.get((mapper, remote))
    if attribute is None:
        attribute = _PARENT_ATTRIBUTES[(mapper, remote)] = mapper.get_property_by_column(remote).key
    return attribute


def _fill_foreign_keys(plan: _ColumnPlan, obj: Any) -> None:
    loaded = obj.__dict__
    for relationship, pairs in plan.parents:
        if relationship.key not in loaded:
            continue
        parent = loaded[relationship.key]
        for local_attribute, remote in pairs:
            value = None
            if parent is not None:
                value = getattr(parent, _parent_attribute(parent, remote))
                if value is None:
                    raise ValueError(f"{relationship} points at an unwritten {parent!r}")
            setattr(obj, local_attribute, value)


def _row_values(plan: _ColumnPlan, obj: Any) -> dict[str, Any]:
    loaded = obj.__dict__
    values: dict[str, Any] = {}
    for column, attribute, primary_key, default in plan.columns:
        if attribute in loaded:
            values[column.key] = loaded[attribute]
        elif primary_key:
            continue
        else:
            if default is None:
                value = None
            elif default.is_callable:
                value = default.arg(None)  # wrapped: takes a context
            elif default.is_scalar:
                value = default.arg
            else:
                raise ValueError(f"{column} has a default insert_new cannot compute")
            setattr(obj, attribute, value)
            values[column.key] = value
    return values


#: For an object given to insert_new: its new primary key -> {attribute: value} to store.
Derive = Callable[[Any], Mapping[str, Any]]


def insert_new(
    session: Session,
    *objects: Any,
    derived: Mapping[Any, Derive] | None = None,
    awaited: bool = False,
) -> None:
    """INSERT each transient object's row (in the caller's transaction), then make them loaded,
    persistent objects of ``session``; give parents before their children.

    ``derived`` maps some of the objects to a function of their new primary key giving
    attribute values that depend on it; they are written with that object's row.
    ``awaited``: the caller catches the INSERT's failure (a unique key, ``insert_or_get``), so
    the key is not drawn ahead and the INSERT waits for its answer.
    """
    blocks = None if awaited else session.info.get(KEY_BLOCKS)
    with session.no_autoflush:  # a parent holding one of these would be flushed half-made
        _insert_rows(session, objects, derived or {}, blocks)
    _persist(session, objects)


def insert_new_unless_taken(session: Session, obj: Any) -> bool:
    """INSERT ``obj``'s row (its primary key set by the caller) unless a unique key of the
    table holds it back: then nothing is written and ``obj`` stays transient (False). In one
    statement with ``ON CONFLICT DO NOTHING``, so the caller's transaction needs no savepoint
    for the clash (two statements more to send and for the server to run, where a savepoint
    around a plain INSERT caught its IntegrityError). A row another transaction is inserting
    with the same key is waited for, as a plain INSERT would be."""
    state = inspect(obj)
    if not state.transient:
        raise ValueError(f"{obj!r} is not new")
    mapper = state.mapper
    table = mapper.local_table
    plan = _plan_for(mapper)
    if obj.__dict__.get(plan.key_attribute) is None:
        raise ValueError(f"{obj!r} has no primary key")
    with session.no_autoflush:
        _fill_foreign_keys(plan, obj)
        values = _row_values(plan, obj)
        if not insert_ignoring_conflict(session, table, values, index_elements=None, awaited=True):
            return False
    _persist(session, (obj,))
    return True


def _persist(session: Session, objects: tuple[Any, ...]) -> None:
    """Objects whose rows were just written become loaded, persistent objects of ``session``
    (until the transaction or savepoint that wrote them rolls back)."""
    # Only now: adding one object cascades to the others it holds, which must be written first.
    for obj in objects:
        make_transient_to_detached(obj)
    for obj in objects:
        session.add(obj)
    session.info.setdefault(_WRITTEN, []).append((open_transactions(session), objects))


def _insert_rows(
    session: Session,
    objects: tuple[Any, ...],
    derived: Mapping[Any, Derive],
    blocks: KeyBlocks | None,
) -> None:
    for obj in objects:
        state = inspect(obj)
        if not state.transient:
            raise ValueError(f"{obj!r} is not new")
        mapper = state.mapper
        plan = _plan_for(mapper)
        _fill_foreign_keys(plan, obj)
        table = mapper.local_table
        key_attribute = plan.key_attribute
        derive = derived.get(obj)
        if blocks is not None and obj.__dict__.get(key_attribute) is None:
            key = blocks.take(session, table)
            setattr(obj, key_attribute, key)
            for name, value in (derive(key) if derive is not None else {}).items():
                setattr(obj, name, value)
            execute_core(session, _keyed_insert_for(table), _row_values(plan, obj))
            continue
        values = _row_values(plan, obj)
        key = execute_core(session, _insert_for(table), values).scalar_one()
        setattr(obj, key_attribute, key)
        if derive is not None:
            changes = dict(derive(key))
            columns = {mapper.attrs[name].columns[0].key: v for name, v in changes.items()}
            statement = _update_for(mapper.local_table, tuple(sorted(columns)))
            execute_core(session, statement, {_KEY_PARAM: key, **columns})
            for name, value in changes.items():
                setattr(obj, name, value)


def open_transactions(session: Session) -> tuple[SessionTransaction, ...]:
    """The savepoints and the transaction open now, innermost first: what a rollback of any of
    them undoes (rows written directly, audit rows waiting to be written)."""
    chain = []
    transaction = session.get_nested_transaction() or session.get_transaction()
    while transaction is not None:
        chain.append(transaction)
        transaction = transaction.parent
    return tuple(chain)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    kept = []
    for transactions, objects in session.info.get(_WRITTEN, ()):
        if previous_transaction in transactions:
            for obj in objects:
                if obj in session:
                    session.expunge(obj)
        else:
            kept.append((transactions, objects))
    session.info[_WRITTEN] = kept


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    if not session.in_transaction():  # the outermost commit (a savepoint's keeps it open)
        session.info.pop(_WRITTEN, None)
