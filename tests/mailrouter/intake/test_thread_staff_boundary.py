"""Staff of another department take no part in a ticket they may not see: their mail naming
it (a subject token, our Message-ID) opens a ticket of its own, as a stranger's does
(mailrouter.intake.conversations), through the real SMTP intake on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk.models import Message
from tests.factories import make_user


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


def test_a_staff_address_beside_a_subject_token_alone_takes_no_part(
    session, mail_in, conversation
) -> None:
    """Anyone can write a colleague's address into From beside a ticket's token, as ours
    (`conversations.sender_takes_part`); references count up and staff addresses are guessed
    from the names under our replies. Such a mail joined any ticket the colleague may see: its
    words on the customer's follow page and quoted in the agent's next reply as the customer's
    latest mail, and its Cc taken into the conversation (then free to write in and offered as
    the reply's copy). Now a ticket of its own that refers to it, as a stranger's; through a
    Message-ID we signed, a colleague still writes into it (the test above)."""
    ticket, agent, _ours = conversation
    make_user(session, email="sam@example.com", name="Sam", departments=("service",))
    session.commit()
    for sender in ("sam@example.com", agent.email):
        forged = mail_in(
            "mallory@attacker.test",
            sender=f"Lumen Staff <{sender}>",
            cc="Mallory <mallory@attacker.test>",
            subject=f"Re: Kettle broken [#{ticket.reference}]",
            body="Customer says: please send the refund to account 6222 0000 1111.\n",
            message_id=f"<forged-{sender}>",
        )
        assert forged is not None and forged.id != ticket.id, sender
        assert forged.refers_to_ticket_id == ticket.id
    senders = set(
        session.scalars(select(Message.from_address).where(Message.ticket_id == ticket.id))
    )
    assert not senders & {"sam@example.com", agent.email}
    later = mail_in(
        "mallory@attacker.test",
        sender="Mallory <mallory@attacker.test>",
        subject=f"Re: Kettle broken [#{ticket.reference}]",
        body="Any news?\n",
        message_id="<mallory-2@attacker.test>",
    )
    assert later is not None and later.id != ticket.id
