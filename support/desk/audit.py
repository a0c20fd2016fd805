"""Audit rows written by the mail intake: one Core INSERT each, no unit of work.

The worker writes two to four audit rows per message; as ORM objects each one cost a share of
a flush several times the INSERT itself. The row is written at once, so a ticket it refers to
must be written (flushed) first. It goes with the caller's transaction or savepoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from support.core.db import utcnow
from support.core.tables import table_of
from support.desk.models import AuditEvent

_INSERT_EVENT = insert(table_of(AuditEvent))


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
    session.execute(
        _INSERT_EVENT,
        {
            "created_at": created_at or utcnow(),
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "ticket_id": ticket_id,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "data": data,
        },
    )
