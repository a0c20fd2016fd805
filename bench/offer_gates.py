"""What each hard gate before the mails' offer confidence costs and saves, on development mails.

A mail's first hit is offered when it passes three gates and then the confidence
(faq.matching.mail_confidence) reaches OFFER_CONFIDENCE. The gates: the mail says something
(faq.search.says_anything), the semantic ranking puts the hit among its first
MAIL_OFFER_SEMANTIC_RANK (first or, since the sixteenth session, second at a lower confidence)
and the word search ranks it among its first OFFER_LEXICAL_RANK (an English hit the model ranks
first, since the twentieth session, at any rank: faq.matching.word_search_agrees). For each
gate, among the first hits whose confidence (computed as if no gate stood there) reaches the
cut, it counts the right first articles it blocks (the hit is expected) and the false offers it
prevents (an unanswerable mail, the hit not acceptable), both in all and where it is the only
gate stopping the hit; then the totals without each gate, and without all; then the totals for
other values of the model-second hit's penalty (faq.matching.MAIL_CONFIDENCE_MODEL_SECOND).
Development data only: the calibration mails and hand-written sets 1-14
(mail_offer_calibration.HANDWRITTEN); never a held-out set (the newest
offer_mails_handwritten_N.jsonl once one is written).

    .venv/bin/python bench/offer_gates.py
"""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from handwritten_offers_eval import as_text  # noqa: E402
from intake_bench import prepare  # noqa: E402
from mail_offer_calibration import HANDWRITTEN  # noqa: E402

from faq.knowledge import suggest_articles  # noqa: E402
from faq.matching import (  # noqa: E402
    MAIL_CONFIDENCE_MODEL_SECOND,
    MAIL_OFFER_SEMANTIC_RANK,
    OFFER_CONFIDENCE,
    confidences,
    mail_confidence,
    word_search_agrees,
)
from faq.search import says_anything  # noqa: E402
from support.core.db import get_db  # noqa: E402

GATES = ("says anything", "semantic top 2", "lexical top 3 (English model-first: none)")
PENALTIES = (0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def collect() -> list[dict]:
    """Per development mail: the first hit's kind, which gates stop it, its confidences."""
    app = prepare(None, False)
    database = get_db(app)
    rows = []
    with app.app_context(), database.session() as session:
        for name in HANDWRITTEN:
            for line in (HERE / name).read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                text = as_text(row)
                hits = suggest_articles(session, text, language=row["lang"], limit=3)
                if not hits:
                    rows.append(dict(source=name, answerable=bool(row["expect"]), kind="none"))
                    continue
                first = hits[0]
                if first.slug in row["expect"]:
                    kind = "right"
                elif first.slug in row.get("ok", []):
                    kind = "ok"
                else:
                    kind = "bad"
                lexical = first.lexical_rank or 99
                stops = {
                    GATES[0]: not says_anything(text),
                    GATES[1]: (first.semantic_rank or 99) > MAIL_OFFER_SEMANTIC_RANK,
                    GATES[2]: not word_search_agrees(first, mail=True),
                }
                sure = mail_confidence(hits)
                rows.append(
                    dict(
                        source=name,
                        answerable=bool(row["expect"]),
                        kind=kind,
                        stops=stops,
                        passes=sure >= OFFER_CONFIDENCE,
                        logit=math.log(max(sure, 1e-12) / max(1.0 - sure, 1e-12)),
                        now=(
                            not stops[GATES[0]]
                            and confidences(hits, mail=True)[0] >= OFFER_CONFIDENCE
                        ),
                        subject=row["subject"],
                        lexical=lexical,
                        semantic=first.semantic_rank,
                        sure=sure,
                    )
                )
    database.dispose()
    return rows


def count(part: list[dict], what: str) -> int:
    """Right first hits, false offers (unanswerable) or wrong ones (answerable) in `part`."""
    if what == "right":
        return sum(row["kind"] == "right" for row in part)
    if what == "false":
        return sum(not row["answerable"] and row["kind"] == "bad" for row in part)
    return sum(row["answerable"] and row["kind"] == "bad" for row in part)


def totals(rows: list[dict], lifted: set[str], penalty: float | None = None) -> str:
    """Expected offered / false offers / precision with the gates in `lifted` removed, and the
    model-second hits' penalty at `penalty` (None: as it is)."""
    answerable = sum(row["answerable"] for row in rows)
    offered = [
        row
        for row in rows
        if row["kind"] != "none"
        and passes(row, penalty)
        and not any(stop for gate, stop in row["stops"].items() if gate not in lifted)
    ]
    right = sum(row["kind"] == "right" for row in offered)
    false = sum(not row["answerable"] and row["kind"] == "bad" for row in offered)
    good = sum(row["kind"] != "bad" for row in offered)
    return (
        f"expected offered {right}/{answerable}  false offers {false}/"
        f"{len(rows) - answerable}  precision {good}/{len(offered)}"
    )


def passes(row: dict, penalty: float | None) -> bool:
    """Whether the row's confidence reaches the cut with the model-second penalty `penalty`."""
    if penalty is None or row["semantic"] == 1:
        return row["passes"]
    logit = row["logit"] + MAIL_CONFIDENCE_MODEL_SECOND - penalty
    return 1.0 / (1.0 + math.exp(-logit)) >= OFFER_CONFIDENCE


def main() -> None:
    logging.disable(logging.WARNING)
    rows = collect()
    firsts = [row for row in rows if row["kind"] != "none"]
    scored = [row for row in firsts if row["passes"]]
    print(f"development mails {len(rows)}; first hits at or above the cut ungated {len(scored)}")
    print("stopped by each gate, whatever their confidence (right / bad on unanswerable mails):")
    for gate in GATES:
        stopped = [row for row in firsts if row["stops"][gate]]
        right = sum(row["kind"] == "right" for row in stopped)
        false = sum(not row["answerable"] and row["kind"] == "bad" for row in stopped)
        print(f"  {gate:16} {right} / {false}")
    print("at or above the cut when ungated:")
    print(
        f"{'gate':16} {'blocks right':>12} {'(only it)':>9} {'prevents false':>14} "
        f"{'(only it)':>9} {'blocks wrong on answerable':>27}"
    )
    for gate in GATES:
        stopped = [row for row in scored if row["stops"][gate]]
        only = [row for row in stopped if sum(row["stops"].values()) == 1]
        print(
            f"{gate:16} {count(stopped, 'right'):>12} {count(only, 'right'):>9} "
            f"{count(stopped, 'false'):>14} {count(only, 'false'):>9} "
            f"{count(stopped, 'wrong'):>14} ({count(only, 'wrong')} only it)"
        )
    print("now:                    " + totals(rows, set()))
    for gate in GATES:
        print(f"without {gate:15}: " + totals(rows, {gate}))
    print("without all gates:      " + totals(rows, set(GATES)))
    for penalty in PENALTIES:
        print(f"model-second penalty {penalty:4}: " + totals(rows, set(), penalty))
    print("blocked by a gate alone (kind, gate, lexical rank, semantic rank, confidence):")
    for row in scored:
        gates = [gate for gate, stop in row["stops"].items() if stop]
        if len(gates) == 1 and row["kind"] != "ok":
            print(
                f"  {row['kind']:5} {gates[0]:15} lex {row['lexical']:>2} sem "
                f"{row['semantic']} {row['sure']:.2f}  {row['source'][12:]} {row['subject'][:30]}"
            )


if __name__ == "__main__":
    main()
