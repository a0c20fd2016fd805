"""@mentions in internal notes on the ticket page and through the JSON API: the colleague is
told by mail in their own language with the ticket's link; a colleague who may not open the
ticket's department cannot be told, and the form (or the API) says so, keeping the text."""

from __future__ import annotations

import json
from html import unescape

import pytest
from sqlalchemy import select

from support.auth import issue_api_token
from support.desk.models import Message, Ticket
from support.desk.sla import start_clock
from tests.factories import department, make_ticket, make_user
from tests.support.staff_helpers import login, mail_text, outbound


@pytest.fixture
def desk(app, session):
    agent = make_user(session, email="li@example.com", name="Li Lei")
    colleague = make_user(session, email="wang@example.com", name="Wang Fang", language="zh_Hans")
    english = make_user(session, email="sam@example.com", name="Sam Hill", language="en")
    stranger = make_user(session, email="xu@example.com", name="Xu Ming", departments=("sales",))
    ticket = make_ticket(session, subject="Kettle stopped heating")
    start_clock(ticket, app.config, now=ticket.created_at)
    token = issue_api_token(session, agent)
    session.commit()
    return agent, colleague, english, stranger, ticket.id, {"Authorization": f"Bearer {token}"}


def test_a_mention_mails_the_colleague_in_their_language(client, session, desk) -> None:
    agent, colleague, english, _stranger, ticket_id, _headers = desk
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    offered = json.loads(unescape(page.split('data-mentionable="', 1)[1].split('"', 1)[0]))
    assert [p["handle"] for p in offered] == ["Sam Hill", "Wang Fang"]  # not Xu: sales only
    response = client.post(
        f"/staff/tickets/{ticket_id}/note",
        data={"note-body": "@Wang Fang and @sam.hill? no: @sam@example.com, can you check?"},
    )
    assert response.status_code == 302
    ticket = session.get(Ticket, ticket_id)
    mails = outbound(session, ticket, "mention")
    assert sorted(m.recipients[0] for m in mails) == ["sam@example.com", "wang@example.com"]
    by_address = {m.recipients[0]: mail_text(m) for m in mails}
    assert "在这张工单的一条备注中提到了您" in by_address["wang@example.com"]
    assert "mentioned you in a note" in by_address["sam@example.com"]
    for text in by_address.values():
        assert f"/staff/tickets/{ticket_id}" in text and "can you check?" in text
    # The staff notice is not part of the ticket's conversation on its page.
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "在这张工单的一条备注中提到了您" not in page


def _also_in_sales(session, agent) -> None:
    """The agent works sales too: Xu is a colleague they know, who may not open the ticket."""
    session.add(agent)
    agent.departments.append(department(session, "sales"))
    session.commit()


def test_a_colleague_who_may_not_open_the_ticket_cannot_be_mentioned(client, session, desk):
    agent, _colleague, _english, _stranger, ticket_id, _headers = desk
    _also_in_sales(session, agent)
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{ticket_id}/note", data={"note-body": "@Xu Ming have a look"}
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Xu Ming cannot open this ticket" in html
    assert "@Xu Ming have a look</textarea>" in html  # the text is kept
    assert not session.scalars(select(Message).where(Message.direction == "note")).all()
    assert outbound(session, session.get(Ticket, ticket_id)) == []


def test_another_department_s_staff_read_as_no_one(client, session, desk) -> None:
    """Xu works only sales, which the agent does not: a refusal naming him would tell the
    agent that xu@example.com is staff, and his name (an agent may learn of no colleague of
    another department: access.can_see_staff). His handle is no one's, like any unknown one."""
    agent, _colleague, _english, _stranger, ticket_id, headers = desk
    login(client, agent.email)
    client.set_cookie("lang", "en")
    for text in ("@xu@example.com have a look", "@Xu Ming have a look"):
        response = client.post(f"/staff/tickets/{ticket_id}/note", data={"note-body": text})
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "cannot open this ticket" not in page
    added = client.post(
        f"/api/v1/tickets/{ticket_id}/notes", json={"text": "@xu@example.com FYI"}, headers=headers
    )
    assert added.status_code == 201 and added.get_json()["mentioned"] == []
    notes = session.scalars(select(Message).where(Message.direction == "note")).all()
    assert len(notes) == 3
    assert outbound(session, session.get(Ticket, ticket_id)) == []


