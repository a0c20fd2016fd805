"""The contact form's pages tell nothing about the address typed into it.

Anyone can type any address: what the pages show may depend only on what was typed, never on
what we know of the address (a key account's tier, an earlier report, open tickets, a name or
zone on record), and nothing may tell whether the address is known at all.
"""

from __future__ import annotations

import difflib
import re

import pytest
from sqlalchemy import select, update

from mailrouter.models import InboundMail
from support.desk.models import Customer, OutboundMail, Ticket
from tests.factories import make_customer, make_ticket

QUESTION = {
    "name": "Wang Fang",
    "subject": "Kettle lid cracked",
    "question": "The lid of my new kettle was cracked when it arrived. What can I do?",
    "department": "",
    "consent": "y",
    "action": "send",
    "utc_offset": "480",
}
UNKNOWN, KEY_ACCOUNT, REPEATING = (
    "nobody.yet@example.org",
    "buyer@key-account.example.com",
    "again@example.org",
)


@pytest.fixture
def app_settings() -> dict:
    return {
        "FAQ_CONTACT_LIMIT_PER_HOUR": 50,
        # A key account's first answer within half an hour, whatever the level.
        "SLA_TIER_TARGETS": {"key": {"*": {"first_response_minutes": 30}}},
        "URGENCY_REPEAT_MIN_HOURS": 0,
    }


def _send(app, client, session, headers, addresses: list[str]) -> dict[str, str]:
    """Each address's question sent at one moment and made a ticket: its confirmation's URL."""
    from tests.mailrouter.conftest import process_all

    sent = {
        address: client.post(
            "/contact?lang=en", data={**QUESTION, "email": address}, headers=headers
        ).location
        for address in addresses
    }
    # Received at the same moment: the due times then differ only by what we know of each.
    first = session.scalar(select(InboundMail.received_at).order_by(InboundMail.id).limit(1))
    session.execute(update(InboundMail).values(received_at=first))
    session.commit()
    assert process_all(app) == len(addresses)
    return sent


def _confirmations(client, headers, url: str, address: str) -> list[str]:
    """The confirmation in English and Chinese, its own reference, receipt and address (what
    was typed) blanked."""
    texts = []
    for language in ("en", "zh"):
        page = client.get(f"{url}&lang={language}", headers=headers).get_data(as_text=True)
        reference = re.search(r'data-testid="contact-reference">([^<]+)<', page)
        assert reference, page
        for own in (reference.group(1), address, url.partition("r=")[2]):
            page = page.replace(own, "BLANK")
        texts.append(page)
    return texts


def _pages(app, client, session, headers, addresses: list[str]) -> dict[str, list[str]]:
    sent = _send(app, client, session, headers, addresses)
    return {address: _confirmations(client, headers, url, address) for address, url in sent.items()}


def test_the_thank_you_page_is_the_same_whoever_s_address_was_typed(
    app, client, session, browser_headers
):
    """The page said when the personal answer was due: half an hour for a key account's
    address, four hours for one whose owner reported the problem before, a day for anyone
    else. Typing an address told its tier and its recent contact."""
    make_customer(session, email=KEY_ACCOUNT, tier="key")
    repeating = make_customer(session, email=REPEATING)
    make_ticket(session, customer=repeating, subject=QUESTION["subject"], body=QUESTION["question"])
    session.commit()
    pages = _pages(app, client, session, browser_headers, [UNKNOWN, KEY_ACCOUNT, REPEATING])
    # The desk does know more: the key account's and the repeat's answers are due sooner.
    due = {
        email: due_at
        for email, due_at in session.execute(
            select(Customer.email, Ticket.first_response_due_at)
            .join(Ticket, Ticket.customer_id == Customer.id)
            .where(Ticket.channel == "web")
        )
    }
    assert due[KEY_ACCOUNT] < due[REPEATING] < due[UNKNOWN]
    assert 'data-testid="contact-answer-by"' in pages[UNKNOWN][0]
    for address in (KEY_ACCOUNT, REPEATING):
        assert not (diff := _differences(pages[address], pages[UNKNOWN])), "\n".join(diff)


def _differences(pages: list[str], others: list[str]) -> list[str]:
    """The lines in which two lists of pages differ (readable when a test fails)."""
    return [
        line
        for page, other in zip(pages, others, strict=True)
        for line in difflib.unified_diff(page.splitlines(), other.splitlines(), n=0, lineterm="")
    ]


