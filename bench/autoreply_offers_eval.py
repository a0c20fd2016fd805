"""Quality of the auto-reply's FAQ offers on email-shaped questions
(mailrouter.outbound.offer_evaluation).

Runs ``faq.matching.answers_for`` inside an app with the demo FAQ and its index (as `support init`
leaves it) on the generated emails and prints the figures for each half: thresholds are chosen
on the tuning half, the test half is the one to report. ``--misses`` lists the tuning half's
wrong offers and misses (the ones to study; ``--half test`` lists the test half's).

    .venv/bin/python bench/autoreply_offers_eval.py [--misses [--half test]]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handwritten_offers_eval import embedded_sentences
from intake_bench import prepare
from sqlalchemy import select

from faq.matching import answers_for
from faq.models import Article
from mailrouter.outbound.offer_evaluation import TEST, TUNE, build_cases, evaluate_offers
from support.core.db import get_db


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list a half's wrong offers")
    parser.add_argument("--half", choices=(TUNE, TEST), default=TUNE, help="whose misses")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)

    app = prepare(None, False)
    cases = build_cases()
    database = get_db(app)
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())

        def offer(text: str, language: str) -> list[str]:
            return [slugs[m.article_id] for m in answers_for(session, text, language)]

        for half in (TUNE, TEST):
            chosen = [c for c in cases if c.half == half]
            report = evaluate_offers(chosen, offer)
            embedded = sum(embedded_sentences(c.text) for c in chosen)
            print(f"{half:>5}: {report.summary()}; {embedded / len(chosen):.2f} sentences embedded")
        if args.misses:
            for case in cases:
                if case.half != args.half:
                    continue
                offered = offer(case.text, case.language)
                good = {case.expected, *case.acceptable}
                if any(slug not in good for slug in offered) or (
                    case.expected and case.expected not in offered
                ):
                    print(f"\n[{case.kind}] expected {case.expected}, offered {offered}")
                    print("  " + case.text.replace("\n", "\n  "))
    database.dispose()


if __name__ == "__main__":
    main()
