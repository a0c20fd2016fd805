"""One step for what agents do every hour: a note that hands the ticket to a colleague
("And assign to"), and a reply that resolves the ticket ("Send and resolve")."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk.models import Message, Ticket
from support.desk.sla import start_clock
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login, mail_text, outbound


@pytest.fixture
def desk(app, session):
    lead = make_user(session, email="lead@example.com", name="Lena", role="lead")
    colleague = make_user(session, email="wang@example.com", name="Wang Fang", language="zh_Hans")
    stranger = make_user(session, email="x@example.com", name="Xu", departments=("sales",))
    ticket = make_ticket(session, subject="Kettle stopped heating")
    start_clock(ticket, app.config, now=ticket.created_at)
    session.commit()
    return lead, colleague, stranger, ticket.id


def test_note_and_assign_in_one_post(client, session, desk) -> None:
    lead, colleague, stranger, ticket_id = desk
    login(client, lead.email)
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'data-testid="note-assign-to"' in page
    assert f'<option value="{colleague.id}">Wang Fang</option>' in page
    assert ">Xu</option>" not in page  # not in the ticket's department
    response = client.post(
        f"/staff/tickets/{ticket_id}/note",
        data={
            "note-body": "Refund approved, please send the label",
            "note-assign_to": colleague.id,
        },
    )
    assert response.status_code == 302
    ticket = session.get(Ticket, ticket_id)
    assert ticket.assignee_id == colleague.id
    notes = [m for m in ticket.messages if m.direction == "note"]
    assert [m.body_text for m in notes] == ["Refund approved, please send the label"]
    notices = outbound(session, ticket, "notification")
    assert [m.recipients for m in notices] == [[colleague.email]]
    text = mail_text(notices[0])
    assert "Refund approved, please send the label" in text
    assert "分配" in text  # in the colleague's language


def test_a_note_that_names_and_hands_over_mails_the_colleague_once(client, session, desk):
    """ "@Wang Fang please follow up" with "And assign to: Wang Fang" mailed her twice (a
    mention and the assignment, both quoting the note): the assignment's notice carries the
    note and is answerable, so it is the one mail; another colleague named is still told."""
    lead, colleague, _stranger, ticket_id = desk
    sam = make_user(session, email="sam@example.com", name="Sam Hill")
    session.commit()
    login(client, lead.email)
    response = client.post(
        f"/staff/tickets/{ticket_id}/note",
        data={
            "note-body": "@Wang Fang please follow up, @Sam Hill FYI",
            "note-assign_to": colleague.id,
        },
    )
    assert response.status_code == 302
    ticket = session.get(Ticket, ticket_id)
    assert [m.recipients for m in outbound(session, ticket, "notification")] == [[colleague.email]]
    assert [m.recipients for m in outbound(session, ticket, "mention")] == [[sam.email]]


def test_note_with_an_assignee_not_offered_adds_nothing(client, session, desk) -> None:
    lead, _colleague, stranger, ticket_id = desk
    login(client, lead.email)
    response = client.post(
        f"/staff/tickets/{ticket_id}/note",
        data={"note-body": "For Xu", "note-assign_to": stranger.id},
    )
    assert response.status_code == 400
    assert "For Xu" in response.get_data(as_text=True)  # the text is kept
    ticket = session.get(Ticket, ticket_id)
    assert ticket.assignee_id is None
    assert not session.scalars(select(Message).where(Message.direction == "note")).all()


def test_note_without_assignee_keeps_it(client, session, desk) -> None:
    lead, colleague, _stranger, ticket_id = desk
    session.get(Ticket, ticket_id).assignee_id = colleague.id
    session.commit()
    login(client, lead.email)
    response = client.post(
        f"/staff/tickets/{ticket_id}/note", data={"note-body": "FYI", "note-assign_to": "0"}
    )
    assert response.status_code == 302
    assert session.get(Ticket, ticket_id).assignee_id == colleague.id


def test_send_and_resolve(client, session, desk) -> None:
    lead, _colleague, _stranger, ticket_id = desk
    login(client, lead.email)
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert 'data-testid="send-resolve"' in page
    response = client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={"reply-body": "A new kettle is on its way.", "reply-send_resolve": "1"},
    )
    assert response.status_code == 302
    ticket = session.get(Ticket, ticket_id)
    assert ticket.status == "resolved"
    replies = outbound(session, ticket, "reply")
    assert len(replies) == 1
    assert "A new kettle is on its way." in mail_text(replies[0])
    assert "rate" in mail_text(replies[0]).lower()  # the resolving reply carries the rating
