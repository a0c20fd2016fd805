"""An agent has one way to make a ticket theirs: "Take". Their inbox offered "Assign to [me /
Nobody]" + "Assign" beside "Take", and their ticket page "Take it" in the head and an
"Assignee [Nobody / me]" + "Assign" in the side column: two controls for the same thing (an
agent may give a ticket to nobody else). A lead, who gives tickets to colleagues, keeps the
list; an agent who has a ticket gets "Put back in the queue" instead."""

from __future__ import annotations

import re

from support.desk.models import Ticket
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login


def _buttons(page: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", b).strip()
        for b in re.findall(r"<button[^>]*>(.*?)</button>", page, re.S)
    ]


def test_an_agents_inbox_offers_take_and_no_assign_list(app, session, client) -> None:
    make_user(session, email="ann@example.com", name="Ann")
    make_ticket(session, subject="Boiler leaking")
    session.commit()
    login(client, "ann@example.com")
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert 'id="bulk-assignee"' not in page
    assert 'value="assign"' not in page
    assert "Take" in _buttons(page) and "Assign" not in _buttons(page)
    assert 'data-bulk="take"' in page  # the `a` key's button


def test_a_leads_inbox_keeps_the_assign_list(app, session, client) -> None:
    make_user(session, email="lena@example.com", name="Lena", role="lead")
    make_user(session, email="bo@example.com", name="Bo Chen")
    make_ticket(session, subject="Boiler leaking")
    session.commit()
    login(client, "lena@example.com")
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert 'id="bulk-assignee"' in page and "Bo Chen" in page
    assert "Assign" in _buttons(page)


def test_an_agents_ticket_page_has_take_or_put_back_never_both(app, session, client) -> None:
    ann = make_user(session, email="ann@example.com", name="Ann")
    ticket = make_ticket(session, subject="Boiler leaking")
    session.commit()
    ticket_id, ann_id = ticket.id, ann.id
    login(client, "ann@example.com")
    url = f"/staff/tickets/{ticket_id}?lang=en"
    page = client.get(url).get_data(as_text=True)
    assert "Take it" in _buttons(page)
    assert f'action="/staff/tickets/{ticket_id}/assign"' not in page
    assert "Put back in the queue" not in _buttons(page)

    taken = client.post(f"/staff/tickets/{ticket_id}/take", data={})
    assert taken.status_code == 302, taken.get_data(as_text=True)[:300]
    session.expire_all()
    assert session.get(Ticket, ticket_id).assignee_id == ann_id
    session.rollback()  # no read transaction left open while the page writes (SQLite)
    shown = client.get(url)
    page = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "Take it" not in _buttons(page)
    assert "Put back in the queue" in _buttons(page)
    assert 'value="Assign"' not in page

    back = client.post(f"/staff/tickets/{ticket_id}/assign", data={"assign-assignee": "0"})
    assert back.status_code == 302
    session.expire_all()
    assert session.get(Ticket, ticket_id).assignee_id is None


def test_a_leads_ticket_page_keeps_the_assign_list(app, session, client) -> None:
    make_user(session, email="lena@example.com", name="Lena", role="lead")
    make_user(session, email="bo@example.com", name="Bo Chen")
    ticket = make_ticket(session, subject="Boiler leaking")
    session.commit()
    login(client, "lena@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert f'action="/staff/tickets/{ticket.id}/assign"' in page and "Bo Chen" in page
    assert 'value="Assign"' in page and "Take it" in _buttons(page)


def test_putting_a_ticket_back_says_who_can_take_it_now(app, session, client) -> None:
    """The button "Put back in the queue" answered "Ticket unassigned.": another button's words,
    and not what the agent wants to know (is it lost?)."""
    ann = make_user(session, email="ann@example.com", name="Ann")
    ticket = make_ticket(session, subject="Boiler leaking")
    ticket.assignee = ann
    other = make_ticket(session, subject="Kettle broken")
    other.assignee = ann
    session.commit()
    first, second = ticket.id, other.id
    login(client, "ann@example.com")
    back = client.post(
        f"/staff/tickets/{first}/assign?lang=en",
        data={"assign-assignee": "0"},
        follow_redirects=True,
    )
    page = back.get_data(as_text=True)
    assert "Put back in the queue: anyone in Customer Service can take it." in page
    assert "Ticket unassigned." not in page
    back = client.post(
        f"/staff/tickets/{second}/assign?lang=zh",
        data={"assign-assignee": "0"},
        follow_redirects=True,
    )
    assert "已放回队列：客户服务部的任何人都可以接手。" in back.get_data(as_text=True)
