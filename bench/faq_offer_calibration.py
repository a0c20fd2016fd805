"""Fit the auto-reply's offer confidence (faq.matching.CONFIDENCE_*) on tuning data only.

The first hit of each tuning question (faq/eval/tune.csv, demo FAQ of 60 articles; the tuning
halves of the large FAQs under bench/faq_scale/: 251, 188 and 200 articles) and of each
tuning-half mail (mailrouter.outbound.offer_evaluation) is labelled right or wrong; among the
first hits both rankings agree on (semantic rank 1, word-search rank <= OFFER_LEXICAL_RANK), a
logistic regression is fitted over the cosine similarity, the similarity relative to the
average article, the similarity above the 5th nearest article's (`standout`), the margin over
the next hit, Chinese, word-search-first and (since the sixteenth session) the TF-IDF cosine's
margin over the next hits' (faq.matching.word_margin), each source (FAQ, and the mails) weighing
the same.
Prints the coefficients to copy into faq/matching.py, then per threshold precision / coverage /
false offers per source: fitted on the other FAQs only (leave one FAQ out: does the confidence
hold on a FAQ of another size?) and 5-fold cross-validated.
Never run it on a held-out file.

    .venv/bin/python bench/faq_offer_calibration.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_bench import prepare

from faq.evaluate import DEMO_CONTENT, TUNE_EVAL, load_demo_docs, read_eval_csv
from faq.knowledge import suggest_articles
from faq.matching import OFFER_LEXICAL_RANK, OFFER_SEMANTIC_RANK, word_margin
from faq.search import SearchIndex, load_embedder
from mailrouter.outbound.offer_evaluation import TUNE, build_cases
from support.core.db import get_db
from support.core.text import detect_language

FEATURES = ("cosine", "similarity", "standout", "margin", "chinese", "lexical first", "word margin")
SCALE_FAQS = Path(__file__).resolve().parent / "faq_scale"
QUESTIONS = [  # (source, FAQ, tuning questions): never a held-out file
    ("questions", DEMO_CONTENT, TUNE_EVAL),
    ("scale-zh", SCALE_FAQS / "zh_telecom.json", SCALE_FAQS / "zh_telecom_tune.csv"),
    ("scale-en", SCALE_FAQS / "en_budget.json", SCALE_FAQS / "en_budget_tune.csv"),
    ("scale-shop", SCALE_FAQS / "zh_shop.json", SCALE_FAQS / "zh_shop_tune.csv"),
]
SOURCES = [source for source, _, _ in QUESTIONS] + ["mails"]
# Similarities are fitted in hundredths (the regression's regularisation assumes features of
# about unit size), the TF-IDF cosine's margin in tenths; the printed coefficients are per unit,
# as faq/matching.py uses them.
SCALE = np.array([100.0, 100.0, 100.0, 100.0, 1.0, 1.0, 10.0])


def features(hits) -> list[float]:
    first = hits[0]
    runner_up = max((hit.similarity for hit in hits[1:]), default=0.0)
    return [
        first.cosine * SCALE[0],
        first.similarity * SCALE[0],
        first.standout * SCALE[0],
        (first.similarity - runner_up) * SCALE[1],
        float(first.language == "zh"),
        float(first.lexical_rank == 1),
        word_margin(hits) * SCALE[6],
    ]


def agreed(hit) -> bool:
    return (hit.semantic_rank or 99) <= OFFER_SEMANTIC_RANK and (
        hit.lexical_rank or 99
    ) <= OFFER_LEXICAL_RANK


def collect() -> list[dict]:
    """One row per tuning question or mail: source, whether answerable, the first hit."""
    rows: list[dict] = []
    embedder = load_embedder()
    if embedder is None:
        raise SystemExit("the model cannot load")
    for source, content, questions in QUESTIONS:
        with tempfile.TemporaryDirectory() as folder:
            index = SearchIndex(Path(folder) / "ix", embedder=embedder)
            index.rebuild(load_demo_docs(content))
            for query, expected in read_eval_csv(questions):
                language = detect_language(query, min_cjk_share=0)
                hits = index.search(query, language=language, limit=6, spelling=False).hits
                right = bool(hits) and hits[0].slug == expected
                rows.append(dict(source=source, answerable=bool(expected), hits=hits, right=right))
            index.close()
    app = prepare(None, False)
    database = get_db(app)
    with app.app_context(), database.session() as session:
        for case in build_cases():
            if case.half != TUNE:
                continue
            hits = suggest_articles(session, case.text, language=case.language, limit=3)
            good = {case.expected, *case.acceptable}
            right = bool(hits) and hits[0].slug in good
            rows.append(
                dict(source="mails", answerable=bool(case.expected), hits=hits, right=right)
            )
    database.dispose()
    return rows


def weights(rows: list[dict]) -> np.ndarray:
    """Each source weighs the same in the fit, whatever its number of first hits."""
    count: dict[str, int] = {}
    for row in rows:
        count[row["source"]] = count.get(row["source"], 0) + 1
    weight = np.array([1.0 / count[row["source"]] for row in rows])
    return weight / weight.mean()


def fit(rows: list[dict]) -> LogisticRegression:
    x = np.array([features(row["hits"]) for row in rows])
    y = np.array([row["right"] for row in rows])
    return LogisticRegression(max_iter=1000).fit(x, y, sample_weight=weights(rows))


def table(rows: list[dict], sure: dict[int, float]) -> None:
    """Precision / coverage / false offers per source and threshold."""
    for threshold in (0.7, 0.75, 0.8, 0.85, 0.9):
        line = [f"{threshold:.2f}"]
        for source in SOURCES:
            part = [row for row in rows if row["source"] == source]
            offered = [row for row in part if sure.get(id(row), 0.0) >= threshold]
            right = sum(row["right"] for row in offered)
            answerable = sum(row["answerable"] for row in part) or 1
            unanswerable = sum(not row["answerable"] for row in part) or 1
            covered = sum(row["right"] and row["answerable"] for row in offered)
            false = sum(not row["answerable"] and not row["right"] for row in offered)
            line.append(
                f"{source} {right / max(len(offered), 1):.3f} / {covered / answerable:.3f} / "
                f"{false / unanswerable:.3f}"
            )
        print("  ".join(line))


def main() -> None:
    logging.disable(logging.WARNING)
    rows = collect()
    gated = [row for row in rows if row["hits"] and agreed(row["hits"][0])]
    model = fit(gated)
    right = sum(row["right"] for row in gated)
    print(f"{len(gated)} first hits both rankings agree on ({right} right), sources weigh the same")
    print(f"intercept {model.intercept_[0]:.3f}")
    for name, value, scale in zip(FEATURES, model.coef_[0], SCALE, strict=True):
        print(f"{name:>14} {value * scale:.2f}")
    print("Fitted without the source's FAQ (leave one FAQ out; the mails are the demo FAQ's):")
    print("threshold, then precision / coverage / false offers")
    sure: dict[int, float] = {}
    for source, _, _ in QUESTIONS:
        faq = {source, "mails"} if source == "questions" else {source}
        held = [row for row in gated if row["source"] in faq]
        other = fit([row for row in gated if row["source"] not in faq])
        probability = other.predict_proba(np.array([features(row["hits"]) for row in held]))
        sure.update({id(row): p for row, p in zip(held, probability[:, 1], strict=True)})
    table(rows, sure)
    print("5-fold cross-validated (every source in the fit):")
    x = np.array([features(row["hits"]) for row in gated])
    y = np.array([row["right"] for row in gated])
    folds = np.arange(len(gated)) % 5
    sure = {}
    for fold in range(5):
        model = LogisticRegression(max_iter=1000).fit(
            x[folds != fold],
            y[folds != fold],
            sample_weight=weights([row for row, f in zip(gated, folds, strict=True) if f != fold]),
        )
        probability = model.predict_proba(x[folds == fold])[:, 1]
        test = [row for row, f in zip(gated, folds, strict=True) if f == fold]
        sure.update({id(row): p for row, p in zip(test, probability, strict=True)})
    table(rows, sure)


if __name__ == "__main__":
    main()
