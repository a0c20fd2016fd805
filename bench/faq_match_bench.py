"""The auto-reply's FAQ matching (``faq.matching.answers_for``) on whole customer emails.

Times answers_for inside an app context and one session, as the worker runs it, on the demo FAQ
and the intake bench's messages (4-30 lines, subject and new text). Those messages repeat six
body lines, which jieba's per-phrase cache then answers; ``--varied`` uses the bootstrap
training mails instead (2-6 joined per message, half Chinese), whose text does not repeat.
Text caches are emptied before each round, so every message is analyzed afresh.

    .venv/bin/python bench/faq_match_bench.py --messages 600 --rounds 3 [--varied]
"""

from __future__ import annotations

import argparse
import csv
import logging
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake_bench import make_messages, prepare

from faq.matching import answers_for
from faq.search import analysis
from mailrouter.parsing import parse_message
from support.core import text as text_support
from support.core.db import get_db

BOOTSTRAP = (
    Path(__file__).resolve().parent.parent / "mailrouter/routing/training_data/bootstrap.csv"
)


def bench_texts(count: int, seed: int) -> list[tuple[str, str]]:
    """(subject and new text, language) of the intake bench's messages."""
    texts = []
    for _sender, _recipients, raw in make_messages(count, seed):
        parsed = parse_message(raw)
        language = "zh" if parsed.language.startswith("zh") else "en"
        texts.append((f"{parsed.subject}\n{parsed.new_text}".strip(), language))
    return texts


def varied_texts(count: int, seed: int) -> list[tuple[str, str]]:
    """Messages joined from 2-6 bootstrap training mails of one language, alternating."""
    with open(BOOTSTRAP, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        language = "zh" if n % 2 else "en"
        picked = rng.sample([r for r in rows if r["language"] == language], rng.randint(2, 6))
        body = "\n".join(r["body"] for r in picked)
        texts.append((f"{picked[0]['subject']}\n{body}".strip(), language))
    return texts


def _forget_analysis() -> None:
    for cached in (
        analysis._analyzed,
        analysis._run_terms,
        analysis._run_chars,
    ):
        cached.cache_clear()
    text_support.clear_caches()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--varied", action="store_true", help="bootstrap mails, not the bench's")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)

    app = prepare(None, False)
    texts = (varied_texts if args.varied else bench_texts)(args.messages, args.seed)
    print(
        f"{len(texts)} messages, {statistics.mean(len(t) for t, _ in texts):.0f} characters "
        f"on average; demo FAQ"
    )
    database = get_db(app)
    with app.app_context(), database.session() as session:
        for text, language in texts[:20]:  # warm-up: the index, its postings, the templates
            answers_for(session, text, language)
        per_message, offered = [], Counter()
        for _round in range(args.rounds):
            _forget_analysis()
            started = time.perf_counter()
            offered = Counter(len(answers_for(session, t, lang)) for t, lang in texts)
            per_message.append(1000 * (time.perf_counter() - started) / len(texts))
    rounds = ", ".join(f"{ms:.2f}" for ms in per_message)
    print(f"answers_for: {min(per_message):.2f} ms/message (best of {rounds})")
    print("answers offered per message:", dict(sorted(offered.items())))
    database.dispose()


if __name__ == "__main__":
    main()
