"""Score the urgency rules on a held-out danger set (bench/urgency_danger_heldout*.jsonl).

Each line is a customer mail with danger- or threat-like words, the level a customer-service
lead would give it, and whether it reports danger now (the auto-reply's "call 119" advice):
past events, cooking, figures of speech, a stolen parcel, questions about safety or a lawyer,
product names and quoted news (no emergency), beside fire, smoke, sparks, burns, a swallowed
part, "I will sue" and 消协/media threats. Each set was written before the rules were changed
for it and is never tuned on: set 1 (urgency_danger_heldout.jsonl, used), set 2
(urgency_danger_heldout_2.jsonl, used: harm, legal and media threats told without the usual
words, safety questions, news, figures of speech, names, lawyers as jobs), set 3
(urgency_danger_heldout_3.jsonl, twentieth session, scored once before and once after its
changes, used since; 122 mails: emergencies told in many ways, near-misses from jobs, news,
history, names and figures of speech, important, normal, praise and suggestions, in English
and both Chinese scripts), set 4 (urgency_danger_heldout_4.jsonl, twenty-first session,
written before its changes and scored once before and once after them; 121 mails, 61 English
and 60 Chinese in both scripts and Cantonese: dangers told in everyday words without the usual
keywords, hypotheticals, jobs, past events, product names, negations, news and safety
certificate questions).

A row is right when the rules make it level 5 exactly when the lead would, give the danger
advice exactly when it reports danger, and make a lead's level 4 at least important.

    .venv/bin/python bench/urgency_danger_eval.py [--set 2|3|4]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mailrouter.routing.urgency_rules import is_danger, match_urgency_rules  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=int, default=1, help="which held-out set (1, 2, 3, 4)")
    args = parser.parse_args()
    name = (
        "urgency_danger_heldout.jsonl"
        if args.set == 1
        else f"urgency_danger_heldout_{args.set}.jsonl"
    )
    rows = [json.loads(line) for line in (HERE / name).read_text("utf-8").splitlines()]
    counts = dict.fromkeys(
        (
            "false emergency",
            "false danger advice",
            "missed emergency",
            "missed danger advice",
            "missed important",
        ),
        0,
    )
    right = 0
    for row in rows:
        hit = match_urgency_rules(row["text"])
        level = hit.level if hit else None
        danger = is_danger(hit.keyword if hit else None)
        wrong = [
            *(["false emergency"] if level == 5 and row["level"] < 5 else []),
            *(["missed emergency"] if level != 5 and row["level"] == 5 else []),
            *(["false danger advice"] if danger and not row["danger"] else []),
            *(["missed danger advice"] if row["danger"] and not danger else []),
            *(["missed important"] if row["level"] == 4 and (level or 0) < 4 else []),
        ]
        for kind in wrong:
            counts[kind] += 1
        right += not wrong
        if wrong:
            print(f"  {', '.join(wrong)}: {hit} {row['text'][:70]}")
    print(f"{right}/{len(rows)} right; " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
