# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-fourth session: two kinds of mail whose department the desk has settled and the model
got wrong on sets 13-17: a customer's request for their own personal data is customer
service's (the model said HR, which handles only staff's and applicants' data), and a
customer's threat to post their case online is a complaint for customer service, not press
work for PR. Mails written for these tests; none is in a realistic set or the bootstrap CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailrouter.routing import decisions as routing
from mailrouter.routing import model_store
from mailrouter.routing.labels import Prediction
from mailrouter.routing.matters import (
    PRIVACY_REQUEST,
    PUBLIC_THREAT,
    match_department_matter,
)

ACTIVE = {"service", "sales", "finance", "hr", "pr"}

# fmt: off
CUSTOMER_PRIVACY = [
    "Copy of my data. Under data protection law please send me a copy of all personal data you hold about me, including my order history and call recordings.",
    "Please erase my account and every piece of personal information you keep about me; my account email is this address.",
    "您好，根据个人信息保护法，请提供贵公司保存的我的个人信息副本，包括订单记录和通话录音。",
    "您好，依個人資料保護法，請提供貴公司保存的我的個人資料，包括訂單紀錄與客服錄音。",  # Traditional
]
STAFF_PRIVACY = [
    "I worked at your Leeds warehouse until August (employee no. 3318). Under data protection law please send me a copy of the personal data in my personnel file.",
    "I applied for the driver job in May. Please delete my CV and all personal data you hold about me.",
    "我是仓储部员工（工号 2207），想申请查阅公司保存的我的人事档案中的个人信息。",
    "我是客服部的員工，員編 T-0311，想申請查閱公司留存的我的個人資料，包括考勤紀錄。",  # Traditional
]
PUBLIC_THREATS = [
    "My blender broke after two weeks and your chat closed my case twice. If I don't have a replacement by Friday I'll post the whole story with screenshots on Weibo and Xiaohongshu.",
    "Lost parcel, order 55120, and nothing but 'we are investigating'. Unless this is sorted this week I am posting the conversation everywhere.",
    "吹风机用了一周就坏了，客服一直推脱。周五前再不处理我就发微博和小红书曝光。",
    "除濕機壞了兩次，客服都不理。這週再不處理，我就把整個過程發到臉書和Dcard。",  # Traditional
]
PRESS_ABOUT_POSTS = [
    "I'm a reporter at City Daily. A video of your kettle on Douyin has two million views; will you post a statement before we publish tonight?",
    "您好，我是《都市快报》的记者。抖音上有条视频说你们的炸锅涂层脱落，再不回应我们就照常发稿，请明天中午前回复。",
    # a partnership offer from a creator who posts for a living
    "Hi! I run a cooking channel and would love to post a sponsored video of your air fryer. If you're open to it I'll send my media kit.",
]
# fmt: on


@pytest.mark.parametrize("text", CUSTOMER_PRIVACY)
def test_a_customer_s_personal_data_request_is_customer_service_s(text) -> None:
    hit = match_department_matter(text, "hr")
    assert hit is not None and (hit.kind, hit.to_department) == (PRIVACY_REQUEST, "service")


@pytest.mark.parametrize("text", STAFF_PRIVACY)
def test_staff_and_applicants_data_stays_with_hr(text) -> None:
    assert match_department_matter(text, "hr") is None


@pytest.mark.parametrize("text", PUBLIC_THREATS)
def test_a_customer_s_threat_to_go_public_is_customer_service_s(text) -> None:
    hit = match_department_matter(text, "pr")
    assert hit is not None and (hit.kind, hit.to_department) == (PUBLIC_THREAT, "service")


@pytest.mark.parametrize("text", PRESS_ABOUT_POSTS)
def test_the_press_and_creators_stay_with_pr(text) -> None:
    assert match_department_matter(text, "pr") is None


def test_only_the_department_a_kind_moves_from_is_moved() -> None:
    assert match_department_matter(CUSTOMER_PRIVACY[0], "finance") is None
    assert match_department_matter(PUBLIC_THREATS[0], "sales") is None


@pytest.fixture
def app_settings(bundle_file: Path) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file)}


def _hr_model(bundle, subject, body, urgency_rules=None):
    return Prediction("hr", 0.72, ["personal", "data"]), Prediction(3, 0.7, ["data"])


def test_decide_sends_a_customer_s_data_request_to_service(app, monkeypatch) -> None:
    monkeypatch.setattr(routing, "predict", _hr_model)
    bundle = model_store.current_model(app.config)
    decision = routing.decide(
        "Request for a copy of my personal data",
        CUSTOMER_PRIVACY[0],
        config=app.config,
        bundle=bundle,
        active_codes=ACTIVE,
    )
    department = decision.classification["department"]
    assert decision.department_code == "service", department
    assert department["model"] == {"label": "hr", "probability": 0.72}
    assert department["reasons"][0].startswith("matter: ")
    # without customer service active, the model's department stands
    decision = routing.decide(
        "Request for a copy of my personal data",
        CUSTOMER_PRIVACY[0],
        config=app.config,
        bundle=bundle,
        active_codes=ACTIVE - {"service"},
    )
    assert decision.department_code == "hr"
    # an employee's request stays with HR
    decision = routing.decide(
        "Personnel file", STAFF_PRIVACY[0], config=app.config, bundle=bundle, active_codes=ACTIVE
    )
    assert decision.department_code == "hr"


def _complaint_keyword_model(bundle, subject, body, urgency_rules=None):
    return Prediction("pr", 0.9, ["记者"]), Prediction(4, 1.0, ["投诉"], rule="投诉")


def _unsure_emergency_model(bundle, subject, body, urgency_rules=None):
    return Prediction("pr", 0.9, ["story"]), Prediction(5, 0.45, ["story", "ozone"])


def test_decide_makes_a_press_danger_story_due_today_an_emergency(app, monkeypatch) -> None:
    """docs/urgency-levels.md: a press story about a danger with a same-day deadline is 5,
    over a complaint keyword's 4 and over an unsure model's 5 made 4."""
    bundle = model_store.current_model(app.config)
    monkeypatch.setattr(routing, "predict", _complaint_keyword_model)
    decision = routing.decide(
        "记者求证：关于奶粉异物的投诉",
        "您好，我是记者。我们收到五位家长关于奶粉异物的投诉，稿件今晚发出，请两小时内回应。",
        config=app.config,
        bundle=bundle,
        active_codes=ACTIVE,
    )
    assert decision.urgency == 5, decision.classification["urgency"]
    assert decision.classification["urgency"]["press_emergency"]
    monkeypatch.setattr(routing, "predict", _unsure_emergency_model)
    decision = routing.decide(
        "Story running tomorrow - comment needed by 18:00",
        "I'm a journalist. We publish a story tomorrow that your purifier emits ozone above the national limit. Please send a statement by 18:00 today.",
        config=app.config,
        bundle=bundle,
        active_codes=ACTIVE,
    )
    assert (decision.urgency, decision.needs_triage) == (5, False), decision.classification
    # due on Thursday: the complaint keyword's 4 stands
    monkeypatch.setattr(routing, "predict", _complaint_keyword_model)
    decision = routing.decide(
        "采访",
        "您好，我是记者。读者投诉贵司保温杯涂层脱落，报道周五刊发，请周四中午前回应。",
        config=app.config,
        bundle=bundle,
        active_codes=ACTIVE,
    )
    assert decision.urgency == 4
