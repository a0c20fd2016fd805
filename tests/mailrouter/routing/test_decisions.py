# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""New mail reaches the right department at the right urgency, explains why, and lands in
triage when the router is unsure; the customer's choice of address and urgency keywords win."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.routing import decisions as routing
from mailrouter.routing import model_store
from mailrouter.routing.classifier import FORMAT_VERSION, predict, save_bundle
from mailrouter.routing.labels import Prediction
from support.core.db import utcnow
from support.desk.models import AuditEvent, Department, OutboundMail, Ticket, TrainingExample
from support.desk.notifications import send_digests
from tests.factories import make_customer, make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.mailrouter.routing.conftest import DecideMail
from tests.support.staff_helpers import login, mail_text

DEMO_FAQ = Path(__file__).resolve().parents[3] / "faq" / "demo_content.json"
SECRET_KEY = "test-secret-key-not-for-production"  # what tests/conftest.py configures

# fmt: off
# Written for these tests, none is in the bootstrap CSV: (subject, body, department).
DEPARTMENT_MAIL = [
    ("Quote for 50 standing desks", "Hello, we want to order 50 standing desks for our new office. Could you send a quote with delivery costs?", "sales"),
    ("采购报价", "您好，我们公司想采购一百台空气净化器，请发一份报价单，含运费。", "sales"),
    ("Vacuum cleaner broken", "My robot vacuum stopped charging after three weeks. How do I return it for repair under the warranty?", "service"),
    ("洗衣机坏了", "上个月买的洗衣机现在不脱水了，请问怎么申请保修维修？", "service"),
    ("Press release request", "Could your press office send me the press release and photos about your new factory opening for our newspaper?", "pr"),
    ("记者采访", "您好，我是晚报的记者，想就贵公司新工厂的开业做一个采访，请问联系哪位？", "pr"),
    ("Application for accountant position", "Dear HR team, I am applying for the junior accountant vacancy. Please find my CV attached.", "hr"),
    ("应聘销售助理", "您好，我想应聘贵公司招聘的销售助理职位，附件是我的简历，期待您的回复。", "hr"),
    ("Remittance advice", "We transferred the payment for invoice 7781 yesterday. Please confirm receipt and send a receipt.", "finance"),
    ("索取发票", "请帮我们开具上个月订单的增值税发票，开票信息见附件。", "finance"),
]

# (subject, body, urgency, the keyword that decides or None when the model does)
URGENCY_MAIL = [
    ("Thanks to your delivery team", "The two men who delivered our wardrobe were careful and polite. Well done, we are delighted.", 1, "well done"),
    ("感谢安装师傅", "安装师傅很专业，服务态度也特别好，给你们点赞！", 1, "点赞"),
    ("Quote for 50 standing desks", "Hello, we want to order 50 standing desks for our new office. Could you send a quote with delivery costs?", 2, None),
    ("洗衣机坏了", "上个月买的洗衣机现在不脱水了，请问怎么申请保修维修？", 2, None),
    ("Need an engineer for a special setup", "We want to run your pumps on a 60 Hz supply with a variable frequency drive. Can a technical specialist check whether the motors support this?", 3, None),
    ("需要技术专家", "我们要把你们的冷库压缩机接入自己的楼宇控制系统，需要技术专家确认通讯协议和接线方式。", 3, None),
    ("Missed appointments", "The technician has missed the appointment for the third time. I want to file a formal complaint.", 4, "third time"),
    ("投诉", "你们的客服一再推脱，问题拖了一个月都没解决，我要投诉。", 4, "一再"),
    ("Server down", "Our ordering portal is down and none of our stores can order. This is an emergency.", 5, "server down"),
    ("系统宕机", "你们的收银系统宕机了，全部门店无法结账，请立即处理！", 5, "宕机"),
]
# fmt: on

SALES_QUOTE = DEPARTMENT_MAIL[0]
#: The departments open to mail in the tests that call `decide` itself.
SERVICE_AND_SALES = frozenset({"service", "sales"})
SPECIAL_PROBLEM = URGENCY_MAIL[4]


@pytest.fixture
def extra_settings() -> dict:
    """Parametrize to change settings for one test."""
    return {}


@pytest.fixture
def app_settings(bundle_file: Path, extra_settings: dict) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file), **extra_settings}


def deliver(
    app,
    session,
    subject: str,
    body: str,
    *,
    to: str = "support@example.com",
    sender: str = "Li Wei <li.wei@example.net>",
    department_code: str | None = None,
    **mail,
) -> Ticket:
    """Queue a real message as intake does and let the worker process it."""
    raw = make_mail(sender=sender, to=to, subject=subject, body=body, **mail)
    queue.store_inbound(
        session,
        channel="smtp",
        raw=raw,
        envelope_from=sender.split("<")[-1].rstrip(">"),
        envelope_to=[to],
        department_code=department_code,
    )
    session.commit()
    assert process_all(app) == 1
    session.expire_all()
    return session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()


def test_mail_to_the_general_address_reaches_its_department(app, session) -> None:
    wrong = []
    for n, (subject, body, expected) in enumerate(DEPARTMENT_MAIL):
        ticket = deliver(app, session, subject, body, sender=f"customer{n}@example.net")
        department = ticket.classification["department"]
        if ticket.department is None or ticket.department.code != expected or ticket.needs_triage:
            wrong.append((subject, expected, department))
            continue
        assert department["source"] == "model"
        assert department["probability"] >= app.config["CLASSIFIER_MIN_CONFIDENCE"]
        assert department["reasons"], "staff see which words decided"
        assert ticket.classification["model_version"].startswith(f"v{FORMAT_VERSION}-")
        assert ticket.first_response_due_at is not None  # the clock runs from routing
    assert wrong == []


def test_urgency_comes_from_keywords_first_then_the_model(app, session) -> None:
    wrong = []
    for n, (subject, body, level, keyword) in enumerate(URGENCY_MAIL):
        ticket = deliver(app, session, subject, body, sender=f"customer{n}@example.net")
        urgency = ticket.classification["urgency"]
        source = "rules" if keyword else "model"
        if (ticket.urgency, urgency["rule"], urgency["source"]) != (level, keyword, source):
            wrong.append((subject, level, keyword, urgency))
        assert urgency["adjustments"] == []
    assert wrong == []


def test_keywords_beat_the_model_and_settings_add_keywords(app, session) -> None:
    subject, body, _ = SALES_QUOTE
    bundle = model_store.current_model(app.config)
    assert predict(bundle, subject, body, urgency_rules=None)[1].label == 2

    ticket = deliver(app, session, subject, body + " The last sample caught fire on our bench.")
    assert (ticket.urgency, ticket.classification["urgency"]["rule"]) == (5, "caught fire")

    config = {**app.config, "CLASSIFIER_URGENCY_RULES": {"5": ["停产"]}}
    decision = routing.decide(
        "设备问题",
        "我们的工厂因为你们的设备停产了。",
        config=config,
        bundle=bundle,
        active_codes={"service", "sales"},
    )
    assert (decision.urgency, decision.classification["urgency"]["rule"]) == (5, "停产")


def test_the_emergency_target_is_shorter_than_the_normal_one(app, session) -> None:
    normal = deliver(app, session, *SALES_QUOTE[:2])
    emergency = deliver(app, session, *URGENCY_MAIL[8][:2])
    assert (
        emergency.first_response_due_at - emergency.created_at
        < normal.first_response_due_at - normal.created_at
    )


