"""Copies of a reply (support.desk.reply_cc and the reply route): only the conversation's
addresses, bounded, no header injection; the customer's own copies offered and kept."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from mailrouter.intake.staff_replies import handle_staff_mail_reply, mailed_cc
from mailrouter.parsing import parse_message
from support.auth import issue_api_token
from support.core.text import quoted
from support.desk import reply_cc
from support.desk.models import Message, OutboundMail, Ticket
from support.desk.notifications import notify_new_ticket
from tests.factories import make_customer, make_ticket, make_user
from tests.mailrouter.conftest import make_mail, queue_and_process
from tests.mailrouter.intake.test_staff_replies import _staff_reply
from tests.support.staff_helpers import login, outbound
from tests.work import CountingStr

OWN = ("service@example.com", "support@example.com")


@pytest.fixture
def copied(app, session) -> Ticket:
    """Wang Fang wrote to us and copied her colleague and, by mistake, our other address."""
    customer = make_customer(session, name="Wang Fang", email="wang.fang@example.net")
    ticket = make_ticket(session, customer=customer)
    message = ticket.messages[0]
    message.to_addresses = ["service@example.com"]
    message.cc_addresses = ["li.lei@example.net", "Support@Example.com", "bad address"]
    session.commit()
    return ticket


def test_the_customers_copies_are_offered_without_ours(session, copied) -> None:
    assert reply_cc.default_cc(copied, OWN) == ["li.lei@example.net"]
    people = reply_cc.conversation_addresses(copied, OWN)
    assert people == ["wang.fang@example.net", "li.lei@example.net"]
    # Whose mail may join the conversation is the same rule, read from the database: our own
    # addresses the customer wrote to or copied are nobody of it.
    for address in [*people, "Service@Example.com", "support@example.com", "x@example.org"]:
        assert reply_cc.takes_part(session, copied, address, OWN) is (address in people), address


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", []),
        ("li.lei@example.net", ["li.lei@example.net"]),
        ("LI.LEI@example.net; wang.fang@example.net, li.lei@example.net", ["li.lei@example.net"]),
    ],
)
def test_conversation_addresses_are_read(app, copied, typed, expected) -> None:
    with app.test_request_context("/?lang=en"):
        assert reply_cc.read_cc(typed, copied, OWN) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("stranger@example.org", "not part of this conversation"),  # no open relay
        ("support@example.com", "not part of this conversation"),  # never our own
        ("li.lei@example.net\r\nBcc: spam@example.org", "not an email address"),
        ("li.lei@example.net%0ABcc:x@example.org", "not an email address"),
        ('"Li" <li.lei@example.net>', "not an email address"),
        ("x" * 2000, "too long"),
    ],
)
def test_anything_else_is_refused(app, copied, typed, reason) -> None:
    with app.test_request_context("/?lang=en"), pytest.raises(reply_cc.CcRefused, match=reason):
        reply_cc.read_cc(typed, copied, OWN)


def test_a_refusal_quotes_what_was_typed_cut_as_every_quote_is(app, copied) -> None:
    typed = "y" * 300
    with app.test_request_context("/?lang=en"), pytest.raises(reply_cc.CcRefused) as refused:
        reply_cc.read_cc(typed, copied, OWN)
    assert str(refused.value) == f"“{quoted(typed)}” is not an email address."
    assert quoted(typed).endswith("y…")


@pytest.fixture
def six_copied(session, copied) -> list[str]:
    """The customer's mail copied six colleagues, one more than a reply may."""
    many = [f"colleague{n}@example.net" for n in range(reply_cc.MAX_CC + 1)]
    copied.messages[0].cc_addresses = many
    session.commit()
    return many


def test_at_most_five_copies(app, copied, six_copied) -> None:
    many = six_copied
    with app.test_request_context("/?lang=en"):
        assert len(reply_cc.read_cc(", ".join(many[:5]), copied, OWN)) == 5
        with pytest.raises(reply_cc.CcRefused, match="at most 5"):
            reply_cc.read_cc(", ".join(many), copied, OWN)
    assert len(reply_cc.default_cc(copied, OWN)) == 5


