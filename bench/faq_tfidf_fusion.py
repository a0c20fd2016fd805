"""TF-IDF cosine as the fusion's word signal, replayed offline on the TUNING sets only.

Reads the recordings of bench/faq_fusion_replay.py (one per FAQ: the demo's faq/eval/tune.csv and
faq/demo_eval.csv, the large FAQs' *_tune.csv) and ranks every question again with each variant:
the rank fusion ("current": the product before the fifteenth session, which must reproduce the
recorded order), the model alone ("dense"), and fusions with a plain TF-IDF cosine over each
article's text (question, phrasings, answer; English word 1-2-grams, Chinese characters 1-3
after Traditional -> Simplified), by scikit-learn's TfidfVectorizer (`--config base` and the
other configs) or by the product's own term vectors (`--config product`, faq.search.terms;
"sim+0.15" with it is the product since the fifteenth session). Scores
R@1 / R@5 / MRR@10 per set and the offers (faq.matching.offered_hits on the variant's hits); the
objective is the mean R@1 over the sets, each set weighing the same.

    .venv/bin/python bench/faq_fusion_replay.py record /tmp/demo.pkl --content \
        faq/demo_content.json faq/eval/tune.csv faq/demo_eval.csv
    .venv/bin/python bench/faq_fusion_replay.py record /tmp/zh_telecom.pkl --content \
        bench/faq_scale/zh_telecom.json bench/faq_scale/zh_telecom_tune.csv   (and the others)
    .venv/bin/python bench/faq_tfidf_fusion.py /tmp/*.pkl [--variants NAME ...] [--misses NAME]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq_fusion_replay import Question, Recorded, Searched, load

from faq.matching import offered_hits
from faq.search import markdown_to_text
from faq.search.fusion import fuse
from faq.search.terms import article_text as article_text_of
from faq.search.terms import count_articles
from support.core.text import to_simplified


@dataclass(frozen=True)
class Hit:
    article_id: int
    language: str
    similarity: float
    cosine: float
    standout: float
    lexical_rank: int | None
    semantic_rank: int | None


# -- TF-IDF -----------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"\d+")


def zh_text(text: str) -> str:
    return _NUMBER_RE.sub("#", to_simplified(text).lower())


def en_text(text: str) -> str:
    return _NUMBER_RE.sub("#", text.lower())


def article_text(doc, answer: bool = True) -> str:
    parts = [doc.question, *doc.phrasings]
    if answer:
        parts.append(markdown_to_text(doc.answer))
    return "\n".join(parts)


def build_tfidf(rec: Recorded, config: dict) -> dict[str, tuple]:
    """Per language: (vectorizer, positions of its articles in the vectors, matrix)."""
    position = {int(a): i for i, a in enumerate(rec.article_ids.tolist())}
    out = {}
    for language in ("en", "zh"):
        docs = [d for d in rec.docs if d.language == language]
        if not docs:
            continue
        if language == "zh":
            vectorizer = TfidfVectorizer(
                analyzer="char",
                ngram_range=config.get("zh_ngrams", (1, 3)),
                preprocessor=zh_text,
                sublinear_tf=config.get("sublinear", True),
                min_df=1,
                dtype=np.float32,
            )
        else:
            vectorizer = TfidfVectorizer(
                analyzer=config.get("en_analyzer", "word"),
                ngram_range=config.get("en_ngrams", (1, 2)),
                preprocessor=en_text,
                sublinear_tf=config.get("sublinear", True),
                stop_words=config.get("en_stop", None),
                token_pattern=r"(?u)\b\w+\b",
                dtype=np.float32,
            )
        texts = [article_text(d, config.get("answer", True)) for d in docs]
        matrix = vectorizer.fit_transform(texts)
        positions = np.asarray([position[d.article_id] for d in docs])
        out[language] = (vectorizer, positions, matrix)
    return out


def product_tfidf(rec: Recorded) -> dict[str, tuple]:
    """The product's term vectors (faq.search.terms) of this FAQ."""
    words = count_articles(
        [
            (d.article_id, d.language, article_text_of(d.question, d.phrasings, d.answer))
            for d in rec.docs
        ]
    )
    return {"product": (words, [int(a) for a in rec.article_ids.tolist()])}


