"""What a mail asks beyond its topic, four more readings, each set left out in turn.

Thirty-second session. Near-topic mails no article answers ("where is it???" or a Saturday
delivery -> the change-address article, a points transfer -> the points article) get the
topic's article at 0.80-0.99. The twenty-second to thirty-first sessions tried the request's
words, its kind against the article question's kind, its line's closeness and lead, the
answer's own embedding, the subject's words and the second English model. This bench tries the
readings the brief named that no session had:

    residual    a contrast: the mail's best line and the offered article, each less the centroid
                of the K articles of the language nearest the mail (the "near topic" they share),
                compared by cosine: a mail that only shares the neighbourhood's topic points
                elsewhere once the topic is taken out (K 3, 5, 8; article = its question row)
    res_lead    that residual cosine less the best other neighbour's
    qa_gap      the mail's best line against the article's question and phrasings (as queries,
                paraphrase) less against its answer alone (as a passage): a mail near the
                article's question but far from what its answer says asks something else
    answer_type the request line asks WHEN / HOW MUCH / WHERE (a wh-word or its Chinese twin)
                and the article's answer holds no expression of that type (a time or day, an
                amount or "free", a place): the classic QA answer-type check

each as a veto on the offers faq.matching made (parameters chosen on the other sets, the most
right offers less FALSE_WEIGHT per false offer, no veto on a tie) and the continuous ones also
as a seventh term of the mails' formula (bench/offer_features_loso.py's refit and cuts).

    .venv/bin/python bench/offer_causes.py /tmp/offer_causes.pkl
    .venv/bin/python bench/offer_contrast.py /tmp/offer_causes.pkl
"""

from __future__ import annotations

import argparse
import collections
import functools
import itertools
import logging
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import offer_features_loso as features_loso
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from offer_features_loso import (  # noqa: E402
    base_features,
    curve,
    left_out,
    made,
    out_of_fold,
    outcome,
    per_set_line,
)
from offer_request_checks import choose, report, request_line, trade_offs  # noqa: E402

from faq.search import markdown_to_text  # noqa: E402
from support.core.text import search_simplified  # noqa: E402

unweighted_fit = features_loso.fit

NEIGHBOURS = (3, 5, 8)
CEILINGS = (0.9, 0.95, 1.01)

#: What a request asks for (lower-cased Simplified text), and what an answer holds of that type.
ASKS = {
    "when": re.compile(
        r"什么时候|几时|多久|几天|哪天|周六|周日|周末|星期[六日天]|礼拜[六日天]|几点|"
        r"\bwhen\b|\bhow long\b|\bwhat time\b|\bwhich day|\bsaturday|\bsunday|\bweekend"
    ),
    "much": re.compile(
        r"多少钱|几钱|收费|费用|多少|\bhow much\b|\bcost\b|\bfee\b|\bprice\b|\bcharge"
    ),
    "where": re.compile(r"在哪|哪里|哪儿|边度|\bwhere\b"),
}
HOLDS = {
    "when": re.compile(
        r"\d|[一二三四五六七八九十两]\s*[天日周小个]|天内|小时|工作日|周[一二三四五六日末]|"
        r"星期|当天|次日|立即|马上|\bday|\bhour|\bweek|\bmonday|\bsaturday|\bsunday|\bweekend"
        r"|\bimmediately|\bsame day|\bnext day|\bwithin\b"
    ),
    "much": re.compile(r"\d|免费|包邮|元|¥|\bfree\b|\byuan\b|\brmb\b"),
    "where": re.compile(
        r"路|号|区|市|楼|页面|设置|我的订单|个人中心|app|\bpage\b|\bsettings?\b|\bstreet|\broad"
        r"|\bfloor|\bdistrict|\bunder\b|\bin (?:the|your)\b|\bat (?:the|our)\b"
    ),
}


def rows_of(data: dict) -> tuple[dict[int, int], list[int]]:
    position = {int(a): i for i, a in enumerate(data["vector_article_ids"].tolist())}
    return position, [*data["vector_starts"].tolist(), len(data["vector_matrix"])]


