"""Cross-validation of the spam filter inside the training part (never the held-out part).

Usage: ``.venv/bin/python bench/spam_cv.py [--corpora ../shared/corpora] [--folds 5] [--show]
[--across] [--trait-scale X] [--language-kept X] [--shift X] [--c X] [--own-weight X]``

Every training mail (``shipped_training.split``'s first part) is tokenised once; each fold is
judged by a model fitted on the other folds. Two models on the same features are compared:
the product's logistic regression (``model.SpamModel``, format 5) and the naive Bayes it
replaced (format 3, kept here only as the baseline), each at the score that at most 0.5% of
the legitimate mail that is not list mail reaches. The product's model is then shown per kind
at the product's thresholds (5 suspected, 12 certain on SpamAssassin's scale). Used to choose
the model, features and thresholds, so that the held-out figures of ``bench/spam_eval.py``
stay a fair report rather than a target.

``--across`` asks how the filter does on mail of a kind it never saw, as mail nobody on the
team wrote will be: each kind in ``ACROSS`` (the corpus spam, the written spam of one
language, our own Chinese mail...) is left out of the fit entirely and judged by a model
fitted on all the other training mails; reported is the share at 5 points or more (spam
caught, legitimate mail flagged). ``--trait-scale`` tries another ``model.TRAIT_SCALE``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from spam_eval import print_levels

import mailrouter.spam.model as model_module
from mailrouter.automatic import automatic_reason
from mailrouter.parsing import parse_message
from mailrouter.spam.features import cold_pitch, mail_tokens
from mailrouter.spam.model import (
    BUCKET_BITS,
    BUCKET_SCRIPTS,
    CLASSES,
    CUSTOMER,
    HAM,
    SCRIPTS,
    SPAM,
    SpamModel,
    bucket,
)
from mailrouter.spam.shipped_training import label_of, split, weight_of
from mailrouter.spam.verdict import COLD_PITCH_POINTS, LOG_ODDS_PER_POINT, LOG_ODDS_SHIFT

#: The shift of log-odds to points (verdict.LOG_ODDS_SHIFT unless --shift tries another).
shift = LOG_ODDS_SHIFT
#: Each training mail's cold-pitch points in log-odds (0 or verdict.COLD_PITCH_POINTS * 0.4).
pitch_odds = np.zeros(0)

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
SUSPECTED, CERTAIN = 5.0, 12.0
#: The kinds --across leaves out one at a time (a LabelledMail.kind).
ACROSS = (
    "spam",
    "written-spam-en",
    "written-spam-zh-hant",
    "written-spam-zh",
    "written-spam-ja",
    "written-spam-ko",
    "written-spam-de",
    "written-spam-other",
    "own-zh",
    "written-ham-zh-hant",
    "written-ham-zh",
    "written-ham-en",
    "written-ham-zh-b",
    "written-ham-zh-hant-b",
    "written-spam-zh-b",
    "written-ham-en-c",
    "written-ham-zh-c",
    "written-ham-zh-hant-c",
    "written-spam-en-c",
)


def across(train: list, rows: list[np.ndarray], labels: list[str], times: list[int]) -> None:
    """Each ACROSS kind judged by a model that never saw a mail of that kind."""
    print("\nleft out of the fit entirely: share at 5 points or more")
    for kind in ACROSS:
        out = np.array([m.kind == kind for m in train])
        keep = np.flatnonzero(~out)
        model = SpamModel(
            [rows[i] for i in keep], [labels[i] for i in keep], [times[i] for i in keep]
        )
        model.refresh()
        points = np.array(
            [
                (model.bias + float(model.weights[rows[i]].sum()) + pitch_odds[i] + shift)
                / LOG_ODDS_PER_POINT
                for i in np.flatnonzero(out)
            ]
        )
        print(f"{kind:<22} {len(points):>5} mails  {100 * np.mean(points >= SUSPECTED):6.1f}%")


def naive_bayes_scores(
    rows: list[np.ndarray], labels: list[str], times: list[int], train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """Format 3's log-odds: SpamBayes-style token weights, each script's rate counted among
    the mails of that script, ham as hammy as in the kind where the token is most common, the
    40 strongest tokens summed."""
    counts = {c: np.zeros(1 << BUCKET_BITS) for c in CLASSES}
    mails = {c: np.zeros(len(SCRIPTS)) for c in CLASSES}
    for i in train:
        counts[labels[i]][rows[i]] += times[i]
        kinds = set(BUCKET_SCRIPTS[rows[i]].tolist())
        flags = [1] + [int(s in kinds) for s in range(1, len(SCRIPTS))]
        mails[labels[i]] += np.array(flags) * times[i]
    rate = {c: counts[c] / np.maximum(mails[c], 1.0)[BUCKET_SCRIPTS] for c in CLASSES}
    spam_rate, ham_rate = rate[SPAM], np.maximum(rate[HAM], rate[CUSTOMER])
    total = spam_rate + ham_rate
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(total > 0, spam_rate / total, 0.5)
    seen = sum(counts.values())
    f = np.clip((1.5 * 0.5 + seen * p) / (1.5 + seen), 0.01, 0.99)
    weights = np.log(f / (1.0 - f))
    weights[np.abs(weights) < 0.4] = 0.0
    scores = np.zeros(len(test))
    for n, i in enumerate(test):
        w = weights[rows[i]]
        scores[n] = w[np.argsort(-np.abs(w))[:40]].sum()
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="list the misses and false alarms")
    parser.add_argument("--across", action="store_true", help="judge kinds never seen in the fit")
    parser.add_argument("--trait-scale", type=float, default=model_module.TRAIT_SCALE)
    parser.add_argument(
        "--language-kept",
        type=float,
        default=model_module.LANGUAGE_PRIOR_KEPT,
        help="try another model.LANGUAGE_PRIOR_KEPT",
    )
    parser.add_argument("--shift", type=float, default=LOG_ODDS_SHIFT, help="try another shift")
    parser.add_argument("--c", type=float, default=model_module.REGULARISATION_C)
    parser.add_argument("--own-weight", type=float, default=model_module.OWN_MAIL_WEIGHT)
    args = parser.parse_args()
    global shift
    shift = args.shift
    model_module.REGULARISATION_C = args.c
    model_module.OWN_MAIL_WEIGHT = args.own_weight
    model_module.TRAIT_SCALE = args.trait_scale
    model_module.LANGUAGE_PRIOR_KEPT = args.language_kept
    train, _held = split(args.corpora)
    parsed = [parse_message(m.raw) for m in train]
    rows = [
        np.unique(np.fromiter((bucket(t) for t in mail_tokens(p, m.raw)), np.int32))
        for p, m in zip(parsed, train, strict=True)
    ]
    # The cold-pitch rule's points, in log-odds, as verdict.builtin_points adds them.
    global pitch_odds
    pitch_odds = np.array([cold_pitch(p) for p in parsed]) * COLD_PITCH_POINTS * LOG_ODDS_PER_POINT
    labels = [label_of(m) for m in train]
    times = [weight_of(m) for m in train]
    listed = [bool(automatic_reason(parse_message(m.raw), ["support@example.com"])) for m in train]
    number = np.arange(len(train))
    scores = {"logistic": np.zeros(len(train)), "naive Bayes": np.zeros(len(train))}
    fitting = 0.0
    for fold in range(args.folds):
        test, rest = number[number % args.folds == fold], number[number % args.folds != fold]
        started = time.monotonic()
        model = SpamModel(
            [rows[i] for i in rest], [labels[i] for i in rest], [times[i] for i in rest]
        )
        model.refresh()
        fitting += time.monotonic() - started
        scores["logistic"][test] = [
            model.bias + float(model.weights[rows[i]].sum()) + pitch_odds[i] for i in test
        ]
        scores["naive Bayes"][test] = naive_bayes_scores(rows, labels, times, rest, test)
    legit = np.array([not m.is_spam and not lst for m, lst in zip(train, listed, strict=True)])
    written = np.array([m.is_spam and m.kind.startswith("written") for m in train])
    corpus = np.array([m.is_spam for m in train]) & ~written
    own = np.array([label == CUSTOMER for label in labels])  # own and written ham
    print(
        f"{len(train)} training mails, {args.folds} folds;"
        f" logistic fits {fitting / args.folds:.1f} s each"
    )
    print(
        f"legitimate mail (not list mail): {int(legit.sum())};"
        f" spam: corpus {int(corpus.sum())}, written {int(written.sum())}"
    )
    print(
        "model          log-odds at <= 0.5% legit  legit flagged  (own/written)"
        "  corpus spam  written spam"
    )
    for name, s in scores.items():
        ham = np.sort(s[legit])
        cut = float(np.nextafter(ham[min(int(len(ham) * 0.995), len(ham) - 1)], np.inf))
        print(
            f"{name:<14} {cut:>26.2f} {100 * np.mean(s[legit] >= cut):>13.2f}%"
            f" {int(np.sum(s[own] >= cut)):>7}/{int(own.sum())}"
            f" {100 * np.mean(s[corpus] >= cut):>11.1f}% {100 * np.mean(s[written] >= cut):>12.1f}%"
        )
    points = (scores["logistic"] + shift) / LOG_ODDS_PER_POINT
    rows_by_kind: dict[str, Counter[str]] = {}
    for i, mail in enumerate(train):
        level = (
            "certain" if points[i] >= CERTAIN else "suspected" if points[i] >= SUSPECTED else "ham"
        )
        rows_by_kind.setdefault(mail.kind, Counter())[level] += 1
        if args.show and (level == "ham") == mail.is_spam:
            print(f"{mail.kind:<14} {points[i]:7.1f} {mail.name}")
    print(f"\nlogistic at the product's thresholds ({SUSPECTED:g} suspected, {CERTAIN:g} certain)")
    print_levels(rows_by_kind, "kind", 22)
    print("points  legitimate flagged  corpus spam caught  written spam caught")
    for point in (3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0):
        print(
            f"{point:>6.0f} {100 * np.mean(points[legit] >= point):>18.2f}%"
            f" {100 * np.mean(points[corpus] >= point):>18.1f}%"
            f" {100 * np.mean(points[written] >= point):>19.1f}%"
        )
    if args.across:
        across(train, rows, labels, times)
    return 0


if __name__ == "__main__":
    sys.exit(main())