@pytest.mark.parametrize("extra_settings", [{"CLASSIFIER_MIN_CONFIDENCE": 0.999}])
def test_an_unsure_router_sends_the_ticket_to_triage_with_its_guess(app, session, client) -> None:
    subject, body, _ = SALES_QUOTE
    ticket = deliver(app, session, subject, body)

    assert ticket.needs_triage
    assert ticket.department_id is None  # no team sees an unconfirmed ticket in its inbox
    department = ticket.classification["department"]
    assert (department["label"], department["source"], department["triage_reason"]) == (
        "sales",
        "fallback",
        "low_confidence",
    )
    assert department["probability"] < 0.999
    assert ticket.first_response_due_at is not None  # the customer waits all the same

    triager = make_user(
        session, role="agent", departments=(), can_triage=True, email="triage@example.com"
    )
    session.commit()
    login(client, triager.email)
    page = client.get("/staff/inbox/triage")
    assert page.status_code == 200 and ticket.reference in page.get_data(as_text=True)


def test_a_retired_department_is_never_routed_to(app, session) -> None:
    session.scalar(select(Department).where(Department.code == "hr")).is_active = False
    session.commit()
    subject, body, _ = DEPARTMENT_MAIL[6]  # an application, which the model still calls hr

    ticket = deliver(app, session, subject, body)

    assert ticket.needs_triage and ticket.department_id is None
    department = ticket.classification["department"]
    assert (department["label"], department["triage_reason"]) == ("hr", "inactive_department")


def test_the_address_the_customer_chose_wins(app, session) -> None:
    subject, body, _ = DEPARTMENT_MAIL[2]  # a broken vacuum: the model says service
    ticket = deliver(
        app, session, subject, body, to="finance@example.com", department_code="finance"
    )

    assert ticket.department.code == "finance" and not ticket.needs_triage
    assert ticket.classification["department"]["source"] == "address"


# (subject, body, department): special problems (level 3) the model routes with confidence.
SPECIAL_PROBLEMS = [
    (
        "Reverse charge on your invoices",
        "Our accountant says your invoices for the installation work should use the domestic "
        "reverse charge instead of 20% VAT. Could your tax specialist check and reissue them?",
        "finance",
    ),
    (
        "红字发票",
        "上个月的增值税专用发票税率开错了，需要开红字信息表重新开具，请负责税务的同事处理。",
        "finance",
    ),
    (*SPECIAL_PROBLEM[:2], "sales"),
]


@pytest.mark.parametrize(("subject", "body", "department"), SPECIAL_PROBLEMS)
def test_a_special_problem_stays_with_the_department_it_belongs_to(
    app, session, subject, body, department
) -> None:
    """Level 3 says a specialist is needed: a tax question needs finance's, not service's."""
    ticket = deliver(app, session, subject, body)
    assert ticket.urgency == 3
    assert ticket.department.code == department and not ticket.needs_triage
    assert ticket.classification["department"]["source"] == "model"


@pytest.mark.parametrize("specialist", ["service", "pr"])
def test_a_special_problem_of_undecided_department_goes_to_the_specialists(
    decide_mail: DecideMail, specialist
) -> None:
    """Rather than waiting in triage: here the model's department (sales) is not active."""
    decision = decide_mail(
        *SPECIAL_PROBLEM[:2],
        active={"service", "pr", "hr", "finance"},
        settings={"CLASSIFIER_SPECIALIST_DEPARTMENT": specialist},
    )
    assert (decision.urgency, decision.department_code) == (3, specialist)
    department = decision.classification["department"]
    assert department["source"] == "rules" and department["model"]["label"] == "sales"


def test_a_special_problem_sent_to_a_department_stays_there(app, session) -> None:
    subject, body, _level, _keyword = SPECIAL_PROBLEM
    chosen = deliver(app, session, subject, body, to="hr@example.com", department_code="hr")
    assert chosen.urgency == 3 and chosen.department.code == "hr"


def test_a_key_account_keeps_the_level_its_problem_has(app, session) -> None:
    """Key accounts come first by their tier's targets and their place in the queue, not by
    a made-up urgency: level 3 means "needs a specialist", which a quote does not."""
    make_customer(session, email="buyer@bigco.example", is_key_account=True)
    session.commit()
    normal = deliver(app, session, *SALES_QUOTE[:2], sender="buyer@bigco.example")
    assert normal.urgency == 2 and normal.classification["urgency"]["adjustments"] == []
    assert normal.department.code == "sales"
    emergency = deliver(app, session, *URGENCY_MAIL[8][:2], sender="buyer@bigco.example")
    assert emergency.urgency == 5


def test_quick_follow_ups_leave_a_normal_ticket_at_its_level(app, session) -> None:
    """Three "also..." mails within a minute are a conversation, not a repeated report."""
    app.config["URGENCY_REPEAT_MIN_HOURS"] = 0  # so only the words decide here
    subject, body, _ = SALES_QUOTE
    ticket = deliver(app, session, subject, body, message_id="<first@mail.example.net>")
    assert ticket.urgency == 2
    due_before = ticket.first_response_due_at
    previous = "<first@mail.example.net>"
    for n, text in enumerate(
        [
            "Also, could you add ten matching office chairs to the quote?",
            "And please include assembly at our site in Suzhou.",
            "One more thing: we would need an invoice in our company name.",
        ]
    ):
        ticket = deliver(
            app,
            session,
            f"Re: {subject}",
            text,
            message_id=f"<also{n}@mail.example.net>",
            in_reply_to=previous,
        )
        previous = f"<also{n}@mail.example.net>"
    assert ticket.urgency == 2 and ticket.first_response_due_at == due_before
    assert (
        session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.urgency_raised"))
        is None
    )


def test_the_same_problem_reported_again_raises_to_four_once(app, session) -> None:
    app.config["URGENCY_REPEAT_MIN_HOURS"] = 0
    subject = "Delivery not arrived"
    body = (
        "My order of a bookshelf has not arrived yet and the tracking page shows no update "
        "since Monday. Could you check where it is?"
    )
    ticket = deliver(app, session, subject, body, message_id="<w1@mail.example.net>")
    assert ticket.urgency == 2
    again = (
        "I asked before: my bookshelf order has not arrived and the tracking page shows no "
        "update since Monday. Could you check where it is?"
    )
    ticket = deliver(
        app,
        session,
        f"Re: {subject}",
        again,
        message_id="<w2@mail.example.net>",
        in_reply_to="<w1@mail.example.net>",
    )
    assert ticket.urgency == 4
    assert ticket.classification["urgency"]["adjustments"] == ["repeat"]
    ticket = deliver(
        app,
        session,
        f"Re: {subject}",
        again,
        message_id="<w3@mail.example.net>",
        in_reply_to="<w2@mail.example.net>",
    )
    assert ticket.urgency == 4  # at most one raise per reason
    assert ticket.classification["urgency"]["adjustments"] == ["repeat"]


