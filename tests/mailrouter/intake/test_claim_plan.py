"""The claim reads the oldest due rows from the queue's own index and stops (SQLite and
PostgreSQL): neither the history of processed mail before them nor the backlog behind them is
read for each claim of 20 (``ix_inbound_mail_queued``, ``queue._CLAIMABLE``)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, text

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from support.core.db import utcnow
from support.core.tables import table_of

HISTORY = 3000
BACKLOG = 400


def _fill(db, rows: list[dict[str, Any]]) -> None:
    with db.engine.begin() as connection:
        connection.execute(insert(table_of(InboundMail)), rows)
        if db.dialect == "postgresql":
            connection.execute(text("ANALYZE inbound_mail"))
        else:
            connection.execute(text("ANALYZE"))


def _row(state: str, **values: Any) -> dict[str, Any]:
    now = utcnow()
    return {
        "received_at": now,
        "channel": "smtp",
        "envelope_from": "a@example.net",
        "envelope_to": ["support@example.com"],
        "raw": b"Subject: x\r\n\r\nx\r\n",
        "size": 16,
        "sha256": "0" * 64,
        "meta": {},
        "state": state,
        "attempts": 0,
        "next_attempt_at": None,
        "lease_until": None,
        "locked_by": None,
        **values,
    }


def _claim_statement(db, session) -> tuple[str, Any]:
    """The claim's SELECT as the driver ran it (text and parameters), from a real claim."""
    seen: list[tuple[str, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "inbound_mail" in statement:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        claims = queue.claim_batch(
            session, worker_id="w", lease_seconds=60, max_attempts=3, limit=20
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert [c.id for c in claims] == list(range(HISTORY + 1, HISTORY + 21))
    return seen[0]


def test_a_claim_reads_the_queue_index_not_the_history_or_the_backlog(db, session) -> None:
    _fill(db, [_row("processed") for _ in range(HISTORY)] + [_row("received")] * BACKLOG)
    statement, parameters = _claim_statement(db, session)  # committed
    with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            ).scalar_one()
            nodes = json.dumps(plan)
            assert "ix_inbound_mail_queued" in nodes
            assert '"Sort"' not in nodes
            scan = _node(plan[0]["Plan"], "Index Scan")
            # The next 20, past the 20 the claim above took (processing now, under a lease):
            # 40 index entries read, not the 3,400 rows.
            assert scan["Actual Rows"] == 20
            assert scan.get("Rows Removed by Filter", 0) == 20
        else:
            plan = " / ".join(
                str(row[-1])
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "ix_inbound_mail_queued" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        connection.rollback()


def _node(plan: dict[str, Any], kind: str) -> dict[str, Any]:
    if plan["Node Type"] == kind:
        return plan
    for child in plan.get("Plans", []):
        found = _node(child, kind)
        if found:
            return found
    return {}


def test_the_claim_still_takes_only_due_rows_oldest_first(db, session) -> None:
    now = utcnow()
    rows = [
        _row("processed"),  # 1
        _row("received"),  # 2: due
        _row("received", next_attempt_at=now + timedelta(hours=1)),  # 3: a retry, later
        _row("processing", locked_by="other", lease_until=now + timedelta(minutes=5)),  # 4
        _row("processing", locked_by="dead", lease_until=now - timedelta(seconds=1), attempts=1),
        _row("quarantined"),  # 6
        _row("received", next_attempt_at=now - timedelta(seconds=1)),  # 7: a retry, due
        _row("processing", locked_by="dead", lease_until=now - timedelta(seconds=1), attempts=3),
    ]
    _fill(db, rows)
    claims = queue.claim_batch(session, worker_id="w", lease_seconds=60, max_attempts=3, limit=10)
    assert [(c.id, c.attempts) for c in claims] == [(2, 1), (5, 2), (7, 1)]
    states = dict(session.execute(text("SELECT id, state FROM inbound_mail")).all())
    assert states == {
        1: "processed",
        2: "processing",
        3: "received",
        4: "processing",
        5: "processing",
        6: "quarantined",
        7: "processing",
        8: "quarantined",  # its workers died 3 times
    }
    assert queue.claim_batch(session, worker_id="w", lease_seconds=60, max_attempts=3) == []
