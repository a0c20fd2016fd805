"""Score the urgency rules on the held-out chasing set (bench/urgency_chasing_heldout.jsonl).

Each line is a customer mail and whether a rule should make it important (level 4 or more):
customers chasing an answer that never came, and near misses ("no reply needed", "noreply").
Written before the chasing keywords were added; never tuned on.

    .venv/bin/python bench/urgency_chasing_eval.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mailrouter.routing.urgency_rules import match_urgency_rules  # noqa: E402


def main() -> int:
    rows = [
        json.loads(line)
        for line in (HERE / "urgency_chasing_heldout.jsonl").read_text("utf-8").splitlines()
    ]
    right = 0
    for row in rows:
        hit = match_urgency_rules(row["text"])
        important = hit is not None and hit.level >= 4
        right += important == row["important"]
        if important != row["important"]:
            print(f"  wrong: {hit} {row['text'][:70]}")
    print(f"{right}/{len(rows)} right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
