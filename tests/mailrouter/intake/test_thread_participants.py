"""Who may write into a conversation, through the real SMTP intake on loopback.

A mail that names a ticket (our signed Message-ID in In-Reply-To or References, the customer's
own Message-ID, the subject's token) joins it only when its sender takes part in that ticket:
the customer, someone the conversation's mail went to or copied, staff. Anyone else (a stranger
who got hold of a Message-ID, the customer's colleague who was never copied, a From forged in
the customer's name) opens a ticket of its own that refers to the named one for staff only;
nothing of the named ticket reaches the stranger, the customer's ticket does not change, and the
agent's next reply goes to the customer alone.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from mailrouter.intake import queue
from support.desk import actions, merging, reply_cc
from support.desk.models import Message, OutboundMail, Ticket
from support.desk.outbox import own_addresses
from tests.mailrouter.conftest import mail_queued_since, process_all, send_over_smtp
from tests.mailrouter.intake.conftest import (
    COLLEAGUE,
    COPIED,
    CUSTOMER,
    FIRST,
    STRANGER,
    MailIn,
    ticket_of,
)
from tests.support.staff_helpers import login

ACCOMPLICE = "friend@attacker.test"
#: Words only the customer's ticket holds: none may reach a stranger.
PRIVATE = ("Flat 12B", "Kettle broken", "parcel leaves on Monday")
#: Our MTA's Authentication-Results, believed by its authserv-id (mailrouter.spam.trusted).
FORGED = (
    b"Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.net;"
    b" dkim=none; dmarc=fail (p=reject) header.from=example.net\r\n"
)


@pytest.fixture
def app_settings() -> dict:
    return {"SPAM_TRUSTED_AUTHSERV_IDS": ["mx.example.com"]}


def _landed(mail_in: MailIn, envelope_from: str, **fields) -> Ticket:
    """The ticket the mail (sent with `mail_in`) is stored on: asserted to be one."""
    ticket = mail_in(envelope_from, **fields)
    assert ticket is not None
    return ticket


def _bounce(ours: str, failed: str) -> bytes:
    """A mail server's delivery report on our mail ``ours`` to ``failed``."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: service@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <bounce-{failed}@mx.example.net>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\n"
        f"I could not deliver your message to <{failed}>.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: service@example.com\r\nTo: {failed}\r\nMessage-ID: {ours}\r\n"
        "--B--\r\n"
    ).encode()


def _last_outbound_id(session) -> int:
    return session.scalar(select(func.max(OutboundMail.id))) or 0


def _entries(session, ticket: Ticket) -> int:
    return session.scalar(
        select(func.count()).select_from(Message).where(Message.ticket_id == ticket.id)
    )


def test_a_stranger_with_our_message_id_gets_a_ticket_of_his_own(
    app, session, mail_in, conversation
) -> None:
    ticket, agent, ours = conversation
    ticket.status, ticket.resolved_at = "resolved", ticket.updated_at
    session.commit()
    before = _last_outbound_id(session)
    own = _landed(
        mail_in,
        STRANGER,
        sender=f"Wang Fang <{STRANGER}>",
        cc=ACCOMPLICE,
        subject="Re: my order",
        body="Please change the delivery address to 1 Harbour Street and resend everything.\n",
        message_id="<evil-1@attacker.test>",
        in_reply_to=ours,
        references=f"{FIRST} {ours}",
    )
    session.refresh(ticket)
    # A ticket of its own, linked for staff; the customer's ticket is as it was.
    assert own.id != ticket.id and own.refers_to_ticket_id == ticket.id
    assert own.customer.email == STRANGER and own.previous_ticket_id is None
    assert ticket.status == "resolved"
    senders = set(
        session.scalars(select(Message.from_address).where(Message.ticket_id == ticket.id))
    )
    assert STRANGER not in {s.lower() for s in senders}
    sent = mail_queued_since(session, before)
    # The stranger's auto-reply names his own ticket and nothing of the customer's.
    to_stranger = [(subject, text) for recipients, subject, text in sent if STRANGER in recipients]
    assert len(to_stranger) == 1
    subject, text = to_stranger[0]
    assert own.reference in subject
    for secret in (ticket.reference, *PRIVATE, "resolved", "Resolved"):
        assert secret not in subject + text
    # Nobody else is mailed anything about the customer's ticket (staff hear of a new one).
    for recipients, subject, text in sent:
        assert ACCOMPLICE not in recipients and CUSTOMER not in recipients
        assert ticket.reference not in subject and "1 Harbour Street" not in subject
        assert "Flat 12B" not in text
    # The agent's next reply, with the copies the reply box offers, goes to the customer only.
    offered = reply_cc.default_cc(ticket, own_addresses(session, app.config))
    assert STRANGER not in offered and ACCOMPLICE not in offered
    with pytest.raises(reply_cc.CcRefused):
        reply_cc.read_cc(STRANGER, ticket, own_addresses(session, app.config))
    before = _last_outbound_id(session)
    actions.reply(session, ticket, agent, "Here is your answer.", config=app.config, cc=offered)
    session.commit()
    replies = [recipients for recipients, _s, _t in mail_queued_since(session, before)]
    assert replies and all(STRANGER not in r and ACCOMPLICE not in r for r in replies)
    assert [r for r in replies if CUSTOMER in r]


