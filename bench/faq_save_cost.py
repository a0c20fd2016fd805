"""An article save's write of the vector and term files, at 1,000, 3,000 and 10,000 articles.

What `IndexStorage.upsert` does under the writer lock after the Whoosh document: replace one
article's rows of e5's vectors, the English model's vectors (an English article) and the term
counts in the live generation (`_change_live_vectors`). The models are loaded for their
identity and size only: each article's rows are random unit vectors (4 rows of e5, 6 of the
English model for English articles), its term counts those of a generated article
(bench/faq_search_bench.py's corpus); embedding is not measured (it does not grow with the
index). The Whoosh index is empty (its update is not measured either).

The first save after the files are written by hand is left out (it starts the change log);
then --saves saves of alternating English and Chinese articles: CPU (this process) and wall,
median and max. With the change log (faq.search.changes), a save then forced to merge the log
into the main files (what one save in every "saves/merge" does: the log's bound over the mean
record), and that merge's share of each save. "reader CPU": what a process that searched
before a save reads of the vectors and term counts after it (before the change log: the files
again; with it, the log applied to the main files it has).

    .venv/bin/python bench/faq_save_cost.py --sizes 1000 3000 10000 --saves 40
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq_search_bench import generate_corpus

from faq.search import SearchIndex, load_embedder, load_english_model
from faq.search.storage import ArticleDoc
from faq.search.terms import TERMS_FILE, article_text, count_articles, read_terms, write_terms
from faq.search.vectors import ENGLISH, PRIMARY, ArticleVectors, read_vectors, write_vectors

try:  # the change log (twenty-ninth session); before it, every save rewrote the files
    from faq.search import changes
except ImportError:  # pragma: no cover - the code before
    changes = None  # type: ignore[assignment]

PRIMARY_ROWS = 4
ENGLISH_ROWS = 6


def random_vectors(
    model_id: str, dim: int, docs: list[ArticleDoc], rows: int, rng: np.random.Generator
) -> ArticleVectors:
    """`rows` random unit rows per article."""
    matrix = rng.normal(size=(len(docs) * rows, dim)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return ArticleVectors(
        model_id,
        matrix,
        np.asarray([d.article_id for d in docs], np.int64),
        np.arange(len(docs), dtype=np.int64) * rows,
        np.asarray([d.language for d in docs], "<U8"),
        np.asarray([d.category_id for d in docs], np.int64),
        rng.integers(0, 2**63, len(docs) * rows, dtype=np.uint64),
    )


def words(docs: list[ArticleDoc]):
    return count_articles(
        [(d.article_id, d.language, article_text(d.question, d.phrasings, d.answer)) for d in docs]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--saves", type=int, default=40)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    embedder, english_model = load_embedder(), load_english_model()
    if embedder is None or english_model is None:
        raise SystemExit("the models cannot load")
    rng = np.random.default_rng(3)
    print(
        f"{'articles':>9} {'CPU p50':>8} {'CPU max':>8} {'wall p50':>9} {'wall max':>9} "
        f"{'reader CPU':>10}  (ms)"
    )
    for size in args.sizes:
        corpus = list(generate_corpus(size))
        english_docs = [d for d in corpus if d.language == "en"]
        with tempfile.TemporaryDirectory(prefix="faq-save-") as folder:
            index = SearchIndex(Path(folder), embedder=embedder, english=english_model)
            index._create_empty_generation()
            pointer = index._read_pointer(use_cache=False)
            assert pointer is not None
            generation = Path(folder) / pointer["generation"]
            primary = random_vectors(embedder.model_id, embedder.dim, corpus, PRIMARY_ROWS, rng)
            write_vectors(generation, primary, PRIMARY)
            english = random_vectors(
                english_model.model_id, english_model.dim, english_docs, ENGLISH_ROWS, rng
            )
            write_vectors(generation, english, ENGLISH)
            write_terms(generation, words(corpus))
            cpu, wall = [], []
            for number in range(args.saves + 1):
                doc = corpus[(number * 7919) % size]
                added = random_vectors(embedder.model_id, embedder.dim, [doc], PRIMARY_ROWS, rng)
                added_english = (
                    random_vectors(
                        english_model.model_id, english_model.dim, [doc], ENGLISH_ROWS, rng
                    )
                    if doc.language == "en"
                    else None
                )
                counted = words([doc])
                started, used = time.perf_counter(), time.process_time()
                with index._write_lock():
                    index._change_live_vectors({doc.article_id}, added, added_english, counted)
                if number:  # the first one starts the delta log
                    cpu.append((time.process_time() - used) * 1000)
                    wall.append((time.perf_counter() - started) * 1000)
            vectors = index.vectors()
            assert vectors is not None and len(vectors) == size, "an article went missing"
            line = (
                f"{size:>9,} {statistics.median(cpu):>8.1f} {max(cpu):>8.1f} "
                f"{statistics.median(wall):>9.1f} {max(wall):>9.1f}"
            )
            reader = read_after_save(index, generation, doc, added, added_english, counted)
            line += f" {reader:>10.1f}"
            if changes is not None:
                line += merged(index, generation, args.saves, doc, added, added_english, counted)
            print(line, flush=True)
            index.close()


def merged(index, generation, saves, doc, added, added_english, counted) -> str:
    """One save forced to merge, the merge's share of each save, a reader's read after it."""
    assert changes is not None
    log = changes.read_log(generation)
    assert log is not None
    main_bytes = sum(
        (generation / name).stat().st_size for name in (PRIMARY.matrix, ENGLISH.matrix, TERMS_FILE)
    )
    bound = max(changes.MIN_MERGE_BYTES, changes.MERGE_FRACTION * main_bytes)
    per_merge = bound / ((log.size - changes._HEADER) / saves)
    kept = changes.MIN_MERGE_BYTES, changes.MERGE_FRACTION
    changes.MIN_MERGE_BYTES, changes.MERGE_FRACTION = 0, 0.0
    started, used = time.perf_counter(), time.process_time()
    with index._write_lock():
        index._change_live_vectors({doc.article_id}, added, added_english, counted)
    cpu, wall = (time.process_time() - used) * 1000, (time.perf_counter() - started) * 1000
    changes.MIN_MERGE_BYTES, changes.MERGE_FRACTION = kept
    return (
        f"   merge CPU {cpu:.0f} wall {wall:.0f}, {per_merge:.0f} saves/merge: "
        f"{cpu / per_merge:.2f} ms CPU a save"
    )


def read_after_save(index, generation, doc, added, added_english, counted) -> float:
    """CPU of what a search reads of the vectors and term counts after a save (ms, median of
    nine saves; the files before the save read, as by a process that searched before it)."""
    spent = []
    for number in range(10):
        with index._write_lock():
            index._change_live_vectors({doc.article_id}, added, added_english, counted)
        used = time.process_time()
        read_vectors(generation), read_vectors(generation, ENGLISH), read_terms(generation)
        if number:
            spent.append((time.process_time() - used) * 1000)
    return statistics.median(spent)


if __name__ == "__main__":
    main()
