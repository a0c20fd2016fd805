"""Auto-replies end to end: SMTP-shaped mail in, the worker, the outbox, a real relay out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import flask
import pytest
from sqlalchemy import event, func, select, text

from faq.index_sync import rebuild_index
from faq.matching import answers_for, overlap_matches
from faq.models import Article, Category, DemandEvent, UnansweredQuestion
from mailrouter.intake.queue import store_inbound
from mailrouter.intake.worker import Worker
from mailrouter.models import ReplyTemplate, SenderActivity
from mailrouter.outbound import views as outbox_views
from mailrouter.outbound.autoreply import after_new_ticket
from mailrouter.outbound.reply_templates import TEMPLATE_VARIABLES
from mailrouter.outbound.sender import OutboxSender
from mailrouter.parsing import parse_message
from mailrouter.tokens import verify_message_id
from support.desk.models import AuditEvent, Customer, Message, OutboundMail, Ticket
from support.desk.outbox import enqueue_mail
from tests.factories import department, make_customer, make_ticket, make_user
from tests.mailrouter.smtp_sink import Sink

SECRET = b"test-secret-key-not-for-production"
CUSTOMER = "wang.fang@example.cn"


@pytest.fixture
def sink():
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def app_settings(sink: Sink) -> dict:
    return sink.settings()


def mail(
    subject: str,
    body: str,
    *,
    sender: str = CUSTOMER,
    name: str = "Wang Fang",
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
    date: str | None = "Mon, 23 Nov 2026 10:00:00 +0800",
) -> tuple[bytes, str]:
    message_id = message_id or make_msgid(domain="mail.example.cn")
    lines = [
        f"From: {name} <{sender}>",
        "To: service@example.com",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        *([f"Date: {date}"] if date is not None else []),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
        "",
        body,
        "",
    ]
    return "\r\n".join(lines).encode("utf-8"), message_id


def receive(app, db, raw: bytes, *, sender: str = CUSTOMER, department: str = "service"):
    """What the SMTP intake and the worker do with one message."""
    with db.session() as session:
        store_inbound(
            session,
            channel="smtp",
            raw=raw,
            envelope_from=sender,
            envelope_to=["service@example.com"],
            department_code=department,
        )
    return Worker(app).process_batch(limit=1)[0]


def send_all(app) -> None:
    OutboxSender.for_app(app).run_once()


def test_new_message_gets_exactly_one_auto_reply(app, db, sink):
    raw, original_id = mail("Kettle broken", "My kettle stopped working after two days.")

    processed = receive(app, db, raw)
    send_all(app)
    send_all(app)

    [delivery] = sink.delivered
    reply = delivery.message
    with db.session() as session:
        ticket = session.get(Ticket, processed.ticket_id)
        reference = ticket.reference
        auto = session.scalar(select(Message).where(Message.direction == "auto"))
        assert auto.ticket_id == ticket.id and auto.outbound_mail_id is not None
        assert ticket.acknowledged_at is not None
        due = ticket.first_response_due_at
    assert delivery.rcpt_tos == [CUSTOMER]
    assert reply["From"].addresses[0].addr_spec == "service@example.com"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["X-Auto-Response-Suppress"] == "All"
    assert reply["In-Reply-To"] == original_id
    assert original_id in reply["References"].split()
    assert f"[#{reference}]" in reply["Subject"]
    assert verify_message_id(reply["Message-ID"], SECRET) == reference
    text = reply.get_body(preferencelist=("plain",)).get_content()
    assert f"Your reference: {reference}" in text
    assert "Customer Service" in text
    # Level 2 answers within 24 hours, shown in the company's zone (Asia/Shanghai).
    assert due is not None
    local = due.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{local.hour:02d}:{local.minute:02d} (Asia/Shanghai, UTC+8)" in text
    assert "http://127.0.0.1:8080/t/" in text
    assert reply.get_body(preferencelist=("html",)) is not None


def _reply_and_due(app, db, sink, raw: bytes, sender: str) -> tuple[str, str, datetime]:
    processed = receive(app, db, raw, sender=sender)
    send_all(app)
    reply = next(d.message for d in sink.delivered if d.rcpt_tos == [sender])
    with db.session() as session:
        due = session.get(Ticket, processed.ticket_id).first_response_due_at
    text = reply.get_body(preferencelist=("plain",)).get_content()
    return text, reply.get_body(preferencelist=("html",)).get_content(), due


def _clock(due: datetime, minutes: int) -> str:
    return f"{due.astimezone(timezone(timedelta(minutes=minutes))):%H:%M}"


@pytest.mark.parametrize(
    ("offset", "minutes", "shown"),
    [("-0500", -300, "UTC-5"), ("+0530", 330, "UTC+5:30"), ("+1400", 840, "UTC+14")],
)
def test_a_customer_in_another_zone_reads_the_promise_on_their_own_clock(
    app, db, sink, offset, minutes, shown
):
    sender = f"abroad{minutes}@example.org"
    raw, _id = mail(
        "Kettle broken",
        "My kettle stopped working after two days.",
        sender=sender,
        date=f"Mon, 23 Nov 2026 10:00:00 {offset}",
    )
    text, html, due = _reply_and_due(app, db, sink, raw, sender)
    local = due.astimezone(timezone(timedelta(minutes=minutes)))
    weekday = f"{local:%A} {local.day} {local:%B} {local.year}, {local:%H:%M} ({shown})"
    assert f"answer you personally by {weekday}." in text
    assert f"({shown})" in html and "Asia/Shanghai" not in text + html


def test_the_promise_on_a_chinese_readers_clock_in_either_script(app, db, sink):
    simplified = "li@example.cn"
    raw, _id = mail(
        "订单破损",
        "您好，我收到的电水壶盖子裂了，请问怎么处理？",
        sender=simplified,
        date="Mon, 23 Nov 2026 10:00:00 -0500",  # a customer in New York
    )
    text, _html, due = _reply_and_due(app, db, sink, raw, simplified)
    assert f"{_clock(due, -300)}（UTC-5）之前亲自给您答复" in text and "北京" not in text
    traditional = "chen@example.tw"
    raw, _id = mail(
        "水壺壞了",
        "您好，我上週買的熱水壺開關壞了，燈一直閃，請問怎麼處理？謝謝",
        sender=traditional,
        date="Mon, 23 Nov 2026 10:00:00 -0800",  # in Los Angeles
    )
    text, _html, due = _reply_and_due(app, db, sink, raw, traditional)
    assert f"{_clock(due, -480)}（UTC-8）之前親自給您答覆" in text and "北京" not in text


@pytest.mark.parametrize(
    "date",
    [
        None,  # no Date header
        "Mon, 23 Nov 2026 10:00:00 +0000",  # what servers write when they do not know
        "Mon, 23 Nov 2026 10:00:00 -0000",  # "zone unknown" (RFC 5322)
        "Mon, 23 Nov 2026 10:00:00 +1500",  # no clock on earth
        "Mon, 23 Nov 2026 10:00:00 -1300",
        "Mon, 23 Nov 2026 10:00:00 +0007",  # not a real offset
        "Mon, 23 Nov 2026 10:00:00 +9999",
        "yesterday-ish " + "x" * 5000,
    ],
)
def test_a_missing_or_absurd_offset_shows_the_company_zone(app, db, sink, date):
    raw, _id = mail("Kettle broken", "My kettle stopped working after two days.", date=date)
    text, _html, due = _reply_and_due(app, db, sink, raw, CUSTOMER)
    assert f"{_clock(due, 480)} (Asia/Shanghai, UTC+8)" in text


def test_chinese_message_gets_a_chinese_reply(app, db, sink):
    raw, _id = mail("订单破损", "您好，我收到的电水壶盖子裂了，请问怎么处理？", name="王芳")

    receive(app, db, raw)
    send_all(app)

    reply = sink.delivered[0].message
    text = reply.get_body(preferencelist=("plain",)).get_content()
    assert reply["Subject"].endswith("已收到：订单破损")
    assert "工单编号" in text and "客户服务部" in text
    assert "（北京时间）" in text and "Asia/Shanghai" not in text
    # From the team its text names, not "Customer Service".
    assert reply["From"].addresses[0].display_name == "客户服务部"


def test_a_chinese_reply_names_the_company_by_its_chinese_name(app, db, sink):
    # The demo company is 流明家居 on Chinese pages and in its FAQ: its Chinese mail said
    # "感谢您联系Lumen Home".
    app.config["COMPANY_NAME_ZH"] = "流明家居"
    receive(app, db, mail("订单破损", "您好，我收到的电水壶盖子裂了，请问怎么处理？")[0])
    receive(
        app,
        db,
        mail("Broken lid", "The kettle lid cracked.", sender="li@example.org")[0],
        sender="li@example.org",
    )
    send_all(app)
    replies = {d.rcpt_tos[0]: d.message for d in sink.delivered}
    chinese = replies[CUSTOMER].get_body(preferencelist=("plain",)).get_content()
    english = replies["li@example.org"].get_body(preferencelist=("plain",)).get_content()
    assert "流明家居" in chinese and "Lumen Home" not in chinese
    assert "Lumen Home" in english and "流明家居" not in english


def test_traditional_chinese_writer_gets_the_reply_in_traditional_characters(app, db, sink):
    raw, _id = mail(
        "水壺壞了，台灣",
        "您好，我上週買的熱水壺開關壞了，燈一直閃，請問怎麼處理？謝謝",
        name="陳小姐",
    )
    receive(app, db, raw)
    raw, _id = mail(
        "订单破损", "您好，我收到的电水壶盖子裂了，请问怎么处理？", sender="li@example.cn"
    )
    receive(app, db, raw, sender="li@example.cn")
    send_all(app)

    replies = {d.rcpt_tos[0]: d.message for d in sink.delivered}
    traditional = replies[CUSTOMER]
    text = traditional.get_body(preferencelist=("plain",)).get_content()
    html = traditional.get_body(preferencelist=("html",)).get_content()
    # The customer's own subject is quoted as written (the conversion would make 台灣 臺灣).
    assert traditional["Subject"].endswith("已收到：水壺壞了，台灣")
    assert "工單編號" in text and "客戶服務部" in text and "工单编号" not in text
    assert "客戶服務部" in html and "客户服务部" not in html
    assert traditional["From"].addresses[0].display_name == "客戶服務部"
    assert "（UTC+8）" in text and "北京" not in text  # a Taiwan reader: not "Beijing time"
    assert "隨時在以下連結查看" in text and "通過" not in text  # mainland's "via"; 透過 in Taiwan
    assert '<html lang="zh-TW">' in html
    # The links open the customer's pages in Traditional characters too.
    assert re.search(r"http://127\.0\.0\.1:8080/t/\S+\?lang=zh&script=hant", text)
    simplified = replies["li@example.cn"].get_body(preferencelist=("plain",)).get_content()
    assert "工单编号" in simplified and "工單編號" not in simplified


def test_due_time_is_shown_in_the_customers_time_zone(app, db, sink):
    with db.session() as session:
        make_customer(session, email=CUSTOMER, name="Wang Fang", timezone="Europe/London")
    raw, _id = mail("Kettle broken", "My kettle stopped working after two days.")

    receive(app, db, raw)
    send_all(app)

    text = sink.delivered[0].message.get_body(preferencelist=("plain",)).get_content()
    assert re.search(r"\d\d:\d\d \(Europe/London, UTC(\+1)?\)", text)


def add_articles(app, db) -> dict[str, int]:
    with db.session() as session:
        category = Category(slug="orders", name_en="Orders", name_zh="订单")
        session.add(category)
        articles = {
            "refund": Article(
                slug="refund-time-en",
                category=category,
                language="en",
                question="How long does a refund take?",
                answer_md="Refunds reach your card **within 7 working days** after the "
                "returned item arrives at our warehouse.",
            ),
            "tracking": Article(
                slug="track-order-en",
                category=category,
                language="en",
                question="How do I track my parcel?",
                answer_md="Open the tracking link in your shipping confirmation.",
            ),
        }
        session.add_all(articles.values())
        session.flush()
        ids = {name: article.id for name, article in articles.items()}
    rebuild_index(app)
    return ids


def test_matching_faq_answers_are_offered_with_one_click_links(app, db, sink):
    ids = add_articles(app, db)
    raw, _id = mail(
        "Refund", "Hello, I returned the kettle last week. How long does a refund take?"
    )

    processed = receive(app, db, raw)
    send_all(app)

    text = sink.delivered[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "How long does a refund take?" in text
    assert "Refunds reach your card within 7 working days" in text
    assert "http://127.0.0.1:8080/a/refund-time-en" in text
    assert "How do I track my parcel?" not in text
    assert re.search(r"This answered my question: http://127\.0\.0\.1:8080/solved/\S+", text)
    with db.session() as session:
        demand = session.scalars(select(DemandEvent)).all()
        assert [(d.article_id, d.kind) for d in demand] == [(ids["refund"], "email_match")]
        assert session.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_reply_queued"))
        assert audit.ticket_id == processed.ticket_id
        assert audit.data["faq_article_ids"] == [ids["refund"]]


def test_question_without_answer_is_kept_for_the_faq_team(app, db, sink):
    add_articles(app, db)
    raw, _id = mail("Showroom", "Can I visit your showroom in Hangzhou on Sunday?")

    processed = receive(app, db, raw)
    send_all(app)

    text = sink.delivered[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "This answered my question" not in text
    with db.session() as session:
        [gap] = session.scalars(select(UnansweredQuestion)).all()
        assert gap.ticket_id == processed.ticket_id and "showroom in Hangzhou" in gap.text
        assert gap.language == "en"


def test_matcher_without_the_search_index_offers_only_near_repeats(app, db):
    add_articles(app, db)
    with db.sessionmaker() as session:
        found = overlap_matches(session, "how long does my refund take", "en")
        unrelated = overlap_matches(session, "Do you sell kettles in blue?", "en")
    assert [m.question for m in found] == ["How long does a refund take?"]
    assert found[0].url_path == "/a/refund-time-en"
    assert unrelated == []


def test_matching_reads_the_database_once_and_never_offers_an_unpublished_answer(app, db):
    ids = add_articles(app, db)
    with db.engine.begin() as conn:  # unpublished behind the index's back: the index still has it
        conn.execute(
            text("UPDATE faq_articles SET is_published = :no WHERE id = :id"),
            {"no": False, "id": ids["tracking"]},
        )
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    question = "How long does a refund take? And how do I track my parcel?"
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with app.app_context(), db.sessionmaker() as session:
            found = answers_for(session, question, "en")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert [m.article_id for m in found] == [ids["refund"]]
    assert found[0].question == "How long does a refund take?"
    assert found[0].excerpt.startswith("Refunds reach your card within 7 working days")
    assert found[0].url_path == "/a/refund-time-en"
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # One read of the articles; plus at most one of the FAQ's change-log generation (each host
    # catches its index up at most every FAQ_SYNC_SECONDS, faq.index_sync.catch_up).
    generation = [s for s in selects if "faq_generation" in s]
    assert len(generation) <= 1
    assert len(selects) - len(generation) == 1


def test_a_question_after_long_context_is_read_sentence_by_sentence(app, db):
    """The word search reads a long message's first words only; the semantic ranking reads it
    sentence by sentence, so a question after a screenful of context is still found. (With
    the word search alone this mail was offered nothing: tests/faq/test_semantic_search.py
    has the fall-back.)"""
    add_articles(app, db)
    context = "Card returned to your warehouse.\n" + " ".join(f"item{n}" for n in range(45))
    with app.app_context(), db.sessionmaker() as session:
        late = answers_for(session, f"{context}\nHow long does a refund take?", "en")
        unrelated = answers_for(session, f"{context}\nDo you sell garden furniture?", "en")
    assert [m.url_path for m in late] == ["/a/refund-time-en"]
    assert unrelated == []


def test_follow_up_threads_into_the_ticket_and_gets_no_second_auto_reply(app, db, sink):
    raw, original_id = mail("Kettle broken", "My kettle stopped working after two days.")
    first = receive(app, db, raw)
    send_all(app)
    auto_reply = sink.delivered[0].message

    # The customer answers the auto-reply: the subject changes, the threading headers do not.
    follow_up, _id = mail(
        "Re: more details",
        "The serial number is K-2231.",
        headers={
            "In-Reply-To": auto_reply["Message-ID"],
            "References": f"{original_id} {auto_reply['Message-ID']}",
        },
    )
    second = receive(app, db, follow_up)
    send_all(app)

    assert second.outcome == "follow_up"
    assert second.ticket_id == first.ticket_id
    assert len(sink.delivered) == 1


@pytest.mark.parametrize(
    ("subject", "sender", "headers", "body"),
    [
        (
            "Undelivered Mail Returned to Sender",
            "MAILER-DAEMON@mx.example.cn",
            {},
            "This is the mail system at host mx.example.cn.\n"
            "I'm sorry to have to inform you that your message could not be delivered.",
        ),
        (
            "Automatic reply: Kettle broken",
            CUSTOMER,
            {"Auto-Submitted": "auto-replied"},
            "I am out of the office until Monday.",
        ),
        (
            "[kettle-fans] New colours",
            "kettle-fans@lists.example.org",
            {"List-Id": "<kettle-fans.lists.example.org>", "Precedence": "list"},
            "Has anyone seen the new blue kettle?",
        ),
        ("Test", "sales@example.com", {}, "A loop through our own address."),
        ("Test", "support@example.com", {}, "A loop through the general address."),
        (
            "Automatic reply: Test",
            "colleague@example.com",
            {"Auto-Submitted": "auto-replied"},
            "I am out of the office until Monday.",
        ),
        (
            "Undelivered Mail Returned to Sender",
            "MAILER-DAEMON@example.com",
            {},
            "This is the mail system at host mx.example.com.\n"
            "I'm sorry to have to inform you that your message could not be delivered.",
        ),
    ],
    ids=[
        "bounce",
        "out-of-office",
        "mailing-list",
        "own-address",
        "general-address",
        "own-domain-out-of-office",
        "own-domain-bounce",
    ],
)
def test_machines_and_our_own_addresses_get_no_auto_reply(
    app, db, sink, subject, sender, headers, body
):
    raw, _id = mail(subject, body, sender=sender, headers=headers)

    receive(app, db, raw, sender=sender)
    send_all(app)

    assert sink.delivered == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboundMail)) == 0


def test_a_person_at_our_own_domain_is_answered_like_a_customer(app, db, sink):
    """A first tester of the demo desk writes from me@example.com to service@example.com (and
    staff of an internal help desk write from their own mailboxes): only the desk's own
    addresses are ours, not every address at MAIL_DOMAINS."""
    tester = "me@example.com"
    raw, _id = mail("Test", "Does the desk answer?", sender=tester, name="First Tester")

    processed = receive(app, db, raw, sender=tester)
    send_all(app)

    [delivery] = sink.delivered
    assert delivery.rcpt_tos == [tester]
    assert delivery.message["From"].addresses[0].addr_spec == "service@example.com"
    with db.session() as session:
        assert session.get(Ticket, processed.ticket_id).customer.email == tester
        assert (
            session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_reply_skipped"))
            is None
        )


@pytest.mark.parametrize(
    ("value", "answered"), [("OOF, AutoReply", False), ("All", False), ("DR, NDR, RN, NRN", True)]
)
def test_x_auto_response_suppress_keeps_the_ticket_and_honours_the_request(
    app, db, sink, value, answered
):
    raw, _id = mail(
        "Kettle broken", "It stopped heating.", headers={"X-Auto-Response-Suppress": value}
    )

    processed = receive(app, db, raw)
    send_all(app)

    assert processed.ticket_id is not None
    assert bool(sink.delivered) is answered
    with db.session() as session:
        skipped = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "auto_reply_skipped")
        )
        assert (skipped is None) is answered
        if skipped is not None:
            assert skipped.data["reason"].startswith("suppressed_by_sender")


def test_decision_refuses_automatic_mail_even_if_the_caller_did_not_classify_it(app, session):
    """Defence in depth: after_new_ticket itself recognises a machine's mail."""
    raw, _id = mail(
        "Out of office",
        "I am away until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    parsed = parse_message(raw)
    ticket = make_ticket(session, customer=make_customer(session, email=CUSTOMER))
    message = ticket.messages[0]

    assert after_new_ticket(session, ticket, message, parsed, app.config) is None
    skipped = session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_reply_skipped"))
    assert skipped.data["reason"].startswith("automatic_mail: Auto-Submitted")


def test_mail_to_staff_about_the_ticket_does_not_make_it_a_follow_up(app, session):
    ticket = make_ticket(session, customer=make_customer(session, email=CUSTOMER))
    enqueue_mail(
        session,
        ticket=ticket,
        kind="notification",
        to=["agent@example.com"],
        subject="New ticket",
        text="A new ticket is waiting.",
        automatic=True,
        config=app.config,
    )

    queued = after_new_ticket(session, ticket, ticket.messages[0], None, app.config)

    assert queued is not None and queued.recipients == [CUSTOMER]


def test_unusable_customer_address_gets_no_auto_reply(app, session):
    ticket = make_ticket(session, customer=make_customer(session, email="broken@"))

    assert after_new_ticket(session, ticket, ticket.messages[0], None, app.config) is None
    skipped = session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_reply_skipped"))
    assert skipped.data["reason"].startswith("no_address")


def test_a_customer_with_a_non_ascii_mailbox_gets_the_auto_reply(app, session):
    # 王芳@example.cn (mail sent with SMTPUTF8) got no confirmation at all: the stdlib's
    # address parser calls a non-ASCII local part a defect, and the reply was skipped as
    # "no_address", though agents' replies to it are sent (with SMTPUTF8, `relay._deliver`).
    ticket = make_ticket(session, customer=make_customer(session, email="王芳@例子.cn"))

    queued = after_new_ticket(session, ticket, ticket.messages[0], None, app.config)

    assert queued is not None and queued.recipients == ["王芳@例子.cn"]


def test_a_failing_auto_reply_never_stops_the_intake(app, db, sink):
    """An admin typo in a department address breaks the reply, not the ticket."""
    with db.session() as session:
        department(session, "service").email_address = "service"
    processed = receive(app, db, mail("Kettle broken", "My kettle stopped working.")[0])

    assert processed.outcome == "new_ticket"
    with db.session() as session:
        assert session.get(Ticket, processed.ticket_id) is not None
        failed = session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_reply_failed"))
        assert failed.ticket_id == processed.ticket_id
        assert session.scalar(select(func.count()).select_from(OutboundMail)) == 0
        # The sender's window was not used up by the reply that never went.
        assert session.scalar(select(SenderActivity.last_auto_reply_at)) is None


def test_second_conversation_within_the_window_gets_no_auto_reply(app, db, sink):
    receive(app, db, mail("Kettle broken", "My kettle stopped working.")[0])
    second = receive(app, db, mail("Invoice", "Please send me an invoice for order 5567.")[0])
    send_all(app)

    assert len(sink.delivered) == 1
    with db.session() as session:
        skipped = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "auto_reply_skipped")
        )
        assert skipped.ticket_id == second.ticket_id
        assert skipped.data["reason"].startswith("window")


