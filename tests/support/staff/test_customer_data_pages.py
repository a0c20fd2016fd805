"""Export and erasure (admins; erasure confirmed by typing the address) of a customer's data
from the ticket page; agents and leads get 403 (an export holds every department's tickets)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from support.desk.models import AuditEvent, Customer, Ticket
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login

EMAIL = "chen.jing@example.org"


@pytest.fixture
def ticket(session) -> Ticket:
    customer = make_customer(session, email=EMAIL, name="Chen Jing")
    made = make_ticket(session, customer=customer, body="My address is 8 Garden Road.")
    session.commit()
    return made


def _staff(session, role: str, departments=("service",)) -> str:
    user = make_user(session, role=role, departments=departments)
    session.commit()
    return user.email


def test_agents_may_neither_export_nor_erase(client, session, ticket) -> None:
    login(client, _staff(session, "agent"))
    customer_id = ticket.customer_id
    assert client.get(f"/staff/customers/{customer_id}/export").status_code == 403
    assert client.get(f"/staff/customers/{customer_id}/erase").status_code == 403
    response = client.post(f"/staff/customers/{customer_id}/erase", data={"confirm": EMAIL})
    assert response.status_code == 403
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Export customer data" not in page and "Erase customer data" not in page
    session.expire_all()
    assert session.get(Customer, customer_id).email == EMAIL


def test_a_lead_neither_exports_nor_erases(client, session, ticket) -> None:
    """An export holds the customer's tickets of every department, which a lead may not read."""
    make_ticket(session, customer=ticket.customer, body="Payslip question", department_code="hr")
    session.commit()
    login(client, _staff(session, "lead"))
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Export customer data" not in page and "Erase customer data" not in page
    assert client.get(f"/staff/customers/{ticket.customer_id}/export").status_code == 403
    assert client.post(f"/staff/customers/{ticket.customer_id}/erase").status_code == 403


def test_an_admin_exports_the_whole_record(client, session, ticket) -> None:
    make_ticket(session, customer=ticket.customer, body="Payslip question", department_code="hr")
    session.commit()
    login(client, _staff(session, "admin"))
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Export customer data" in page
    response = client.get(f"/staff/customers/{ticket.customer_id}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["customer"]["email"] == EMAIL
    texts = {message["text"] for message in data["messages"]}
    assert texts == {"My address is 8 Garden Road.", "Payslip question"}


def test_an_admin_erases_only_after_typing_the_address(client, session, ticket) -> None:
    login(client, _staff(session, "admin"))
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Erase customer data" in page
    url = f"/staff/customers/{ticket.customer_id}/erase?ticket={ticket.id}"
    assert "Type the customer" in client.get(url).get_data(as_text=True)
    wrong = client.post(url, data={"confirm": "someone@example.org"}, follow_redirects=True)
    assert "Type the customer&#39;s email address exactly" in wrong.get_data(as_text=True)
    session.expire_all()
    assert session.get(Customer, ticket.customer_id).email == EMAIL
    session.commit()

    response = client.post(url, data={"confirm": EMAIL.upper()})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/tickets/{ticket.id}")
    session.expire_all()
    customer = session.get(Customer, ticket.customer_id)
    assert customer.email == f"erased-{customer.id}@invalid" and customer.erased_at
    assert session.get(Ticket, ticket.id).messages[0].body_text == ""
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.erased"))
    assert event.actor_id is not None and EMAIL not in json.dumps(event.data)
    session.commit()
