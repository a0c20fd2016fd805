"""Fusion constants (faq.search.fusion) tried on the TUNING sets only: the demo FAQ's
faq/eval/tune.csv and the large FAQs' *_tune.csv (bench/faq_scale/). Never on held-out files.

Each FAQ is indexed once; every setting re-runs the searches (embeddings and word scores are
cached, so a setting costs only the fusion). Prints R@1 / R@5 / MRR per set and language, with
the model alone (dense) for reference.

    .venv/bin/python bench/faq_fusion_grid.py [--k 10 20] [--semantic 1.3 2] [--margin 10]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq_relevance import dense_searcher, searcher

import faq.search.fusion as fusion
from faq.evaluate import DEMO_CONTENT, TUNE_EVAL, evaluate, load_demo_docs, read_eval_csv
from faq.search import SearchIndex, load_embedder
from support.core.text import detect_language

SCALE = Path(__file__).resolve().parent / "faq_scale"
SETS = [
    ("demo", DEMO_CONTENT, TUNE_EVAL),
    ("zh-scale", SCALE / "zh_telecom.json", SCALE / "zh_telecom_tune.csv"),
    ("en-scale", SCALE / "en_budget.json", SCALE / "en_budget_tune.csv"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=float, nargs="+", default=[fusion.RRF_K])
    parser.add_argument("--semantic", type=float, nargs="+", default=[fusion.SEMANTIC_WEIGHT])
    parser.add_argument("--margin", type=float, nargs="+", default=[fusion.MARGIN_WEIGHT])
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        built = []
        for name, content, questions in SETS:
            docs = load_demo_docs(content)
            index = SearchIndex(Path(tmp) / name, embedder=embedder)
            index.rebuild(docs)
            rows = [row for row in read_eval_csv(questions) if row[1]]
            built.append((name, index, docs, rows))
        for name, index, docs, rows in built:
            ranked, _ = dense_searcher(index, docs)
            print(f"dense {name}: {by_language(rows, ranked)}")
        for k, weight, margin in itertools.product(args.k, args.semantic, args.margin):
            fusion.RRF_K, fusion.SEMANTIC_WEIGHT, fusion.MARGIN_WEIGHT = k, weight, margin
            parts = []
            for name, index, _docs, rows in built:
                ranked, _ = searcher(index)
                parts.append(f"{name} {by_language(rows, ranked)}")
            print(f"K={k:g} sem={weight:g} margin={margin:g}: " + " | ".join(parts), flush=True)


def by_language(rows, ranked) -> str:
    out = []
    for language in ("en", "zh"):
        part = [r for r in rows if detect_language(r[0], min_cjk_share=0) == language]
        if part:
            report = evaluate(part, ranked)
            figures = (report.recall_at_1, report.recall_at_5, report.mrr_at_10)
            out.append(f"{language} " + "/".join(f"{value:.3f}" for value in figures))
    return " ".join(out)


if __name__ == "__main__":
    main()
