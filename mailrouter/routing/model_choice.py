"""Which linear model and feature setting a training uses, chosen by cross-validation on its data.

A company's history differs from the shipped examples (more mail, its own queues, label noise),
so the model that suits the one may not suit the other. Each training scores a small set of
candidates by macro-F1 over stratified folds of (a sample of) its own examples and keeps the
best; the shipped setting (a balanced linear SVM, C=1, both feature blocks at full weight)
is kept unless another beats it by a margin (SELECTION_MARGIN), so a noisy choice on a few
hundred examples does not trade a known-good model for luck.

Every candidate is linear and its probabilities are a softmax or calibrated sigmoids of linear
scores, so the fast scorer (`mailrouter.routing.scorer`) runs whichever is chosen. The
feature setting is the weight of the character n-gram block against the word block; it is
shared by both targets (one feature step serves both), so it is chosen on their summed scores.

Budget: the selection fits uncalibrated models on at most SELECTION_MAX_ROWS examples, so
training on 10,000 examples stays well under a minute (bench/classify_bench.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

logger = logging.getLogger(__name__)

RANDOM_STATE = 0
CALIBRATION_FOLDS = 3
# Only for data with a single example of some class (calibration needs two per class).
REGULARISATION_C = 20.0
SELECTION_FOLDS = 3
SELECTION_MAX_ROWS = 1200
# Another candidate replaces the shipped one only when its mean macro-F1 is higher by this
# over the square root of the rows compared (about one standard error of a macro-F1 on them):
# 0.03 on the 388 shipped examples, 0.014 on 1,200 rows.
SELECTION_MARGIN = 0.5
#: Weights of the character n-gram block (the word block stays at 1).
CHAR_WEIGHTS = (1.0, 0.5)


@dataclass(frozen=True)
class Candidate:
    """One linear classifier setting."""

    kind: str  # "svm" (sigmoid-calibrated LinearSVC) or "logreg"
    c: float
    balanced: bool = True

    @property
    def label(self) -> str:
        weighting = "balanced" if self.balanced else "none"
        name = "linear SVM (calibrated)" if self.kind == "svm" else "logistic regression"
        return f"{name}, C={self.c:g}, class weights {weighting}"

    def _weight(self) -> str | None:
        return "balanced" if self.balanced else None

    def build(self, labels: Sequence[Any]) -> CalibratedClassifierCV | LogisticRegression:
        """The classifier to fit for production, with probabilities.

        Calibration fits on cross-validated decisions, so every class needs two examples; with
        a single example of some class the fallback is logistic regression, calibrated by itself.
        """
        smallest = min(Counter(labels).values())
        if self.kind == "logreg" or smallest < 2:
            c = self.c if self.kind == "logreg" else REGULARISATION_C
            return LogisticRegression(C=c, class_weight=self._weight(), max_iter=3000)
        return CalibratedClassifierCV(
            LinearSVC(C=self.c, class_weight=self._weight(), random_state=RANDOM_STATE),
            cv=min(CALIBRATION_FOLDS, smallest),
            ensemble=False,
        )

    def fit(
        self, matrix: sp.csr_matrix, labels: Sequence[Any]
    ) -> CalibratedClassifierCV | LogisticRegression:
        """``build(labels)`` fitted; a calibration that came out inverted (a higher decision
        meaning a *lower* probability, which few or contradictory examples can cause) is
        replaced by logistic regression, whose probabilities follow its decisions."""
        model = self.build(labels).fit(matrix, list(labels))
        if isinstance(model, CalibratedClassifierCV) and any(
            calibrator.a_ >= 0
            for pair in model.calibrated_classifiers_
            for calibrator in pair.calibrators
        ):
            logger.info("inverted calibration (too few examples?): logistic regression instead")
            model = LogisticRegression(
                C=REGULARISATION_C, class_weight=self._weight(), max_iter=3000
            ).fit(matrix, list(labels))
        return model

    def build_for_selection(self) -> LinearSVC | LogisticRegression:
        """The same decision rule without calibration: what the selection compares (cheaper)."""
        if self.kind == "logreg":
            return LogisticRegression(C=self.c, class_weight=self._weight(), max_iter=300)
        return LinearSVC(C=self.c, class_weight=self._weight(), random_state=RANDOM_STATE)


SHIPPED = Candidate("svm", 1.0, True)
#: Logistic regression (C=1 or 10) scored below the SVMs on the synthetic history
#: (bench/history_bench.py) and took 5-8 s per fit on 1,500 mails against 0.5-1.3 s: out of
#: the training-time budget, it is kept for the single-example fallback only.
CANDIDATES: tuple[Candidate, ...] = (
    SHIPPED,
    Candidate("svm", 0.3, True),
    Candidate("svm", 0.1, True),
    Candidate("svm", 0.3, False),
)


@dataclass
class Choice:
    """The chosen feature setting and classifier per target, with the scores that chose them."""

    char_weight: float = 1.0
    classifiers: dict[str, Candidate] = field(default_factory=dict)
    #: target -> "candidate label | char weight w" -> mean macro-F1 over the folds.
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    rows: int = 0
    folds: int = 0

    def classifier(self, target: str) -> Candidate:
        return self.classifiers.get(target, SHIPPED)

    def describe(self) -> dict[str, Any]:
        """JSON for the stored metrics, the training output and the classifier page."""
        return {
            "char_weight": self.char_weight,
            "classifiers": {t: c.label for t, c in self.classifiers.items()},
            "cv_macro_f1": {t: dict(s) for t, s in self.scores.items()},
            "rows": self.rows,
            "folds": self.folds,
        }


def weighted(matrix: sp.csr_matrix, word_columns: int, char_weight: float) -> sp.csr_matrix:
    """``matrix`` (word block, then character block) with the character block scaled."""
    if char_weight == 1.0:
        return matrix
    scale = np.ones(matrix.shape[1], dtype=matrix.dtype)
    scale[word_columns:] = char_weight
    return sp.csr_matrix(matrix.multiply(scale[np.newaxis, :]))


def _fold_score(
    candidate: Candidate, matrix: sp.csr_matrix, labels: np.ndarray, folds: list[Any]
) -> float:
    scores = []
    for train_index, test_index in folds:
        model = candidate.build_for_selection().fit(matrix[train_index], labels[train_index])
        predicted = model.predict(matrix[test_index])
        truth = labels[test_index]
        scores.append(
            f1_score(truth, predicted, labels=np.unique(truth), average="macro", zero_division=0)
        )
    return float(np.mean(scores))


def choose(
    matrix: sp.csr_matrix, word_columns: int, targets: Mapping[str, Sequence[Any]]
) -> Choice:
    """The best feature weight and per-target classifier on (a sample of) these examples."""
    n = matrix.shape[0]
    rng = np.random.default_rng(RANDOM_STATE)
    rows = np.sort(rng.permutation(n)[:SELECTION_MAX_ROWS]) if n > SELECTION_MAX_ROWS else None
    sample = matrix[rows] if rows is not None else matrix
    choice = Choice(rows=sample.shape[0])
    folds_by_target: dict[str, tuple[np.ndarray, list[Any]]] = {}
    for target, all_labels in targets.items():
        labels = np.asarray([str(v) for v in all_labels], dtype=object)
        labels = labels[rows] if rows is not None else labels
        counts = Counter(labels.tolist())
        smallest = min(counts.values())
        if len(counts) < 2 or smallest < 2:
            continue  # too little to compare: the shipped setting
        k = min(SELECTION_FOLDS, smallest)
        splitter = StratifiedKFold(k, shuffle=True, random_state=RANDOM_STATE)
        folds_by_target[target] = (labels, list(splitter.split(np.zeros(len(labels)), labels)))
        choice.folds = max(choice.folds, k)
    if not folds_by_target:
        return choice
    table: dict[float, dict[str, dict[Candidate, float]]] = {}
    for char_weight in CHAR_WEIGHTS:
        scaled = weighted(sample, word_columns, char_weight)
        table[char_weight] = {
            target: {c: _fold_score(c, scaled, labels, folds) for c in CANDIDATES}
            for target, (labels, folds) in folds_by_target.items()
        }
    for char_weight, per_target in table.items():
        for target, scores in per_target.items():
            for candidate, score in scores.items():
                key = f"{candidate.label} | char weight {char_weight:g}"
                choice.scores.setdefault(target, {})[key] = round(score, 4)

    margin = SELECTION_MARGIN / np.sqrt(sample.shape[0])

    def total(char_weight: float) -> float:
        return sum(max(scores.values()) for scores in table[char_weight].values())

    best_weight = max(CHAR_WEIGHTS, key=total)
    if total(best_weight) > total(CHAR_WEIGHTS[0]) + margin * len(folds_by_target):
        choice.char_weight = best_weight
    for target, scores in table[choice.char_weight].items():
        best = max(CANDIDATES, key=lambda c: scores[c])
        choice.classifiers[target] = best if scores[best] > scores[SHIPPED] + margin else SHIPPED
    logger.info(
        "model choice: character weight %s; %s",
        choice.char_weight,
        "; ".join(f"{t}: {c.label}" for t, c in choice.classifiers.items()),
    )
    return choice
