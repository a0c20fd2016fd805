"""The customer-service texts' urgency rules end to end: mail sent to the real SMTP intake,
processed by the worker, read back from the ticket (issue 17's "done means")."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import select

from mailrouter.parsing import parse_message
from support.core.db import utcnow
from support.desk.models import AuditEvent, OutboundMail, Ticket
from support.desk.outbox import KIND_AUTO_REPLY
from tests.factories import make_customer, make_user
from tests.mailrouter.conftest import make_mail, process_all

CUSTOMER = "Li Wei <li.wei@example.net>"


@pytest.fixture
def app_settings(bundle_file) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file), "URGENCY_REPEAT_MIN_HOURS": 0}


def _send(app, session, intake, subject: str, body: str, **headers) -> Ticket:
    session.commit()  # the test's session must not hold SQLite's lock while the intake writes
    sender = headers.pop("sender", CUSTOMER)
    raw = make_mail(sender=sender, subject=subject, body=body, **headers)
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail(sender.split("<")[-1].rstrip(">"), ["support@example.com"], raw)
    assert process_all(app) == 1
    session.expire_all()
    ticket = session.scalars(select(Ticket).order_by(Ticket.updated_at.desc(), Ticket.id.desc()))
    return ticket.first()


def test_three_quick_follow_ups_leave_a_normal_ticket_at_its_level(app, session, intake) -> None:
    subject = "Quote for 50 standing desks"
    body = "Hello, we want to order 50 standing desks. Could you send a quote with delivery costs?"
    first = _send(app, session, intake, subject, body, message_id="<q0@mail.example.net>")
    assert first.urgency == 2
    previous = "<q0@mail.example.net>"
    for n, text in enumerate(
        ["Also, please add ten chairs.", "And assembly in Suzhou.", "Invoice to our company."]
    ):
        ticket = _send(
            app,
            session,
            intake,
            f"Re: {subject}",
            text,
            message_id=f"<q{n + 1}@mail.example.net>",
            in_reply_to=previous,
        )
        previous = f"<q{n + 1}@mail.example.net>"
    assert ticket.id == first.id and ticket.urgency == 2


def test_the_same_problem_again_in_a_new_thread_is_linked_and_raised(app, session, intake) -> None:
    earlier = _send(
        app,
        session,
        intake,
        "书架还没到",
        "我订的书架到现在还没送到，物流信息从周一起就没有更新，麻烦帮我查一下。",
    )
    again = _send(
        app,
        session,
        intake,
        "又来问",
        "上周问过了：我订的书架还是没送到，物流信息从周一起一直没更新，请帮我查一下。",
    )
    assert again.id != earlier.id
    assert again.urgency == 4 and again.previous_ticket_id == earlier.id


def _urgency_raises(session, ticket: Ticket) -> list[dict]:
    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.urgency_raised"
        )
    )
    return [event.data for event in events]


# fmt: off
#: A first mail, then the customer's angry chase on the same thread, in other words than the
#: first (so no repeat): the texts' repeated report, important (4) once (thirty-third session).
ANGRY_CHASES = [
    (
        "Washing machine leaking",
        "Hello, our washing machine (model LW-8) leaks water from the bottom of the door"
        " during every wash. Could someone look at it?",
        "This is ridiculous, still nothing.",
    ),
    (
        "洗衣机漏水",
        "你好，我家的洗衣机每次洗衣服门底下都会漏水，型号LW-8，请安排人看一下。",
        "这太离谱了，还是没人回。",
    ),
    (
        "洗衣機漏水",
        "您好，我家的洗衣機每次洗衣服門下面都會漏水，型號LW-8，請安排人來看一下。",
        "這也太離譜了吧，到現在還是沒下文。",
    ),
]
# fmt: on


@pytest.mark.parametrize(("subject", "first", "chase"), ANGRY_CHASES)
def test_an_angry_chase_on_an_open_ticket_makes_it_important(
    app, session, intake, subject, first, chase
) -> None:
    """ "This is ridiculous, still nothing" raised the ticket while "ridiculous" was a keyword
    (4); since tone is no keyword (thirty-second session) nothing did. A customer chasing us in
    anger has reported the problem again: important, once."""
    ticket = _send(app, session, intake, subject, first, message_id="<c0@mail.example.net>")
    assert ticket.urgency < 4
    again = _send(
        app, session, intake, f"Re: {subject}", chase,
        message_id="<c1@mail.example.net>", in_reply_to="<c0@mail.example.net>",
    )  # fmt: skip
    assert again.id == ticket.id
    assert again.urgency == 4, again.classification["urgency"]
    assert [raise_["reasons"] for raise_ in _urgency_raises(session, again)] == [["chase"]]
    third = _send(
        app, session, intake, f"Re: {subject}", chase,
        message_id="<c2@mail.example.net>", in_reply_to="<c1@mail.example.net>",
    )  # fmt: skip
    assert third.urgency == 4 and len(_urgency_raises(session, third)) == 1


@pytest.mark.parametrize(
    "follow_up",
    [
        "The serial number is LW8-20931. The leak is ridiculous, the floor is soaked each time.",
        "Still nothing? Could you let me know when someone can come?",
    ],
)
def test_an_angry_word_or_a_calm_chase_alone_leaves_a_follow_up_at_its_level(
    app, session, intake, follow_up
) -> None:
    subject, first, _chase = ANGRY_CHASES[0]
    ticket = _send(app, session, intake, subject, first, message_id="<d0@mail.example.net>")
    level = ticket.urgency
    again = _send(
        app, session, intake, f"Re: {subject}", follow_up,
        message_id="<d1@mail.example.net>", in_reply_to="<d0@mail.example.net>",
    )  # fmt: skip
    assert again.id == ticket.id and again.urgency == level < 4
    assert _urgency_raises(session, again) == []


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Opening hours", "This is not urgent, but what are the opening hours of your showroom?"),
        ("营业时间", "不急，有空再回：请问你们上海展厅周末营业吗？"),
    ],
)
def test_not_urgent_stays_normal(app, session, intake, subject, body) -> None:
    assert _send(app, session, intake, subject, body).urgency <= 2


def test_a_key_accounts_ticket_gets_its_tiers_target(app, session, intake) -> None:
    make_customer(session, email="buyer@bigco.example", tier="key")
    session.commit()
    before = utcnow()
    ticket = _send(
        app,
        session,
        intake,
        "Quote for 50 standing desks",
        "Hello, could you send a quote for 50 standing desks with delivery costs?",
        sender="Buyer <buyer@bigco.example>",
    )
    assert ticket.urgency == 2
    # The default calendar runs around the clock: 8 hours instead of 24.
    assert ticket.first_response_due_at <= before + timedelta(hours=8, minutes=1)


def test_a_complaint_by_mail_gets_its_deadline(app, session, intake) -> None:
    ticket = _send(
        app,
        session,
        intake,
        "投诉",
        "你们的客服一再推脱，问题拖了一个月都没解决，我要投诉。",
    )
    assert (ticket.kind, ticket.complaint_complexity) == ("complaint", "general")
    assert ticket.complaint_due_at is not None
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.complaint"))


def _auto_reply_text(session, ticket: Ticket) -> str:
    raw = session.scalar(
        select(OutboundMail.raw).where(
            OutboundMail.ticket_id == ticket.id, OutboundMail.kind == KIND_AUTO_REPLY
        )
    )
    assert raw is not None, "no auto-reply"
    parsed = parse_message(raw)
    return parsed.text


@pytest.mark.parametrize(
    ("subject", "body", "safety"),
    [
        ("Heater", "The heater in the bedroom is smoking and there is a burning smell.", "safety"),
        ("燃气灶", "我家燃气灶一直有煤气味，怎么办？", "安全第一"),
        ("Invoice", "Our lawyer will contact you about the unpaid invoice.", None),
        ("Kettle", "My kettle stopped working after two days.", None),
        ("Freezer", "My freezer stopped working and all the food is melting. Help asap", None),
        ("电饭煲", "电饭煲煮的饭底下总有糊味，是不是内胆坏了？", None),
    ],
)
def test_an_auto_reply_to_danger_says_first_what_to_do(
    app, session, intake, subject, body, safety
) -> None:
    """Someone reporting smoke or gas is told to call the emergency services and stop using the
    product before anything else; other mail, even other emergencies (a lawyer), is not."""
    ticket = _send(app, session, intake, subject, body)
    text = _auto_reply_text(session, ticket)
    if safety is None:
        assert "119" not in text and "emergency services" not in text
    else:
        assert ticket.urgency == 5
        first = text.split("\n\n")[1]  # right after the greeting
        assert safety in first.casefold() if safety.isascii() else safety in first
        assert "119" in first and "120" in first


@pytest.mark.parametrize(
    ("sender", "subject", "body", "asks"),
    [
        ("Carol <carol@example.org>", "Hi", "Hi\n\nCarol", "Please reply to this email with your"),
        ("张三 <zhang@example.cn>", "你好", "在吗？", "请直接回复本邮件告诉我们您的问题"),
        (CUSTOMER, "Kettle", "My kettle stopped working after two days.", None),
    ],
)
def test_a_mail_that_says_nothing_is_asked_for_its_question(
    app, session, intake, sender, subject, body, asks
) -> None:
    """A greeting signed with the sender's own name ("Hi" over "Carol" from Carol) goes to
    triage, not to a department the model read from "hi"; the auto-reply to a mail that says
    nothing asks for the question, which a mail with one is not asked."""
    ticket = _send(app, session, intake, subject, body, sender=sender)
    text = _auto_reply_text(session, ticket)
    if asks is None:
        assert not ticket.needs_triage
        assert "reply to this email with your question" not in text
    else:
        assert ticket.needs_triage and ticket.department is None
        assert asks in " ".join(text.split())


@pytest.mark.parametrize(
    ("address", "code", "asks"),
    [
        ("service@example.com", "service", "Please reply to this email with your question:"),
        # HR's own texts lacked the paragraph: "Good morning." to jobs@ was never asked.
        ("jobs@example.com", "hr", "Please reply to this email with your question; if you"),
    ],
)
def test_a_mail_that_says_nothing_to_a_department_s_address_stays_and_is_asked(
    app, session, intake, address, code, asks
) -> None:
    """Sent to service's own address, "Good morning." stays with service, at the normal level
    (the model read "Good morning." as urgency 5 once), and its auto-reply asks the question."""
    session.commit()
    sender = "Carol <carol@example.org>"
    raw = make_mail(sender=sender, to=address, subject="Hi", body="Good morning.")
    with smtplib.SMTP(intake.host, intake.port, timeout=60) as smtp:
        smtp.sendmail("carol@example.org", [address], raw)
    assert process_all(app) == 1
    session.expire_all()
    ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert ticket.department is not None and ticket.department.code == code
    assert not ticket.needs_triage and ticket.urgency == 2
    assert asks in " ".join(_auto_reply_text(session, ticket).split())


def test_the_answer_to_our_question_routes_a_ticket_that_said_nothing(app, session, intake):
    """ "在吗？" goes to triage and its auto-reply asks for the question; the customer's answer
    routes the ticket as a new mail would (the notice to the department quotes the answer).
    Once staff have it (assigned), a later answer moves nothing."""
    sender = "张三 <zhang.san@example.cn>"
    make_user(session, departments=("sales", "service", "pr", "hr", "finance"))
    ticket = _send(app, session, intake, "你好", "在吗？", sender=sender)
    assert ticket.needs_triage and ticket.department is None
    question = "我上周买的电饭煲付款时被扣了两次钱，请帮我退款。"
    answered = _send(
        app, session, intake, f"回复：[#{ticket.reference}] 已收到：你好", question, sender=sender
    )
    assert answered.id == ticket.id
    assert not answered.needs_triage and answered.department is not None
    assert answered.classification["department"]["source"] == "model"
    notices = session.scalars(
        select(OutboundMail.raw).where(
            OutboundMail.ticket_id == ticket.id, OutboundMail.kind != KIND_AUTO_REPLY
        )
    ).all()
    assert any(question in parse_message(raw).text for raw in notices)

    other = _send(app, session, intake, "你好", "在吗？", sender="李四 <li.si@example.cn>")
    other.assignee = make_user(session, role="admin")
    session.commit()
    later = _send(
        app,
        session,
        intake,
        f"回复：[#{other.reference}] 已收到：你好",
        question,
        sender="李四 <li.si@example.cn>",
    )
    assert later.needs_triage and later.department is None