def residual_features(row: dict, data: dict, position: dict[int, int], ends: list[int]) -> dict:
    matrix = data["vector_matrix"]
    first = row["hits"][0]
    own = position[first["article_id"]]
    language = data["vector_languages"]
    best = row["per_line"].max(axis=1)  # per article, over the asking lines
    same = np.where(language == language[own])[0]
    line = row["queries"][int(np.argmax(row["per_line"][own]))]
    questions = matrix[[ends[i] for i in range(len(ends) - 1)]]  # each article's question row
    found = {}
    for k in NEIGHBOURS:
        near = same[np.argsort(-best[same])[:k]]
        centre = questions[near].mean(axis=0)
        query = line - centre
        query /= np.linalg.norm(query) or 1.0
        residuals = {}
        for i in set(near.tolist()) | {own}:
            article = questions[i] - centre
            residuals[i] = float(query @ article / (np.linalg.norm(article) or 1.0))
        found[f"residual{k}"] = residuals[own]
        others = [value for i, value in residuals.items() if i != own]
        found[f"res_lead{k}"] = residuals[own] - max(others, default=0.0)
    return found


def answer_embeddings(data: dict) -> dict[int, dict]:
    from faq.search.embedding import load_embedder

    embedder = load_embedder()
    assert embedder is not None, "the model must load"
    found = {}
    for article_id, article in data["articles"].items():
        answer = markdown_to_text(article["answer_md"]).strip()
        found[article_id] = {
            "answer": embedder.passages([answer])[0],
            "questions": embedder.queries([article["question"], *article["phrasings"]]),
            "answer_text": search_simplified(answer).lower(),
        }
    return found


def asked_types(row: dict) -> set[str]:
    text = search_simplified(request_line(row)).lower()
    return {name for name, pattern in ASKS.items() if pattern.search(text)}


def unheld_types(row: dict, texts: dict[int, dict]) -> set[str]:
    answer = texts[row["hits"][0]["article_id"]]["answer_text"]
    return {name for name in asked_types(row) if not HOLDS[name].search(answer)}


