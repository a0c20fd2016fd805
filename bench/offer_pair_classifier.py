"""A learned re-check of the mails' offers: does THIS article answer THIS mail? Each set left out.

Thirty-third session (h-offers-s33). The false offers left are near-topic mails: they talk
about an article's topic but ask a detail it does not answer ("Can I pick the courier?" to the
change-address article). Scalar scores (cosine, margins, contrast, thresholds) were tried in
earlier sessions (bench/offer_features_loso.py, offer_contrast.py, offer_gates.py, ...); this
tries a pair classifier over the bundled e5 model's vectors themselves: for each (mail, candidate
article) pair, the elementwise product and absolute difference of the mail's best-matching line
and the article's vector, plus the search's scalar scores, in a logistic regression trained to
say "this article answers this mail" (label: the article is in the mail's `expect` or `ok`;
negatives: every other candidate the search put in its first three, near-topic ones included).

Read from what bench/offer_causes.py wrote (every tuning mail's search, its lines' embeddings
and every article's rows). Evaluated as the product would use it: a veto on faq.matching's
offers (an offered hit whose probability is below a cut is not offered), and, as a variant, the
classifier's probability alone deciding the first hit's offer. Each hand-written set and the
calibration set is left out in turn (set 27, when the pickle has it, is left out of all
training and scored last, once); the regularisation C and the cut are chosen on the other sets
only (inner folds over sets). Today's decision is compared at equal coverage: its confidence cut
raised until it offers no more right articles than the veto does.

    .venv/bin/python bench/offer_causes.py /tmp/offer_causes.pkl   (add set 27: see --help)
    .venv/bin/python bench/offer_pair_classifier.py /tmp/offer_causes.pkl
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from faq.offer_check import WEIGHTS_FILE, PairCheck, pair_features, write_check  # noqa: E402
from faq.search.embedding import DEFAULT_MODEL, load_embedder  # noqa: E402

FINAL = "offer_mails_handwritten_27.jsonl"
CS = (0.003, 0.01, 0.03, 0.1)
CUTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
#: What --write uses: chosen on the tuning sets left out in turn (each set's most right offers
#: less FALSE_WEIGHT per false offer at C 0.003 over the cuts: 0.25-0.30; the product's cut).
WRITE_C = 0.003
WRITE_CUT = 0.3
FALSE_WEIGHT = 2.0  # a false offer costs as much as two right offers lost, when choosing a cut


@dataclass
class Pair:
    """One candidate article of one mail."""

    mail: int  # index into the rows
    slug: str
    position: int  # 0: the search's first hit
    offered: bool  # faq.matching offered it
    confidence: float
    good: bool  # the mail's expect or ok has it
    features: np.ndarray


def article_vectors(data: dict) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Per article id: its rows and its normalised centroid."""
    matrix, starts = data["vector_matrix"], data["vector_starts"]
    ends = np.append(starts[1:], len(matrix))
    rows, centroids = {}, {}
    for article_id, start, end in zip(
        data["vector_article_ids"].tolist(), starts, ends, strict=True
    ):
        part = matrix[start:end]
        rows[article_id] = part
        mean = part.mean(axis=0)
        centroids[article_id] = mean / max(float(np.linalg.norm(mean)), 1e-6)
    return rows, centroids


def build_pairs(data: dict) -> list[Pair]:
    rows_by_article, centroids = article_vectors(data)
    ids = {info["slug"]: article_id for article_id, info in data["articles"].items()}
    pairs = []
    for index, row in enumerate(data["rows"]):
        hits = row["hits"]
        if not hits or not hits[0]["semantic"] or not len(row["queries"]):
            continue
        good = set(row["expect"]) | set(row["ok"])
        matched = {slug: (confidence, offer) for slug, confidence, offer in row["matches"]}
        queries = np.atleast_2d(row["queries"]).astype(np.float32)
        for position, hit in enumerate(hits):
            article_id = ids[hit["slug"]]
            confidence, offer = matched.get(hit["slug"], (0.0, False))
            pairs.append(
                Pair(
                    index,
                    hit["slug"],
                    position,
                    bool(offer),
                    float(confidence),
                    hit["slug"] in good,
                    pair_features(
                        queries,
                        rows_by_article[article_id],
                        centroids[article_id],
                        (
                            hit["cosine"],
                            hit["similarity"],
                            hit["standout"],
                            hit["word_cosine"],
                            hit["lexical_rank"],
                            hit["semantic_rank"],
                            hit["language"],
                        ),
                        position,
                    ),
                )
            )
    return pairs


