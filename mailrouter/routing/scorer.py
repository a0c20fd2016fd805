"""The fast scorer: the fitted pipelines' arithmetic, one mail at a time, without scikit-learn.

scikit-learn's per-call input checks cost ~15 times the arithmetic of scoring one mail, so
routing reads the fitted vocabularies, idf weights, coefficients and calibration into a
`FastScorer` and computes the same TF-IDF features (`mailrouter.routing.features`) and the same
probabilities itself.

Performance budget (see `FastScorer`): reading a new mail and both targets' probabilities stays
under 1 ms of CPU on one core with empty caches, about 0.5 ms with warm ones, so that routing
keeps its target of >= 500 mails/s single-threaded (bench/classify_bench.py).

Agreement: its probabilities must equal scikit-learn's ``Pipeline.predict_proba`` within
SCORER_TOLERANCE. Training checks this (`FastScorer.check_against`) and fails loudly otherwise;
tests/mailrouter/routing/test_classifier.py (test_fast_scorer_matches_scikit_learn_*) compares
features and probabilities mail by mail.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import FeatureUnion, Pipeline

from mailrouter.routing.features import (
    CHAR_NGRAM_RANGE,
    NO_HURRY_TOKEN,
    clear_text_caches,
    normalize_text,
    normalized_tokens,
    text_pieces,
)
from support.core.text import NO_TOPIC_WORDS, is_dictionary_word, segment

logger = logging.getLogger(__name__)

# The fast scorer must agree with scikit-learn's own predict_proba to this tolerance.
SCORER_TOLERANCE = 1e-5
REASONS_PER_PREDICTION = 5
# Distinct words whose character n-gram columns are kept per model: a few MB, and a mail
# rarely brings many new ones.
_WORD_CACHE_SIZE = 20_000


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
    weight: float = 1.0  # the feature union's weight of this block (after the l2 norm)

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
        return self.piece_counts(text_pieces(text))

    def piece_counts(self, pieces: Counter[str]) -> dict[int, int]:
        """Like counting ``self.analyzer(text)``, but each distinct word of the text (``pieces``,
        see ``text_pieces``) is read only once.

        Neither block's terms cross whitespace (char_wb n-grams are cut within words, and
        the word tokens hold no whitespace), so a mail's terms are its words' terms; words
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
        terms = _word_ngrams(piece) if self.characters else normalized_tokens(piece)
        known = [self.offset + c for c in map(self.vocabulary.get, terms) if c is not None]
        columns = self._word_columns[piece] = tuple(known)
        return columns


@dataclass(frozen=True)
class Row:
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

    def probabilities(self, row: Row) -> np.ndarray:
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
        weights = features.transformer_weights or {}
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
                or vectorizer.tokenizer is not normalized_tokens
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
                    weight=float(weights.get(name, 1.0)),
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

    def row(self, text: str) -> Row:
        """The TF-IDF features of one mail exactly as the fitted feature union computes them.

        The blocks are read into one pair of arrays, weighted at once and normalised slice by
        slice: on a few hundred numbers, numpy's cost per call outweighs the arithmetic.
        """
        pieces = text_pieces(text)  # read once for both blocks
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
        for block, block_counts in zip(self.blocks, counts, strict=True):
            block_weights = weights[start : start + len(block_counts)]
            start += len(block_counts)
            if len(block_weights):
                norm = math.sqrt(float(block_weights @ block_weights)) or 1.0
                block_weights *= block.weight / norm
        return Row(columns, weights)

    def probabilities(self, target: str, row: Row) -> np.ndarray:
        return self.heads[target].probabilities(row)

    def known_words(self, text: str) -> tuple[int, int]:
        """(known, all) words of ``text`` for the word features: how much of a mail the model
        has ever seen. A mail of words it never saw ("asdf qwer") still gets probabilities
        summing to one; this says they mean nothing."""
        block = next(b for b in self.blocks if not b.characters)
        words = normalized_tokens(normalize_text(text))
        return sum(1 for word in words if word in block.vocabulary), len(words)

    def reasons(self, target: str, row: Row, class_index: int) -> list[str]:
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


#: Negations at a Chinese n-gram's edge say what is wrong ("不制冷", "没更新"): no fragment.
_NEGATIONS = frozenset("不 没 没有 冇 未 无".split())


def _fragment(ngram: str) -> bool:
    """Whether a Chinese character n-gram cuts across words: none of its words in the
    dictionary ("直没更" of 一直没更新, "忙查一" of 帮忙查一下), or a word that carries no
    topic at an edge ("的订单", "一直没"); shown beside the word it cuts ("订单")."""
    words = segment(ngram)
    if len(words) < 2:
        return False
    if not any(is_dictionary_word(word) for word in words):
        return True
    return any(w in NO_TOPIC_WORDS and w not in _NEGATIONS for w in (words[0], words[-1]))


@functools.lru_cache(maxsize=65_536)  # a mail's reasons look at ~40 features, mostly known
def _readable(feature: str, characters: bool) -> str | None:
    """A feature as a person would read it, or None for fragments and words that carry no topic
    (`support.core.text.NO_TOPIC_WORDS`: they stay in the model, staff are not shown them).

    Character n-grams are padded with a space at word edges: a Latin one is shown only when it
    is a whole word (" down "), a Chinese one always, without punctuation (it is a real
    fragment of the text: Chinese has no spaces to cut whole words by).
    """
    stripped = feature.strip()
    if characters:
        if any("\u3400" <= ch for ch in stripped):
            stripped = "".join(ch for ch in stripped if ch.isalnum())
            if _fragment(stripped):
                return None
        elif not (feature.startswith(" ") and feature.endswith(" ")):
            return None
    if len(stripped) < 2 and stripped.isascii() or stripped in NO_TOPIC_WORDS:
        return None
    if stripped == NO_HURRY_TOKEN:  # the models' word for "no hurry", no customer's
        return None
    return stripped or None


def clear_caches(scorer: FastScorer | None = None) -> None:
    """Forget remembered texts, segmentations, readable reasons and (of ``scorer``) words."""
    clear_text_caches()
    _readable.cache_clear()
    for block in scorer.blocks if scorer is not None else ():
        block.forget()