def test_switched_off_auto_replies_send_nothing(app, db, sink):
    app.config["AUTOREPLY_ENABLED"] = False
    receive(app, db, mail("Kettle broken", "My kettle stopped working.")[0])
    send_all(app)
    assert sink.delivered == []


def test_customer_whose_address_bounces_gets_no_auto_reply(app, db, sink):
    with db.session() as session:
        customer = make_customer(session, email=CUSTOMER)
        customer.address_failing_at = datetime.now(UTC) - timedelta(days=1)
        customer.address_failing_reason = "550 5.1.1 user unknown"
    receive(app, db, mail("Kettle broken", "My kettle stopped working.")[0])
    send_all(app)
    assert sink.delivered == []


def test_suggestion_or_praise_gets_the_thank_you_version(app, session):
    ticket = make_ticket(
        session,
        customer=make_customer(session, email=CUSTOMER),
        urgency=1,
        subject="Great service",
        body="Your team was wonderful, thank you!",
    )

    queued = after_new_ticket(session, ticket, ticket.messages[0], None, app.config)

    assert queued is not None
    assert f"[#{ticket.reference}] Thank you: Great service" == queued.subject
    assert session.scalar(select(func.count()).select_from(UnansweredQuestion)) == 0


def test_admin_edited_template_is_used(app, db, sink):
    with db.session() as session:
        session.add(
            ReplyTemplate(
                key="default.en.txt",
                source="Hello {{ customer_name }}, we have {{ ticket_reference }}.\n",
            )
        )
    processed = receive(app, db, mail("Kettle broken", "My kettle stopped working.")[0])
    send_all(app)

    text = sink.delivered[0].message.get_body(preferencelist=("plain",)).get_content()
    with db.session() as session:
        reference = session.get(Ticket, processed.ticket_id).reference
    assert text.startswith(f"Hello Wang Fang, we have {reference}.")


