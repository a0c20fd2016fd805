"""The learned pair re-check with the request's words beside the vectors, each set left out.

Thirty-fourth session. bench/offer_pair_classifier.py's check reads the e5 vectors of the mail's
line nearest the article and the article's rows, and the search's scalars; near-topic mails ask
a detail the article does not say ("bring it to the showroom", "pay it off early", "积分会退回来吗"
to the cancellation article). This adds what the request says in words against what the article
says (`word_features`: how many of the asking lines' words the article's question,
phrasings and answer lack, as a count and a share, in the last asking line too, and the share its
question and phrasings cover), and compares the check with and without them, each set left out
(C and the cut fixed as the product's; the cuts listed) and with the demo's topics left out.

    .venv/bin/python bench/offer_causes.py /tmp/offer_causes.pkl   (with the re-check off)
    .venv/bin/python bench/offer_pair_words.py /tmp/offer_causes.pkl
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import offer_pair_classifier as pc  # noqa: E402

from faq.search import ENGLISH_STOP_WORDS, analyze, markdown_to_text  # noqa: E402

FOLDS_CUTS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
MAX_REQUEST_WORDS = 64
MAX_WORD_COUNT = 8


def content_words(text: str) -> list[str]:
    """The distinct words of `text` the search reads (stemmed English, jieba Chinese), less
    stop words, single characters and numbers."""
    return list(
        dict.fromkeys(
            word
            for word in analyze(text)
            if len(word) > 1 and not word.isdigit() and word not in ENGLISH_STOP_WORDS
        )
    )[:MAX_REQUEST_WORDS]


def word_features(focused: str, question: str, phrasings: list[str], answer: str) -> np.ndarray:
    """What a mail's asking lines (`focused`, faq.search.focus) say in words against what an
    article says: how many of their words its question, phrasings and answer lack (capped) and
    their share, the same for the last asking line (the request), and the share of the asking
    lines' words its question and phrasings have."""
    lines = [line for line in focused.splitlines() if line.strip()]
    asked = content_words(" ".join(lines))
    last = content_words(lines[-1]) if lines else []
    said = set(analyze(" ".join((question, *phrasings, answer))))
    titled = set(analyze(" ".join((question, *phrasings))))
    missing = [word for word in asked if word not in said]
    missing_last = [word for word in last if word not in said]
    return np.array(
        [
            min(len(missing), MAX_WORD_COUNT),
            len(missing) / max(len(asked), 1),
            min(len(missing_last), MAX_WORD_COUNT),
            len(missing_last) / max(len(last), 1),
            sum(word in titled for word in asked) / max(len(asked), 1),
        ],
        np.float32,
    )


def with_words(data: dict, pairs: list[pc.Pair]) -> np.ndarray:
    rows = data["rows"]
    ids = {info["slug"]: article_id for article_id, info in data["articles"].items()}
    extra = []
    for pair in pairs:
        article = data["articles"][ids[pair.slug]]
        extra.append(
            word_features(
                rows[pair.mail]["focus"],
                article["question"],
                article["phrasings"],
                markdown_to_text(article["answer_md"]),
            )
        )
    return np.stack(extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("causes", type=Path)
    parser.add_argument("--c", type=float, nargs="+", default=[pc.WRITE_C])
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data = pickle.loads(args.causes.read_bytes())
    rows = data["rows"]
    pairs = pc.build_pairs(data)
    base = np.stack([pair.features for pair in pairs])
    words = with_words(data, pairs)
    y = np.array([pair.good for pair in pairs])
    groups = np.array([rows[pair.mail]["source"] for pair in pairs])
    sets = list(dict.fromkeys(row["source"] for row in rows))
    mails = list(range(len(rows)))
    now = pc.score(rows, mails, pc.today(rows, mails))
    print(f"{len(rows)} mails, {len(pairs)} pairs, today: {now.line()}")
    late = {s: [i for i, r in enumerate(rows) if r["source"] == s] for s in sets[-2:]}
    for name, x in (
        ("vectors (today's check)", base),
        ("vectors + words", np.hstack([base, words])),
    ):
        for c in args.c:
            chances = pc.left_out(x, y, groups, sets, c)
            print(f"\n{name}, C {c}, each set left out:")
            for cut in FOLDS_CUTS:
                line = pc.score(rows, mails, pc.vetoed(pairs, chances, mails, cut)).line()
                tail = "; ".join(
                    f"{s[17:-6]} {pc.score(rows, m, pc.vetoed(pairs, chances, m, cut)).line()}"
                    for s, m in late.items()
                )
                print(f"  veto below {cut:.2f}: {line}\n      {tail}")


if __name__ == "__main__":
    main()
