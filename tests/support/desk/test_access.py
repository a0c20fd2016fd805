"""Another department's ticket does not exist for an agent: 404 on every page, action and API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.auth import issue_api_token
from support.desk.access import can_see_staff, can_see_ticket
from support.desk.models import Attachment, AuditEvent, Message, Ticket
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login

ACTIONS = [
    ("reply", {"reply-body": "Hello", "reply-send": "1"}),
    ("note", {"note-body": "psst"}),
    ("assign", {"assign-assignee": "0"}),
    ("take", {}),
    ("department", {"department-department": "1"}),
    ("urgency", {"urgency-urgency": "5"}),
    ("merge", {"merge-target": "SUP-1"}),
    ("wait", {}),
    ("resume", {}),
    ("resolve", {}),
    ("reopen", {}),
]


@pytest.fixture
def foreign(session):
    """An agent of Customer Service and a ticket (with an attachment) of Sales."""
    agent = make_user(session, email="agent@example.com", departments=("service",))
    ticket = make_ticket(session, department_code="sales", subject="Sales secret")
    message = ticket.messages[0]
    session.add(
        Attachment(
            message=message,
            filename="price.pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            data=b"%PDF",
        )
    )
    session.commit()
    return agent, ticket


def test_pages_and_actions_are_404(app, session, client, foreign) -> None:
    agent, ticket = foreign
    ticket_id = ticket.id
    login(client, agent.email)
    assert client.get(f"/staff/tickets/{ticket.id}").status_code == 404
    attachment_id = session.scalar(select(Attachment.id))
    session.commit()  # SQLite: end the read transaction before the app writes
    assert client.get(f"/staff/attachments/{attachment_id}").status_code == 404
    for action, data in ACTIONS:
        response = client.post(f"/staff/tickets/{ticket.id}/{action}", data=data)
        assert response.status_code == 404, action
    session.expire_all()
    unchanged = session.get(Ticket, ticket_id)
    assert unchanged.status == "new" and unchanged.urgency == 2 and unchanged.assignee_id is None
    assert session.scalars(select(Message).where(Message.direction != "in")).all() == []
    assert session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket_id)).all() == []
    session.commit()
    assert "Sales secret" not in client.get("/staff/inbox/mine").get_data(as_text=True)
    assert client.get("/staff/inbox/sales").status_code == 404


def test_api_is_404_too(app, session, client, foreign) -> None:
    agent, ticket = foreign
    token = issue_api_token(session, agent)
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/tickets/{ticket.id}", headers=auth).status_code == 404
    assert (
        client.post(
            f"/api/v1/tickets/{ticket.id}/reply", json={"text": "hi"}, headers=auth
        ).status_code
        == 404
    )
    assert (
        client.patch(f"/api/v1/tickets/{ticket.id}", json={"urgency": 5}, headers=auth).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/tickets/{ticket.id}/notes", json={"text": "x"}, headers=auth
        ).status_code
        == 404
    )
    assert client.get("/api/v1/tickets?view=sales", headers=auth).status_code == 404


def test_who_sees_what(app, session) -> None:
    agent = make_user(session, departments=("service",))
    triager = make_user(session, departments=(), can_triage=True)
    admin = make_user(session, role="admin", departments=())
    inactive = make_user(session, departments=("service",), is_active=False)
    service = make_ticket(session)
    sales = make_ticket(session, department_code="sales")
    triage = make_ticket(session, department_code=None, needs_triage=True)
    assigned = make_ticket(session, department_code="sales", assignee=agent)
    assert can_see_ticket(agent, service) and not can_see_ticket(agent, sales)
    assert can_see_ticket(agent, assigned) and not can_see_ticket(agent, triage)
    assert can_see_ticket(triager, triage) and not can_see_ticket(triager, service)
    assert all(can_see_ticket(admin, t) for t in (service, sales, triage))
    assert not can_see_ticket(inactive, service)
    assert not can_see_ticket(None, service)


def test_who_sees_which_staff(app, session) -> None:
    agent = make_user(session, departments=("service",))
    colleague = make_user(session, departments=("service", "sales"))
    seller = make_user(session, departments=("sales",))
    admin = make_user(session, role="admin", departments=())
    loner = make_user(session, departments=())
    assert can_see_staff(agent, agent) and can_see_staff(agent, colleague)
    assert can_see_staff(agent, admin) and not can_see_staff(agent, seller)
    assert can_see_staff(colleague, seller) and can_see_staff(seller, colleague)
    assert all(can_see_staff(admin, u) for u in (agent, colleague, seller, loner))
    assert not can_see_staff(loner, agent) and can_see_staff(loner, admin)
