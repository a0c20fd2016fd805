"""A ticket page or the JSON API names another ticket (the one a stranger's mail referred to, the
one a ticket was merged into, an earlier report of the same problem, a merge in the history)
only to a reader who may open that ticket: the access rule of the ticket page itself
(support.desk.access.can_see_ticket). A Customer Service agent reading their own tickets learns
no reference of a Sales ticket; an admin, who may see both, is told as before."""

from __future__ import annotations

from typing import Any

import pytest

from support.auth import issue_api_token
from support.desk import merging, tags
from support.desk.models import Ticket
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login


@pytest.fixture
def linked(app, session) -> dict[str, Any]:
    """Service tickets that point at Sales tickets in every way one ticket names another."""
    agent = make_user(session, email="agent@example.com", name="Andy")
    admin = make_user(session, email="admin@example.com", name="Ada", role="admin")
    customer = make_customer(session, name="Wang Fang", email="wang@example.net")
    quote = make_ticket(
        session, customer=customer, subject="Quote for 40 kettles", department_code="sales"
    )
    # A stranger's mail named the Sales ticket: it became a Service ticket of its own.
    stranger = make_ticket(session, subject="Re: Quote for 40 kettles")
    stranger.refers_to_ticket_id = quote.id
    # A Service ticket of the customer's, merged into the Sales ticket.
    merged = make_ticket(session, customer=customer, subject="Kettle price?")
    # The ticket the agent works on: a repeat of the Sales report, and a Sales ticket merged
    # into it and taken back out (its history names it).
    own = make_ticket(session, customer=customer, subject="Kettle quote, again", urgency=4)
    own.classification = {
        "urgency": {
            "label": 4,
            "adjustments": ["repeat"],
            "repeat_of": {"ticket_id": quote.id, "reference": quote.reference, "similarity": 0.8},
        }
    }
    discount = make_ticket(
        session, customer=customer, subject="Discount for 40", department_code="sales"
    )
    session.commit()
    with app.test_request_context("/?lang=en"):
        tags.add_tag(session, discount, admin, "bulk-order")
        merging.merge(session, discount, admin, own, app.config)
        session.commit()
        merging.undo_merge(session, discount, admin)
        merging.merge(session, merged, admin, quote, app.config)
        session.commit()
    world = {
        "agent": agent.email,
        "admin": admin.email,
        "agent_token": issue_api_token(session, agent),
        "admin_token": issue_api_token(session, admin),
        "quote": (quote.id, quote.reference),
        "discount": discount.reference,
        "stranger": stranger.id,
        "merged": merged.id,
        "own": own.id,
    }
    session.commit()  # SQLite: nothing read stays open while the app writes
    return world


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_an_agent_of_another_department_is_not_told_the_sales_references(client, linked) -> None:
    quote_id, quote_ref = linked["quote"]
    login(client, linked["agent"])

    referring = _page(client, f"/staff/tickets/{linked['stranger']}")
    assert 'data-testid="refers-to"' not in referring
    assert quote_ref not in referring and "Refers to" not in referring

    own = _page(client, f"/staff/tickets/{linked['own']}")
    assert quote_ref not in own and linked["discount"] not in own
    assert "merged into a ticket you cannot open" in own  # the earlier ticket, not "closed"
    assert "Raised: the customer reported the same problem again." in own
    assert "Another ticket merged into this one" in own
    assert "Tag “bulk-order” added with the merge of another ticket" in own
    assert "Merge of another ticket undone: it is a ticket of its own again" in own
    chinese = _page(client, f"/staff/tickets/{linked['own']}?lang=zh")
    assert "已合并到您无权打开的工单" in chinese and "另一个工单已合并到此工单" in chinese
    assert quote_ref not in chinese and linked["discount"] not in chinese
    # The Sales ticket itself stays a 404, as before.
    assert client.get(f"/staff/tickets/{quote_id}").status_code == 404


def test_an_admin_who_may_see_both_is_told_as_before(client, linked) -> None:
    quote_id, quote_ref = linked["quote"]
    discount = linked["discount"]
    login(client, linked["admin"])

    referring = _page(client, f"/staff/tickets/{linked['stranger']}")
    block = referring.split('data-testid="refers-to"')[1].split("</div>")[0]
    assert f'href="/staff/tickets/{quote_id}' in block and f'data-merge-into="{quote_ref}"' in block

    own = _page(client, f"/staff/tickets/{linked['own']}")
    assert f"merged into {quote_ref}" in own
    assert f"the same problem was reported before in {quote_ref}" in own
    assert f"Ticket {discount} merged into this one" in own
    assert f"Tag “bulk-order” added with the merge of {discount}" in own
    assert f"Merge of {discount} undone: it is a ticket of its own again" in own


def test_the_api_names_them_only_to_a_token_whose_owner_may_see_them(client, linked) -> None:
    quote_id, quote_ref = linked["quote"]
    agent = {"Authorization": f"Bearer {linked['agent_token']}", "Accept-Language": "en"}
    admin = {"Authorization": f"Bearer {linked['admin_token']}", "Accept-Language": "en"}

    def ticket(ticket_id: int, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
        response = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers)
        assert response.status_code == 200
        return response.json, response.get_data(as_text=True)

    for ticket_id in (linked["stranger"], linked["merged"], linked["own"]):
        body, raw = ticket(ticket_id, agent)
        assert quote_ref not in raw, raw[:300]
        assert body["refers_to"] is None and body["merged_into"] is None
    repeat = ticket(linked["own"], agent)[0]["classification"]["urgency"]["repeat_of"]
    assert repeat == {"ticket_id": None, "reference": None, "similarity": 0.8}
    listed = client.get("/api/v1/tickets?view=service&status=all", headers=agent).json
    assert quote_ref not in str(listed) and {t["merged_into"] for t in listed["tickets"]} == {None}

    assert ticket(linked["stranger"], admin)[0]["refers_to"] == quote_ref
    assert ticket(linked["merged"], admin)[0]["merged_into"] == quote_id
    repeat = ticket(linked["own"], admin)[0]["classification"]["urgency"]["repeat_of"]
    assert repeat == {"ticket_id": quote_id, "reference": quote_ref, "similarity": 0.8}


def test_a_sales_agent_sees_the_link_once_the_ticket_is_theirs_too(client, session, linked) -> None:
    """The rule is the ticket page's, not a fixed department: moved to Sales, the referring
    ticket names the Sales ticket to a Sales agent."""
    quote_id, quote_ref = linked["quote"]
    sales = make_user(session, email="sam@example.com", departments=("sales",))
    token = issue_api_token(session, sales)
    stranger = session.get(Ticket, linked["stranger"])
    stranger.department_id = session.get(Ticket, quote_id).department_id
    session.commit()
    login(client, sales.email)
    page = _page(client, f"/staff/tickets/{linked['stranger']}")
    assert f'data-merge-into="{quote_ref}"' in page
    headers = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/tickets/{linked['stranger']}", headers=headers).json
    assert body["refers_to"] == quote_ref