def test_two_replies_without_text_are_no_repeated_report(app, session) -> None:
    """Two photos sent from a phone an hour apart: both "(no text)", but nothing repeated."""
    app.config["URGENCY_REPEAT_MIN_HOURS"] = 0
    ticket = deliver(
        app,
        session,
        "Crack in the lid",
        "The lid of my kettle has a crack.",
        message_id="<p0@mail.example.net>",
    )
    previous = "<p0@mail.example.net>"
    for n in (1, 2):
        ticket = deliver(
            app,
            session,
            "Re: Crack in the lid",
            "\nSent from my iPhone\n\n> On 5 Dec 2026, at 10:15, Support wrote:\n> Photo please.\n",
            message_id=f"<p{n}@mail.example.net>",
            in_reply_to=previous,
        )
        previous = f"<p{n}@mail.example.net>"
    assert ticket.urgency == 2
    assert "repeat" not in ticket.classification.get("urgency", {}).get("adjustments", [])


def test_a_repeat_sent_twice_at_once_is_no_repeat(app, session) -> None:
    subject, body, _ = SALES_QUOTE
    deliver(app, session, subject, body, message_id="<d1@mail.example.net>")
    ticket = deliver(app, session, subject, body, message_id="<d2@mail.example.net>")
    assert ticket.urgency == 2 and ticket.previous_ticket_id is None


def test_a_first_mail_from_a_new_customer_skips_the_earlier_report_search(
    app, session, monkeypatch
) -> None:
    """A customer created for this mail has no earlier report: the query is not sent (one
    wait for the server less on PostgreSQL). Their second mail is searched as usual."""
    from mailrouter.routing import repeats

    searched: list[int | None] = []
    real = repeats.find_earlier_report

    def spy(session, *, customer_id, **kwargs):
        searched.append(customer_id)
        return real(session, customer_id=customer_id, **kwargs)

    monkeypatch.setattr(repeats, "find_earlier_report", spy)
    subject, body, _ = SALES_QUOTE
    first = deliver(app, session, subject, body, message_id="<f1@mail.example.net>")
    assert searched == [None]
    second = deliver(app, session, "Another question", body, message_id="<f2@mail.example.net>")
    assert second.id != first.id
    assert searched == [None, first.customer_id]


