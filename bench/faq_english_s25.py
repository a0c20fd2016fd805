"""English ranking levers of the twenty-fifth session, replayed from cached embeddings.

Reuses bench/faq_english_s22.py's replay (the product's English ranking: e5's soft maximum over
question, phrasings and question with the answer's start + 0.15 x TF-IDF cosine + 0.2 x MiniLM's
soft maximum over the same rows and each answer paragraph) and its cache, and tries what no
earlier session tried:

- the query's English filler (greetings, "I was wondering if", "does anyone know", thanks)
  cut before the models read it (`--` both, or one model);
- pseudo-relevance feedback on the word side (RM3-like: the TF-IDF query row mixed with the
  mean TF-IDF row of the first k articles of the product's ranking, its m heaviest terms);
- the approved phrasings' word overlap (the best single phrasing's share of the query's
  IDF mass) as a signal or as a tie-break between the first two when they are close;
- a reranker of the product's first five, a logistic regression over features of each
  candidate against the first (every signal the replay has), fitted with one FAQ left out.

Also lists and classifies the product's misses (`--misses`). English questions of TUNING
files only (the s22 tuning sets and the used held-out sets).

    python bench/faq_english_s25.py --cache /tmp/s25.pkl FAQ.json:SET.csv ...
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faq_english_s22 as S
import faq_rank_replay as R

from faq.search.embedding import prepare, segments
from faq.search.terms import hashed_counts, terms

P = S.PRODUCT_WEIGHTS

# English filler a customer wraps a question in: it says nothing of the topic.
_FILLER_RES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|dear (?:team|sir|madam|all))"
        r"\b(?:\s+(?:there|all|everyone|guys|folks|team)\b)?\s*[,!.:;-]*\s*",
        r"\b(?:i was|i am|i'm|im) (?:just )?wondering (?:if |whether |about )?\s*",
        r"\b(?:does|do) (?:anyone|anybody) know (?:if |whether )?\s*",
        r"\bquick question\s*[,:.!-]*\s*",
        r"\b(?:any|some) (?:help|advice|ideas?|tips|suggestions)(?: (?:would be|is|are))?"
        r"(?: (?:much |greatly |really )?appreciated)?\s*[?!.]*\s*$",
        r"[,.!\s]*\b(?:thanks|thank you|thx|cheers|ta)(?: (?:so much|a lot|in advance|all))?"
        r"\s*[!.]*\s*$",
        r"\bplease help\s*[!.,]*\s*",
    )
]


def cleaned(query: str) -> str:
    text = query
    for _ in range(2):
        for pattern in _FILLER_RES:
            text = pattern.sub(" ", text)
    text = " ".join(text.split()).strip(" ,.;:-")
    return text if len(text) >= 8 else query


class Replay(S.Replay):
    def __init__(self, spec, cache, model) -> None:
        super().__init__(spec, cache, model)
        self.cleaned = {n: cleaned(q) for n, q, _ in self.queries}
        self.n_cleaned = sum(self.cleaned[n] != q for n, q, _ in self.queries)

    def e5_clean(self, n: int) -> np.ndarray:
        def make():
            qv = self.cache.get(segments(self.cleaned[n]), is_query=True)
            rows = [np.concatenate([self.faq.rows[k][i] for k in S.PRODUCT]) for i in self.ids_]
            return R.pooled(qv, rows, R.ROW_POOL_TEMPERATURE).max(axis=1)

        return self.memo(("e5clean", n), make)

    def minilm_clean(self, n: int) -> np.ndarray:
        def make():
            qv = self.model.embed([prepare(s) for s in segments(self.cleaned[n])])
            out = np.zeros(len(self.faq.docs), np.float32)
            for i in self.ids_:
                if self.minilm_rows["question"][i] is None:
                    continue
                rows = np.concatenate([self.minilm_rows[k][i] for k in S.PRODUCT_EN])
                out[i] = R.pooled(qv, [rows], R.ROW_POOL_TEMPERATURE)[0].max()
            return out

        return self.memo(("miniclean", n), make)

    def words_clean(self, n: int) -> np.ndarray:
        return self.memo(
            ("wclean", n), lambda: self.terms(0).cosines(self.cleaned[n], "en", self.ids)
        )

    # --- word-side pseudo-relevance feedback -------------------------------------------
    def rm3(self, n: int, order: np.ndarray, k: int, m: int, mix: float) -> np.ndarray:
        def make():
            tv = self.terms(0)
            weighted = tv.weighted()
            cols, data = tv._query_row(self.faq.queries[n][0], "en")
            q = sp.csr_matrix((data, cols, [0, len(cols)]), shape=(1, weighted.shape[1]))
            feedback = sp.csr_matrix(np.full((1, k), 1.0 / k)) @ weighted[order[:k]]
            feedback.sort_indices()
            if m and feedback.nnz > m:
                keep = np.argsort(-feedback.data)[:m]
                feedback = sp.csr_matrix(
                    (feedback.data[keep], feedback.indices[keep], [0, m]), shape=q.shape
                )
            feedback = feedback / max(float(np.sqrt(feedback.multiply(feedback).sum())), 1e-12)
            expanded = (1 - mix) * q + mix * feedback
            expanded = expanded / max(float(np.sqrt(expanded.multiply(expanded).sum())), 1e-12)
            out = np.asarray((weighted @ expanded.T).todense()).ravel().astype(np.float32)
            return np.where(self.english, out, 0.0)

        return self.memo(("rm3", n, k, m, mix), make)

    # --- phrasing overlap ----------------------------------------------------------------
    def overlap(self, n: int) -> np.ndarray:
        """Per article, the best single text's (question or one phrasing) share of the query's
        IDF mass (words and pairs, as the TF-IDF reads them)."""

        def make():
            tv = self.terms(0)
            idf = tv.idf("en")
            cols, _ = hashed_counts(terms(self.faq.queries[n][0], "en"))
            mass = idf[cols]
            total = float(mass.sum()) or 1.0
            out = np.zeros(len(self.faq.docs), np.float32)
            for i, texts in enumerate(self.text_columns()):
                for tcols in texts:
                    out[i] = max(out[i], float(mass[np.isin(cols, tcols)].sum()) / total)
            return out

        return self.memo(("overlap", n), make)

    def text_columns(self) -> list[list[np.ndarray]]:
        if not hasattr(self, "_text_columns"):
            self._text_columns = [
                [hashed_counts(terms(t, "en"))[0] for t in [d.question, *d.phrasings[:8]]]
                if d.language == "en"
                else []
                for d in self.faq.docs
            ]
        return self._text_columns

    def features(self, n: int) -> dict[str, np.ndarray]:
        feats = super().features(n)
        feats["e5_clean"] = self.e5_clean(n)
        feats["minilm_clean"] = self.minilm_clean(n)
        feats["words_clean"] = self.words_clean(n)
        feats["overlap"] = self.overlap(n)
        return feats


def product_score(replay: Replay, n: int) -> np.ndarray:
    feats = replay.features(n)
    score = sum(w * feats[k] for k, w in P.items())
    return np.where(replay.english, score, -np.inf)


def rm3_transform(k: int, m: int, mix: float):
    def transform(replay, n, feats):
        order = np.argsort(-product_score(replay, n), kind="stable")
        feats = dict(feats)
        feats["words"] = replay.rm3(n, order, k, m, mix)
        return feats

    return transform


def tiebreak(margin: float, key: str = "overlap"):
    """The first two by the product's score swap when they are within `margin` and the second
    has the larger `key` (phrasing overlap)."""

    def rank(replay, n):
        score = product_score(replay, n)
        order = np.argsort(-score, kind="stable")[:10]
        f = replay.features(n)[key]
        a, b = order[0], order[1]
        if score[a] - score[b] <= margin and f[b] > f[a]:
            order[0], order[1] = b, a
        return order

    return rank


def compare_ranks(replays, base, name, rank) -> tuple[int, int]:
    """`rank(replay, n)` -> article positions, best first."""
    rankeds = [
        [(e, [str(r.faq.slugs[i]) for i in rank(r, n)[:10]]) for n, _, e in r.queries]
        for r in replays
    ]
    return S.report(base, name, rankeds, replays)


# --- the reranker of the first five ---------------------------------------------------------
RERANK_DEPTH = 5
SIGNALS = (
    "e5",
    "words",
    "minilm",
    "e5_title",
    "minilm_title",
    "minilm_sent",
    "minilm_para",
    "overlap",
)


def candidate_features(replay: Replay, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The product's first RERANK_DEPTH articles and, per candidate, each signal less the
    first's, its product score less the first's, its rank, and the query's length."""
    feats = replay.features(n)
    score = product_score(replay, n)
    order = np.argsort(-score, kind="stable")[:RERANK_DEPTH]
    top = order[0]
    words = len(replay.faq.queries[n][0].split())
    rows = []
    for rank, i in enumerate(order):
        row = [feats[k][i] - feats[k][top] for k in SIGNALS]
        row += [score[i] - score[top], float(rank == 0), float(rank), min(words, 40) / 40]
        rows.append(row)
    return order, np.asarray(rows, np.float64)


