"""Time the text readers whose hostile-input guards in tests/ are regular expressions' work.

The tests count work where Python can count it (tests/work.py); these few do their work inside
one regular expression or str method, so their tests keep a CPU bound far from both paths and
the figures live here: this thread's CPU milliseconds, the garbage collector off, best of
``--rounds``.

    .venv/bin/python bench/hostile_text_bench.py
    .venv/bin/python bench/hostile_text_bench.py --rounds 1

Measured 2026-12-08 on the 2-core dev machine at load 17, ms (the old paths from the tests'
comments and commits):

    picture placeholders, 40k brackets           5     (a backtracking pattern: tens of s)
    courtesy, 200k pieces and 10k name lines    16
    matters, 2 x 150 kB of money words           3
    urgency rules, slowest 100 kB piece         76     ("万一着火" was 75,000)
    question sentences, 50 x 20 kB               3     (3,000)
    reply language, 80,000 letters               0.5   (some 6,000)
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailrouter.parsing.forwards import without_picture_placeholders
from mailrouter.routing.contentless import without_courtesy
from mailrouter.routing.matters import match_matter
from mailrouter.routing.urgency_rules import match_question, match_urgency_rules
from support.desk.reply_check import reply_in_other_language

#: The 100 kB pieces of tests/mailrouter/routing/test_urgency_rules.py's hostile test that
#: cost most (each repeated to 100,000 characters).
URGENCY_PIECES = (
    "万一着火",
    "water leaking dripping into the ",
    "in case of smoking ",
    "battery battery power bank is has ",
)


def _milliseconds(function: Callable[[], Any], rounds: int) -> float:
    function()  # imports, compiled patterns, caches
    best = float("inf")
    for _ in range(rounds):
        gc.disable()
        try:
            started = time.thread_time()
            function()
            best = min(best, time.thread_time() - started)
        finally:
            gc.enable()
    return best * 1000


def cases() -> list[tuple[str, Callable[[], Any]]]:
    brackets = "[image: " * 20_000 + "[图片" * 20_000
    courtesy = "Hi " * 100_000 + "\n" + "Anna Smith\n" * 10_000 + "x," * 100_000
    money = ("refund charge money 钱 " * 2_000 + "invoice 发票 " * 2_000) * 5
    question = "how long " * 2222 + "?"
    found = [
        ("picture placeholders, 40k brackets", lambda: without_picture_placeholders(brackets)),
        ("courtesy, 200k pieces and 10k name lines", lambda: without_courtesy(courtesy)),
        (
            "matters, 2 x 150 kB of money words",
            lambda: (match_matter(money, 3), match_matter(money, 4)),
        ),
        ("question sentences, 50 x 20 kB", lambda: [match_question(question) for _ in range(50)]),
        ("reply language, 80,000 letters", lambda: reply_in_other_language("a" * 80_000, "zh")),
    ]
    for piece in URGENCY_PIECES:
        text = (piece * (100_000 // len(piece) + 1))[:100_000]
        found.append(
            (f"urgency rules, 100 kB of {piece.strip()!r}", lambda t=text: match_urgency_rules(t))
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    for name, function in cases():
        print(f"{name:<55} {_milliseconds(function, arguments.rounds):9.1f} ms", flush=True)


if __name__ == "__main__":
    main()
