"""Audit rows: written at once, or (``deferred``, the worker) together in one statement."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from support.desk import audit
from support.desk.models import AuditEvent


def _actions(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_deferred_rows_are_written_in_one_statement_at_the_end(db, session) -> None:
    inserts: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
            inserts.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with audit.deferred(session):
            for action in ("first", "second", "third"):
                audit.record_event(session, action, {})
            assert inserts == []  # nothing written yet
        assert len(inserts) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    session.commit()
    assert _actions(session) == ["first", "second", "third"]


def test_a_rolled_back_savepoint_takes_its_deferred_rows_along(session) -> None:
    with audit.deferred(session):
        audit.record_event(session, "kept", {})
        with session.begin_nested():
            audit.record_event(session, "released", {})
        try:
            with session.begin_nested():
                audit.record_event(session, "rolled back", {})
                raise RuntimeError("the auto-reply failed")
        except RuntimeError:
            audit.record_event(session, "after the failure", {})
    session.commit()
    assert _actions(session) == ["kept", "released", "after the failure"]


def test_an_error_in_the_block_writes_nothing(session) -> None:
    with pytest.raises(RuntimeError), audit.deferred(session):
        audit.record_event(session, "lost", {})
        raise RuntimeError("the message failed")
    session.commit()
    assert _actions(session) == []
    audit.record_event(session, "at once", {})  # outside the block: written as before
    session.commit()
    assert _actions(session) == ["at once"]