def reranker(replays, base, C: float = 1.0) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    data = {}
    for r in replays:
        for n, _, e in r.queries:
            order, X = candidate_features(r, n)
            y = np.asarray([str(r.faq.slugs[i]) == e for i in order], np.int64)
            data[(id(r), n)] = (order, X, y)

    def faq_of(r):
        """The FAQ a set asks (folds leave one FAQ out: its sets share articles)."""
        return "_".join(r.faq.name.split("_")[:2]) if r.faq.name.startswith("en_") else "demo"

    if len({faq_of(r) for r in replays}) < 2:
        print("the reranker is fitted with one FAQ left out: give sets of two FAQs or more")
        return
    models = {}
    for left in {faq_of(r) for r in replays}:
        X = np.concatenate(
            [data[(id(r), n)][1] for r in replays if faq_of(r) != left for n, _, _ in r.queries]
        )
        y = np.concatenate(
            [data[(id(r), n)][2] for r in replays if faq_of(r) != left for n, _, _ in r.queries]
        )
        scaler = StandardScaler().fit(X)
        clf = LogisticRegression(C=C, max_iter=2000).fit(scaler.transform(X), y)
        models[left] = (scaler, clf)

    def rank(replay, n):
        order, X, _ = data[(id(replay), n)]
        scaler, clf = models[faq_of(replay)]
        p = clf.decision_function(scaler.transform(X))
        full = np.argsort(-product_score(replay, n), kind="stable")[:10]
        head = order[np.argsort(-p, kind="stable")]
        return np.concatenate([head, full[RERANK_DEPTH:]])

    compare_ranks(replays, base, f"rerank top{RERANK_DEPTH} LR C={C} (FAQ out)", rank)


