"""Helpers shared by the staff-side tests: sign-in, fixed clocks, outbox lookups."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from support.desk.models import OutboundMail, Ticket

PASSWORD = "correct horse battery"

#: A Monday, 10:00 in Shanghai (02:00 UTC), inside the default 09:00-18:00 business hours.
MONDAY_10_SHANGHAI = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


@pytest.fixture
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, at a test-sized cost: the production cost takes ~0.5 s per hash here,
    and every staff test hashes and verifies several passwords. Every test has it already
    (tests/conftest.py's autouse `_test_sized_password_cost`): no module asks for it."""
    import support.core.passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(support.core.passwords, "_hasher", cheap)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Sign in; pages are then in English (the default language is Chinese)."""
    client.set_cookie("lang", "en")
    response = client.post("/staff/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def mail_text(mail: OutboundMail) -> str:
    """The decoded plain-text body of a queued mail."""
    message = message_from_bytes(mail.raw, policy=policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def outbound(session: Session, ticket: Ticket, kind: str | None = None) -> list[OutboundMail]:
    """Mail queued for the ticket (commits the test's session)."""
    query = select(OutboundMail).where(OutboundMail.ticket_id == ticket.id)
    if kind:
        query = query.where(OutboundMail.kind == kind)
    found = list(session.scalars(query.order_by(OutboundMail.id)))
    session.commit()  # SQLite: a read transaction would block the app's next write
    return found