# fmt: off
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            ("Delivery not arrived", "My order of a bookshelf has not arrived yet and the tracking page shows no update since Monday. Could you check where it is?"),
            ("Where is my bookshelf?", "I asked last week: my bookshelf order has not arrived and tracking shows no update since Monday. Please check where it is."),
        ),
        (
            ("书架还没到", "我订的书架到现在还没送到，物流信息从周一起就没有更新，麻烦帮我查一下。"),
            ("又来问", "上周问过了：我订的书架还是没送到，物流信息从周一起一直没更新，请帮我查一下。"),
        ),
    ],
)
# fmt: on
def test_the_same_problem_in_a_new_thread_is_linked_and_raised(app, session, first, second) -> None:
    app.config["URGENCY_REPEAT_MIN_HOURS"] = 0
    earlier = deliver(app, session, *first, message_id="<n1@mail.example.net>")
    ticket = deliver(app, session, *second, message_id="<n2@mail.example.net>")
    assert ticket.id != earlier.id
    assert ticket.urgency == 4 and ticket.previous_ticket_id == earlier.id, ticket.classification
    repeat = ticket.classification["urgency"]["repeat_of"]
    assert repeat["reference"] == earlier.reference and repeat["similarity"] >= 0.6
    make_user(session, role="admin", email="boss@example.com")
    session.commit()
    client = app.test_client()
    login(client, "boss@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert f"reported before in {earlier.reference}" in page
    # Another customer with the same words is not a repeat.
    other = deliver(
        app, session, *second, sender="someone.else@example.net", message_id="<n3@mail.example.net>"
    )
    assert other.urgency == 2 and other.previous_ticket_id is None, other.classification


@pytest.mark.parametrize(
    ("subject", "body", "highest"),
    [
        (
            "Opening hours",
            "This is not urgent, but could you tell me the opening hours of your Shanghai showroom?",
            2,
        ),
        ("营业时间", "不急，有空再回：请问你们上海展厅周末营业吗？", 2),
        ("Question", "No rush at all. Is the blue sofa also available in grey?", 2),
        (
            "Not urgent but",
            "Not urgent, but our ordering portal is down and no store can order.",
            5,
        ),
    ],
)
def test_a_customer_who_says_there_is_no_hurry_is_not_an_emergency(
    app, session, subject, body, highest
) -> None:
    ticket = deliver(app, session, subject, body)
    if highest == 2:
        assert ticket.urgency <= 2, ticket.classification["urgency"]
    else:
        assert ticket.urgency == highest  # an emergency keyword still wins


@pytest.mark.parametrize(
    ("subject", "body", "level"),
    [
        ("Urgent question", "Urgent question: do you deliver on Saturdays?", 2),
        ("URGENT", "Please tell me the opening hours of your shop on Sunday", 2),
        ("紧急", "紧急！请问周六送货吗？", 2),
    ],
)
def test_a_customer_s_own_urgent_makes_no_emergency(
    decide_mail: DecideMail, subject, body, level
) -> None:
    """"Urgent" is the customer's claim: the mail's content decides."""
    decision = decide_mail(subject, body, active=SERVICE_AND_SALES)
    assert decision.urgency == level, decision.classification["urgency"]


def test_a_5_resting_on_the_customer_s_urgent_alone_counts_as_4(
    decide_mail: DecideMail, monkeypatch
) -> None:
    """A model that reads the word "urgent" as an emergency: the same mail without the word
    is a 2, so the 5 was the claim's and counts as 4. (A model, not the shipped one: whether
    the shipped model does so for some mail changes with its training rows.)"""

    def claim_reading_model(bundle, subject, body, urgency_rules=None):
        level = 5 if "urgent" in f"{subject} {body}".casefold() else 2
        return Prediction("service", 0.9, []), Prediction(level, 0.9, [])

    monkeypatch.setattr(routing, "predict", claim_reading_model)
    subject, body = "URGENT", "Please tell me the opening hours of your shop on Sunday"
    decision = decide_mail(subject, body, active=SERVICE_AND_SALES)
    assert decision.urgency == 4, decision.classification["urgency"]
    assert decision.classification["urgency"]["claim"] == "urgent"


def _model_saying(department: str, level: int, probability: float):
    def model(bundle, subject, body, urgency_rules=None):
        return Prediction(department, 0.9, ["kettle"]), Prediction(level, probability, ["hot"])

    return model


@pytest.mark.parametrize(
    ("probability", "level", "triage"), [(0.47, 4, True), (0.5, 5, False), (0.81, 5, False)]
)
def test_an_emergency_the_model_is_unsure_of_is_4_and_flagged_for_triage(
    decide_mail: DecideMail, monkeypatch, probability, level, triage
) -> None:
    """The model's own 5 at under 50 % (less likely than not) is neither trusted (a 5 pages
    someone) nor dropped: 4 in its department, and flagged so a person confirms it."""
    monkeypatch.setattr(routing, "predict", _model_saying("service", 5, probability))
    decision = decide_mail("Kettle", "The kettle gets very hot on the outside.", active=SERVICE_AND_SALES)
    assert (decision.department_code, decision.urgency, decision.needs_triage) == (
        "service",
        level,
        triage,
    )
    urgency = decision.classification["urgency"]
    assert bool(urgency.get(routing.UNSURE_EMERGENCY)) is triage
    if triage:
        assert urgency["model_label"] == 5
        assert urgency["reasons"][0] == "unsure: 5 at 47%"


@pytest.mark.parametrize(
    ("body", "level", "problem"),
    [
        (
            "We love the hob and the fridge, thank you! The problem: the extractor hood rattles"
            " loudly on speed 3. Could someone look at it?",
            2,
            "problem",
        ),
        ("非常满意你们的服务！不过洗碗机的门关不严，能派人看看吗？", 2, "不过"),
        ("Thank you, the repair was perfect and the vacuum works like new.", 1, None),
        ("No problem at all with the delivery, the driver was lovely. Thank you!", 1, None),
        ("Thanks, but my order is late.", 2, "late"),
        # twenty-ninth session: a problem solved, a suggestion's 能不能 (sets 1 and 8)
        ("Thank you to Priya who sorted out my missing parts in five minutes!", 1, None),
        ("挺好用的。有个小建议：APP能不能加一个导出Excel的功能？不用回复。", 1, None),
    ],
)
def test_a_mail_the_model_calls_praise_but_that_names_a_problem_is_normal(
    decide_mail: DecideMail, monkeypatch, body, level, problem
) -> None:
    """The level-1 keywords never fire beside a problem word; the model's 1 did: a kitchen
    review with a rattling hood in it was thanked for its kind words and queued last."""
    monkeypatch.setattr(routing, "predict", _model_saying("service", 1, 0.61))
    decision = decide_mail("Feedback", body, active=SERVICE_AND_SALES)
    urgency = decision.classification["urgency"]
    assert decision.urgency == level, urgency
    assert urgency.get("problem") == problem
    if problem:
        assert urgency["model_label"] == 1 and urgency["reasons"][0] == f"problem: {problem}"


@pytest.mark.parametrize(
    ("subject", "body", "level"),
    [
        # thirty-first session (set 14): a reply's subject names the problem of the thread; the
        # new text says whether one is left
        ("Re: 【緊急】咖啡機無法開機", "換了電源線以後就正常了，謝謝你們耐心協助！", 1),
        ("RE: Kettle not working", "The new base works perfectly. Thank you so much!", 1),
        ("回复：空气炸锅坏了", "新寄来的这台用得很好，谢谢你们！", 1),
        # a problem still named in the new text, or a first mail's subject, still counts
        ("Re: Kettle not working", "Thanks, but the new base is still not working.", 2),
        ("Kettle not working", "Thank you so much for your help!", 2),
    ],
)
def test_a_reply_s_subject_names_no_problem_left(
    decide_mail: DecideMail, monkeypatch, subject, body, level
) -> None:
    monkeypatch.setattr(routing, "predict", _model_saying("service", 1, 0.7))
    decision = decide_mail(subject, body, active=SERVICE_AND_SALES)
    assert decision.urgency == level, decision.classification["urgency"]


@pytest.mark.parametrize(("probability", "level"), [(0.31, 2), (0.49, 2), (0.5, 1), (0.8, 1)])
def test_praise_the_model_is_unsure_of_is_normal(
    app, session, client, monkeypatch, probability, level
) -> None:
    """A model's 1 less likely than not is no praise: "What's the safest way to descale it?"
    was thanked and queued last at 31 %."""
    monkeypatch.setattr(routing, "predict", _model_saying("service", 1, probability))
    ticket = deliver(app, session, "Descaling?", "What's the safest way to descale it? Thanks")
    assert ticket.urgency == level
    urgency = ticket.classification["urgency"]
    assert bool(urgency.get(routing.UNSURE_PRAISE)) is (level == 2)
    if level == 2:
        assert urgency["model_label"] == 1
        agent = make_user(session)
        session.commit()
        login(client, agent.email)
        page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
        percent = f"{probability:.0%}"
        assert f"Raised to 2: the model read praise or a suggestion but was only {percent}" in page
        assert "unsure:" not in page
        client.set_cookie("lang", "zh")
        page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
        assert f"提高到 2：模型判断为表扬或建议，但只有 {percent} 把握。" in page


def test_a_keyword_emergency_is_never_lowered_for_the_model_s_doubt(decide_mail: DecideMail) -> None:
    decision = decide_mail("系统宕机", "你们的收银系统宕机了，全部门店无法结账！", active=SERVICE_AND_SALES)
    assert (decision.urgency, decision.needs_triage) == (5, False)
    assert decision.classification["urgency"]["rule"] == "宕机"


def test_an_unsure_emergency_reaches_its_team_and_triage_and_a_person_settles_it(
    app, session, client, monkeypatch
) -> None:
    monkeypatch.setattr(routing, "predict", _model_saying("service", 5, 0.46))
    ticket = deliver(app, session, "Kettle", "The kettle gets very hot on the outside.")
    assert (ticket.department.code, ticket.urgency, ticket.needs_triage) == ("service", 4, True)
    agent = make_user(session, can_triage=True)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "only 46% sure, so the ticket waits in its department at 4" in page
    assert "Lowered to 4: the model read an emergency but was only 46% sure." in page
    client.set_cookie("lang", "zh")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "只有 46% 把握" in page

    # A triager keeps it at 4 (the same level): the flag goes, and the level is learnt.
    client.post(f"/staff/tickets/{ticket.id}/urgency", data={"urgency-urgency": "4"})
    session.expire_all()
    assert (ticket.urgency, ticket.needs_triage, ticket.department.code) == (4, False, "service")
    learnt = session.scalars(select(TrainingExample).where(TrainingExample.ticket_id == ticket.id))
    assert [(e.source, e.urgency) for e in learnt] == [("triage", 4)]
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id))
    assert "ticket.urgency_confirmed" in set(actions)

    # Another is raised to 5: the flag goes as well.
    second = deliver(
        app, session, "Kettle", "The kettle smells hot.", sender="Ann <ann@example.net>"
    )
    assert second.needs_triage
    session.commit()
    client.post(f"/staff/tickets/{second.id}/urgency", data={"urgency-urgency": "5"})
    session.expire_all()
    assert (second.urgency, second.needs_triage) == (5, False)


@pytest.mark.parametrize("extra_settings", [{"CLASSIFIER_MIN_CONFIDENCE": 0.999}])
def test_setting_the_urgency_of_a_ticket_without_department_leaves_it_in_triage(
    app, session, client
) -> None:
    ticket = deliver(app, session, *SALES_QUOTE[:2])
    assert ticket.needs_triage and ticket.department_id is None
    triager = make_user(session, departments=(), can_triage=True, email="t2@example.com")
    session.commit()
    login(client, triager.email)
    client.post(f"/staff/tickets/{ticket.id}/urgency", data={"urgency-urgency": "3"})
    session.expire_all()
    assert (ticket.urgency, ticket.needs_triage) == (3, True)


def test_a_real_emergency_said_to_be_urgent_stays_an_emergency(decide_mail: DecideMail) -> None:
    decision = decide_mail("紧急！", "冷柜全部停了，货要化了", active=SERVICE_AND_SALES)
    assert decision.urgency == 5, decision.classification["urgency"]


