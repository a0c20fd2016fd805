"""Suggestions while typing on typed prefixes of tuning questions: is the expected article first,
in the first three, in the list at all?

Each question of the tuning sets (faq/eval/tune.csv, faq/demo_eval.csv) is cut at half and three
quarters of its characters (mostly inside a word, as a customer mid-typing) and suggested for
the way the portal asks (language detected, SUGGESTIONS of them). `--ranking fuse` hides the
term vectors, which is the rank fusion the suggestions used before the fifteenth session; the
default is the product's. Tuning data only: held-out sets stay out.

    .venv/bin/python bench/faq_suggest_prefixes.py [--ranking blend|fuse]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from faq.evaluate import TUNE_EVAL, load_demo_docs, read_eval_csv  # noqa: E402
from faq.portal import SUGGESTIONS  # noqa: E402
from faq.search import SearchIndex, load_embedder  # noqa: E402
from support.core.text import detect_language  # noqa: E402

SETS = (TUNE_EVAL, HERE.parent / "faq" / "demo_eval.csv")
CUTS = (0.5, 0.75)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranking", choices=("blend", "fuse"), default="blend")
    args = parser.parse_args(argv)
    rows = {(q, e) for path in SETS for q, e in read_eval_csv(path) if e}
    with tempfile.TemporaryDirectory(prefix="faq-suggest-") as folder:
        index = SearchIndex(folder, embedder=load_embedder())
        index.rebuild(load_demo_docs())
        if args.ranking == "fuse":
            index.term_vectors = lambda: None  # type: ignore[method-assign]
        for language in ("en", "zh"):
            counts = {"first": 0, "three": 0, "listed": 0, "n": 0}
            cpu = []
            for query, expected in sorted(rows):
                if not expected.endswith(f"-{language}"):
                    continue
                for cut in CUTS:
                    prefix = query[: max(2, int(len(query) * cut))]
                    started = time.process_time()
                    found = index.suggest(
                        prefix, language=detect_language(prefix, min_cjk_share=0), limit=SUGGESTIONS
                    )
                    cpu.append((time.process_time() - started) * 1000)
                    slugs = [s.slug for s in found]
                    counts["n"] += 1
                    counts["first"] += slugs[:1] == [expected]
                    counts["three"] += expected in slugs[:3]
                    counts["listed"] += expected in slugs
            n = counts["n"]
            cpu.sort()
            print(
                f"{args.ranking} {language}: {n} prefixes, first {counts['first'] / n:.3f}, "
                f"first three {counts['three'] / n:.3f}, listed {counts['listed'] / n:.3f}; "
                f"CPU p50 {cpu[len(cpu) // 2]:.1f} ms, p95 {cpu[int(len(cpu) * 0.95)]:.1f} ms"
            )
        index.close()


if __name__ == "__main__":
    main()