def embedding_model_id() -> str:
    """The bundled model's id, as the article vectors carry it."""
    embedder = load_embedder(DEFAULT_MODEL)
    assert embedder is not None, "the bundled model must load to write the check"
    return embedder.model_id


def fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=3000).fit(scaler.transform(x), y)
    return scaler, model


def predict(fitted: tuple[StandardScaler, LogisticRegression], x: np.ndarray) -> np.ndarray:
    scaler, model = fitted
    return model.predict_proba(scaler.transform(x))[:, 1]


@dataclass
class Score:
    right: int = 0  # answerable mails offered an expected article
    answerable: int = 0
    false: int = 0  # unanswerable mails offered an article not ok
    unanswerable: int = 0
    good_offers: int = 0
    offers: int = 0

    def add(self, other: Score) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self) -> str:
        coverage = self.right / max(self.answerable, 1)
        precision = self.good_offers / max(self.offers, 1)
        false = self.false / max(self.unanswerable, 1)
        return (
            f"coverage {coverage:.3f} ({self.right}/{self.answerable})  precision {precision:.3f} "
            f"({self.good_offers}/{self.offers})  false offers {false:.3f} "
            f"({self.false}/{self.unanswerable})"
        )

    def utility(self) -> float:
        return self.right - FALSE_WEIGHT * self.false


def score(rows: Sequence[dict], mails: Sequence[int], offered: dict[int, set[str]]) -> Score:
    """The brief's three figures over these mails, given what each was offered."""
    result = Score()
    for index in mails:
        row = rows[index]
        good = set(row["expect"]) | set(row["ok"])
        offers = offered.get(index, set())
        result.offers += len(offers)
        result.good_offers += len(offers & good)
        if row["expect"]:
            result.answerable += 1
            result.right += bool(offers & set(row["expect"]))
        else:
            result.unanswerable += 1
            result.false += bool(offers - good)
    return result


def today(rows: Sequence[dict], mails: Sequence[int]) -> dict[int, set[str]]:
    return {i: {slug for slug, _c, offer in rows[i]["matches"] if offer} for i in mails}


def raised(rows: Sequence[dict], mails: Sequence[int], cut: float) -> dict[int, set[str]]:
    """Today's offers with the confidence cut raised to `cut` (the threshold alone)."""
    return {i: {slug for slug, c, offer in rows[i]["matches"] if offer and c >= cut} for i in mails}


def decided(
    pairs: Sequence[Pair],
    chances: np.ndarray,
    mails: Sequence[int],
    keep: Callable[[Pair, float], bool],
) -> dict[int, set[str]]:
    """Each of `mails`' candidates that `keep` offers, given the classifier's chance."""
    wanted = set(mails)
    result: dict[int, set[str]] = {i: set() for i in mails}
    for pair, chance in zip(pairs, chances, strict=True):
        if pair.mail in wanted and keep(pair, float(chance)):
            result[pair.mail].add(pair.slug)
    return result


def vetoed(
    pairs: Sequence[Pair], chances: np.ndarray, mails: Sequence[int], cut: float
) -> dict[int, set[str]]:
    """Today's offers less those the classifier gives less than `cut`."""
    return decided(pairs, chances, mails, lambda pair, chance: pair.offered and chance >= cut)


def alone(
    pairs: Sequence[Pair], chances: np.ndarray, mails: Sequence[int], cut: float
) -> dict[int, set[str]]:
    """The classifier alone deciding the first hit's offer (today's second offers kept)."""
    return decided(
        pairs,
        chances,
        mails,
        lambda pair, chance: (
            (pair.position == 0 and chance >= cut) or (pair.position > 0 and pair.offered)
        ),
    )


