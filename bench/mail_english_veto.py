"""Weigh a veto by the second English model on English mails' offers (not kept, see below).

An English mail's first hit at the cut is offered on the e5 model's and the word search's
evidence alone. The second English model (faq.search.english_model, all-MiniLM-L6-v2), asked
so far only to promote hits just short of the cut (faq.matching.english_agrees), might also
veto: the offer stands only when that model's similarity between the mail and the offered
article reaches X and (optionally) it puts that article ahead of every other English article by
L or more (a lead below 0: another article is nearer), at any confidence or only below a band's
top. For each variant in VARIANTS, the auto-reply's offers (faq.matching.answers_for as it is,
then the veto applied to the first offered article, which takes a close second with it) on the
English tuning mails: the calibration mails and hand-written sets 1-14
(mail_offer_calibration.HANDWRITTEN), each search run once and the model's view asked once per
offered mail. Prints per variant the expected offered, the false offers and the precision; each
source left out in turn, scored with the variant chosen on the others (the most right offers
less FALSE_WEIGHT per false offer, the weaker veto on a tie); the templated tuning half per
variant, as a check; the offered mails the chosen variant vetoes, the 40 offers the model finds
least close and every offer that is not right; and the time the model's view takes per offered
mail. Never run it on a held-out set (the newest offer_mails_handwritten_N.jsonl, the templated
test half).

    .venv/bin/python bench/mail_english_veto.py
"""

from __future__ import annotations

import logging
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import mail_language_cut as shared  # noqa: E402
from intake_bench import prepare  # noqa: E402
from mail_offer_calibration import HANDWRITTEN  # noqa: E402
from sqlalchemy import select  # noqa: E402

import faq.matching  # noqa: E402
from faq.index_sync import get_index  # noqa: E402
from faq.matching import answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from support.core.db import get_db  # noqa: E402

SIMILARITIES = (None, 0.3, 0.325, 0.35, 0.375, 0.4, 0.45, 0.5)
LEADS = (None, -0.1, -0.05, 0.0)
BANDS = (None, 0.85, 0.9, 0.95)  # vetoed only below this confidence (None: at any)
# (similarity, lead, band), weakest veto first
VARIANTS = [(x, lead, None) for x in SIMILARITIES for lead in LEADS] + [
    (x, None, band) for band in BANDS[1:] for x in SIMILARITIES[1:]
]
NOW = 0  # (None, None, None): no veto
VIEWS: dict[int, tuple[float, float] | None] = {}  # id(mail) -> the model's view of its offer
SURE: dict[int, float] = {}  # id(mail) -> its offer's confidence before the veto


def name(number: float) -> str:
    x, lead, band = VARIANTS[int(number)]
    parts = [
        f"similarity >= {x}" if x is not None else "",
        f"lead >= {lead:g}" if lead is not None else "",
    ]
    named = " and ".join(part for part in parts if part) or "no veto"
    return f"{named} below {band}" if band is not None else named


def vetoed(
    view: tuple[float, float] | None, sure: float, x: float | None, lead: float | None, band
) -> bool:
    if view is None or (band is not None and sure >= band):
        return False
    return (x is not None and view[0] < x) or (lead is not None and view[1] < lead)


def replay(mails: list[shared.Mail]) -> list[float]:
    """Fill each mail's offers for every variant; return the view's time per offered mail (ms)."""
    app = prepare(None, False)
    database = get_db(app)
    faq.matching.suggest_articles = shared.cached(faq.matching.suggest_articles)
    took = []
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        ids = {slug: number for number, slug in slugs.items()}
        index = get_index(session=session)
        for mail in mails:
            ranked = answers_for(session, mail.text, "en", offered_only=False)
            offered = [slugs[m.article_id] for m in ranked if m.offer]
            SURE[id(mail)] = ranked[0].confidence if ranked else 0.0
            view = None
            if offered:
                start = time.perf_counter()
                view = index.english_lead(mail.text, ids[offered[0]])
                took.append((time.perf_counter() - start) * 1000)
            VIEWS[id(mail)] = view
            for number, (x, lead, band) in enumerate(VARIANTS):
                veto = vetoed(view, SURE[id(mail)], x, lead, band)
                mail.offered[number] = [] if veto else offered
    database.dispose()
    return took


def choose(mails: Sequence[shared.Mail]) -> float:
    """The variant with the most right offers less FALSE_WEIGHT per false offer (the weaker veto,
    listed first, on a tie)."""

    def score(number: int) -> tuple[float, int]:
        right, _a, false, _u, _g, _o = shared.counts(mails, number)
        return (right - shared.FALSE_WEIGHT * false, -number)

    return float(max(range(len(VARIANTS)), key=score))


def main() -> None:
    logging.disable(logging.WARNING)
    mails = shared.read_mails(HANDWRITTEN, "en")
    templated = shared.templated_mails("en")
    took = replay(mails + templated)
    print(f"en tuning mails ({len(mails)}), fitted on all:")
    for number in range(len(VARIANTS)):
        print(f"  {name(number):36} {shared.line(mails, number)}")
    print("each source left out in turn:")
    shared.leave_one_out(mails, HANDWRITTEN, choose, name)
    print(f"{shared.TEMPLATED} ({len(templated)} en mails), a check:")
    for number in range(len(VARIANTS)):
        print(f"  {name(number):36} {shared.line(templated, number)}")
    chosen = int(choose(mails))
    print(f"chosen on all: {name(chosen)}; the offers it vetoes (tag, similarity, lead, subject):")
    for mail in mails + templated:
        if mail.offered[NOW] and not mail.offered[chosen]:
            similarity, lead = VIEWS[id(mail)] or (0.0, 0.0)
            first = mail.text.splitlines()[0][:50]
            print(
                f"  {mail.tag(NOW):6} {similarity:.3f} {lead:+.3f}  {mail.source[12:]:20} {first}"
            )
    print("offers and their view, sorted by similarity (tag, similarity, lead, confidence):")
    rows = sorted(
        (VIEWS[id(mail)] or (0.0, 0.0), mail.tag(NOW), SURE[id(mail)], mail.text.splitlines()[0])
        for mail in mails + templated
        if mail.offered[NOW]
    )
    for (similarity, lead), tag, sure, first in rows[:40]:
        print(f"  {tag:6} {similarity:.3f} {lead:+.3f} {sure:.3f}  {first[:40]}")
    print("offers that are not right (tag, similarity, lead, confidence):")
    for (similarity, lead), tag, sure, first in rows:
        if tag in ("wrong", "false"):
            print(f"  {tag:6} {similarity:.3f} {lead:+.3f} {sure:.3f}  {first[:40]}")
    if took:
        print(
            f"the model's view: {len(took)} offered mails, median {statistics.median(took):.1f} "
            f"ms, max {max(took):.1f} ms"
        )


if __name__ == "__main__":
    main()