def test_the_customer_and_those_the_conversation_copied_still_thread(
    session, mail_in, conversation
) -> None:
    ticket, _agent, ours = conversation
    for number, sender in enumerate((CUSTOMER, COPIED.upper()), start=1):
        joined = _landed(
            mail_in,
            sender,
            sender=sender,
            subject="Re: Kettle broken",
            body="Any news on the replacement?\n",
            message_id=f"<reply-{number}@mail.example.net>",
            in_reply_to=ours if number == 1 else FIRST,
        )
        assert joined.id == ticket.id
    # The subject token from a participant, too.
    joined = _landed(
        mail_in,
        COPIED,
        sender=COPIED,
        subject=f"Re: [#{ticket.reference}] Kettle broken",
        message_id="<reply-3@mail.example.net>",
    )
    assert joined.id == ticket.id
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_a_colleague_of_the_same_domain_never_copied_is_a_stranger(mail_in, conversation) -> None:
    ticket, _agent, _ours = conversation
    own = _landed(
        mail_in,
        COLLEAGUE,
        sender=f"Li Lei <{COLLEAGUE}>",
        subject="Re: Kettle broken",
        message_id="<colleague@mail.example.net>",
        in_reply_to=FIRST,
    )
    assert own.id != ticket.id and own.refers_to_ticket_id == ticket.id


def test_a_forged_from_in_the_customers_name_is_treated_as_forged(
    session, mail_in, conversation
) -> None:
    ticket, _agent, ours = conversation
    before = _last_outbound_id(session)
    own = _landed(
        mail_in,
        STRANGER,
        before=FORGED,
        sender=f"Wang Fang <{CUSTOMER}>",
        subject="Re: Kettle broken",
        body="Please change the delivery address to 1 Harbour Street.\n",
        message_id="<forged@attacker.test>",
        in_reply_to=ours,
    )
    assert own.id != ticket.id and own.refers_to_ticket_id == ticket.id
    message = session.scalar(select(Message).where(Message.message_id == "forged@attacker.test"))
    assert message is not None and message.sender_unverified
    # A forged sender gets no auto-reply (as a new conversation from one never does).
    assert not [r for r, _s, _t in mail_queued_since(session, before) if CUSTOMER in r]


