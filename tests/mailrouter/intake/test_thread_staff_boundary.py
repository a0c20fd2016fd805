"""Staff of another department take no part in a ticket they may not see: their mail naming
it (a subject token, our Message-ID) opens a ticket of its own, as a stranger's does
(mailrouter.intake.conversations), through the real SMTP intake on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk.models import Message
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, send_over_smtp
from tests.mailrouter.intake.test_thread_participants import (  # noqa: F401 (the same fixtures)
    _ticket_of,
    app_settings,
    conversation,
)
from tests.support.staff_helpers import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


def test_an_agent_of_another_department_cannot_write_into_a_ticket_by_mail(
    app,
    session,
    intake,
    conversation,  # noqa: F811
) -> None:
    ticket, _agent, ours = conversation
    make_user(session, email="sam@example.com", name="Sam", departments=("sales",))
    ticket.status, ticket.resolved_at = "resolved", ticket.updated_at
    session.commit()
    send_over_smtp(
        app,
        session,
        intake,
        "sam@example.com",
        make_mail(
            sender="Sam <sam@example.com>",
            subject=f"Re: Kettle broken [#{ticket.reference}]",
            body="Customer says: please send the refund to account 6222 0000 1111.\n",
            message_id="<sam-1@example.com>",
            in_reply_to=ours,
        ),
    )
    own = _ticket_of(session, "<sam-1@example.com>")
    session.refresh(ticket)
    assert own.id != ticket.id and own.refers_to_ticket_id == ticket.id
    assert ticket.status == "resolved"  # not reopened by someone who may not see it
    senders = set(
        session.scalars(select(Message.from_address).where(Message.ticket_id == ticket.id))
    )
    assert "sam@example.com" not in {s.lower() for s in senders}


def test_an_agent_who_may_see_the_ticket_still_writes_into_it(
    app,
    session,
    intake,
    conversation,  # noqa: F811
) -> None:
    ticket, _agent, ours = conversation
    make_user(session, email="cleo@example.com", name="Cleo", departments=("service",))
    session.commit()
    send_over_smtp(
        app,
        session,
        intake,
        "cleo@example.com",
        make_mail(
            sender="Cleo <cleo@example.com>",
            subject=f"Re: Kettle broken [#{ticket.reference}]",
            body="Forwarding what the customer told me on the phone: it is the 1.7 l one.\n",
            message_id="<cleo-1@example.com>",
            in_reply_to=ours,
        ),
    )
    assert _ticket_of(session, "<cleo-1@example.com>").id == ticket.id