def out_of_fold(
    pairs: Sequence[Pair],
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    train: np.ndarray,
    predict_on: np.ndarray,
    c: float,
) -> np.ndarray:
    """Chances for `predict_on` from a fit on `train` (boolean masks over pairs)."""
    fitted = fit(x[train], y[train], c)
    return predict(fitted, x[predict_on])


def left_out(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, sets: Sequence[str], c: float
) -> np.ndarray:
    """Each pair's chance from a fit on the other `sets` (0 for pairs of no set in `sets`)."""
    chances = np.zeros(len(x))
    for held in sets:
        inner = groups == held
        train = np.isin(groups, [s for s in sets if s != held])
        chances[inner] = predict(fit(x[train], y[train], c), x[inner])
    return chances


def choose(
    rows: Sequence[dict],
    pairs: Sequence[Pair],
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    sets: Sequence[str],
    mail_sets: dict[int, str],
) -> tuple[float, float, float]:
    """C and the veto's and the alone variant's cuts, by inner leave-one-set-out over `sets`."""
    best: tuple[float, float, float, float, float] | None = None
    for c in CS:
        chances = left_out(x, y, groups, sets, c)
        mails = [i for i, s in mail_sets.items() if s in sets]
        veto = max(
            CUTS, key=lambda cut: score(rows, mails, vetoed(pairs, chances, mails, cut)).utility()
        )
        veto_utility = score(rows, mails, vetoed(pairs, chances, mails, veto)).utility()
        solo = max(
            np.arange(0.3, 0.91, 0.05),
            key=lambda cut: score(rows, mails, alone(pairs, chances, mails, cut)).utility(),
        )
        if best is None or veto_utility > best[0]:
            best = (veto_utility, c, veto, float(solo), 0.0)
    assert best is not None
    return best[1], best[2], best[3]


def topic(slug: str) -> str:
    return slug.rsplit("-", 1)[0]