def tfidf_scores(tfidf: dict, n: int, text: str, language: str) -> np.ndarray:
    """Cosine per article (order of the vectors); 0 for other languages."""
    if "product" in tfidf:
        words, ids = tfidf["product"]
        return words.cosines(text, language, ids)
    scores = np.zeros(n, np.float32)
    found = tfidf.get(language)
    if found is None:
        return scores
    vectorizer, positions, matrix = found
    query = vectorizer.transform([text])
    scores[positions] = (matrix @ query.T).toarray()[:, 0]
    return scores


# -- replay -----------------------------------------------------------------------------------


@dataclass
class Context:
    rec: Recorded
    s: Searched
    language: str  # the query's language
    tfidf: np.ndarray  # per article (vectors order)
    position: dict[int, int]

    def sim(self, article_id: int) -> float:
        return float(self.s.similarities[self.position[article_id]])


Variant = Callable[[Context], list[int]]


def current(ctx: Context) -> list[int]:
    return [a for a, _ in fuse(ctx.s.lexical, ctx.s.semantic, **ctx.s.fuse_kwargs)]


def dense(ctx: Context) -> list[int]:
    mask = ctx.rec.languages == ctx.language
    sims = np.where(mask, ctx.s.similarities, -np.inf)
    order = np.argsort(-sims, kind="stable")[:50]
    return [int(ctx.rec.article_ids[i]) for i in order]


def tfidf_only(ctx: Context) -> list[int]:
    order = np.argsort(-ctx.tfidf, kind="stable")[:50]
    return [int(ctx.rec.article_ids[i]) for i in order if ctx.tfidf[i] > 0]


def candidates(ctx: Context, extra: int) -> list[int]:
    """The product's candidates (word-search and semantic hits) plus the TF-IDF's first `extra`."""
    found = list(dict.fromkeys([*ctx.s.semantic, *ctx.s.lexical]))
    if extra:
        found = list(dict.fromkeys([*found, *tfidf_only(ctx)[:extra]]))
    return found


def score_fusion(weight: float, base: str = "sim", extra: int = 0, floor: float = 0.0) -> Variant:
    """semantic (relative similarity or cosine) + weight x TF-IDF cosine, over the candidates."""

    def run(ctx: Context) -> list[int]:
        ids = candidates(ctx, extra)
        if not ctx.s.semantic:
            return current(ctx)
        arr = ctx.s.similarities if base == "sim" else ctx.s.cosines
        scored = []
        for order, a in enumerate(ids):
            i = ctx.position[a]
            t = float(ctx.tfidf[i])
            scored.append((float(arr[i]) + weight * max(0.0, t - floor), -order, a))
        scored.sort(reverse=True)
        return [a for _, _, a in scored]

    return run


def rrf_tfidf(mode: str, k: float = 10.0, tw: float = 1.0, depth: int = 50) -> Variant:
    """RRF with the TF-IDF ranking replacing ("replace") or joining ("add") the word search."""

    def run(ctx: Context) -> list[int]:
        t_rank = tfidf_only(ctx)[:depth]
        if mode == "replace":
            kwargs = dict(ctx.s.fuse_kwargs)
            best = max((ctx.sim(a) for a in ctx.s.semantic), default=None)
            kwargs["unlike"] = (
                {a for a in t_rank if best is not None and ctx.sim(a) < best - 0.02}
                if kwargs.get("unlike") is not None
                else set()
            )
            return [a for a, _ in fuse(t_rank, ctx.s.semantic, **kwargs)]
        fused = dict(fuse(ctx.s.lexical, ctx.s.semantic, **ctx.s.fuse_kwargs))
        for p, a in enumerate(t_rank, start=1):
            fused[a] = fused.get(a, 0.0) + tw / (k + p)
        order = {a: i for i, a in enumerate([*ctx.s.lexical, *ctx.s.semantic, *t_rank])}
        return [a for a, _ in sorted(fused.items(), key=lambda x: (-x[1], order[x[0]]))]

    return run


