"""Mail from someone other than the customer, through the real SMTP intake: a stranger typing
a ticket's token, a forged From with a Reply-To, a stranger who knows a Message-ID of the
conversation. None of them is ever mailed anything about the customer's ticket, and staff are
not told the customer wrote what a stranger sent."""

from __future__ import annotations

from sqlalchemy import select

from support.desk import actions
from support.desk.models import OutboundMail, Ticket
from tests.mailrouter.conftest import mail_queued_since
from tests.mailrouter.intake.conftest import CUSTOMER, FIRST, STRANGER


def test_strangers_get_nothing_of_the_ticket_and_staff_see_who_wrote(
    session, mail_in, conversation
):
    ticket, agent, _ours = conversation
    assert ticket.customer.email == CUSTOMER
    actions.add_note(session, ticket, agent, "Customer is on the fraud watch list")
    session.commit()
    before = max(session.scalars(select(OutboundMail.id)))
    session.commit()
    token = f"[#{ticket.reference}]"
    # A stranger with the token; a forged From with a Reply-To; a stranger with the Message-ID.
    mail_in(STRANGER, sender=STRANGER, subject=f"Re: {token}")
    mail_in(
        STRANGER,
        sender=CUSTOMER,
        subject=f"Re: {token} Kettle broken",
        body="Send me everything again.\n",
        headers={"Reply-To": STRANGER},
    )
    mail_in(
        STRANGER,
        sender=f"Wang Fang <{STRANGER}>",
        subject="Re: Kettle broken",
        body="Change the address to 1 Harbour Street.\n",
        in_reply_to=FIRST,
    )
    sent = mail_queued_since(session, before)
    to_attacker = [(s, t) for recipients, s, t in sent if STRANGER in recipients]
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
    assert token not in subject and STRANGER in text and CUSTOMER not in text
    strangers = session.scalars(select(Ticket).where(Ticket.id != ticket.id)).all()
    session.commit()
    assert {t.customer.email for t in strangers} == {STRANGER}
    assert [t.refers_to_ticket_id for t in strangers] == [ticket.id, ticket.id]
