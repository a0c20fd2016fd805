"""One way to put a ticket's columns back as they were: an undone merge, an undone reply.

A snapshot is plain JSON (times as ISO strings), so it can wait in an audit event's data until
the undo comes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, inspect

from support.desk.models import Ticket

#: What the ticket is and what the customer wrote: no work on it changes these, and a snapshot
#: (kept in an audit event) must not copy the customer's words past an erasure.
_IDENTITY = frozenset(
    {
        "id",
        "reference",
        "subject",
        "customer_id",
        "channel",
        "language",
        "classification",
        "created_at",
        "previous_ticket_id",
        "refers_to_ticket_id",
        "satisfaction_comment",
        "anonymised_at",
    }
)
#: Every other column (status, assignee, due times, clocks, ...): what an undone reply restores.
STATE_FIELDS: tuple[str, ...] = tuple(
    attribute.key for attribute in inspect(Ticket).column_attrs if attribute.key not in _IDENTITY
)
_TIMES = frozenset(
    attribute.key
    for attribute in inspect(Ticket).column_attrs
    if isinstance(getattr(attribute.columns[0].type, "impl", attribute.columns[0].type), DateTime)
)


def snapshot(ticket: Ticket, fields: Iterable[str] = STATE_FIELDS) -> dict[str, Any]:
    """The ticket's ``fields`` as JSON values."""
    values = {}
    for name in fields:
        value = getattr(ticket, name)
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def restore(
    ticket: Ticket, values: Mapping[str, Any], fields: Iterable[str] = STATE_FIELDS
) -> None:
    """Set ``fields`` back to ``values`` (a ``snapshot``); a field missing there becomes None."""
    for name in fields:
        value = values.get(name)
        if name in _TIMES and isinstance(value, str):
            value = datetime.fromisoformat(value)
        setattr(ticket, name, value)