def fused_plus_tfidf(weight: float) -> Variant:
    """The product's fused score + weight x TF-IDF cosine (no new candidates)."""

    def run(ctx: Context) -> list[int]:
        fused = fuse(ctx.s.lexical, ctx.s.semantic, **ctx.s.fuse_kwargs)
        scored = [
            (score + weight * float(ctx.tfidf[ctx.position[a]]), -i, a)
            for i, (a, score) in enumerate(fused)
        ]
        scored.sort(reverse=True)
        return [a for _, _, a in scored]

    return run


def hits_for(ctx: Context, order: list[int]) -> list[Hit]:
    lexical = {a: i for i, a in enumerate(ctx.s.lexical, start=1)}
    semantic = {a: i for i, a in enumerate(ctx.s.semantic, start=1)}
    out = []
    for a in order:
        i = ctx.position[a]
        inside = a in semantic
        sim = float(ctx.s.similarities[i]) if inside else 0.0
        out.append(
            Hit(
                a,
                str(ctx.rec.languages[i]),
                round(sim, 4),
                round(float(ctx.s.cosines[i]), 4) if inside else 0.0,
                round(sim - ctx.s.pack, 4) if inside else 0.0,
                lexical.get(a),
                semantic.get(a),
            )
        )
    return out


@dataclass
class Figures:
    r1: float
    r5: float
    mrr: float
    precision: float
    coverage: float
    false_rate: float
    misses: list[tuple[str, str, list[str]]]


def score_file(rec: Recorded, questions: list[Question], variant: Variant, tfidf: dict) -> Figures:
    position = {int(a): i for i, a in enumerate(rec.article_ids.tolist())}
    slug = {d.article_id: d.slug for d in rec.docs}
    n = r1 = r5 = 0
    mrr = 0.0
    offered = right = answerable = covered = unanswerable = falsely = 0
    misses = []
    for q in questions:
        for kind in ("ranked", "offer"):
            s: Searched | None = getattr(q, kind)
            if kind == "ranked" and not q.expected:
                continue
            if s is None:
                order: list[int] = []
            else:
                language = s.language or "en"
                t = tfidf_scores(tfidf, len(rec.article_ids), s.text, language)
                ctx = Context(rec, s, language, t, position)
                order = variant(ctx)
            if kind == "ranked":
                ranked = [slug[a] for a in order[:10]]
                n += 1
                rank = ranked.index(q.expected) + 1 if q.expected in ranked else None
                r1 += rank == 1
                r5 += rank is not None and rank <= 5
                mrr += 1.0 / rank if rank else 0.0
                if rank != 1:
                    misses.append((q.query, q.expected, ranked[:3]))
            else:
                got = (
                    []
                    if s is None
                    else [slug[h.article_id] for h in offered_hits(hits_for(ctx, order[:6]))]
                )
                offered += len(got)
                right += sum(1 for g in got if g == q.expected)
                if q.expected:
                    answerable += 1
                    covered += q.expected in got
                else:
                    unanswerable += 1
                    falsely += bool(got)
    return Figures(
        r1 / n,
        r5 / n,
        mrr / n,
        right / offered if offered else 1.0,
        covered / answerable if answerable else 0.0,
        falsely / unanswerable if unanswerable else 0.0,
        misses,
    )


def check_current(rec: Recorded) -> int:
    """Questions whose replayed product fusion differs from the product's own order."""
    position = {int(a): i for i, a in enumerate(rec.article_ids.tolist())}
    bad = 0
    for questions in rec.files.values():
        for q in questions:
            for s in (q.ranked, q.offer):
                if s is None:
                    continue
                ctx = Context(rec, s, s.language or "en", np.zeros(0), position)
                if current(ctx)[: len(s.product)] != s.product:
                    bad += 1
    return bad


