"""Fit the mails' offer confidence (faq.matching.MAIL_CONFIDENCE_*) on tuning mails only.

Sources, each weighing the same: bench/offer_mails_calibration.jsonl (written for this: an article
answers about half, none the rest though they sit near a topic), the hand-written sets 1-14 and 16
(bench/offer_mails_handwritten{,_2,...,_14,_16}.jsonl, used up as held-out sets, so tuning data now)
and the templated tuning half (mailrouter.outbound.offer_evaluation). Among the first hits the model
ranks first and the word search among its best (faq.matching.OFFER_SEMANTIC_RANK /
faq.matching.word_search_agrees; a mail's first hit the model ranks second is judged by the same
formula less a fixed MAIL_CONFIDENCE_MODEL_SECOND, see bench/offer_gates.py; mails that say nothing,
see faq.search.says_anything, never), a logistic regression (label: the first hit is an expected
article) over the cosine, Chinese, word-search-first and (since the fifteenth session) the TF-IDF
cosine's margin over the next hits' (faq.matching.word_margin). Prints the coefficients, then per
probability the figures of each source fitted without it (leave one source out) and of the fit on
all: expected offered, false offers on unanswerable mails, precision. Choose by false offers <= 0.10
on the hand-written mails first, then the most right offers; the intercept in faq/matching.py is the
fitted one plus logit(OFFER_CONFIDENCE) - logit(chosen probability).
Since the fourteenth session sets 5 and 6 are tuning data too, since the fifteenth set 7 (eight
hand-written sources), since the sixteenth set 8 (nine), since the seventeenth sets 9 and 10
(eleven), since the nineteenth sets 11 and 12 (thirteen; the coefficients in faq/matching.py
were fitted before they joined), since the twentieth sets 13 and 14 (fifteen), since the
twenty-second set 16 (sixteen; set 15 is held out, English). Never run it on a
held-out set (the newest offer_mails_handwritten_N.jsonl once one is written, the templated test
half). Its "now" line counts model-first hits only. A language's own cut
(faq.matching.MAIL_LANGUAGE_CUTS, bench/mail_language_cut.py) comes on top of the fitted
formula: after a refit, choose it again.

    .venv/bin/python bench/mail_offer_calibration.py
"""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from handwritten_offers_eval import as_text  # noqa: E402
from intake_bench import prepare  # noqa: E402

from faq.knowledge import suggest_articles  # noqa: E402
from faq.matching import (  # noqa: E402
    OFFER_CONFIDENCE,
    OFFER_SEMANTIC_RANK,
    confidences,
    word_margin,
    word_search_agrees,
)
from faq.search import says_anything  # noqa: E402
from mailrouter.outbound.offer_evaluation import TUNE, build_cases  # noqa: E402
from support.core.db import get_db  # noqa: E402

HANDWRITTEN = [
    "offer_mails_calibration.jsonl",
    "offer_mails_handwritten.jsonl",
    "offer_mails_handwritten_2.jsonl",
    "offer_mails_handwritten_3.jsonl",
    "offer_mails_handwritten_4.jsonl",
    "offer_mails_handwritten_5.jsonl",
    "offer_mails_handwritten_6.jsonl",
    "offer_mails_handwritten_7.jsonl",
    "offer_mails_handwritten_8.jsonl",
    "offer_mails_handwritten_9.jsonl",
    "offer_mails_handwritten_10.jsonl",
    "offer_mails_handwritten_11.jsonl",
    "offer_mails_handwritten_12.jsonl",
    "offer_mails_handwritten_13.jsonl",
    "offer_mails_handwritten_14.jsonl",
    "offer_mails_handwritten_16.jsonl",
]
TEMPLATED = "templated tuning half"
SOURCES = [*HANDWRITTEN, TEMPLATED]
FEATURES = ("cosine", "chinese", "lexical first", "word margin")
# The cosine is fitted in hundredths, the TF-IDF cosine's margin in tenths (the regularisation
# assumes features of about unit size).
SCALE = np.array([100.0, 1.0, 1.0, 10.0])
PROBABILITIES = (0.6, 0.625, 0.65, 0.675, 0.7, 0.725, 0.75, 0.8)