# --- template editor ---------------------------------------------------------------------------


@pytest.fixture
def staff_client(app):
    if "outbox_views" not in app.blueprints:
        outbox_views.init_app(app)
    return app.test_client()


def sign_in(app, client, user) -> None:
    from support.auth import sign_in as staff_sign_in

    with app.test_request_context():
        staff_sign_in(user)
        data = dict(flask.session)
    with client.session_transaction() as browser_session:
        browser_session.update(data)


def test_admin_edits_previews_and_resets_a_template(app, db, staff_client):
    with db.session() as session:
        admin = make_user(session, role="admin")
        ticket = make_ticket(session, customer=make_customer(session, name="Li Wei"))
        reference = ticket.reference
    sign_in(app, staff_client, admin)

    listing = staff_client.get("/staff/templates").get_data(as_text=True)
    assert "default.en.txt" in listing and "thanks.zh.html" in listing
    page = staff_client.get("/staff/templates/default.en.txt?lang=en").get_data(as_text=True)
    listed = page.split("Variables:", 1)[1].split("</p>", 1)[0]
    assert all(name in listed for name in TEMPLATE_VARIABLES)  # danger, says_nothing, ...

    broken = staff_client.post(
        "/staff/templates/default.en.txt",
        data={"source": "Hello {{ nobody }}", "action": "save"},
    )
    assert broken.status_code == 400
    assert "unknown variable &#39;nobody&#39;" in broken.get_data(as_text=True)

    preview = staff_client.post(
        "/staff/templates/default.en.txt",
        data={
            "source": "Dear {{ customer_name }}, ref {{ ticket_reference }}",
            "action": "preview",
            "ticket": reference,
        },
    )
    assert f"Dear Li Wei, ref {reference}" in preview.get_data(as_text=True)

    saved = staff_client.post(
        "/staff/templates/default.en.txt",
        data={"source": "Dear {{ customer_name }}, ref {{ ticket_reference }}", "action": "save"},
    )
    assert saved.status_code == 302
    with db.session() as session:
        source = session.scalar(
            select(ReplyTemplate.source).where(ReplyTemplate.key == "default.en.txt")
        )
        assert source == "Dear {{ customer_name }}, ref {{ ticket_reference }}"

    assert staff_client.post("/staff/templates/default.en.txt/reset").status_code == 302
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReplyTemplate)) == 0
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"reply_template_saved", "reply_template_reset"} <= actions