def test_no_raise_once_we_answered_but_a_keyword_in_a_reply_still_counts(app, session) -> None:
    subject, body, _ = SALES_QUOTE
    ticket = deliver(app, session, subject, body, message_id="<q1@mail.example.net>")
    ticket.first_response_at = ticket.created_at
    session.commit()

    ticket = deliver(
        app,
        session,
        f"Re: {subject}",
        "Thanks, one more question about colours.",
        message_id="<q2@mail.example.net>",
        in_reply_to="<q1@mail.example.net>",
    )
    assert ticket.urgency == 2
    ticket = deliver(
        app,
        session,
        f"Re: {subject}",
        "The desks arrived broken and this is now an emergency.",
        message_id="<q3@mail.example.net>",
        in_reply_to="<q2@mail.example.net>",
    )
    assert ticket.urgency == 5
    assert ticket.classification["urgency"]["adjustments"] == ["rule:emergency"]


def test_the_team_is_notified_and_gets_a_copy_at_its_forward_address(app, session) -> None:
    sales = session.scalar(select(Department).where(Department.code == "sales"))
    sales.forward_address = "sales-team@lists.example.org"
    member = make_user(session, departments=("sales",), email="seller@example.com")
    session.commit()

    ticket = deliver(app, session, *SALES_QUOTE[:2])

    sent = {
        (m.kind, tuple(m.recipients))
        for m in session.scalars(select(OutboundMail).where(OutboundMail.ticket_id == ticket.id))
    }
    assert ("notification", (member.email,)) in sent
    assert ("forward", ("sales-team@lists.example.org",)) in sent
    forward = session.scalar(select(OutboundMail).where(OutboundMail.kind == "forward"))
    assert "standing desks" in mail_text(forward) and ticket.reference in mail_text(forward)
    # RFC 3834: neither answers a message, so both are auto-generated, not auto-replied.
    assert b"Auto-Submitted: auto-generated" in forward.raw
    notification = session.scalar(select(OutboundMail).where(OutboundMail.kind == "notification"))
    assert b"Auto-Submitted: auto-generated" in notification.raw
    auto_reply = session.scalar(select(OutboundMail).where(OutboundMail.kind == "auto_reply"))
    assert auto_reply is None or b"Auto-Submitted: auto-replied" in auto_reply.raw


def test_a_notification_comes_from_the_team_named_in_its_reader_s_language(app, session) -> None:
    """A Chinese notification came from "Sales" with its text in Chinese."""
    zh = make_user(session, departments=("sales",), email="xiaoshou@example.com", language="zh")
    en = make_user(session, departments=("sales",), email="seller@example.com", language="en")
    session.commit()
    ticket = deliver(app, session, *SALES_QUOTE[:2])
    sales = session.scalar(select(Department).where(Department.code == "sales"))
    senders = {}
    for mail in session.scalars(
        select(OutboundMail).where(
            OutboundMail.ticket_id == ticket.id, OutboundMail.kind == "notification"
        )
    ):
        parsed = email.message_from_bytes(mail.raw, policy=email.policy.default)
        senders[mail.recipients[0]] = parsed["From"].addresses[0].display_name
    assert senders == {zh.email: sales.name_zh, en.email: sales.display_name or sales.name}


@pytest.mark.parametrize("extra_settings", [{"CLASSIFIER_MIN_CONFIDENCE": 0.999}])
def test_a_triage_ticket_is_not_forwarded(app, session) -> None:
    for department in session.scalars(select(Department)):
        department.forward_address = f"copy-{department.code}@lists.example.org"
    session.commit()
    ticket = deliver(app, session, *SALES_QUOTE[:2])
    assert ticket.needs_triage
    assert session.scalar(select(OutboundMail).where(OutboundMail.kind == "forward")) is None


def _routed_without_model(app, session, caplog, model_path: Path) -> list[Ticket]:
    config = {**app.config, "CLASSIFIER_MODEL_PATH": str(model_path)}
    app.config.update(config)
    with caplog.at_level(logging.WARNING):
        tickets = [
            deliver(app, session, *SALES_QUOTE[:2], sender=f"c{i}@example.net") for i in range(2)
        ]
        emergency = deliver(app, session, *URGENCY_MAIL[9][:2], sender="c9@example.net")
    return [*tickets, emergency]


def test_a_corrupt_model_file_means_keyword_routing_and_one_log_line(
    app, session, caplog, tmp_path
) -> None:
    broken = tmp_path / "broken.pkl"
    broken.write_bytes(b"mailrouter-classifier\n{}\nnot a signature\n\x80\x04junk")

    first, second, emergency = _routed_without_model(app, session, caplog, broken)

    for ticket in (first, second):
        assert ticket.needs_triage and ticket.department_id is None
        assert ticket.classification["department"]["triage_reason"] == "no_model"
        assert ticket.classification["model_version"] is None
    assert emergency.urgency == 5 and emergency.classification["urgency"]["rule"] == "宕机"
    about_file = [r for r in caplog.records if str(broken) in r.getMessage()]
    assert len(about_file) == 1, [r.getMessage() for r in about_file]


def test_an_old_or_foreign_model_file_is_refused(
    app, session, caplog, tmp_path, bundle_file
) -> None:
    bundle = model_store.current_model(app.config)
    old = tmp_path / "old.pkl"
    save_bundle(
        dataclasses.replace(bundle, format_version=FORMAT_VERSION - 1), old, SECRET_KEY.encode()
    )

    first, _second, _emergency = _routed_without_model(app, session, caplog, old)
    assert first.needs_triage
    assert "format version" in caplog.text

    foreign = tmp_path / "foreign.pkl"
    save_bundle(bundle, foreign, b"another installation's key")
    assert model_store.current_model({**app.config, "CLASSIFIER_MODEL_PATH": str(foreign)}) is None
    assert "bad signature" in caplog.text


def test_a_missing_model_file_is_logged_once(app, caplog, tmp_path) -> None:
    config = {**app.config, "CLASSIFIER_MODEL_PATH": str(tmp_path / "none.pkl")}
    with caplog.at_level(logging.WARNING):
        assert model_store.current_model(config) is None
        assert model_store.current_model(config) is None
    assert len([r for r in caplog.records if "none.pkl" in r.getMessage()]) == 1


def test_a_replaced_model_file_is_picked_up_without_a_restart(app, tmp_path, bundle_file) -> None:
    path = tmp_path / "classifier.pkl"
    config = {**app.config, "CLASSIFIER_MODEL_PATH": str(path)}
    assert model_store.current_model(config) is None
    path.write_bytes(bundle_file.read_bytes())
    loaded = model_store.current_model(config)
    assert loaded is not None
    assert model_store.current_model(config) is loaded  # not read again while unchanged
    path.write_bytes(b"truncated")
    assert model_store.current_model(config) is None


def test_the_model_reads_the_new_text_not_the_quoted_history(app, session) -> None:
    lines = [
        "Dear HR team, I am applying for the junior accountant vacancy.",
        "Please find my CV attached.",
        "I look forward to the interview.",
    ]
    quoted = "\n".join(f"> {line}" for line in lines * 2)
    body = f"{SALES_QUOTE[1]}\n\nOn Monday, HR wrote:\n{quoted}\n"
    bundle = model_store.current_model(app.config)
    assert predict(bundle, "Quote", body)[0].label == "hr"  # what the whole body would say

    ticket = deliver(app, session, "Quote", body)
    assert ticket.department.code == "sales"


