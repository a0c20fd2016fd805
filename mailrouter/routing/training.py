"""Teaching the classifier: the shipped examples plus every label a person confirmed.

Staff corrections and triage decisions (TrainingExample rows written by the staff actions)
and imported history (`support train --csv`) are added to the bootstrap set. A correction
names one target (department *or* urgency); the other label of that mail is taken from its
ticket, so every confirmed mail becomes one complete example, and the latest correction of a
ticket wins. Only active departments are learned: a retired department's mail stops being
predicted after the next training, and a new department is learned from its examples.

Training is skipped when the examples hash to the active run's hash and its model file still
loads: nothing changed, nothing to do. Every training measures itself on a held-out quarter
first and stores that evaluation (ClassifierRun.metrics) for the admins' page.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailrouter.models import ClassifierRun
from mailrouter.routing import model_store
from mailrouter.routing.classifier import (
    Example,
    examples_hash,
    load_bootstrap_examples,
    save_bundle,
    train,
)
from support.core.db import get_db
from support.core.runner import PeriodicTask, Service
from support.desk.models import Department, Ticket, TrainingExample

log = logging.getLogger(__name__)

SOURCE_BOOTSTRAP = "bootstrap"
SOURCE_CSV = "csv"
CSV_COLUMNS = ("subject", "body", "department", "urgency")
TARGETS = ("department", "urgency")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_MAX_ERRORS_SHOWN = 10
# One training at a time in this process (the periodic task and the web page's button).
_training_lock = threading.Lock()


class TrainingError(Exception):
    """The examples cannot make a model (e.g. fewer than two departments to choose from)."""


class CsvImportError(ValueError):
    """A labelled CSV file that cannot be imported as it is; the message says what to fix."""


# ----------------------------------------------------------------------------- examples


@dataclass
class ExampleSet:
    """The examples a training uses, with how many came from where."""

    examples: list[Example]
    counts: dict[str, int] = field(default_factory=dict)
    skipped: int = 0


def _ticket_labels(ticket: Ticket | None) -> tuple[str | None, int | None]:
    """The department and text-based urgency a ticket holds now (before key-account bumps)."""
    if ticket is None:
        return None, None
    code = ticket.department.code if ticket.department is not None else None
    urgency = ((ticket.classification or {}).get("urgency") or {}).get("base")
    if not isinstance(urgency, int) or isinstance(urgency, bool):
        urgency = ticket.urgency
    return code, urgency


def confirmed_examples(session: Session) -> list[tuple[Example, str]]:
    """(example, source) for every confirmed mail: one per ticket, the latest labels winning."""
    rows = session.scalars(
        select(TrainingExample).order_by(TrainingExample.created_at, TrainingExample.id)
    ).all()
    by_ticket: dict[int, list[TrainingExample]] = {}
    found: list[tuple[Example, str]] = []
    for row in rows:
        if row.ticket_id is None:
            if row.department_code and row.urgency is not None:
                example = Example(
                    row.subject or "", row.body or "", row.department_code, row.urgency
                )
                found.append((example, row.source))
        else:
            by_ticket.setdefault(row.ticket_id, []).append(row)
    tickets = {
        t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(list(by_ticket))))
    }
    for ticket_id, group in by_ticket.items():
        department = next((r.department_code for r in reversed(group) if r.department_code), None)
        urgency = next((r.urgency for r in reversed(group) if r.urgency is not None), None)
        ticket_department, ticket_urgency = _ticket_labels(tickets.get(ticket_id))
        department = department or ticket_department
        urgency = urgency if urgency is not None else ticket_urgency
        if department and urgency is not None:
            last = group[-1]
            found.append(
                (
                    Example(last.subject or "", last.body or "", department, int(urgency)),
                    last.source,
                )
            )
    return found


def collect_examples(session: Session) -> ExampleSet:
    """Bootstrap plus confirmed examples, limited to active departments and levels 1..5."""
    active = set(session.scalars(select(Department.code).where(Department.is_active.is_(True))))
    candidates = [(e, SOURCE_BOOTSTRAP) for e in load_bootstrap_examples()]
    candidates += confirmed_examples(session)
    chosen = ExampleSet([])
    counts: Counter[str] = Counter()
    for example, source in candidates:
        usable = (
            example.department in active
            and 1 <= int(example.urgency) <= 5
            and (example.subject.strip() or example.body.strip())
        )
        if usable:
            chosen.examples.append(example)
            counts[source] += 1
        else:
            chosen.skipped += 1
    chosen.counts = dict(sorted(counts.items()))
    return chosen


# ----------------------------------------------------------------------------- training


@dataclass
class TrainingResult:
    """What a training did; `trained` False means it was skipped (nothing changed)."""

    trained: bool
    message: str
    model_version: str | None = None
    n_examples: int = 0
    seconds: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)
    run_id: int | None = None


def active_run(session: Session) -> ClassifierRun | None:
    return session.scalar(
        select(ClassifierRun)
        .where(ClassifierRun.is_active.is_(True))
        .order_by(ClassifierRun.trained_at.desc(), ClassifierRun.id.desc())
        .limit(1)
    )


def train_model(app: Flask, *, force: bool = False) -> TrainingResult:
    """Retrain from bootstrap plus confirmed examples, unless nothing changed (or ``force``).

    No database transaction stays open while the model fits (SQLite would hold its write lock
    for seconds); the run is recorded once the new model file is in place.
    """
    with _training_lock:
        database = get_db(app)
        with database.session() as session:
            data = collect_examples(session)
            current = active_run(session)
        data_hash = examples_hash(data.examples)
        if not force and current is not None and current.data_hash == data_hash:
            loaded = model_store.current_model(app.config, app.instance_path)
            if loaded is not None and loaded.data_hash == data_hash:
                return TrainingResult(
                    False,
                    f"nothing changed since model {current.model_version}: not retrained",
                    model_version=current.model_version,
                    n_examples=current.n_examples,
                    metrics=dict(current.metrics or {}),
                    run_id=current.id,
                )
        try:
            bundle = train(data.examples, evaluate=True)
        except ValueError as exc:
            raise TrainingError(f"cannot train the classifier: {exc}") from None
        path = model_store.model_path(app.config, app.instance_path)
        save_bundle(bundle, path, model_store.signing_key(app.config))
        metrics: dict[str, Any] = {
            **bundle.metrics,
            "examples": {**data.counts, "skipped": data.skipped, "total": len(data.examples)},
        }
        with database.session() as session:
            model_store.publish_model(session, path, bundle.model_version)
            session.execute(
                update(ClassifierRun)
                .where(ClassifierRun.is_active.is_(True))
                .values(is_active=False)
            )
            run = ClassifierRun(
                trained_at=bundle.trained_at,
                model_version=bundle.model_version,
                data_hash=bundle.data_hash,
                n_examples=bundle.n_examples,
                seconds=bundle.training_seconds,
                metrics=metrics,
                is_active=True,
            )
            session.add(run)
            session.flush()
            run_id = run.id
        log.info(
            "classifier %s trained on %d examples (%s)",
            bundle.model_version,
            bundle.n_examples,
            ", ".join(f"{k} {v}" for k, v in data.counts.items()),
        )
        return TrainingResult(
            True,
            f"trained model {bundle.model_version} on {bundle.n_examples} examples "
            f"in {bundle.training_seconds:.1f} s",
            model_version=bundle.model_version,
            n_examples=bundle.n_examples,
            seconds=bundle.training_seconds,
            metrics=metrics,
            run_id=run_id,
        )


def ensure_model(app: Flask) -> bool:
    """Train the bootstrap model when no usable model file exists; True when it trained.

    For `support init` and `support run`: a fresh install routes mail from the first message.
    A failure is logged, not raised: routing falls back to addresses and keywords.
    """
    if model_store.current_model(app.config, app.instance_path) is not None:
        return False
    try:
        result = train_model(app, force=True)
    except TrainingError as exc:
        log.warning("%s; routing by address and urgency keywords only", exc)
        return False
    log.info("%s", result.message)
    return True


def services(app: Flask) -> list[Service]:
    """For `support run`: retrain every TRAIN_EVERY_HOURS when the examples changed (0: never)."""
    hours = float(app.config["TRAIN_EVERY_HOURS"])
    if hours <= 0:
        return []

    def retrain_if_changed() -> None:
        result = train_model(app)
        if result.trained:
            log.info("periodic training: %s", result.message)

    return [PeriodicTask("classifier-training", hours * 3600, retrain_if_changed)]


def format_metrics(metrics: Mapping[str, Any]) -> list[str]:
    """The held-out evaluation as text lines: accuracy, macro-F1, per class, confusion matrix."""
    lines: list[str] = []
    for target in TARGETS:
        scores = metrics.get(target) or {}
        if "accuracy" not in scores:
            lines.append(f"{target}: not evaluated ({scores.get('skipped', 'no figures')})")
            continue
        lines.append(
            f"{target}: accuracy {scores['accuracy']:.3f}, macro-F1 {scores['macro_f1']:.3f} "
            f"(held out {scores.get('n_test', '?')}, trained on {scores.get('n_train', '?')})"
        )
        per_class = scores.get("per_class") or {}
        width = max([len("class"), *(len(label) for label in per_class)])
        lines.append(f"  {'class':<{width}}  precision  recall  support")
        for label, row in per_class.items():
            lines.append(
                f"  {label:<{width}}  {row['precision']:>9.2f}  {row['recall']:>6.2f}"
                f"  {row['support']:>7}"
            )
        matrix = scores.get("confusion_matrix") or {}
        labels = matrix.get("labels") or []
        if labels:
            cell = max(4, *(len(label) for label in labels))
            lines.append("  confusion matrix (rows: true label, columns: predicted)")
            lines.append("  " + " " * width + "".join(f" {label:>{cell}}" for label in labels))
            for label, row in zip(labels, matrix.get("rows") or [], strict=False):
                lines.append(f"  {label:<{width}}" + "".join(f" {n:>{cell}}" for n in row))
    return lines


# ----------------------------------------------------------------------------- CSV import


def read_labelled_csv(path: str | Path) -> list[Example]:
    """Examples from a CSV with columns subject, body, department, urgency (others ignored).

    Raises CsvImportError naming every problem row (up to ten), so one run fixes them all.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip().lower() for c in reader.fieldnames or []]
            missing = [c for c in CSV_COLUMNS if c not in columns]
            if missing:
                raise CsvImportError(
                    f"{path}: missing column(s) {', '.join(missing)} "
                    f"(expected {', '.join(CSV_COLUMNS)})"
                )
            reader.fieldnames = columns
            return _examples_from_rows(path, reader)
    except UnicodeDecodeError:
        raise CsvImportError(f"{path}: not UTF-8 text (save the file as UTF-8 CSV)") from None
    except OSError as exc:
        raise CsvImportError(f"{path}: {exc.strerror or exc}") from None
    except csv.Error as exc:
        raise CsvImportError(f"{path}: not a readable CSV file ({exc})") from None


