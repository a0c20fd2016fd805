"""Weigh the check of what a mail asks done beyond its article (faq.matching.asks_other_action).

Twenty-fourth session: near-topic mails no article answers ("能不能把积分转给我妈妈？", "can I buy
an extended warranty?", "我想投诉这个快递员") get the article whose topic they share. For every
tuning mail (calibration, hand-written sets 1-14 and 16: mail_offer_calibration.HANDWRITTEN; the
templated tuning half as a check) this runs the auto-reply's offers once with the check off
(faq.matching.answers_for, the whole decision otherwise) and records which kinds of
faq.search.REQUEST_ACTIONS the mail asks and its first hit's article answers. Then it replays
the check with every subset of the kinds, in Chinese mails, English ones or both: fitted on all,
and each source left out in turn (the subset chosen on the others, the most right offers less
mail_request_check.FALSE_WEIGHT per false offer, the smaller subset on a tie). Never run it on a
held-out set.

    .venv/bin/python bench/mail_action_check.py [--rows /tmp/rows.json]
"""

from __future__ import annotations

import collections
import itertools
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import prepare  # noqa: E402
from mail_offer_calibration import HANDWRITTEN  # noqa: E402
from mail_request_check import TEMPLATED, counts, run, score, tag, tuning_rows  # noqa: E402
from sqlalchemy import select  # noqa: E402

import faq.matching  # noqa: E402
from faq.knowledge import suggest_articles  # noqa: E402
from faq.matching import answers_for  # noqa: E402
from faq.models import Article  # noqa: E402
from faq.search import REQUEST_ACTIONS, answered_actions, asked_actions  # noqa: E402
from support.core.db import get_db  # noqa: E402

LANGUAGES = (("zh",), ("en",), ("zh", "en"))


def collect() -> list[dict]:
    """Each tuning mail's offers with the check off, and the kinds it asks its article lacks."""
    rows = tuning_rows()
    app = prepare(None, False)
    database = get_db(app)
    live = faq.matching.asks_other_action
    faq.matching.asks_other_action = lambda first, text: False  # off: replayed below
    try:
        with app.app_context(), database.session() as session:
            slugs = dict(session.execute(select(Article.id, Article.slug)).all())
            for row in rows:
                matches = answers_for(session, row["text"], row["lang"], offered_only=False)
                row["hits"] = [[slugs[m.article_id], m.confidence, m.offer] for m in matches]
                row["missing"] = []
                if matches:
                    first = suggest_articles(session, row["text"], language=row["lang"], limit=3)[0]
                    article = " ".join((first.question, *first.phrasings, first.answer_text))
                    row["missing"] = sorted(asked_actions(row["text"]) - answered_actions(article))
    finally:
        faq.matching.asks_other_action = live
    database.dispose()
    return rows


Rule = Callable[[dict], bool]


def rules() -> dict[str, Rule]:
    def check(kinds: frozenset[str], languages: tuple[str, ...]) -> Rule:
        return lambda row: row["lang"] in languages and bool(kinds & set(row["missing"]))

    found: dict[str, Rule] = {"none": lambda row: False}
    for size in range(1, len(REQUEST_ACTIONS) + 1):
        for kinds, languages in itertools.product(
            itertools.combinations(REQUEST_ACTIONS, size), LANGUAGES
        ):
            found[f"{'+'.join(kinds)} {'/'.join(languages)}"] = check(frozenset(kinds), languages)
    return found


def report(rows: list[dict]) -> None:
    every = rules()
    hand = [row for row in rows if row["source"] != TEMPLATED]
    templated = [row for row in rows if row["source"] == TEMPLATED]
    full = f"{'+'.join(REQUEST_ACTIONS)} zh/en"
    for name in ("none", full):
        print(
            f"{name:40} hand-written {counts(hand, every[name])}, "
            f"templated {counts(templated, every[name])}"
        )
    print("  (right, answerable, false, unanswerable); mails the check changes:")
    for row in rows:
        if tag(row, False) != tag(
            row, bool(row["hits"]) and row["hits"][0][2] and every[full](row)
        ):
            print(
                f"    {row['source']:34} {row['hits'][0][0]:22} {row['missing']} "
                f"{row['text'][:60]!r}"
            )
    print("each source left out in turn:")
    summed: collections.Counter[str] = collections.Counter()
    for source in HANDWRITTEN:
        train = [row for row in hand if row["source"] != source]
        test = [row for row in hand if row["source"] == source]
        name = max(every, key=lambda name: (score(train, every[name]), -len(name)))
        right, _answerable, false, _unanswerable = counts(test, every[name])
        before = counts(test, every["none"])
        summed.update(right=right, false=false, right0=before[0], false0=before[2])
        print(f"  {source:34} {name:40} {before[0]}->{right} right, {before[2]}->{false} false")
    print(
        f"  summed: expected offered {summed['right0']} -> {summed['right']}, "
        f"false offers {summed['false0']} -> {summed['false']}"
    )


def main() -> None:
    run(__doc__.splitlines()[0], collect, report)


if __name__ == "__main__":
    main()
