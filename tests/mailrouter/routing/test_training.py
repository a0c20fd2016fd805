# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""The router learns from the people who correct it: retraining from confirmed labels, skipping
when nothing changed, importing labelled history, and showing admins how good the model is."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from mailrouter.models import ClassifierRun
from mailrouter.routing import model_store
from mailrouter.routing.cli import COMMANDS
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.routing.model_store import ModelStore
from mailrouter.routing.training import (
    START_TRAINING_LEASE,
    CsvImportError,
    collect_examples,
    ensure_model,
    import_csv,
    services,
    train_model,
)
from support.core.db import get_db
from support.core.leases import holders as lease_holders
from support.desk import actions
from support.desk.models import Department, TrainingExample
from tests.factories import make_ticket, make_user
from tests.mailrouter.routing.test_decisions import deliver
from tests.support.staff_helpers import login

BOOTSTRAP_SIZE = len(load_bootstrap_examples())
# The model sends this to sales (it speaks of a shop), but it is a service question.
OPENING_HOURS = ("请问营业时间", "请问你们门店周日几点开门？")
#: Where staff say the showroom question belongs: not where the shipped examples send it
#: (customer service, since they hold more customers' questions).
SHOWROOM_DEPARTMENT = "sales"

# fmt: off
LEGAL_CSV = [
    ("Trademark infringement notice", "Your product listing uses our registered trademark without permission. Our legal counsel requests that you remove it.", "legal", "2"),
    ("Contract review", "Please have your legal team review the attached supply contract clauses on liability and indemnity.", "legal", "2"),
    ("NDA signature", "We need a signed non-disclosure agreement from your legal department before the meeting.", "legal", "2"),
    ("商标侵权", "贵公司的产品包装使用了我们的注册商标，请法务部门尽快处理并回复。", "legal", "2"),
    ("合同条款审核", "请贵公司法务审核一下附件中的合作协议条款，特别是违约责任部分。", "legal", "2"),
    ("保密协议", "开会前需要贵公司法务部门签署保密协议，请安排。", "legal", "2"),
]
# fmt: on


@pytest.fixture
def classifier_page(app):
    """The classifier page, registered here until support.core.web registers it (then a no-op)."""
    from mailrouter.routing import views as routing_views

    if "classifier" not in app.blueprints:
        routing_views.init_app(app)
    return app


def support_cli(app, session, *args: str) -> Result:
    """Run the real `support` command against the test app's database and model file."""
    from support.cli import cli

    session.commit()  # SQLite: the test's open transaction would hold the write lock

    for command in COMMANDS:  # the lead registers them in support.cli; harmless twice
        cli.add_command(command)
    env = {
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
        "SUPPORT_CLASSIFIER_MODEL_PATH": app.config["CLASSIFIER_MODEL_PATH"],
    }
    return CliRunner().invoke(cli, ["--instance", app.instance_path, *args], env=env)


