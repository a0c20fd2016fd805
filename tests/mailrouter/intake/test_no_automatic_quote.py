"""Automatic mail stored on a ticket (an out-of-office answering our notification to staff, a
bounce) is never what a reply to the customer quotes."""

from __future__ import annotations

from email import message_from_bytes

from sqlalchemy import select

from mailrouter.intake import queue
from support.desk import actions
from support.desk.models import Message, OutboundMail, Ticket
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.support.staff_helpers import mail_text


def test_an_out_of_office_to_a_staff_notification_is_not_quoted_to_the_customer(
    app, session
) -> None:
    agent = make_user(session, email="li.na@example.com", name="Li Na", departments=("service",))
    session.commit()
    queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(to="service@example.com", body="My kettle leaks. What can I do?\n"),
        envelope_from="wang.fang@example.net",
        envelope_to=["service@example.com"],
        department_code="service",
    )
    session.commit()
    process_all(app)
    ticket = session.scalar(select(Ticket))
    notification = session.scalar(select(OutboundMail).where(OutboundMail.kind == "notification"))
    assert ticket is not None and notification is not None
    session.commit()
    queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(
            sender="Li Na <li.na@example.com>",
            to="service@example.com",
            subject="Automatic reply: new ticket",
            body="I am on leave until Monday. Urgent: my mobile 13800138000.\n",
            in_reply_to=f"<{notification.message_id}>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        envelope_from="li.na@example.com",
        envelope_to=["service@example.com"],
        department_code="service",
    )
    session.commit()
    process_all(app)
    session.expire_all()
    automatic = session.scalar(
        select(Message).where(Message.is_automatic.is_(True), Message.direction == "in")
    )
    assert automatic is not None and automatic.ticket_id == ticket.id  # stored on the ticket
    ticket = session.get(Ticket, ticket.id)
    actions.reply(session, ticket, agent, "Please descale it.", config=app.config)
    session.commit()
    reply = session.scalar(select(OutboundMail).where(OutboundMail.kind == "reply"))
    text = mail_text(reply)
    assert "My kettle leaks" in text
    assert "13800138000" not in text and "on leave" not in text
    # ... and it answers the customer's mail, not the out-of-office (which names our notice).
    customer_mail = session.scalar(
        select(Message).where(Message.direction == "in", Message.is_automatic.is_(False))
    )
    headers = message_from_bytes(reply.raw)
    assert headers["In-Reply-To"].strip("<> ") == customer_mail.message_id.strip("<> ")
    assert notification.message_id not in str(headers["References"] or "")
