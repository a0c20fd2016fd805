"""Helpers shared by the staff-side tests: sign-in, fixed clocks, outbox lookups."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailrouter.models import OutboundMail
from support.models import Ticket

PASSWORD = "correct horse battery"

#: A Monday, 10:00 in Shanghai (02:00 UTC), inside the default 09:00-18:00 business hours.
MONDAY_10_SHANGHAI = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Sign in; pages are then in English (the default language is Chinese)."""
    client.set_cookie("lang", "en")
    response = client.post("/staff/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def outbound(session: Session, ticket: Ticket, kind: str | None = None) -> list[OutboundMail]:
    query = select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)
    if kind:
        query = query.where(OutboundMail.kind == kind)
    return list(session.scalars(query.order_by(OutboundMail.id)))
