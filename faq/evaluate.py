"""Offline relevance evaluation of FAQ search: does the right article come first, and does
the auto-reply offer it only when it is right?

Measured on customer questions written independently of the articles, so a change to the
analysis or the ranking can be judged by numbers instead of by a few hand-picked queries. A row
whose expected article is empty is a question no article answers: it counts only for the
offers (nothing should be offered). faq/eval/tune.csv is for tuning; faq/eval/heldout.csv is
the held-out set to report (never tune on it).
"""

from __future__ import annotations

import csv
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from faq.search import ArticleDoc

logger = logging.getLogger(__name__)

EVAL_COLUMNS = ("query", "expected")
DEMO_CONTENT = Path(__file__).with_name("demo_content.json")
DEMO_EVAL = Path(__file__).with_name("demo_eval.csv")
TUNE_EVAL = Path(__file__).with_name("eval") / "tune.csv"
HELDOUT_EVAL = Path(__file__).with_name("eval") / "heldout.csv"


class EvaluationMiss(NamedTuple):
    query: str
    expected: str
    got_top3: list[str]


@dataclass(frozen=True)
class OfferReport:
    """How the auto-reply's matcher did: offered articles that were right, answerable questions
    whose article was offered, unanswerable questions offered anything."""

    offered: int
    precision: float
    coverage: float
    false_offer_rate: float
    unanswerable: int
    wrong: list[EvaluationMiss] = field(default_factory=list)  # offers that were not right

    def summary(self) -> str:
        return (
            f"offers={self.offered} precision={self.precision:.3f} coverage={self.coverage:.3f} "
            f"false-offer rate={self.false_offer_rate:.3f} (unanswerable n={self.unanswerable})"
        )


@dataclass(frozen=True)
class EvaluationReport:
    n: int  # answerable rows
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    misses: list[EvaluationMiss] = field(default_factory=list)  # expected not ranked first
    offers: OfferReport | None = None

    def summary(self) -> str:
        text = (
            f"n={self.n} Recall@1={self.recall_at_1:.3f} Recall@5={self.recall_at_5:.3f} "
            f"MRR@10={self.mrr_at_10:.3f}"
        )
        return f"{text}; {self.offers.summary()}" if self.offers else text


def evaluate(
    rows: Iterable[tuple[str, str]],
    search: Callable[[str], list[str]],
    offer: Callable[[str], list[str]] | None = None,
) -> EvaluationReport:
    """Score `search` (query -> ranked slugs or ids as strings) on (query, expected) rows, and
    `offer` (query -> the articles the auto-reply would offer) when given. Rows with an empty
    expected value count only for the offers."""
    rows = list(rows)
    offers = evaluate_offers(rows, offer) if offer is not None else None
    n = found_at_1 = found_at_5 = 0
    reciprocal_ranks = 0.0
    misses: list[EvaluationMiss] = []
    for query, expected in rows:
        if not expected:
            continue
        ranked = [str(item) for item in search(query)][:10]
        n += 1
        rank = ranked.index(expected) + 1 if expected in ranked else None
        if rank == 1:
            found_at_1 += 1
        else:
            misses.append(EvaluationMiss(query, expected, ranked[:3]))
        if rank is not None and rank <= 5:
            found_at_5 += 1
        if rank is not None:
            reciprocal_ranks += 1.0 / rank
    if n == 0:
        return EvaluationReport(n=0, recall_at_1=0.0, recall_at_5=0.0, mrr_at_10=0.0, offers=offers)
    return EvaluationReport(
        n=n,
        recall_at_1=found_at_1 / n,
        recall_at_5=found_at_5 / n,
        mrr_at_10=reciprocal_ranks / n,
        misses=misses,
        offers=offers,
    )


def evaluate_offers(
    rows: Iterable[tuple[str, str]], offer: Callable[[str], list[str]]
) -> OfferReport:
    """Precision, coverage and false-offer rate of `offer` on (query, expected) rows."""
    offered = right = answerable = covered = unanswerable = falsely = 0
    wrong: list[EvaluationMiss] = []
    for query, expected in rows:
        got = [str(item) for item in offer(query)]
        offered += len(got)
        right += sum(1 for item in got if item == expected)
        if expected:
            answerable += 1
            covered += expected in got
        else:
            unanswerable += 1
            falsely += bool(got)
        if any(item != expected for item in got):
            wrong.append(EvaluationMiss(query, expected, got))
    return OfferReport(
        offered=offered,
        precision=right / offered if offered else 1.0,
        coverage=covered / answerable if answerable else 0.0,
        false_offer_rate=falsely / unanswerable if unanswerable else 0.0,
        unanswerable=unanswerable,
        wrong=wrong,
    )


@dataclass(frozen=True)
class ShownReport:
    """What the portal's results page shows before "show all" (faq.matching.first_page):
    how often the expected article is among the first five shown, and how many are shown."""

    n: int  # answerable rows
    found_at_5: int
    mean_shown: float
    counts: dict[int, int]  # results shown -> searches, every row

    def summary(self) -> str:
        spread = " ".join(f"{shown}:{times}" for shown, times in sorted(self.counts.items()))
        return (
            f"expected among the first 5 shown {self.found_at_5} of {self.n}; "
            f"shown a search {self.mean_shown:.2f} (results shown:searches {spread})"
        )


def evaluate_shown(
    rows: Iterable[tuple[str, str]], shown: Callable[[str], list[str]]
) -> ShownReport:
    """Score `shown` (query -> the slugs or ids the results page shows, in order) on (query,
    expected) rows: every row counts for the numbers shown, answerable ones for the recall."""
    n = found = 0
    counts: Counter[int] = Counter()
    for query, expected in rows:
        got = [str(item) for item in shown(query)]
        counts[len(got)] += 1
        if expected:
            n += 1
            found += expected in got[:5]
    total = sum(counts.values())
    mean = sum(size * times for size, times in counts.items()) / total if total else 0.0
    return ShownReport(n=n, found_at_5=found, mean_shown=mean, counts=dict(counts))


def read_eval_csv(path: str | Path) -> list[tuple[str, str]]:
    """(query, expected) rows of a CSV with exactly the columns `query,expected`; an empty
    expected value means no article answers the query."""
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file; expected a header line 'query,expected'")
        columns = tuple(column.strip().lower() for column in header)
        if columns != EVAL_COLUMNS:
            raise ValueError(
                f"{path}: columns are {', '.join(header) or '(none)'}; "
                f"expected exactly: {', '.join(EVAL_COLUMNS)}"
            )
        rows: list[tuple[str, str]] = []
        for line_no, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != 2 or not record[0].strip():
                raise ValueError(
                    f"{path}, line {line_no}: expected a non-empty query and an expected "
                    f"value (empty: no article answers it), got {record!r}"
                )
            rows.append((record[0].strip(), record[1].strip()))
    return rows


def load_demo_docs(path: str | Path = DEMO_CONTENT) -> list[ArticleDoc]:
    """The demo FAQ as search documents, numbered in file order (no database needed)."""
    content = json.loads(Path(path).read_text(encoding="utf-8"))
    categories = {c["slug"]: (number, c) for number, c in enumerate(content["categories"], 1)}
    docs = []
    for number, article in enumerate(content["articles"], start=1):
        category_id, category = categories[article["category"]]
        docs.append(
            ArticleDoc(
                article_id=number,
                slug=article["slug"],
                language=article["language"],
                category_id=category_id,
                category_name=category["name_zh" if article["language"] == "zh" else "name_en"],
                question=article["question"],
                answer=article["answer"],
                phrasings=list(article.get("phrasings", [])),
            )
        )
    return docs
