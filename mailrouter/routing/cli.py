"""Classifier commands: `support train` (retrain, import labelled history) and `support classify`
(what the router would decide for one mail, or how well it does on a labelled CSV)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask

from support.core.commands import with_app
from support.core.db import get_db

# The classifier (scikit-learn), the parser and the router are imported by the commands that
# use them: `support --help` shows this module's help texts.

_CSV_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("train")
@click.option("--csv", "csv_path", type=_CSV_FILE, help="Import labelled history first.")
@click.option(
    "--create-departments",
    is_flag=True,
    help="With --csv: create unknown department codes (address <code>@<first mail domain>).",
)
@click.option("--force", is_flag=True, help="Retrain even when no example changed.")
@with_app
def train_command(app: Flask, csv_path: Path | None, create_departments: bool, force: bool) -> None:
    """Retrain the classifier from the shipped examples and staff-confirmed labels.

    Skipped when nothing changed since the last training; prints the held-out evaluation.
    CSV columns: subject, body, department (code), urgency (1-5 or a priority word such as
    high, P2, 紧急: CLASSIFIER_PRIORITY_WORDS).
    """
    from mailrouter.routing.training import (
        CsvImportError,
        TrainingError,
        format_metrics,
        import_csv,
        train_model,
    )

    if create_departments and csv_path is None:
        raise click.UsageError("--create-departments only applies with --csv FILE")
    if csv_path is not None:
        try:
            with get_db(app).session() as session:
                imported = import_csv(
                    session, csv_path, config=app.config, create_departments=create_departments
                )
        except CsvImportError as exc:
            raise click.ClickException(str(exc)) from None
        for code in imported.created_departments:
            click.echo(f"created department {code}")
        click.echo(
            f"imported {imported.added} example(s) from {csv_path}"
            + (f" ({imported.duplicates} were there already)" if imported.duplicates else "")
        )
    try:
        result = train_model(app, force=force)
    except TrainingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.message)
    if result.trained:
        examples = result.metrics.get("examples") or {}
        click.echo("examples: " + ", ".join(f"{k} {v}" for k, v in examples.items()))
        for line in format_metrics(result.metrics):
            click.echo(line)


@click.command("classify")
@click.argument("eml", required=False, type=click.File("rb"))
@click.option(
    "--csv", "csv_path", type=_CSV_FILE, help="Measure accuracy on a labelled CSV instead."
)
@with_app
def classify_command(app: Flask, eml: Any, csv_path: Path | None) -> None:
    """Show how the router classifies a mail (FILE.eml, or stdin) as JSON.

    The text alone decides, as for mail to the general address: no recipient address, key
    account or follow-up adjustments.
    """
    from mailrouter.routing import model_store

    bundle = model_store.current_model(app.config, app.instance_path)
    if csv_path is not None:
        if eml is not None:
            raise click.UsageError("give either FILE.eml or --csv FILE, not both")
        _evaluate_csv(app, bundle, csv_path)
        return
    raw = (eml or sys.stdin.buffer).read()
    if not raw.strip():
        raise click.ClickException("no mail given (pass FILE.eml or pipe a message on stdin)")
    if bundle is None:
        click.echo("no classifier model: urgency keywords only (run `support train`)", err=True)
    click.echo(json.dumps(classify_raw(app, raw, bundle), ensure_ascii=False, indent=2))


def classify_raw(app: Flask, raw: bytes, bundle: Any) -> dict[str, Any]:
    """The router's decision for one raw message, as the JSON `support classify` prints."""
    from mailrouter.parsing import parse_message
    from mailrouter.routing.decisions import active_departments, decide, is_reply_subject
    from mailrouter.tokens import strip_subject_prefixes
    from support.desk.outbox import own_addresses

    with get_db(app).session() as session:
        active = set(active_departments(session))
        own = own_addresses(session, app.config)
    parsed = parse_message(
        raw, max_attachment_bytes=app.config["MAIL_MAX_ATTACHMENT_BYTES"], own_addresses=own
    )
    subject = strip_subject_prefixes(parsed.subject) or parsed.subject
    decision = decide(
        subject,
        parsed.reading_text(),
        config=app.config,
        bundle=bundle,
        active_codes=active,
        reply=is_reply_subject(parsed.subject),
    )
    department = decision.classification["department"]
    urgency = decision.classification["urgency"]
    return {
        "department": decision.department_code,
        "needs_triage": decision.needs_triage,
        "best_guess": department.get("label"),
        "source": department["source"],
        "urgency": decision.urgency,
        "confidence": department.get("probability"),
        "urgency_confidence": urgency.get("probability"),
        "reasons": {"department": department["reasons"], "urgency": urgency["reasons"]},
        "rule": urgency.get("rule"),
        "model_version": decision.classification["model_version"],
    }


