"""Refit the mails' offer confidence with the first hit's TF-IDF cosine (faq.matching
.MAIL_CONFIDENCE_PER_WORD_COSINE) on the hand-written tuning mails only.

Twenty-fifth session. Every tuning mail (bench/offer_mails_calibration.jsonl and the used-up
hand-written sets 1-19, each a source weighing the same) is run once through the search; for its
first hit when the gates let it through (faq.matching.confidences > 0, a mail that says
something) the figures of the mails' formula are recorded: the cosine, Chinese, the word search
first, the TF-IDF margin (faq.matching.word_margin), the model ranking it second, and the TF-IDF
cosine itself; and whether the action and unasked-words checks block it (asks_other_action;
asks_beyond below MAIL_UNASKED_BELOW) and, for English hits, the second English model's view
(faq.matching.english_agrees). A logistic regression (label: the first hit is an expected or
acceptable article) is fitted, then one cut per language chosen on the fit's own probability
(0.40-0.90, the most right offers less FALSE_WEIGHT per false offer); the checks and the close
second are replayed with the new confidence. Prints the coefficients (faq/matching.py takes the
intercept as fitted and MAIL_LANGUAGE_CUTS the cuts), the figures per set fitted on all, and
each set left out in turn (fit and cuts chosen on the others). Never run it on a held-out set.

    .venv/bin/python bench/mail_word_cosine.py
"""

from __future__ import annotations

import collections
import itertools
import logging
import math
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from handwritten_offers_eval import as_text  # noqa: E402
from intake_bench import prepare  # noqa: E402

import faq.matching as matching  # noqa: E402
from faq.index_sync import get_index  # noqa: E402
from faq.knowledge import suggest_articles  # noqa: E402
from faq.search import says_anything  # noqa: E402
from support.core.db import get_db  # noqa: E402

SOURCES = ["offer_mails_calibration.jsonl", "offer_mails_handwritten.jsonl"] + [
    f"offer_mails_handwritten_{n}.jsonl" for n in range(2, 20)
]
FEATURES = ("cosine", "chinese", "lexical_first", "word_margin", "model_second", "word_cosine")
FALSE_WEIGHT = 2.0
CUTS = np.arange(0.4, 0.91, 0.025)


def collect() -> list[dict]:
    """Each tuning mail's first hit's figures, its label and what the other checks say."""
    import json

    app = prepare(None, False)
    database = get_db(app)
    rows: list[dict] = []
    with app.app_context(), database.session() as session:
        index = get_index(session=session)
        for source in SOURCES:
            for line in (HERE / source).read_text("utf-8").splitlines():
                if not line.strip():
                    continue
                mail = json.loads(line)
                text = as_text(mail)
                found = suggest_articles(session, text, language=mail["lang"], limit=3)
                row = {"source": source, "expect": mail["expect"], "ok": mail.get("ok", [])}
                row["gated"] = bool(
                    found
                    and found[0].semantic
                    and says_anything(text)
                    and matching.confidences(found, mail=True)[0] > 0
                )
                if row["gated"]:
                    first = found[0]
                    row["x"] = [
                        first.cosine,
                        float(first.language == "zh"),
                        float(first.lexical_rank == 1),
                        matching.word_margin(found),
                        float(first.semantic_rank != 1),
                        first.word_cosine,
                    ]
                    row["language"] = first.language
                    row["slugs"] = [hit.slug for hit in found]
                    row["action"] = matching.asks_other_action(first, text)
                    row["beyond"] = matching.asks_beyond(first, text)
                    english = first.language == "en"
                    row["english"] = index.english_lead(text, first.article_id) if english else None
                    row["second"] = len(found) > 1 and _second_close(found, text)
                rows.append(row)
    database.dispose()
    return rows


def _second_close(found: list, text: str) -> bool:
    """Whether the close second would go with an offered first (faq.matching.offers_second)."""
    return matching.offers_second(found, [1.0, 0.0], text)


