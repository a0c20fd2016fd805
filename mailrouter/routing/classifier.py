"""Offline, explainable classifier: which department a mail belongs to and how urgent it is.

One scikit-learn pipeline per target (department, urgency), both reading the same text:
word TF-IDF (jieba segments Chinese after Traditional->Simplified; English is lowercased) plus
character 2-4-gram TF-IDF, which catches typos, inflections and unsegmented Chinese. The
classifier is linear (a linear SVM with sigmoid-calibrated probabilities, which scored best in
cross-validation and trains fastest), so every decision can be explained by the words that
pushed it (coefficient x feature value), and staff can see why a mail landed in their inbox.

Both pipelines share one fitted feature step: the text features do not depend on the target,
and computing them once halves the training time.

Explicit urgency keywords (`mailrouter.routing.urgency_rules`) always win over the model's urgency.

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
import itertools
import json
import logging
import math
import os
import pickle
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
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
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from mailrouter.routing.urgency_rules import DEFAULT_URGENCY_RULES, match_urgency_rules
from support.core import text as text_support
from support.core.text import CJK_CHARS, segment, to_simplified

logger = logging.getLogger(__name__)

#: Bumped whenever the bundle's shape or the text features change: old files mean "retrain".
#: 2: Chinese read through support.core.text (帳 -> 账, the shop's jieba dictionary, kana).
FORMAT_VERSION = 2
TARGETS = ("department", "urgency")
HELD_OUT_FRACTION = 0.25
REASONS_PER_PREDICTION = 5
RANDOM_STATE = 0
SVM_C = 1.0
CALIBRATION_FOLDS = 3
# Only for data with a single example of some class (see _build_classifier).
REGULARISATION_C = 20.0
# The fast scorer must agree with scikit-learn's own predict_proba to this tolerance.
SCORER_TOLERANCE = 1e-5

# Character n-grams (within words, padded with a space) of these lengths; the fast scorer
# cuts them itself (see _word_ngrams), so a change here needs a FORMAT_VERSION bump.
CHAR_NGRAM_RANGE = (2, 4)
# Distinct words whose character n-gram columns are kept per model: a few MB, and a mail
# rarely brings many new ones.
_WORD_CACHE_SIZE = 20_000

_FILE_MAGIC = b"mailrouter-classifier\n"
_SIGNATURE_HEX_CHARS = 64
# Chinese runs go to jieba; Latin words (with inner ' . - + # &: don't, e-mail, c++) are
# taken as they are, which is both faster and kinder to model numbers than jieba.
_LATIN_LAST = "\u024f"
_TOKEN_RE = re.compile(
    rf"[{CJK_CHARS}]+|[a-z0-9\u00c0-{_LATIN_LAST}]+(?:['’.+#&-][a-z0-9\u00c0-{_LATIN_LAST}]+)*\+*"
)
_NUMBER_RE = re.compile(r"^[\d.,'’+#&-]+$")
# Function words say nothing to the person reading why a mail was routed; they stay in the
# model (they help a little) but are not shown as reasons.
_NOT_A_REASON = frozenset(
    "a an and are as at be but by can could do for from have i i'm if in is it me my of on "
    "or our please the this to us was we were will with would you your "
    "的 了 是 我 我们 你 你们 您 吗 吧 呢 啊 和 在 有 也 就 都 还 请 请问 一下 一个 这 那 "
    "个 要 想 能 会 给 把 被 让 对 从 到 说".split()
)


# ----------------------------------------------------------------------------- text features


@functools.lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    """Simplified Chinese and lowercase, so 帳號/账号 and Refund/refund are one feature.

    Cached: the word and the character features read the same mail one after the other.
    """
    return to_simplified(text).lower()


def _pieces(text: str) -> Counter[str]:
    """The distinct words (between whitespace) of a mail as both feature blocks read it, with
    their counts, in order of first use (``str.split`` and the analyzers' ``\\s`` agree on
    what whitespace is)."""
    return Counter(normalize_text(text).split())


def _tokens(normalized: str) -> list[str]:
    return [token for run in _TOKEN_RE.findall(normalized) for token in _run_tokens(run)]


def _run_tokens(run: str) -> tuple[str, ...]:
    """The words of one _TOKEN_RE match: jieba's for Chinese, none for a number."""
    if run[0] > _LATIN_LAST:  # not _TOKEN_RE's Latin alternative: a run of CJK_CHARS
        return segment(run)
    if _NUMBER_RE.match(run):  # order numbers and amounts are noise
        return ()
    return (run,)