def _examples_from_rows(path: str | Path, rows: Iterable[dict[str, str | None]]) -> list[Example]:
    examples: list[Example] = []
    errors: list[str] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        subject = (row.get("subject") or "").strip()
        body = (row.get("body") or "").strip()
        department = (row.get("department") or "").strip().lower()
        raw_urgency = (row.get("urgency") or "").strip()
        problems = []
        if not subject and not body:
            problems.append("subject and body are empty")
        if not department:
            problems.append("no department")
        if not (raw_urgency.isdigit() and 1 <= int(raw_urgency) <= 5):
            problems.append(f"urgency must be 1 to 5, not {raw_urgency!r}")
        if problems:
            errors.append(f"line {number}: {'; '.join(problems)}")
            continue
        examples.append(Example(subject, body, department, int(raw_urgency)))
    if errors:
        shown = errors[:_MAX_ERRORS_SHOWN]
        more = len(errors) - len(shown)
        suffix = f"\n  ... and {more} more" if more else ""
        raise CsvImportError(f"{path}: {len(errors)} bad row(s):\n  " + "\n  ".join(shown) + suffix)
    if not examples:
        raise CsvImportError(f"{path}: no examples in the file")
    return examples


@dataclass
class CsvImport:
    """What an import stored."""

    added: int
    duplicates: int
    created_departments: list[str] = field(default_factory=list)