def test_only_admins_change_templates(app, db, staff_client):
    with db.session() as session:
        lead = make_user(session, role="lead")
    sign_in(app, staff_client, lead)

    assert staff_client.get("/staff/templates/default.en.txt").status_code == 200
    response = staff_client.post(
        "/staff/templates/default.en.txt", data={"source": "Hi", "action": "save"}
    )
    assert response.status_code == 403
    assert staff_client.post("/staff/templates/default.en.txt/reset").status_code == 403
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(ReplyTemplate)) == 0


def test_unknown_template_key_is_not_found(app, db, staff_client):
    with db.session() as session:
        admin = make_user(session, role="admin")
    sign_in(app, staff_client, admin)
    assert staff_client.get("/staff/templates/../../etc").status_code == 404
    assert staff_client.get("/staff/templates/default.en.exe").status_code == 404


def test_flagged_flooder_gets_no_auto_reply(app, db, sink):
    with db.session() as session:
        customer = make_customer(session, email=CUSTOMER)
        customer.flood_flagged_at = datetime.now(UTC)
    receive(app, db, mail("Kettle broken", "My kettle stopped working.")[0])
    send_all(app)
    assert sink.delivered == []
    with db.session() as session:
        assert session.scalar(select(Customer.flood_flagged_at)) is not None


