"""A reply written while the customer wrote again, or a colleague replied or left a note, is
held back once so the agent reads what came in (Help Scout's "traffic cop", Zendesk's agent
collision); a second send goes out."""

from __future__ import annotations

import re

from sqlalchemy import select

from support.core.db import utcnow
from support.desk import actions
from support.desk.models import Message, OutboundMail
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login

REPLY = "We have sent a new kettle today; the tracking number follows."


def _seen(page: str) -> str:
    found = re.search(
        r'name="reply-seen"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="reply-seen"', page
    )
    assert found, "the reply form carries what the page showed"
    return found.group(1) or found.group(2)


def _send(client, ticket, seen: str | None):
    data = {"reply-body": REPLY, "reply-send": "Check and send", "reply-then": "open"}
    if seen is not None:
        data["reply-seen"] = seen
    return client.post(f"/staff/tickets/{ticket.id}/reply", data=data)


def _replies(session, ticket) -> list[Message]:
    found = list(
        session.scalars(
            select(Message).where(Message.ticket_id == ticket.id, Message.direction == "out")
        )
    )
    session.commit()
    return found


def test_a_customer_mail_that_came_in_while_writing_holds_the_reply_back_once(
    client, session
) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    seen = _seen(client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True))
    session.add(
        Message(
            ticket=ticket,
            direction="in",
            from_address=ticket.customer.email,
            from_name="Wang Fang",
            body_text="Never mind, I found the receipt: I want a refund instead.",
            new_text="Never mind, I found the receipt: I want a refund instead.",
            created_at=utcnow(),
        )
    )
    session.commit()

    held = _send(client, ticket, seen)
    page = held.get_data(as_text=True)
    assert held.status_code == 409
    assert "Not sent yet: this came in while you were writing." in page
    assert "I want a refund instead." in page
    assert REPLY in page  # the typed reply is kept
    assert _replies(session, ticket) == []
    assert session.scalars(select(OutboundMail)).all() == []
    session.commit()

    sent = _send(client, ticket, _seen(page))  # the agent read it and sends again
    assert sent.status_code == 302
    assert len(_replies(session, ticket)) == 1


def test_a_colleagues_note_counts_and_the_agents_own_does_not(client, session) -> None:
    agent = make_user(session)
    colleague = make_user(session, name="Li Lei")
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    seen = _seen(client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True))
    actions.add_note(session, ticket, agent, "Checking the warehouse stock first.")
    session.commit()
    assert _send(client, ticket, seen).status_code == 302  # only the agent's own note

    seen = _seen(client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True))
    actions.add_note(session, ticket, colleague, "I already called her: she wants a refund.")
    session.commit()
    held = _send(client, ticket, seen)
    assert held.status_code == 409
    assert "I already called her" in held.get_data(as_text=True)


def test_a_page_that_did_not_say_what_it_showed_sends_as_before(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    assert _send(client, ticket, None).status_code == 302
    assert _send(client, ticket, "x" * 50).status_code == 302  # nonsense is ignored
    assert len(_replies(session, ticket)) == 2
