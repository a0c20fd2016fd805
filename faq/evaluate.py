"""Offline relevance evaluation of FAQ search: does the right article come first?

Measured on customer questions written independently of the articles, so a change to the
analysis or the ranking can be judged by numbers instead of by a few hand-picked queries.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from faq.search import ArticleDoc

logger = logging.getLogger(__name__)

EVAL_COLUMNS = ("query", "expected")
DEMO_CONTENT = Path(__file__).with_name("demo_content.json")
DEMO_EVAL = Path(__file__).with_name("demo_eval.csv")


class EvaluationMiss(NamedTuple):
    query: str
    expected: str
    got_top3: list[str]


@dataclass(frozen=True)
class EvaluationReport:
    n: int
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    misses: list[EvaluationMiss] = field(default_factory=list)  # expected not ranked first

    def summary(self) -> str:
        return (
            f"n={self.n} Recall@1={self.recall_at_1:.3f} Recall@5={self.recall_at_5:.3f} "
            f"MRR@10={self.mrr_at_10:.3f}"
        )


def evaluate(
    rows: Iterable[tuple[str, str]], search: Callable[[str], list[str]]
) -> EvaluationReport:
    """Score `search` (query -> ranked slugs or ids as strings) on (query, expected) rows."""
    n = found_at_1 = found_at_5 = 0
    reciprocal_ranks = 0.0
    misses: list[EvaluationMiss] = []
    for query, expected in rows:
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
        return EvaluationReport(n=0, recall_at_1=0.0, recall_at_5=0.0, mrr_at_10=0.0)
    return EvaluationReport(
        n=n,
        recall_at_1=found_at_1 / n,
        recall_at_5=found_at_5 / n,
        mrr_at_10=reciprocal_ranks / n,
        misses=misses,
    )


def read_eval_csv(path: str | Path) -> list[tuple[str, str]]:
    """(query, expected) rows of a CSV with exactly the columns `query,expected`."""
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
            if len(record) != 2 or not record[0].strip() or not record[1].strip():
                raise ValueError(
                    f"{path}, line {line_no}: expected a non-empty query and expected value, "
                    f"got {record!r}"
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
