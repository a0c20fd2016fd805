"""Score the urgency rules on the held-out danger set (bench/urgency_danger_heldout.jsonl).

Each line is a customer mail with danger- or threat-like words, the level a customer-service
lead would give it, and whether it reports danger now (the auto-reply's "call 119" advice):
past events, cooking, figures of speech, a stolen parcel, questions about safety or a lawyer,
product names and quoted news (no emergency), beside fire, smoke, sparks, burns, a swallowed
part, "I will sue" and 消协/media threats. Written before the rules were changed; never tuned on.

A row is right when the rules make it level 5 exactly when the lead would, give the danger
advice exactly when it reports danger, and make a lead's level 4 at least important.

    .venv/bin/python bench/urgency_danger_eval.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mailrouter.routing.urgency_rules import is_danger, match_urgency_rules  # noqa: E402


def main() -> int:
    rows = [
        json.loads(line)
        for line in (HERE / "urgency_danger_heldout.jsonl").read_text("utf-8").splitlines()
    ]
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
