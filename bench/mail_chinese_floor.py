"""Choose the semantic floor for Chinese mails (faq.search.fusion.MIN_SIMILARITY_CHINESE_MAIL).

A mail's asking sentences are embedded and an article is a semantic candidate only when its
similarity to them (relative to the average article's) reaches a floor; below it the article
has no semantic rank and cannot be offered. For each floor in FLOORS, the auto-reply's offers
(faq.matching.answers_for, the whole decision: the ranking, the gates, the close second, the
language's cut) on the Chinese tuning mails: the calibration mails and hand-written sets 1-14, 16
(mail_offer_calibration.HANDWRITTEN), each search run again per floor (the floor changes the
ranking; the embeddings are cached). Prints per floor the expected offered, the false offers and
the precision; then each source left out in turn, scored at the floor chosen on the others (the
most right offers less FALSE_WEIGHT per false offer, the higher floor on a tie); then the
templated tuning half per floor, as a check. Never run it on a held-out set (the newest
offer_mails_handwritten_N.jsonl, the templated test half).

    .venv/bin/python bench/mail_chinese_floor.py
"""

from __future__ import annotations

import argparse
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

from faq.matching import answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from faq.search import fusion  # noqa: E402
from support.core.db import get_db  # noqa: E402

FLOORS = (0.02, 0.0175, 0.015, 0.0125, 0.01, 0.005, 0.0)


def replay(mails: list[cuts.Mail]) -> None:
    """Fill each mail's offers at every floor."""
    app = prepare(None, False)
    database = get_db(app)
    kept = fusion.MIN_SIMILARITY_CHINESE_MAIL
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        for floor in FLOORS:
            fusion.MIN_SIMILARITY_CHINESE_MAIL = floor
            for mail in mails:
                matches = answers_for(session, mail.text, "zh")
                mail.offered[floor] = [slugs[m.article_id] for m in matches]
    fusion.MIN_SIMILARITY_CHINESE_MAIL = kept
    database.dispose()


def choose(mails: Sequence[cuts.Mail]) -> float:
    """The floor with the most right offers less FALSE_WEIGHT per false offer (higher on a tie)."""

    def score(floor: float) -> tuple[float, float]:
        right, _a, false, _u, _g, _o = cuts.counts(mails, floor)
        return (right - cuts.FALSE_WEIGHT * false, floor)

    return max(FLOORS, key=score)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    logging.disable(logging.WARNING)
    mails = cuts.read_mails(HANDWRITTEN, "zh")
    templated = cuts.templated_mails("zh")
    replay(mails + templated)
    print(f"zh tuning mails ({len(mails)}), fitted on all:")
    for floor in FLOORS:
        print(f"  floor {floor:.4f}: {cuts.line(mails, floor)}")
    print("each source left out in turn:")
    cuts.leave_one_out(mails, HANDWRITTEN, choose, lambda floor: f"floor {floor:.4f}")
    print(f"{cuts.TEMPLATED} ({len(templated)} zh mails), a check:")
    for floor in FLOORS:
        print(f"  floor {floor:.4f}: {cuts.line(templated, floor)}")


if __name__ == "__main__":
    main()