def write_csv(path: Path, rows, header=("subject", "body", "department", "urgency")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def runs(session) -> list[ClassifierRun]:
    session.expire_all()
    found = list(session.scalars(select(ClassifierRun).order_by(ClassifierRun.id)))
    session.commit()  # SQLite: do not keep the write lock the app needs next
    return found


def test_a_staff_correction_changes_the_next_prediction_after_support_train(
    app, session, client, classifier_page
) -> None:
    assert ensure_model(app) is True  # a fresh install trains the shipped examples
    assert ensure_model(app) is False
    # `support leases` says when the start's training ran (it said "last run never")
    _holder, _until, last_run = lease_holders(get_db(app))[START_TRAINING_LEASE]
    assert last_run is not None
    [first] = runs(session)
    assert first.is_active and first.n_examples == BOOTSTRAP_SIZE
    assert first.metrics["examples"]["bootstrap"] == BOOTSTRAP_SIZE
    assert 0.6 < first.metrics["department"]["accuracy"] <= 1

    skipped = train_model(app)
    assert not skipped.trained and "nothing changed" in skipped.message
    assert len(runs(session)) == 1

    ticket = deliver(app, session, *OPENING_HOURS)
    # The shipped examples do not settle it (triage or another guess): staff say "sales".
    assert ticket.department is None or ticket.department.code != SHOWROOM_DEPARTMENT
    source = "triage" if ticket.department is None else "correction"
    admin = make_user(session, role="admin", departments=(), email="boss@example.com")
    with app.test_request_context():
        actions.change_department(
            session,
            ticket,
            admin,
            session.scalar(select(Department).where(Department.code == SHOWROOM_DEPARTMENT)),
            app.config,
        )
    session.commit()
    [example] = session.scalars(select(TrainingExample)).all()
    assert (example.source, example.department_code, example.body) == (
        source,
        SHOWROOM_DEPARTMENT,
        OPENING_HOURS[1],
    )

    result = support_cli(app, session, "train")
    assert result.exit_code == 0, result.output
    assert "trained model" in result.output and f"{source} 1" in result.output
    assert "department: accuracy" in result.output and "confusion matrix" in result.output
    old, new = runs(session)
    assert (old.is_active, new.is_active) == (False, True)
    assert new.n_examples == BOOTSTRAP_SIZE + 1 and new.metrics["examples"][source] == 1

    again = deliver(app, session, *OPENING_HOURS, sender="another.customer@example.net")
    assert again.id != ticket.id
    assert again.department.code == SHOWROOM_DEPARTMENT
    assert again.classification["model_version"] == new.model_version

    assert "nothing changed" in support_cli(app, session, "train").output
    assert len(runs(session)) == 2

    login(client, "boss@example.com")
    page = client.get("/staff/classifier/").get_data(as_text=True)
    assert f"{new.metrics['department']['accuracy']:.3f}" in page
    assert f"{new.metrics['urgency']['macro_f1']:.3f}" in page
    assert "Confusion matrix" in page and new.model_version in page and old.model_version in page


def test_imported_history_teaches_a_new_department(app, session, tmp_path) -> None:
    history = write_csv(tmp_path / "history.csv", LEGAL_CSV)

    refused = support_cli(app, session, "train", "--csv", str(history))
    assert refused.exit_code == 1
    assert (
        "unknown department code(s): legal" in refused.output
        and "--create-departments" in refused.output
    )
    assert session.scalar(select(func.count()).select_from(TrainingExample)) == 0

    result = support_cli(app, session, "train", "--csv", str(history), "--create-departments")
    assert result.exit_code == 0, result.output
    assert "created department legal" in result.output
    assert "imported 6 example(s)" in result.output and "csv 6" in result.output
    legal = session.scalar(select(Department).where(Department.code == "legal"))
    assert (legal.email_address, legal.is_active) == ("legal@example.com", True)
    session.commit()

    ticket = deliver(
        app,
        session,
        "Trademark misuse",
        "Your online ads use our registered trademark. Our legal counsel asks you to stop and reply.",
    )
    assert ticket.department.code == "legal"
    assert "trademark" in ticket.classification["department"]["reasons"]

    repeated = support_cli(app, session, "train", "--csv", str(history))
    assert "imported 0 example(s)" in repeated.output and "6 were there already" in repeated.output
    assert "nothing changed" in repeated.output


def test_a_bad_csv_is_refused_with_every_problem_named(app, session, tmp_path) -> None:
    bad_rows = write_csv(
        tmp_path / "bad.csv",
        [("Hi", "Fine", "sales", "9"), ("", "", "sales", "2"), ("Ok", "Body", "", "two")],
    )
    with pytest.raises(CsvImportError) as refused:
        import_csv(session, bad_rows, config=app.config)
    message = str(refused.value)
    assert "3 bad row(s)" in message
    assert "line 2: urgency must be 1 to 5, not '9'" in message
    assert "line 3: subject and body are empty" in message
    assert "line 4: no department; urgency must be 1 to 5, not 'two'" in message

    no_urgency = write_csv(
        tmp_path / "columns.csv", [("a", "b", "sales")], header=("subject", "body", "department")
    )
    with pytest.raises(CsvImportError, match="missing column"):
        import_csv(session, no_urgency, config=app.config)

    unknown = write_csv(
        tmp_path / "unknown.csv", [("a", "b", "marketing", "2"), ("c", "d", "legal", "3")]
    )
    with pytest.raises(CsvImportError, match=r"unknown department code\(s\): legal, marketing"):
        import_csv(session, unknown, config=app.config)

    bad_code = write_csv(tmp_path / "code.csv", [("a", "b", "9lives", "2")])
    with pytest.raises(CsvImportError, match="cannot create department '9lives'"):
        import_csv(session, bad_code, config=app.config, create_departments=True)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(TrainingExample)) == 0

    result = support_cli(app, session, "train", "--csv", str(tmp_path / "missing.csv"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_corrections_become_complete_examples_of_active_departments(app, session) -> None:
    # A department correction: the urgency is the ticket's text-based one, not the key-account bump.
    moved = make_ticket(
        session,
        department_code="finance",
        urgency=3,
        classification={"urgency": {"base": 2}},
        body="Invoice please",
    )
    # An urgency correction: the department is the ticket's.
    urgent = make_ticket(session, department_code="sales", body="Need 300 chairs")
    # Two corrections of one ticket: the latest wins.
    twice = make_ticket(session, department_code="sales", body="Where is my parcel")
    for ticket, department, urgency in [
        (moved, "finance", None),
        (urgent, None, 4),
        (twice, "hr", None),
        (twice, "service", None),
    ]:
        session.add(
            TrainingExample(
                subject=ticket.subject,
                body=ticket.messages[0].body_text,
                department_code=department,
                urgency=urgency,
                source="correction",
                ticket_id=ticket.id,
            )
        )
    session.add(
        TrainingExample(
            subject="x", body="no urgency and no ticket", department_code="sales", source="csv"
        )
    )
    session.flush()

    found = collect_examples(session)
    confirmed = {(e.body, e.department, e.urgency) for e in found.examples[BOOTSTRAP_SIZE:]}
    assert confirmed == {
        ("Invoice please", "finance", 2),
        ("Need 300 chairs", "sales", 4),
        ("Where is my parcel", "service", 2),
    }
    assert found.counts == {"bootstrap": BOOTSTRAP_SIZE, "correction": 3}

    session.scalar(select(Department).where(Department.code == "pr")).is_active = False
    session.flush()
    without_pr = collect_examples(session)
    assert "pr" not in {e.department for e in without_pr.examples}
    assert without_pr.skipped == sum(e.department == "pr" for e in load_bootstrap_examples())


def test_support_run_retrains_on_a_schedule_unless_switched_off(app) -> None:
    [task] = services(app)
    assert task.interval == app.config["TRAIN_EVERY_HOURS"] * 3600
    app.config["TRAIN_EVERY_HOURS"] = 0
    assert services(app) == []


def test_leads_retrain_from_the_classifier_page_and_agents_cannot(
    app, session, client, classifier_page
) -> None:
    lead = make_user(session, role="lead", departments=("service",), email="lead@example.com")
    agent = make_user(session, role="agent", departments=("service",), email="agent@example.com")
    session.commit()

    login(client, agent.email)
    assert client.get("/staff/classifier/").status_code == 403
    assert client.post("/staff/classifier/retrain").status_code == 403
    client.post("/staff/logout")

    login(client, lead.email)
    assert "has not been trained yet" in client.get("/staff/classifier/").get_data(as_text=True)
    response = client.post("/staff/classifier/retrain", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"Model retrained on {BOOTSTRAP_SIZE} examples" in page
    [run] = runs(session)
    assert run.model_version in page and f"{run.metrics['department']['macro_f1']:.3f}" in page
    assert model_store.current_model(app.config) is not None

    # In plain words and the reader's language first; codes and model figures one click away.
    accuracy = run.metrics["department"]["accuracy"]
    assert f"Right for {accuracy * 100:.0f}% of the" in page
    assert '<th scope="row">Customer Service</th>' in page
    plain = page.split('<details class="technical">')
    assert not any('<th scope="row">service</th>' in part.split("</details>")[-1] for part in plain)
    client.set_cookie("lang", "zh")
    chinese = client.get("/staff/classifier/").get_data(as_text=True)
    assert '<th scope="row">客户服务部</th>' in chinese and "判断正确的占" in chinese


def test_the_store_names_a_model_without_a_version_in_one_clean_line(tmp_path, caplog) -> None:
    # "shipped spam model  loaded from ..." (two spaces) at every start: it has no version.
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    store: ModelStore[object] = ModelStore(lambda _path, _key: object(), name="shipped model")
    with caplog.at_level("INFO", logger="mailrouter.routing.model_store"):
        assert store.get(path, b"") is not None
    assert f"shipped model loaded from {path}" in caplog.messages