def tuning_cases() -> list[tuple[str, str, str, list[str], list[str]]]:
    """The tuning mails (HANDWRITTEN, the templated tuning half) as the auto-reply reads them:
    source, text, language, expected slugs, acceptable slugs."""
    cases = []
    for name in HANDWRITTEN:
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                good = (row["expect"], row.get("ok", []))
                cases.append((name, as_text(row), row["lang"], *good))
    cases += [
        (TEMPLATED, c.text, c.language, [c.expected] if c.expected else [], list(c.acceptable))
        for c in build_cases()
        if c.half == TUNE
    ]
    return cases


def collect() -> list[dict]:
    """Per mail: source, expected and acceptable slugs, first hit's slug, features, gate."""
    cases = tuning_cases()
    app = prepare(None, False)
    database = get_db(app)
    rows = []
    with app.app_context(), database.session() as session:
        for source, text, language, expect, ok in cases:
            hits = suggest_articles(session, text, language=language, limit=3)
            first = hits[0] if hits else None
            gated = (
                first is not None
                and says_anything(text)
                and (first.semantic_rank or 99) <= OFFER_SEMANTIC_RANK
                and word_search_agrees(first, mail=True)
            )
            rows.append(
                dict(
                    source=source,
                    expect=set(expect),
                    good=set(expect) | set(ok),
                    first=first.slug if first else None,
                    gated=gated,
                    now=confidences(hits, mail=True)[0] if gated else 0.0,
                    x=[
                        first.cosine,
                        first.language == "zh",
                        first.lexical_rank == 1,
                        word_margin(hits),
                    ]
                    if gated and first is not None
                    else None,
                )
            )
    database.dispose()
    return rows


def fit(rows: list[dict]) -> LogisticRegression:
    """The regression on these rows' gated first hits, each source weighing the same."""
    gated = [row for row in rows if row["gated"]]
    counts = {source: sum(row["source"] == source for row in gated) for source in SOURCES}
    weight = np.array([len(gated) / len(SOURCES) / counts[row["source"]] for row in gated])
    x = np.array([row["x"] for row in gated], dtype=float) * SCALE
    right = np.array([row["first"] in row["expect"] for row in gated])
    return LogisticRegression(C=1.0, max_iter=5000).fit(x, right, sample_weight=weight)


def probability(model: LogisticRegression, row: dict) -> float:
    if not row["gated"]:
        return 0.0
    return float(model.predict_proba(np.array([row["x"]], dtype=float) * SCALE)[0, 1])


def figures(rows: list[dict], sure: dict[int, float], at: float, sources: list[str]) -> str:
    """Expected offered / false offers / precision of these sources at probability `at`."""
    part = [row for row in rows if row["source"] in sources]
    offered = [row for row in part if sure[id(row)] >= at]
    answerable = sum(bool(row["expect"]) for row in part)
    right = sum(row["first"] in row["expect"] for row in offered)
    false = sum(not row["expect"] and row["first"] not in row["good"] for row in offered)
    good = sum(row["first"] in row["good"] for row in offered)
    return f"{right}/{answerable}  {false}/{len(part) - answerable}  {good}/{len(offered)}"


def main() -> None:
    logging.disable(logging.WARNING)
    rows = collect()
    model = fit(rows)
    coefficients = model.coef_[0] * SCALE
    print(f"intercept {model.intercept_[0]:.2f}")
    for name, value in zip(FEATURES, coefficients, strict=True):
        print(f"  {name:14} {value:8.2f}")
    held = {}
    for source in SOURCES:
        alone = fit([row for row in rows if row["source"] != source])
        held.update({id(row): probability(alone, row) for row in rows if row["source"] == source})
    fitted = {id(row): probability(model, row) for row in rows}
    now = {id(row): row["now"] for row in rows}
    print("expected offered / false offers / precision: hand-written sets, templated")
    print(
        f"now at {OFFER_CONFIDENCE}: {figures(rows, now, OFFER_CONFIDENCE, HANDWRITTEN)}   "
        f"{figures(rows, now, OFFER_CONFIDENCE, [TEMPLATED])}"
    )
    for at in PROBABILITIES:
        shift = math.log(OFFER_CONFIDENCE / (1 - OFFER_CONFIDENCE)) - math.log(at / (1 - at))
        print(
            f"p {at:.3f} (intercept {model.intercept_[0] + shift:.2f})  left out: "
            f"{figures(rows, held, at, HANDWRITTEN)}   {figures(rows, held, at, [TEMPLATED])}"
            f"   fitted on all: {figures(rows, fitted, at, HANDWRITTEN)}   "
            f"{figures(rows, fitted, at, [TEMPLATED])}"
        )


if __name__ == "__main__":
    main()
