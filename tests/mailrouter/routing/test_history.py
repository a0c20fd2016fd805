# ruff: noqa: E501  (the mails below are data: one mail per line reads best)
"""A company's imported history decides its routing: its own departments and priorities replace
the shipped ones, and its labels beat the keyword rules they contradict."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import select

from mailrouter.routing import model_store
from mailrouter.routing.classifier import predict
from mailrouter.routing.labels import Example, load_bootstrap_examples
from mailrouter.routing.training import (
    SOURCE_BOOTSTRAP,
    SOURCE_CSV,
    choose_examples,
    import_csv,
    train_model,
)
from support.desk.models import Department
from tests.factories import make_user
from tests.mailrouter.routing.test_decisions import deliver
from tests.mailrouter.routing.test_training import (  # noqa: F401 - classifier_page fixture
    classifier_page,
    support_cli,
    write_csv,
)
from tests.support.staff_helpers import login

# fmt: off
TOPICS = {
    "billing": (
        ["Invoice copy", "Wrong amount on invoice", "Double charge", "VAT number", "Payment failed"],
        ["Please send me a copy of the invoice for last month.",
         "The invoice shows the wrong amount for our subscription.",
         "My credit card was charged twice for the same order.",
         "Please add our VAT number to the invoices.",
         "The bank transfer was sent, please confirm the payment."],
    ),
    "it_desk": (
        ["VPN not connecting", "Locked out", "New laptop", "Printer offline", "Mailbox full"],
        ["I cannot connect to the VPN from home since the update.",
         "My account is locked after the password change.",
         "Our new colleague needs a laptop and an account on Monday.",
         "The printer on the second floor is offline for everyone.",
         "My mailbox is full and refuses new messages."],
    ),
    "logistics": (
        ["Where is my parcel", "Delivery delayed", "Wrong address", "Pallet pickup", "Tracking"],
        ["The parcel has not arrived and the tracking has not moved for days.",
         "The delivery was delayed again, when will the truck come?",
         "Please change the delivery address of the shipment.",
         "Please schedule the pickup of two pallets from our warehouse.",
         "The tracking number you sent does not work on the carrier's site."],
    ),
}
PRIORITIES = ("low", "medium", "high")
# fmt: on


def history_rows(per_department: int = 15) -> list[tuple[str, str, str, str]]:
    """Mails of three departments that the shipped examples do not have, prioritised in words
    (by what the first sentence asks)."""
    rows = []
    for code, (subjects, sentences) in TOPICS.items():
        pairs = itertools.islice(
            itertools.cycle(itertools.permutations(sentences, 2)), per_department
        )
        for n, (first, second) in enumerate(pairs):
            priority = PRIORITIES[sentences.index(first) % 3]
            rows.append(
                (subjects[n % len(subjects)], f"Hello, {first} {second} Thanks.", code, priority)
            )
    return rows


def test_after_importing_a_history_no_prediction_names_a_department_it_does_not_have(
    app, session, tmp_path: Path
) -> None:
    history = write_csv(tmp_path / "history.csv", history_rows())

    result = support_cli(app, session, "train", "--csv", str(history), "--create-departments")

    assert result.exit_code == 0, result.output
    assert "imported 45 example(s)" in result.output
    assert "shipped examples used for departments: none; levels: none" in result.output
    assert "model chosen by" in result.output and "linear SVM" in result.output
    bundle = model_store.current_model(app.config, app.instance_path)
    assert bundle is not None
    assert bundle.department_labels == ["billing", "it_desk", "logistics"]
    assert bundle.urgency_labels == [1, 2, 4]  # low, medium, high by the default priority words
    # The five seed departments stay active, yet the shipped mails of all of them (Chinese ones
    # included) are routed to the history's departments only.
    active = set(session.scalars(select(Department.code).where(Department.is_active.is_(True))))
    assert {"sales", "service", "hr", "finance"} <= active
    predicted = {
        str(predict(bundle, e.subject, e.body)[0].label) for e in load_bootstrap_examples()
    }
    assert predicted <= {"billing", "it_desk", "logistics"}
    ticket = deliver(
        app, session, "Parcel missing", "Our parcel never arrived and the tracking is stuck."
    )
    assert ticket.department is None or ticket.department.code == "logistics"
    assert ticket.classification["department"]["label"] == "logistics"


@pytest.mark.usefixtures("classifier_page")
def test_a_history_contradicting_a_keyword_rule_wins_when_the_rule_is_switched_off(
    app, session, client, tmp_path: Path
) -> None:
    rows = history_rows()
    # Customers of this company write "final reminder" about invoice copies; staff filed them low.
    rows += [
        (
            f"Invoice copy {n}",
            f"Final reminder: please send me a copy of invoice {n} for our records.",
            "billing",
            "low",
        )
        for n in range(12)
    ]
    history = write_csv(tmp_path / "history.csv", rows)
    import_csv(session, history, config=app.config, create_departments=True)
    session.commit()
    app.config["CLASSIFIER_RULE_MIN_AGREEMENT"] = 0.0  # keywords always win unless switched off
    result = train_model(app, force=True)
    report = result.metrics["urgency_rules"]
    assert report["final reminder"]["fired"] == 12
    assert report["final reminder"]["agreement"] == 0.0
    assert report["final reminder"]["overruled"] is False
    subject, body = (
        "Invoice copy",
        "Final reminder: please send me a copy of invoice 77 for our records.",
    )

    ruled = deliver(app, session, subject, body, sender="a@example.net")
    assert (ruled.urgency, ruled.classification["urgency"]["rule"]) == (4, "final reminder")

    app.config["CLASSIFIER_DISABLED_URGENCY_RULES"] = ["final reminder"]
    learnt = deliver(app, session, subject, body, sender="b@example.net")
    assert learnt.classification["urgency"]["rule"] is None
    assert learnt.classification["urgency"]["source"] == "model"
    assert learnt.urgency == 1  # the history's "low"

    # Without the switch, the default agreement threshold overrules it at the next training.
    app.config["CLASSIFIER_DISABLED_URGENCY_RULES"] = []
    app.config["CLASSIFIER_RULE_MIN_AGREEMENT"] = 0.5
    session.commit()  # SQLite: the test's read transaction would block the training's writes
    retrained = train_model(app, force=True)
    assert retrained.metrics["urgency_rules"]["final reminder"]["overruled"] is True
    overruled = deliver(app, session, subject, body, sender="c@example.net")
    assert (overruled.urgency, overruled.classification["urgency"]["rule"]) == (1, None)
    # Other keywords still win: "lawsuit" never fired on the history.
    legal = deliver(
        app,
        session,
        "Invoice",
        "We will start a lawsuit over this invoice.",
        sender="d@example.net",
    )
    assert (legal.urgency, legal.classification["urgency"]["rule"]) == (5, "lawsuit")

    # The classifier page shows what the training found, as `support train` prints it.
    make_user(session, role="lead", departments=("billing",), email="lead@example.com")
    session.commit()
    login(client, "lead@example.com")
    page = client.get("/staff/classifier/").get_data(as_text=True)
    metrics = retrained.metrics
    assert "Model chosen by cross-validation" in page and "linear SVM (calibrated)" in page
    assert "over the true labels" in page
    assert f"{metrics['department']['calibration']['ece']:.3f}" in page
    triage_share = metrics["department"]["triage"]["share"] * 100
    assert f"Triage at confidence 0.45: <strong>{triage_share:.1f}%</strong>" in page
    assert "Shipped examples used for departments: none" in page
    row = page[page.index('<th scope="row">final reminder</th>') :].split("</tr>")[0]
    assert '<td class="num">12</td>' in row and "0%" in row and "overruled by the history" in row


def test_shipped_examples_fill_in_only_where_own_examples_are_too_few() -> None:
    def mails(department: str, level: int, n: int) -> list[Example]:
        return [Example(f"{department} {n}", "text", department, level) for n in range(n)]

    shipped = [
        *mails("sales", 2, 3),  # sales and level 2 have plenty of own examples: left out
        *mails("sales", 5, 2),  # level 5 has none: used, for the level
        *mails("hr", 2, 4),  # hr has none: used, for the department
        *mails("pr", 2, 1),  # pr is inactive: never learnt
    ]
    own = mails("sales", 2, 40)
    candidates = [(e, SOURCE_BOOTSTRAP) for e in shipped] + [(e, "correction") for e in own]

    chosen = choose_examples(candidates, {"sales", "hr", "service"}, min_examples=30)

    assert chosen.counts == {"bootstrap": 6, "correction": 40}
    assert (chosen.bootstrap_dropped, chosen.skipped) == (3, 1)
    assert chosen.bootstrap_for == {"departments": ["hr"], "levels": [5]}

    # An imported history of 30+ mails stands for the company's routing: shipped mails of the
    # departments and levels it lacks (hr, level 5) are left out.
    imported = [(e, SOURCE_CSV) for e in mails("sales", 2, 20) + mails("service", 4, 12)]
    chosen = choose_examples(candidates + imported, {"sales", "hr", "service"}, min_examples=30)
    assert chosen.counts == {"correction": 40, "csv": 32}
    assert chosen.bootstrap_for == {"departments": [], "levels": []}
