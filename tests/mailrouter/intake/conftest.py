"""Who may write into a conversation: the customer's ticket the threading tests share, and mail
sent into it through the real SMTP intake on loopback (the `intake` fixture)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.models import ClaimedMail
from support.desk import actions
from support.desk.models import Message, OutboundMail, Ticket, User
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, send_over_smtp

CUSTOMER = "wang.fang@example.net"
COPIED = "zhang.wei@example.net"  # in Cc of the customer's first mail
COLLEAGUE = "li.lei@example.net"  # same domain, never on the conversation
STRANGER = "evil@attacker.test"
#: The agent the customer's ticket is assigned to.
AGENT = "li.na@example.com"
#: The Message-ID of the customer's first mail.
FIRST = "<first@mail.example.net>"

#: ``mail_in(envelope_from, before=b"", **make_mail_fields)``: the ticket the mail is stored
#: on (by its ``message_id``), or None.
MailIn = Callable[..., Ticket | None]


def ticket_of(session, message_id: str) -> Ticket | None:
    """The ticket the mail of ``message_id`` is stored on, None when nowhere."""
    return session.scalar(
        select(Ticket)
        .join(Message, Message.ticket_id == Ticket.id)
        .where(Message.message_id == message_id.strip("<>"))
    )


def claim_queued(session) -> ClaimedMail:
    """The one queued mail, claimed as a worker claims it (commits first)."""
    session.commit()
    claims = queue.claim_batch(session, worker_id="w", lease_seconds=300, max_attempts=3)
    session.commit()
    inbound = queue.load_claimed(session, claims[0].id, worker_id="w", lock=False)
    assert inbound is not None
    return inbound


@pytest.fixture
def mail_in(app, session, intake) -> MailIn:
    """Send one mail (``make_mail``'s fields, ``before`` its first header lines) from
    ``envelope_from`` through the real SMTP intake and process it."""

    def send(envelope_from: str, *, before: bytes = b"", **fields) -> Ticket | None:
        send_over_smtp(app, session, intake, envelope_from, before + make_mail(**fields))
        return ticket_of(session, fields["message_id"]) if fields.get("message_id") else None

    return send


@pytest.fixture
def conversation(app, session, mail_in) -> tuple[Ticket, User, str]:
    """The customer's ticket (a colleague copied), assigned, with an agent's reply: the ticket,
    the agent and the reply's Message-ID (signed by us), in brackets."""
    agent = make_user(session, email=AGENT, departments=("service",))
    ticket = mail_in(
        CUSTOMER,
        sender=f"Wang Fang <{CUSTOMER}>",
        to="service@example.com",
        cc=f"Zhang Wei <{COPIED}>",
        subject="Kettle broken",
        body="My kettle is broken. Deliver the new one to Flat 12B, 88 Nanjing Road.\n",
        message_id=FIRST,
    )
    assert ticket is not None
    actions.assign(session, ticket, agent, agent, app.config)
    actions.reply(session, ticket, agent, "Your parcel leaves on Monday.", config=app.config)
    session.commit()
    ours = session.scalar(
        select(OutboundMail.message_id).where(
            OutboundMail.ticket_id == ticket.id, OutboundMail.kind == "reply"
        )
    )
    assert ours
    return ticket, agent, f"<{ours}>"
