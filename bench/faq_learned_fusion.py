"""A learned fusion, left one FAQ out, on the TUNING sets' recordings (bench/faq_fusion_replay.py).

Per candidate of a search (the word search's hits and the semantic candidates): its similarity
and its gap to the best one, its cosine, its TF-IDF cosine (faq.search.terms) and its gap to the
best one, 1 / (10 + BM25 rank), its BM25 score over the best one, 1 / (10 + TF-IDF rank). A
logistic regression (standardised features, each set weighing the same) is fitted on three FAQs
and ranks the fourth's candidates by its score; R@1 per set over the answerable questions the
model has candidates for. Compare with `bench/faq_tfidf_fusion.py --config product` (sim+0.15).

    .venv/bin/python bench/faq_learned_fusion.py /tmp/zh_telecom.pkl /tmp/en_budget.pkl \
        /tmp/zh_shop.pkl /tmp/demo.pkl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faq_fusion_replay import Recorded, Searched, load
from faq_tfidf_fusion import product_tfidf, tfidf_scores

Item = tuple[list[int], np.ndarray, np.ndarray]  # candidates, features, is it the expected one


def features(rec: Recorded, s: Searched, tfidf: np.ndarray, position: dict[int, int]) -> Item:
    lexical = {a: i for i, a in enumerate(s.lexical, start=1)}
    candidates = list(dict.fromkeys([*s.semantic, *s.lexical]))
    top = max(s.lexical_scores, default=1.0) or 1.0
    bm25 = dict(zip(s.lexical, s.lexical_scores, strict=True))
    tfidf_rank = {
        int(rec.article_ids[i]): r for r, i in enumerate(np.argsort(-tfidf)[:50], start=1)
    }
    sims = np.array([s.similarities[position[a]] for a in candidates])
    rows = []
    for a, sim in zip(candidates, sims, strict=True):
        i = position[a]
        rows.append(
            [
                sim,
                sim - sims.max(),
                float(s.cosines[i]),
                float(tfidf[i]),
                float(tfidf[i]) - float(tfidf.max()),
                1.0 / (10 + lexical[a]) if a in lexical else 0.0,
                bm25.get(a, 0.0) / top,
                1.0 / (10 + tfidf_rank[a]) if a in tfidf_rank else 0.0,
            ]
        )
    return candidates, np.array(rows), np.zeros(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recordings", nargs="+", type=Path)
    parser.add_argument("--c", type=float, nargs="+", default=[1.0, 100.0])
    args = parser.parse_args()
    groups: dict[str, list[tuple[str, list[Item]]]] = {}
    for path in args.recordings:
        rec = load(path)
        words = product_tfidf(rec)
        position = {int(a): i for i, a in enumerate(rec.article_ids.tolist())}
        slug = {d.article_id: d.slug for d in rec.docs}
        for name, questions in rec.files.items():
            items: list[Item] = []
            for q in questions:
                s = q.ranked
                if not q.expected or s is None or not s.semantic:
                    continue
                tfidf = tfidf_scores(words, len(rec.article_ids), s.text, s.language or "en")
                candidates, x, _ = features(rec, s, tfidf, position)
                items.append((candidates, x, np.array([slug[a] == q.expected for a in candidates])))
            answerable = sum(1 for q in questions if q.expected)
            print(f"{name}: {len(items)} of {answerable} answerable questions have candidates")
            groups.setdefault(rec.name, []).append((name, items))
    for c in args.c:
        found = []
        for held in groups:
            xs, ys, weights = [], [], []
            for group, files in groups.items():
                if group == held:
                    continue
                for _name, items in files:
                    weight = 1000.0 / sum(len(x) for _, x, _ in items)
                    for _, x, y in items:
                        xs.append(x)
                        ys.append(y)
                        weights.append(np.full(len(y), weight))
            model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
            model.fit(
                np.vstack(xs),
                np.concatenate(ys),
                logisticregression__sample_weight=np.concatenate(weights),
            )
            for name, items in groups[held]:
                right = sum(
                    bool(y[int(np.argmax(model.decision_function(x)))]) for _, x, y in items
                )
                found.append((name, right / len(items)))
        mean = float(np.mean([r for _, r in found]))
        print(f"C={c:g} MEAN {mean:.4f} | " + " | ".join(f"{n} {r:.3f}" for n, r in found))


if __name__ == "__main__":
    main()
