# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-fourth session: the customer's "no hurry" ("不急", "not urgent") speaks to time, so it
lowers a model's 4 or 5 to normal, but a special problem (3) still needs its specialist: an
attendance machine's export that does not fit the customer's ERP, "不急，本月底前解决就行"
(set 6 line 20), was made 2. Mails written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailrouter.routing import decisions as routing
from mailrouter.routing import model_store
from mailrouter.routing.labels import Prediction

ACTIVE = {"service", "sales", "finance", "hr", "pr"}


@pytest.fixture
def app_settings(bundle_file: Path) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file)}


def _model(level: int):
    def predict(bundle, subject, body, urgency_rules=None):
        return Prediction("service", 0.9, ["接口"]), Prediction(level, 0.8, ["接口", "对接"])

    return predict


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        (
            "考勤机数据对不上",
            "考勤机导出的打卡记录导入ERP后跨天的记录全部错乱，请技术人员提供接口文档。不急，本月底前解决就行。",
        ),
        (
            "API returns 401",
            "After the firmware update the oven's local API returns 401 for every call; we need your engineers to look at the token handling. Not urgent, end of the month is fine.",
        ),
    ],
)
def test_no_hurry_keeps_a_special_problem_with_its_specialist(app, monkeypatch, subject, body):
    monkeypatch.setattr(routing, "predict", _model(3))
    bundle = model_store.current_model(app.config)
    decision = routing.decide(subject, body, config=app.config, bundle=bundle, active_codes=ACTIVE)
    assert decision.urgency == 3, decision.classification["urgency"]
    assert "calm" not in decision.classification["urgency"]


def test_no_hurry_still_lowers_an_important_mail(app, monkeypatch):
    monkeypatch.setattr(routing, "predict", _model(4))
    bundle = model_store.current_model(app.config)
    decision = routing.decide(
        "打印机卡纸",
        "打印机总是卡纸，不急，有空帮我看看。",
        config=app.config,
        bundle=bundle,
        active_codes=ACTIVE,
    )
    assert decision.urgency == 2
    assert decision.classification["urgency"]["calm"]
