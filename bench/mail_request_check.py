"""Choose the check of what a Chinese mail asks beyond its topic (faq.matching.MAIL_UNASKED_*).

Twenty-third session: near-topic mails no article answers ("我要投诉这个快递员", "能不能把积分转给
我妈妈？") were offered the article whose topic they share, at 0.83-0.99. For every tuning mail
(calibration, hand-written sets 1-14 and 16: mail_offer_calibration.HANDWRITTEN; the templated
tuning half as a check) this runs the auto-reply's offers once with the check off
(faq.matching.answers_for, the whole decision) and records, for the first hit, how many of the
words the mail's request names the article has not one character of (faq.matching.unasked_words)
and how close the mail's sentences come to the article's question rows (question and approved
phrasings, not the answer) and to the nearest other article's. Then every rule "not offered
when at least K such words and the confidence below C" and "... when the question rows' lead is
below T" is replayed, and each source is left out in turn, scored at the rule chosen on the
others (the most right offers less FALSE_WEIGHT per false offer; no check on a tie). Never run
it on a held-out set (the newest offer_mails_handwritten_N.jsonl, set 15, the templated test
half).

    .venv/bin/python bench/mail_request_check.py [--rows /tmp/rows.json]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import prepare  # noqa: E402
from mail_offer_calibration import HANDWRITTEN, tuning_cases  # noqa: E402
from sqlalchemy import select  # noqa: E402

import faq.matching  # noqa: E402
from faq.index_sync import get_index  # noqa: E402
from faq.knowledge import suggest_articles  # noqa: E402
from faq.matching import answers_for, unasked_words  # noqa: E402
from faq.models import Article  # noqa: E402
from faq.search import MAX_QUERY_CHARS, focus  # noqa: E402
from support.core.db import get_db  # noqa: E402

TEMPLATED = "templated tuning half"
FALSE_WEIGHT = 2.0  # a false offer weighs two right ones (as the eighteenth session's choice)
WORDS = (1, 2, 3)
BELOW = (0.9, 0.95, 0.98, 1.01)
LEADS = (-0.02, -0.01, -0.005, 0.0, 0.005, 0.01)


def tuning_rows() -> list[dict]:
    """The tuning mails, both languages, as the auto-reply reads them."""
    return [
        {"source": source, "text": text, "lang": language, "expect": expect, "ok": ok}
        for source, text, language, expect, ok in tuning_cases()
    ]


def collect() -> list[dict]:
    """Each tuning mail's offers with the check off, and its first hit's figures."""
    import numpy as np

    rows = tuning_rows()
    app = prepare(None, False)
    database = get_db(app)
    faq.matching.MAIL_UNASKED_WORDS = 10_000  # off: the rules are replayed below
    with app.app_context(), database.session() as session:
        slugs = dict(session.execute(select(Article.id, Article.slug)).all())
        index = get_index(session=session)
        vectors = index.vectors()
        ends = np.append(vectors.starts[1:], len(vectors.matrix))
        for row in rows:
            matches = answers_for(session, row["text"], row["lang"], offered_only=False)
            row["hits"] = [[slugs[m.article_id], m.confidence, m.offer] for m in matches]
            if not matches:
                continue
            first = suggest_articles(session, row["text"], language=row["lang"], limit=3)[0]
            row["unasked"] = len(unasked_words(first, row["text"]))
            lines = np.atleast_2d(
                index.embedder.query_segments(focus(row["text"])[:MAX_QUERY_CHARS])
            )
            spread = lines @ vectors.matrix.T  # lines x rows
            # Each article's best question row (its last row is question + answer) per line.
            per = np.array(
                [
                    spread[:, vectors.starts[i] : ends[i] - 1].max(axis=1)
                    for i in range(len(vectors))
                ]
            )
            language = vectors.languages == row["lang"]
            position = vectors.position(matches[0].article_id)
            others = np.delete(np.where(language[:, None], per, -1.0), position, axis=0)
            row["question_lead"] = float((per[position] - others.max(axis=0)).max())
            row["question_lead_last"] = float(per[position][-1] - others.max(axis=0)[-1])
    database.dispose()
    return rows


def tag(row: dict, blocked: bool) -> str:
    offered = [] if blocked else [slug for slug, _sure, offer in row["hits"] if offer]
    expect, good = set(row["expect"]), set(row["expect"]) | set(row["ok"])
    if expect:
        return "right" if expect & set(offered) else ("wrong" if offered else "nothing")
    return "false" if set(offered) - good else "ok"


Rule = Callable[[dict], bool]


def rules() -> dict[str, Rule]:
    """Every rule tried, by name; "none" offers as now."""

    def words(k: int, below: float) -> Rule:
        return lambda row: row["lang"] == "zh" and row["unasked"] >= k and row["hits"][0][1] < below

    def lead(key: str, language: str, t: float, below: float) -> Rule:
        return lambda row: row["lang"] == language and row[key] < t and row["hits"][0][1] < below

    found: dict[str, Rule] = {"none": lambda row: False}
    for k, below in itertools.product(WORDS, BELOW):
        found[f"zh unasked >= {k}, below {below}"] = words(k, below)
    for key, language, t, below in itertools.product(
        ("question_lead", "question_lead_last"), ("zh", "en"), LEADS, BELOW
    ):
        found[f"{language} {key} < {t}, below {below}"] = lead(key, language, t, below)
    return found


def counts(rows: list[dict], rule: Rule) -> tuple[int, int, int, int]:
    """Right, answerable, false, unanswerable."""
    tags = collections.Counter(
        tag(row, bool(row["hits"]) and row["hits"][0][2] and rule(row)) for row in rows
    )
    answerable = sum(bool(row["expect"]) for row in rows)
    return tags["right"], answerable, tags["false"], len(rows) - answerable


def score(rows: list[dict], rule: Rule) -> float:
    right, _answerable, false, _unanswerable = counts(rows, rule)
    return right - FALSE_WEIGHT * false


def report(rows: list[dict]) -> None:
    every = rules()
    hand = [row for row in rows if row["source"] != TEMPLATED and row.get("hits")]
    hand_all = [row for row in rows if row["source"] != TEMPLATED]
    templated_all = [row for row in rows if row["source"] == TEMPLATED]

    def line(part: list[dict], rule: Rule) -> str:
        right, answerable, false, unanswerable = counts(part, rule)
        return f"{right}/{answerable} expected, {false}/{unanswerable} false"

    print("fitted on all (hand-written tuning mails; templated tuning half):")
    for name in sorted(every, key=lambda name: -score(hand, every[name]))[:12]:
        print(f"  {name:42} {line(hand_all, every[name]):32} {line(templated_all, every[name])}")
    print("each source left out in turn:")
    summed = collections.Counter()
    for source in HANDWRITTEN:
        train = [row for row in hand if row["source"] != source]
        test = [row for row in hand_all if row["source"] == source]
        name = max(every, key=lambda name: (score(train, every[name]), name == "none"))
        right, answerable, false, unanswerable = counts(test, every[name])
        before = counts(test, every["none"])
        summed.update(right=right, false=false, right0=before[0], false0=before[2])
        summed.update(answerable=answerable, unanswerable=unanswerable)
        print(f"  {source:34} {name:38} {before[0]}->{right} right, {before[2]}->{false} false")
    print(
        f"  summed: expected offered {summed['right0']} -> {summed['right']} of "
        f"{summed['answerable']}, false offers {summed['false0']} -> {summed['false']} of "
        f"{summed['unanswerable']}"
    )


def run(
    description: str, collect: Callable[[], list[dict]], report: Callable[[list[dict]], None]
) -> None:
    """Collect the tuning mails' rows (or read them from --rows) and report; for this bench and
    bench/mail_action_check.py."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=Path, help="keep the collected rows here (read if there)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text(encoding="utf-8"))
    else:
        rows = collect()
        if args.rows:
            args.rows.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    report(rows)


def main() -> None:
    run(__doc__.splitlines()[0], collect, report)


if __name__ == "__main__":
    main()
