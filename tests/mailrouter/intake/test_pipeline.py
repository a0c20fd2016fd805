"""From a queued message to a conversation staff can read: tickets, customers, automatic mail."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import func, select

from mailrouter.intake import pipeline, queue
from mailrouter.models import InboundMail
from mailrouter.parsing import parse_message
from mailrouter.routing import decisions as routing
from support.desk.models import Attachment, AuditEvent, Customer, Message, OutboundMail, Ticket
from support.desk.outbox import enqueue_mail
from tests.factories import make_customer
from tests.mailrouter.conftest import make_mail, process_all, run_cli


def _queue(session, raw: bytes, *, to=("support@example.com",), department_code=None):
    inbound = queue.store_inbound(
        session,
        channel="smtp",
        raw=raw,
        envelope_from="wang.fang@example.net",
        envelope_to=list(to),
        department_code=department_code,
    )
    session.commit()
    return inbound


def _inbound_messages(session) -> int:
    return session.scalar(
        select(func.count()).select_from(Message).where(Message.direction == "in")
    )


def test_first_mail_opens_a_ticket_for_a_new_customer(app, session) -> None:
    raw = make_mail(
        sender="王芳 <Wang.Fang@Example.NET>",
        attachment=("发票.pdf", "application/pdf", b"%PDF-1.4 invoice"),
    )
    inbound = _queue(session, raw)
    assert process_all(app) == 1

    session.expire_all()
    ticket = session.scalar(select(Ticket))
    assert re.fullmatch(r"SUP-\d{5}", ticket.reference)
    assert ticket.subject == "订单 LH20261102 还没发货"
    assert ticket.status == "new"
    assert ticket.needs_triage  # came to the general address
    assert ticket.channel == "email"
    customer = ticket.customer
    assert customer.email == "wang.fang@example.net"
    assert customer.name == "王芳"
    assert re.fullmatch(r"C\d{6}", customer.number)
    [message] = [m for m in ticket.messages if m.direction == "in"]
    assert "还没有发货" in message.body_text
    assert message.inbound_mail_id == inbound.id
    [attachment] = session.scalars(select(Attachment)).all()
    assert (attachment.filename, attachment.data) == ("发票.pdf", b"%PDF-1.4 invoice")
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "ticket.created", AuditEvent.ticket_id == ticket.id
        )
    )
    inbound = session.get(InboundMail, inbound.id)
    assert (inbound.state, inbound.ticket_id) == ("processed", ticket.id)
    assert inbound.meta["outcome"] == "new_ticket"


def test_mail_to_a_department_address_goes_to_that_department(app, session) -> None:
    _queue(
        session,
        make_mail(to="sales@example.com"),
        to=["sales@example.com"],
        department_code="sales",
    )
    process_all(app)
    ticket = session.scalar(select(Ticket))
    assert ticket.department.code == "sales"
    assert not ticket.needs_triage


def test_a_known_customer_is_matched_case_insensitively_and_keeps_their_name(app, session) -> None:
    known = make_customer(session, email="wang.fang@example.net", name="王芳 (VIP)")
    session.commit()
    _queue(session, make_mail(sender="wang <WANG.FANG@example.net>"))
    process_all(app)
    assert session.scalar(select(func.count()).select_from(Customer)) == 1
    session.refresh(known)
    assert known.name == "王芳 (VIP)"
    assert session.scalar(select(Ticket)).customer_id == known.id


#: Our MTA's verdict on example.net's mail (believed by its authserv-id, mailrouter.spam.trusted).
_AUTHENTICATED = (
    "mx.example.com; spf=pass smtp.mailfrom=example.net; dkim=pass header.d=example.net;"
    " dmarc=pass (p=reject) header.from=example.net"
)


@pytest.mark.parametrize("app_settings", [{"SPAM_TRUSTED_AUTHSERV_IDS": ["mx.example.com"]}])
@pytest.mark.parametrize(
    ("authentication", "named"),
    [
        (None, ""),  # anyone can write any display name with any address into From
        (_AUTHENTICATED.replace("mx.example.com", "mx.attacker.test"), ""),  # not our MTA's
        (_AUTHENTICATED.replace("example.net", "attacker.test"), ""),  # another domain
        (_AUTHENTICATED, "Wang Fang"),
    ],
)
def test_a_known_customer_without_a_name_takes_one_only_from_authenticated_mail(
    app, session, authentication, named
) -> None:
    # Until session 35 any mail filled an existing customer's empty name from its From, so a
    # stranger named another's record (staff then saw and greeted its owner by it). A mail
    # our MTA authenticated for the address's domain may; the name stays on the message, and
    # this mail's auto-reply greets it, as the contact form's confirmation greets the name
    # typed with its question.
    known = make_customer(session, email="wang.fang@example.net", name="")
    session.commit()
    headers = {"Authentication-Results": authentication} if authentication else None
    _queue(session, make_mail(sender="Wang Fang <wang.fang@example.net>", headers=headers))
    assert process_all(app) == 1
    session.refresh(known)
    assert known.name == named
    ticket = session.scalar(select(Ticket))
    assert ticket.customer_id == known.id and ticket.messages[0].from_name == "Wang Fang"
    raw = session.scalar(select(OutboundMail.raw).where(OutboundMail.kind == "auto_reply"))
    text = message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()
    assert text.startswith("Wang Fang")


def test_a_new_customer_is_named_by_the_mail_that_creates_it(app, session) -> None:
    _queue(session, make_mail(sender="Wang Fang <wang.fang@example.net>"))
    assert process_all(app) == 1
    assert session.scalar(select(Customer.name)) == "Wang Fang"


def test_web_form_submission_takes_the_mail_path(app, session) -> None:
    inbound = queue.enqueue_web_submission(
        session,
        name="Daniel Moore",
        email="dan.moore@example.org",
        subject="Quote for 40 smart kettles",
        body="Please send a quote for 40 kettles.",
        department_code="sales",
        meta={"ip_hash": "abc"},
    )
    session.commit()
    assert inbound.channel == "web" and inbound.department_code == "sales"
    assert b"From: Daniel Moore <dan.moore@example.org>" in inbound.raw
    process_all(app)
    ticket = session.scalar(select(Ticket))
    assert ticket.channel == "web"
    assert ticket.department.code == "sales"
    assert ticket.customer.name == "Daniel Moore"
    assert ticket.messages[0].body_text.strip() == "Please send a quote for 40 kettles."
    assert ticket.messages[0].direction == "in"


def test_web_submission_rejects_a_bad_address(app, session) -> None:
    with pytest.raises(ValueError):
        queue.enqueue_web_submission(
            session,
            name="x",
            email="not an address",
            subject="s",
            body="b",
            department_code=None,
            meta={},
            general_address="support@example.com",
        )


def test_duplicate_delivery_is_one_message_in_one_ticket(app, session) -> None:
    raw = make_mail()
    first = _queue(session, raw, to=["sales@example.com"], department_code="sales")
    second = _queue(session, raw, to=["service@example.com"], department_code="service")
    assert process_all(app) == 2
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert _inbound_messages(session) == 1
    first, second = session.get(InboundMail, first.id), session.get(InboundMail, second.id)
    assert first.ticket_id == second.ticket_id is not None
    assert second.meta["outcome"] == "duplicate"
    assert {first.state, second.state} == {"processed"}


def test_out_of_office_without_a_ticket_is_set_aside_not_answered(app, session) -> None:
    raw = make_mail(
        sender="Li Lei <li.lei@example.cn>",
        subject="Automatic reply: Newsletter",
        body="I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    inbound_id = _queue(session, raw).id
    process_all(app)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert session.scalar(select(func.count()).select_from(Customer)) == 0
    aside = queue.set_aside(session)
    assert [row.id for row in aside] == [inbound_id]
    assert "auto-replied" in aside[0].meta["detail"]

    # Staff decide it matters after all: one replay makes it a ticket in triage.
    session.rollback()  # end the read transaction (SQLite: IMMEDIATE holds the write lock)
    assert "queued again" in run_cli(app, "quarantine", "replay", str(inbound_id))
    process_all(app)
    session.expire_all()
    ticket = session.scalar(select(Ticket))
    assert ticket.needs_triage
    assert ticket.messages[0].is_automatic
    assert queue.set_aside(session) == []


def test_automatic_mail_is_not_analysed_ahead_only_customer_mail_is(app, session) -> None:
    """Routing and FAQ matching (most of a mail's cost) are worked out ahead only for mail that
    may open a ticket: a list mail or an out-of-office never does."""
    customer = parse_message(make_mail(body="我的订单还没有发货，请问怎么查物流？"))
    listed = parse_message(make_mail(headers={"List-Id": "<news.example.net>"}))
    with app.app_context():
        assert pipeline.analyse(session, customer, app.config).prediction is not None
        skipped = pipeline.analyse(session, listed, app.config)
    assert skipped.prediction is None and skipped.answers is None


def test_mail_from_our_own_address_is_never_a_customer(app, session) -> None:
    _queue(session, make_mail(sender="Sales <sales@example.com>", subject="loop?"))
    process_all(app)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def _bounce(original_message_id: str, failed: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: service@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        "Message-ID: <bounce-1@mx.example.net>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"I could not deliver your message to <{failed}>: mailbox unknown.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--B\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        "From: Customer Service <service@example.com>\r\n"
        f"To: {failed}\r\n"
        "Subject: [#SUP-00001] Re: Kettle\r\n"
        f"Message-ID: <{original_message_id}>\r\n"
        "--B--\r\n"
    ).encode()


def _our_reply(app, session, ticket: Ticket, to: str) -> OutboundMail:
    """A staff reply on ``ticket`` in the outbox (committed)."""
    outbound = enqueue_mail(
        session,
        ticket=ticket,
        kind="reply",
        to=[to],
        subject="Re: order",
        text="It ships tomorrow.",
        config=app.config,
    )
    session.commit()
    return outbound


def test_a_bounce_of_our_reply_lands_on_its_ticket_and_flags_the_address(app, session) -> None:
    _queue(
        session,
        make_mail(sender="Wang Fang <wang.fang@example.net>", to="service@example.com"),
        department_code="service",
    )
    process_all(app)
    ticket = session.scalar(select(Ticket))
    outbound = _our_reply(app, session, ticket, "wang.fang@example.net")

    _queue(session, _bounce(outbound.message_id, "wang.fang@example.net"))
    process_all(app)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    bounce = session.scalar(
        select(Message).where(Message.is_automatic.is_(True), Message.direction == "in")
    )
    assert bounce.ticket_id == ticket.id
    assert bounce.subject == "Undelivered Mail Returned to Sender"
    customer = session.get(Customer, ticket.customer_id)
    assert customer.address_failing_at is not None
    assert "5.1.1" in customer.address_failing_reason
    assert session.get(Ticket, ticket.id).status == "new"  # a bounce reopens nothing


def test_a_failing_pipeline_leaves_nothing_half_done_and_ends_in_quarantine(
    app, session, monkeypatch
) -> None:
    def broken_router(*args, **kwargs):
        raise RuntimeError("classifier model is corrupt")

    monkeypatch.setattr(routing, "route_new_ticket", broken_router)
    inbound = _queue(session, make_mail())
    process_all(app)
    session.expire_all()
    row = session.get(InboundMail, inbound.id)
    assert row.state == "quarantined"
    assert row.attempts == app.config["WORKER_MAX_ATTEMPTS"]
    assert "classifier model is corrupt" in row.last_error
    # Each attempt rolled back completely: no stray customer, ticket or message.
    for model in (Customer, Ticket, Message, OutboundMail):
        assert session.scalar(select(func.count()).select_from(model)) == 0

    monkeypatch.undo()
    queue.replay(session, row.id, actor_label="test")
    session.commit()
    process_all(app)
    session.expire_all()
    row = session.get(InboundMail, inbound.id)
    assert (row.state, row.last_error) == ("processed", None)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_staff_reply_by_mail_goes_to_the_customer_not_into_the_thread_as_the_customer(
    app, db
) -> None:
    """A department member answers the new-ticket notification from their mail program."""
    from email import message_from_bytes, policy

    from mailrouter.intake.pipeline import STAFF_REPLY
    from mailrouter.intake.queue import store_inbound
    from support.desk.models import OutboundMail, Ticket
    from tests.factories import make_user
    from tests.mailrouter.conftest import make_mail, process_all

    with db.session() as session:
        make_user(session, email="ann@example.com", display_alias="Annie")
        store_inbound(
            session,
            channel="smtp",
            raw=make_mail(to="service@example.com", subject="Kettle broken", body="It leaks."),
            envelope_to=["service@example.com"],
            department_code="service",
        )
    process_all(app)
    with db.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        notification = session.scalars(
            select(OutboundMail).where(OutboundMail.kind == "notification")
        ).one()
        notice = message_from_bytes(notification.raw, policy=policy.default)
        reply = make_mail(
            sender="Ann <ann@example.com>",
            to=notice["From"],
            subject="Re: " + str(notice["Subject"]),
            body="We are sending you a new kettle today.\n\n> quoted notification\n",
            in_reply_to=str(notice["Message-ID"]),
            references=str(notice["Message-ID"]),
        )
        store_inbound(session, channel="smtp", raw=reply, envelope_to=["service@example.com"])
        ticket_id = ticket.id
    process_all(app)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        ticket = session.get(Ticket, ticket_id)
        assert ticket.first_response_at is not None
        [to_customer] = session.scalars(
            select(OutboundMail).where(OutboundMail.kind == "reply")
        ).all()
        assert to_customer.recipients == [ticket.customer.email]
        text = (
            message_from_bytes(to_customer.raw, policy=policy.default)
            .get_body(("plain",))
            .get_content()
        )
        assert "We are sending you a new kettle today." in text
        # The staff address never leaks (a random Message-ID may end in "...ann@example.com").
        raw = to_customer.raw.decode("ascii", "replace")
        assert not re.search(r"(?<![\w.-])ann@example\.com", raw)
        outcomes = [m.meta.get("outcome") for m in session.scalars(select(InboundMail))]
        assert STAFF_REPLY in outcomes


def test_new_tickets_notify_their_department_in_the_same_write(app, session) -> None:
    """Routing happens before the ticket is written; the notifications queued meanwhile
    point at the ticket and must still be written after it (foreign keys are enforced)."""
    from tests.factories import make_user

    for code in ("sales", "service", "finance"):
        make_user(session, email=f"lead-{code}@example.com", departments=(code,))
    for n, code in enumerate(("sales", "service", "finance") * 3):
        _queue(
            session,
            make_mail(
                sender=f"Customer {n} <customer{n}@example.net>",
                to=f"{code}@example.com",
                subject=f"Question {n}",
                message_id=f"<notify-{n}@mail.example.net>",
            ),
            to=(f"{code}@example.com",),
            department_code=code,
        )
    session.commit()
    assert process_all(app) == 9
    states = session.execute(select(InboundMail.state, func.count()).group_by(InboundMail.state))
    assert dict(states.all()) == {"processed": 9}
    notified = session.scalars(
        select(OutboundMail.recipients).where(OutboundMail.kind == "notification")
    ).all()
    assert sorted(r[0] for r in notified) == sorted(
        f"lead-{code}@example.com" for code in ("sales", "service", "finance") * 3
    )


def test_same_message_id_from_another_sender_is_a_new_message_not_a_copy(app, session) -> None:
    """Finding 5: a Message-ID clash must not fold a second sender's mail into the first ticket."""
    shared_id = "<clash-1@mail.example.net>"
    first_raw = make_mail(message_id=shared_id, subject="First", body="Mail from Wang Fang.\n")
    second_raw = make_mail(
        sender="Li Lei <li.lei@example.cn>",
        message_id=shared_id,
        subject="Second",
        body="A different mail from Li Lei.\n",
    )
    first = _queue(session, first_raw)
    second = _queue(session, second_raw)
    again = _queue(session, second_raw)  # the clashing mail delivered twice is still one copy
    assert process_all(app) == 3
    session.expire_all()
    first, second, again = (session.get(InboundMail, x.id) for x in (first, second, again))
    assert first.meta["outcome"] == second.meta["outcome"] == "new_ticket"
    assert again.meta["outcome"] == "duplicate"
    assert first.ticket_id != second.ticket_id
    assert again.ticket_id == second.ticket_id
    ticket = session.get(Ticket, second.ticket_id)
    assert ticket.customer.email == "li.lei@example.cn"
    [message] = [m for m in ticket.messages if m.direction == "in"]
    assert "Li Lei" in message.body_text
    assert message.message_id != "clash-1@mail.example.net"
    assert any("already used" in defect for defect in message.parse_defects)
    assert _inbound_messages(session) == 2


def test_the_assignee_hears_of_the_customers_next_mail_and_of_no_robots(app, session) -> None:
    """A customer writes again on an assigned ticket: its assignee is told by mail, with the
    new words (answerable by replying); an out-of-office on the thread tells nobody."""
    from tests.factories import make_user

    ann = make_user(session, email="ann@example.com", language="en")
    _queue(session, make_mail(message_id="<first@mail.example.net>"))
    process_all(app)
    ticket = session.scalar(select(Ticket))
    ticket.assignee = ann
    ticket.first_response_at = ticket.created_at  # answered: the resolution target counts
    session.commit()
    before = session.scalar(select(func.count()).select_from(OutboundMail))
    _queue(
        session,
        make_mail(
            subject="Re: 订单 LH20261102 还没发货",
            body="订单号是 LH20261102，麻烦尽快。\n",
            in_reply_to="<first@mail.example.net>",
        ),
    )
    _queue(
        session,
        make_mail(
            subject="自动回复: 订单 LH20261102 还没发货",
            body="我休假到周一。\n",
            in_reply_to="<first@mail.example.net>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    assert process_all(app) == 2
    told = session.scalars(
        select(OutboundMail).where(OutboundMail.kind == "notification", OutboundMail.id > before)
    ).all()
    assert [m.recipients for m in told] == [["ann@example.com"]]
    text = told[0].raw.decode("utf-8", "replace")
    assert "replied" in told[0].subject and "LH20261102" in told[0].subject
    assert "wrote again on your ticket" in text
    assert "Resolution due:" in text and "First response due" not in text


def test_notices_name_the_files_the_customer_attached(app, session) -> None:
    """A mail saying "截圖如附件" ("screenshot attached") made a notice naming no file: staff
    reading by mail did not know the customer had sent one. The new-ticket notice and the
    assignee's notice name the files; a mail without any has no such line."""
    from email.parser import BytesParser
    from email.policy import default

    from tests.factories import make_user

    def notices_since(before: int) -> list[str]:
        told = session.scalars(
            select(OutboundMail).where(
                OutboundMail.kind == "notification", OutboundMail.id > before
            )
        ).all()
        return [
            BytesParser(policy=default).parsebytes(m.raw).get_body(("plain",)).get_content()
            for m in told
        ]

    ann = make_user(session, email="ann@example.com", language="zh", departments=("service",))
    _queue(
        session,
        make_mail(
            to="service@example.com",
            subject="電熱水壺保固問題",
            body="水壺不能加熱了，發票照片如附件。\n",
            message_id="<first@mail.example.tw>",
            attachment=("發票照片.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
        ),
        to=("service@example.com",),
        department_code="service",
    )
    process_all(app)
    [new_ticket] = notices_since(0)
    assert "附件：發票照片.png" in new_ticket
    ticket = session.scalar(select(Ticket))
    ticket.assignee = ann
    session.commit()
    before = session.scalar(select(func.max(OutboundMail.id)))
    for n, attachment in enumerate((("送修單.pdf", "application/pdf", b"%PDF-1.4"), None)):
        _queue(
            session,
            make_mail(
                to="service@example.com",
                subject="Re: 電熱水壺保固問題",
                body="網頁一直顯示錯誤，截圖如附件。\n" if attachment else "請週六來收件。\n",
                message_id=f"<again-{n}@mail.example.tw>",
                in_reply_to="<first@mail.example.tw>",
                attachment=attachment,
            ),
            to=("service@example.com",),
        )
    process_all(app)
    with_file, without = notices_since(before)
    assert "附件：送修單.pdf" in with_file
    assert "附件" not in without


def test_a_mail_of_only_a_file_reads_no_text_in_the_readers_language(app, session) -> None:
    """An invoice PDF with an empty body (common) showed "(no text)" in English on Chinese
    pages, in the customer's follow page and in the staff notice."""
    from email.parser import BytesParser
    from email.policy import default

    from mailrouter.outbound import customer_links
    from mailrouter.outbound.customer_links import follow_url
    from tests.factories import make_user
    from tests.support.staff_helpers import login

    agent = make_user(session, language="zh", departments=("finance",))
    _queue(
        session,
        make_mail(
            to="finance@example.com",
            subject="發票",
            body="",
            attachment=("統一發票.pdf", "application/pdf", b"%PDF-1.4"),
        ),
        to=("finance@example.com",),
        department_code="finance",
    )
    process_all(app)
    ticket = session.scalar(select(Ticket))
    raw = session.scalars(
        select(OutboundMail.raw).where(OutboundMail.kind == "notification")
    ).first()
    notice = BytesParser(policy=default).parsebytes(raw).get_body(("plain",)).get_content()
    assert "（无正文）" in notice and "(no text)" not in notice
    session.commit()  # the staff sign-in writes
    if "customer_links" not in app.blueprints:
        customer_links.init_app(app)
    client = app.test_client()
    url = follow_url(app.config, ticket.reference, "zh-Hant").split("8080", 1)[1]
    page = client.get(url).get_data(as_text=True)
    assert "（無正文）" in page and "(no text)" not in page
    login(client, agent.email)
    for path in (f"/staff/tickets/{ticket.id}?lang=zh", "/staff/inbox/finance?lang=zh"):
        page = client.get(path).get_data(as_text=True)
        assert "（无正文）" in page and "(no text)" not in page, path
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "(no text)" in page


def test_a_forged_bounce_naming_no_mail_of_ours_flags_no_customer(app, session) -> None:
    _queue(
        session, make_mail(sender="Wang Fang <wang.fang@example.net>"), department_code="service"
    )
    process_all(app)
    ticket = session.scalar(select(Ticket))
    session.commit()
    # Anyone can send a "bounce" listing any customer's address (which stops auto-replies).
    _queue(session, _bounce("made-up.1@mx.example.net", "wang.fang@example.net"))
    process_all(app)
    session.expire_all()
    assert session.get(Customer, ticket.customer_id).address_failing_at is None


def test_a_bounce_of_one_customers_mail_flags_no_other_customer(app, session) -> None:
    _queue(
        session, make_mail(sender="Wang Fang <wang.fang@example.net>"), department_code="service"
    )
    _queue(session, make_mail(sender="Mallory <mallory@example.org>"), department_code="service")
    process_all(app)
    victim, attacker = (
        session.scalar(select(Ticket).join(Customer).where(Customer.email == address))
        for address in ("wang.fang@example.net", "mallory@example.org")
    )
    outbound = _our_reply(app, session, attacker, "mallory@example.org")
    # The attacker bounces our mail to them back, naming the victim's address as failing.
    _queue(session, _bounce(outbound.message_id, "wang.fang@example.net"))
    process_all(app)
    session.expire_all()
    assert session.get(Customer, victim.customer_id).address_failing_at is None
    assert session.get(Customer, attacker.customer_id).address_failing_at is None