def test_the_page_stays_the_same_when_staff_merge_it_into_the_address_s_other_ticket(
    app, client, session, browser_headers
):
    """Staff merge a question into the ticket its address already has open: its messages
    move there. The page looked for the question on its own ticket, found none, and said
    "being assigned" from then on, which only an address with another ticket could cause."""
    from support.desk import merging
    from tests.factories import make_user

    owner = make_customer(session, email=REPEATING)
    other = make_ticket(session, customer=owner, subject="Toaster", body="My toaster smokes.")
    session.commit()
    (url,) = _send(app, client, session, browser_headers, [REPEATING]).values()
    before = _confirmations(client, browser_headers, url, REPEATING)
    question = session.scalar(
        select(Ticket).where(Ticket.channel == "web", Ticket.customer_id == owner.id)
    )
    with app.app_context():
        merging.merge(session, question, make_user(session, role="admin"), other, app.config)
    session.commit()
    assert question.merged_into_id == other.id
    after = _confirmations(client, browser_headers, url, REPEATING)
    assert not (diff := _differences(after, before)), "\n".join(diff)


def test_an_address_over_its_hourly_limit_looks_like_any_other(
    app, client, session, browser_headers
):
    """The limit per address answered "You have sent several questions in the last hour"
    to whoever typed it next, from any network: sending a few questions with someone's
    address told whether they had used the form within the hour. Over its limit, a question
    is taken as any other is, and only the mail to the address is held back (the limit is
    there so that no one can fill an inbox with our confirmations)."""
    from tests.mailrouter.conftest import process_all

    app.config["FAQ_CONTACT_LIMIT_PER_HOUR"] = 2
    for _ in range(2):  # the owner's own questions, from their network
        owner = app.test_client()
        assert (
            owner.post(
                "/contact", data={**QUESTION, "email": REPEATING}, headers=browser_headers
            ).status_code
            == 302
        )
    stranger = app.test_client()
    probe = stranger.post(
        "/contact?lang=en",
        data={**QUESTION, "email": REPEATING},
        headers=browser_headers,
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert probe.status_code == 302 and "/contact/sent?r=" in probe.location
    session.commit()
    assert process_all(app) == 3
    page = stranger.get(probe.location, headers=browser_headers).get_data(as_text=True)
    assert 'data-testid="contact-reference">' in page
    replies = session.scalars(
        select(OutboundMail.ticket_id).where(OutboundMail.kind == "auto_reply")
    ).all()
    tickets = session.scalars(select(Ticket.id).order_by(Ticket.id)).all()
    assert len(tickets) == 3 and sorted(replies) == tickets[:2]  # none for the third
    session.commit()
    # The client's own limit is about the client, not the address: it still says so.
    for n in range(2):
        stranger.post(
            "/contact",
            data={**QUESTION, "email": f"other{n}@example.org"},
            headers=browser_headers,
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        )
    over = stranger.post(
        "/contact?lang=en",
        data={**QUESTION, "email": "third@example.org"},
        headers=browser_headers,
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert over.status_code == 429


def test_one_of_our_own_addresses_typed_gets_a_reference_as_any_other(
    app, client, session, browser_headers
):
    """Mail from one of our addresses is a loop and is set aside without a ticket; a
    question from the form with one typed into it was too, and its page said "being
    assigned" for ever: typing addresses found the ones we forward departments' mail to. It
    is a ticket for staff to look at now (to triage), with no auto-reply to our own address."""
    from support.desk.models import Department

    team = "kitchen-team@internal.example.com"
    session.execute(
        update(Department).where(Department.code == "sales").values(forward_address=team)
    )
    session.commit()
    pages = _pages(app, client, session, browser_headers, [UNKNOWN, team])
    assert not (diff := _differences(pages[team], pages[UNKNOWN])), "\n".join(diff)
    ticket = session.scalar(select(Ticket).join(Customer).where(Customer.email == team))
    assert ticket.needs_triage
    replies = session.scalars(
        select(OutboundMail.recipients).where(OutboundMail.kind == "auto_reply")
    ).all()
    assert len(replies) == 1 and team not in str(replies)
