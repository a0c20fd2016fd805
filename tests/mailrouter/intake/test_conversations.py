"""Threading: a reply joins its ticket on real evidence only, never on subject text alone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailrouter.tokens import make_message_id
from support.core.db import utcnow
from support.desk.models import AuditEvent, Message, Ticket
from tests.mailrouter.conftest import make_mail, queue_and_process

CUSTOMER = "Wang Fang <wang.fang@example.net>"


def _ticket_count(session) -> int:
    count = session.scalar(select(func.count()).select_from(Ticket))
    session.commit()
    return count


def _our_message_id(app, ticket: Ticket) -> str:
    return make_message_id(
        ticket.reference, domain="example.com", key=app.config["SECRET_KEY"].encode()
    )


@pytest.fixture
def first(app, session) -> Ticket:
    return queue_and_process(
        app,
        session,
        make_mail(sender=CUSTOMER, subject="Kettle broken", message_id="<first@mail.example.net>"),
    )


def test_reply_to_our_signed_message_id_joins_the_ticket(app, session, first) -> None:
    ours = _our_message_id(app, first)
    reply = make_mail(
        sender=CUSTOMER, subject="Re: something else", in_reply_to=ours, references=ours
    )
    assert queue_and_process(app, session, reply).id == first.id


def test_references_only_reply_joins_the_ticket(app, session, first) -> None:
    ours = _our_message_id(app, first)
    reply = make_mail(sender=CUSTOMER, subject="Kettle", references=f"<unknown@x.example> {ours}")
    assert queue_and_process(app, session, reply).id == first.id


def test_reply_to_the_customers_own_earlier_mail_joins_the_ticket(app, session) -> None:
    # A colleague the customer copied answers the customer's mail: a Message-ID we know, from
    # someone the conversation's mail went to.
    first = queue_and_process(
        app,
        session,
        make_mail(
            sender=CUSTOMER,
            cc="Zhang Wei <zhang.wei@example.net>",
            subject="Kettle broken",
            message_id="<first@mail.example.net>",
        ),
    )
    reply = make_mail(
        sender="Zhang Wei <zhang.wei@example.net>",
        subject="Re: Kettle broken",
        in_reply_to="<first@mail.example.net>",
    )
    assert queue_and_process(app, session, reply).id == first.id


def test_a_known_message_id_from_someone_never_on_the_conversation_opens_a_linked_ticket(
    app, session, first
) -> None:
    # Until session 24 this colleague (same domain, never copied) joined the customer's ticket
    # on the Message-ID alone; a Message-ID travels with every forward, so it proves nothing.
    reply = make_mail(
        sender="Zhang Wei <zhang.wei@example.net>",
        subject="Re: Kettle broken",
        in_reply_to="<first@mail.example.net>",
    )
    own = queue_and_process(app, session, reply)
    assert own.id != first.id and own.refers_to_ticket_id == first.id
    assert _ticket_count(session) == 2


def test_forged_message_id_does_not_thread(app, session, first) -> None:
    forged = _our_message_id(app, first).replace(".", "x", 1)
    forged_sig = _our_message_id(app, first)[:-12] + "aaaaaaa@example.com>"
    reply = make_mail(
        sender="Mallory <m@evil.example>", subject="hi", in_reply_to=forged_sig, references=forged
    )
    assert queue_and_process(app, session, reply).id != first.id


def test_subject_token_from_a_stranger_opens_a_new_ticket(app, session, first) -> None:
    reply = make_mail(sender="Mallory <m@evil.example>", subject=f"Re: [#{first.reference}] Kettle")
    stranger_ticket = queue_and_process(app, session, reply)
    assert stranger_ticket.id != first.id
    assert _ticket_count(session) == 2
    # ...and the stranger's mail is not in the customer's conversation.
    senders = set(
        session.scalars(select(Message.from_address).where(Message.ticket_id == first.id))
    )
    assert "m@evil.example" not in senders


def test_subject_token_from_the_customer_joins_the_ticket(app, session, first) -> None:
    reply = make_mail(
        sender="WANG.FANG@example.net",
        subject=f"回复：[#{first.reference.lower()}] Kettle broken",
        body="还是不行。",
    )
    assert queue_and_process(app, session, reply).id == first.id
    assert _ticket_count(session) == 1


def test_subject_text_alone_never_threads(app, session, first) -> None:
    reply = make_mail(sender=CUSTOMER, subject="Re: Kettle broken")
    assert queue_and_process(app, session, reply).id != first.id


def test_cc_to_two_departments_is_one_ticket(app, session) -> None:
    # One SMTP transaction for both addresses, then the same mail delivered again separately.
    raw = make_mail(sender=CUSTOMER, to="sales@example.com", cc="service@example.com")
    one = queue_and_process(
        app, session, raw, to=("sales@example.com", "service@example.com"), department_code="sales"
    )
    again = queue_and_process(
        app, session, raw, to=("service@example.com",), department_code="service"
    )
    assert one.id == again.id
    assert _ticket_count(session) == 1
    inbound = session.scalar(
        select(func.count()).select_from(Message).where(Message.direction == "in")
    )
    assert inbound == 1


def test_reply_to_a_closed_ticket_reopens_it(app, session, first) -> None:
    ticket = session.get(Ticket, first.id)
    ticket.status, ticket.closed_at = "closed", utcnow()
    session.commit()
    reply = make_mail(
        sender=CUSTOMER, subject="Re: Kettle broken", in_reply_to=_our_message_id(app, first)
    )
    assert queue_and_process(app, session, reply).id == first.id
    ticket = session.get(Ticket, first.id)
    assert ticket.status == "open" and ticket.closed_at is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.reopened"))
    assert event.ticket_id == first.id and event.data["previous_status"] == "closed"


def _reply_when_done(app, session, first, body: str, *, status: str = "resolved"):
    """The customer's reply, with ``body``, to the first ticket once it is ``status``."""
    ticket = session.get(Ticket, first.id)
    ticket.status = status
    if status == "closed":
        ticket.closed_at = utcnow()
    else:
        ticket.resolved_at = utcnow()
    session.commit()
    reply = make_mail(
        sender=CUSTOMER,
        subject="Re: Kettle broken",
        body=body,
        in_reply_to=_our_message_id(app, first),
    )
    return queue_and_process(app, session, reply)


