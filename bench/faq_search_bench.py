"""Benchmark of FAQ search: indexing time and query latency on generated bilingual corpora.

Corpora are generated from the demo FAQ's vocabulary with variation (products, model numbers,
shuffled and mixed sentences), half English and half Chinese, so term statistics resemble a
real knowledge base that grew large. Queries are the demo evaluation questions plus shortened
and combined demo questions.

    .venv/bin/python bench/faq_search_bench.py --sizes 1000 10000 100000 --queries 300
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faq.evaluate import DEMO_EVAL, load_demo_docs, read_eval_csv
from faq.search import ArticleDoc, SearchIndex
from support.core.text import detect_language

PRODUCTS_EN = [
    "air purifier", "kettle", "robot vacuum", "desk lamp", "tower fan", "humidifier",
    "heater", "rice cooker", "blender", "coffee maker", "toaster", "air fryer",
]  # fmt: skip
PRODUCTS_ZH = [
    "空气净化器", "电热水壶", "扫地机器人", "台灯", "塔扇", "加湿器", "取暖器", "电饭煲",
    "破壁机", "咖啡机", "面包机", "空气炸锅",
]  # fmt: skip
_SENTENCE_RE = re.compile(r"(?<=[.!?。！？])\s*")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_RE.split(text.replace("\n", " ")) if s.strip()]


def generate_corpus(size: int, seed: int = 7) -> Iterator[ArticleDoc]:
    """`size` articles varied from the demo FAQ, alternating languages."""
    rng = random.Random(seed)
    demo = load_demo_docs()
    by_language = {lang: [d for d in demo if d.language == lang] for lang in ("en", "zh")}
    pools = {
        lang: [s for d in docs for s in _sentences(d.answer)] for lang, docs in by_language.items()
    }
    words = {
        lang: sorted({w for d in docs for w in re.findall(r"\w+", d.question + " " + d.answer)})
        for lang, docs in by_language.items()
    }
    for number in range(1, size + 1):
        lang = "en" if number % 2 else "zh"
        base = rng.choice(by_language[lang])
        model = f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randint(1, 999)}"
        if lang == "en":
            product = rng.choice(PRODUCTS_EN)
            question = f"{base.question.rstrip('?')} for the {product} {model}?"
        else:
            product = rng.choice(PRODUCTS_ZH)
            question = f"{product}{model}：{base.question}"
        extra = rng.sample(pools[lang], k=min(3, len(pools[lang])))
        filler = " ".join(rng.sample(words[lang], k=6))
        answer = " ".join([*_sentences(base.answer), *extra, filler])
        yield ArticleDoc(
            article_id=number,
            slug=f"{base.slug}-{number}",
            language=lang,
            category_id=base.category_id,
            category_name=base.category_name,
            question=question,
            answer=answer,
            phrasings=rng.sample(base.phrasings, k=min(len(base.phrasings), rng.randint(0, 2))),
        )


def generate_queries(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    queries = [query for query, _ in read_eval_csv(DEMO_EVAL)]
    demo = load_demo_docs()
    while len(queries) < count:
        doc = rng.choice(demo)
        if doc.language == "en":
            words = doc.question.rstrip("?").split()
            kept = [w for w in words if rng.random() > 0.3] or words
            queries.append(f"{' '.join(kept)} {rng.choice(PRODUCTS_EN)}")
        else:
            text = doc.question.rstrip("？")
            cut = rng.randint(0, max(0, len(text) - 3))
            queries.append(f"{rng.choice(PRODUCTS_ZH)}{text[cut:]}")
    rng.shuffle(queries)
    return queries[:count]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def run(size: int, queries: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="faq-bench-") as folder:
        index = SearchIndex(folder)
        started = time.perf_counter()
        index.rebuild(generate_corpus(size))
        indexing_s = time.perf_counter() - started
        for text in queries[:20]:  # warm the searcher, jieba and caches
            index.search(text)
        latencies = []
        for text in queries:
            started = time.perf_counter()
            index.search(text)
            latencies.append((time.perf_counter() - started) * 1000)
        filtered = []
        for text in queries:
            language = detect_language(text, min_cjk_share=0)
            started = time.perf_counter()
            index.search(text, language=language)
            filtered.append((time.perf_counter() - started) * 1000)
        suggest = []
        for text in queries:
            prefix = text[: max(2, len(text) // 2)]
            started = time.perf_counter()
            index.suggest(prefix)
            suggest.append((time.perf_counter() - started) * 1000)
        index.close()
    return {
        "size": size,
        "indexing_s": indexing_s,
        "p50": statistics.median(latencies),
        "p95": _percentile(latencies, 95),
        "lang_p50": statistics.median(filtered),
        "lang_p95": _percentile(filtered, 95),
        "suggest_p50": statistics.median(suggest),
        "suggest_p95": _percentile(suggest, 95),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    queries = generate_queries(args.queries)
    header = (
        f"{'articles':>9} {'index s':>8} {'search p50':>11} {'p95':>7} "
        f"{'lang p50':>9} {'p95':>7} {'suggest p50':>12} {'p95':>7}   (ms)"
    )
    print(f"{len(queries)} queries per size")
    print(header)
    for size in args.sizes:
        r = run(size, queries)
        print(
            f"{r['size']:>9,} {r['indexing_s']:>8.1f} {r['p50']:>11.1f} {r['p95']:>7.1f} "
            f"{r['lang_p50']:>9.1f} {r['lang_p95']:>7.1f} "
            f"{r['suggest_p50']:>12.1f} {r['suggest_p95']:>7.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