def fit(rows: list[dict]) -> tuple[float, np.ndarray]:
    """The raw logistic regression (intercept, coefficients), each source weighing the same."""
    gated = [row for row in rows if row["gated"]]
    x = np.array([row["x"] for row in gated])
    y = np.array([row["slugs"][0] in {*row["expect"], *row["ok"]} for row in gated])
    per_source = collections.Counter(row["source"] for row in gated)
    weight = np.array([len(gated) / len(per_source) / per_source[row["source"]] for row in gated])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(max_iter=5000).fit(scaler.transform(x), y, sample_weight=weight)
    coefficients = model.coef_[0] / scaler.scale_
    intercept = model.intercept_[0] - float((model.coef_[0] * scaler.mean_ / scaler.scale_).sum())
    return intercept, coefficients


def offered(row: dict, probability: float, cut: float) -> list[str]:
    """The row's offers with the formula's probability and its language's cut (the checks and
    the English second opinion replayed on the moved confidence)."""
    if not row["gated"]:
        return []
    sure = agreed(
        row, 1 / (1 + math.exp(-(math.log(probability / (1 - probability)) + _shift(cut))))
    )
    if matching.OFFER_CONFIDENCE <= sure < matching.MAIL_UNASKED_BELOW and row["beyond"]:
        return []
    if sure < matching.OFFER_CONFIDENCE or row["action"]:
        return []
    return row["slugs"][:2] if row["second"] else row["slugs"][:1]


def agreed(row: dict, sure: float) -> float:
    """The confidence after the English second opinion (faq.matching.english_agrees) from the
    row's recorded view."""
    view = row["english"]
    if (
        view is not None
        and matching.MAIL_AGREED_CONFIDENCE <= sure < matching.OFFER_CONFIDENCE
        and view[0] >= matching.MAIL_AGREED_SIMILARITY
        and view[1] >= matching.MAIL_AGREED_LEAD
    ):
        return matching.OFFER_CONFIDENCE
    return sure


def _shift(cut: float) -> float:
    offer = matching.OFFER_CONFIDENCE
    return math.log(offer / (1 - offer)) - math.log(cut / (1 - cut))


def figures(rows: list[dict], model: tuple[float, np.ndarray], cuts: dict[str, float]) -> dict:
    """Expected offered, false offers, good offers and offers of these rows."""
    intercept, coefficients = model
    found = collections.Counter()
    for row in rows:
        offers: list[str] = []
        if row["gated"]:
            logit = intercept + float(np.dot(coefficients, row["x"]))
            probability = 1 / (1 + math.exp(-max(-50.0, min(50.0, logit))))
            offers = offered(row, probability, cuts[row["language"]])
        good = {*row["expect"], *row["ok"]}
        found["answerable"] += bool(row["expect"])
        found["right"] += bool(row["expect"]) and any(s in row["expect"] for s in offers)
        found["unanswerable"] += not row["expect"]
        found["false"] += not row["expect"] and any(s not in good for s in offers)
        found["offers"] += len(offers)
        found["good"] += sum(s in good for s in offers)
    return found


def choose(rows: list[dict]) -> tuple[tuple[float, np.ndarray], dict[str, float]]:
    """The fit and the per-language cuts with the most right offers less the false ones."""
    model = fit(rows)
    best: tuple[float, dict[str, float]] | None = None
    for english, chinese in itertools.product(CUTS, CUTS):
        cuts = {"en": float(english), "zh": float(chinese)}
        found = figures(rows, model, cuts)
        value = found["right"] - FALSE_WEIGHT * found["false"]
        if best is None or value > best[0]:
            best = (value, cuts)
    assert best is not None
    return model, best[1]


def line(found: dict) -> str:
    return (
        f"expected offered {found['right']} of {found['answerable']}, false offers "
        f"{found['false']} of {found['unanswerable']}, precision {found['good']}/{found['offers']}"
    )


def main() -> None:
    logging.disable(logging.WARNING)
    rows = collect()
    model, cuts = choose(rows)
    coefficients = dict(zip(FEATURES, np.round(model[1], 2).tolist(), strict=True))
    print("intercept", round(model[0], 2), coefficients)
    print("cuts", cuts)
    for source in SOURCES:
        held = [row for row in rows if row["source"] == source]
        print(f"{source:<40} {line(figures(held, model, cuts))}")
    print("all (fitted on all)", line(figures(rows, model, cuts)))
    left_out: collections.Counter = collections.Counter()
    for source in SOURCES:
        held = [row for row in rows if row["source"] == source]
        left_out += figures(held, *choose([row for row in rows if row["source"] != source]))
    print("each set left out in turn", line(left_out))


if __name__ == "__main__":
    main()