def test_emergency_reply_suggests_no_faq_articles(app, db) -> None:
    """A level-5 emergency gets the reassurance and the due time, but no reading suggestions."""
    from mailrouter.outbound.autoreply import _matches
    from tests.factories import make_ticket

    add_articles(app, db)
    question = "How long does a refund take? I returned the kettle."
    with app.app_context(), db.session() as session:
        normal = make_ticket(session, urgency=2, body=question)
        emergency = make_ticket(session, urgency=5, body=question)
        config = app.config
        asked = _matches(session, normal, normal.messages[0], None, "en", config)
        assert asked is not None and asked.matches
        assert _matches(session, emergency, emergency.messages[0], None, "en", config) is None


def test_a_department_of_no_faq_offers_gets_none(app, db) -> None:
    """A press request matched "When will it be available again?" (the demo's pr@ mail): a
    department of AUTOREPLY_NO_FAQ_DEPARTMENTS (press, by default) is offered no FAQ answer,
    and its mail is not counted as FAQ demand; the other departments still are."""
    from faq.models import DemandEvent, UnansweredQuestion
    from mailrouter.outbound.autoreply import _matches, offers_faq
    from support.desk.models import Department
    from tests.factories import make_ticket

    add_articles(app, db)
    question = "How long does a refund take? I returned the kettle."
    with app.app_context(), db.session() as session:
        press = session.scalar(select(Department).where(Department.code == "pr"))
        service = session.scalar(select(Department).where(Department.code == "service"))
        assert press is not None and service is not None
        to_press = make_ticket(session, urgency=2, body=question)
        to_press.department = press
        to_service = make_ticket(session, urgency=2, body=question)
        to_service.department = service
        counted = select(func.count()).select_from(DemandEvent)
        gaps = select(func.count()).select_from(UnansweredQuestion)
        before = (session.scalar(counted), session.scalar(gaps))
        config = dict(app.config)
        assert not offers_faq(to_press, config) and offers_faq(to_service, config)
        # None: no answer offered, and no question to count as demand or as a gap.
        assert _matches(session, to_press, to_press.messages[0], None, "en", config) is None
        after_new_ticket(session, to_press, to_press.messages[0], None, config)
        assert (session.scalar(counted), session.scalar(gaps)) == before
        asked = _matches(session, to_service, to_service.messages[0], None, "en", config)
        assert asked is not None and asked.matches
        config["AUTOREPLY_NO_FAQ_DEPARTMENTS"] = []
        asked = _matches(session, to_press, to_press.messages[0], None, "en", config)
        assert asked is not None and asked.matches


