"""The thirty-fourth session's request kinds (faq.search.REQUEST_ACTIONS: early, owner, pickup,
currency), each set left out: does a kind chosen on the other sets hold on the set left out?

A fixed list, not fitted, so "left out" here means (as the twenty-fourth session's
bench/mail_action_check.py): in each fold a kind is kept only when, on the other sets, it takes
at least one false offer away and costs fewer than FALSE_WEIGHT... right offers per false one
(right lost < FALSE_WEIGHT x false removed); the kept kinds then veto offers on the set left out.
A replay on what bench/offer_causes.py recorded with the matcher before the kinds (an offer
whose first article does not say a kind the mail's request asks is not made), not the matcher
itself: bench/offer_causes.py run again on the branch gives the exact figures.

    .venv/bin/python bench/offer_request_kinds.py /tmp/offer_causes_before.pkl
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from offer_features_loso import counts, made, outcome, read_causes  # noqa: E402
from offer_request_checks import FALSE_WEIGHT, ratios, short  # noqa: E402

from faq.search import answered_actions, asked_actions, markdown_to_text  # noqa: E402

KINDS = ("early", "owner", "pickup", "currency")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", type=Path, help="bench/offer_causes.py's record, before")
    args = parser.parse_args()
    data, rows, sources = read_causes(args.pickle)
    said = {
        article["slug"]: answered_actions(
            " ".join(
                (article["question"], *article["phrasings"], markdown_to_text(article["answer_md"]))
            )
        )
        for article in data["articles"].values()
    }
    unanswered: dict[int, set[str]] = {}
    for row in rows:
        offers = made(row)
        asked = asked_actions(row["text"]) & set(KINDS)
        unanswered[id(row)] = (asked - said[offers[0]]) if offers else set()

    def after(row: dict, kept: set[str]) -> list[str]:
        return [] if unanswered[id(row)] & kept else made(row)

    def chosen(train: list[dict]) -> set[str]:
        kept = set()
        for kind in KINDS:
            was, now = counts(train, made), counts(train, lambda r, k=kind: after(r, {k}))
            removed, lost = was["false"] - now["false"], was["right"] - now["right"]
            if removed >= 1 and lost < FALSE_WEIGHT * removed:
                kept.add(kind)
        return kept

    print("mails whose offer a kind vetoes (every set):")
    for row in rows:
        if unanswered[id(row)]:
            tag = outcome(row, made(row))
            print(f"  {tag:>5} {sorted(unanswered[id(row)])} {row['source']} {made(row)}")
    before_all: collections.Counter = collections.Counter()
    after_all: collections.Counter = collections.Counter()
    print("\neach set left out (kinds kept on the other sets):")
    for source in sources:
        held = [row for row in rows if row["source"] == source]
        kept = chosen([row for row in rows if row["source"] != source])
        was, now = counts(held, made), counts(held, lambda r, k=kept: after(r, k))
        before_all += was
        after_all += now
        if was != now or len(kept) < len(KINDS):
            print(f"  {source:<36} kept {sorted(kept)}: {short(was)} -> {short(now)}")
    print(f"  pooled: {short(before_all)} -> {short(after_all)}")
    print(f"          {ratios(before_all)} -> {ratios(after_all)}")


if __name__ == "__main__":
    main()
