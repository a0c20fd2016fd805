"""The mails written by hand in bench/ (offers and routing sets, both languages and scripts),
for tests that check a rewrite reads every one of them as the code before it did."""

from __future__ import annotations

import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def handwritten_texts() -> list[str]:
    """Subject and body of every hand-written mail, one string each."""
    return [
        f"{row['subject']}\n{row['body']}"
        for pattern in ("offer_mails_handwritten*.jsonl", "routing_mails_realistic*.jsonl")
        for path in sorted(BENCH.glob(pattern))
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if row
    ]