def test_suggested_articles_open_in_the_customers_language_and_script(app, db):
    # Their follow and solved links asked for Traditional pages; the article links did not.
    from faq.matching import FaqMatch
    from mailrouter.outbound.autoreply import build_context

    match = FaqMatch(1, "怎么开发票？", "电子普通发票……", "/a/invoice-zh")
    with app.app_context(), db.session() as session:
        ticket = make_ticket(session, body="請問如何開立公司發票")
        links = {
            traditional: build_context(
                session,
                ticket,
                app.config,
                language="zh",
                matches=[match],
                traditional=traditional,
            ).faq_suggestions[0][2]
            for traditional in (True, False)
        }
    assert links[True] == "http://127.0.0.1:8080/a/invoice-zh?lang=zh&script=hant"
    assert links[False] == "http://127.0.0.1:8080/a/invoice-zh?lang=zh"


def test_preview_without_a_ticket_or_with_a_broken_draft_says_why(app, db, staff_client):
    # Pressing Preview with no ticket named, or a draft that cannot render, showed the page
    # again with nothing new on it.
    with db.session() as session:
        admin = make_user(session, role="admin")
    sign_in(app, staff_client, admin)
    page = staff_client.post(
        "/staff/templates/thanks.en.txt?lang=en",
        data={"source": "Dear {{ customer_name }, {% if %}", "action": "preview"},
    ).get_data(as_text=True)
    assert "The draft has mistakes:" in page and "was not saved" not in page
    assert "Name a ticket (such as SUP-00001) to preview the mail for it." in page
    page = staff_client.post(
        "/staff/templates/thanks.en.txt?lang=en",
        data={"source": "Dear {{ customer_name }}", "action": "preview"},
    ).get_data(as_text=True)
    assert "The draft has mistakes:" not in page and "Name a ticket" in page


