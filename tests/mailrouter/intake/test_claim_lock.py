"""The worker's first statement of a message locks its claim and takes the Message-ID's turn
(``queue.lock_claim`` with ``serialise_key``): one statement where there were two, and both
locks still held until the message's transaction ends (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from mailrouter.intake import queue
from mailrouter.intake.worker import Worker
from tests.mailrouter.conftest import make_mail

KEY = "message-id:<claim-lock@mail.example.net>"
_TRY_KEY = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))")
_TRY_ROW = text("SELECT id FROM inbound_mail WHERE id = :id FOR UPDATE SKIP LOCKED")


def _stored(session) -> int:
    row_id = queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(message_id="<claim-lock@mail.example.net>"),
        envelope_from="customer@example.net",
        envelope_to=["support@example.com"],
    ).id
    session.commit()
    return row_id


def _claimed(session, worker_id: str = "me") -> int:
    row_id = _stored(session)
    queue.claim_batch(session, worker_id=worker_id, lease_seconds=60, max_attempts=3, limit=1)
    session.commit()
    return row_id


def _others_can_take(db, row_id: int) -> tuple[bool, bool]:
    """(the Message-ID's turn, the row's lock) as another connection finds them now."""
    with db.engine.connect() as other:
        key_free = other.execute(_TRY_KEY, {"key": KEY}).scalar_one()
        row_free = other.execute(_TRY_ROW, {"id": row_id}).first() is not None
        other.rollback()
    return key_free, row_free


@pytest.fixture
def postgresql_only(db) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite's write transactions take turns without locks")


@pytest.mark.usefixtures("postgresql_only")
def test_one_statement_holds_the_claim_and_the_message_ids_turn(db, session) -> None:
    row_id = _claimed(session)
    with db.session() as writing:
        queue.lock_claim(writing, row_id, worker_id="me", serialise_key=KEY)
        assert _others_can_take(db, row_id) == (False, False)
    assert _others_can_take(db, row_id) == (True, True)  # until the transaction ended


@pytest.mark.usefixtures("postgresql_only")
def test_a_lost_claim_takes_neither_lock(db, session) -> None:
    row_id = _claimed(session, worker_id="someone else")
    with db.session() as writing:
        queue.lock_claim(writing, row_id, worker_id="me", serialise_key=KEY)
        assert _others_can_take(db, row_id) == (True, True)


@pytest.mark.usefixtures("postgresql_only")
def test_the_worker_sends_no_separate_message_id_lock(app, db, session) -> None:
    _stored(session)
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        worker = Worker(app, retry_base_seconds=0, prepare_process=False)
        assert [p.state for p in worker.process_batch()] == ["processed"]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    locks = [s for s in sent if "pg_advisory_xact_lock" in s]
    assert len(locks) == 1, locks
    assert "FROM inbound_mail" in locks[0] and "FOR UPDATE" in locks[0]