def test_an_answer_from_a_waiting_customer_restarts_the_paused_clock(app, session) -> None:
    subject, body, _ = SALES_QUOTE
    ticket = deliver(app, session, subject, body, message_id="<w1@mail.example.net>")
    ticket.first_response_at = ticket.created_at
    ticket.status = "waiting"
    ticket.sla_paused_at = ticket.created_at
    session.commit()

    ticket = deliver(
        app,
        session,
        f"Re: {subject}",
        "Here are the sizes you asked for.",
        message_id="<w2@mail.example.net>",
        in_reply_to="<w1@mail.example.net>",
    )

    assert ticket.status == "open"
    assert ticket.sla_paused_at is None  # the clock runs again
    assert ticket.urgency == 2  # we had answered: no raise


def test_one_sender_cannot_flood_the_team_with_notifications(app, session) -> None:
    """10 new tickets from one sender within the hour: each member gets at most
    NOTIFY_MAX_PER_SENDER_HOUR notifications, the rest are routed and audited without one;
    another sender is still notified."""
    limit = app.config["NOTIFY_MAX_PER_SENDER_HOUR"]
    assert limit == 3
    first = make_user(session, departments=("sales",), email="seller1@example.com")
    second = make_user(session, departments=("sales",), email="seller2@example.com")
    session.commit()
    subject, body = SALES_QUOTE[:2]

    tickets = [
        deliver(
            app,
            session,
            f"{subject} ({n})",
            body,
            sender="Flood <flood@example.net>",
            department_code="sales",
        )
        for n in range(10)
    ]
    other = deliver(
        app, session, subject, body, sender="Calm <calm@example.net>", department_code="sales"
    )

    assert len({t.id for t in tickets}) == 10
    assert {t.department.code for t in [*tickets, other]} == {"sales"}
    notifications = session.scalars(
        select(OutboundMail).where(OutboundMail.kind == "notification").order_by(OutboundMail.id)
    ).all()
    flood_ids = {t.id for t in tickets}
    for member in (first, second):
        mine = [m for m in notifications if m.recipients == [member.email]]
        assert len([m for m in mine if m.ticket_id in flood_ids]) == limit
        assert [m.ticket_id for m in mine if m.ticket_id == other.id] == [other.id]
    notified = {m.ticket_id for m in notifications if m.ticket_id in flood_ids}
    assert notified == {t.id for t in tickets[:limit]}
    last = next(m for m in notifications if m.ticket_id == tickets[limit - 1].id)
    assert "摘要邮件" in mail_text(last)  # staff read Chinese by default
    assert "摘要邮件" not in mail_text(notifications[0])
    suppressed = session.scalars(
        select(AuditEvent.ticket_id).where(AuditEvent.action == "notification_suppressed")
    ).all()
    assert sorted(suppressed) == sorted(t.id for t in tickets[limit:])

    # The suppressed tickets are not lost on the team: one digest per member lists them all,
    # once the sender's first un-notified ticket is NOTIFY_DIGEST_MINUTES old, and only once.
    with app.app_context():
        assert send_digests(session, app.config) == 0  # still collecting
        later = utcnow() + timedelta(minutes=app.config["NOTIFY_DIGEST_MINUTES"] + 1)
        assert send_digests(session, app.config, now=later) == 1
        session.commit()
        assert send_digests(session, app.config, now=later + timedelta(minutes=30)) == 0
    digests = session.scalars(
        select(OutboundMail).where(OutboundMail.kind == "notification_digest")
    ).all()
    assert sorted(m.recipients[0] for m in digests) == sorted([first.email, second.email])
    text = mail_text(digests[0])
    assert all(t.reference in text for t in tickets[limit:])
    names = {2: "一般", 3: "特殊问题", 4: "重要", 5: "紧急"}  # each listed with its level's name
    assert all(f"紧急程度 {t.urgency} · {names[t.urgency]}" in text for t in tickets[limit:])
    assert not any(t.reference in text for t in tickets[:limit]) and other.reference not in text
    assert "flood@example.net" in digests[0].subject


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_the_model_and_the_faq_are_read_before_the_write_transaction(
    app, session, monkeypatch
) -> None:
    """Finding 1 of the hardening review: classification and FAQ matching cost time in
    proportion to the mail, and used to run while the worker held the write lock. They now run
    before it opens; the ticket is routed and answered exactly as in place."""
    from faq import matching
    from faq.importexport import import_articles
    from mailrouter.intake import worker as worker_module
    from mailrouter.outbound import autoreply

    with app.app_context():
        import_articles(session, json.loads(DEMO_FAQ.read_text(encoding="utf-8")))
        session.commit()
    writing = [False]
    calls: list[tuple[str, bool]] = []
    real_process_some = worker_module.Worker._process_some
    real_predict, real_answers_for = routing.predict, matching.answers_for

    def process_some(self, *args, **kwargs):
        writing[0] = True
        try:
            return real_process_some(self, *args, **kwargs)
        finally:
            writing[0] = False

    def spy(name, real):
        def call(*args, **kwargs):
            calls.append((name, writing[0]))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(worker_module.Worker, "_process_some", process_some)
    monkeypatch.setattr(routing, "predict", spy("predict", real_predict))
    monkeypatch.setattr(autoreply, "answers_for", spy("answers_for", real_answers_for))

    subject, body = "Refund", "How long does a refund take to reach my bank account?"
    ticket = deliver(app, session, subject, body)

    assert ("predict", False) in calls and ("answers_for", False) in calls
    assert all(not during_write for _name, during_write in calls), calls
    department, _urgency = real_predict(model_store.current_model(app.config), subject, body)
    assert ticket.classification["department"]["label"] == department.label
    queued = session.scalar(select(AuditEvent).where(AuditEvent.action == "auto_reply_queued"))
    with app.app_context():
        expected = real_answers_for(session, f"{subject}\n{body}", "en")
    assert expected and queued.data["faq_article_ids"] == [m.article_id for m in expected]


def test_a_huge_body_is_routed_on_its_start(app, session) -> None:
    """A 10 MB body costs routing no more than its first MAX_BODY_CHARS characters."""
    from mailrouter.routing.features import MAX_BODY_CHARS
    from mailrouter.routing.features import mail_text as routing_text

    subject, body, department = SALES_QUOTE
    assert len(routing_text(subject, body + " filler" * 2_000_000)) <= MAX_BODY_CHARS + 1001
    ticket = deliver(app, session, subject, body + "\n\n" + "log line 12345\n" * 60_000)
    assert ticket.department.code == department