def test_preview_for_a_customer_who_writes_traditional_shows_what_they_get(app, db, staff_client):
    # The Chinese templates are kept in Simplified and converted for a customer who writes
    # Traditional; the preview for such a customer's ticket showed the Simplified text, so a
    # Taiwan company's admin never saw the mail its customers receive.
    with db.session() as session:
        admin = make_user(session, role="admin")
        taiwan = make_ticket(
            session,
            customer=make_customer(session, name="王小明", email="wang@example.tw"),
            subject="電熱水壺保固問題",
            body="我的電熱水壺不能加熱了，請問還在保固期內嗎？",
        ).reference
        mainland = make_ticket(
            session,
            customer=make_customer(session, name="李娜", email="li@example.cn"),
            subject="订单还没发货",
            body="我的订单已经付款一周了还没发货。",
        ).reference
    sign_in(app, staff_client, admin)
    source = "{{ customer_name }}，您好！感谢您联系我们，工单编号：{{ ticket_reference }}"
    pages = {
        reference: staff_client.post(
            "/staff/templates/default.zh.txt?lang=zh",
            data={"source": source, "action": "preview", "ticket": reference},
        ).get_data(as_text=True)
        for reference in (taiwan, mainland)
    }
    assert f"王小明，您好！感謝您聯絡我們，工單編號：{taiwan}" in pages[taiwan]
    assert "邮件以繁体字发给对方" in pages[taiwan]
    assert "繁体字" not in pages[mainland]
    assert f"李娜，您好！感谢您联系我们，工单编号：{mainland}" in pages[mainland]