def tokenize(text: str) -> list[str]:
    """Words of a mail: jieba segments Chinese (after t2s), English is lowercased."""
    return _tokens(normalize_text(text))


def mail_text(subject: str, body: str) -> str:
    """The one text both pipelines read."""
    return f"{subject or ''}\n{body or ''}"


def _build_features() -> FeatureUnion:
    words = TfidfVectorizer(
        preprocessor=normalize_text,
        tokenizer=_tokens,
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
    )
    chars = TfidfVectorizer(
        preprocessor=normalize_text,
        analyzer="char_wb",
        ngram_range=CHAR_NGRAM_RANGE,
        lowercase=False,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def _build_classifier(labels: Sequence[Any]) -> CalibratedClassifierCV | LogisticRegression:
    """A linear SVM with sigmoid-calibrated probabilities: best in cross-validation, fast.

    Calibration fits on cross-validated decisions, so every class needs two examples; with
    a single example of some class the fallback is logistic regression, calibrated by itself.
    """
    smallest = min(Counter(labels).values())
    if smallest < 2:
        return LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=3000)
    return CalibratedClassifierCV(
        LinearSVC(C=SVM_C, class_weight="balanced", random_state=RANDOM_STATE),
        cv=min(CALIBRATION_FOLDS, smallest),
        ensemble=False,
    )


def _fit_pipelines(
    texts: Sequence[str], targets: Mapping[str, Sequence[Any]]
) -> dict[str, Pipeline]:
    """One pipeline per target around a single fitted feature step they share.

    Single-threaded on purpose: a background retrain must not starve the threads serving
    requests, and on data this size BLAS/OpenMP threads cost more than they save (2x slower
    on a busy two-core machine, mostly in the calibration's tiny optimisations).
    """
    with threadpool_limits(limits=1):
        features = _build_features()
        matrix = features.fit_transform(list(texts))
        return {
            target: Pipeline(
                [
                    ("features", features),
                    ("classifier", _build_classifier(labels).fit(matrix, list(labels))),
                ]
            )
            for target, labels in targets.items()
        }


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
    resource = importlib.resources.files("mailrouter.routing.training_data") / "bootstrap.csv"
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


# ----------------------------------------------------------------------------- fast scoring


def _word_ngrams(word: str) -> list[str]:
    """The character n-grams of one word, as scikit-learn's ``char_wb`` analyzer cuts them.

    The word is padded with a space on each side; a padded word no longer than n yields
    itself once and ends the cutting. Same grams in the same order: tests compare the two.
    """
    padded = f" {word} "
    grams: list[str] = []
    min_n, max_n = CHAR_NGRAM_RANGE
    for n in range(min_n, max_n + 1):
        if len(padded) <= n:
            grams.append(padded)
            break
        grams.extend([padded[i : i + n] for i in range(len(padded) - n + 1)])
    return grams


