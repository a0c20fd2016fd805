"""Forwarded mail through the intake: each forward fixture lands in the right conversation,
is routed and ranked by the mail it forwards, and stores the comment and the forwarded mail.

The set is ``tests/mailrouter/fixtures/forwards`` (see ``tests/mailrouter/forward_fixtures``).
Mail goes to the general address (no department chosen by address), so the model decides
(the bootstrap model, as ``bench/forward_mail_score.py`` scores it). Ticket SUP-00012 exists
for the replies and in-thread forwards, owned by their sender.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from mailrouter.parsing import parse_message
from support.desk.models import Department, Message, Ticket
from tests.factories import make_customer, make_ticket
from tests.mailrouter.client_fixtures import TICKET_REFERENCE, normalised
from tests.mailrouter.conftest import process_all
from tests.mailrouter.forward_fixtures import ForwardCase, load_forward_cases

CASES = load_forward_cases()
#: Where the bootstrap model's verdict on the forwarded mail differs from the label: the
#: mail is read whole (the parsing test checks that), the model decides otherwise.
KNOWN_MISSES = {
    "163-zhuanfa-kankan-invoice.eml": "the model ranks an invoice to reissue 3, labelled 2",
    "thunderbird-en-attached-forward-legal.eml": (
        "a solicitor's letter about a burnt oven (invoice 7781) goes to finance, labelled service"
    ),
    "gmail-en-long-comment-forward-order.eml": "the model ranks a leaking dishwasher 3",
}


@pytest.fixture
def app_settings(bundle_file) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file)}


def _params() -> list:
    params = []
    for case in CASES:
        reason = KNOWN_MISSES.get(case.file)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.file, marks=marks))
    return params


@pytest.mark.parametrize("case", _params())
def test_a_forward_is_routed_by_the_mail_it_forwards(app, session, case: ForwardCase) -> None:
    sender = case.customer or parse_message(case.raw).from_address
    customer = make_customer(session, email=sender, name="John Miller")
    thread = make_ticket(
        session,
        customer=customer,
        reference=TICKET_REFERENCE,
        subject="Water heater will not ignite",
        body="The water heater will not ignite, it only clicks.",
        urgency=2,
    )
    session.commit()
    inbound_id = queue.store_inbound(
        session,
        channel="smtp",
        raw=case.raw,
        envelope_from=sender,
        envelope_to=["support@example.com"],
    ).id
    session.commit()
    process_all(app)
    session.expire_all()
    ticket = session.get(Ticket, session.get(InboundMail, inbound_id).ticket_id)
    assert ticket is not None
    assert (ticket.reference if ticket.id == thread.id else "new") == case.thread
    stored = session.scalar(select(Message).where(Message.inbound_mail_id == inbound_id))
    assert stored is not None
    assert normalised(stored.new_text) == normalised(case.new_text)
    if case.reads:
        assert case.reads in stored.forwarded_text
    assert ticket.customer_id == customer.id, "the forwarder is the customer"
    if case.thread == "new":
        department = session.get(Department, ticket.department_id) if ticket.department_id else None
        assert (department.code if department else None, ticket.urgency) == (
            case.department,
            case.urgency,
        )
    else:
        assert ticket.urgency == case.urgency
    session.commit()


def _forward(message_id: str, comment: str) -> bytes:
    return (
        f"From: Ann Lee <ann.lee@customer.example>\nTo: support@example.com\n"
        f"Subject: Fwd: heater\nMessage-ID: <{message_id}>\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        f"{comment}\n\n---------- Forwarded message ---------\n"
        "From: Bo Tenant <bo@tenant.example>\nDate: Fri, 4 Dec 2026 at 10:00\n"
        "Subject: heater\nTo: <ann.lee@customer.example>\n\n\n"
        "The water heater in flat 3 shows error E5 and gives no hot water since Monday.\n"
    ).encode()


def test_the_same_forward_again_in_a_new_thread_is_a_repeat(app, session) -> None:
    """The earlier mail's forwarded words count when the same report comes again."""
    app.config["URGENCY_REPEAT_MIN_HOURS"] = 0
    tickets = []
    for number, comment in enumerate(("FYI", "Please handle")):
        inbound_id = queue.store_inbound(
            session,
            channel="smtp",
            raw=_forward(f"repeat-{number}@customer.example", comment),
            envelope_from="ann.lee@customer.example",
            envelope_to=["support@example.com"],
        ).id
        session.commit()
        process_all(app)
        session.expire_all()
        tickets.append(session.get(Ticket, session.get(InboundMail, inbound_id).ticket_id))
        session.commit()
    first, again = tickets
    assert first is not None and again is not None and again.id != first.id
    assert again.previous_ticket_id == first.id and again.urgency == 4


def _store_and_process(app, session, raw: bytes, sender: str) -> Message:
    inbound_id = queue.store_inbound(
        session, channel="smtp", raw=raw, envelope_from=sender, envelope_to=["service@example.com"]
    ).id
    session.commit()
    process_all(app)
    session.expire_all()
    stored = session.scalar(select(Message).where(Message.inbound_mail_id == inbound_id))
    assert stored is not None
    return stored


def test_a_colleague_at_our_domain_forwarding_a_colleagues_mail_is_read(app, session) -> None:
    """Our own mail is judged by our addresses (the departments' and the general one), not by
    a domain a customer may share with us: an employee's forward of a warehouse colleague's
    mail is read, while our own auto-reply sent back by a customer is not."""
    colleague = (
        b"From: Tom Shaw <tom.shaw@example.com>\nTo: service@example.com\n"
        b"Subject: Fwd: returned kettle\nMessage-ID: <colleague-1@example.com>\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nFYI\n\n"
        b"---------- Forwarded message ---------\n"
        b"From: Warehouse <warehouse@example.com>\nDate: Fri, 4 Dec 2026 at 10:00\n"
        b"Subject: returned kettle\nTo: <tom.shaw@example.com>\n\n\n"
        b"The returned kettle from order 7781 arrived with a cracked base and smells of burning.\n"
    )
    stored = _store_and_process(app, session, colleague, "tom.shaw@example.com")
    assert "cracked base and smells of burning" in stored.forwarded_text
    ours = next(c for c in CASES if c.file == "apple-mail-en-forwards-our-autoreply.eml")
    stored = _store_and_process(app, session, ours.raw, "john.miller@millerproperty.co.uk")
    assert stored.forwarded_text == "" and normalised(stored.new_text) == "Any news?"
    session.commit()
