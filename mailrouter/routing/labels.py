"""What the classifier learns from and answers with, without the model: labelled examples
(the shipped bootstrap set, staff corrections, imported history) and predictions.

Kept apart from `mailrouter.routing.classifier` because reading them needs no scikit-learn:
the pages, the training's bookkeeping and the routing decisions import this module, and only
training or loading a model imports the classifier (which takes seconds of CPU to import).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.resources
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One labelled mail: bootstrap CSV rows, staff corrections and triage decisions."""

    subject: str
    body: str
    department: str
    urgency: int


def load_bootstrap_examples() -> list[Example]:
    """The shipped, hand-written training set that lets a fresh install route mail at once."""
    resource = importlib.resources.files("mailrouter.routing.training_data") / "bootstrap.csv"
    # Bytes, decoded as they are: csv wants line endings untranslated (newline=""), which
    # Traversable.open is not typed to take.
    handle = io.StringIO(resource.read_bytes().decode("utf-8"), newline="")
    return [
        Example(
            subject=row["subject"],
            body=row["body"],
            department=row["department"],
            urgency=int(row["urgency"]),
        )
        for row in csv.DictReader(handle)
    ]


def _canonical_line(example: Example) -> str:
    return json.dumps(
        [example.subject, example.body, example.department, int(example.urgency)],
        ensure_ascii=False,
    )


def _order_key(example: Example) -> tuple[str, str]:
    line = _canonical_line(example)
    return hashlib.sha256(line.encode("utf-8")).hexdigest(), line


def canonical_order(examples: Iterable[Example]) -> list[Example]:
    """The examples in one order that does not depend on the order they came in.

    Training reads them in this order: the held-out split, the model choice's folds, the
    calibration's folds (unshuffled) and the SVM's coordinate descent all follow row order, so
    the same examples read in another order (a CSV sorted otherwise, corrections in another
    order from the database) made another model and other decisions near its thresholds.

    The order is by a hash of each example's content, not by its text: sorted text would put
    every Chinese mail after every English one, and the calibration's unshuffled folds would
    each learn mostly one language. Hashed, the order is as mixed as a shuffle, and adding an
    example leaves the others' order as it was.
    """
    return sorted(examples, key=_order_key)


def examples_hash(examples: Iterable[Example]) -> str:
    """sha256 of the examples, independent of their order: equal hash, nothing to retrain."""
    lines = sorted(_canonical_line(e) for e in examples)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


@dataclass
class Prediction:
    """A decision, how sure the model is, and the words that drove it (or the rule that fired)."""

    label: str | int
    probability: float
    reasons: list[str]
    rule: str | None = None  # the urgency keyword that decided, when a rule beat the model
    #: (known, all) words of the mail for the model (department predictions only).
    known_words: tuple[int, int] | None = None
