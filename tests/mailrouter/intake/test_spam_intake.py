"""Spam and forged senders over real SMTP: what a customer, a spammer and a forger get.

Spam from the shared corpus is held (no ticket, no auto-reply, no notification) and comes
back as a ticket when staff say "not spam"; headers a sender wrote himself (a forged
``X-Spam-Flag: NO`` or Authentication-Results) change nothing; a DMARC failure reported by
our own MTA means no auto-reply and an "unverified sender" on the ticket page.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mailrouter.intake import queue
from mailrouter.intake import worker as worker_module
from mailrouter.intake.smtp import SmtpIntakeService
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail, SpamExample
from mailrouter.spam import learning, verdict
from support.core.db import utcnow
from support.desk.models import AuditEvent, Message, OutboundMail, Ticket
from tests.conftest import shared_path
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.support.staff_helpers import login

SPAM_DIR = ("corpora", "spamassassin", "spam-1")
#: Held out of the shipped model's training (every fifth file); certain and suspected spam.
CERTAIN_SPAM = "00010.445affef4c70feec58f9198cfbc22997.eml"
SUSPECTED_SPAM = "00180.13a95a2542a0fd01ff24303561cca949.eml"
SUSPECTED_SUBJECT = "Hottest babes!"
TRUST = {"SPAM_TRUSTED_RELAYS": ["mx.example.com"], "SPAM_TRUSTED_AUTHSERV_IDS": ["mx.example.com"]}
OUR_RECEIVED = (
    "Received: from mail.bank.example (mail.bank.example [203.0.113.9])\r\n"
    "\tby mx.example.com (Postfix) with ESMTPS id 4AbCd; Thu, 3 Dec 2026 10:00:00 +0000\r\n"
)


def our_results(results: str) -> bytes:
    """Our MTA's Authentication-Results (``results``, folded with CRLF TAB) above its Received."""
    return f"Authentication-Results: mx.example.com; {results}\r\n{OUR_RECEIVED}".encode()


def corpus_spam(name: str) -> bytes:
    raw = shared_path(*SPAM_DIR, name).read_bytes()
    return raw.split(b"\n", 1)[1] if raw.startswith(b"From ") else raw


@pytest.fixture
def app_settings() -> dict:
    return {"WORKER_POLL_SECONDS": 0.05}


@pytest.fixture
def sales_agent(session):
    """A lead of sales (their email address): a new sales ticket notifies them."""
    email = make_user(session, role="lead", departments=("sales",)).email
    session.commit()
    return email


def send(intake: SmtpIntakeService, raw: bytes, *, to: str = "sales@example.com") -> None:
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        assert smtp.sendmail("sender@example.org", [to], raw) == {}


def counts(session) -> tuple[int, int, int]:
    """(tickets, auto-replies, notifications)."""
    session.expire_all()
    tickets = session.scalar(select(func.count()).select_from(Ticket))
    kinds = dict(
        session.execute(select(OutboundMail.kind, func.count()).group_by(OutboundMail.kind)).all()
    )
    session.commit()
    return tickets, kinds.get("auto_reply", 0), kinds.get("notification", 0)


def test_corpus_spam_is_held_and_a_customer_mail_beside_it_is_not(
    app, intake, session, sales_agent
) -> None:
    send(intake, corpus_spam(CERTAIN_SPAM))
    send(intake, corpus_spam(SUSPECTED_SPAM))
    assert process_all(app) == 2
    assert counts(session) == (0, 0, 0)
    held = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
    assert [m.spam_state for m in held] == ["certain", "suspected"]
    for mail in held:
        assert mail.state == "processed" and mail.ticket_id is None
        assert mail.spam_score is not None and mail.spam_score >= 5.0
        assert mail.spam_detail["source"] == "builtin"
        assert mail.spam_detail["reasons"]  # the words that decided
    session.commit()

    # The control: an ordinary customer mail to the same address becomes a ticket with its
    # auto-reply and notification, so the zeros above are the filter's doing.
    send(
        intake,
        make_mail(
            to="sales@example.com",
            subject="Quote for 200 kettles",
            body=(
                "Hello, could you send me a quote for 200 of the KT-200 kettles, delivered "
                "to Ningbo by the end of March? Thanks, Li Wei"
            ),
        ),
    )
    assert process_all(app) == 1
    assert counts(session) == (1, 1, 1)