def sim_tfidf_bm25(weight: float, lexical: float, k: float = 10.0) -> Variant:
    """similarity + weight x TF-IDF cosine + lexical / (K + word-search rank)."""

    def run(ctx: Context) -> list[int]:
        if not ctx.s.semantic:
            return current(ctx)
        lex = {a: i for i, a in enumerate(ctx.s.lexical, start=1)}
        scored = []
        for order, a in enumerate(candidates(ctx, 0)):
            i = ctx.position[a]
            value = float(ctx.s.similarities[i]) + weight * float(ctx.tfidf[i])
            if a in lex:
                value += lexical / (k + lex[a])
            scored.append((value, -order, a))
        scored.sort(reverse=True)
        return [a for _, _, a in scored]

    return run


VARIANTS: dict[str, Variant] = {"current": current, "dense": dense, "tfidf": tfidf_only}
for w in (0.02, 0.03, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3):
    VARIANTS[f"sim+{w}"] = score_fusion(w)
for w in (0.1, 0.15, 0.2):
    VARIANTS[f"sim+{w}+x20"] = score_fusion(w, extra=20)
    for lexical in (0.01, 0.02, 0.05):
        VARIANTS[f"sim+{w}+bm{lexical}"] = sim_tfidf_bm25(w, lexical)
for w in (0.05, 0.1, 0.2):
    VARIANTS[f"fused+{w}"] = fused_plus_tfidf(w)
VARIANTS["rrf-replace"] = rrf_tfidf("replace")
for tw in (0.5, 1.0):
    VARIANTS[f"rrf-add{tw}"] = rrf_tfidf("add", tw=tw)


CONFIGS = {
    "base": {},
    "en11": {"en_ngrams": (1, 1)},
    "zh12": {"zh_ngrams": (1, 2)},
    "zh23": {"zh_ngrams": (2, 3)},
    "noanswer": {"answer": False},
    "nosublinear": {"sublinear": False},
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", nargs="+", type=Path)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--config", default="base", choices=[*CONFIGS, "product"])
    parser.add_argument("--misses", default=None, help="list this variant's misses")
    parser.add_argument("--files", nargs="*", default=None, help="only these recorded files")
    args = parser.parse_args(argv)
    recs = [load(p) for p in args.recordings]
    sets = []
    for rec in recs:
        bad = check_current(rec)
        if bad:
            print(f"WARNING {rec.name}: replay differs from the product on {bad} searches")
        tfidf = (
            product_tfidf(rec)
            if args.config == "product"
            else build_tfidf(rec, CONFIGS[args.config])
        )
        for name, questions in rec.files.items():
            if args.files is None or name in args.files:
                sets.append((name, rec, questions, tfidf))
    for label in args.variants:
        variant = VARIANTS[label]
        parts, figs = [], []
        for name, rec, questions, tfidf in sets:
            f = score_file(rec, questions, variant, tfidf)
            figs.append(f)
            parts.append(
                f"{name.replace('.csv', '')} {f.r1:.3f}/{f.r5:.3f}/{f.mrr:.3f}"
                f" o{f.precision:.2f}/{f.coverage:.2f}/{f.false_rate:.2f}"
            )
            if label == args.misses:
                for miss in f.misses:
                    print(f"    {name} miss {miss[0]!r} -> {miss[1]}: {miss[2]}")
        mean = [float(np.mean([getattr(f, k) for f in figs])) for k in ("r1", "r5", "mrr")]
        print(
            f"{label:>14} MEAN {mean[0]:.4f}/{mean[1]:.4f}/{mean[2]:.4f} | " + " | ".join(parts),
            flush=True,
        )


if __name__ == "__main__":
    main()
