"""English ranking variants of the twenty-second session, replayed from cached embeddings.

The product's English ranking (e5's soft maximum over question, phrasings and question with the
answer's start + 0.15 x TF-IDF cosine + 0.2 x all-MiniLM-L6-v2's soft maximum over the same rows
and each answer paragraph alone) against: rows made at index time from the answer's own
sentences (doc-side pseudo-questions, as passages or as queries), a weighted maximum over fields,
the query's misspelt words corrected before the models read it, per-FAQ normalised signals and a
linear fusion chosen on the other FAQs. English questions of TUNING files only.

    python bench/faq_english_s22.py --cache /tmp/s22.pkl \
        bench/faq_scale/en_budget.json:bench/faq_scale/en_budget_tune.csv \
        faq/demo_content.json:faq/eval/tune.csv \
        bench/faq_scale/en_community.json:bench/faq_scale/en_community_tune.csv \
        bench/faq_scale/en_printing.json:bench/faq_scale/en_printing_tune.csv
"""

from __future__ import annotations

import argparse
import itertools
import logging
import pickle
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faq_long_answers as L
import faq_rank_replay as R
from faq_second_model import MiniLM

from faq.search import markdown_to_text
from faq.search.dictionary import is_english_word
from faq.search.embedding import prepare, segments

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")
_WORD_RE = re.compile(r"[a-z]+")
MAX_SENTENCES = 8


def sentences(answer: str) -> list[str]:
    out = []
    for paragraph in L.paragraphs(answer):
        out.extend(s.strip() for s in _SENTENCE_RE.split(paragraph) if len(s.strip()) >= 20)
    return out[:MAX_SENTENCES] or [markdown_to_text(answer)[:300]]


KINDS = {
    "question": L.ROW_KINDS["question"],
    "phrasings": L.ROW_KINDS["phrasings"],
    "qa": L.ROW_KINDS["qa"],
    "para": L.ROW_KINDS["para"],
    "sent": (False, lambda d: sentences(d.answer), 0),
}
L.ROW_KINDS.clear()
L.ROW_KINDS.update(KINDS)
# e5 reads only the product's rows (its rows cost ~0.1-0.5 s each on this loaded machine);
# the English model (~10-40 ms a row) reads every kind above
E5_KINDS = ("question", "phrasings", "qa")
_load_set = R.load_set


def _load_e5_set(spec, cache):
    saved = dict(R.ROW_KINDS)
    R.ROW_KINDS.clear()
    R.ROW_KINDS.update({k: saved[k] for k in E5_KINDS})
    try:
        return _load_set(spec, cache)
    finally:
        R.ROW_KINDS.clear()
        R.ROW_KINDS.update(saved)


R.load_set = _load_e5_set

PRODUCT = ("question", "phrasings", "qa")
PRODUCT_EN = ("question", "phrasings", "qa", "para")