def test_not_spam_brings_it_back_as_a_ticket_and_teaches_the_filter(
    app, intake, session, client, sales_agent
) -> None:
    send(intake, corpus_spam(SUSPECTED_SPAM))
    process_all(app)
    held = session.scalar(select(InboundMail))
    session.commit()

    login(client, sales_agent)
    page = client.get("/staff/spam/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert SUSPECTED_SUBJECT in text and f'value="{held.id}"' in text
    shown = client.get(f"/staff/quarantine/{held.id}").get_data(as_text=True)
    assert (
        "(built-in filter, suspected):" in shown
    )  # the message itself, with its score and reasons
    response = client.post(
        "/staff/spam/decide", data={"inbound_id": [str(held.id)], "decision": "not_spam"}
    )
    assert response.status_code == 302
    flashed = client.get("/staff/spam/?lang=en").get_data(as_text=True)
    assert "1 message is queued again as a ticket." in flashed  # not "1 messages are"
    assert process_all(app) == 1

    tickets, auto_replies, notifications = counts(session)
    assert (tickets, auto_replies, notifications) == (1, 1, 1)  # still within the window
    ticket = session.scalar(select(Ticket))
    assert ticket.department.code == "sales"
    released = session.get(InboundMail, held.id)
    assert (released.spam_state, released.ticket_id) == ("released", ticket.id)
    assert session.scalar(select(SpamExample.label)) == "ham"
    session.commit()
    assert SUSPECTED_SUBJECT not in client.get("/staff/spam/").get_data(as_text=True)

    result = learning.retrain(app.extensions["support_db"], app.config, app.instance_path)
    assert result.trained and result.examples == 1
    assert verdict.model_path(app.config, app.instance_path).exists()
    assert verdict.current_model(app.config, app.instance_path) is not None


def test_not_spam_days_later_makes_a_ticket_without_an_auto_reply(
    app, intake, session, client, sales_agent
) -> None:
    send(intake, corpus_spam(SUSPECTED_SPAM))
    process_all(app)
    held = session.scalar(select(InboundMail))
    held.received_at = utcnow() - timedelta(days=3)
    session.commit()
    login(client, sales_agent)
    client.post("/staff/spam/decide", data={"inbound_id": [str(held.id)], "decision": "not_spam"})
    process_all(app)
    assert counts(session)[:2] == (1, 0)


def test_forged_filter_headers_from_an_untrusted_sender_change_nothing(
    app, intake, session, sales_agent
) -> None:
    app.config.update(TRUST)
    # The spammer writes a clean bill of health into his own headers (no Received of ours
    # above them: he talks to the intake directly, or they sit below our MTA's header).
    forged_clean = (
        b"X-Spam-Flag: NO\r\nX-Spam-Status: No, score=-5.0 required=5.0\r\n"
        b"X-Spam-Action: no action\r\n"
        b"Authentication-Results: mx.example.com; spf=pass; dkim=pass; dmarc=pass\r\n"
    )
    send(intake, forged_clean + corpus_spam(CERTAIN_SPAM))
    # A customer's mail with forged "spam" and "forged sender" verdicts is still served.
    forged_dirty = {
        "X-Spam-Flag": "YES",
        "X-Spam-Status": "Yes, score=40.0 required=5.0 tests=FORGED",
        "Authentication-Results": (
            "mx.example.com; spf=fail; dmarc=fail (p=reject) header.from=example.net"
        ),
    }
    send(
        intake,
        make_mail(
            to="sales@example.com",
            subject="Quote for 200 kettles",
            body="Could you send me a quote for 200 kettles? Li Wei",
            headers=forged_dirty,
        ),
    )
    assert process_all(app) == 2
    spam, customer = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
    assert spam.spam_state == "certain" and spam.spam_detail["source"] == "builtin"
    assert customer.spam_state is None and customer.spam_detail["source"] == "builtin"
    assert customer.spam_detail["sender_unverified"] == ""
    session.commit()
    assert counts(session) == (1, 1, 1)


def test_trusted_dmarc_failure_gets_no_auto_reply_and_an_unverified_sender(
    app, intake, session, client, sales_agent
) -> None:
    app.config.update(TRUST)
    ours = (
        "Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=bank.example;\r\n"
        "\tdkim=none; dmarc=fail (p=reject dis=none) header.from=bank.example\r\n"
        "X-Spam-Flag: NO\r\nX-Spam-Status: No, score=0.4 required=5.0 tests=NONE\r\n" + OUR_RECEIVED
    ).encode()
    raw = ours + make_mail(
        sender="Bank <security@bank.example>",
        to="sales@example.com",
        subject="Your order confirmation",
        body="Please find the order confirmation for order 4471 attached. Regards",
    )
    send(intake, raw)
    assert process_all(app) == 1
    assert counts(session) == (1, 0, 1)  # a ticket and its notification, no auto-reply
    message = session.scalar(select(Message).where(Message.direction == "in"))
    assert message.sender_unverified.startswith("DMARC fail (p=reject) for bank.example")
    inbound = session.scalar(select(InboundMail))
    assert inbound.spam_detail["source"] == "spamassassin"  # our MTA's verdict was read
    ticket_id = message.ticket_id
    session.commit()
    login(client, sales_agent)
    page = client.get(f"/staff/tickets/{ticket_id}").get_data(as_text=True)
    assert "unverified sender" in page and "bank.example" in page
    assert f'action="/staff/spam/ticket/{ticket_id}"' in page  # the page's "Spam" button


#: A notice that the learned filter alone puts at 3 to 5 points: a ticket without an auto-reply.
ACCOUNT_NOTICE = {
    "sender": "Bank <security@bank.example>",
    "to": "sales@example.com",
    "subject": "Account notice",
    "body": "Please confirm the recent changes to your account at https://bank.example/review"
    " today.\n\nThe security team",
}


def test_a_sender_our_mta_calls_forged_is_held_where_the_words_alone_make_a_ticket(
    app, intake, session, sales_agent
) -> None:
    app.config.update(TRUST)
    forged = our_results(
        "dkim=none;\r\n"
        "\tspf=fail smtp.mailfrom=bank.example; dmarc=fail (p=reject) header.from=bank.example"
    )
    # The control: the same notice with no results of our MTA (or the sender's own, below
    # our Received) is judged by its words: a ticket, no auto-reply.
    send(intake, OUR_RECEIVED.encode() + make_mail(**ACCOUNT_NOTICE))
    assert process_all(app) == 1
    control = session.scalar(select(InboundMail))
    assert control.spam_state is None and 3.0 <= control.spam_score < 5.0
    session.commit()
    assert counts(session) == (1, 0, 1)

    send(intake, forged + make_mail(**ACCOUNT_NOTICE))
    assert process_all(app) == 1
    held = session.scalars(select(InboundMail).order_by(InboundMail.id.desc())).first()
    assert held.spam_state == "suspected" and held.ticket_id is None
    assert held.spam_score == pytest.approx(control.spam_score + verdict.FORGED_SENDER_POINTS)
    assert held.spam_detail["reasons"][0] == "forged sender +3.0"
    assert held.spam_detail["sender_unverified"] == "DMARC fail (p=reject) for bank.example"
    session.commit()
    assert counts(session) == (1, 0, 1)  # nothing new reached an inbox


def test_a_sender_our_mta_authenticates_gets_no_credit(app, intake, session, sales_agent) -> None:
    """A spammer signs his own domain at no cost: a pass changes no score (only a forward's
    SPF failure is forgiven when the From domain's signature held)."""
    app.config.update(TRUST)
    signed = our_results(
        "dkim=pass header.d=bank.example;\r\n"
        "\tspf=fail smtp.mailfrom=bank.example; dmarc=pass header.from=bank.example"
    )
    send(intake, OUR_RECEIVED.encode() + make_mail(**ACCOUNT_NOTICE))
    send(intake, signed + make_mail(**ACCOUNT_NOTICE))
    assert process_all(app) == 2
    plain, authenticated = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
    assert authenticated.spam_score == plain.spam_score
    assert authenticated.spam_detail["sender_unverified"] == ""  # SPF fail, DKIM held
    session.commit()


def test_a_trusted_spam_verdict_holds_mail_the_learned_filter_would_pass(
    app, intake, session, sales_agent
) -> None:
    app.config.update(TRUST)
    ours = (
        "X-Spam-Flag: YES\r\n"
        "X-Spam-Status: Yes, score=7.9 required=5.0 tests=BAYES_99,URIBL_BLOCKED\r\n" + OUR_RECEIVED
    ).encode()
    send(intake, ours + make_mail(to="sales@example.com", subject="Quote", body="A quote please."))
    assert process_all(app) == 1
    inbound = session.scalar(select(InboundMail))
    assert inbound.spam_state == "suspected"
    assert inbound.spam_detail["reasons"] == ["BAYES_99", "URIBL_BLOCKED"]
    session.commit()
    assert counts(session) == (0, 0, 0)


def test_mail_just_below_the_held_score_is_a_ticket_without_an_auto_reply(
    app, intake, session, sales_agent
) -> None:
    # SPAM_NO_AUTOREPLY_SCORE (3) to SPAM_SUSPECTED_SCORE (5): a ticket and its notification
    # as usual, but no answer to what may be spam with a forged sender; the audit says why.
    app.config.update(TRUST)

    def scored(score: float, subject: str) -> bytes:
        ours = f"X-Spam-Flag: NO\r\nX-Spam-Status: No, score={score} required=5.0\r\n"
        return (ours + OUR_RECEIVED).encode() + make_mail(
            to="sales@example.com", subject=subject, body="A quote for 200 kettles, please."
        )

    send(intake, scored(4.2, "Quote"))
    assert process_all(app) == 1
    assert counts(session) == (1, 0, 1)
    skipped = session.scalar(
        select(AuditEvent.data).where(AuditEvent.action == "auto_reply_skipped")
    )
    assert skipped == {"reason": "spam_score: 4.2 >= SPAM_NO_AUTOREPLY_SCORE 3 (spamassassin)"}
    session.commit()

    send(intake, scored(2.9, "Another quote"))  # below the band: answered
    assert process_all(app) == 1
    assert counts(session) == (2, 1, 2)


def test_no_faq_answers_are_looked_for_ahead_for_mail_that_gets_no_auto_reply(
    app, session, monkeypatch
) -> None:
    # Finding a new mail's FAQ answers is most of its cost (the sentence-embedding model), and
    # only the auto-reply step reads them: mail in the no-answer band and mail from a forged
    # sender reach no such step, so the worker's preparing looks for none.
    app.config.update(TRUST)

    def received(headers: str, subject: str) -> bytes:
        return (headers + OUR_RECEIVED).encode() + make_mail(
            to="sales@example.com", subject=subject, body="How long does a refund take?"
        )

    forged = (
        "Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.net;\r\n"
        "\tdkim=none; dmarc=fail (p=reject dis=none) header.from=example.net\r\n"
    )
    mails = (
        received("X-Spam-Flag: NO\r\nX-Spam-Status: No, score=4.2\r\n", "In the band"),
        received("X-Spam-Flag: NO\r\nX-Spam-Status: No, score=2.9\r\n", "Below the band"),
        received(forged, "Forged"),
    )
    for raw in mails:
        queue.store_inbound(
            session,
            channel="smtp",
            raw=raw,
            envelope_from="customer@example.net",
            envelope_to=["sales@example.com"],
        )
    session.commit()
    worker = Worker(app, prepare_process=False)
    # All three prepared: the first loads the models, over 2 s on a loaded machine.
    monkeypatch.setattr(worker_module, "PREPARE_SECONDS", 600.0)
    claims = queue.claim_batch(
        session, worker_id=worker.worker_id, lease_seconds=300, max_attempts=3, limit=10
    )
    session.commit()
    batch = worker.prepare_claims(claims, worker_id=worker.worker_id)
    answers = {item.parsed.subject: item.analysis.answers for item in batch.prepared}
    assert answers["Below the band"] is not None
    assert answers["In the band"] is None
    assert answers["Forged"] is None


def test_a_customer_reply_into_their_ticket_is_not_judged_by_the_learned_filter(
    app, intake, session, sales_agent
) -> None:
    send(
        intake,
        make_mail(
            to="sales@example.com",
            message_id="<first@mail.example.net>",
            subject="Quote for kettles",
            body="A quote for 200 kettles, please.",
        ),
    )
    process_all(app)
    # The customer forwards an advert by replying to their own thread: it stays on the ticket.
    advert = corpus_spam(CERTAIN_SPAM).decode("latin-1")
    body = advert.split("\n\n", 1)[1] if "\n\n" in advert else advert
    send(
        intake,
        make_mail(
            to="sales@example.com",
            subject="Re: Quote for kettles",
            in_reply_to="<first@mail.example.net>",
            body="MULTIPLY YOUR CUSTOMER BASE!!! $$$ " + body[:3000],
        ),
    )
    assert process_all(app) == 1
    reply = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()[-1]
    assert reply.spam_state is None and reply.ticket_id is not None
    session.commit()


def test_spam_button_takes_a_ticket_out_of_the_inbox(app, intake, session, client, sales_agent):
    send(intake, make_mail(to="sales@example.com", subject="Quote", body="A quote, please."))
    process_all(app)
    ticket_id = session.scalar(select(Ticket.id))
    session.commit()
    link = f'href="/staff/tickets/{ticket_id}?queue=sales"'  # opened in this inbox
    login(client, sales_agent)
    assert link in client.get("/staff/inbox/sales").get_data(as_text=True)
    response = client.post(f"/staff/spam/ticket/{ticket_id}")
    assert response.status_code == 302
    assert session.get(Ticket, ticket_id).status == "spam"
    assert session.scalar(select(SpamExample.label)) == "spam"
    assert session.scalar(select(InboundMail.spam_state)) == "confirmed"
    session.commit()
    assert link not in client.get("/staff/inbox/sales?status=all").get_data(as_text=True)
    assert link not in client.get("/staff/inbox/sales").get_data(as_text=True)


def as_from(raw: bytes, address: str) -> bytes:
    """The corpus mail as if sent from ``address`` (its sender lines rewritten)."""
    head, _, body = raw.partition(b"\n\n")
    lines = [
        line
        for line in head.split(b"\n")
        if not line.lower().startswith((b"from:", b"return-path:", b"reply-to:"))
    ]
    return b"\n".join([f"From: {address}".encode(), *lines]) + b"\n\n" + body


def _quote_requests(app, intake, session, *senders: str) -> list[int]:
    """Each sender asks sales for a quote over SMTP: plain customer mail, a ticket each (their
    ids, in the senders' order)."""
    for address in senders:
        send(
            intake,
            make_mail(
                sender=address,
                to="sales@example.com",
                subject="Quote",
                body="A quote for 200 kettles, please.",
            ),
        )
    assert process_all(app) == len(senders)
    ticket_ids = list(session.scalars(select(Ticket.id).order_by(Ticket.id)))
    session.commit()
    return ticket_ids


def _answered_by(client, agent, *ticket_ids: int) -> None:
    """The agent replies from the web on each ticket: staff have now written to its sender."""
    login(client, agent)
    for ticket_id in ticket_ids:
        response = client.post(
            f"/staff/tickets/{ticket_id}/reply",
            data={"reply-body": "Here it is.", "reply-send": "1"},
        )
        assert response.status_code == 302


def test_suspected_mail_from_someone_staff_answered_is_a_ticket_without_an_auto_reply(
    app, intake, session, client, sales_agent
) -> None:
    answered, unanswered = "li.wei@example.net", "zhang.min@example.net"
    first, _ = _quote_requests(app, intake, session, answered, unanswered)
    _answered_by(client, sales_agent, first)

    # Both now send what our filter suspects: only the one staff wrote to gets a ticket.
    send(intake, as_from(corpus_spam(SUSPECTED_SPAM), answered))
    send(intake, as_from(corpus_spam(SUSPECTED_SPAM), unanswered))
    assert process_all(app) == 2
    answered_mail, unanswered_mail = session.scalars(
        select(InboundMail).order_by(InboundMail.id.desc()).limit(2)
    ).all()[::-1]
    assert unanswered_mail.spam_state == "suspected" and unanswered_mail.ticket_id is None
    assert answered_mail.spam_state is None and answered_mail.ticket_id is not None
    assert answered_mail.spam_score is not None and answered_mail.spam_score >= 5.0
    spared = session.get(Ticket, answered_mail.ticket_id)
    assert spared.status == "new" and spared.customer.email == answered
    assert counts(session)[:2] == (3, 2)  # no auto-reply to it (two for the first mails)
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "spam.known_correspondent")
    )
    assert event is not None and event.ticket_id == spared.id
    assert event.data["score"] == answered_mail.spam_score
    session.commit()
    # The ticket page's history says why it is a ticket.
    page = client.get(f"/staff/tickets/{spared.id}").get_data(as_text=True)
    assert "Kept as a ticket although the spam filter suspected it" in page


