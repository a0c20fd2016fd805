"""Fusion variants (faq.search.fusion) compared on the four TUNING sets only, with equal weight:
bench/faq_scale/zh_telecom_tune.csv, en_budget_tune.csv, faq/eval/tune.csv, faq/demo_eval.csv.
Never on held-out files.

Each FAQ is indexed once; every variant re-runs the portal's searches (query embeddings are
cached) with `engine.fuse` replaced by the variant. The objective: mean R@1 over the four sets,
ties by mean R@5, then MRR@10.

    .venv/bin/python bench/faq_fusion_variants.py [VARIANT ...] [--dense]

The variants wrap the product's fusion: "current" is the code as it is. Measured in the eighth
session (docs/semantic-search.md, "At several hundred articles"): "band0.01+lexdepth10" won the
tuning objective by 1-2 questions a set and moved no held-out R@1, so the product kept its fusion.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq_relevance import dense_searcher, searcher

import faq.search.engine as engine
import faq.search.fusion as fusion
from faq.evaluate import DEMO_CONTENT, DEMO_EVAL, TUNE_EVAL, evaluate, load_demo_docs, read_eval_csv
from faq.search import SearchIndex, load_embedder

SCALE = Path(__file__).resolve().parent / "faq_scale"
SETS = [
    ("zh-scale", SCALE / "zh_telecom.json", [SCALE / "zh_telecom_tune.csv"]),
    ("en-scale", SCALE / "en_budget.json", [SCALE / "en_budget_tune.csv"]),
    ("demo", DEMO_CONTENT, [TUNE_EVAL, DEMO_EVAL]),
]

_state: dict = {}
_rank, _unlike, _fuse = engine.rank, engine.unlike_hits, fusion.fuse


def _recording_rank(*args, **kwargs):
    found = _rank(*args, **kwargs)
    _state["scores"] = [score for _, score in found[1]]
    return found


def _recording_unlike(lexical, similarity_of, best):
    _state["similarity_of"], _state["best"] = similarity_of, best
    return _unlike(lexical, similarity_of, best)


Variant = Callable[..., list[tuple[int, float]]]


def current(lexical, semantic, **kw) -> list[tuple[int, float]]:
    return _fuse(lexical, semantic, **kw)


def gate(width: float) -> Variant:
    """The current fusion with LEXICAL_GATE = width."""

    def run(lexical, semantic, **kw):
        best, sim = _state["best"], _state["similarity_of"]
        unlike = set()
        if best is not None:
            for a in lexical:
                s = sim(a)
                if s is not None and s < best - width:
                    unlike.add(a)
        kw["unlike"] = unlike
        return _fuse(lexical, semantic, **kw)

    return run


def lexical_depth(depth: int) -> Variant:
    def run(lexical, semantic, **kw):
        kw["unlike"] = set(kw.get("unlike", ())) | set(lexical[depth:])
        return _fuse(lexical, semantic, **kw)

    return run


def band(width: float, inner: Variant = current) -> Variant:
    """Semantic order first; the fusion only re-orders the articles within `width` of the
    semantic first's similarity (those first); everything else follows in the fused order."""

    def run(lexical, semantic, **kw):
        fused = inner(lexical, semantic, **kw)
        best, sim = _state["best"], _state["similarity_of"]
        if best is None:
            return fused

        def near(item):
            s = sim(item[0])
            return not (s is not None and s >= best - width)

        return sorted(fused, key=near)

    return run


def score_fusion(weight: float, k: float = fusion.RRF_K, gated: bool = True) -> Variant:
    """Similarity + weight / (K + lexical rank) (the word search's rank, 0 when not a hit)."""

    def run(lexical, semantic, **kw):
        best, sim = _state["best"], _state["similarity_of"]
        if best is None:
            return _fuse(lexical, semantic, **kw)
        unlike = kw.get("unlike", ()) if gated else ()
        scores: dict[int, float] = {}
        for a in semantic:
            scores[a] = sim(a) or 0.0
        for position, a in enumerate(lexical, start=1):
            base = scores.get(a, sim(a) or 0.0)
            scores[a] = base + (0.0 if a in unlike else weight / (k + position))
        order = {a: i for i, a in enumerate([*semantic, *lexical])}
        return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))

    return run


