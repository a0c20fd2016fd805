"""The classifier page for leads and admins: how good the model is, and a button to retrain.

Before trusting the router, people want to see how often it is right and where it confuses
departments: the page shows the latest held-out evaluation (accuracy, macro-F1 over the true
labels, precision and recall per class, the confusion matrix, calibration and the triage share;
the same figures as `support classify --csv`), the model the training chose, the training
history, where the examples came from, and how the urgency keywords fared on the history.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailrouter.models import ClassifierRun
from mailrouter.routing import model_store
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.routing.training import TARGETS, TrainingError, active_run, train_model
from support.auth import role_required
from support.core.db import db_session
from support.desk.models import Department, TrainingExample, UrgencyLevel

log = logging.getLogger(__name__)

bp = Blueprint("classifier", __name__, url_prefix="/staff/classifier")

HISTORY_ROWS = 20


@functools.cache
def _bootstrap_count() -> int:
    return len(load_bootstrap_examples())


#: Most often confused pairs named in plain words above the technical figures.
MIXED_UP_PAIRS = 3


def _class_names(session: Session, language: str) -> dict[str, dict[str, str]]:
    """Per target, what each class label of the metrics is called in the reader's language:
    a department's name for its code, "4 · Important" for an urgency level."""
    departments = {d.code: d.label(language) for d in session.scalars(select(Department))}
    levels = {
        str(u.level): u.numbered_label(language) for u in session.scalars(select(UrgencyLevel))
    }
    return {"department": departments, "urgency": levels}


def _mixed_up(labels: list[str], rows: list[list[int]]) -> list[tuple[str, str, int]]:
    """(right answer, what the model said, mails) for the most frequent mistakes."""
    pairs = [
        (labels[i], labels[j], n)
        for i, row in enumerate(rows)
        for j, n in enumerate(row)
        if i != j and n and i < len(labels) and j < len(labels)
    ]
    return sorted(pairs, key=lambda pair: -pair[2])[:MIXED_UP_PAIRS]


def _evaluation(metrics: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Per target, the figures the template shows (targets without figures say why)."""
    found = []
    for target in TARGETS:
        scores = (metrics or {}).get(target) or {}
        matrix = scores.get("confusion_matrix") or {}
        labels, rows = matrix.get("labels") or [], matrix.get("rows") or []
        found.append(
            {
                "target": target,
                "scores": scores if "accuracy" in scores else None,
                "skipped": scores.get("skipped"),
                "per_class": scores.get("per_class") or {},
                "labels": labels,
                "rows": rows,
                "mixed_up": _mixed_up([str(label) for label in labels], rows),
                "predicted_only": scores.get("predicted_only") or {},
                "calibration": scores.get("calibration"),
                "triage": scores.get("triage"),
            }
        )
    return found


@bp.get("/")
@role_required("lead")
def index():
    session = db_session()
    runs = session.scalars(
        select(ClassifierRun)
        .order_by(ClassifierRun.trained_at.desc(), ClassifierRun.id.desc())
        .limit(HISTORY_ROWS)
    ).all()
    latest = active_run(session) or (runs[0] if runs else None)
    stored = dict(
        session.execute(
            select(TrainingExample.source, func.count()).group_by(TrainingExample.source)
        ).all()
    )
    model = model_store.current_model(current_app.config, current_app.instance_path)
    metrics = (latest.metrics or {}) if latest else {}
    return render_template(
        "mail/classifier.html",
        latest=latest,
        evaluation=_evaluation(latest.metrics if latest else None),
        used=metrics.get("examples", {}),
        bootstrap_for=metrics.get("bootstrap_for") or {},
        choice=metrics.get("model") or {},
        rule_rows=metrics.get("urgency_rules") or {},
        disabled_rules=current_app.config.get("CLASSIFIER_DISABLED_URGENCY_RULES") or [],
        min_agreement=current_app.config["CLASSIFIER_RULE_MIN_AGREEMENT"],
        runs=runs,
        stored=dict(sorted(stored.items())),
        bootstrap_count=_bootstrap_count(),
        model=model,
        min_confidence=current_app.config["CLASSIFIER_MIN_CONFIDENCE"],
        names=_class_names(session, g.lang),
    )


@bp.post("/retrain")
@role_required("lead")
def retrain():
    # End the request's transaction first (it has only read the user): on SQLite this POST's
    # transaction holds the write lock, which the training's own short transactions need.
    db_session().rollback()
    try:
        result = train_model(current_app._get_current_object(), force=True)  # type: ignore[attr-defined]
    except TrainingError as exc:
        flash(str(exc), "error")
    else:
        flash(
            _(
                "Model retrained on %(n)s examples in %(seconds)s s.",
                n=result.n_examples,
                seconds=f"{result.seconds:.1f}",
            ),
            "success",
        )
    return redirect(url_for("classifier.index"))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