@pytest.mark.parametrize(
    ("subject", "body"),
    [("asdf", "asdf qwer zxcv"), ("xx", "Lorem ipsum dolor sit amet consectetur"), ("乱码", "锟斤拷烫烫烫")],
)
def test_mail_of_words_the_model_never_saw_goes_to_triage(app, session, subject, body) -> None:
    """"asdf qwer zxcv" used to reach HR at 62%: probabilities always sum to one."""
    ticket = deliver(app, session, subject, body)
    department = ticket.classification["department"]
    assert ticket.needs_triage and ticket.department is None
    assert department["triage_reason"] == "unfamiliar_text"
    assert department["known_words"][0] < 2


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("hi", "hi"),  # was PR at 0.458, just over the 0.45 cut
        ("在吗", "在吗？"),  # was customer service at 0.59
        ("Good morning", "Good morning."),  # was PR at urgency 5
        ("", "Hello,\n\nJohn Smith\nPurchasing Manager\nAcme Trading Ltd\nTel: +44 20 7946 0958"),
        ("附件", "详见附件，谢谢！\n\n王芳"),
        ("", ""),  # a photo alone: the model read our "(no text)", service at 0.87 on "no text"
        # swaks's own test mail, a new admin's first: it was Sales at urgency 4 (84 %).
        ("test Mon, 07 Dec 2026 10:43:21 +0000", "This is a test mailing\n\n"),
    ],
)
def test_a_mail_that_says_nothing_waits_in_triage(app, session, client, subject, body) -> None:
    ticket = deliver(app, session, subject, body)
    department = ticket.classification["department"]
    assert ticket.needs_triage and ticket.department is None
    assert department["triage_reason"] == routing.SAYS_NOTHING
    assert department["label"]  # the model's guess stays for the person who triages
    assert ticket.urgency == 2 and ticket.classification["urgency"]["source"] == "default"
    triager = make_user(
        session, role="agent", departments=(), can_triage=True, email="triage@example.com"
    )
    session.commit()
    login(client, triager.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "the mail says nothing to route it by" in page


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",  # was HR at 0.77 on "alert"
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        '<img src=x onerror="alert(document.cookie)"><b></b>',
    ],
)
def test_markup_alone_is_routed_as_a_mail_of_no_words_and_shown_escaped(
    app, session, client, body
) -> None:
    ticket = deliver(app, session, "", body)
    department = ticket.classification["department"]
    assert ticket.needs_triage and ticket.department is None
    assert department["triage_reason"] == routing.SAYS_NOTHING
    assert ticket.urgency == 2 and ticket.classification["urgency"]["source"] == "default"
    admin = make_user(session, role="admin", email="admin@example.com")
    session.commit()
    login(client, admin.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "alert(" in page  # the customer's text is there, as text


@pytest.mark.parametrize(
    ("subject", "body", "chosen", "department"),
    [
        ("hi", "hi, my kettle stopped heating and the light stays off", None, "service"),
        ("Invoice", "see attached", None, "finance"),
        ("在吗", "在吗？我想批量采购100台空气净化器，有优惠吗", None, "sales"),
        ("hi", "hi", "sales", "sales"),  # to a department's own address: it stays there
    ],
)
def test_a_greeting_with_something_said_or_to_a_department_is_routed_as_ever(
    app, session, subject, body, chosen, department
) -> None:
    ticket = deliver(app, session, subject, body, department_code=chosen)
    assert not ticket.needs_triage and ticket.department.code == department


@pytest.mark.parametrize(
    ("subject", "body", "word"),
    [
        ("Missed appointments", "The technician missed the appointment again. I want to file a formal complaint.", "formal complaint"),
        ("投诉", "你们的客服一再推脱，问题拖了一个月都没解决，我要投诉。", "投诉"),
    ],
)
def test_a_complaint_in_mail_gets_the_complaint_steps_and_deadline(
    app, session, subject, body, word
) -> None:
    ticket = deliver(app, session, subject, body)
    assert (ticket.kind, ticket.complaint_complexity) == ("complaint", "general")
    assert ticket.classification["complaint"] == word
    assert ticket.complaint_due_at > ticket.created_at + timedelta(days=2)  # 3 working days
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ticket.complaint"))
    assert event.ticket_id == ticket.id and word in event.data["reason"]


def test_a_question_is_no_complaint(app, session) -> None:
    ticket = deliver(app, session, "Question", "This is not a complaint: when do you open?")
    assert ticket.kind is None and ticket.complaint_due_at is None


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Opening hours", "This is not urgent, but could you tell me the opening hours of your Shanghai showroom?"),
        ("营業時間", "不急，有空再回：請問你們上海展廳週末營業嗎？"),  # Traditional, as the model reads it too
    ],
)
def test_the_model_itself_reads_no_hurry(bundle_file, subject, body) -> None:
    """Not only the rules: "not urgent" is one feature for the model, not "urgent"."""
    from mailrouter.routing.classifier import load_bundle
    from mailrouter.routing.features import NO_HURRY_TOKEN, tokenize

    assert NO_HURRY_TOKEN in tokenize(body) and "urgent" not in tokenize(body)
    bundle = load_bundle(bundle_file, SECRET_KEY.encode())
    _department, urgency = predict(bundle, subject, body, urgency_rules=None)
    assert int(urgency.label) <= 2


def test_a_mail_without_a_subject_is_read_without_the_placeholder(app, session) -> None:
    """The ticket's "(no subject)" is ours, not the customer's: its "no" sent short product
    questions to HR. The model reads what it would read of an empty subject."""
    body = "Hi, does the 1.5L rice cooker have a keep-warm function? And can I steam vegetables in it?"
    ticket = deliver(app, session, "", body)
    assert ticket.subject == routing.NO_SUBJECT
    text = routing.customer_text(ticket.messages[0].new_text, ticket.messages[0].body_text)
    bundle = model_store.current_model(app.config)
    unread, _u = predict(bundle, "", text)
    placeholder, _u = predict(bundle, routing.NO_SUBJECT, text)
    assert round(float(unread.probability), 4) != round(float(placeholder.probability), 4)
    assert ticket.classification["department"]["probability"] == round(float(unread.probability), 4)
    decision = routing.decide(
        routing.NO_SUBJECT, text, config=app.config, bundle=bundle, active_codes={"service", "sales", "pr", "hr", "finance"}
    )
    assert decision.classification["department"]["probability"] == round(float(unread.probability), 4)


def test_the_senders_own_name_is_never_shown_as_a_deciding_word() -> None:
    """A name the signature reading missed may still weigh in the model; staff are not shown it."""
    config = {"CLASSIFIER_MIN_CONFIDENCE": 0.45}
    text = "My kettle stopped heating. Regards from Carol"
    made = routing.MailPrediction(
        "Kettle",
        text,
        None,
        Prediction("service", 0.9, ["carol", "kettle", "heating"]),
        Prediction(2, 0.8, ["Carol", "stopped"]),
    )
    decision = routing.decide(
        "Kettle",
        text,
        config=config,
        bundle=None,
        active_codes={"service"},
        prediction=made,
        sender_name="Carol Smith",
    )
    assert decision.classification["department"]["reasons"] == ["kettle", "heating"]
    assert decision.classification["urgency"]["reasons"] == ["stopped"]


@pytest.mark.parametrize(
    ("body", "question"),
    [
        ("Hi, just testing: how long does delivery take to Shanghai?", "how long"),
        ("謝謝你們！請問在哪裡可以買到濾網？", "在哪"),
        # suggestions ask as wishes, and praise exclaims: still thanked
        ("Love the app! Could you add a dark mode?", None),
        ("你们的客服怎么这么好！谢谢！", None),
        ("Great lamp. What do you think about a smaller one?", None),
    ],
)
def test_a_mail_the_model_calls_praise_but_that_asks_a_question_is_normal(
    app, session, client, monkeypatch, body, question
) -> None:
    """A first tester's "just testing: how long does delivery take to Shanghai?" was read as
    praise (53 %): thanked for its kind words, queued last, offered no FAQ answer."""
    monkeypatch.setattr(routing, "predict", _model_saying("service", 1, 0.61))
    ticket = deliver(app, session, "Testing the desk", body)
    urgency = ticket.classification["urgency"]
    assert ticket.urgency == (2 if question else 1), urgency
    assert urgency.get("question") == question
    if question:
        assert urgency["model_label"] == 1 and urgency["reasons"][0] == f"question: {question}"
        agent = make_user(session)
        session.commit()
        login(client, agent.email)
        page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
        assert f"Raised to 2: the mail asks a question (“{question}”), so it is no praise" in page
        assert "question:" not in page
        client.set_cookie("lang", "zh")
        page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
        assert f"提高到 2：邮件在提问（“{question}”），不算表扬" in page