def topics_out(
    rows: Sequence[dict], pairs: Sequence[Pair], x: np.ndarray, y: np.ndarray, mails: list[int]
) -> None:
    """Whether it learns "answers" or only the demo's 30 topics: topics left out in 5 folds
    (a fold's mails are those whose first hit is of its topics; training has no pair of an
    article of its topics, nor its mails), as a deployment's own FAQ would meet it."""
    first = {pair.mail: topic(pair.slug) for pair in pairs if pair.position == 0}
    names = sorted(set(first.values()))
    rng = np.random.default_rng(33)
    order = rng.permutation(len(names))
    folds = [{names[i] for i in order[k::5]} for k in range(5)]
    pair_topics = np.array([topic(pair.slug) for pair in pairs])
    pair_mails = np.array([pair.mail for pair in pairs])
    for c in CS:
        chances = np.zeros(len(pairs))
        for fold in folds:
            test_mails = [i for i in mails if first.get(i) in fold]
            test = np.isin(pair_mails, test_mails)
            train = ~np.isin(pair_topics, list(fold)) & ~test & np.isin(pair_mails, mails)
            chances[test] = predict(fit(x[train], y[train], c), x[test])
        print(f"\nC = {c}: topics left out (5 folds), the veto at fixed cuts")
        for cut in CUTS:
            veto = score(rows, mails, vetoed(pairs, chances, mails, cut))
            print(f"  veto below {cut:.2f}: {veto.line()}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "causes", type=Path, nargs="+", help="what bench/offer_causes.py wrote (one or more runs)"
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help=f"fit on all tuning sets (C {WRITE_C}, cut {WRITE_CUT}), write {WEIGHTS_FILE.name}",
    )
    parser.add_argument(
        "--inner", action="store_true", help="choose C and cuts in inner folds (slow)"
    )
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    data = pickle.loads(args.causes[0].read_bytes())
    for more in args.causes[1:]:  # runs over other sets, on the same articles
        data["rows"] += pickle.loads(more.read_bytes())["rows"]
    rows = data["rows"]
    pairs = build_pairs(data)
    x = np.stack([pair.features for pair in pairs])
    y = np.array([pair.good for pair in pairs])
    groups = np.array([rows[pair.mail]["source"] for pair in pairs])
    mail_sets = {i: row["source"] for i, row in enumerate(rows)}
    sets = [s for s in dict.fromkeys(row["source"] for row in rows) if s != FINAL]
    if args.write:
        train = np.isin(groups, sets)
        scaler, model = fit(x[train], y[train], WRITE_C)
        check = PairCheck(
            embedding_model_id(),
            scaler.mean_.astype(np.float32),
            scaler.scale_.astype(np.float32),
            model.coef_[0].astype(np.float32),
            float(model.intercept_[0]),
            WRITE_CUT,
        )
        write_check(WEIGHTS_FILE, check)
        print(f"wrote {WEIGHTS_FILE} from {int(train.sum())} pairs of {len(sets)} sets")
        return
    print(f"{len(rows)} mails, {len(pairs)} pairs ({int(y.sum())} good), {x.shape[1]} features")
    tuning = [i for i, s in mail_sets.items() if s in sets]
    base = score(rows, tuning, today(rows, tuning))
    print(f"today, sets left out in turn (no fitting): {base.line()}")
    for c in CS:
        chances = left_out(x, y, groups, sets, c)
        print(f"\nC = {c}: each set left out, the veto at fixed cuts")
        for cut in CUTS:
            veto = score(rows, tuning, vetoed(pairs, chances, tuning, cut))
            print(f"  veto below {cut:.2f}: {veto.line()}")
        for cut in (0.4, 0.5, 0.6, 0.7, 0.8):
            solo = score(rows, tuning, alone(pairs, chances, tuning, cut))
            print(f"  alone at {cut:.2f}:   {solo.line()}")
    print("\ntoday's confidence cut raised (the threshold alone):")
    for cut in (0.8, 0.85, 0.9, 0.925, 0.95, 0.97, 0.98, 0.99):
        print(f"  offer from {cut:.3f}: {score(rows, tuning, raised(rows, tuning, cut)).line()}")
    if args.inner:
        total_veto, total_solo = Score(), Score()
        for held in sets:
            others = [s for s in sets if s != held]
            c, veto_cut, solo_cut = choose(rows, pairs, x, y, groups, others, mail_sets)
            held_mask = groups == held
            chances = np.zeros(len(pairs))
            chances[held_mask] = out_of_fold(
                pairs, x, y, groups, np.isin(groups, others), held_mask, c
            )
            mails = [i for i, s in mail_sets.items() if s == held]
            one = score(rows, mails, vetoed(pairs, chances, mails, veto_cut))
            total_veto.add(one)
            total_solo.add(score(rows, mails, alone(pairs, chances, mails, solo_cut)))
            print(f"  {held}: C {c} veto cut {veto_cut} alone cut {solo_cut:.2f}: {one.line()}")
        print(f"nested, veto: {total_veto.line()}")
        print(f"nested, alone: {total_solo.line()}")
    topics_out(rows, pairs, x, y, tuning)
    final = [i for i, s in mail_sets.items() if s == FINAL]
    if final:
        print(f"\nfinal check, {FINAL} (never trained on):")
        print(f"  today:      {score(rows, final, today(rows, final)).line()}")
        train = np.isin(groups, sets)
        held_mask = groups == FINAL
        c, veto_cut, solo_cut = (
            choose(rows, pairs, x, y, groups, sets, mail_sets) if args.inner else (0.01, 0.2, 0.6)
        )
        chances = np.zeros(len(pairs))
        chances[held_mask] = out_of_fold(pairs, x, y, groups, train, held_mask, c)
        veto = score(rows, final, vetoed(pairs, chances, final, veto_cut))
        solo = score(rows, final, alone(pairs, chances, final, solo_cut))
        print(f"  veto below {veto_cut}: {veto.line()}")
        print(f"  alone at {solo_cut:.2f}: {solo.line()}")


if __name__ == "__main__":
    main()
