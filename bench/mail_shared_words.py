"""Choose how much less sure a Chinese mail's first hit is when it shares few of the mail's words
(faq.matching.MAIL_CONFIDENCE_FEW_SHARED_WORDS, MAIL_FEW_SHARED_WORDS) and the Chinese cut with
it (faq.matching.MAIL_LANGUAGE_CUTS).

For each penalty in PENALTIES, each number of words in WORDS and each cut in CUTS, the
auto-reply's offers (faq.matching.answers_for, the whole decision) on the Chinese tuning mails:
the calibration mails and the hand-written sets of mail_offer_calibration.HANDWRITTEN, each
search run once and replayed for every combination. Prints the figures of a few combinations
fitted on all, then each source left out in turn, scored at the combination chosen on the others
(the most right offers less mail_language_cut.FALSE_WEIGHT per false offer; on a tie the smaller
penalty, then the higher cut), then the templated tuning half at the choice made on all, as a
check. Never run it on a held-out set (the newest offer_mails_handwritten_N.jsonl, the templated
test half).

    .venv/bin/python bench/mail_shared_words.py
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import mail_language_cut as cuts  # noqa: E402
from intake_bench import prepare  # noqa: E402
from mail_offer_calibration import HANDWRITTEN  # noqa: E402
from sqlalchemy import select  # noqa: E402

import faq.matching  # noqa: E402
from faq.matching import answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from support.core.db import get_db  # noqa: E402

PENALTIES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
WORDS = (1, 2)
CUTS = (0.65, 0.675, 0.7, 0.725, 0.75, 0.775)
Choice = tuple[float, int, float]  # penalty, words, cut
CHOICES: list[Choice] = list(itertools.product(PENALTIES, WORDS, CUTS))


def replay(mails: list[cuts.Mail]) -> None:
    """Fill each mail's offers for every combination."""
    app = prepare(None, False)
    database = get_db(app)
    faq.matching.suggest_articles = cuts.cached(faq.matching.suggest_articles)
    kept = (
        faq.matching.MAIL_CONFIDENCE_FEW_SHARED_WORDS,
        faq.matching.MAIL_FEW_SHARED_WORDS,
        faq.matching.MAIL_LANGUAGE_CUTS["zh"],
    )
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        for choice in CHOICES:
            penalty, words, cut = choice
            faq.matching.MAIL_CONFIDENCE_FEW_SHARED_WORDS = -penalty
            faq.matching.MAIL_FEW_SHARED_WORDS = words
            faq.matching.MAIL_LANGUAGE_CUTS["zh"] = cut
            for mail in mails:
                matches = answers_for(session, mail.text, "zh")
                mail.offered[choice] = [slugs[m.article_id] for m in matches]  # type: ignore[index]
    (
        faq.matching.MAIL_CONFIDENCE_FEW_SHARED_WORDS,
        faq.matching.MAIL_FEW_SHARED_WORDS,
        faq.matching.MAIL_LANGUAGE_CUTS["zh"],
    ) = kept
    database.dispose()


def choose(mails: Sequence[cuts.Mail]) -> Choice:
    """The most right offers less FALSE_WEIGHT per false offer (a smaller penalty, then a
    higher cut on a tie)."""

    def score(choice: Choice) -> tuple[float, float, float]:
        right, _a, false, _u, _g, _o = cuts.counts(mails, choice)  # type: ignore[arg-type]
        return (right - cuts.FALSE_WEIGHT * false, -choice[0], choice[2])

    return max(CHOICES, key=score)


def name(choice: Choice) -> str:
    return f"penalty {choice[0]}, <= {choice[1]} words, cut {choice[2]}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logging.disable(logging.WARNING)
    mails = cuts.read_mails(HANDWRITTEN, "zh")
    templated = cuts.templated_mails("zh")
    replay(mails + templated)
    chosen = choose(mails)
    print(f"zh tuning mails ({len(mails)}), fitted on all:")
    for choice in [(0.0, 2, 0.725), (0.0, 2, 0.675), chosen]:
        print(f"  {name(choice):36} {cuts.line(mails, choice)}")  # type: ignore[arg-type]
    print("each source left out in turn:")
    cuts.leave_one_out(mails, HANDWRITTEN, choose, name)  # type: ignore[arg-type]
    print(f"{cuts.TEMPLATED} ({len(templated)} zh mails), a check:")
    for choice in [(0.0, 2, 0.725), chosen]:
        print(f"  {name(choice):36} {cuts.line(templated, choice)}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
