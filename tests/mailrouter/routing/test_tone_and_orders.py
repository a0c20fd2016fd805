# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-second session: an order placed and awaited is customer service's, a first question
about a late delivery is normal (2), and an angry word alone ("ridiculous", "annoying", "荒谬")
makes no mail important: tone is no fact (`docs/urgency-levels.md`). A real escalation told in
the same words (a third report, a broken promise, a threat to leave) stays important."""

from __future__ import annotations

import pytest

from mailrouter.routing import decisions as routing
from mailrouter.routing.labels import Prediction
from mailrouter.routing.urgency_rules import match_tone, match_urgency_rules, without_tone

# fmt: off
# Written for these tests; none is in the bootstrap CSV or a realistic set.
ORDERS_AWAITED = [
    ("Order status", "Hello,\n\nI placed an order on Friday (order 48213) for a toaster. When will it arrive?\n\nThanks,\nTom"),
    ("Order status", "I placed an order on Friday. When will it arrive?"),
    ("Order confirmation never came", "Hello, I ordered a coffee machine yesterday and paid by card, but I never received an order confirmation email. Did the order go through?"),
]

LATE_DELIVERIES = [
    ("水壶", "一周前下单买的烧水壶，到现在都没到，等了好久了。请尽快告诉我什么时候发货。"),
    ("水壶延误", "我一周前订了电水壶，物流显示延误，到今天还没收到。请问能不能尽快安排？"),
    ("水壶一直没到", "一个礼拜前订的电热水壶，到现在一直没到货，请问是怎么回事？"),
    ("Re: 订单", "我的水壶一个星期了还没有到，怎么回事？荒谬！"),
]

MILD_FRUSTRATION = [
    ("RIDICULOUS delivery time", "Your website said 2-3 days. It's now day 5 and the kettle is still 'in transit'. Frankly ridiculous. Where is it?"),
    ("Delivery time", "Hi, this is ridiculous, I have been waiting for the charger I ordered for four days. Can you tell me when it ships?\nJane"),
    ("说明书", "真是荒谬，说明书里居然没有中文的清洗步骤。请问咖啡机的除垢应该怎么做？"),
    ("盒子压坏了", "太过分了！买来送人的电饭煲，外箱角压扁了一块，东西倒是能用。以后包装能不能用心一点？"),
]

REAL_ESCALATIONS = [
    ("Third time asking", "This is ridiculous. This is the third time I am writing about my broken dishwasher and nobody has called back. If I hear nothing by Friday I will cancel my contract."),
    ("Engineer never came", "Unacceptable. The engineer you promised for Monday never came, I took the day off work for nothing, and we have had no hot water for five days now."),
    ("太荒谬了", "太荒谬了！洗衣机修了三次还是漏水，每次都说换零件，再不给我换新机我就去消协投诉。"),
]
# fmt: on


@pytest.mark.parametrize(("subject", "body"), ORDERS_AWAITED)
def test_an_order_placed_and_awaited_goes_to_customer_service(decide_mail, subject, body) -> None:
    """The mail "I placed an order on Friday ... when will it arrive?" went to Sales (0.50 on
    "order", "arrive", "friday"): the customer bought already; where it is, is service's."""
    decision = decide_mail(subject, body)
    assert decision.department_code == "service", decision.classification["department"]
    assert decision.urgency == 2, decision.classification["urgency"]


@pytest.mark.parametrize(("subject", "body"), LATE_DELIVERIES)
def test_a_first_question_about_a_late_delivery_is_normal(decide_mail, subject, body) -> None:
    """A kettle ordered a week ago and not come, asked about once, pressed or not ("尽快"):
    nothing lost, no deadline, so 2 (docs/urgency-levels.md). It was 4."""
    decision = decide_mail(subject, body)
    assert decision.department_code == "service", decision.classification["department"]
    assert decision.urgency == 2, decision.classification["urgency"]


@pytest.mark.parametrize(("subject", "body"), MILD_FRUSTRATION)
def test_an_angry_word_alone_makes_no_mail_important(decide_mail, subject, body) -> None:
    decision = decide_mail(subject, body)
    assert decision.urgency == 2, decision.classification["urgency"]


@pytest.mark.parametrize(("subject", "body"), REAL_ESCALATIONS)
def test_a_real_escalation_in_angry_words_stays_important(decide_mail, subject, body) -> None:
    decision = decide_mail(subject, body)
    assert decision.urgency == 4, decision.classification["urgency"]