def norm_fusion(weight: float, gated: bool = True) -> Variant:
    """Similarity + weight x BM25 / best BM25."""

    def run(lexical, semantic, **kw):
        best, sim = _state["best"], _state["similarity_of"]
        scores_l = _state["scores"]
        if best is None or len(scores_l) != len(lexical) or not scores_l:
            return _fuse(lexical, semantic, **kw)
        unlike = kw.get("unlike", ()) if gated else ()
        top = max(scores_l) or 1.0
        scores: dict[int, float] = {a: sim(a) or 0.0 for a in semantic}
        for a, s in zip(lexical, scores_l, strict=True):
            base = scores.get(a, sim(a) or 0.0)
            scores[a] = base + (0.0 if a in unlike else weight * s / top)
        order = {a: i for i, a in enumerate([*semantic, *lexical])}
        return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))

    return run


def lexical_sure(power: float) -> Variant:
    """Word search's weight x (its first score's lead over the second / first) ** power."""

    def run(lexical, semantic, **kw):
        scores_l = _state["scores"]
        saved = fusion.LEXICAL_WEIGHT
        if len(scores_l) >= 2 and scores_l[0] > 0:
            fusion.LEXICAL_WEIGHT = saved * ((scores_l[0] - scores_l[1]) / scores_l[0]) ** power
        try:
            return _fuse(lexical, semantic, **kw)
        finally:
            fusion.LEXICAL_WEIGHT = saved

    return run


def consts(**values: float) -> Variant:
    def run(lexical, semantic, **kw):
        saved = {name: getattr(fusion, name) for name in values}
        for name, value in values.items():
            setattr(fusion, name, value)
        try:
            return _fuse(lexical, semantic, **kw)
        finally:
            for name, value in saved.items():
                setattr(fusion, name, value)

    return run


VARIANTS: dict[str, Variant] = {"current": current}
for w in (0.005, 0.01, 0.015):
    VARIANTS[f"band{w}"] = band(w)
for w in (0.0025, 0.0075):
    VARIANTS[f"band{w}"] = band(w)
for w in (0.005, 0.0075, 0.01):
    VARIANTS[f"band{w}+lexdepth10"] = band(w, lexical_depth(10))
    VARIANTS[f"band{w}+sem1"] = band(w, consts(SEMANTIC_WEIGHT=1.0))
    VARIANTS[f"band{w}+margin0"] = band(w, consts(MARGIN_WEIGHT=0.0))
for d in (3, 5, 10, 20):
    VARIANTS[f"lexdepth{d}"] = lexical_depth(d)
for w in (0.005, 0.01, 0.02, 0.03, 0.05):
    VARIANTS[f"simrank{w}"] = score_fusion(w)
    VARIANTS[f"simrank{w}-ungated"] = score_fusion(w, gated=False)
for w in (0.002, 0.005, 0.01, 0.02):
    VARIANTS[f"simbm25-{w}"] = norm_fusion(w)
for p in (0.5, 1.0):
    VARIANTS[f"sure{p}"] = lexical_sure(p)
for g in (0.005, 0.01):
    VARIANTS[f"gate{g}"] = gate(g)
for s in (2.0, 3.0):
    VARIANTS[f"sem{s}"] = consts(SEMANTIC_WEIGHT=s)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--dense", action="store_true", help="also the model alone")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    engine.rank, engine.unlike_hits = _recording_rank, _recording_unlike
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        built = []
        for name, content, files in SETS:
            docs = load_demo_docs(content)
            index = SearchIndex(Path(tmp) / name, embedder=embedder)
            index.rebuild(docs)
            for path in files:
                built.append((path.name, index, docs, read_eval_csv(path)))
        runs: list[tuple[str, Variant | None]] = [(v, VARIANTS[v]) for v in args.variants]
        if args.dense:
            runs.insert(0, ("dense", None))
        for label, variant in runs:
            figures = []
            parts = []
            for set_name, index, docs, rows in built:
                if variant is None:
                    ranked, offer = dense_searcher(index, docs)
                else:
                    engine.fuse = variant
                    ranked, offer = searcher(index)
                report = evaluate(rows, ranked, offer)
                figures.append((report.recall_at_1, report.recall_at_5, report.mrr_at_10))
                text = f"{report.recall_at_1:.3f}/{report.recall_at_5:.3f}/{report.mrr_at_10:.3f}"
                if report.offers:
                    o = report.offers
                    text += f" o{o.precision:.2f}/{o.coverage:.2f}/{o.false_offer_rate:.2f}"
                parts.append(f"{set_name} {text}")
            mean = [sum(f[i] for f in figures) / len(figures) for i in range(3)]
            print(
                f"{label:>20} MEAN "
                + "/".join(f"{m:.4f}" for m in mean)
                + " | "
                + " | ".join(parts),
                flush=True,
            )
        engine.fuse = _fuse


if __name__ == "__main__":
    main()