def test_staff_see_the_link_both_ways_and_may_merge_it_in_and_undo(
    app, session, mail_in, client, conversation
) -> None:
    ticket, agent, ours = conversation
    own = _landed(
        mail_in,
        COLLEAGUE,
        sender=COLLEAGUE,
        subject="Re: Kettle broken",
        body="I am Wang Fang's colleague; the kettle is for our office.\n",
        message_id="<colleague@mail.example.net>",
        references=ours,
    )
    email, named_id, named_ref, own_id, own_ref = (
        agent.email,
        ticket.id,
        ticket.reference,
        own.id,
        own.reference,
    )
    session.commit()  # nothing read stays open: the ticket page writes (SQLite's lock)
    login(client, email)
    page = client.get(f"/staff/tickets/{own_id}").get_data(as_text=True)
    block = page.split('data-testid="refers-to"')[1].split("</div>")[0]
    assert named_ref in block and f'data-merge-into="{named_ref}"' in block
    named = client.get(f"/staff/tickets/{named_id}").get_data(as_text=True)
    assert own_ref in named.split('data-testid="referred-by"')[1].split("</div>")[0]
    # The merge asks first, then moves the colleague's mail in; his address may then be copied.
    confirm = client.post(
        f"/staff/tickets/{own_id}/merge", data={"merge-target": named_ref}
    ).get_data(as_text=True)
    assert 'data-testid="merge-confirm"' in confirm
    merged = client.post(
        f"/staff/tickets/{own_id}/merge", data={"merge-target": named_ref, "merge-confirm": "1"}
    )
    assert merged.status_code == 302
    session.expire_all()
    assert session.get(Ticket, own_id).merged_into_id == named_id
    assert COLLEAGUE in reply_cc.conversation_addresses(
        session.get(Ticket, named_id), own_addresses(session, app.config)
    )
    session.commit()
    client.post(f"/staff/tickets/{own_id}/unmerge")
    session.expire_all()
    assert session.get(Ticket, own_id).merged_into_id is None
    # A ticket of another customer that names nothing is still never merged in.
    other = session.get(Ticket, own_id)
    other.refers_to_ticket_id = None
    session.commit()
    with pytest.raises(actions.ActionError):
        merging.mergeable_target(session, other, agent, session.get(Ticket, named_id))


def test_a_status_page_needs_the_signed_link_not_the_reference(
    session, mail_in, client, conversation
) -> None:
    ticket, _agent, ours = conversation
    for path in (f"/t/{ticket.reference}", f"/t/{ticket.reference.lower()}", "/t/1"):
        response = client.get(path)
        assert response.status_code == 404
        assert not any(secret in response.get_data(as_text=True) for secret in PRIVATE)
    # The stranger's own follow link (from his auto-reply) shows only his own mail.
    own = _landed(
        mail_in,
        STRANGER,
        sender=STRANGER,
        subject="Re: hello",
        message_id="<evil-2@attacker.test>",
        in_reply_to=ours,
    )
    auto = session.scalar(
        select(OutboundMail).where(
            OutboundMail.ticket_id == own.id, OutboundMail.kind == "auto_reply"
        )
    )
    assert auto is not None
    body = message_from_bytes(auto.raw, policy=policy.default).get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"/t/[A-Za-z0-9._\-]+", body.get_content())
    assert link is not None
    session.commit()
    page = client.get(link.group(0)).get_data(as_text=True)
    assert own.reference in page
    assert ticket.reference not in page and not any(secret in page for secret in PRIVATE)


def test_a_forged_staff_reply_to_a_notification_sends_the_customer_nothing(
    session, mail_in, conversation
) -> None:
    ticket, agent, _ours = conversation
    notification = session.scalar(
        select(OutboundMail).where(
            OutboundMail.ticket_id == ticket.id, OutboundMail.kind == "notification"
        )
    )
    assert notification is not None and agent.email in notification.recipients
    before = _last_outbound_id(session)
    own = _landed(
        mail_in,
        STRANGER,
        before=FORGED.replace(b"example.net", b"example.com"),
        sender=agent.email,
        to="service@example.com",
        subject=f"Re: {notification.subject}",
        body="Your refund is approved; send your bank details to billing@attacker.test.\n",
        message_id="<forged-staff@attacker.test>",
        in_reply_to=f"<{notification.message_id.strip('<>')}>",
    )
    assert not [
        text
        for recipients, _s, text in mail_queued_since(session, before)
        if CUSTOMER in recipients
    ]
    assert own.id != ticket.id


