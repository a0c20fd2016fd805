"""The mails' confidence term (faq.matching.CONFIDENCE_MAIL) on hand-written calibration mails.

For each mail of bench/offer_mails_calibration.jsonl (written for this: an article answers about
half, none the rest though they sit near a topic) and of the templated tuning half
(mailrouter.outbound.offer_evaluation), the first hit's confidence as a typed question's; then,
per term added to its logit, what is offered at OFFER_CONFIDENCE (mails that say nothing, see
faq.search.says_anything, never): expected offered, false offers on unanswerable mails,
precision. Choose by false offers <= 0.10 first, then the most right offers. Never run it on
offer_mails_handwritten_2.jsonl or the test half.

    .venv/bin/python bench/mail_offer_calibration.py
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

from faq.knowledge import suggest_articles  # noqa: E402
from faq.matching import CONFIDENCE_MAIL, OFFER_CONFIDENCE, confidences  # noqa: E402
from faq.search import says_anything  # noqa: E402
from mailrouter.outbound.offer_evaluation import TUNE, build_cases  # noqa: E402
from support.core.db import get_db  # noqa: E402

MAILS = HERE / "offer_mails_calibration.jsonl"
TERMS = (0.8, 0.4, 0.0, -0.4, -0.5, -0.6, -0.75, -0.9, -1.0, -1.1, -1.2, -1.4, -1.6, -2.0)


def collect() -> list[dict]:
    """Per mail: source, expected and acceptable slugs, first hit, its logit without the term."""
    cases = []
    for line in MAILS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            good = (row["expect"], row.get("ok", []))
            cases.append(("calibration", as_text(row), row["lang"], *good))
    cases += [
        ("templated", c.text, c.language, [c.expected] if c.expected else [], list(c.acceptable))
        for c in build_cases()
        if c.half == TUNE
    ]
    app = prepare(None, False)
    database = get_db(app)
    rows = []
    with app.app_context(), database.session() as session:
        for source, text, language, expect, ok in cases:
            hits = suggest_articles(session, text, language=language, limit=3)
            sure = min(max(confidences(hits)[0] if hits else 0.0, 1e-12), 1 - 1e-12)
            rows.append(
                dict(
                    source=source,
                    expect=set(expect),
                    good=set(expect) | set(ok),
                    first=hits[0].slug if hits else None,
                    logit=math.log(sure / (1 - sure)),
                    quiet=not says_anything(text),
                )
            )
    database.dispose()
    return rows


def main() -> None:
    logging.disable(logging.WARNING)
    rows = collect()
    print(f"term (now {CONFIDENCE_MAIL}): expected offered / false offers / precision")
    for term in TERMS:
        line = [f"{term:+.2f}"]
        for source in ("calibration", "templated"):
            part = [row for row in rows if row["source"] == source]
            offered = [
                row
                for row in part
                if not row["quiet"] and 1 / (1 + math.exp(-row["logit"] - term)) >= OFFER_CONFIDENCE
            ]
            answerable = sum(bool(row["expect"]) for row in part)
            right = sum(row["first"] in row["expect"] for row in offered)
            false = sum(not row["expect"] and row["first"] not in row["good"] for row in offered)
            good = sum(row["first"] in row["good"] for row in offered)
            line.append(
                f"{source} {right}/{answerable}  {false}/{len(part) - answerable}  "
                f"{good}/{len(offered)}"
            )
        print("   ".join(line))


if __name__ == "__main__":
    main()
