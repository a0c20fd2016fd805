"""Offline, explainable classifier: which department a mail belongs to and how urgent it is.

One scikit-learn pipeline per target (department, urgency), both reading the same text
features (`mailrouter.routing.features`). The classifier is linear (by default a linear SVM
with sigmoid-calibrated probabilities; each training picks among a few linear models and
feature weights by cross-validation on its own examples, `mailrouter.routing.model_choice`),
so every decision can be explained by the words that pushed it (coefficient x feature value),
and staff can see why a mail landed in their inbox. Predictions run through the fast scorer
(`mailrouter.routing.scorer`), which computes what the pipelines compute, without their
per-call overhead.

Both pipelines share one fitted feature step: the text features do not depend on the target,
and computing them once halves the training time.

Explicit urgency keywords (`mailrouter.routing.urgency_rules`) win over the model's urgency,
except the keywords a company's imported history contradicts (`overruled_rules`, found by
`mailrouter.routing.history` at training): for those the model, which learnt that history, decides.

The model file is a pickle, and unpickling runs code, so `save_bundle` signs it with
HMAC-SHA256 and `load_bundle` refuses anything unsigned, tampered, of another format or of
another scikit-learn version: a model that cannot load means "retrain", never a crash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import pickle
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from mailrouter.routing.evaluation import scores
from mailrouter.routing.features import build_features, mail_text
from mailrouter.routing.labels import Example, Prediction, canonical_order, examples_hash
from mailrouter.routing.model_choice import Choice, choose, weighted
from mailrouter.routing.scorer import FastScorer, Row
from mailrouter.routing.scorer import clear_caches as clear_scorer_caches
from mailrouter.routing.urgency_rules import (
    DEFAULT_URGENCY_RULES,
    match_urgency_rules,
    without_rules,
)
from support.core.atomic_files import replacing

logger = logging.getLogger(__name__)

#: Bumped whenever the bundle's shape or the text features change: old files mean "retrain".
#: 2: Chinese read through support.core.text (帳 -> 账, the shop's jieba dictionary, kana).
#: 3: features and fast scorer moved to their own modules (the pickle names classes by module).
#: 4: "no hurry" phrases read as one word (features.NO_HURRY_TOKEN).
#: 5: model and feature weight chosen by cross-validation; urgency rules the history overrules.
#: 6: greetings, closings and signatures are no features (contentless.without_courtesy).
FORMAT_VERSION = 6
TARGETS = ("department", "urgency")
HELD_OUT_FRACTION = 0.25
RANDOM_STATE = 0
# The triage threshold the held-out evaluation reports on when none is given (the setting's
# default, mailrouter.settings CLASSIFIER_MIN_CONFIDENCE).
DEFAULT_MIN_CONFIDENCE = 0.45

_FILE_MAGIC = b"mailrouter-classifier\n"
_SIGNATURE_HEX_CHARS = 64


# ----------------------------------------------------------------------------- data


def _targets(examples: Sequence[Example]) -> dict[str, list[Any]]:
    return {
        "department": [e.department for e in examples],
        "urgency": [int(e.urgency) for e in examples],
    }


# ----------------------------------------------------------------------------- the bundle


@dataclass(kw_only=True)
class ClassifierBundle:
    """Everything a trained model needs at prediction time, saved and loaded as one file."""

    format_version: int = FORMAT_VERSION
    sklearn_version: str = sklearn.__version__
    trained_at: datetime
    data_hash: str
    n_examples: int
    training_seconds: float
    department_labels: list[str]
    urgency_labels: list[int]
    department_pipeline: Pipeline
    urgency_pipeline: Pipeline
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    scorer: FastScorer = field(repr=False)
    #: The model choice (model_choice.Choice.describe()): shown with the model's figures.
    choice: dict[str, Any] = field(default_factory=dict)
    #: Urgency keywords the imported history contradicts: the model decides instead
    #: (set by the training, see mailrouter.routing.history).
    overruled_rules: frozenset[str] = frozenset()

    @functools.cached_property
    def model_version(self) -> str:
        """A short name for this model, shown to admins next to its metrics (and stored with
        every routing decision, so it is made once)."""
        stamp = self.trained_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"v{self.format_version}-sklearn{self.sklearn_version}-{stamp}"


# ----------------------------------------------------------------------------- training


def _word_columns(features: FeatureUnion) -> int:
    return len(features.transformer_list[0][1].vocabulary_)


def _fit_pipelines(
    texts: Sequence[str], targets: Mapping[str, Sequence[Any]], choice: Choice | None = None
) -> tuple[dict[str, Pipeline], Choice]:
    """One pipeline per target around a single fitted feature step they share, and the model
    choice they were fitted with (made here by cross-validation when ``choice`` is None).

    Single-threaded on purpose: a background retrain must not starve the threads serving
    requests, and on data this size BLAS/OpenMP threads cost more than they save (2x slower
    on a busy two-core machine, mostly in the calibration's tiny optimisations).
    """
    with threadpool_limits(limits=1):
        features = build_features()
        matrix = features.fit_transform(list(texts))
        words = _word_columns(features)
        if choice is None:
            choice = choose(matrix, words, targets)
        if choice.char_weight != 1.0:
            features.set_params(transformer_weights={"words": 1.0, "chars": choice.char_weight})
            matrix = weighted(matrix, words, choice.char_weight)
        pipelines = {
            target: Pipeline(
                [
                    ("features", features),
                    (
                        "classifier",
                        choice.classifier(target).fit(matrix, labels),
                    ),
                ]
            )
            for target, labels in targets.items()
        }
        return pipelines, choice


def _split(
    texts: list[str], targets: Mapping[str, list[Any]]
) -> tuple[list[int], list[int]] | None:
    """Indices of a 75/25 split, stratified as finely as the class sizes allow."""
    n = len(texts)
    n_test = round(n * HELD_OUT_FRACTION)
    if n_test < 1 or n - n_test < 2:
        return None
    candidates = [
        list(zip(targets["department"], targets["urgency"], strict=True)),
        targets["department"],
        targets["urgency"],
    ]
    for labels in candidates:
        counts = Counter(labels)
        if min(counts.values()) >= 2 and len(counts) <= min(n_test, n - n_test):
            stratify: list[Any] | None = [str(label) for label in labels]
            break
    else:
        logger.info("a class has fewer than 2 examples: the held-out split is not stratified")
        stratify = None
    train_index, test_index = train_test_split(
        list(range(n)), test_size=n_test, stratify=stratify, random_state=RANDOM_STATE
    )
    return train_index, test_index


def _evaluate(
    texts: list[str], targets: Mapping[str, list[Any]], min_confidence: float
) -> tuple[dict[str, dict[str, Any]], Choice | None]:
    """Fit on 75%, score on the held-out 25%: the figures admins see before trusting a model.

    The model choice is made on the 75% alone (so the held-out figures are honest) and
    returned for the final fit on all examples.
    """
    split = _split(texts, targets)
    if split is None:
        skipped = {target: {"skipped": "too few examples to hold some out"} for target in targets}
        return skipped, None
    train_index, test_index = split
    train_targets = {t: [labels[i] for i in train_index] for t, labels in targets.items()}
    fittable = {t: labels for t, labels in train_targets.items() if len(set(labels)) >= 2}
    pipelines, choice = _fit_pipelines([texts[i] for i in train_index], fittable)
    test_texts = [texts[i] for i in test_index]
    metrics: dict[str, dict[str, Any]] = {}
    for target, labels in targets.items():
        if target not in pipelines:
            metrics[target] = {"skipped": "the training part of the split holds a single class"}
            continue
        pipeline = pipelines[target]
        probabilities = pipeline.predict_proba(test_texts)
        classes = [c.item() if hasattr(c, "item") else c for c in pipeline.classes_]
        best = probabilities.argmax(axis=1)
        metrics[target] = scores(
            [labels[i] for i in test_index],
            [classes[b] for b in best],
            probabilities.max(axis=1).tolist(),
            min_confidence=min_confidence if target == "department" else None,
        )
        metrics[target].update(n_train=len(train_index), n_test=len(test_index))
    return metrics, choice


def train(
    examples: Sequence[Example],
    *,
    evaluate: bool = True,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> ClassifierBundle:
    """Fit both targets on all examples; with ``evaluate``, first measure on a held-out split.

    The model and feature setting are chosen by cross-validation (`model_choice`): on the
    training part of the split when evaluating, else on all examples. ``min_confidence``
    is the triage threshold whose share the evaluation reports. The examples are read in
    `canonical_order`: the same examples in any order make the same model.

    Raises ValueError when a target has fewer than two classes: nothing to decide between.
    """
    started = time.perf_counter()
    examples = canonical_order(examples)
    texts = [mail_text(e.subject, e.body) for e in examples]
    targets = _targets(examples)
    for target, labels in targets.items():
        if len(set(labels)) < 2:
            raise ValueError(f"{target}: need examples of at least two classes to train")
    metrics, choice = _evaluate(texts, targets, min_confidence) if evaluate else ({}, None)
    pipelines, choice = _fit_pipelines(texts, targets, choice)
    if evaluate:
        metrics["model"] = choice.describe()
    scorer = FastScorer.from_pipelines(pipelines)
    scorer.check_against(pipelines, texts[:: max(1, len(texts) // 50)])
    bundle = ClassifierBundle(
        trained_at=datetime.now(UTC),
        data_hash=examples_hash(examples),
        n_examples=len(examples),
        training_seconds=0.0,
        department_labels=sorted(set(targets["department"])),
        urgency_labels=sorted(set(targets["urgency"])),
        department_pipeline=pipelines["department"],
        urgency_pipeline=pipelines["urgency"],
        metrics=metrics,
        scorer=scorer,
        choice=choice.describe(),
    )
    bundle.training_seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "trained classifier on %d examples in %.1f s", len(examples), bundle.training_seconds
    )
    return bundle


def cross_validate(examples: Sequence[Example], folds: int = 5) -> dict[str, dict[str, float]]:
    """Mean and standard deviation of accuracy and macro-F1 per target over k folds.

    Each fold trains as `train` does, model choice included (made on the fold's training part),
    on the examples in `canonical_order`: the same examples give the same figures.
    """
    examples = canonical_order(examples)
    texts = [mail_text(e.subject, e.body) for e in examples]
    results: dict[str, dict[str, float]] = {}
    for target, labels in _targets(examples).items():
        smallest = min(Counter(labels).values())
        if smallest >= 2:
            n_splits = max(2, min(folds, smallest))
            splitter: Any = StratifiedKFold(n_splits, shuffle=True, random_state=RANDOM_STATE)
        else:
            n_splits = max(2, min(folds, len(examples)))
            splitter = KFold(n_splits, shuffle=True, random_state=RANDOM_STATE)
        accuracies, f1s = [], []
        for train_index, test_index in splitter.split(texts, [str(label) for label in labels]):
            train_labels = [labels[i] for i in train_index]
            if len(set(train_labels)) < 2:
                continue
            model, _choice = _fit_pipelines([texts[i] for i in train_index], {target: train_labels})
            predicted = model[target].predict([texts[i] for i in test_index])
            truth = [labels[i] for i in test_index]
            accuracies.append(accuracy_score(truth, predicted))
            f1s.append(f1_score(truth, predicted, average="macro", zero_division=0))
        results[target] = {
            "accuracy_mean": float(np.mean(accuracies)),
            "accuracy_std": float(np.std(accuracies)),
            "macro_f1_mean": float(np.mean(f1s)),
            "macro_f1_std": float(np.std(f1s)),
            "folds": len(accuracies),
        }
    return results


# ----------------------------------------------------------------------------- persistence


def _as_key(key: bytes | str) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def _signature(key: bytes, header: bytes, payload: bytes) -> bytes:
    mac = hmac.new(key, header, hashlib.sha256)
    mac.update(b"\n")
    mac.update(payload)
    return mac.hexdigest().encode("ascii")


def save_bundle(bundle: ClassifierBundle, path: str | os.PathLike[str], key: bytes) -> None:
    """Write the model atomically (a crash leaves the old file intact), signed with ``key``."""
    key = _as_key(key)
    if not key:
        raise ValueError("a signing key is required to save the classifier")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = json.dumps(
        {
            "format_version": bundle.format_version,
            "sklearn_version": bundle.sklearn_version,
            "data_hash": bundle.data_hash,
            "trained_at": bundle.trained_at.isoformat(),
        },
        sort_keys=True,
    ).encode("utf-8")
    payload = pickle.dumps(bundle, protocol=pickle.HIGHEST_PROTOCOL)
    with replacing(path) as handle:
        handle.write(_FILE_MAGIC)
        handle.write(header + b"\n")
        handle.write(_signature(key, header, payload) + b"\n")
        handle.write(payload)
    logger.info("saved classifier %s to %s", bundle.model_version, path)


def load_bundle(path: str | os.PathLike[str], key: bytes) -> ClassifierBundle | None:
    """The saved model, or None (with a warning) when it is missing or must not be trusted."""
    try:
        return _load_bundle(Path(path), _as_key(key))
    except Exception as exc:  # a model that cannot load means "no suggestion", never a crash
        logger.warning("classifier file %s cannot be loaded (%s): retrain", path, exc)
        return None


def _load_bundle(path: Path, key: bytes) -> ClassifierBundle | None:
    def refuse(reason: str) -> ClassifierBundle | None:
        """Log why the file is not used; None, for ``return refuse(...)``."""
        logger.warning("classifier file %s not used: %s", path, reason)
        return None

    if not key:
        return refuse("no signing key given")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return refuse("it does not exist (train the classifier first)")
    if not data.startswith(_FILE_MAGIC):
        return refuse("not a classifier file")
    header, _, rest = data[len(_FILE_MAGIC) :].partition(b"\n")
    signature, _, payload = rest.partition(b"\n")
    if len(signature) != _SIGNATURE_HEX_CHARS or not payload:
        return refuse("truncated or corrupt")
    if not hmac.compare_digest(signature, _signature(key, header, payload)):
        return refuse("bad signature (tampered, or signed with another key)")
    info = json.loads(header)
    if info.get("format_version") != FORMAT_VERSION:
        return refuse(f"format version {info.get('format_version')}, expected {FORMAT_VERSION}")
    if info.get("sklearn_version") != sklearn.__version__:
        return refuse(
            f"made with scikit-learn {info.get('sklearn_version')}, running {sklearn.__version__}"
        )
    bundle = pickle.loads(payload)  # safe: the HMAC proves we wrote these bytes
    if not isinstance(bundle, ClassifierBundle) or bundle.format_version != FORMAT_VERSION:
        return refuse("unexpected content")
    return bundle


# ----------------------------------------------------------------------------- prediction


def _predict_target(scorer: FastScorer, target: str, row: Row) -> Prediction:
    probabilities = scorer.probabilities(target, row)
    best = int(probabilities.argmax())
    reasons = scorer.reasons(target, row, best)
    return Prediction(scorer.heads[target].classes[best], float(probabilities[best]), reasons)


def _apply_rules(
    prediction: Prediction,
    text: str,
    rules: Mapping[int, Iterable[str]] | None,
    overruled: frozenset[str] = frozenset(),
) -> Prediction:
    if rules is None:
        return prediction
    hit = match_urgency_rules(text, without_rules(rules, overruled))
    if hit is None:
        return prediction
    return Prediction(hit.level, 1.0, [hit.keyword], rule=hit.keyword)


def predict(
    bundle: ClassifierBundle,
    subject: str,
    body: str,
    *,
    urgency_rules: Mapping[int, Iterable[str]] | None = DEFAULT_URGENCY_RULES,
) -> tuple[Prediction, Prediction]:
    """(department, urgency) of one mail; urgency rules win when they fire, except the ones
    the bundle's history overruled.

    Pass ``urgency_rules=None`` for the model's own urgency (evaluation, debugging).
    """
    text = mail_text(subject, body)
    row = bundle.scorer.row(text)  # read once, for both targets
    department = _predict_target(bundle.scorer, "department", row)
    department.known_words = bundle.scorer.known_words(text)
    urgency = _predict_target(bundle.scorer, "urgency", row)
    return department, _apply_rules(urgency, text, urgency_rules, bundle.overruled_rules)


def predict_many(
    bundle: ClassifierBundle,
    items: Sequence[tuple[str, str]],
    *,
    urgency_rules: Mapping[int, Iterable[str]] | None = DEFAULT_URGENCY_RULES,
) -> list[tuple[Prediction, Prediction]]:
    """``predict`` for each (subject, body): one mail at a time is as fast as a batch."""
    return [predict(bundle, s, b, urgency_rules=urgency_rules) for s, b in items]


def clear_caches(bundle: ClassifierBundle | None = None) -> None:
    """Forget remembered texts, segmentations and words (benchmarks measuring new mail)."""
    clear_scorer_caches(bundle.scorer if bundle is not None else None)
