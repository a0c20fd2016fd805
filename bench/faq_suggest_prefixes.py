"""Suggestions while typing on typed prefixes of tuning questions: is the expected article first,
in the first three, in the list at all, and how many are listed?

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

from faq.evaluate import DEMO_CONTENT, TUNE_EVAL, load_demo_docs, read_eval_csv  # noqa: E402
from faq.portal import SUGGESTIONS  # noqa: E402
from faq.search import SearchIndex, load_embedder, load_english_model  # noqa: E402
from support.core.text import detect_language  # noqa: E402

SETS = (TUNE_EVAL, HERE.parent / "faq" / "demo_eval.csv")
CUTS = (0.5, 0.75)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranking", choices=("blend", "fuse"), default="blend")
    parser.add_argument("--content", type=Path, default=DEMO_CONTENT)
    parser.add_argument("--sets", type=Path, nargs="*", default=SETS)
    args = parser.parse_args(argv)
    rows = {(q, e) for path in args.sets for q, e in read_eval_csv(path) if e}
    docs = load_demo_docs(args.content)
    language_of = {doc.slug: doc.language for doc in docs}
    embedder, english = load_embedder(), load_english_model()
    with tempfile.TemporaryDirectory(prefix="faq-suggest-") as folder:
        index = SearchIndex(folder, embedder=embedder, english=english)
        index.rebuild(docs)
        if args.ranking == "fuse":
            index.term_vectors = lambda: None  # type: ignore[method-assign]
        modes = ("with English model", "without") if english is not None else ("without",)
        for language in ("en", "zh"):
            counts = {
                mode: {"first": 0, "three": 0, "listed": 0, "shown": 0, "n": 0} for mode in modes
            }
            cpu: dict[str, list[float]] = {mode: [] for mode in modes}
            turn = 0
            for query, expected in sorted(rows):
                if language_of.get(expected) != language:
                    continue
                for cut in CUTS:
                    prefix = query[: max(2, int(len(query) * cut))]
                    turn += 1
                    for mode in modes[::-1] if turn % 2 else modes:
                        index.english = english if mode == modes[0] else None
                        for model in (embedder, english):
                            if model is not None:
                                model.clear_cache()
                        started = time.process_time()
                        found = index.suggest(
                            prefix,
                            language=detect_language(prefix, min_cjk_share=0),
                            limit=SUGGESTIONS,
                        )
                        cpu[mode].append((time.process_time() - started) * 1000)
                        slugs = [s.slug for s in found]
                        tally = counts[mode]
                        tally["n"] += 1
                        tally["first"] += slugs[:1] == [expected]
                        tally["three"] += expected in slugs[:3]
                        tally["listed"] += expected in slugs
                        tally["shown"] += len(slugs)
            for mode in modes:
                tally, times = counts[mode], sorted(cpu[mode])
                if not tally["n"]:
                    continue
                n = tally["n"]
                print(
                    f"{args.ranking} {language} {mode}: {n} prefixes, first "
                    f"{tally['first'] / n:.3f}, first three {tally['three'] / n:.3f}, listed "
                    f"{tally['listed'] / n:.3f}, shown {tally['shown'] / n:.2f} a prefix; "
                    f"CPU p50 {times[len(times) // 2]:.1f} ms, "
                    f"p95 {times[int(len(times) * 0.95)]:.1f} ms"
                )
        index.english = english
        index.close()


if __name__ == "__main__":
    main()
