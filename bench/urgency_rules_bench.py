"""Cost of the urgency keyword rules on real-shaped mail (mailrouter.routing.urgency_rules).

Times ``match_urgency_rules`` over every bootstrap example and hand-written routing mail
(bench/routing_mails_realistic*.jsonl), each text several times, and prints the mean per text.
The rules' phrase patterns are written so Python's regex engine can skip ahead (see
``urgency_rules.whole_words``); this is the figure that shows it.

    .venv/bin/python bench/urgency_rules_bench.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from mailrouter.routing.features import mail_text  # noqa: E402
from mailrouter.routing.labels import load_bootstrap_examples  # noqa: E402
from mailrouter.routing.urgency_rules import match_urgency_rules  # noqa: E402


def texts() -> list[str]:
    found = [mail_text(example.subject, example.body) for example in load_bootstrap_examples()]
    for path in sorted(HERE.glob("routing_mails_realistic*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                mail = json.loads(line)
                found.append(mail_text(mail["subject"], mail["body"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    corpus = texts()
    for text in corpus:  # warm the caches (compiled patterns, Simplified conversion)
        match_urgency_rules(text)
    started = time.process_time()
    for _ in range(args.repeat):
        for text in corpus:
            match_urgency_rules(text)
    elapsed = time.process_time() - started
    characters = sum(map(len, corpus)) / len(corpus)
    print(
        f"{len(corpus)} texts (mean {characters:.0f} characters), {args.repeat} rounds: "
        f"{elapsed / (args.repeat * len(corpus)) * 1000:.3f} ms CPU a text"
    )


if __name__ == "__main__":
    main()
