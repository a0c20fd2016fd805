# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-third session: a complaint is never praise, and an angry chase on an open ticket is
important.

"Your app logs me out every time I open it, this is so annoying, please fix it" was thanked as
praise (the model's 1 at 0.51-0.55 on "app", "fix", "open"): the angry words stopped being
urgency keywords in the thirty-second session, and with them they stopped keeping a model's 1
from being praise; "please fix" was no problem word either."""

from __future__ import annotations

import pytest

from mailrouter.routing import decisions as routing
from mailrouter.routing.classifier import Prediction
from mailrouter.routing.urgency_rules import match_angry_chase, match_problem

# fmt: off
# Written for these tests; none is in the bootstrap CSV or a realistic set.
APP_COMPLAINTS = [
    ("Your app", "Your app logs me out every time I open it, this is so annoying, please fix it"),
    ("App", "Your app logs me out every time I open it. Please fix it."),
    ("App keeps logging me out", "Hi,\n\nEvery single time I open your app it has logged me out again and I have to type my password. Really annoying. Please fix this.\n\nMark"),
    ("你们的App", "你们的App每次打开都要重新登录，烦死了，请修复一下。"),
    ("App 登出", "你們的App每次打開都要重新登入，真的很煩，請修好它。"),
]
# fmt: on


@pytest.mark.parametrize(("subject", "body"), APP_COMPLAINTS)
def test_a_complaint_about_a_fault_is_never_praise(decide_mail, subject, body) -> None:
    decision = decide_mail(subject, body)
    assert decision.urgency != routing.PRAISE_LEVEL, decision.classification["urgency"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("The new menu is so annoying to use.", "annoying"),
        ("这个新界面真的烦死了。", "烦死"),
        ("The app logs me out every time. Please fix it.", "please fix"),
        ("App每次打开都要重新登录，请修复一下。", "请修复"),
        ("App每次打開都要重新登入，請修好它。", "请修好"),
    ],
)
def test_anger_and_a_request_to_fix_are_problems_left(text, problem) -> None:
    assert match_problem(text) == problem


@pytest.mark.parametrize(
    "text",
    [
        "Not annoying at all, the new menu is lovely.",
        "Your engineer fixed it in ten minutes, thank you!",
        "师傅十分钟就修好了，谢谢！",
    ],
)
def test_no_anger_and_a_fix_done_are_no_problem(text) -> None:
    assert match_problem(text) is None


def _praise_model(bundle, subject, body, urgency_rules=None):
    return Prediction("service", 0.9, ["app"]), Prediction(1, 0.7, ["app", "fix"])


def test_a_model_s_praise_with_an_angry_word_is_normal(decide_mail, monkeypatch) -> None:
    monkeypatch.setattr(routing, "predict", _praise_model)
    decision = decide_mail("Your app", "The app is ridiculous, it forgets my settings.")
    urgency = decision.classification["urgency"]
    assert decision.urgency == 2, urgency
    assert urgency["problem"] == "ridiculous"


@pytest.mark.parametrize(
    ("text", "chase"),
    [
        ("This is ridiculous, still nothing.", "still nothing"),
        ("Absolutely unacceptable. Two days and no reply from anyone.", "no reply"),
        ("这太离谱了，还是没人回", "还是没"),
        ("這也太離譜了吧，到現在還是沒下文。", "还是没"),
        ("搞什么啊，一个星期了都没消息。", "都没"),
    ],
)
def test_an_angry_chase_is_found(text, chase) -> None:
    assert match_angry_chase(text) == chase


@pytest.mark.parametrize(
    "text",
    [
        "Still nothing? Could you let me know when someone can come?",  # calm
        "The leak is ridiculous, the floor is soaked each time.",  # anger, no chase
        "I tried the reset, still nothing happens when I press the button.",
        "还是没收到，麻烦再帮我查一下。",
        "It's not ridiculous, but still nothing has come.",  # the anger denied
    ],
)
def test_a_calm_chase_or_anger_alone_is_no_angry_chase(text) -> None:
    assert match_angry_chase(text) is None