def _offered(client, ticket_id: int) -> list[str]:
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    return [
        p["email"]
        for p in json.loads(unescape(page.split('data-mentionable="', 1)[1].split('"', 1)[0]))
    ]


def test_on_a_ticket_in_triage_the_triage_team_are_colleagues(client, session, desk) -> None:
    """A ticket waiting in triage belongs to no department yet: those who triage work it
    together, as a department's members work its tickets, and already see each other's names
    on it (notes, "is viewing"). So a triager may ask Xu, who triages for sales, whether it is
    his; Yan of sales, who does not triage, cannot open it and stays unknown, and so does Xu on
    the service ticket, and to Sam, who has the triage ticket without triaging."""
    agent, _colleague, english, stranger, service_ticket, _headers = desk
    agent.can_triage = stranger.can_triage = True
    make_user(session, email="yan@example.com", name="Yan Sales", departments=("sales",))
    waiting = make_ticket(session, subject="Which team?", department_code=None, needs_triage=True)
    session.commit()
    login(client, agent.email)
    offered = _offered(client, waiting.id)
    assert "xu@example.com" in offered and "yan@example.com" not in offered
    told = client.post(f"/staff/tickets/{waiting.id}/note", data={"note-body": "@Xu Ming yours?"})
    assert told.status_code == 302
    assert [m.recipients for m in outbound(session, waiting, "mention")] == [["xu@example.com"]]
    refused = client.post(
        f"/staff/tickets/{waiting.id}/note", data={"note-body": "@yan@example.com yours?"}
    )
    assert refused.status_code == 302  # Yan's handle is no one's: nothing tells he is staff
    assert "Yan Sales" not in client.get(refused.headers["Location"]).get_data(as_text=True)
    # Out of triage the department boundary holds as before.
    assert "xu@example.com" not in _offered(client, service_ticket)
    page = client.get(f"/staff/tickets/{service_ticket}").get_data(as_text=True)
    assert "xu@example.com" not in page and "Xu Ming" not in page
    session.add(waiting)
    waiting.assignee = english  # Sam has the ticket but does not triage
    session.commit()
    login(client, english.email)
    assert "xu@example.com" not in _offered(client, waiting.id)
    assert [m.recipients for m in outbound(session, waiting, "mention")] == [["xu@example.com"]]


def test_the_api_note_mentions_too(client, session, desk) -> None:
    agent, _colleague, _english, _stranger, ticket_id, headers = desk
    _also_in_sales(session, agent)
    added = client.post(
        f"/api/v1/tickets/{ticket_id}/notes", json={"text": "@Wang Fang FYI"}, headers=headers
    )
    assert added.status_code == 201
    assert added.get_json()["mentioned"] == ["wang@example.com"]
    refused = client.post(
        f"/api/v1/tickets/{ticket_id}/notes", json={"text": "@xu@example.com FYI"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "mention_refused"
    ticket = session.get(Ticket, ticket_id)
    assert [m.recipients for m in outbound(session, ticket, "mention")] == [["wang@example.com"]]


def test_the_unnamed_admin_mentions_in_the_colleagues_language(client, session, desk) -> None:
    """The first admin's placeholder name reads as 管理员 in a Chinese notice, as the assignment
    notice and the pages say it (support.desk.staff_names); the mention mail said
    "Administrator 提到了您"."""
    _agent, colleague, _english, _stranger, ticket_id, _headers = desk
    make_user(session, email="admin@example.com", name="Administrator", role="admin")
    session.commit()
    login(client, "admin@example.com")
    client.post(f"/staff/tickets/{ticket_id}/note", data={"note-body": "@Wang Fang 请看"})
    [mail] = outbound(session, session.get(Ticket, ticket_id), "mention")
    assert mail.recipients == [colleague.email]
    assert "管理员 在这张工单的一条备注中提到了您" in mail_text(mail)
    assert "Administrator" not in mail_text(mail) + mail.subject