def confidence(row: dict) -> float:
    return row["matches"][0][1] if row["matches"] else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", type=Path, help="what bench/offer_causes.py wrote")
    parser.add_argument("--no-formula", action="store_true", help="vetoes only")
    parser.add_argument("--no-veto", action="store_true", help="the formula's term only")
    parser.add_argument("--names", help="comma-separated: only these continuous readings")
    parser.add_argument(
        "--negative-weights",
        help="comma-separated, e.g. 2,3: the six refitted with unanswerable mails weighing so much",
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data = pickle.loads(args.pickle.read_bytes())
    rows = data["rows"]
    sources = list(dict.fromkeys(row["source"] for row in rows))
    position, ends = rows_of(data)
    kept = args.pickle.with_suffix(".contrast.pkl")
    texts = pickle.loads(kept.read_bytes()) if kept.exists() else answer_embeddings(data)
    kept.write_bytes(pickle.dumps(texts))
    for row in rows:
        row["gate"] = bool(row.get("gated", 0) > 0) and row["says"]
        hits = row["hits"]
        if not hits or not hits[0]["semantic"] or hits[0]["article_id"] not in position:
            row["features"] = None
            continue
        first = hits[0]["article_id"]
        line = row["queries"][int(np.argmax(row["per_line"][position[first]]))]
        features = residual_features(row, data, position, ends)
        question = float((texts[first]["questions"] @ line).max())
        answer = float(texts[first]["answer"] @ line)
        features["qa_gap"] = question - answer
        features["answer_type"] = float(bool(unheld_types(row, texts)))
        row["features"] = features
        if row["gate"]:
            row["base"] = base_features(row)
            row["language"] = hits[0]["language"]
            row["slugs"] = [hit["slug"] for hit in hits]

    names = [f"residual{k}" for k in NEIGHBOURS] + [f"res_lead{k}" for k in NEIGHBOURS]
    names += ["qa_gap"]
    if args.names:
        names = args.names.split(",")
    offered = [row for row in rows if made(row) and row["features"] is not None]
    print("== offered first hits: medians by outcome (right / wrong / false) ==")
    for name in [*names, "answer_type"]:
        parts = []
        for result in ("right", "wrong", "false"):
            values = [r["features"][name] for r in offered if outcome(r, made(r)) == result]
            parts.append(f"{np.median(values):.3f} (n {len(values)})" if values else "-")
        print(f"{name:<12} " + " / ".join(parts))
    print("\n== answer types: offered first hits whose answer lacks the asked type ==")
    tally: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for row in offered:
        for name in unheld_types(row, texts):
            tally[name][outcome(row, made(row))] += 1
    for name, found in tally.items():
        print(f"{name:<6} {dict(found)}")
    for row in offered:
        if outcome(row, made(row)) == "false":
            print(
                f"  false {row['source'][-9:-6]:>4} {row['matches'][0][0]:<22}"
                f" {confidence(row):.3f} res5 {row['features']['residual5']:+.3f}"
                f" lead5 {row['features']['res_lead5']:+.3f} qa {row['features']['qa_gap']:+.3f}"
                f" types {sorted(unheld_types(row, texts))} {request_line(row)[:60]!r}"
            )

    for name in [] if args.no_veto else names:
        values = sorted(r["features"][name] for r in offered)
        floors = sorted(
            {round(float(np.quantile(values, q)), 4) for q in np.arange(0.01, 0.31, 0.01)}
        )
        grid = list(itertools.product(floors, CEILINGS))

        def rule(row: dict, p, name=name) -> bool:
            return (
                bool(made(row))
                and row["features"] is not None
                and row["features"][name] < p[0]
                and confidence(row) < p[1]
            )

        print(f"\n-- veto: {name} below a floor, confidence below a ceiling --")
        trade_offs(rows, grid, rule)
        report(name, rows, sources, lambda train, g=grid, r=rule: _chosen(train, g, r))
        print(f"  chosen in the folds: {dict(CHOSEN)}")
        CHOSEN.clear()

    def typed(row: dict, ceiling) -> bool:
        return (
            bool(made(row))
            and row["features"] is not None
            and row["features"]["answer_type"] > 0
            and confidence(row) < ceiling
        )

    if not args.no_veto:
        print("\n-- veto: the answer lacks the asked type, confidence below a ceiling --")
        trade_offs(rows, list(CEILINGS), typed)
        report("answer_type", rows, sources, lambda train: _chosen(train, list(CEILINGS), typed))
        print(f"  chosen in the folds: {dict(CHOSEN)}")
        CHOSEN.clear()

    if args.negative_weights:
        for row in rows:
            if row["gate"]:
                row["x"] = row["base"]
        for weight in [1.0, *map(float, args.negative_weights.split(","))]:
            features_loso.fit = functools.partial(weighted_fit, negative=weight)
            print(per_set_line(f"unanswerable x{weight}", left_out(rows, sources, "x")))
        features_loso.fit = unweighted_fit
    if args.no_formula:
        return
    print("\n== as a seventh term of the mails' formula ==")
    for row in rows:
        if row["gate"]:
            row["x"] = row["base"]
    out_of_fold(rows, sources, "x")
    print(f"{'the six refitted':<24} {curve(rows)}")
    print(per_set_line("the six refitted", left_out(rows, sources, "x")))
    for name in names:
        for row in rows:
            if row["gate"]:
                row["x"] = row["base"] + [row["features"][name]]
        out_of_fold(rows, sources, "x")
        print(f"{name:<24} {curve(rows)}")
        print(per_set_line(f"+ {name}", left_out(rows, sources, "x")))
        print(
            per_set_line(f"+ {name}, coverage kept", left_out(rows, sources, "x", matched="base"))
        )


def weighted_fit(rows: list[dict], key: str, *, negative: float) -> tuple[float, np.ndarray]:
    """bench/offer_features_loso.py's fit, with unanswerable mails' first hits weighing
    `negative` times (each set still weighing the same otherwise)."""
    gated = [row for row in rows if row["gate"]]
    x = np.array([row[key] for row in gated])
    y = np.array([row["hits"][0]["slug"] in {*row["expect"], *row["ok"]} for row in gated])
    per_source = collections.Counter(row["source"] for row in gated)
    weight = np.array(
        [
            len(gated)
            / len(per_source)
            / per_source[row["source"]]
            * (1.0 if row["expect"] else negative)
            for row in gated
        ]
    )
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(max_iter=5000).fit(scaler.transform(x), y, sample_weight=weight)
    coefficients = model.coef_[0] / scaler.scale_
    intercept = model.intercept_[0] - float((model.coef_[0] * scaler.mean_ / scaler.scale_).sum())
    return intercept, coefficients


CHOSEN: collections.Counter = collections.Counter()


def _chosen(train: list[dict], grid: list, rule):
    parameters = choose(train, grid, rule)
    CHOSEN[parameters] += 1
    return (lambda row: False) if parameters is None else (lambda row: rule(row, parameters))


if __name__ == "__main__":
    main()