def test_the_spam_page_does_not_say_nothing_is_held_when_certain_spam_is(
    app, intake, session, client, sales_agent
) -> None:
    """The default view shows suspected spam only: with none, it counts the certain spam it
    leaves out and links to it, instead of "No mail is held as spam"."""
    send(intake, corpus_spam(CERTAIN_SPAM))
    process_all(app)
    session.commit()
    login(client, sales_agent)
    page = client.get("/staff/spam/?lang=en").get_data(as_text=True)
    assert "No mail is held as spam." not in page
    assert "1 message held as certain spam is not shown" in page
    assert 'href="/staff/spam/?certain=1"' in page
    shown = client.get("/staff/spam/?certain=1&lang=en").get_data(as_text=True)
    assert "(certain)" in shown


@pytest.mark.parametrize("decision", ["not_spam", "spam"])
def test_a_spam_decision_with_nothing_ticked_asks_for_a_selection(
    app, intake, session, client, sales_agent, decision
) -> None:
    """Pressing "Not spam" or "Spam" with no box ticked says to select messages, instead of
    a success notice about 0 messages; the held mail stays held."""
    send(intake, corpus_spam(CERTAIN_SPAM))
    process_all(app)
    session.commit()
    login(client, sales_agent)
    response = client.post(
        "/staff/spam/decide?certain=1&lang=en", data={"decision": decision}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Select one or more messages first." in page
    assert "0 messages" not in page
    assert counts(session)[0] == 0


def signed_by(domain: str, raw: bytes, *, ours: bool = True) -> bytes:
    """``raw`` with our MTA's verified DKIM signature of ``domain`` on top (``ours``), or with
    the same header written by the sender himself, below our Received header."""
    results = (
        f"Authentication-Results: mx.example.com; dkim=pass header.d={domain};\n"
        f"\tspf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}\n"
    ).encode()
    received = OUR_RECEIVED.replace("\r\n", "\n").encode()
    return results + received + raw if ours else received + results + raw


def test_suspected_mail_from_a_domain_staff_wrote_to_is_a_ticket_when_its_signature_held(
    app, intake, session, client, sales_agent
) -> None:
    """A colleague of a correspondent, signed by their domain: a ticket without an auto-reply.
    Not when the signature's result is the sender's own header, nor for free mail."""
    app.config.update(TRUST)
    tickets = _quote_requests(app, intake, session, "li.wei@shenghua.example", "dana@gmail.com")
    _answered_by(client, sales_agent, *tickets)
    spam = corpus_spam(SUSPECTED_SPAM)
    send(intake, signed_by("shenghua.example", as_from(spam, "chen.xiao@shenghua.example")))
    send(intake, signed_by("shenghua.example", as_from(spam, "wang@shenghua.example"), ours=False))
    send(intake, signed_by("gmail.com", as_from(spam, "stranger@gmail.com")))
    assert process_all(app) == 3
    colleague, self_signed, free_mail = session.scalars(
        select(InboundMail).order_by(InboundMail.id.desc()).limit(3)
    ).all()[::-1]
    assert colleague.spam_state is None and colleague.ticket_id is not None
    assert colleague.spam_score is not None and colleague.spam_score >= 5.0
    assert self_signed.spam_state == "suspected" and self_signed.ticket_id is None
    assert free_mail.spam_state == "suspected" and free_mail.ticket_id is None
    assert counts(session)[:2] == (3, 2)  # no auto-reply to the colleague
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "spam.known_correspondent")
    )
    assert event is not None and event.ticket_id == colleague.ticket_id
    assert event.data["domain"] == "shenghua.example"
    session.commit()
    page = client.get(f"/staff/tickets/{colleague.ticket_id}").get_data(as_text=True)
    assert "staff have written to shenghua.example before" in page


