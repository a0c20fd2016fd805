# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""`support classify` shows what the router would decide and why; `--csv` measures it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailrouter.routing.classifier import (
    FORMAT_VERSION,
)
from mailrouter.routing.cli import COMMANDS
from tests.mailrouter.conftest import make_mail

SECRET_KEY = "test-secret-key-not-for-production"


@pytest.fixture
def app_settings(bundle_file: Path) -> dict:
    return {"CLASSIFIER_MODEL_PATH": str(bundle_file)}


def support_cli(app, *args: str, stdin: bytes | None = None) -> Result:
    from support.cli import cli

    for command in COMMANDS:  # the lead registers them in support.cli; harmless twice
        cli.add_command(command)
    env = {
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
        "SUPPORT_CLASSIFIER_MODEL_PATH": app.config["CLASSIFIER_MODEL_PATH"],
    }
    return CliRunner().invoke(cli, ["--instance", app.instance_path, *args], env=env, input=stdin)


def test_classify_prints_the_decision_and_its_reasons_as_json(app, tmp_path) -> None:
    eml = tmp_path / "question.eml"
    eml.write_bytes(
        make_mail(
            subject="Re: 洗衣机坏了",
            body="上个月买的洗衣机现在不脱水了，请问怎么申请保修维修？\n\n> 旧邮件：我们的价格表和报价单\n",
        )
    )

    result = support_cli(app, "classify", str(eml))

    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["department"] == "service" and not decision["needs_triage"]
    assert decision["urgency"] == 2 and decision["rule"] is None
    assert 0.45 <= decision["confidence"] <= 1
    assert "洗衣机" in decision["reasons"]["department"]
    assert decision["model_version"].startswith(f"v{FORMAT_VERSION}-sklearn")


def test_classify_reads_stdin_and_names_the_rule_that_fired(app) -> None:
    raw = make_mail(
        subject="System down", body="Our ordering portal is down and none of our stores can order."
    )

    result = support_cli(app, "classify", stdin=raw)

    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert (decision["urgency"], decision["rule"]) == (5, "system down")
    assert decision["reasons"]["urgency"] == ["system down"]


def test_classify_without_a_model_still_applies_the_keywords(app, tmp_path) -> None:
    app.config["CLASSIFIER_MODEL_PATH"] = str(tmp_path / "missing.pkl")
    result = support_cli(app, "classify", stdin=make_mail(subject="宕机", body="系统宕机了"))
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["department"] is None and decision["needs_triage"]
    assert (decision["urgency"], decision["model_version"]) == (5, None)
    assert "no classifier model" in result.stderr


def test_classify_csv_reports_accuracy_and_macro_f1_per_target(app, tmp_path) -> None:
    labelled = tmp_path / "labelled.csv"
    rows = [
        (
            "Quote for 50 standing desks",
            "Hello, we want to order 50 standing desks for our new office. Could you send a quote with delivery costs?",
            "sales",
            "2",
        ),
        ("洗衣机坏了", "上个月买的洗衣机现在不脱水了，请问怎么申请保修维修？", "service", "2"),
        (
            "Application for accountant position",
            "Dear HR team, I am applying for the junior accountant vacancy. Please find my CV attached.",
            "hr",
            "2",
        ),
        (
            "Server down",
            "Our ordering portal is down and none of our stores can order. This is an emergency.",
            "service",
            "5",
        ),
    ]
    with labelled.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("subject", "body", "department", "urgency"), *rows])

    result = support_cli(app, "classify", "--csv", str(labelled))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"4 labelled mail(s), model v{FORMAT_VERSION}-")
    department = next(line for line in lines if line.startswith("department:"))
    urgency = next(line for line in lines if line.startswith("urgency:"))
    assert "accuracy" in department and "macro-F1" in department
    # Over the labels the file has: 2 and 5 here, not the five levels the model knows.
    assert urgency == "urgency: accuracy 1.000, macro-F1 1.000 (over the 2 true labels)"
    assert any(line.startswith("routed without triage at confidence 0.45") for line in lines)
    assert "confidence calibration" in result.output
    assert any(line.strip().startswith("expected calibration error") for line in lines)


def test_classify_csv_macro_f1_is_over_the_true_labels_only(app, tmp_path) -> None:
    """A label the model predicts but the file never has is no zero-F1 class of the average."""
    labelled = tmp_path / "labelled.csv"
    rows = [
        (
            "Quote for 50 standing desks",
            "Hello, we want to order 50 standing desks for our new office. Could you send a quote with delivery costs?",
            "sales",
            "medium",
        ),
        ("洗衣机坏了", "上个月买的洗衣机现在不脱水了，请问怎么申请保修维修？", "service", "中"),
        # Filed under sales in this file; the model (rightly) says hr, a label the file lacks.
        (
            "Application for accountant position",
            "Dear HR team, I am applying for the junior accountant vacancy. Please find my CV attached.",
            "sales",
            "2",
        ),
    ]
    with labelled.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([("subject", "body", "department", "urgency"), *rows])

    result = support_cli(app, "classify", "--csv", str(labelled))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    department = next(line for line in lines if line.startswith("department:"))
    # sales: precision 1, recall 1/2, F1 0.667; service: F1 1; mean over the two true labels
    # 0.833 (over the union with hr it would be 0.556).
    assert department == "department: accuracy 0.667, macro-F1 0.833 (over the 2 true labels)"
    assert "predicted but absent from the true labels: hr 1" in result.output
    per_class = [line.split()[0] for line in lines[lines.index(department) + 2 :][:2]]
    assert per_class == ["sales", "service"]
    # "medium" and "中" are read as level 2 by the default priority words.
    assert next(line for line in lines if line.startswith("urgency:")).startswith(
        "urgency: accuracy 1.000, macro-F1 1.000 (over the 1 true labels)"
    )
    assert any(line.strip().startswith("triage at confidence 0.45:") for line in lines)


def test_classify_refuses_unclear_input(app, tmp_path) -> None:
    empty = support_cli(app, "classify", stdin=b"")
    assert empty.exit_code == 1 and "no mail given" in empty.output

    bad = tmp_path / "bad.csv"
    bad.write_text("subject,body\nhello,world\n", encoding="utf-8")
    result = support_cli(app, "classify", "--csv", str(bad))
    assert result.exit_code == 1 and "missing column(s) department, urgency" in result.output

    usage = support_cli(app, "train", "--create-departments")
    assert usage.exit_code == 2 and "only applies with --csv" in usage.output
