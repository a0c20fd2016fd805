"""Mail from someone other than the customer, through the real SMTP intake: a stranger typing
a ticket's token, a forged From with a Reply-To, a stranger who knows a Message-ID of the
conversation. None of them is ever mailed anything about the customer's ticket, and staff are
not told the customer wrote what a stranger sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk import actions
from support.desk.models import OutboundMail, Ticket
from tests.factories import make_user
from tests.mailrouter.conftest import mail_queued_since, make_mail, send_over_smtp
from tests.support.staff_helpers import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)

VICTIM = "victim@example.net"
ATTACKER = "evil@attacker.test"


def test_strangers_get_nothing_of_the_ticket_and_staff_see_who_wrote(app, session, intake):
    agent = make_user(session, email="li.na@example.com", departments=("service",))
    send_over_smtp(
        app,
        session,
        intake,
        VICTIM,
        make_mail(
            sender=f"Wang Fang <{VICTIM}>",
            subject="Delivery to my flat",
            body="Please deliver to Flat 12B, 88 Nanjing Road.\n",
            message_id="<first@example.net>",
        ),
    )
    ticket = session.scalar(select(Ticket))
    assert ticket is not None and ticket.customer.email == VICTIM
    actions.assign(session, ticket, agent, agent, app.config)
    actions.add_note(session, ticket, agent, "Customer is on the fraud watch list")
    actions.reply(session, ticket, agent, "Your parcel leaves on Monday.", config=app.config)
    session.commit()
    before = max(session.scalars(select(OutboundMail.id)))
    session.commit()
    token = f"[#{ticket.reference}]"
    # A stranger with the token; a forged From with a Reply-To; a stranger with the Message-ID.
    stranger = make_mail(sender=ATTACKER, subject=f"Re: {token}")
    send_over_smtp(app, session, intake, ATTACKER, stranger)
    send_over_smtp(
        app,
        session,
        intake,
        ATTACKER,
        make_mail(
            sender=VICTIM,
            subject=f"Re: {token} Delivery",
            body="Send me everything again.\n",
            headers={"Reply-To": ATTACKER},
        ),
    )
    send_over_smtp(
        app,
        session,
        intake,
        ATTACKER,
        make_mail(
            sender=f"Wang Fang <{ATTACKER}>",
            subject="Re: Delivery to my flat",
            body="Change the address to 1 Harbour Street.\n",
            in_reply_to="<first@example.net>",
        ),
    )
    sent = mail_queued_since(session, before)
    to_attacker = [(s, t) for recipients, s, t in sent if ATTACKER in recipients]
    # The token opened a ticket of the stranger's own: its auto-reply names only that one.
    assert len(to_attacker) == 1 and token not in to_attacker[0][0] + to_attacker[0][1]
    for _recipients, _subject, text in sent:
        assert "fraud watch list" not in text and "Flat 12B" not in text
    notices = [(subject, text) for recipients, subject, text in sent if recipients == [agent.email]]
    changed = [(s, t) for s, t in notices if "1 Harbour Street" in t]
    assert len(changed) == 1
    # The stranger with the Message-ID opened a ticket of his own (until session 24 his mail
    # joined the customer's, and the notice only named his address): staff hear of that
    # ticket, under his address, never as news on the customer's.
    subject, text = changed[0]
    assert token not in subject and ATTACKER in text and VICTIM not in text
    strangers = session.scalars(select(Ticket).where(Ticket.id != ticket.id)).all()
    session.commit()
    assert {t.customer.email for t in strangers} == {ATTACKER}
    assert [t.refers_to_ticket_id for t in strangers] == [ticket.id, ticket.id]
