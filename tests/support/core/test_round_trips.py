"""Writes nobody reads the answer of go to PostgreSQL with the next statement that is answered
(support.core.round_trips): the same rows stored, errors still fail the transaction."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support.core.db import utcnow
from support.core.round_trips import batched, result_unread
from support.desk.models import AuditEvent

ACTION = "test.round_trips"
_INSERT = result_unread(insert(AuditEvent.__table__))
MISSING_USER = 987_654


def _row(actor_id: int | None = None) -> dict:
    return {"created_at": utcnow(), "action": ACTION, "actor_label": "test", "actor_id": actor_id}


def _stored(db) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).where(AuditEvent.action == ACTION)) or 0


def _syncs(monkeypatch) -> list[int]:
    """Counts the answers waited for inside ``batched`` (PostgreSQL only)."""
    import psycopg

    counted: list[int] = []
    original = psycopg.Pipeline.sync

    def sync(self) -> None:
        counted.append(1)
        original(self)

    monkeypatch.setattr(psycopg.Pipeline, "sync", sync)
    return counted


def test_unread_rows_are_stored_and_answered_reads_see_them(db, monkeypatch) -> None:
    syncs = _syncs(monkeypatch) if db.dialect == "postgresql" else None
    with db.engine.connect() as connection, batched(connection):
        with Session(bind=connection) as session, session.begin():
            with session.begin_nested():
                session.execute(_INSERT, _row())
                session.execute(_INSERT, _row())
            if syncs is not None:
                assert syncs == []  # BEGIN, SAVEPOINT, two INSERTs, RELEASE: no answer awaited
            seen = session.scalar(select(func.count()).where(AuditEvent.action == ACTION))
            assert seen == 2
    assert _stored(db) == 2


def test_a_failing_unread_statement_fails_its_transaction(db) -> None:
    with pytest.raises(IntegrityError), db.engine.connect() as connection, batched(connection):
        with Session(bind=connection) as session, session.begin():
            session.execute(_INSERT, _row())
            session.execute(_INSERT, _row(actor_id=MISSING_USER))  # no such user
            session.execute(_INSERT, _row())
    assert _stored(db) == 0


def test_a_savepoint_rolled_back_takes_its_failed_write_along(db) -> None:
    """An error in a savepoint's unanswered write, rolled back with it, is not the
    transaction's: the work before and after the savepoint is committed."""
    with db.engine.connect() as connection, batched(connection):
        with Session(bind=connection) as session, session.begin():
            session.execute(_INSERT, _row())
            # SQLite answers every statement: there the error shows in the savepoint itself.
            with pytest.raises((RuntimeError, IntegrityError)), session.begin_nested():
                session.execute(_INSERT, _row(actor_id=MISSING_USER))
                raise RuntimeError("the savepoint's own work failed")
            session.execute(_INSERT, _row())
    assert _stored(db) == 2


def test_the_connection_works_after_a_failed_transaction(db) -> None:
    with db.engine.connect() as connection, batched(connection):
        with pytest.raises(IntegrityError), Session(bind=connection) as session, session.begin():
            session.execute(_INSERT, _row(actor_id=MISSING_USER))
        with Session(bind=connection) as session, session.begin():
            session.execute(_INSERT, _row())
    assert _stored(db) == 1


def test_a_transaction_whose_writes_were_all_unanswered_is_committed(db, monkeypatch) -> None:
    """No answer came back before the COMMIT (no SELECT, no RETURNING): psycopg, asked to
    commit, would have thought no transaction open. And its BEGIN was not waited for."""
    syncs = _syncs(monkeypatch) if db.dialect == "postgresql" else None
    with db.engine.connect() as connection, batched(connection):
        for _ in range(2):
            with Session(bind=connection) as session, session.begin():
                session.execute(_INSERT, _row())
    if syncs is not None:
        assert len(syncs) == 2  # one a transaction: its COMMIT (BEGIN rode along)
    assert _stored(db) == 2


@pytest.mark.parametrize("fails", [False, True])
def test_the_pooled_connection_is_back_to_its_own_transactions(db, fails) -> None:
    """Inside ``batched`` the driver autocommits (BEGIN and COMMIT are ours); the pool must
    never hand that connection to anyone else in that state."""
    with db.engine.connect() as connection:
        driver = connection.connection.driver_connection
        with pytest.raises(IntegrityError) if fails else contextlib.nullcontext():
            with batched(connection), Session(bind=connection) as session, session.begin():
                session.execute(_INSERT, _row(actor_id=MISSING_USER if fails else None))
        assert getattr(driver, "autocommit", False) is False
        connection.execute(_INSERT, _row())
        connection.rollback()  # not autocommitted: nothing of it is stored
    assert _stored(db) == (0 if fails else 1)