@pytest.mark.parametrize(
    "text",
    [
        "Frankly ridiculous. Where is my parcel?",
        "ABSOLUTELY UNACCEPTABLE PACKAGING, the box has a dent.",
        "I'm fed up with the app logging me out.",
        "包装怎么搞的！太过分了！箱子角压扁了。",
        "你们这物流也太离谱了吧，四天还没到。",
    ],
)
def test_an_angry_word_is_no_urgency_keyword(text) -> None:
    hit = match_urgency_rules(text)
    assert hit is None or hit.level < 4, hit
    assert match_tone(text) is not None


def test_tone_words_are_blanked_for_the_second_reading() -> None:
    assert "ridiculous" not in without_tone("This is RIDICULOUS, where is it?")
    assert "荒谬" not in without_tone("真是荒谬，什么时候到？")
    assert match_tone("This is not ridiculous at all, just a question.") is None


def _tone_reading_model(bundle, subject, body, urgency_rules=None):
    """A model that reads an angry word as important and the rest as normal."""
    text = f"{subject} {body}".casefold()
    level = 4 if "ridiculous" in text or "荒谬" in text else 2
    return Prediction("service", 0.9, ["parcel"]), Prediction(level, 0.8, ["ridiculous"])


def _important_model(bundle, subject, body, urgency_rules=None):
    return Prediction("service", 0.9, ["engineer"]), Prediction(4, 0.8, ["never", "came"])


def test_a_4_resting_on_an_angry_word_alone_is_the_level_of_the_rest(
    decide_mail, monkeypatch
) -> None:
    """Like the customer's own "urgent" (a claim), an angry word is tone: the model's 4 that
    goes when the word goes was the word's."""
    monkeypatch.setattr(routing, "predict", _tone_reading_model)
    decision = decide_mail("Parcel", "Frankly ridiculous. Where is my parcel?")
    urgency = decision.classification["urgency"]
    assert decision.urgency == 2, urgency
    assert (urgency["tone"], urgency["model_label"]) == ("ridiculous", 4)
    assert urgency["reasons"][0] == "tone: ridiculous"


def test_a_4_the_rest_of_the_mail_holds_stays_4(decide_mail, monkeypatch) -> None:
    monkeypatch.setattr(routing, "predict", _important_model)
    decision = decide_mail("Engineer", "Ridiculous. The engineer you promised never came.")
    urgency = decision.classification["urgency"]
    assert decision.urgency == 4, urgency
    assert "tone" not in urgency


def _emergency_tone_model(bundle, subject, body, urgency_rules=None):
    """A model that reads shouting as an emergency and the rest as normal (set 17 line 51:
    "ABSOLUTELY UNACCEPTABLE" over a dented box, the model's 5 at 0.33)."""
    text = f"{subject} {body}".casefold()
    level = 5 if "unacceptable" in text or "太过分" in text else 2
    return Prediction("service", 0.9, ["box"]), Prediction(level, 0.6, ["unacceptable"])


def _fire_model(bundle, subject, body, urgency_rules=None):
    return Prediction("service", 0.9, ["smoke"]), Prediction(5, 0.8, ["smoke", "socket"])


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "ABSOLUTELY UNACCEPTABLE",
            "This is ABSOLUTELY UNACCEPTABLE!!! The box of my fan has a huge dent. The fan works.",
        ),
        ("太过分了", "太过分了！风扇的外箱被压扁了一大块，风扇倒是能用。"),
    ],
)
def test_a_5_resting_on_an_angry_word_alone_is_the_level_of_the_rest(
    decide_mail, monkeypatch, subject, body
) -> None:
    """Thirty-fourth session: tone is no fact at 5 either; the model's emergency that goes
    when the angry words go was theirs."""
    monkeypatch.setattr(routing, "predict", _emergency_tone_model)
    decision = decide_mail(subject, body)
    urgency = decision.classification["urgency"]
    assert decision.urgency == 2, urgency
    assert urgency["model_label"] == 5 and urgency["tone"]
    assert not decision.needs_triage


def test_a_5_the_rest_of_the_mail_holds_stays_5(decide_mail, monkeypatch) -> None:
    monkeypatch.setattr(routing, "predict", _fire_model)
    decision = decide_mail("Unacceptable", "Unacceptable! Smoke is coming out of the heater.")
    urgency = decision.classification["urgency"]
    assert decision.urgency == 5, urgency
    assert "tone" not in urgency
