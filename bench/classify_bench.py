"""Throughput and training time of the mail classifier (mailrouter.routing.classifier, scorer).

Targets: >= 500 messages/s single-threaded, training on 10,000 examples in < 60 s.

The 10,000 examples are recombined from the bootstrap set: for each, a (department, urgency)
cell is drawn, and its subject and 1-3 sentences are taken from different bootstrap mails of
that cell, so texts are new but labels stay plausible. Messages for prediction are drawn the
same way with another seed, so no text is a cached training text. The classifier remembers
words and Chinese runs it has cut before; each run starts with those caches empty, and one row
empties them before every mail (the worst case: nothing in the mail was seen before).

    .venv/bin/python bench/classify_bench.py [--examples 10000] [--messages 2000] [--cv]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from mailrouter.routing.classifier import (
    ClassifierBundle,
    clear_caches,
    cross_validate,
    predict,
    predict_many,
    train,
)
from mailrouter.routing.labels import Example, load_bootstrap_examples

_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?.])\s*|\n+")


def _sentences(body: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END_RE.split(body) if s and s.strip()]


def recombined_examples(seed_examples: Sequence[Example], count: int, seed: int) -> list[Example]:
    """``count`` new examples mixing subjects and sentences within each label cell."""
    rng = random.Random(seed)
    cells: dict[tuple[str, int], list[Example]] = defaultdict(list)
    for example in seed_examples:
        cells[(example.department, example.urgency)].append(example)
    keys = sorted(cells)
    examples = []
    for _ in range(count):
        department, urgency = rng.choice(keys)
        cell = cells[(department, urgency)]
        sentences = [s for e in rng.sample(cell, min(3, len(cell))) for s in _sentences(e.body)]
        body_parts = rng.sample(sentences, min(len(sentences), rng.randint(1, 3)))
        subject = rng.choice(cell).subject if rng.random() > 0.15 else ""
        separator = "" if any("\u3400" <= ch for ch in "".join(body_parts)) else " "
        examples.append(Example(subject, separator.join(body_parts), department, urgency))
    return examples


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _rate(bundle: ClassifierBundle, action: Callable[[], object], count: int) -> str:
    """Messages per wall second and per CPU second (the latter repeats on a busy machine).

    Each run starts with empty caches, as if its mail were new: only words and Chinese runs
    recurring within the run are remembered (the recombined mails share many sentences).
    """
    clear_caches(bundle)
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return f"{count / wall:.0f} msg/s (per CPU second: {count / cpu:.0f})"


def _rate_all_new(bundle: ClassifierBundle, messages: Sequence[tuple[str, str]]) -> str:
    """The worst case: the caches are emptied before each mail, so every word in it is new."""
    wall = cpu = 0.0
    for subject, body in messages:
        clear_caches(bundle)
        started, cpu_started = time.perf_counter(), time.process_time()
        predict(bundle, subject, body)
        wall += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    return f"{len(messages) / wall:.0f} msg/s (per CPU second: {len(messages) / cpu:.0f})"


def _timed_cpu(action: Callable[[], object]) -> str:
    """Wall and CPU seconds: on a shared machine the CPU figure is the one that repeats."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return f"{time.perf_counter() - wall:.1f} s (CPU {time.process_time() - cpu:.1f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--cv", action="store_true", help="also 5-fold CV of the bootstrap set")
    args = parser.parse_args()

    bootstrap = load_bootstrap_examples()
    training = recombined_examples(bootstrap, args.examples, seed=1)
    messages = [(e.subject, e.body) for e in recombined_examples(bootstrap, args.messages, 2)]

    n = len(messages)
    rows: list[tuple[str, str]] = []
    bundle = None

    def fit(evaluate: bool) -> None:
        nonlocal bundle
        bundle = train(training, evaluate=evaluate)

    rows.append((f"train {args.examples} examples", _timed_cpu(lambda: fit(False))))
    rows.append((f"train {args.examples} + held-out evaluation", _timed_cpu(lambda: fit(True))))
    assert bundle is not None
    predict(bundle, "warm-up", "warm up the tokenizer: 预热分词器")  # jieba loads on first use

    for label, rules in (("with urgency rules", "default"), ("model only", None)):
        kwargs = {} if rules == "default" else {"urgency_rules": None}
        rate = _rate(
            bundle, lambda kw=kwargs: [predict(bundle, s, b, **kw) for s, b in messages], n
        )
        rows.append((f"predict, one call per mail, {label}", rate))
    all_new = messages[:500]
    rows.append(
        (
            f"predict, every word new ({len(all_new)} mails)",
            _rate_all_new(bundle, all_new),
        )
    )
    for batch_size in (100, 1000):
        batches = [messages[i : i + batch_size] for i in range(0, len(messages), batch_size)]
        rate = _rate(bundle, lambda b=batches: [predict_many(bundle, batch) for batch in b], n)
        rows.append((f"predict_many, batches of {batch_size}", rate))

    single = []
    clear_caches(bundle)
    for subject, body in messages[:300]:
        single.append(_timed(lambda s=subject, b=body: predict(bundle, s, b)) * 1000)
    rows.append(
        (
            "predict latency median / p95",
            f"{statistics.median(single):.2f} / {statistics.quantiles(single, n=20)[-1]:.2f} ms",
        )
    )

    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  result")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")

    if args.cv:
        print(f"\n5-fold cross-validation of the bootstrap set ({len(bootstrap)} examples)")
        for target, figures in cross_validate(bootstrap, folds=5).items():
            print(
                f"{target:<10}  accuracy {figures['accuracy_mean']:.3f} ± "
                f"{figures['accuracy_std']:.3f}   macro-F1 {figures['macro_f1_mean']:.3f} ± "
                f"{figures['macro_f1_std']:.3f}"
            )


if __name__ == "__main__":
    main()
