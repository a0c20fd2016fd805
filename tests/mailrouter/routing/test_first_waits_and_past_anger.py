# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-third session, a colleague trying the product as a customer: a question about member
points not yet credited and a kettle "from 5 days ago" that "still has not arrived" were
routed 4 (an answer promised within 4 hours); `docs/urgency-levels.md` has both at 2. The
waiting words ("still has not arrived", "still haven't received") counted in a first question
asking where the goods are; only "how long does it usually take" and "could you check" kept
them out. And a thank-you that tells an anger of the past ("I was honestly pretty annoyed
when it stopped") was no praise: the angry word counted as a problem left."""

from __future__ import annotations

import pytest

from mailrouter.routing import decisions as routing
from mailrouter.routing.classifier import Prediction
from mailrouter.routing.urgency_rules import match_problem, match_urgency_rules

# fmt: off
# The colleague's two mails, then the same questions in the words the rules read as a chase.
FIRST_QUESTIONS = [
    ("Member points", "Hi, I bought a kettle last week but my member points haven't shown up in my account yet. Can you check? Thanks"),
    ("Where is my kettle?", "My kettle order from 5 days ago still hasn't arrived, can you tell me where it is?"),
    ("Where is my kettle?", "My kettle order from 5 days ago still has not arrived, can you tell me where it is?"),
    ("Kettle", "My kettle order from 5 days ago has still not arrived. Where is it?"),
    ("Kettle order", "I still haven't received my kettle order from 5 days ago, can you tell me when it will arrive?"),
    ("退款", "退货三天前签收了，退款还没到账，请问什么时候能到？"),
]

CHASED_WAITS = [
    ("Kettle", "This is the second time I am asking: my kettle order from three weeks ago still has not arrived. Where is it?"),
    ("Kettle", "My kettle still has not arrived although you promised it for Monday. Can you tell me where it is?"),
    ("退款", "退货两周前就签收了，退款还没到账，已经问过两次了，请问什么时候能到？"),
]
# fmt: on


@pytest.mark.parametrize(("subject", "body"), FIRST_QUESTIONS)
def test_a_first_question_where_the_goods_are_is_normal(decide_mail, subject, body) -> None:
    decision = decide_mail(subject, body)
    assert decision.urgency == 2, decision.classification["urgency"]


@pytest.mark.parametrize(("subject", "body"), CHASED_WAITS)
def test_a_wait_chased_or_overdue_stays_important(decide_mail, subject, body) -> None:
    hit = match_urgency_rules(f"{subject}\n{body}")
    assert hit is not None and hit.level == 4, hit


@pytest.mark.parametrize(
    "text",
    [
        "I was honestly pretty annoyed when it stopped, but you sorted it out quickly.",
        "I was frustrated at first but your team fixed it fast.",
        "We were initially a little bit annoyed at first, but the engineer was great.",
        "当时真的挺烦死的，不过师傅很快就弄好了。",
    ],
)
def test_an_anger_told_as_past_is_no_problem_left(text) -> None:
    assert match_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("I am annoyed, the app logs me out every day.", "annoyed"),
        ("This is so frustrating.", "frustrating"),
        ("I was annoyed and it still doesn't work.", "doesn't work"),
    ],
)
def test_an_anger_now_is_still_a_problem(text, problem) -> None:
    assert match_problem(text) == problem


def _unsure_praise_model(bundle, subject, body, urgency_rules=None):
    return Prediction("service", 0.9, ["kettle"]), Prediction(1, 0.7, ["thank", "again"])


def test_a_thank_you_that_tells_a_past_anger_is_praise(decide_mail, monkeypatch) -> None:
    """The colleague's "Kettle working again - thank you Amy": a model's 1, not sure enough to
    pass a problem word, was made 2 by "annoyed" told in the past."""
    monkeypatch.setattr(routing, "predict", _unsure_praise_model)
    decision = decide_mail(
        "Kettle working again - thank you Amy",
        "Hi Amy,\n\nthe kettle works again after your tip. I was honestly pretty annoyed when it stopped, but you sorted it out in no time. Thank you!\n\nLi",
    )
    assert decision.urgency == routing.PRAISE_LEVEL, decision.classification["urgency"]
