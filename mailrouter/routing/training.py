"""Teaching the classifier: every label a person confirmed, and the shipped examples where
those are too few.

Staff corrections and triage decisions (TrainingExample rows written by the staff actions)
and imported history (`support train --csv`) come first; the shipped (bootstrap) examples
only fill in departments and levels with fewer than CLASSIFIER_BOOTSTRAP_MIN_EXAMPLES of
them, and none for departments or levels an imported history does not use
(`choose_examples`). Each training also reports how the urgency keywords fared on the
confirmed examples and overrules the ones they contradict (`mailrouter.routing.history`).
A correction names one target (department *or* urgency); the other label of that mail is
taken from its ticket, so every confirmed mail becomes one complete example, and the latest
correction of a ticket wins. Only active departments are learned: a retired department's
mail stops being predicted after the next training, and a new department is learned from
its examples.

Training is skipped when the examples hash to the active run's hash and its model file still
loads: nothing changed, nothing to do. Every training measures itself on a held-out quarter
first and stores that evaluation (ClassifierRun.metrics) for the admins' page.
"""

from __future__ import annotations

import csv
import logging
import re
import threading
import time
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
from mailrouter.routing.evaluation import format_scores
from mailrouter.routing.history import (
    DEFAULT_PRIORITY_WORDS,
    format_rule_report,
    overruled,
    priority_level,
    rule_report,
)
from mailrouter.routing.labels import Example, examples_hash, load_bootstrap_examples
from mailrouter.routing.urgency_rules import merge_urgency_rules
from support.core.config import mail_domains
from support.core.db import get_db
from support.core.leases import JobLease
from support.core.runner import PeriodicTask, Service
from support.desk.models import Department, Ticket, TrainingExample

log = logging.getLogger(__name__)

SOURCE_BOOTSTRAP = "bootstrap"
SOURCE_CSV = "csv"
CSV_COLUMNS = ("subject", "body", "department", "urgency")
TARGETS = ("department", "urgency")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_MAX_ERRORS_SHOWN = 10
# The setting CLASSIFIER_BOOTSTRAP_MIN_EXAMPLES's default (for callers without a config).
DEFAULT_BOOTSTRAP_MIN = 30
# One training at a time in this process (the periodic task and the web page's button).
_training_lock = threading.Lock()
#: The lease of `ensure_model`'s training: one process trains the model the others wait for.
START_TRAINING_LEASE = "classifier-start-training"
#: How often a process waiting for that model looks for it in the database.
START_TRAINING_POLL_SECONDS = 1.0


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
    #: Shipped examples left out (enough of the company's own, or not in its history).
    bootstrap_dropped: int = 0
    #: The departments and levels that shipped examples were used for.
    bootstrap_for: dict[str, list[Any]] = field(default_factory=dict)


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


def _usable(example: Example, active: set[str]) -> bool:
    return bool(
        example.department in active
        and 1 <= int(example.urgency) <= 5
        and (example.subject.strip() or example.body.strip())
    )


def choose_examples(
    candidates: Iterable[tuple[Example, str]], active: set[str], min_examples: int
) -> ExampleSet:
    """The examples a training uses: every usable confirmed one, and shipped (bootstrap) ones
    only where the company's own examples are too few.

    A bootstrap example is used when its department or its level has fewer than
    ``min_examples`` confirmed examples, unless an imported history (source "csv") of at
    least ``min_examples`` mails lacks its department or its level: such a history stands for
    the company's routing, and a company whose history has its own departments and priorities
    is not routed to the shipped ones. (A smaller import, a few mails teaching one new
    department, adds to the shipped examples.) Inactive departments are never learnt.
    """
    chosen = ExampleSet([])
    counts: Counter[str] = Counter()
    bootstrap: list[Example] = []
    real: list[Example] = []
    imported: list[Example] = []
    for example, source in candidates:
        if not _usable(example, active):
            chosen.skipped += 1
        elif source == SOURCE_BOOTSTRAP:
            bootstrap.append(example)
        else:
            real.append(example)
            counts[source] += 1
            if source == SOURCE_CSV:
                imported.append(example)
    departments = Counter(e.department for e in real)
    levels = Counter(int(e.urgency) for e in real)
    if imported and len(imported) >= min_examples:
        allowed_departments = set(departments)
        allowed_levels = set(levels)
    else:
        allowed_departments, allowed_levels = active, set(range(1, 6))
    topped_up: dict[str, set[Any]] = {"departments": set(), "levels": set()}
    dropped = 0
    for example in bootstrap:
        few_department = departments[example.department] < min_examples
        few_level = levels[int(example.urgency)] < min_examples
        if (
            example.department in allowed_departments
            and int(example.urgency) in allowed_levels
            and (few_department or few_level)
        ):
            chosen.examples.append(example)
            counts[SOURCE_BOOTSTRAP] += 1
            if few_department:
                topped_up["departments"].add(example.department)
            if few_level:
                topped_up["levels"].add(int(example.urgency))
        else:
            dropped += 1
    chosen.examples.extend(real)
    chosen.counts = dict(sorted(counts.items()))
    chosen.bootstrap_dropped = dropped
    chosen.bootstrap_for = {key: sorted(values) for key, values in topped_up.items()}
    return chosen


