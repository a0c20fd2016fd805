"""The thirty-fifth session's request kind "status" (faq.search.REQUEST_ACTIONS): a mail that asks
about the state of the customer's own case (repair progress, "can you check", "has my
application been received") is not offered the article of its topic unless it says where to
follow a case or that we look into it. Does it hold pooled, set by set, and with each set left
out?

Reads what bench/offer_causes.py recorded with the matcher BEFORE the kind (main), and runs the
matcher as it is now (faq.matching.answers_for) again on the mails whose request asks the kind:
every other mail's offers cannot change (faq.matching.asks_other_action returns False for them
as before), so the figures are the branch's own, not a replay. A fixed rule, not fitted, so
"each set left out" means (as bench/offer_request_kinds.py): in each fold the kind is kept only
when, on the other sets, it takes at least one false offer away and costs fewer than
FALSE_WEIGHT right offers per false one; the kept rule then acts on the set left out.

    .venv/bin/python bench/offer_case_state.py /tmp/offer_causes_before.pkl
"""

from __future__ import annotations

import argparse
import collections
import logging
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import prepare  # noqa: E402
from offer_features_loso import counts, made, outcome, read_causes  # noqa: E402
from offer_request_checks import FALSE_WEIGHT, ratios, short  # noqa: E402
from sqlalchemy import select  # noqa: E402

from faq.matching import answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from faq.search import asked_actions  # noqa: E402
from support.core.db import get_db  # noqa: E402

KIND = "status"


def rerun(rows: list[dict]) -> dict[int, list[str]]:
    """The offers the matcher makes now for each row, by the row's id()."""
    app = prepare(None, False)
    database = get_db(app)
    offers: dict[int, list[str]] = {}
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        for row in rows:
            matches = answers_for(session, row["text"], row["lang"], offered_only=False)
            offers[id(row)] = [slugs[m.article_id] for m in matches if m.offer]
    database.dispose()
    return offers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", type=Path, help="bench/offer_causes.py's record, before")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    _data, rows, sources = read_causes(args.pickle)
    asking = [row for row in rows if KIND in asked_actions(row["text"])]
    now = rerun(asking)

    def after(row: dict, kept: bool = True) -> list[str]:
        return now[id(row)] if kept and id(row) in now else made(row)

    print(f"mails whose request asks {KIND!r}: {len(asking)}")
    for row in asking:
        was, is_ = made(row), after(row)
        print(
            f"  {outcome(row, was):>5} -> {outcome(row, is_):<5} {row['source'][19:]:<10} "
            f"{row['subject'][:40]:<40} {was} -> {is_}"
        )
    print("\nby set (before -> after, only sets that change):")
    for source in sources:
        held = [row for row in rows if row["source"] == source]
        was, is_ = counts(held, made), counts(held, after)
        if was != is_:
            print(f"  {source:<36} {short(was)} -> {short(is_)}")
    print("\neach set left out (the kind kept when it pays on the other sets):")
    before_all: collections.Counter = collections.Counter()
    after_all: collections.Counter = collections.Counter()
    for source in sources:
        held = [row for row in rows if row["source"] == source]
        train = [row for row in rows if row["source"] != source]
        was, is_ = counts(train, made), counts(train, after)
        removed, lost = was["false"] - is_["false"], was["right"] - is_["right"]
        kept = removed >= 1 and lost < FALSE_WEIGHT * removed
        before_all += counts(held, made)
        after_all += counts(held, lambda r, k=kept: after(r, k))
        if not kept:
            print(f"  {source:<36} not kept (on the others: -{removed} false, -{lost} right)")
    print(f"  pooled: {short(before_all)} -> {short(after_all)}")
    print(f"          {ratios(before_all)} -> {ratios(after_all)}")
    everything_before, everything_after = counts(rows, made), counts(rows, after)
    print(f"\nfitted on all, pooled: {short(everything_before)} -> {short(everything_after)}")


if __name__ == "__main__":
    main()
