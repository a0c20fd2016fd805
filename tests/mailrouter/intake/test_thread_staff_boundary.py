"""Staff of another department take no part in a ticket they may not see: their mail naming
it (a subject token, our Message-ID) opens a ticket of its own, as a stranger's does
(mailrouter.intake.conversations), through the real SMTP intake on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk.models import Message
from tests.factories import make_user
from tests.support.staff_helpers import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.mark.parametrize(("department", "joins"), [("sales", False), ("service", True)])
def test_staff_write_by_mail_only_into_tickets_they_may_see(
    session, mail_in, conversation, department, joins
) -> None:
    ticket, _agent, ours = conversation
    make_user(session, email="sam@example.com", name="Sam", departments=(department,))
    ticket.status, ticket.resolved_at = "resolved", ticket.updated_at
    session.commit()
    own = mail_in(
        "sam@example.com",
        sender="Sam <sam@example.com>",
        subject=f"Re: Kettle broken [#{ticket.reference}]",
        body="Customer says: please send the refund to account 6222 0000 1111.\n",
        message_id="<sam-1@example.com>",
        in_reply_to=ours,
    )
    assert own is not None
    session.refresh(ticket)
    senders = {
        s.lower()
        for s in session.scalars(select(Message.from_address).where(Message.ticket_id == ticket.id))
    }
    if joins:  # a colleague of the department adds to the conversation, as before
        assert own.id == ticket.id and "sam@example.com" in senders
        return
    # Sales may not see the Service ticket: a ticket of its own, the customer's not reopened.
    assert own.id != ticket.id and own.refers_to_ticket_id == ticket.id
    assert ticket.status == "resolved" and "sam@example.com" not in senders