def test_a_listed_authenticated_sender_is_never_held(app, intake, session, sales_agent) -> None:
    """SPAM_AUTHENTICATED_SENDERS: certain spam by its words, but our MTA verified a listed
    domain's signature: a ticket. The same words from that domain unsigned, or with the
    sender's own results, are held."""
    app.config.update(TRUST, SPAM_AUTHENTICATED_SENDERS=["notices.example", "ops@billing.example"])
    spam = corpus_spam(CERTAIN_SPAM)
    send(intake, signed_by("notices.example", as_from(spam, "alerts@mail.notices.example")))
    send(intake, signed_by("billing.example", as_from(spam, "ops@billing.example")))
    send(intake, signed_by("billing.example", as_from(spam, "sales@billing.example")))
    send(intake, signed_by("notices.example", as_from(spam, "alerts@notices.example"), ours=False))
    send(
        intake,
        OUR_RECEIVED.replace("\r\n", "\n").encode() + as_from(spam, "alerts@notices.example"),
    )
    assert process_all(app) == 5
    mails = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
    listed_domain, listed_address, other_address, self_signed, unsigned = mails
    for listed in (listed_domain, listed_address):
        assert listed.spam_state is None and listed.ticket_id is not None
        assert listed.spam_score is not None and listed.spam_score >= 12.0
        assert listed.spam_detail["reasons"][0] == "authenticated sender listed"
    for held in (other_address, self_signed, unsigned):
        assert held.spam_state == "certain" and held.ticket_id is None
    session.commit()
    assert counts(session)[:2] == (2, 0)  # scored that high, no auto-reply either
