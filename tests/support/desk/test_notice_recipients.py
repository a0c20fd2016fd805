"""Staff notices go only to people who may open the ticket they are about.

Seen from a fresh start.sh: an agent of Customer Service who may triage was mailed every new
Sales ticket (Sales had no members yet, so its notices fell back to the triage staff); the
notice's link was a 404 for them and answering it by mail was refused.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from support.core.db import utcnow
from support.desk.notifications import notify_new_ticket, send_sla_warning
from support.desk.sla import start_clock
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login, outbound


@pytest.fixture
def sales_ticket(app, session):
    """Service has an agent who may triage; Sales has nobody; an admin."""
    make_user(session, email="agent@example.com", departments=("service",), can_triage=True)
    make_user(session, email="boss@example.com", role="admin", departments=())
    ticket = make_ticket(session, department_code="sales", subject="Quote for 50 purifiers")
    start_clock(ticket, app.config, now=utcnow() - timedelta(hours=20))
    session.commit()
    return ticket


@pytest.mark.parametrize("send", [notify_new_ticket, send_sla_warning])
def test_a_ticket_of_a_department_nobody_works_is_told_to_the_admins_only(
    app, session, client, sales_ticket, send
) -> None:
    with app.app_context():
        assert send(session, sales_ticket, app.config) == ["boss@example.com"]
    session.commit()
    assert [m.recipients for m in outbound(session, sales_ticket)] == [["boss@example.com"]]
    # What the agent would have been sent a link to is not theirs to open.
    login(client, "agent@example.com")
    assert client.get(f"/staff/tickets/{sales_ticket.id}").status_code == 404


def test_triage_staff_still_hear_of_an_unrouted_ticket(app, session, sales_ticket) -> None:
    unrouted = make_ticket(session, department_code=None, needs_triage=True, subject="Hello?")
    session.commit()
    with app.app_context():
        notified = notify_new_ticket(session, unrouted, app.config)
    assert "agent@example.com" in notified
