"""Semantic FAQ search: the model's memory and speed, indexing throughput with the model, and
hybrid query latency at 10,000 and 100,000 articles.

Embedding 100,000 articles with the model takes hours on this machine, so the large sizes reuse
real article vectors: a sample of the generated corpus is embedded for real (that run gives the
indexing throughput), and every article of a large index gets the vectors of one sampled
article plus a little noise (renormalised). The matrix, the dot products, the fusion and the
query embeddings are real; only the similarity structure of the large corpus is borrowed.
Sizes above --full-up-to measure the semantic part alone (query embedding, matrix product,
candidates); the word search at that size is bench/faq_search_bench.py's figure.

    .venv/bin/python bench/faq_semantic_bench.py --sizes 10000 100000 --queries 200
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faq_search_bench import _percentile, generate_corpus, generate_queries

from faq.search import SearchIndex, load_embedder
from faq.search.fusion import FUSION_DEPTH, MIN_SIMILARITY, top_similar
from faq.search.terms import article_text, count_articles, write_terms
from faq.search.vectors import ArticleVectors, write_vectors
from support.core.text import detect_language


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def borrowed_vectors(sample: ArticleVectors, size: int, seed: int = 5) -> ArticleVectors:
    """`size` articles, each with the rows of a sampled article plus noise (see the docstring)."""
    rng = np.random.default_rng(seed)
    ends = np.append(sample.starts[1:], len(sample.matrix))
    picks = np.arange(size) % len(sample)
    lengths = (ends - sample.starts)[picks]
    rows = np.concatenate([np.arange(sample.starts[p], ends[p]) for p in picks])
    matrix = sample.matrix[rows] + rng.normal(0, 0.01, (len(rows), sample.matrix.shape[1]))
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return ArticleVectors(
        sample.model_id,
        matrix.astype(np.float32),
        np.arange(1, size + 1, dtype=np.int64),
        np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64),
        np.where(np.arange(1, size + 1) % 2, "en", "zh").astype("<U8"),
        sample.category_ids[picks],
    )


def _megabytes(*matrices) -> float:
    """Memory of sparse matrices' values and column numbers."""
    return sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in matrices) / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--sample", type=int, default=200, help="articles embedded for real")
    parser.add_argument("--full-up-to", type=int, default=20000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    queries = generate_queries(args.queries)

    before = rss_mb()
    started = time.perf_counter()
    embedder = load_embedder()
    if embedder is None:
        raise SystemExit("the model cannot load")
    print(
        f"model {embedder.model_id}: loaded in {time.perf_counter() - started:.2f} s, "
        f"resident memory +{rss_mb() - before:.0f} MB (process {rss_mb():.0f} MB)"
    )
    cold = []
    for text in queries:
        started = time.perf_counter()
        embedder.query_segments(text)
        cold.append((time.perf_counter() - started) * 1000)
    print(
        f"query embedding (uncached) p50 {statistics.median(cold):.1f} ms, "
        f"p95 {_percentile(cold, 95):.1f} ms"
    )

    with tempfile.TemporaryDirectory(prefix="faq-semantic-") as folder:
        index = SearchIndex(Path(folder) / "sample", embedder=embedder)
        started = time.perf_counter()
        index.rebuild(generate_corpus(args.sample, seed=99))
        took = time.perf_counter() - started
        sample = index.vectors()
        assert sample is not None
        print(
            f"indexing with the model: {args.sample} articles ({len(sample.matrix)} texts) in "
            f"{took:.1f} s = {args.sample / took:.1f} articles/s"
        )
        index.close()
        print(f"{'articles':>9} {'what':>22} {'p50':>7} {'p95':>7}   (ms, {len(queries)} queries)")
        for size in args.sizes:
            vectors = borrowed_vectors(sample, size)
            if size <= args.full_up_to:
                hybrid = SearchIndex(Path(folder) / f"ix-{size}")
                corpus = list(generate_corpus(size))
                hybrid.rebuild(corpus)
                pointer = hybrid._read_pointer(use_cache=False)
                assert pointer is not None
                generation = Path(hybrid.path) / pointer["generation"]
                write_vectors(generation, vectors)
                started = time.perf_counter()
                words = count_articles(
                    [
                        (d.article_id, d.language, article_text(d.question, d.phrasings, d.answer))
                        for d in corpus
                    ]
                )
                write_terms(generation, words)
                counted = time.perf_counter() - started
                hybrid.embedder = embedder
                loaded = hybrid.term_vectors()
                assert loaded is not None
                started = time.perf_counter()
                weighted = loaded.weighted()
                print(
                    f"term vectors of {size:,} articles: counted and written in {counted:.1f} s, "
                    f"weighted on first use in {time.perf_counter() - started:.2f} s, "
                    f"{weighted.nnz:,} terms kept, "
                    f"{_megabytes(loaded.counts, weighted):.0f} MB "
                    f"(+ {4 * len(loaded._idf)} MB of inverse document frequencies)"
                )
                for text in queries[:20]:
                    hybrid.search(text)
                # Alternated, every query new to the model (as most are): the TF-IDF fusion and,
                # with the term vectors hidden, the rank fusion it replaced.
                times, cpu, times_rank, cpu_rank = [], [], [], []
                for round_ in range(2):
                    for with_terms in (round_ == 0, round_ != 0):
                        hidden = None if not with_terms else loaded
                        hybrid.term_vectors = lambda hidden=hidden: hidden  # type: ignore[method-assign]
                        embedder.clear_cache()
                        wall, spent = (times, cpu) if with_terms else (times_rank, cpu_rank)
                        for text in queries:
                            language = detect_language(text, min_cjk_share=0)
                            started, used = time.perf_counter(), time.process_time()
                            hybrid.search(text, language=language)
                            spent.append((time.process_time() - used) * 1000)
                            wall.append((time.perf_counter() - started) * 1000)
                for label, wall, spent in (
                    ("rank fusion (before)", times_rank, cpu_rank),
                    ("TF-IDF fusion", times, cpu),
                ):
                    print(
                        f"{size:>9,} {label:>22} {statistics.median(wall):>7.1f} "
                        f"{_percentile(wall, 95):>7.1f}   CPU {statistics.median(spent):.1f} / "
                        f"{_percentile(spent, 95):.1f}",
                        flush=True,
                    )
                what = "hybrid search (portal)"
                hybrid.close()
            else:
                embedder.clear_cache()
                times = []
                for text in queries:
                    language = detect_language(text, min_cjk_share=0)
                    started = time.perf_counter()
                    mask = vectors.languages == language
                    similarities = vectors.similarities(embedder.query_segments(text), mask)
                    top_similar(similarities, mask, FUSION_DEPTH, MIN_SIMILARITY)
                    times.append((time.perf_counter() - started) * 1000)
                what = "semantic part only"
            print(
                f"{size:>9,} {what:>22} {statistics.median(times):>7.1f} "
                f"{_percentile(times, 95):>7.1f}",
                flush=True,
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