@dataclass
class _FeatureBlock:
    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    sublinear_tf: bool
    characters: bool  # char_wb n-grams of normalize_text (shown as reasons only when readable)

    def __post_init__(self) -> None:
        self._word_columns: dict[str, tuple[int, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """The per-word cache is not part of the model file."""
        return {name: value for name, value in self.__dict__.items() if name != "_word_columns"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._word_columns = {}  # also for files saved before the cache existed

    def counts(self, text: str) -> dict[int, int]:
        """Column (of the union) -> count of this block's known terms in ``text``, in order of
        first use."""
        return self.piece_counts(_pieces(text))

    def piece_counts(self, pieces: Counter[str]) -> dict[int, int]:
        """Like counting ``self.analyzer(text)``, but each distinct word of the text (``pieces``,
        see ``_pieces``) is read only once.

        Neither block's terms cross whitespace (char_wb n-grams are cut within words, and
        ``_TOKEN_RE`` matches no whitespace), so a mail's terms are its words' terms; words
        recur within a mail and across mails, so their known columns are remembered. Counting
        the distinct words in order of first use finds each term in the same order as the
        analyzer's stream does, so the columns come out in the same order.
        """
        counts: dict[int, int] = {}
        for piece, repeats in pieces.items():
            columns = self._word_columns.get(piece)
            if columns is None:
                columns = self._remember(piece)
            for column in columns:
                counts[column] = counts.get(column, 0) + repeats
        return counts

    def forget(self) -> None:
        self._word_columns.clear()

    def _remember(self, piece: str) -> tuple[int, ...]:
        """The known columns (of the union) of a piece's terms, a column once for each time its
        term occurs; kept (all are dropped when the cache is full)."""
        if len(self._word_columns) >= _WORD_CACHE_SIZE:
            self._word_columns.clear()
        terms = _word_ngrams(piece) if self.characters else _tokens(piece)
        known = [self.offset + c for c in map(self.vocabulary.get, terms) if c is not None]
        columns = self._word_columns[piece] = tuple(known)
        return columns


@dataclass(frozen=True)
class _Row:
    """One mail's TF-IDF features: the non-zero columns of the union and their values."""

    columns: np.ndarray
    values: np.ndarray


@dataclass
class _LinearHead:
    classes: list[Any]
    coef: np.ndarray  # (1 if binary else n_classes, n_features), as fitted
    intercept: np.ndarray
    # Calibrated SVM: per decision column, the (a, b) of p = 1 / (1 + exp(a * d + b)).
    # None for logistic regression (softmax, or the logistic function when binary).
    sigmoid: np.ndarray | None

    @classmethod
    def from_classifier(cls, classifier: Any) -> _LinearHead:
        classes = [c.item() if hasattr(c, "item") else c for c in classifier.classes_]
        sigmoid = None
        if isinstance(classifier, CalibratedClassifierCV):
            (calibrated,) = classifier.calibrated_classifiers_  # ensemble=False: one pair
            estimator = calibrated.estimator
            if list(estimator.classes_) != list(classifier.classes_):
                raise ValueError("calibrated estimator saw other classes than the calibration")
            sigmoid = np.array([[c.a_, c.b_] for c in calibrated.calibrators], dtype=np.float64)
        else:
            estimator = classifier
        return cls(
            classes=classes,
            coef=np.asarray(estimator.coef_, dtype=np.float64),
            intercept=np.asarray(estimator.intercept_, dtype=np.float64),
            sigmoid=sigmoid,
        )

    def probabilities(self, row: _Row) -> np.ndarray:
        """Each class's probability for one mail, as ``predict_proba`` computes it."""
        # The mail's coefficient columns, gathered as whole rows of the transpose: laid out
        # as ``coef[:, columns]`` lays them out (column-major), for a quarter of its cost.
        scores = self.coef.T.take(row.columns, axis=0).T @ row.values + self.intercept
        if self.sigmoid is None:
            if len(self.classes) == 2:
                positive = expit(scores[0])
                return np.array([1.0 - positive, positive])
            return softmax(scores)
        calibrated = expit(-(scores * self.sigmoid[:, 0] + self.sigmoid[:, 1]))
        if len(self.classes) == 2:
            return np.array([1.0 - calibrated[0], calibrated[0]])
        total = calibrated.sum()
        if total == 0:
            return np.full_like(calibrated, 1.0 / len(self.classes))
        return calibrated / total

    def class_coefficients(self, class_index: int) -> np.ndarray:
        """The weights that push towards one class (binary: the single row, or its negation)."""
        if self.coef.shape[0] == 1:
            return self.coef[0] if class_index == 1 else -self.coef[0]
        return self.coef[class_index]


@dataclass
class FastScorer:
    """The fitted pipelines' arithmetic, run without scikit-learn's per-call input checks.

    Those checks cost ~5.6 ms of CPU per mail through both pipelines, 15 times the 0.4 ms of
    arithmetic (scikit-learn 1.9), which would cap routing near 180 mails/s. The scorer
    reads the fitted vocabularies, idf weights, coefficients and calibration, and computes the
    same TF-IDF (sublinear tf, l2 norm per block) and the same probabilities, one mail at a
    time (a 1-row sparse matrix costs more to build and multiply than the arithmetic itself).
    A mail is read once for both targets. Training checks the scorer against
    ``Pipeline.predict_proba`` and fails loudly if they ever disagree (say, after a
    scikit-learn upgrade changed its internals); tests/mailrouter/routing/test_classifier.py
    (test_fast_scorer_matches_scikit_learn_*) compares features and probabilities mail by mail.

    Performance budget: reading a new mail (``row``) and both targets' probabilities must stay
    under 1 ms of CPU on one core with empty caches, and about 0.5 ms with warm ones, so that
    routing keeps its target of >= 500 mails/s single-threaded (bench/classify_bench.py).
    Probabilities must equal ``predict_proba``'s within SCORER_TOLERANCE.
    """

    blocks: list[_FeatureBlock]
    n_features: int
    feature_names: list[str]
    heads: dict[str, _LinearHead]

    @functools.cached_property
    def idf(self) -> np.ndarray:
        """Every column's idf weight, blocks side by side (made on first use, not saved)."""
        return np.concatenate([block.idf for block in self.blocks])

    def __getstate__(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if name != "idf"}

    @classmethod
    def from_pipelines(cls, pipelines: Mapping[str, Pipeline]) -> FastScorer:
        features: FeatureUnion = next(iter(pipelines.values())).named_steps["features"]
        if features.transformer_weights:
            raise ValueError("the fast scorer expects an unweighted feature union")
        blocks, names, offset = [], [], 0
        for name, vectorizer in features.transformer_list:
            if vectorizer.norm != "l2" or not vectorizer.use_idf or not vectorizer.sublinear_tf:
                raise ValueError(f"{name}: the fast scorer expects l2-normalised sublinear TF-IDF")
            characters = vectorizer.analyzer != "word"
            if characters and (
                vectorizer.analyzer != "char_wb"
                or tuple(vectorizer.ngram_range) != CHAR_NGRAM_RANGE
                or vectorizer.preprocessor is not normalize_text
            ):
                raise ValueError(f"{name}: the fast scorer expects the char_wb features")
            if not characters and (
                vectorizer.preprocessor is not normalize_text
                or vectorizer.tokenizer is not _tokens
                or tuple(vectorizer.ngram_range) != (1, 1)
                or vectorizer.stop_words is not None
            ):
                raise ValueError(f"{name}: the fast scorer expects the word features")
            vocabulary = vectorizer.vocabulary_
            block_names = [""] * len(vocabulary)
            for term, index in vocabulary.items():
                block_names[index] = term
            blocks.append(
                _FeatureBlock(
                    analyzer=vectorizer.build_analyzer(),
                    vocabulary=vocabulary,
                    idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                    offset=offset,
                    sublinear_tf=vectorizer.sublinear_tf,
                    characters=characters,
                )
            )
            names.extend(block_names)
            offset += len(vocabulary)
        heads = {}
        for target, pipeline in pipelines.items():
            if pipeline.named_steps["features"] is not features:
                raise ValueError("the fast scorer expects pipelines sharing one feature step")
            heads[target] = _LinearHead.from_classifier(pipeline.named_steps["classifier"])
        return cls(blocks=blocks, n_features=offset, feature_names=names, heads=heads)

    def row(self, text: str) -> _Row:
        """The TF-IDF features of one mail exactly as the fitted feature union computes them.

        The blocks are read into one pair of arrays, weighted at once and normalised slice by
        slice: on a few hundred numbers, numpy's cost per call outweighs the arithmetic.
        """
        pieces = _pieces(text)  # read once for both blocks
        counts = [block.piece_counts(pieces) for block in self.blocks]
        size = sum(map(len, counts))
        columns = np.fromiter(itertools.chain.from_iterable(counts), dtype=np.int64, count=size)
        values = itertools.chain.from_iterable(c.values() for c in counts)
        # Read as integers (faster than as floats), then the same floats.
        weights = np.fromiter(values, dtype=np.int64, count=size).astype(np.float64)
        np.log(weights, out=weights)  # sublinear tf (checked by from_pipelines)
        weights += 1.0
        weights *= self.idf[columns]
        start = 0
        for block_counts in counts:
            block_weights = weights[start : start + len(block_counts)]
            start += len(block_counts)
            if len(block_weights):
                block_weights /= math.sqrt(float(block_weights @ block_weights)) or 1.0
        return _Row(columns, weights)

    def probabilities(self, target: str, row: _Row) -> np.ndarray:
        return self.heads[target].probabilities(row)

    def reasons(self, target: str, row: _Row, class_index: int) -> list[str]:
        """The features with the largest positive coefficient x value for the chosen class."""
        coefficients = self.heads[target].class_coefficients(class_index)
        contributions = row.values * coefficients[row.columns]
        char_offset = next((b.offset for b in self.blocks if b.characters), self.n_features)
        # Array methods, not np.argsort: numpy's wrapper costs more than sorting 500 numbers.
        order = (-contributions).argsort()[: np.count_nonzero(contributions > 0)]
        reasons: list[str] = []
        for column in row.columns[order].tolist():  # Python ints: numpy scalars are slow
            if len(reasons) == REASONS_PER_PREDICTION:
                break
            reason = _readable(self.feature_names[column], column >= char_offset)
            if reason and not any(reason in shown for shown in reasons):
                reasons.append(reason)
        return reasons

    def check_against(self, pipelines: Mapping[str, Pipeline], texts: Sequence[str]) -> None:
        """Raise if this scorer and scikit-learn disagree on any of ``texts``."""
        rows = [self.row(text) for text in texts]
        for target, pipeline in pipelines.items():
            expected = pipeline.predict_proba(list(texts))
            actual = np.array([self.probabilities(target, row) for row in rows])
            difference = float(np.abs(expected - actual).max())
            if difference > SCORER_TOLERANCE:
                raise RuntimeError(
                    f"fast scorer differs from scikit-learn by {difference:.2g} on {target}"
                )


@functools.lru_cache(maxsize=65_536)  # a mail's reasons look at ~40 features, mostly known
def _readable(feature: str, characters: bool) -> str | None:
    """A feature as a person would read it, or None for fragments and function words.

    Character n-grams are padded with a space at word edges: a Latin one is shown only when it
    is a whole word (" down "), a Chinese one always, without punctuation (it is a real
    fragment of the text: Chinese has no spaces to cut whole words by).
    """
    stripped = feature.strip()
    if characters:
        if any("\u3400" <= ch for ch in stripped):
            stripped = "".join(ch for ch in stripped if ch.isalnum())
        elif not (feature.startswith(" ") and feature.endswith(" ")):
            return None
    if len(stripped) < 2 and stripped.isascii() or stripped in _NOT_A_REASON:
        return None
    return stripped or None


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

    @functools.cached_property
    def model_version(self) -> str:
        """A short name for this model, shown to admins next to its metrics (and stored with
        every routing decision, so it is made once)."""
        stamp = self.trained_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"v{self.format_version}-sklearn{self.sklearn_version}-{stamp}"


# ----------------------------------------------------------------------------- training


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


def _evaluate(texts: list[str], targets: Mapping[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """Fit on 75%, score on the held-out 25%: the figures admins see before trusting a model."""
    split = _split(texts, targets)
    if split is None:
        return {target: {"skipped": "too few examples to hold some out"} for target in targets}
    train_index, test_index = split
    train_targets = {t: [labels[i] for i in train_index] for t, labels in targets.items()}
    fittable = {t: labels for t, labels in train_targets.items() if len(set(labels)) >= 2}
    pipelines = _fit_pipelines([texts[i] for i in train_index], fittable)
    test_texts = [texts[i] for i in test_index]
    metrics: dict[str, dict[str, Any]] = {}
    for target, labels in targets.items():
        if target not in pipelines:
            metrics[target] = {"skipped": "the training part of the split holds a single class"}
            continue
        truth = [labels[i] for i in test_index]
        metrics[target] = _scores(truth, list(pipelines[target].predict(test_texts)), labels)
        metrics[target].update(n_train=len(train_index), n_test=len(test_index))
    return metrics


def _scores(truth: list[Any], predicted: list[Any], all_labels: list[Any]) -> dict[str, Any]:
    labels = sorted(set(all_labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(
            f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
        ),
        "per_class": {
            str(label): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": [str(label) for label in labels],
            "rows": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
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
    metrics = _evaluate(texts, targets) if evaluate else {}
    pipelines = _fit_pipelines(texts, targets)
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
    )
    bundle.training_seconds = round(time.perf_counter() - started, 3)
    logger.info(
        "trained classifier on %d examples in %.1f s", len(examples), bundle.training_seconds
    )
    return bundle


def cross_validate(examples: Sequence[Example], folds: int = 5) -> dict[str, dict[str, float]]:
    """Mean and standard deviation of accuracy and macro-F1 per target over k folds."""
    examples = list(examples)
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
            model = _fit_pipelines([texts[i] for i in train_index], {target: train_labels})
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


def _predict_target(scorer: FastScorer, target: str, row: _Row) -> Prediction:
    probabilities = scorer.probabilities(target, row)
    best = int(probabilities.argmax())
    reasons = scorer.reasons(target, row, best)
    return Prediction(scorer.heads[target].classes[best], float(probabilities[best]), reasons)


def _apply_rules(
    prediction: Prediction, text: str, rules: Mapping[int, Iterable[str]] | None
) -> Prediction:
    if rules is None:
        return prediction
    hit = match_urgency_rules(text, rules)
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
    """(department, urgency) of one mail; urgency rules win when they fire.

    Pass ``urgency_rules=None`` for the model's own urgency (evaluation, debugging).
    """
    text = mail_text(subject, body)
    row = bundle.scorer.row(text)  # read once, for both targets
    department = _predict_target(bundle.scorer, "department", row)
    urgency = _predict_target(bundle.scorer, "urgency", row)
    return department, _apply_rules(urgency, text, urgency_rules)


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
    normalize_text.cache_clear()
    text_support.clear_caches()
    _readable.cache_clear()
    for block in bundle.scorer.blocks if bundle is not None else ():
        block.forget()