def test_a_reply_copies_the_customers_colleague_over_the_intake(app, session, client) -> None:
    agent_email = make_user(session).email
    session.commit()
    ticket_id = queue_and_process(
        app,
        session,
        make_mail(
            sender="Wang Fang <wang.fang@example.net>",
            subject="Kettle",
            to="service@example.com",
            cc="Li Lei <li.lei@example.net>",
        ),
    ).id
    session.rollback()  # nothing read stays open while the app writes (SQLite's lock)
    login(client, agent_email)
    page = client.get(f"/staff/tickets/{ticket_id}?lang=en").get_data(as_text=True)
    assert 'value="li.lei@example.net"' in page  # offered in the Cc field
    assert 'data-testid="message-cc"' in page and "li.lei@example.net" in page

    refused = client.post(
        f"/staff/tickets/{ticket_id}/reply?lang=en",
        data={"reply-body": "New kettle on its way.", "reply-cc": "boss@example.org"},
    )
    assert refused.status_code == 400
    assert "New kettle on its way." in refused.get_data(as_text=True)  # the text is kept
    assert session.scalar(select(OutboundMail).where(OutboundMail.kind == "reply")) is None
    session.rollback()

    client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={"reply-body": "New kettle on its way.", "reply-cc": "li.lei@example.net"},
    )
    mail = session.scalar(select(OutboundMail).where(OutboundMail.kind == "reply"))
    assert mail.recipients == ["wang.fang@example.net", "li.lei@example.net"]
    sent = message_from_bytes(mail.raw, policy=policy.default)
    assert sent["To"].addresses[0].addr_spec == "wang.fang@example.net"
    assert [a.addr_spec for a in sent["Cc"].addresses] == ["li.lei@example.net"]
    stored = session.scalar(select(Message).where(Message.outbound_mail_id == mail.id))
    assert stored.cc_addresses == ["li.lei@example.net"]


def _copies(session, ticket_id: int) -> list[list[str]]:
    """The Cc header of each reply queued for the ticket, as mailed."""
    mails = session.scalars(
        select(OutboundMail)
        .where(OutboundMail.ticket_id == ticket_id, OutboundMail.kind == "reply")
        .order_by(OutboundMail.id)
    ).all()
    session.commit()
    found = []
    for mail in mails:
        header = message_from_bytes(mail.raw, policy=policy.default).get("Cc")
        found.append([a.strip() for a in str(header).split(",")] if header else [])
    return found


@pytest.fixture
def api_headers(session) -> dict[str, str]:
    agent = make_user(session, email="agent@example.com")
    token = issue_api_token(session, agent)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_copies_only_the_conversation(client, session, copied, api_headers) -> None:
    url = f"/api/v1/tickets/{copied.id}/reply?lang=en"
    stranger = client.post(
        url, json={"text": "Sent.", "cc": ["stranger@example.org"]}, headers=api_headers
    )
    assert stranger.status_code == 422 and stranger.json["error"] == "cc_refused"
    assert "not part of this conversation" in stranger.json["message"]
    injected = client.post(
        url,
        json={"text": "Sent.", "cc": "li.lei@example.net\r\nBcc: x@evil.example"},
        headers=api_headers,
    )
    assert injected.status_code == 422
    assert (
        client.post(url, json={"text": "Sent.", "cc": [1]}, headers=api_headers).status_code == 400
    )
    assert client.post(url, json={"text": "Sent.", "cc": 5}, headers=api_headers).status_code == 400
    assert _copies(session, copied.id) == []  # nothing sent by any of them

    sent = client.post(
        url, json={"text": "Sent.", "cc": ["LI.LEI@example.net"]}, headers=api_headers
    )
    assert sent.status_code == 201, sent.json
    assert _copies(session, copied.id) == [["li.lei@example.net"]]
    message = session.get(Message, sent.json["message_id"])
    assert message.cc_addresses == ["li.lei@example.net"]
    session.commit()
    plain = client.post(url, json={"text": "And again."}, headers=api_headers)
    assert plain.status_code == 201
    assert _copies(session, copied.id)[-1] == []  # no cc field: no copies, as before