def _new_department(session: Session, code: str, config: Mapping[str, Any]) -> Department:
    if not _CODE_RE.match(code):
        raise CsvImportError(
            f"cannot create department {code!r}: a code is a lower-case letter followed by "
            "letters, digits, - or _ (at most 40)"
        )
    domains = [d.strip().lower() for d in config.get("MAIL_DOMAINS") or [] if d.strip()]
    if not domains:
        raise CsvImportError("cannot create departments: MAIL_DOMAINS is empty")
    address = f"{code}@{domains[0]}"
    if session.scalar(select(Department).where(Department.email_address == address)):
        raise CsvImportError(
            f"cannot create department {code!r}: address {address} belongs to another department"
        )
    name = code.replace("_", " ").replace("-", " ").title()
    department = Department(
        code=code, name=name, email_address=address, display_name=name, is_active=True
    )
    session.add(department)
    return department


def import_csv(
    session: Session,
    path: str | Path,
    *,
    config: Mapping[str, Any],
    create_departments: bool = False,
) -> CsvImport:
    """Store labelled history as TrainingExamples (source "csv"); the caller commits.

    Unknown department codes are an error naming them, unless ``create_departments``, which
    creates each with the address ``<code>@<first mail domain>``. Rows already imported are
    not stored twice, so importing the same file again changes nothing.
    """
    examples = read_labelled_csv(path)
    known = set(session.scalars(select(Department.code)))
    unknown = sorted({e.department for e in examples} - known)
    if unknown and not create_departments:
        raise CsvImportError(
            f"{path}: unknown department code(s): {', '.join(unknown)} "
            "(create them first, or pass --create-departments)"
        )
    created = [_new_department(session, code, config).code for code in unknown]
    stored = {
        (r.subject, r.body, r.department_code, r.urgency)
        for r in session.scalars(
            select(TrainingExample).where(TrainingExample.source == SOURCE_CSV)
        )
    }
    added = duplicates = 0
    for example in examples:
        key = (example.subject, example.body, example.department, example.urgency)
        if key in stored:
            duplicates += 1
            continue
        stored.add(key)
        session.add(
            TrainingExample(
                subject=example.subject,
                body=example.body,
                department_code=example.department,
                urgency=example.urgency,
                source=SOURCE_CSV,
            )
        )
        added += 1
    session.flush()
    log.info(
        "imported %d example(s) from %s (%d already there, departments created: %s)",
        added,
        path,
        duplicates,
        ", ".join(created) or "none",
    )
    return CsvImport(added, duplicates, created)