# --- misses ---------------------------------------------------------------------------------
def misses(replays) -> None:
    for r in replays:
        print(f"== {r.faq.name}")
        for n, q, e in r.queries:
            score = product_score(r, n)
            order = np.argsort(-score, kind="stable")[:10]
            got = [str(r.faq.slugs[i]) for i in order]
            if got[0] == e:
                continue
            pos = got.index(e) + 1 if e in got else ">10"
            ex = int(np.flatnonzero(r.faq.slugs == e)[0])
            gap = score[order[0]] - score[ex]
            print(
                f"  [{pos}] gap {gap:.3f} words {len(q.split()):2d} {q!r}\n"
                f"      want {e} | got {got[0]}: {r.faq.docs[order[0]].question[:70]!r}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--rerank-only", action="store_true")
    args = parser.parse_args()
    replays = S.load_replays(args.sets, args.cache, Replay)
    for r in replays:
        print(
            f"{r.faq.name}: {len(r.queries)} English questions, {r.n_cleaned} with filler cut:",
            [(q, r.cleaned[n]) for n, q, _ in r.queries if r.cleaned[n] != q][:6],
        )
    if args.misses:
        misses(replays)
        return
    base = [S.ranked_by(r, P) for r in replays]
    S.compare(replays, base, "product", P)
    if args.rerank_only:
        for C in (0.01, 0.1, 1.0):
            reranker(replays, base, C)
        return
    # filler cut before the models (and the words) read the query
    S.compare(replays, base, "clean: both models", P, S.swap(e5="e5_clean", minilm="minilm_clean"))
    S.compare(
        replays,
        base,
        "clean: models and words",
        P,
        S.swap(e5="e5_clean", minilm="minilm_clean", words="words_clean"),
    )
    # RM3 on the word side
    for k in (3, 5):
        for m in (10, 30):
            for mix in (0.2, 0.4):
                S.compare(replays, base, f"rm3 k{k} m{m} mix{mix}", P, rm3_transform(k, m, mix))
    # phrasing overlap
    for w in (0.01, 0.02, 0.04):
        S.compare(replays, base, f"+{w} phrasing overlap", {**P, "overlap": w})
    for margin in (0.002, 0.005, 0.01):
        compare_ranks(replays, base, f"tie-break overlap within {margin}", tiebreak(margin))
    for C in (0.1, 1.0):
        reranker(replays, base, C)


if __name__ == "__main__":
    main()