def edit_distance(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


class Speller:
    """A query word that is neither a dictionary word, one of the FAQ's nor a contraction
    without its apostrophe becomes the FAQ's most frequent word (of 4 letters or more) within
    edit distance 1 (2 for words of 7 letters or more)."""

    def __init__(self, docs) -> None:
        counts: Counter[str] = Counter()
        self.contractions: set[str] = {"wont", "cant", "dont", "isnt", "hasnt", "doesnt", "whats"}
        for d in docs:
            if d.language != "en":
                continue
            text = f"{d.question} {' '.join(d.phrasings)} {markdown_to_text(d.answer)}".lower()
            counts.update(_WORD_RE.findall(text))
            # "won't", "what's" typed without the apostrophe ("wont", "whats") are not typos
            self.contractions.update(w.replace("'", "") for w in re.findall(r"[a-z]+'[a-z]+", text))
        self.counts = Counter({w: c for w, c in counts.items() if len(w) >= 4})

    def correct(self, query: str) -> str:
        def fix(match: re.Match) -> str:
            word = match.group(0)
            lower = word.lower()
            if (
                len(lower) < 4
                or lower in self.counts
                or lower in self.contractions
                or is_english_word(lower)
            ):
                return word
            limit = 2 if len(lower) >= 7 else 1
            best = None
            for candidate, count in self.counts.items():
                if abs(len(candidate) - len(lower)) > limit or len(candidate) < 3:
                    continue
                d = edit_distance(lower, candidate, limit)
                if d <= limit and (best is None or (d, -count) < best[0]):
                    best = ((d, -count), candidate)
            return best[1] if best else word

        return re.sub(r"[A-Za-z]+", fix, query)


class Replay(L.Replay):
    def __init__(self, spec, cache, model) -> None:
        super().__init__(spec, cache, model)
        self.cache, self.model = cache, model
        speller = Speller(self.faq.docs)
        self.corrected = {n: speller.correct(q) for n, q, _ in self.queries}
        self.n_corrected = sum(self.corrected[n] != q for n, q, _ in self.queries)

    def e5_corrected(self, n: int, kinds) -> np.ndarray:
        def make():
            qv = self.cache.get(segments(self.corrected[n]), is_query=True)
            rows = [np.concatenate([self.faq.rows[k][i] for k in kinds]) for i in self.ids_]
            return R.pooled(qv, rows, R.ROW_POOL_TEMPERATURE).max(axis=1)

        return self.memo(("e5c", n, kinds), make)

    def minilm_corrected(self, n: int, kinds) -> np.ndarray:
        def make():
            qv = self.model.embed([prepare(s) for s in segments(self.corrected[n])])
            out = np.zeros(len(self.faq.docs), np.float32)
            for i in self.ids_:
                if self.minilm_rows[kinds[0]][i] is None:
                    continue
                rows = np.concatenate([self.minilm_rows[k][i] for k in kinds])
                out[i] = R.pooled(qv, [rows], R.ROW_POOL_TEMPERATURE)[0].max()
            return out

        return self.memo(("minic", n, kinds), make)

    def fieldmax(self, n: int, model: str, weights: dict[tuple[str, ...], float]) -> np.ndarray:
        get = self.e5 if model == "e5" else self.minilm
        return np.max(np.stack([w * get(n, k) for k, w in weights.items()]), axis=0)

    def features(self, n: int) -> dict[str, np.ndarray]:
        return {
            "e5": self.e5(n, PRODUCT),
            "words": self.words(n, 0),
            "minilm": self.minilm(n, PRODUCT_EN),
            "e5_title": self.e5(n, ("question",)),
            "minilm_title": self.minilm(n, ("question",)),
            "minilm_sent": self.minilm(n, ("sent",)),
            "minilm_para": self.minilm(n, ("para",)),
            "minilm_all": self.minilm(n, PRODUCT_EN + ("sent",)),
            "e5_fix": self.e5_corrected(n, PRODUCT),
            "minilm_fix": self.minilm_corrected(n, PRODUCT_EN),
        }


PRODUCT_WEIGHTS = {"e5": 1.0, "words": 0.15, "minilm": 0.2}


def ranked_by(replay: Replay, weights, transform=None):
    out = []
    for n, _, expected in replay.queries:
        feats = replay.features(n)
        if transform is not None:
            feats = transform(replay, n, feats)
        score = sum(w * feats[k] for k, w in weights.items() if w)
        score = np.where(replay.english, score, -np.inf)
        order = np.argsort(-score, kind="stable")[:10]
        out.append((expected, [str(replay.faq.slugs[i]) for i in order]))
    return out


def swap(**pairs):
    """Features with some replaced by others (e.g. e5 by its spelling-corrected twin)."""

    def transform(replay, n, feats):
        feats = dict(feats)
        for target, source in pairs.items():
            feats[target] = feats[source]
        return feats

    return transform


def fieldmax(model: str, weights: dict[tuple[str, ...], float]):
    def transform(replay, n, feats):
        feats = dict(feats)
        feats[model] = replay.fieldmax(n, model, weights)
        return feats

    return transform


def compare(replays, base, name, weights, transform=None) -> tuple[int, int]:
    return report(base, name, [ranked_by(r, weights, transform) for r in replays], replays)


def report(base, name, rankeds, replays) -> tuple[int, int]:
    """Prints each set's R@1 / R@5 and first places gained and lost against `base`; returns the
    net over all sets and the worst set's."""
    cells, net_all, worst = [], 0, 0
    for replay, ranked, before in zip(replays, rankeds, base, strict=True):
        r1, r5, mrr = L.figures(ranked)
        gained = sum(g[0] == e and b[0] != e for (e, g), (_, b) in zip(ranked, before, strict=True))
        lost = sum(g[0] != e and b[0] == e for (e, g), (_, b) in zip(ranked, before, strict=True))
        r5_net = sum(
            (e in g[:5]) - (e in b[:5]) for (e, g), (_, b) in zip(ranked, before, strict=True)
        )
        cells.append(
            f"{replay.faq.name[:14]} {r1:.3f}/{r5:.3f} (+{gained} -{lost}, R5 {r5_net:+d})"
        )
        net_all += gained - lost
        worst = min(worst, gained - lost)
    print(f"{name:<34} net {net_all:+3d} worst {worst:+d}  " + "  ".join(cells), flush=True)
    return net_all, worst


def normalised(stats):
    """Each signal divided by its spread over the FAQ's articles (per FAQ, from the
    article-to-article similarities of its titles: what an index could compute)."""

    def transform(replay, n, feats):
        return {
            k: v / stats[id(replay)][k] if k in stats[id(replay)] else v for k, v in feats.items()
        }

    return transform


def load_replays(specs, cache_path: Path, replay_class) -> list:
    """One `replay_class` per FAQ:SET spec, every feature computed, the e5 cache (`cache_path`)
    and the MiniLM one beside it saved (embedding is the slow part)."""
    logging.disable(logging.WARNING)
    cache = R.VectorCache(cache_path)
    model = MiniLM(L.TOKENIZER)
    minilm_cache = cache_path.with_suffix(".minilm.pkl")
    if minilm_cache.exists():
        model.cache = pickle.loads(minilm_cache.read_bytes())
    replays = [replay_class(spec, cache, model) for spec in specs]
    for r in replays:
        for n, _query, _ in r.queries:
            r.features(n)
    cache.save()
    minilm_cache.write_bytes(pickle.dumps(model.cache))
    return replays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--learned", action="store_true")
    args = parser.parse_args()
    replays = load_replays(args.sets, args.cache, Replay)
    for r in replays:
        print(
            f"{r.faq.name}: {len(r.queries)} English questions, {r.n_corrected} corrected:",
            [(q, r.corrected[n]) for n, q, _ in r.queries if r.corrected[n] != q][:12],
        )
    base = [ranked_by(r, PRODUCT_WEIGHTS) for r in replays]
    P = PRODUCT_WEIGHTS
    compare(replays, base, "product", P)
    compare(replays, base, "e5 alone", {"e5": 1})
    # doc-side pseudo-questions: the answer's sentences
    for w in (0.05, 0.1, 0.2):
        compare(replays, base, f"+{w} minilm sentences", {**P, "minilm_sent": w})
        compare(replays, base, f"+{w} minilm paragraphs", {**P, "minilm_para": w})
    # weighted maximum over fields
    for wp in (0.8, 0.9, 0.95):
        compare(
            replays,
            base,
            f"minilm fieldmax para x{wp}",
            P,
            fieldmax("minilm", {PRODUCT: 1, ("para",): wp}),
        )
        compare(
            replays,
            base,
            f"minilm fieldmax +sent x{wp}",
            P,
            fieldmax("minilm", {PRODUCT_EN: 1, ("sent",): wp}),
        )
        compare(
            replays,
            base,
            f"e5 fieldmax title x{2 - wp:.2f}",
            P,
            fieldmax("e5", {PRODUCT: 1, ("question",): 2 - wp}),
        )
    compare(replays, base, "minilm sentence rows in its pool", P, swap(minilm="minilm_all"))
    # spelling correction before the models read the query
    compare(replays, base, "minilm reads corrected query", P, swap(minilm="minilm_fix"))
    compare(replays, base, "e5 reads corrected query", P, swap(e5="e5_fix"))
    compare(replays, base, "both read corrected query", P, swap(minilm="minilm_fix", e5="e5_fix"))
    # title vs whole thread
    for w in (0.05, 0.1):
        compare(replays, base, f"+{w} (e5 title - e5)", {**P, "e5_title": w, "e5": 1 - w})
    # per-FAQ normalisation: divide each dense signal by the spread of its title-to-title
    # similarities within the FAQ (an index-time figure)
    stats = {}
    for r in replays:
        en = [i for i in r.ids_ if r.faq.docs[i].language == "en"]
        s = {}
        titles = np.concatenate([r.faq.rows["question"][i] for i in en])
        s["e5"] = float(np.std(titles @ titles.T))
        mt = np.concatenate([r.minilm_rows["question"][i] for i in en])
        s["minilm"] = float(np.std(mt @ mt.T))
        stats[id(r)] = s
        print(r.faq.name, {k: round(v, 4) for k, v in s.items()})
    mean = {k: float(np.mean([stats[id(r)][k] for r in replays])) for k in ("e5", "minilm")}
    compare(
        replays,
        base,
        "per-FAQ normalised",
        {"e5": mean["e5"], "words": 0.15, "minilm": 0.2 * mean["minilm"]},
        normalised(stats),
    )
    if args.learned:
        learned(replays, base)


def learned(replays, base) -> None:
    """Weights by a grid, chosen on the other FAQs (R@1, then MRR), scored on the one left out."""
    names = ["words", "minilm", "e5_title", "minilm_title", "minilm_sent", "minilm_para"]
    grid = {
        "words": (0.1, 0.15, 0.2),
        "minilm": (0.1, 0.2, 0.3),
        "e5_title": (0.0, 0.05),
        "minilm_title": (0.0, 0.05),
        "minilm_sent": (0.0, 0.05, 0.1),
        "minilm_para": (0.0, 0.05),
    }
    combos = [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(grid[n] for n in names))
    ]
    table = []
    for combo in combos:
        w = {"e5": 1.0, **combo}
        scores = [L.figures(ranked_by(r, w)) for r in replays]
        table.append((combo, scores))
    for k, left in enumerate(replays):

        def key(item, k=k):
            _, scores = item
            others = [s for j, s in enumerate(scores) if j != k]
            return (sum(s[0] for s in others), sum(s[2] for s in others))

        combo, scores = max(table, key=key)
        product = L.figures(base[k])
        print(
            f"left out {left.faq.name}: chosen {combo} -> R@1 {scores[k][0]:.3f} / R@5 "
            f"{scores[k][1]:.3f} (product {product[0]:.3f} / {product[1]:.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