@pytest.mark.parametrize(
    ("headers", "names_by"),
    [
        ({"Auto-Submitted": "auto-replied"}, "message-id"),
        ({"Auto-Submitted": "auto-generated"}, "subject-token"),
        ({"X-Autoreply": "yes", "Precedence": "bulk"}, "message-id"),
    ],
)
def test_a_strangers_automatic_mail_adds_nothing_to_the_ticket_it_names(
    app, session, mail_in, conversation, headers, names_by
) -> None:
    """An Auto-Submitted header is no pass: a stranger's automatic mail that names a ticket
    (our Message-ID or its token) is set aside, naming the ticket for staff, and answered by
    nobody; the ticket gets no entry."""
    ticket, _agent, ours = conversation
    entries = _entries(session, ticket)
    before = _last_outbound_id(session)
    by_id = names_by == "message-id"
    stored = mail_in(
        STRANGER,
        sender=f"Wang Fang <{STRANGER}>",
        subject="Automatic reply" if by_id else f"Automatic reply [#{ticket.reference}]",
        body="Change the delivery address to 1 Harbour Street.\n",
        message_id="<auto-1@attacker.test>",
        in_reply_to=ours if by_id else None,
        references=ours if by_id else None,
        headers=headers,
    )
    assert _entries(session, ticket) == entries
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert stored is None
    assert not session.scalar(select(Message).where(Message.message_id == "auto-1@attacker.test"))
    [aside] = queue.set_aside(session)
    assert aside.meta["outcome"] == "set_aside" and ticket.reference in aside.meta["detail"]
    assert mail_queued_since(session, before) == []
    # Staff who make it a ticket after all get one of its own that refers to the named one,
    # still with no auto-reply to a robot.
    session.rollback()
    queue.replay(session, aside.id, actor_label="test")
    session.commit()
    assert process_all(app) == 1
    own = ticket_of(session, "<auto-1@attacker.test>")
    assert own is not None and own.id != ticket.id and own.refers_to_ticket_id == ticket.id
    assert not [r for r, _s, _t in mail_queued_since(session, before) if STRANGER in r]


def test_a_bounce_of_our_reply_to_someone_of_the_ticket_still_lands_on_it(
    app, session, intake, conversation
) -> None:
    """Only a report on one of the ticket's people lands: not a stranger, and not our own
    address, which the customer's mail went to but which is nobody a reply of ours goes to."""
    ticket, _agent, ours = conversation
    for failed, lands in ((STRANGER, False), ("service@example.com", False), (CUSTOMER, True)):
        send_over_smtp(app, session, intake, "", _bounce(ours, failed))
        entry = session.scalar(
            select(Message).where(Message.message_id == f"bounce-{failed}@mx.example.net")
        )
        assert (entry is not None and entry.ticket_id == ticket.id) is lands, failed


@pytest.mark.parametrize("names_by", ["subject-token", "signed-message-id"])
def test_our_own_address_in_from_takes_part_only_through_our_signed_message_id(
    session, mail_in, conversation, names_by
) -> None:
    """Nobody checks From on the way in: a stranger who writes From: service@example.com
    beside a ticket's token gets nothing onto the ticket (set aside, as any stranger's
    automatic mail); a mail of ours that comes back naming our signed Message-ID (a loop
    through a customer's forward) is still kept on its ticket as automatic."""
    ticket, _agent, ours = conversation
    entries = _entries(session, ticket)
    by_id = names_by == "signed-message-id"
    mail_in(
        STRANGER,
        sender="Lumen Service <service@example.com>",
        subject="Re: Kettle" if by_id else f"Re: Kettle [#{ticket.reference}]",
        body="Please change the delivery address to 1 Harbour Street.\n",
        message_id="<own-1@attacker.test>",
        in_reply_to=ours if by_id else None,
        references=ours if by_id else None,
    )
    assert _entries(session, ticket) == entries + (1 if by_id else 0)
    if not by_id:
        [aside] = queue.set_aside(session)
        assert ticket.reference in aside.meta["detail"]
