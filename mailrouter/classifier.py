"""Offline, explainable classifier: which department a mail belongs to and how urgent it is.

One scikit-learn pipeline per target (department, urgency), both reading the same text:
word TF-IDF (jieba segments Chinese after Traditional->Simplified; English is lowercased) plus
character 2-4-gram TF-IDF, which catches typos, inflections and unsegmented Chinese. The
classifier is a linear model, so every decision can be explained by the words that pushed it
(coefficient x feature value), and staff can see why a mail landed in their inbox.

Explicit urgency keywords (`mailrouter.urgency_rules`) always win over the model's urgency.

The model file is a pickle, and unpickling runs code, so `save_bundle` signs it with
HMAC-SHA256 and `load_bundle` refuses anything unsigned, tampered, of another format or of
another scikit-learn version: a model that cannot load means "retrain", never a crash.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import importlib.resources
import json
import logging
import os
import pickle
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jieba
import numpy as np
import sklearn
from opencc import OpenCC
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.pipeline import FeatureUnion, Pipeline

from mailrouter.urgency_rules import DEFAULT_URGENCY_RULES, match_urgency_rules

logger = logging.getLogger(__name__)

#: Bumped whenever the bundle's shape or the text features change: old files mean "retrain".
FORMAT_VERSION = 1
TARGETS = ("department", "urgency")
HELD_OUT_FRACTION = 0.25
REASONS_PER_PREDICTION = 5
RANDOM_STATE = 0

_FILE_MAGIC = b"mailrouter-classifier\n"
_SIGNATURE_HEX_CHARS = 64
# A token worth keeping: it holds a letter, digit or CJK character, and is not only digits
# (order numbers and amounts say nothing about department or urgency).
_USEFUL_TOKEN_RE = re.compile(r"[^\W_]", re.UNICODE)
_DIGITS_RE = re.compile(r"^[\d.,:/-]+$")


# ----------------------------------------------------------------------------- text features


@functools.cache
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@functools.cache
def _jieba() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@functools.lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    """Simplified Chinese and lowercase, so 帳號/账号 and Refund/refund are one feature.

    Cached: the word and character features of both targets read the same mail.
    """
    return _t2s().convert(text).lower()


@functools.lru_cache(maxsize=4096)
def _tokens(normalized: str) -> tuple[str, ...]:
    words = (word.strip() for word in _jieba().lcut(normalized))
    return tuple(w for w in words if _USEFUL_TOKEN_RE.search(w) and not _DIGITS_RE.match(w))


def tokenize(text: str) -> list[str]:
    """Words of a mail: jieba segments Chinese; English words are lowercased; noise dropped."""
    return list(_tokens(normalize_text(text)))


def mail_text(subject: str, body: str) -> str:
    """The one text both pipelines read; the subject is short and telling, so it comes first."""
    return f"{subject or ''}\n{body or ''}"


def _build_pipeline() -> Pipeline:
    words = TfidfVectorizer(
        preprocessor=normalize_text,
        tokenizer=_tokens,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        preprocessor=normalize_text,
        analyzer="char_wb",
        ngram_range=(2, 4),
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
    )
    classifier = LogisticRegression(C=20.0, class_weight="balanced", max_iter=2000)
    return Pipeline(
        [
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
            ("classifier", classifier),
        ]
    )


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Example:
    """One labelled mail: bootstrap CSV rows, staff corrections and triage decisions."""

    subject: str
    body: str
    department: str
    urgency: int


def load_bootstrap_examples() -> list[Example]:
    """The shipped, hand-written training set that lets a fresh install route mail at once."""
    resource = importlib.resources.files("mailrouter.training_data") / "bootstrap.csv"
    with resource.open("r", encoding="utf-8", newline="") as handle:
        return [
            Example(
                subject=row["subject"],
                body=row["body"],
                department=row["department"],
                urgency=int(row["urgency"]),
            )
            for row in csv.DictReader(handle)
        ]


def examples_hash(examples: Iterable[Example]) -> str:
    """sha256 of the examples, independent of their order: equal hash, nothing to retrain."""
    lines = sorted(
        json.dumps([e.subject, e.body, e.department, int(e.urgency)], ensure_ascii=False)
        for e in examples
    )
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _targets(examples: Sequence[Example]) -> dict[str, list[Any]]:
    return {
        "department": [e.department for e in examples],
        "urgency": [int(e.urgency) for e in examples],
    }


# ----------------------------------------------------------------------------- the bundle


@dataclass
class Explainer:
    """What `predict` needs to name the words behind a decision, computed once at training."""

    classes: list[Any]
    feature_names: np.ndarray  # str, aligned with the feature union's columns
    coef: np.ndarray  # (n_classes, n_features), row per class, same order as `classes`


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
    explainers: dict[str, Explainer] = field(default_factory=dict, repr=False)

    @property
    def model_version(self) -> str:
        """A short name for this model, shown to admins next to its metrics."""
        stamp = self.trained_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"v{self.format_version}-sklearn{self.sklearn_version}-{stamp}"

    def pipeline(self, target: str) -> Pipeline:
        return {"department": self.department_pipeline, "urgency": self.urgency_pipeline}[target]


def _explainer(pipeline: Pipeline) -> Explainer:
    classifier = pipeline.named_steps["classifier"]
    classes = [c.item() if hasattr(c, "item") else c for c in classifier.classes_]
    coef = _class_coefficients(classifier)
    names = pipeline.named_steps["features"].get_feature_names_out()
    return Explainer(classes=classes, feature_names=names, coef=coef)


def _class_coefficients(classifier: Any) -> np.ndarray:
    """One coefficient row per class, for a linear model or a calibrated set of them."""
    if hasattr(classifier, "calibrated_classifiers_"):
        coef = np.mean([c.estimator.coef_ for c in classifier.calibrated_classifiers_], axis=0)
    else:
        coef = classifier.coef_
    coef = np.asarray(coef, dtype=np.float32)
    if coef.shape[0] == 1:  # binary: one row scores the second class against the first
        coef = np.vstack([-coef[0], coef[0]])
    return coef


# ----------------------------------------------------------------------------- training


def _can_stratify(labels: Sequence[Any], n_splits_or_test: int) -> bool:
    counts = Counter(labels)
    return len(counts) > 1 and min(counts.values()) >= 2 and n_splits_or_test >= len(counts)


def _evaluate(texts: list[str], labels: list[Any]) -> dict[str, Any]:
    """Fit on 75%, score on the held-out 25%: the figures admins see before trusting a model."""
    n_test = max(1, round(len(texts) * HELD_OUT_FRACTION))
    stratify = labels if _can_stratify(labels, n_test) else None
    if stratify is None:
        logger.info("some %s class has < 2 examples: held-out split is not stratified", labels)
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=n_test, stratify=stratify, random_state=RANDOM_STATE
    )
    if len(set(y_train)) < 2:
        return {"skipped": "the training part of the split holds a single class"}
    predicted = _build_pipeline().fit(x_train, y_train).predict(x_test)
    labels_sorted = sorted(set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_test, predicted, labels=labels_sorted, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y_test, predicted)),
        "macro_f1": float(
            f1_score(y_test, predicted, labels=labels_sorted, average="macro", zero_division=0)
        ),
        "per_class": {
            str(label): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels_sorted)
        },
        "confusion_matrix": {
            "labels": [str(label) for label in labels_sorted],
            "rows": confusion_matrix(y_test, predicted, labels=labels_sorted).tolist(),
        },
        "n_train": len(x_train),
        "n_test": len(x_test),
    }


def train(examples: Sequence[Example], *, evaluate: bool = True) -> ClassifierBundle:
    """Fit both targets on all examples; with ``evaluate``, first measure on a held-out split.

    Raises ValueError when a target has fewer than two classes: nothing to decide between.
    """
    started = time.perf_counter()
    examples = list(examples)
    texts = [mail_text(e.subject, e.body) for e in examples]
    targets = _targets(examples)
    for target, labels in targets.items():
        if len(set(labels)) < 2:
            raise ValueError(f"{target}: need examples of at least two classes to train")
    metrics: dict[str, dict[str, Any]] = {}
    if evaluate:
        for target, labels in targets.items():
            metrics[target] = _evaluate(texts, labels)
    pipelines = {target: _build_pipeline().fit(texts, labels) for target, labels in targets.items()}
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
        explainers={target: _explainer(pipeline) for target, pipeline in pipelines.items()},
    )
    bundle.training_seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "trained classifier on %d examples in %.1f s", len(examples), bundle.training_seconds
    )
    return bundle


def cross_validate(examples: Sequence[Example], folds: int = 5) -> dict[str, dict[str, float]]:
    """Mean and standard deviation of accuracy and macro-F1 per target over k folds."""
    examples = list(examples)
    texts = np.array([mail_text(e.subject, e.body) for e in examples], dtype=object)
    results: dict[str, dict[str, float]] = {}
    for target, labels in _targets(examples).items():
        y = np.asarray(labels)
        smallest = min(Counter(labels).values())
        if smallest >= 2:
            n_splits = max(2, min(folds, smallest))
            splitter: Any = StratifiedKFold(n_splits, shuffle=True, random_state=RANDOM_STATE)
        else:
            n_splits = max(2, min(folds, len(examples)))
            splitter = KFold(n_splits, shuffle=True, random_state=RANDOM_STATE)
        accuracies, f1s = [], []
        for train_index, test_index in splitter.split(texts, y):
            model = _build_pipeline().fit(list(texts[train_index]), y[train_index])
            predicted = model.predict(list(texts[test_index]))
            accuracies.append(accuracy_score(y[test_index], predicted))
            f1s.append(f1_score(y[test_index], predicted, average="macro", zero_division=0))
        results[target] = {
            "accuracy_mean": float(np.mean(accuracies)),
            "accuracy_std": float(np.std(accuracies)),
            "macro_f1_mean": float(np.mean(f1s)),
            "macro_f1_std": float(np.std(f1s)),
            "folds": n_splits,
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
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_FILE_MAGIC)
            handle.write(header + b"\n")
            handle.write(_signature(key, header, payload) + b"\n")
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    logger.info("saved classifier %s to %s", bundle.model_version, path)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_bundle(path: str | os.PathLike[str], key: bytes) -> ClassifierBundle | None:
    """The saved model, or None (with a warning) when it is missing or must not be trusted."""
    try:
        return _load_bundle(Path(path), _as_key(key))
    except Exception as exc:  # a model that cannot load means "no suggestion", never a crash
        logger.warning("classifier file %s cannot be loaded (%s): retrain", path, exc)
        return None


def _load_bundle(path: Path, key: bytes) -> ClassifierBundle | None:
    def refuse(reason: str) -> None:
        logger.warning("classifier file %s not used: %s", path, reason)

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


@dataclass
class Prediction:
    """A decision, how sure the model is, and the words that drove it (or the rule that fired)."""

    label: str | int
    probability: float
    reasons: list[str]
    rule: str | None = None  # the urgency keyword that decided, when a rule beat the model


def _reasons(row: sparse.csr_matrix, coef_row: np.ndarray, names: np.ndarray) -> list[str]:
    """The features with the largest positive coef x value for the chosen class."""
    indices, values = row.indices, row.data
    if not len(indices):
        return []
    contributions = values * coef_row[indices]
    order = np.argsort(-contributions)
    reasons: list[str] = []
    for position in order:
        if contributions[position] <= 0 or len(reasons) == REASONS_PER_PREDICTION:
            break
        name = str(names[indices[position]]).split("__", 1)[-1].strip()
        if len(name) > 1 or not name.isascii():
            if name and name not in reasons:
                reasons.append(name)
    return reasons


def _predict_target(
    bundle: ClassifierBundle, target: str, texts: Sequence[str]
) -> list[Prediction]:
    pipeline = bundle.pipeline(target)
    features = sparse.csr_matrix(pipeline.named_steps["features"].transform(texts))
    probabilities = pipeline.named_steps["classifier"].predict_proba(features)
    explainer = bundle.explainers[target]
    predictions = []
    for i in range(len(texts)):
        best = int(np.argmax(probabilities[i]))
        label = explainer.classes[best]
        reasons = _reasons(features[i], explainer.coef[best], explainer.feature_names)
        predictions.append(Prediction(label, float(probabilities[i][best]), reasons))
    return predictions


def _apply_rules(
    prediction: Prediction, text: str, rules: Mapping[int, Iterable[str]] | None
) -> Prediction:
    if rules is None:
        return prediction
    hit = match_urgency_rules(text, rules)
    if hit is None:
        return prediction
    return Prediction(hit.level, 1.0, [hit.keyword], rule=hit.keyword)


def predict_many(
    bundle: ClassifierBundle,
    items: Sequence[tuple[str, str]],
    *,
    urgency_rules: Mapping[int, Iterable[str]] | None = DEFAULT_URGENCY_RULES,
) -> list[tuple[Prediction, Prediction]]:
    """(department, urgency) for each (subject, body); urgency rules win when they fire.

    Pass ``urgency_rules=None`` for the model's own urgency (evaluation, debugging).
    """
    if not items:
        return []
    texts = [mail_text(subject, body) for subject, body in items]
    departments = _predict_target(bundle, "department", texts)
    urgencies = _predict_target(bundle, "urgency", texts)
    return [
        (department, _apply_rules(urgency, text, urgency_rules))
        for department, urgency, text in zip(departments, urgencies, texts, strict=True)
    ]


def predict(
    bundle: ClassifierBundle,
    subject: str,
    body: str,
    *,
    urgency_rules: Mapping[int, Iterable[str]] | None = DEFAULT_URGENCY_RULES,
) -> tuple[Prediction, Prediction]:
    """(department, urgency) of one mail; urgency rules win when they fire."""
    return predict_many(bundle, [(subject, body)], urgency_rules=urgency_rules)[0]