def _evaluate_csv(app: Flask, bundle: Any, csv_path: Path) -> None:
    """Accuracy, macro-F1 over the file's true labels, per class, calibration and triage share
    of the model in use on a labelled CSV (`evaluation.scores`, as the classifier page)."""
    from mailrouter.routing.classifier import predict_many
    from mailrouter.routing.decisions import active_departments, urgency_rules
    from mailrouter.routing.evaluation import format_scores, scores
    from mailrouter.routing.training import CsvImportError, priority_words, read_labelled_csv

    if bundle is None:
        raise click.ClickException("no classifier model to measure: run `support train` first")
    try:
        examples = read_labelled_csv(csv_path, priority_words(app.config))
    except CsvImportError as exc:
        raise click.ClickException(str(exc)) from None
    with get_db(app).session() as session:
        active = set(active_departments(session))
    predictions = predict_many(
        bundle, [(e.subject, e.body) for e in examples], urgency_rules=urgency_rules(app.config)
    )
    min_confidence = float(app.config["CLASSIFIER_MIN_CONFIDENCE"])
    click.echo(f"{len(examples)} labelled mail(s), model {bundle.model_version}")
    choice = bundle.choice or {}
    if choice:
        click.echo(
            f"model: character features weight {choice.get('char_weight')}; "
            + "; ".join(f"{t}: {label}" for t, label in (choice.get("classifiers") or {}).items())
        )
    if bundle.overruled_rules:
        click.echo(
            "urgency keywords overruled by the history: "
            + ", ".join(sorted(bundle.overruled_rules))
        )
    department = scores(
        [e.department for e in examples],
        [str(d.label) for d, _u in predictions],
        [float(d.probability) for d, _u in predictions],
        min_confidence=min_confidence,
    )
    urgency = scores(
        [e.urgency for e in examples],
        [int(u.label) for _d, u in predictions],
        [float(u.probability) for _d, u in predictions],
    )
    for target, figures in (("department", department), ("urgency", urgency)):
        for line in format_scores(target, figures):
            click.echo(line)
    routed = [
        i
        for i, (prediction, _u) in enumerate(predictions)
        if prediction.probability >= min_confidence
        and str(prediction.label) in active
        and _familiar(prediction)
    ]
    share = len(routed) / len(examples)
    line = (
        f"routed without triage at confidence {min_confidence} (active departments, familiar "
        f"words): {len(routed)} ({share:.0%}), triage {1 - share:.0%}"
    )
    if routed:
        correct = sum(examples[i].department == str(predictions[i][0].label) for i in routed)
        line += f", department accuracy there {correct / len(routed):.3f}"
    click.echo(line)


def _familiar(prediction: Any) -> bool:
    """The model saw enough of the mail's words (as routing requires, see decisions)."""
    from mailrouter.routing.decisions import MIN_KNOWN_SHARE, MIN_KNOWN_WORDS

    if prediction.known_words is None:
        return True
    known, total = prediction.known_words
    return known >= MIN_KNOWN_WORDS and known >= MIN_KNOWN_SHARE * total


COMMANDS: list[click.Command] = [train_command, classify_command]
