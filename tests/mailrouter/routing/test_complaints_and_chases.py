# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-third session: a complaint is never praise, and an angry chase on an open ticket is
important.

"Your app logs me out every time I open it, this is so annoying, please fix it" was thanked as
praise (the model's 1 at 0.51-0.55 on "app", "fix", "open"): the angry words stopped being
urgency keywords in the thirty-second session, and with them they stopped keeping a model's 1
from being praise; "please fix" was no problem word either."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailrouter.routing import decisions as routing
from mailrouter.routing import model_store
from mailrouter.routing.classifier import Prediction
from mailrouter.routing.urgency_rules import match_problem

ACTIVE = {"service", "sales", "finance", "hr", "pr"}


@pytest.fixture
def app_settings(bundle_file: Path) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file)}


def _decided(app, subject: str, body: str) -> routing.RoutingDecision:
    bundle = model_store.current_model(app.config)
    return routing.decide(subject, body, config=app.config, bundle=bundle, active_codes=ACTIVE)


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
def test_a_complaint_about_a_fault_is_never_praise(app, subject, body) -> None:
    decision = _decided(app, subject, body)
    assert decision.urgency == 2, decision.classification["urgency"]
    assert decision.department_code == "service", decision.classification["department"]


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


def test_a_model_s_praise_with_an_angry_word_is_normal(app, monkeypatch) -> None:
    monkeypatch.setattr(routing, "predict", _praise_model)
    decision = _decided(app, "Your app", "The app is ridiculous, it forgets my settings.")
    urgency = decision.classification["urgency"]
    assert decision.urgency == 2, urgency
    assert urgency["problem"] == "ridiculous"
