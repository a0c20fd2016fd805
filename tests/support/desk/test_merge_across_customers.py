"""Merging never mixes two customers' conversations: the merge is refused, and the customer's
follow page shows only that customer's messages even where older data holds such a merge."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import update

from mailrouter.intake import queue
from mailrouter.outbound import customer_links
from mailrouter.outbound.customer_links import follow_url
from support.desk import actions, merging
from support.desk.models import Message, Ticket
from support.desk.outbox import enqueue_mail
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login


@pytest.fixture
def two_customers(app, session) -> tuple[Ticket, Ticket]:
    alice = make_customer(session, email="alice@example.org", name="Alice")
    bob = make_customer(session, email="bob@example.org", name="Bob")
    mine = make_ticket(session, customer=alice, body="Alice asks privately about her order.")
    theirs = make_ticket(session, customer=bob, body="Bob lives at 12 Secret Street.")
    # Bob's message came in by mail: it keeps the ticket it arrived on.
    inbound = queue.store_inbound(session, channel="smtp", raw=b"Subject: x\r\n\r\nx\r\n")
    inbound.state, inbound.ticket_id = "processed", theirs.id
    theirs.messages[0].inbound_mail_id = inbound.id
    enqueue_mail(
        session,
        ticket=theirs,
        kind="reply",
        to=["bob@example.org"],
        subject="Re: Kettle broken",
        text="Bob, your refund of 300 yuan is on its way.",
        config=app.config,
    )
    session.commit()
    return mine, theirs


def test_merging_two_customers_tickets_is_refused(app, session, two_customers) -> None:
    mine, theirs = two_customers
    lead = make_user(session, role="lead")
    with pytest.raises(actions.ActionError, match="same customer"):
        merging.merge(session, theirs, lead, mine, app.config)
    session.rollback()
    assert session.get(Ticket, theirs.id).merged_into_id is None


def test_the_page_shows_why_the_merge_was_refused(app, session, client, two_customers) -> None:
    mine, theirs = two_customers
    agent = make_user(session, email="agent@example.com")
    session.commit()
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{theirs.id}/merge", data={"merge-target": mine.reference}
    )
    assert response.headers["Location"] == f"/staff/tickets/{theirs.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only tickets of the same customer can be merged." in page
    session.expire_all()
    assert session.get(Ticket, theirs.id).merged_into_id is None
    assert {m.ticket_id for m in session.get(Ticket, theirs.id).messages} == {theirs.id}
    session.commit()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_follow_page_never_shows_another_customers_messages(app, session, two_customers) -> None:
    if "customer_links" not in app.blueprints:
        customer_links.init_app(app)
    client = app.test_client()
    mine, theirs = two_customers
    # A cross-customer merge as older data may hold it (the action refuses it now).
    session.execute(update(Message).where(Message.ticket_id == theirs.id).values(ticket_id=mine.id))
    session.get(Ticket, theirs.id).merged_into_id = mine.id
    session.get(Ticket, theirs.id).status = "closed"
    session.commit()

    alices = client.get(_path(follow_url(app.config, mine.reference, "en"))).get_data(as_text=True)
    assert "Alice asks privately" in alices
    assert "Secret Street" not in alices
    assert "300 yuan" not in alices

    bobs = client.get(_path(follow_url(app.config, theirs.reference, "en"))).get_data(as_text=True)
    assert "Secret Street" in bobs and "300 yuan" in bobs
    assert "Alice asks privately" not in bobs
    assert mine.reference not in bobs
