"""Key accounts: a tier set on the customer card, by CLI, API or CSV import; the tier's response
targets for their tickets, a badge, and their tickets ahead of others of the same urgency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from support.auth import issue_api_token
from support.core.db import utcnow
from support.desk.customers import customer_by_address, set_tier
from support.desk.models import AuditEvent, Customer, Ticket
from support.desk.sla import start_clock
from tests.factories import make_customer, make_ticket, make_user
from tests.mailrouter.conftest import run_cli
from tests.support.staff_helpers import login

#: Monday 2026-06-01 10:00 in Shanghai (the default calendar has no closed hours).
MONDAY_10 = utcnow().replace(year=2026, month=6, day=1, hour=2, minute=0, second=0, microsecond=0)


def _opened(session, app, customer: Customer, urgency: int = 2) -> Ticket:
    ticket = make_ticket(session, customer=customer, urgency=urgency, created_at=MONDAY_10)
    start_clock(ticket, app.config, now=MONDAY_10)
    return ticket


def test_a_key_accounts_ticket_gets_its_tiers_targets(app, session) -> None:
    standard = _opened(session, app, make_customer(session, email="a@example.net"))
    key = _opened(session, app, make_customer(session, email="b@example.net", tier="key"))
    vip = _opened(session, app, make_customer(session, email="c@example.net", tier="vip"))
    emergency = _opened(session, app, make_customer(session, email="d@example.net", tier="vip"), 5)
    assert standard.first_response_due_at == MONDAY_10 + timedelta(hours=24)
    assert key.first_response_due_at == MONDAY_10 + timedelta(hours=8)
    assert vip.first_response_due_at == MONDAY_10 + timedelta(hours=4)
    # A tier never lengthens a target: an emergency's hour stays an hour.
    assert emergency.first_response_due_at == MONDAY_10 + timedelta(hours=1)


def test_setting_a_tier_recomputes_open_tickets_and_is_audited(app, session) -> None:
    customer = make_customer(session, email="buyer@bigco.example")
    ticket = _opened(session, app, customer)
    before = ticket.first_response_due_at
    assert set_tier(session, customer, "KEY ", app.config) == 1
    assert customer.tier == "key" and customer.is_key_account
    assert ticket.first_response_due_at < before
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.tier_changed"))
    assert event.data == {"from": "standard", "to": "key"}
    with pytest.raises(ValueError, match="tier must be one of"):
        set_tier(session, customer, "gold", app.config)


def test_tier_by_cli_and_csv_import(app, session, tmp_path) -> None:
    make_customer(session, email="known@example.net", name="Known")
    session.commit()
    output = run_cli(app, "customer", "set-tier", "Known@Example.net", "vip")
    assert "tier vip" in output
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        "email,name,company,tier,language\n"
        "known@example.net,,,key,\n"
        "new@example.net,Li Wei,Great Wall Trading,vip,zh\n"
        "not-an-address,Nobody,,,\n"
        "bad@example.net,Bad,,gold,\n",
        encoding="utf-8",
    )
    output = run_cli(app, "customer", "import", str(csv_file))
    assert "1 created, 1 updated, 2 skipped" in output
    session.expire_all()
    known = customer_by_address(session, "known@example.net")
    new = customer_by_address(session, "new@example.net")
    assert (known.tier, known.name) == ("key", "Known")  # empty cells change nothing
    assert (new.tier, new.name, new.company, new.language) == (
        "vip",
        "Li Wei",
        "Great Wall Trading",
        "zh",
    )
    assert customer_by_address(session, "bad@example.net") is None


def test_tier_by_api_admins_and_leads_only(app, session, client) -> None:
    customer = make_customer(session, email="api@example.net")
    agent = make_user(session, email="agent@example.com")
    lead = make_user(session, email="lead@example.com", role="lead")
    agent_token, lead_token = issue_api_token(session, agent), issue_api_token(session, lead)
    session.commit()
    url = f"/api/v1/customers/{customer.id}"
    refused = client.patch(
        url, json={"tier": "key"}, headers={"Authorization": f"Bearer {agent_token}"}
    )
    assert refused.status_code == 403
    lead_headers = {"Authorization": f"Bearer {lead_token}"}
    assert client.patch(url, json={"tier": "gold"}, headers=lead_headers).status_code == 400
    assert client.patch(url, json={"x": 1}, headers=lead_headers).status_code == 400
    assert (
        client.patch(
            "/api/v1/customers/999999", json={"tier": "key"}, headers=lead_headers
        ).status_code
        == 404
    )
    answer = client.patch(url, json={"tier": "key"}, headers=lead_headers)
    assert answer.status_code == 200 and answer.get_json()["tier"] == "key"
    session.expire_all()
    assert session.get(Customer, customer.id).tier == "key"


def test_tier_by_api_only_for_a_customer_the_lead_may_see(app, session, client) -> None:
    """Another department's customer is a 404 (no address in it), and keeps their tier."""
    theirs = make_customer(session, email="sales-only@example.net")
    make_ticket(session, customer=theirs, department_code="sales")
    ours = make_customer(session, email="both@example.net")
    make_ticket(session, customer=ours, department_code="sales")
    make_ticket(session, customer=ours, department_code="service")
    lead = make_user(session, email="lead@example.com", role="lead", departments=("service",))
    headers = {"Authorization": f"Bearer {issue_api_token(session, lead)}"}
    session.commit()
    refused = client.patch(f"/api/v1/customers/{theirs.id}", json={"tier": "vip"}, headers=headers)
    assert refused.status_code == 404 and "sales-only" not in refused.get_data(as_text=True)
    allowed = client.patch(f"/api/v1/customers/{ours.id}", json={"tier": "vip"}, headers=headers)
    assert allowed.status_code == 200
    session.expire_all()
    assert (session.get(Customer, theirs.id).tier, session.get(Customer, ours.id).tier) == (
        "standard",
        "vip",
    )


