"""FAQ search relevance with and without the semantic ranking, on the demo FAQ (no database).

Builds two indexes of faq/demo_content.json in a temporary folder, one BM25-only and one hybrid,
searches each evaluation file as the portal does (the query's language first, every language
when that finds nothing) and prints Recall@1/@5 and MRR@10 per language, and the auto-reply
matcher's offer figures. Tune on faq/eval/tune.csv; report faq/eval/heldout.csv.

    .venv/bin/python bench/faq_relevance.py [FILE.csv ...] [--misses] [--lexical] [--dense]
        [--content FAQ.json]

`--content` indexes another FAQ in the same format (the large ones under bench/faq_scale/);
`--dense` also ranks by the embedding model alone (the hybrid index's article vectors, no word
search; no offers), to check that the fusion does not lose to the model.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faq.evaluate import (
    DEMO_CONTENT,
    DEMO_EVAL,
    HELDOUT_EVAL,
    TUNE_EVAL,
    evaluate,
    load_demo_docs,
    read_eval_csv,
)
from faq.matching import offered_hits
from faq.search import ArticleDoc, SearchIndex, load_embedder, load_english_model
from support.core.text import detect_language


def searcher(index: SearchIndex):
    def ranked(query: str) -> list[str]:
        results = index.search(query, language=detect_language(query, min_cjk_share=0))
        if not results.total:
            results = index.search(query)
        return [hit.slug for hit in results.hits]

    def offer(query: str) -> list[str]:
        language = detect_language(query, min_cjk_share=0)
        results = index.search(query, language=language, limit=6, spelling=False, snippets=False)
        return [hit.slug for hit in offered_hits(results.hits, query)]

    return ranked, offer


def dense_searcher(index: SearchIndex, docs: Sequence[ArticleDoc]):
    """Ranking by the model alone: the articles of the query's language by similarity."""
    vectors = index.vectors()
    assert vectors is not None and index.embedder is not None

    def ranked(query: str) -> list[str]:
        mask = vectors.languages == detect_language(query, min_cjk_share=0)
        if not mask.any():
            mask = None
        similarities = vectors.similarities(index.embedder.query_segments(query), mask)
        if mask is not None:
            similarities = np.where(mask, similarities, -np.inf)
        order = np.argsort(-similarities, kind="stable")[:10]
        return [slugs[int(vectors.article_ids[i])] for i in order]

    slugs = {doc.article_id: doc.slug for doc in docs}
    return ranked, None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=[DEMO_EVAL, TUNE_EVAL, HELDOUT_EVAL])
    parser.add_argument("--misses", action="store_true", help="list the hybrid search's misses")
    parser.add_argument("--lexical", action="store_true", help="also measure BM25 alone")
    parser.add_argument("--dense", action="store_true", help="also rank by the model alone")
    parser.add_argument("--content", type=Path, default=DEMO_CONTENT, help="the FAQ to index")
    parser.add_argument(
        "--no-english", action="store_true", help="without the second English model"
    )
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    docs = load_demo_docs(args.content)
    embedder = load_embedder()
    english = None if args.no_english else load_english_model()
    print(f"second English model: {'on' if english is not None else 'off'}")
    with tempfile.TemporaryDirectory() as tmp:
        indexes = {"hybrid": SearchIndex(Path(tmp) / "hybrid", embedder=embedder, english=english)}
        if args.lexical:
            indexes["bm25"] = SearchIndex(Path(tmp) / "bm25")
        for name, index in indexes.items():
            started = time.perf_counter()
            index.rebuild(docs)
            print(f"{name}: indexed {len(docs)} articles in {time.perf_counter() - started:.1f}s")
        runs = list(indexes.items())
        if args.dense:
            runs.append(("dense", indexes["hybrid"]))
        for path in args.files:
            rows = read_eval_csv(path)
            for name, index in runs:
                ranked, offer = dense_searcher(index, docs) if name == "dense" else searcher(index)
                for language in ("en", "zh"):
                    part = [r for r in rows if detect_language(r[0], min_cjk_share=0) == language]
                    report = evaluate(part, ranked, offer)
                    print(f"{path.name:>14} {name:>6} {language}: {report.summary()}")
                    if args.misses and name == "hybrid":
                        for miss in report.misses:
                            print(f"    miss {miss.query!r} -> {miss.expected}: {miss.got_top3}")
                        assert report.offers is not None
                        for miss in report.offers.wrong:
                            expected = miss.expected or "-"
                            print(f"    offer {miss.query!r} -> {expected}: {miss.got_top3}")
                print(f"{path.name:>14} {name:>6} all: {evaluate(rows, ranked, offer).summary()}")


if __name__ == "__main__":
    main()