@pytest.mark.parametrize(
    ("level", "body", "decided", "kind"),
    [
        (3, "My card was charged twice for order 6120. Please refund the duplicate immediately.", 4, "money_pressed"),
        (3, "My card was charged twice for order 6120. Please refund the duplicate.", 3, None),
        (3, "请帮我们开具订单 8812 的增值税专用发票，抬头：厦门海风文具有限公司。", 2, "invoice_paperwork"),
        (4, "Please send me a copy of all personal data you hold about me.", 3, "privacy_request"),
    ],
)
def test_a_kind_of_mail_has_its_own_level_whatever_the_model_read(
    decide_mail: DecideMail, monkeypatch, level, body, decided, kind
) -> None:
    """Thirtieth session, sets 1-13: 9 double charges pressed for ("refund the duplicate
    immediately", "请尽快退给我") were decided 3 where the desk's levels say money at stake is 4;
    8 requests for a VAT invoice were 3 (a specialist) instead of routine 2; 3 personal-data
    requests 4 (a complaint) instead of a privacy specialist's 3."""
    monkeypatch.setattr(routing, "predict", _model_saying("finance", level, 0.62))
    decision = decide_mail("Order", body, active=SERVICE_AND_SALES)
    urgency = decision.classification["urgency"]
    assert decision.urgency == decided, urgency
    assert urgency.get("matter") == kind
    if kind:
        assert urgency["model_label"] == level
        assert urgency["reasons"][0].startswith("matter: ")


def test_a_keyword_rule_is_not_moved_by_the_kind_of_mail(decide_mail: DecideMail) -> None:
    """A rule's level stands: a refund chased as not received is 4 by its keyword."""
    decision = decide_mail("Refund", "Refund not received yet for order 5512, please refund me immediately.", active=SERVICE_AND_SALES)
    urgency = decision.classification["urgency"]
    assert (decision.urgency, urgency["source"], urgency.get("matter")) == (4, "rules", None)


@pytest.mark.parametrize(
    ("body", "probability", "level"),
    [
        # praise that says so, of staff who helped with a problem: the problem is the story
        ("想表扬一下客服小李：上周我的咖啡机坏了，她耐心帮我查保修，第二天就寄来了新配件。", 0.9, 1),
        ("I want to praise your agent Tom. My dryer was broken and he booked the repair in five minutes. Great service!", 0.88, 1),
        # the model less sure, or no praise word: the problem word still makes it normal
        ("想表扬一下客服小李：上周我的咖啡机坏了，她耐心帮我查保修，第二天就寄来了新配件。", 0.7, 2),
        ("Lovely staff. My dryer was broken and the repair is booked.", 0.9, 2),
    ],
)
def test_praise_the_model_is_sure_of_that_names_itself_praise_stays_praise(
    decide_mail: DecideMail, monkeypatch, body, probability, level
) -> None:
    """Thirtieth session, sets 1-13: three mails praising a named agent (表扬, 点赞) were
    raised to 2 for the problem the agent had solved ("遥控器坏了", "出问题", "退货"), told
    without a solving word; the model read praise at 88-92 %, and no mail rightly raised from
    a model's 1 was read above 77 %."""
    monkeypatch.setattr(routing, "predict", _model_saying("service", 1, probability))
    decision = decide_mail("Feedback", body, active=SERVICE_AND_SALES)
    assert decision.urgency == level, decision.classification["urgency"]


@pytest.mark.parametrize(
    ("level", "subject", "body", "decided", "english", "chinese"),
    [
        (1, "Feedback", "非常满意你们的服务！不過洗碗機的門關不嚴。", 2,
         "Raised to 2: the mail names a problem (“不過”), so it is no praise",
         "提高到 2：邮件提到了问题（“不過”），不算表扬（模型判断为 1）。"),
        (3, "重複扣款", "信用卡被刷了兩次，請盡快把多扣的錢退給我。", 4,
         "Raised to 4: the customer presses for their money (“盡快”); the model said 3.",
         "提高到 4：客户催促退回自己的钱（“盡快”）；模型判断为 3。"),
        (3, "發票", "麻煩幫我們補開發票，統一編號 12345678。", 2,
         "Lowered to 2: “發票” marks routine work",
         "降为 2：“發票”说明这是日常工作"),
        # thirty-fourth session: the new kinds, and a press danger story due today
        (3, "赞助", "您好，我们学校办运动会，想请贵公司赞助几台小家电作为抽奖奖品。", 2,
         "Lowered to 2: a sponsorship or donation asked for (“赞助”) is routine PR work",
         "降为 2：请求赞助或捐赠（“赞助”）属于公关日常工作"),
        (2, "Analyst question", "I'm an analyst; could you share your revenue growth and plans for next year?", 3,
         "Set to 3: “analyst” marks a specialist",
         "定为 3：“analyst”说明这需要专员处理"),
        (4, "記者求證", "您好，我是記者。讀者反映貴司奶粉有異物，稿件今晚發出，請兩小時內回應。", 5,
         "Raised to 5: a press story about a danger (“異物”) is due today",
         "提高到 5：关于危险的媒体报道（“異物”）今天截稿"),
    ],
)
def test_the_ticket_page_says_why_the_model_s_level_was_moved(
    app, session, client, monkeypatch, level, subject, body, decided, english, chinese
) -> None:
    monkeypatch.setattr(routing, "predict", _model_saying("service", level, 0.61))
    ticket = deliver(app, session, subject, body)
    assert ticket.urgency == decided
    agent = make_user(session)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert english in page
    assert "matter:" not in page
    client.set_cookie("lang", "zh")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert chinese in page


def test_the_ticket_page_says_why_the_department_was_moved(
    app, session, client, monkeypatch
) -> None:
    """Thirty-fourth session: a customer's personal-data request the model sent to HR goes to
    customer service, and the page says why, in both languages."""
    monkeypatch.setattr(routing, "predict", _model_saying("hr", 3, 0.8))
    ticket = deliver(
        app, session, "個資", "請提供貴公司保存的我的個人資料副本，包括訂單紀錄。"
    )
    assert ticket.department.code == "service"
    agent = make_user(session)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Sent to customer service: a customer" in page
    assert "own personal data (“個資”) is for its privacy specialist" in page
    client.set_cookie("lang", "zh")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "转给客户服务部：客户本人的个人信息（“個資”）" in page


def test_the_forwarded_copy_shows_an_internationalized_domain_as_written(app, session) -> None:
    sales = session.scalar(select(Department).where(Department.code == "sales"))
    sales.forward_address = "sales-team@lists.example.org"
    session.commit()
    deliver(app, session, *SALES_QUOTE[:2], sender="lilei@xn--fsqu00a.xn--55qx5d")
    forward = session.scalar(select(OutboundMail).where(OutboundMail.kind == "forward"))
    assert "lilei@例子.公司" in mail_text(forward) and "xn--" not in mail_text(forward)