def test_tier_on_the_customer_card(app, session, client) -> None:
    customer = make_customer(session, email="card@example.net")
    ticket = _opened(session, app, customer)
    make_user(session, email="lead@example.com", role="lead", departments=("service",))
    make_user(session, email="agent@example.com", departments=("service",))
    session.commit()
    login(client, "agent@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Set tier" not in page
    assert (
        client.post(
            f"/staff/tickets/{ticket.id}/customer-tier", data={"tier-tier": "vip"}
        ).status_code
        == 403
    )
    client.get("/staff/logout")
    client.post("/staff/logout")
    login(client, "lead@example.com")
    assert "Set tier" in client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    response = client.post(
        f"/staff/tickets/{ticket.id}/customer-tier",
        data={"tier-tier": "vip"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Customer tier set to VIP" in page and "★ VIP" in page
    session.expire_all()
    assert session.get(Customer, customer.id).tier == "vip"
    inbox = client.get("/staff/inbox/service").get_data(as_text=True)
    assert "★ VIP" in inbox


def test_a_key_accounts_ticket_comes_before_earlier_ones_of_the_same_urgency(
    app, session, client
) -> None:
    """Its shorter target puts it ahead in the queue (ordered by urgency, then due time)."""
    older = _opened(session, app, make_customer(session, email="early@example.net"))
    key = make_ticket(
        session,
        customer=make_customer(session, email="key@example.net", tier="key"),
        created_at=MONDAY_10 + timedelta(hours=2),
        subject="Key account's question",
    )
    start_clock(key, app.config, now=MONDAY_10 + timedelta(hours=2))
    make_user(session, email="agent@example.com", departments=("service",))
    session.commit()
    login(client, "agent@example.com")
    page = client.get("/staff/inbox/service").get_data(as_text=True)
    assert page.index(key.reference) < page.index(older.reference)
