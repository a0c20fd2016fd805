"""Cross-validation of the spam filter inside the training part (never the held-out part).

Usage: ``.venv/bin/python bench/spam_cv.py [--corpora ../shared/corpora] [--folds 5]``

Every training mail (``shipped_training.split``'s first half) is tokenised once; each fold is
judged by a model counted from the other folds, with the product's thresholds (5 suspected,
12 certain on SpamAssassin's scale). Used to choose features and training data, so that the
held-out figures of ``bench/spam_eval.py`` stay a fair report rather than a target.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from mailrouter.automatic import automatic_reason
from mailrouter.parsing import parse_message
from mailrouter.spam.features import mail_tokens
from mailrouter.spam.model import BUCKET_SCRIPTS, CLASSES, SCRIPTS, SpamModel, bucket
from mailrouter.spam.shipped_training import label_of, split, weight_of
from mailrouter.spam.verdict import LOG_ODDS_PER_POINT

DEFAULT_CORPORA = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpora"
SUSPECTED, CERTAIN = 5.0, 12.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="list the misses and false alarms")
    args = parser.parse_args()
    train, _held = split(args.corpora)
    tokens = [mail_tokens(parse_message(m.raw)) for m in train]
    buckets = [np.unique(np.fromiter((bucket(t) for t in ts), np.int64)) for ts in tokens]
    labels = [label_of(m) for m in train]
    total = {c: np.zeros(1 << 20, np.int32) for c in CLASSES}
    present = []  # per mail: 1 for "any" and for each script it has tokens of
    weights = [weight_of(m) for m in train]
    for b, label, times in zip(buckets, labels, weights, strict=True):
        total[label][b] += times
        kinds = set(BUCKET_SCRIPTS[b].tolist())
        flags = [1] + [int(s in kinds) for s in range(1, len(SCRIPTS))]
        present.append(np.array(flags) * times)
    mails = {
        c: sum(
            (present[i] for i in range(len(train)) if labels[i] == c), np.zeros(len(SCRIPTS), int)
        )
        for c in CLASSES
    }
    rows: dict[str, Counter[str]] = {}
    scores: dict[bool, list[float]] = {True: [], False: []}
    spam_scores: dict[str, list[float]] = {"corpus": [], "written": []}
    listed = [bool(automatic_reason(parse_message(m.raw), ["support@example.com"])) for m in train]
    for fold in range(args.folds):
        members = [i for i in range(len(train)) if i % args.folds == fold]
        counts = {c: total[c].copy() for c in CLASSES}
        left = {c: mails[c].copy() for c in CLASSES}
        for i in members:
            counts[labels[i]][buckets[i]] -= weights[i]
            left[labels[i]] -= present[i]
        model = SpamModel(counts, {c: list(left[c]) for c in CLASSES})
        for i in members:
            score = model.log_odds(tokens[i])[0] / LOG_ODDS_PER_POINT
            level = "certain" if score >= CERTAIN else "suspected" if score >= SUSPECTED else "ham"
            if train[i].is_spam:
                spam_scores["written" if train[i].kind.startswith("written") else "corpus"].append(
                    score
                )
            elif not listed[i]:
                scores[False].append(score)
            row = rows.setdefault(train[i].kind, Counter())
            row[level] += 1
            wrong = (level == "ham") == train[i].is_spam
            if args.show and wrong:
                print(f"{train[i].kind:<14} {score:7.1f} {train[i].name}")
    print(f"{'kind':<16} {'mails':>6} {'ham':>6} {'suspected':>10} {'certain':>8} {'flagged':>8}")
    for kind in sorted(rows):
        c = rows[kind]
        n = sum(c.values())
        flagged = c["suspected"] + c["certain"]
        print(
            f"{kind:<16} {n:>6} {c['ham']:>6} {c['suspected']:>10} {c['certain']:>8}"
            f" {100 * flagged / n:>7.1f}%"
        )
    # The operating point: the score that 0.5% of the legitimate mail (not list mail)
    # reaches, and how much spam reaches it.
    ham = sorted(scores[False])
    cut = ham[min(int(len(ham) * 0.995), len(ham) - 1)]
    caught = {k: sum(s >= cut for s in v) / len(v) for k, v in spam_scores.items()}
    print(
        f"legitimate mail (not list mail): {len(ham)}; 0.5% of it scores >= {cut:.1f};"
        " spam at or above that: "
        + ", ".join(f"{k} {100 * v:.1f}%" for k, v in sorted(caught.items()))
    )
    print("log-odds  legitimate flagged  corpus spam caught  written spam caught")
    for odds in (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0):
        point = odds / LOG_ODDS_PER_POINT
        share = {k: 100 * sum(s >= point for s in v) / len(v) for k, v in spam_scores.items()}
        legit = 100 * sum(s >= point for s in ham) / len(ham)
        print(f"{odds:>8.0f} {legit:>18.2f}% {share['corpus']:>18.1f}% {share['written']:>19.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