def test_the_api_copies_at_most_five(client, session, copied, six_copied, api_headers) -> None:
    many = six_copied
    url = f"/api/v1/tickets/{copied.id}/reply?lang=en"
    six = client.post(url, json={"text": "Sent.", "cc": many}, headers=api_headers)
    assert six.status_code == 422 and "at most 5" in six.json["message"]
    # A list too long to read is refused as six are, saying the real limit (it said 5 with a
    # 400 that fired only above 20); a list of what is no address is malformed.
    for too_long in (many * 4, many * 400):
        refused = client.post(url, json={"text": "Sent.", "cc": too_long}, headers=api_headers)
        assert refused.status_code == 422 and refused.json["error"] == "cc_refused"
        assert refused.json["message"] == six.json["message"]
    assert f"at most {reply_cc.MAX_CC}" in six.json["message"]
    numbers = client.post(url, json={"text": "Sent.", "cc": [1, 2]}, headers=api_headers)
    assert numbers.status_code == 400 and "at most" not in numbers.json["message"]
    document = client.get("/api/v1/openapi.json").json
    cc = document["components"]["schemas"]["Reply"]["properties"]["cc"]
    assert cc["maxItems"] == reply_cc.MAX_CC and f"at most {reply_cc.MAX_CC}" in cc["description"]
    five = client.post(url, json={"text": "Sent.", "cc": many[:5]}, headers=api_headers)
    assert five.status_code == 201
    assert _copies(session, copied.id) == [many[:5]]


def test_a_reply_by_mail_copies_only_the_conversation(app, session, copied) -> None:
    """The staff member copies the customer's colleague and a stranger in their mail program:
    the customer's answer copies the colleague only (at most 5), and still goes out."""
    ann = make_user(session, email="ann@example.com")
    copied.messages[0].message_id = "cust-1@example.org"
    notify_new_ticket(session, copied, app.config)
    [notification] = outbound(session, copied, "notification")
    raw = _staff_reply(notification, "ann@example.com", "A new kettle is on its way.")
    mail = message_from_bytes(raw, policy=policy.default)
    mail["Cc"] = "Li Lei <LI.LEI@example.net>, stranger@example.org, support@example.com"
    parsed = parse_message(bytes(mail))
    message = handle_staff_mail_reply(session, parsed, ann, copied, app.config)
    session.commit()
    assert message is not None and message.cc_addresses == ["li.lei@example.net"]
    assert _copies(session, copied.id) == [["li.lei@example.net"]]


def test_a_mailed_reply_naming_thousands_of_addresses_is_linear(app, session, copied) -> None:
    """Hostile or careless: a staff member's mail that copies 20,000 addresses. Each is judged
    once (the left-out ones are counted in a set), so the worker is not held for seconds; the
    conversation's colleague is still copied. The old list membership made this quadratic."""
    ann = make_user(session, email="ann@example.com")
    strangers = ", ".join(f"s{n}@example.org" for n in range(20_000))
    parsed = parse_message(
        make_mail(
            sender="ann@example.com",
            to="service@example.com",
            cc=f"{strangers}, li.lei@example.net",
            body="Done.",
        )
    )
    assert len(parsed.cc or []) > 10_000  # the parser kept them, so the loop sees them all
    assert mailed_cc(session, parsed, ann, copied, app.config) == ["li.lei@example.net"]
    # Counted, not timed, on the last 2,000 strangers: the comparisons of the copied addresses.
    # A list of the left-out searched for each made 2 million (1,000 an address), a set makes
    # none; the few others (our own, the customer's, the kept) some 3 an address.
    parsed.cc = [_Address(address) for address in parsed.cc[-2_001:]]
    CountingStr.comparisons = 0
    assert mailed_cc(session, parsed, ann, copied, app.config) == ["li.lei@example.net"]
    assert CountingStr.comparisons < 10 * 2_001


class _Address(CountingStr):
    """An address that keeps counting through the strip() and lower() that normalise it."""

    def strip(self, chars: str | None = None) -> _Address:
        return _Address(str.strip(self, chars))

    def lower(self) -> _Address:
        return _Address(str.lower(self))


def test_a_mail_copying_thousands_keeps_the_first_two_hundred(app, session) -> None:
    """Every later "takes part" check reads each stored address: a 60,000-address Cc cost
    0.11 s a check; the message keeps the first MAX_KEPT_RECIPIENTS of To and of Cc."""
    from mailrouter.intake.pipeline import MAX_KEPT_RECIPIENTS

    many = ", ".join(f"person{i}@example.org" for i in range(5_000))
    ticket = queue_and_process(
        app, session, make_mail(to=f"service@example.com, {many}", cc=many, subject="Kettle")
    )
    message = session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
    assert MAX_KEPT_RECIPIENTS == 200
    assert len(message.cc_addresses) == 200
    assert message.cc_addresses[:2] == ["person0@example.org", "person1@example.org"]
    assert len(message.to_addresses) == 200
    assert message.to_addresses[0] == "service@example.com"