@pytest.mark.parametrize(
    "body",
    [
        "Thank you!\n\nBest regards\nWang Fang\n",
        "好的，收到了，谢谢！\n王芳\n",
        "多謝晒！\n",
        # Thanks for the help (帮忙 is no request here) and praise reopened the ticket.
        "太好了，非常感謝您的幫忙！\n",
        "You are all wonderful, best service ever :)\n",
    ],
)
def test_a_reply_that_only_thanks_stays_on_the_resolved_ticket(app, session, first, body) -> None:
    assert _reply_when_done(app, session, first, body).id == first.id
    ticket = session.get(Ticket, first.id)
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    assert [m.new_text.strip()[:4] for m in ticket.messages][-1] == body.strip()[:4]
    actions = set(
        session.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == first.id))
    )
    assert "ticket.thanks_kept_closed" in actions and "ticket.reopened" not in actions


@pytest.mark.parametrize(
    "body",
    [
        "Thanks, but the kettle still does not heat.",
        "谢谢，发票能开吗",
        "Thank you! Can I get an invoice?",
        "谢谢帮忙，另外想问一下运费",
        "Not great service: the kettle leaks again.",
    ],
)
def test_a_thank_you_that_asks_or_complains_reopens(app, session, first, body) -> None:
    _reply_when_done(app, session, first, body)
    assert session.get(Ticket, first.id).status == "open"


@pytest.mark.parametrize("app_settings", [{"MAIL_REOPEN_ON_THANKS": True}])
def test_reopen_on_thanks_setting_reopens_for_a_thank_you(app, session, first) -> None:
    _reply_when_done(app, session, first, "谢谢！", status="closed")
    assert session.get(Ticket, first.id).status == "open"


@pytest.mark.parametrize("app_settings", [{"MAIL_REOPEN_MODE": "new"}])
def test_a_thank_you_opens_no_new_ticket_in_reopen_mode_new(app, session, first) -> None:
    ticket = session.get(Ticket, first.id)
    ticket.status = "resolved"
    session.commit()
    reply = make_mail(
        sender=CUSTOMER,
        subject="Re: Kettle",
        body="Thanks a lot!",
        in_reply_to=_our_message_id(app, first),
    )
    assert queue_and_process(app, session, reply).id == first.id
    assert _ticket_count(session) == 1


def test_reply_to_a_waiting_ticket_makes_it_open_again(app, session, first) -> None:
    session.get(Ticket, first.id).status = "waiting"
    session.commit()
    reply = make_mail(sender=CUSTOMER, subject="Re", in_reply_to=_our_message_id(app, first))
    queue_and_process(app, session, reply)
    assert session.get(Ticket, first.id).status == "open"


@pytest.mark.parametrize("app_settings", [{"MAIL_REOPEN_MODE": "new"}])
def test_reopen_mode_new_links_a_new_ticket_to_the_closed_one(app, session, first) -> None:
    ticket = session.get(Ticket, first.id)
    ticket.status = "resolved"
    session.commit()
    ours = _our_message_id(app, first)
    successor = queue_and_process(
        app, session, make_mail(sender=CUSTOMER, subject="Re: Kettle", in_reply_to=ours)
    )
    assert successor.id != first.id
    assert successor.previous_ticket_id == first.id
    assert successor.department_id == first.department_id
    assert session.get(Ticket, first.id).status == "resolved"
    # A second reply to the old thread joins the new ticket instead of opening a third.
    again = queue_and_process(
        app, session, make_mail(sender=CUSTOMER, subject="Re: Kettle", in_reply_to=ours)
    )
    assert again.id == successor.id
    assert _ticket_count(session) == 2
