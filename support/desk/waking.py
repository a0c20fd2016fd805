"""Bringing a snoozed ticket back to the queue, the one way, whoever does it: the snooze-wake
job when the snooze ends or the ticket became important (support.desk.snooze), and the
response-target check when a snoozed ticket's target is due soon or missed (support.desk.sla):
a breach must not wait, hidden, for the snooze to end.

Below both: the check cannot import the snooze module (which works through
support.desk.actions, which sets the clock through the check's module).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from support.desk.models import OPEN_STATUSES, AuditEvent, Ticket
from support.desk.notifications import notify_snooze_ended


def wake(
    session: Session, ticket: Ticket, *, reason: str, now: datetime, config: Mapping[str, Any]
) -> None:
    """End the ticket's snooze now: an entry in its history (``reason``: "time", "urgency",
    "target_due_soon", "target_breached") and a mail to its assignee, unless the ticket was
    closed or merged meanwhile (then it only stops being snoozed). The caller commits."""
    until = ticket.snoozed_until
    ticket.snoozed_until = None
    if ticket.status not in OPEN_STATUSES or ticket.merged_into_id is not None:
        return
    ticket.updated_at = now
    session.add(
        AuditEvent(
            created_at=now,
            actor_label="system",
            action="ticket.snooze_ended",
            ticket_id=ticket.id,
            subject_type="ticket",
            subject_id=ticket.id,
            data={"reason": reason, "until": until.isoformat() if until else None},
        )
    )
    notify_snooze_ended(session, ticket, until, config)
