"""Writes nobody reads the answer of go to PostgreSQL with the next statement that is answered
(support.core.round_trips): the same rows stored, errors still fail the transaction."""

from __future__ import annotations

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
