"""The classifier page in a real browser: what a lead sees after importing a history."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from mailrouter.routing.training import import_csv, train_model
from tests.browser_tools import PHONE
from tests.factories import make_user
from tests.mailrouter.routing.test_history import history_rows
from tests.mailrouter.routing.test_training import (  # noqa: F401 - classifier_page fixture
    classifier_page,
    write_csv,
)
from tests.support.staff import test_browser
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser
# The staff browser tests' fixtures: settings with CSRF on, a live server, a Chromium tab.
app_settings = test_browser.app_settings
live_server = test_browser.live_server
page = test_browser.page


@pytest.mark.usefixtures("classifier_page")
def test_a_lead_sees_the_chosen_model_figures_and_overruled_keywords(
    app,
    session,
    page,
    tmp_path: Path,
) -> None:
    rows = history_rows() + [
        (
            f"Invoice copy {n}",
            f"Final reminder: please send a copy of invoice {n}.",
            "billing",
            "low",
        )
        for n in range(12)
    ]
    import_csv(
        session, write_csv(tmp_path / "h.csv", rows), config=app.config, create_departments=True
    )
    make_user(session, role="lead", departments=("billing",), email="lead@example.com")
    session.commit()
    trained = train_model(app, force=True)

    page.goto("/staff/login")
    page.get_by_label("Email address").fill("lead@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/staff/inbox/**")
    page.goto("/staff/classifier/")
    page.get_by_text("Technical details of the model").click()  # the model's figures are folded

    choice = page.locator(
        "section section", has=page.get_by_role("heading", name="Model chosen by cross-validation")
    )
    expect(choice).to_contain_text("linear SVM (calibrated)")
    department = page.locator(
        "section", has=page.get_by_role("heading", name="Department", exact=True)
    )
    expect(department).to_contain_text("Right for")
    assert "Macro-F1" not in department.inner_text()
    department.get_by_text("Technical figures").click()
    text = department.inner_text()
    assert (
        f"{trained.metrics['department']['macro_f1']:.3f}" in text
        and "over the true labels" in text
    )
    assert "expected calibration error" in text and "Triage at confidence 0.45" in text
    reminder = page.get_by_role("row", name="final reminder", exact=False)
    reminder = reminder.filter(has_text="overruled")
    assert reminder.count() == 1 and "12" in reminder.inner_text()
    expect(page.get_by_text("Shipped examples used for departments: none")).to_be_visible()

    page.get_by_role("button", name="Retrain now").click()
    page.get_by_text(f"Model retrained on {trained.n_examples} examples").wait_for()


@pytest.mark.usefixtures("classifier_page")
def test_the_training_history_reads_on_a_phone(app, session, page, tmp_path: Path) -> None:
    """As eight columns the training history was 611 px wide in a 358 px box on a phone, its
    accuracies out of sight to the right; now each run is a line and one of labelled figures."""
    import_csv(
        session,
        write_csv(tmp_path / "h.csv", history_rows()),
        config=app.config,
        create_departments=True,
    )
    make_user(session, role="lead", departments=("billing",), email="lead@example.com")
    session.commit()
    trained = train_model(app, force=True)

    page.set_viewport_size(PHONE)
    page.goto("/staff/login")
    page.get_by_label("Email address").fill("lead@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/staff/inbox/**")
    page.goto("/staff/classifier/?lang=en")
    page.get_by_role("heading", name="Training history").click()
    table = page.locator("table.training-runs")
    assert table.evaluate("t => t.scrollWidth - t.clientWidth") == 0
    row = table.locator("tbody tr").first
    accuracy = f"Department accuracy: {trained.metrics['department']['accuracy']:.3f}"
    expect(row).to_contain_text(accuracy)
    expect(page.get_by_text(accuracy)).to_be_visible()
    box = row.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
