"""Where the portal says "no article seems to answer this exactly" (faq.matching.NO_ANSWER_BELOW).

Each typed query of a CSV (`query,expected`; empty expected: no article answers it) is searched
as the portal's results page searches it (faq.knowledge.search_faq, first page) on the demo FAQ,
and its first result's confidence is read as the page reads it (faq.matching.answer_confidence;
--gated: the offer's gated search_confidence instead).
A query is flagged when nothing is found or the confidence is below the cut. Prints, per cut,
the share of unanswerable queries flagged and of answerable ones flagged (those whose first
result is right, and all), plus Recall@1/5 and the auto-reply's offers as `support faq evaluate`
reports them, and what the results page shows before "show all" (faq.matching.first_page).

Choose the cut on tuning files only (faq/eval/tune.csv, faq/demo_eval.csv); a held-out file
(faq/eval/portal_heldout.csv) is scored at the shipped cut only: pass --shipped.

    PYTHONPATH=. .venv/bin/python bench/portal_no_answer.py faq/eval/tune.csv faq/demo_eval.csv
    PYTHONPATH=. .venv/bin/python bench/portal_no_answer.py --shipped faq/eval/portal_heldout.csv
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_bench import prepare

from faq.evaluate import evaluate, evaluate_shown, read_eval_csv
from faq.knowledge import close_to_first, search_faq
from faq.matching import (
    NO_ANSWER_BELOW,
    FirstPage,
    answer_confidence,
    answers_for,
    first_page,
    search_confidence,
)
from faq.models import Article
from support.core.db import get_db
from support.core.text import detect_language

CUTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
RESULTS_PER_PAGE = 10  # faq.portal.RESULTS_PER_PAGE
CAPS = (1, 2, 3, 4, 5, 10)  # results shown at most when no article seems to answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument(
        "--gated", action="store_true", help="variant: the offer's gated search_confidence"
    )
    parser.add_argument("--shipped", action="store_true", help="only the portal's own cut")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rows = [row for path in args.files for row in read_eval_csv(path)]
    app = prepare(None, False)
    database = get_db(app)
    scored = []  # (expected, first slug or None, confidence or None)
    with app.app_context(), database.session() as session:
        slugs = dict(session.query(Article.id, Article.slug).all())
        ranked: dict[str, list[str]] = {}
        pages: dict[str, FirstPage] = {}
        close: dict[str, list[str]] = {}  # close_to_first, before the cap
        for query, expected in rows:
            results, _language = search_faq(
                query, language="auto", limit=RESULTS_PER_PAGE, app=app, session=session
            )
            hits = results.hits
            ranked[query] = [hit.slug for hit in hits]
            pages[query] = first_page(results)
            close[query] = [hit.slug for hit in close_to_first(results)]
            scores = [hit.score for hit in hits]
            gauge = search_confidence if args.gated else answer_confidence
            sure = gauge(hits, scores)
            scored.append((query, expected, hits[0].slug if hits else None, sure))

        def offered(query: str) -> list[str]:
            language = detect_language(query, min_cjk_share=0)
            return [slugs[m.article_id] for m in answers_for(session, query, language)]

        report = evaluate(rows, lambda query: ranked[query], offered)
    database.dispose()
    print(report.summary())
    # What the results page shows before "show all" (faq.matching.first_page), all searches and
    # those it calls "no article seems to answer this exactly" (and the others) apart.
    for label, part in (
        ("all", rows),
        ("no exact answer", [row for row in rows if pages[row[0]].no_exact_answer]),
        ("answered", [row for row in rows if not pages[row[0]].no_exact_answer]),
    ):
        shown = evaluate_shown(part, lambda query: [hit.slug for hit in pages[query].hits])
        print(f"results page, {label} ({len(part)}): {shown.summary()}")
    if not args.shipped:  # the choice of NO_ANSWER_SHOWN: the "no exact answer" searches capped
        weak = [row for row in rows if pages[row[0]].no_exact_answer]
        for cap in CAPS:
            shown = evaluate_shown(weak, lambda query, cap=cap: close[query][:cap])
            print(f"  at most {cap} when no exact answer: {shown.summary()}")
    if args.shipped:
        cuts: tuple[float, ...] = (NO_ANSWER_BELOW,)
    else:
        cuts = CUTS
    unanswerable = [row for row in scored if not row[1]]
    answerable = [row for row in scored if row[1]]
    right = [row for row in answerable if row[2] == row[1]]
    print(
        f"{len(unanswerable)} unanswerable, {len(answerable)} answerable "
        f"({len(right)} with the right first result)"
    )
    print("cut: unanswerable flagged / answerable flagged / right-first-result flagged")
    for cut in cuts:

        def flagged(part: list, cut: float = cut) -> int:
            return sum(1 for row in part if row[3] is None or row[3] < cut)

        print(
            f"{cut:.2f}: {flagged(unanswerable)}/{len(unanswerable)} "
            f"({flagged(unanswerable) / max(len(unanswerable), 1):.2f})  "
            f"{flagged(answerable)}/{len(answerable)} "
            f"({flagged(answerable) / max(len(answerable), 1):.2f})  "
            f"{flagged(right)}/{len(right)}"
        )
        if args.shipped:
            for query, expected, first, sure in scored:
                if (sure is None or sure < cut) != (not expected):
                    print(
                        f"   {'missed' if not expected else 'flagged'}: {query!r} -> {first} {sure}"
                    )


if __name__ == "__main__":
    main()
