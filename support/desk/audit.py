"""Audit rows written by the mail intake: Core INSERTs, no unit of work.

The worker writes two to four audit rows per message; as ORM objects each one cost a share of
a flush several times the INSERT itself. A row is written at once, so a ticket it refers to
must be written (flushed) first. It goes with the caller's transaction or savepoint.

Inside ``deferred`` (the worker, around one message) the rows wait and are written together
in one statement when the block ends: on PostgreSQL each INSERT was a round trip of its own.
A row recorded in a savepoint that rolls back is dropped with it, as its INSERT would have been.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, SessionTransaction

from support.core.db import execute_core, utcnow
from support.core.direct_insert import open_transactions
from support.core.round_trips import result_unread
from support.core.tables import table_of
from support.desk.models import AuditEvent

_INSERT_EVENT = result_unread(insert(table_of(AuditEvent)))
#: Session.info key: [(the transactions open when it was recorded, row values)] in ``deferred``.
_PENDING = "audit.pending"


def record_event(
    session: Session,
    action: str,
    data: dict[str, Any],
    *,
    ticket_id: int | None = None,
    actor_id: int | None = None,
    actor_label: str = "system",
    subject_type: str | None = None,
    subject_id: int | None = None,
    created_at: datetime | None = None,
) -> None:
    values = {
        "created_at": created_at or utcnow(),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "ticket_id": ticket_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "data": data,
    }
    pending = session.info.get(_PENDING)
    if pending is None:
        execute_core(session, _INSERT_EVENT, values)
    else:
        pending.append((open_transactions(session), values))


@contextmanager
def deferred(session: Session) -> Iterator[None]:
    """Audit rows recorded in the block are written in one statement at its end (none if it
    raises: the caller rolls its work back). Not nested; nothing in the block may read them."""
    if _PENDING in session.info:
        raise RuntimeError("audit.deferred() is already active in this session")
    session.info[_PENDING] = []
    try:
        yield
        pending = session.info[_PENDING]
        if pending:
            execute_core(session, _INSERT_EVENT, [values for _transactions, values in pending])
    finally:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [item for item in pending if previous_transaction not in item[0]]