def collect_examples(session: Session, min_bootstrap: int = DEFAULT_BOOTSTRAP_MIN) -> ExampleSet:
    """Confirmed examples of active departments and levels 1..5, topped up with the shipped
    ones where they are too few (``choose_examples``)."""
    active = set(session.scalars(select(Department.code).where(Department.is_active.is_(True))))
    candidates = [(e, SOURCE_BOOTSTRAP) for e in load_bootstrap_examples()]
    candidates += confirmed_examples(session)
    return choose_examples(candidates, active, min_bootstrap)


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
    # The classifier, and scikit-learn with it, only when a model is trained (seconds of CPU
    # to import): the app, its pages and its other commands import this module.
    from mailrouter.routing.classifier import save_bundle, train

    with _training_lock:
        database = get_db(app)
        config = app.config
        with database.session() as session:
            data = collect_examples(session, int(config["CLASSIFIER_BOOTSTRAP_MIN_EXAMPLES"]))
            current = active_run(session)
            history = [example for example, _source in confirmed_examples(session)]
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
            bundle = train(
                data.examples,
                evaluate=True,
                min_confidence=float(config["CLASSIFIER_MIN_CONFIDENCE"]),
            )
        except ValueError as exc:
            raise TrainingError(f"cannot train the classifier: {exc}") from None
        rules = rule_report(
            history,
            merge_urgency_rules(config.get("CLASSIFIER_URGENCY_RULES") or {}),
            min_agreement=float(config["CLASSIFIER_RULE_MIN_AGREEMENT"]),
            disabled=config.get("CLASSIFIER_DISABLED_URGENCY_RULES") or (),
        )
        bundle.overruled_rules = overruled(rules)
        path = model_store.model_path(app.config, app.instance_path)
        save_bundle(bundle, path, model_store.signing_key(app.config))
        metrics: dict[str, Any] = {
            **bundle.metrics,
            "examples": {
                **data.counts,
                "skipped": data.skipped,
                "bootstrap_dropped": data.bootstrap_dropped,
                "total": len(data.examples),
            },
            "bootstrap_for": data.bootstrap_for,
            "urgency_rules": rules,
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
    """Train the bootstrap model when no usable model exists, here or in the database; True
    when this process trained it.

    For `support init` and every serving command at start: a fresh install routes mail from
    the first message. After SECRET_KEY was changed without `support train --force`, every
    copy is refused ("bad signature") in every process of every host at once: one of them
    trains, holding the START_TRAINING_LEASE, and the others wait for its model and take it
    from the database (a holder that dies lets its lease run out, and a waiter trains). A
    failure is logged, not raised: routing falls back to addresses and keywords.
    """
    if _model_usable(app):
        return False
    lease = JobLease(
        get_db(app), START_TRAINING_LEASE, seconds=float(app.config["PERIODIC_LEASE_SECONDS"])
    )
    waited = False
    while not lease.acquire():
        if not waited:
            log.info(
                "another process is training the classifier (no usable model here or in the "
                "database); waiting for its model"
            )
            waited = True
        time.sleep(START_TRAINING_POLL_SECONDS)
        if _model_usable(app, fresh=True):
            log.info("took the classifier another process trained")
            return False
    try:
        if _model_usable(app, fresh=True):  # trained by another process just before
            return False
        with lease.kept():
            result = train_model(app, force=True)
        lease.record_run()  # `support leases` says when it ran, not "never"
    except TrainingError as exc:
        log.warning("%s; routing by address and urgency keywords only", exc)
        return False
    finally:
        lease.release()
    log.info("%s", result.message)
    return True


def _model_usable(app: Flask, *, fresh: bool = False) -> bool:
    """A model this process may use (``fresh``: the database's copy looked at now, not
    MODEL_SYNC_SECONDS after the last look)."""
    return (
        model_store.current_model(app.config, app.instance_path, warn_missing=False, sync_now=fresh)
        is not None
    )


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
    """The held-out evaluation as text lines: where the examples came from, the chosen model,
    per target the figures of `evaluation.format_scores`, and the urgency keywords' report."""
    lines: list[str] = []
    topped = metrics.get("bootstrap_for") or {}
    if topped:
        lines.append(
            "shipped examples used for departments: "
            + (", ".join(topped.get("departments") or []) or "none")
            + "; levels: "
            + (", ".join(map(str, topped.get("levels") or [])) or "none")
        )
    model = metrics.get("model") or {}
    if model:
        lines.append(
            f"model chosen by {model.get('folds')}-fold cross-validation on {model.get('rows')} "
            f"examples: character features weight {model.get('char_weight')}; "
            + "; ".join(f"{t}: {label}" for t, label in (model.get("classifiers") or {}).items())
        )
    for target in TARGETS:
        scores = metrics.get(target) or {}
        if "accuracy" not in scores:
            lines.append(f"{target}: not evaluated ({scores.get('skipped', 'no figures')})")
            continue
        target_lines = format_scores(target, scores)
        target_lines[0] += (
            f" (held out {scores.get('n_test', '?')}, trained on {scores.get('n_train', '?')})"
        )
        lines.extend(target_lines)
    if "urgency_rules" in metrics:
        lines.extend(format_rule_report(metrics["urgency_rules"]))
    return lines


# ----------------------------------------------------------------------------- CSV import


def priority_words(config: Mapping[str, Any]) -> dict[str, int]:
    """The built-in priority words with CLASSIFIER_PRIORITY_WORDS merged over them."""
    extra = config.get("CLASSIFIER_PRIORITY_WORDS") or {}
    return {**DEFAULT_PRIORITY_WORDS, **{str(k): int(v) for k, v in extra.items()}}


def read_labelled_csv(path: str | Path, words: Mapping[str, int] | None = None) -> list[Example]:
    """Examples from a CSV with columns subject, body, department, urgency (others ignored).

    Urgency is a level 1-5 or a priority word of ``words`` (default: the built-in ones,
    `history.DEFAULT_PRIORITY_WORDS`; "high" is 4, "紧急" 5).

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
            return _examples_from_rows(path, reader, words)
    except UnicodeDecodeError:
        raise CsvImportError(f"{path}: not UTF-8 text (save the file as UTF-8 CSV)") from None
    except OSError as exc:
        raise CsvImportError(f"{path}: {exc.strerror or exc}") from None
    except csv.Error as exc:
        raise CsvImportError(f"{path}: not a readable CSV file ({exc})") from None


def _examples_from_rows(
    path: str | Path, rows: Iterable[dict[str, str | None]], words: Mapping[str, int] | None
) -> list[Example]:
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
        level = priority_level(raw_urgency, words)
        if level is None:
            problems.append(
                f"urgency must be 1 to 5, not {raw_urgency[:40]!r} "
                "(or a priority word of CLASSIFIER_PRIORITY_WORDS)"
            )
        if problems or level is None:
            errors.append(f"line {number}: {'; '.join(problems)}")
            continue
        examples.append(Example(subject, body, department, level))
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
    domains = mail_domains(config)
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
    examples = read_labelled_csv(path, priority_words(config))
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
