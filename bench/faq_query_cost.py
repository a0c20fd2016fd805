"""The portal's search cost per typed question, each seen for the first time (no cached query).

Indexes an FAQ in a temporary folder (as bench/faq_relevance.py does), then searches every
question of the given files once, as the portal does, in this fresh process (the model's
embedding of the question included), and prints p50 / p95 / max of the wall time and of the
process's CPU time. On a shared machine the CPU time is the figure to compare: the wall time
includes waiting for a core.

    .venv/bin/python bench/faq_query_cost.py --content bench/faq_scale/zh_bank.json \
        bench/faq_scale/zh_bank_heldout.csv
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq_relevance import searcher

from faq.evaluate import load_demo_docs, read_eval_csv
from faq.search import SearchIndex, load_embedder, load_english_model


def percentiles(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"{name}: n={len(ordered)} p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--content", type=Path, required=True, help="the FAQ to index")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    docs = load_demo_docs(args.content)
    with tempfile.TemporaryDirectory() as tmp:
        index = SearchIndex(Path(tmp), embedder=load_embedder(), english=load_english_model())
        index.rebuild(docs)
        ranked, _offer = searcher(index)
        ranked("warm up 暖機")
        wall: list[float] = []
        cpu: list[float] = []
        for path in args.files:
            for query, _expected in read_eval_csv(path):
                started, used = time.perf_counter(), time.process_time()
                ranked(query)
                wall.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
        print(f"{len(docs)} articles")
        print(percentiles("wall", wall))
        print(percentiles("cpu", cpu))


if __name__ == "__main__":
    main()