def test_a_template_written_in_traditional_reaches_a_simplified_writer_in_simplified(app, db, sink):
    # A Taiwan company's admin writes the Chinese template in Traditional characters; the
    # mainland customer who wrote in Simplified got the Traditional text (and Taiwan's 保固).
    # Their own name and the company's name stay as written.
    app.config["COMPANY_NAME"] = "光明家電"
    with db.session() as session:
        session.add(
            ReplyTemplate(
                key="default.zh.txt",
                source=(
                    "{{ customer_name }}，您好！感謝您聯繫{{ company_name }}，"
                    "您的產品仍在保固期內。工單編號：{{ ticket_reference }}\n"
                ),
            )
        )
    raw = mail("水壶坏了", "我的电热水壶坏了，请问怎么维修？", name="陳台生")[0]
    receive(app, db, raw)
    send_all(app)
    text = sink.delivered[0].message.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("陳台生，您好！感谢您联系光明家電，您的产品仍在保修期内。"), text


def test_preview_of_a_traditional_template_for_a_simplified_writer_is_simplified(
    app, db, staff_client
):
    with db.session() as session:
        admin = make_user(session, role="admin")
        reference = make_ticket(
            session,
            customer=make_customer(session, name="李娜", email="li@example.cn"),
            subject="水壶坏了",
            body="我的电热水壶坏了，请问怎么维修？",
        ).reference
    sign_in(app, staff_client, admin)
    page = staff_client.post(
        "/staff/templates/default.zh.txt?lang=zh",
        data={
            "source": "{{ customer_name }}，您好！感謝您的來信，產品仍在保固期內。",
            "action": "preview",
            "ticket": reference,
        },
    ).get_data(as_text=True)
    assert "李娜，您好！感谢您的来信，产品仍在保修期内。" in page


def test_an_article_written_in_traditional_is_excerpted_in_simplified_for_a_simplified_writer(
    app, db
):
    # A Taiwan admin's article reached a mainland customer in Traditional characters (保固,
    # 兩年): the whole mail was judged, and one short excerpt is too few characters to count.
    from faq.matching import FaqMatch
    from mailrouter.outbound.autoreply import render_for_ticket

    match = FaqMatch(1, "主機保固多久？", "主機保固兩年，配件一年。", "/a/warranty")
    with app.app_context(), db.session() as session:
        ticket = make_ticket(session, subject="水壶坏了", body="我的电热水壶坏了，请问怎么维修？")
        simplified, traditional = (
            render_for_ticket(
                session, ticket, app.config, language="zh", matches=[match], traditional=t
            )
            for t in (False, True)
        )
    for part in (simplified.text, simplified.html or ""):
        assert "主机保修多久？" in part and "主机保修两年，配件一年。" in part, part
        assert "保固" not in part
    assert "主機保固兩年，配件一年。" in traditional.text


@pytest.mark.parametrize(
    ("subject", "body", "said", "not_said"),
    [
        (
            "Fwd: Your order has shipped",
            "It never arrived. Can you check?\n\n---------- Forwarded message ---------\n"
            "From: Shop <orders@shop.example>\nSubject: Your order has shipped\n\n"
            "Your order 5567 has shipped.",
            "Received the mail you forwarded: Your order has shipped",
            "] Received: Your order has shipped",
        ),
        (
            "转发：您的订单已发货",
            "一直没收到，请帮我查一下。\n\n---------- 转发的邮件 ---------\n"
            "发件人: 商城 <orders@shop.example>\n主题: 您的订单已发货\n\n您的订单 5567 已发货。",
            "已收到您转发的邮件：您的订单已发货",
            "] 已收到：您的订单已发货",
        ),
    ],
)
def test_a_forwarded_mail_s_confirmation_does_not_read_like_the_shop_s_notice(
    app, db, sink, subject, body, said, not_said
):
    """The confirmation of a forward named the forwarded mail's subject as its own topic:
    "[#SUP-00012] Received: Your order has shipped" in the customer's inbox read like a
    shipping notice (ours, or the shop's). It says whose mail it received."""
    raw, _ = mail(subject, body)
    receive(app, db, raw)
    send_all(app)
    [delivery] = sink.delivered
    assert said in delivery.message["Subject"]
    assert not_said not in delivery.message["Subject"]
