"""Choose the word-search gate for a language's mails (faq.matching.MAIL_WORD_GATE_WAIVED).

A mail's first hit is judged by the mails' formula only when the word search ranks it among its
first OFFER_LEXICAL_RANK (faq.matching.word_search_agrees). For each variant in VARIANTS (the
gate at a rank, none for hits the model ranks first, none for the model's first or second), the
auto-reply's offers (faq.matching.answers_for, the whole decision: the gates, the close second,
the English second opinion, the language's cut) on the tuning mails of that language: the
calibration mails and hand-written sets 1-14, 16 (mail_offer_calibration.HANDWRITTEN), each search
run once and replayed per variant. Prints per variant the expected offered, the false offers and
the precision; then each source left out in turn, scored with the variant chosen on the others
(the most right offers less FALSE_WEIGHT per false offer, the stricter gate on a tie); then the
templated tuning half per variant, as a check. Never run it on a held-out set (the newest
offer_mails_handwritten_N.jsonl, the templated test half).

    .venv/bin/python bench/mail_word_gate.py [--language en]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import prepare  # noqa: E402
from mail_language_cut import (  # noqa: E402
    FALSE_WEIGHT,
    TEMPLATED,
    Mail,
    cached,
    counts,
    leave_one_out,
    line,
    read_mails,
    templated_mails,
)
from mail_offer_calibration import HANDWRITTEN  # noqa: E402
from sqlalchemy import select  # noqa: E402

import faq.matching  # noqa: E402
from faq.matching import OFFER_LEXICAL_RANK, RankedHit, answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from support.core.db import get_db  # noqa: E402

NONE = 10_000  # no rank at all (a hit the word search did not find counts as rank 99)
# (name, word-search rank a hit needs, model ranks that may go without it), strictest first.
VARIANTS = (
    ("gate at 3", OFFER_LEXICAL_RANK, 0),
    ("model-first at 5", 5, 1),
    ("model-first at 7", 7, 1),
    ("model-first at 10", 10, 1),
    ("model-first at 20", 20, 1),
    ("model-first: none", NONE, 1),
    ("model first or second: none", NONE, 2),
)


def gate(rank: int, semantic: int) -> Callable[..., bool]:
    """A faq.matching.word_search_agrees for one variant (the language's mails only)."""

    def agrees(first: RankedHit, *, mail: bool = False) -> bool:
        lexical = first.lexical_rank or 99
        if lexical <= OFFER_LEXICAL_RANK:
            return True
        return mail and (first.semantic_rank or 99) <= semantic and lexical <= rank

    return agrees


def replay(mails: list[Mail], language: str) -> None:
    """Fill each mail's offers for every variant (keyed by its index in VARIANTS)."""
    app = prepare(None, False)
    database = get_db(app)
    faq.matching.suggest_articles = cached(faq.matching.suggest_articles)
    kept = faq.matching.word_search_agrees
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        for number, (_name, rank, semantic) in enumerate(VARIANTS):
            faq.matching.word_search_agrees = gate(rank, semantic)
            for mail in mails:
                matches = answers_for(session, mail.text, language)
                mail.offered[number] = [slugs[m.article_id] for m in matches]
    faq.matching.word_search_agrees = kept
    database.dispose()


def choose(mails: Sequence[Mail]) -> float:
    """The variant with the most right offers less FALSE_WEIGHT per false offer (the stricter
    on a tie)."""

    def score(number: int) -> tuple[float, int]:
        right, _a, false, _u, _g, _o = counts(mails, number)
        return (right - FALSE_WEIGHT * false, -number)

    return float(max(range(len(VARIANTS)), key=score))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", default="en")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    mails = read_mails(HANDWRITTEN, args.language)
    templated = templated_mails(args.language)
    replay(mails + templated, args.language)
    print(f"{args.language} tuning mails ({len(mails)}), fitted on all:")
    for number, (name, _rank, _semantic) in enumerate(VARIANTS):
        print(f"  {name:28} {line(mails, number)}")
    print("each source left out in turn:")
    leave_one_out(mails, HANDWRITTEN, choose, lambda number: VARIANTS[int(number)][0])
    print(f"{TEMPLATED} ({len(templated)} {args.language} mails), a check:")
    for number, (name, _rank, _semantic) in enumerate(VARIANTS):
        print(f"  {name:28} {line(templated, number)}")


if __name__ == "__main__":
    main()
