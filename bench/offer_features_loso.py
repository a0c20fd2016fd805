"""Candidate features for the mails' offer confidence, each set left out in turn.

Twenty-sixth session. Reads what bench/offer_causes.py wrote (every tuning mail's search:
calibration and hand-written sets 1-21; never a held-out set) and:

1. prints the offers as faq.matching made them, per set, and groups the false offers and the
   misses by cause (where the expected article was, which gate or cut stopped it);
2. replays the mails' formula (faq.matching.mail_confidence with the English second opinion,
   the unasked-words and action checks and the close second, as bench/mail_word_cosine.py does)
   and checks that the replay gives exactly faq.matching's offers;
3. adds one candidate feature at a time to the formula's six (cosine, Chinese, word search
   first, TF-IDF margin, model second, TF-IDF cosine), refits the logistic regression on all
   sets but one (each set weighing the same) and scores the one left out:
   - out of fold at fixed cuts (the same cut in both languages: a curve of right offers, false
     offers and wrong offers, free of the noise of choosing a cut);
   - with the cuts chosen per language on the other sets (the most right offers less
     FALSE_WEIGHT per false offer), as the formula's cuts were chosen;
   - with the cuts chosen so that the other sets keep the refitted formula's right offers (the
     brief's "fewer false offers without losing coverage").

Candidates (all from the model that is loaded anyway; none is a word list):
    answer_row   the mail's cosine to the article's "question + start of the answer" row alone
                 (the soft maximum over rows is led by the question and phrasing rows)
    answer       the mail's cosine to the article's whole answer, embedded as a passage
    sentences    the mail's best cosine to one sentence of the answer, as a passage
    answer_lead  `answer` less the best other article's of the same language
    questions    the mail embedded as a query against the question and phrasings embedded as
                 queries too (paraphrase, not retrieval)
    hub          how close the article's rows sit to the other articles' questions (mean of the
                 5 nearest): an article near everything attracts near-topic mails
    occlusion    (--occlusion, ~15 min) the most the first hit's similarity rises when one word
                 of the mail's best line that the article lacks is left out (a word that pulls
                 the mail away from the article)

    .venv/bin/python bench/offer_causes.py /tmp/offer_causes.pkl
    .venv/bin/python bench/offer_features_loso.py /tmp/offer_causes.pkl [--occlusion]
"""

from __future__ import annotations

import argparse
import collections
import logging
import math
import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from mail_word_cosine import offered as replay_offer  # noqa: E402

import faq.matching as matching  # noqa: E402
from faq.search import ENGLISH_STOP_WORDS, analyze, markdown_to_text  # noqa: E402
from faq.search.embedding import load_embedder  # noqa: E402
from faq.search.vectors import ROW_POOL_TEMPERATURE  # noqa: E402
from support.core.text import tagged_words, to_simplified  # noqa: E402

FALSE_WEIGHT = 2.0
CUTS = np.arange(0.4, 0.91, 0.025)
CURVE_CUTS = (0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
_SENTENCE_END = re.compile(r"(?<=[。！？；.!?;])\s*")
_ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'+-]*")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def read_causes(path: Path) -> tuple[dict, list[dict], list[str]]:
    """What bench/offer_causes.py wrote: the whole record, its mails and their sets in order."""
    logging.disable(logging.WARNING)
    data = pickle.loads(path.read_bytes())
    rows = data["rows"]
    return data, rows, list(dict.fromkeys(row["source"] for row in rows))


def outcome(row: dict, offers: list[str]) -> str:
    good = {*row["expect"], *row["ok"]}
    if row["expect"]:
        if any(slug in row["expect"] for slug in offers):
            return "right"
        return "wrong" if offers else "nothing"
    return "false" if any(slug not in good for slug in offers) else "ok"


def counts(rows: list[dict], offers_of: Callable[[dict], list[str]]) -> collections.Counter:
    found: collections.Counter = collections.Counter()
    for row in rows:
        offers = offers_of(row)
        good = {*row["expect"], *row["ok"]}
        found[outcome(row, offers)] += 1
        found["offers"] += len(offers)
        found["good"] += sum(slug in good for slug in offers)
        found["answerable"] += bool(row["expect"])
        found["unanswerable"] += not row["expect"]
    return found


def line(found: collections.Counter) -> str:
    return (
        f"expected offered {found['right']}/{found['answerable']}, false offers "
        f"{found['false']}/{found['unanswerable']}, precision {found['good']}/{found['offers']}, "
        f"only wrong {found['wrong']}"
    )


def per_set_line(name: str, per_set: dict[str, collections.Counter]) -> str:
    total = sum(per_set.values(), collections.Counter())
    over = sum(1 for c in per_set.values() if c["false"] / c["unanswerable"] > 0.10)
    short = sum(1 for c in per_set.values() if c["right"] / c["answerable"] < 0.70)
    return f"{name:<34} {line(total)}; sets above 0.10 false {over}, below 0.70 covered {short}"


def made(row: dict) -> list[str]:
    """The offers faq.matching made for the row (what bench/offer_causes.py recorded)."""
    return [slug for slug, _confidence, offer in row["matches"] if offer]


def cause(row: dict) -> str:
    """Why an answerable mail got no expected article."""
    hits = row["hits"]
    expected = set(row["expect"])
    where = next((i for i, hit in enumerate(hits) if hit["slug"] in expected), None)
    if not row["says"]:
        return "says nothing (no question, no problem)"
    if not hits or not hits[0]["semantic"] or not hits[0]["cosine"]:
        return "the model found no first hit"
    if where is None:
        return "expected article not among the hits"
    if where:
        return f"expected article is hit {where + 1}"
    if not row.get("gated"):
        return "right first hit, stopped by a rank gate"
    if row.get("beyond") and row["mail_confidence"] >= matching.OFFER_CONFIDENCE:
        return "right first hit, stopped by the unasked-words check"
    if row.get("action"):
        return "right first hit, stopped by the action check"
    return f"right first hit below the cut ({hits[0]['language']})"


# The replay of faq.matching's offer on recorded figures.


def base_features(row: dict) -> list[float]:
    hits = row["hits"]
    first = hits[0]
    margin = first["word_cosine"] - max((hit["word_cosine"] for hit in hits[1:]), default=0.0)
    return [
        first["cosine"],
        float(first["language"] == "zh"),
        float(first["lexical_rank"] == 1),
        margin,
        float(first["semantic_rank"] != 1),
        first["word_cosine"],
    ]


PRODUCTION = (
    matching.MAIL_CONFIDENCE_INTERCEPT,
    np.array(
        [
            matching.MAIL_CONFIDENCE_PER_COSINE,
            matching.MAIL_CONFIDENCE_CHINESE,
            matching.MAIL_CONFIDENCE_LEXICAL_FIRST,
            matching.MAIL_CONFIDENCE_PER_WORD_MARGIN,
            -matching.MAIL_CONFIDENCE_MODEL_SECOND,
            matching.MAIL_CONFIDENCE_PER_WORD_COSINE,
        ]
    ),
)


def replayed(row: dict, logit: float, cut: float) -> list[str]:
    """The row's offers for this logit of the formula and its language's cut (the English
    second opinion, the checks and the close second replayed by bench/mail_word_cosine.py as
    faq.matching.answers_for applies them)."""
    if not row["gate"]:
        return []
    probability = 1 / (1 + math.exp(-max(-30.0, min(30.0, logit))))
    return replay_offer(row, probability, cut)


def fit(rows: list[dict], key: str) -> tuple[float, np.ndarray]:
    gated = [row for row in rows if row["gate"]]
    x = np.array([row[key] for row in gated])
    y = np.array([row["hits"][0]["slug"] in {*row["expect"], *row["ok"]} for row in gated])
    per_source = collections.Counter(row["source"] for row in gated)
    weight = np.array([len(gated) / len(per_source) / per_source[row["source"]] for row in gated])
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(max_iter=5000).fit(scaler.transform(x), y, sample_weight=weight)
    coefficients = model.coef_[0] / scaler.scale_
    intercept = model.intercept_[0] - float((model.coef_[0] * scaler.mean_ / scaler.scale_).sum())
    return intercept, coefficients


def logit(row: dict, model: tuple[float, np.ndarray], key: str) -> float:
    return model[0] + float(np.dot(model[1], row[key]))


def language_values(rows: list[dict], model: tuple[float, np.ndarray], key: str) -> dict:
    """Per language and cut: right offers, false offers (the choice is separable by language)."""
    values = {lang: np.zeros((len(CUTS), 2)) for lang in ("en", "zh")}
    for row in rows:
        if not row["gate"]:
            continue
        value = logit(row, model, key)
        for j, cut in enumerate(CUTS):
            result = outcome(row, replayed(row, value, float(cut)))
            values[row["language"]][j] += (result == "right", result == "false")
    return values


def best_cuts(values: dict) -> dict[str, float]:
    return {
        lang: float(CUTS[int(np.argmax(v[:, 0] - FALSE_WEIGHT * v[:, 1]))])
        for lang, v in values.items()
    }


def left_out(rows: list[dict], sources: list[str], key: str, *, matched: str | None = None):
    """Each set left out in turn: fit and cuts on the others, figures on it. `matched`: the
    cuts instead keep, on the others, the right offers of the formula over that key's
    features with its own chosen cuts."""
    per_set = {}
    for source in sources:
        train = [row for row in rows if row["source"] != source]
        held = [row for row in rows if row["source"] == source]
        model = fit(train, key)
        values = language_values(train, model, key)
        cuts = best_cuts(values)
        if matched is not None:
            reference = fit(train, matched)
            kept = language_values(train, reference, matched)
            target = {
                lang: kept[lang][int(np.argmin(np.abs(CUTS - cut))), 0]
                for lang, cut in best_cuts(kept).items()
            }
            cuts = {
                lang: max(
                    (
                        float(c)
                        for c, v in zip(CUTS, values[lang][:, 0], strict=True)
                        if v >= target[lang]
                    ),
                    default=float(CUTS[0]),
                )
                for lang in values
            }
        per_set[source] = counts(
            held,
            lambda row, m=model, c=cuts: (
                replayed(row, logit(row, m, key), c[row["language"]]) if row["gate"] else []
            ),
        )
    return per_set


def out_of_fold(rows: list[dict], sources: list[str], key: str) -> None:
    for source in sources:
        model = fit([row for row in rows if row["source"] != source], key)
        for row in rows:
            if row["source"] == source and row["gate"]:
                row["oof"] = logit(row, model, key)


def curve(rows: list[dict]) -> str:
    parts = []
    for cut in CURVE_CUTS:
        found = counts(rows, lambda row, c=cut: replayed(row, row["oof"], c) if row["gate"] else [])
        parts.append(f"{cut:.2f}: {found['right']}/{found['false']}/{found['wrong']}")
    return "  ".join(parts)


# The candidate features.


def pooled(queries: np.ndarray, rows_of_article: np.ndarray) -> np.ndarray:
    """The soft maximum over an article's rows, per query (faq.search.vectors)."""
    spread = np.exp((queries @ rows_of_article.T) / ROW_POOL_TEMPERATURE)
    return ROW_POOL_TEMPERATURE * np.log(spread.mean(axis=1))


def candidate_features(data: dict, rows: list[dict], occlusion: bool) -> None:
    embedder = load_embedder()
    assert embedder is not None, "the model must load"
    articles = data["articles"]
    matrix = data["vector_matrix"]
    ends = [*data["vector_starts"].tolist(), len(matrix)]
    position = {int(a): i for i, a in enumerate(data["vector_article_ids"].tolist())}

    def rows_of(article_id: int) -> np.ndarray:
        p = position[article_id]
        return matrix[ends[p] : ends[p + 1]]

    texts = {}
    for article_id, article in articles.items():
        answer = markdown_to_text(article["answer_md"]).strip()
        sentences = [s.strip() for s in _SENTENCE_END.split(answer) if len(s.strip()) >= 4]
        texts[article_id] = {
            "answer": embedder.passages([answer]),
            "sentences": embedder.passages(sentences or [answer]),
            "questions": embedder.queries([article["question"], *article["phrasings"]]),
            "text": " ".join([article["question"], *article["phrasings"], answer]),
        }
    questions = {a: rows_of(a)[0] for a in position}
    hub = {}
    for article_id in position:
        language = articles[article_id]["language"]
        near = [
            float((rows_of(article_id) @ questions[other]).max())
            for other in position
            if other != article_id and articles[other]["language"] == language
        ]
        hub[article_id] = float(np.sort(near)[-5:].mean())
    same_language = {
        lang: [a for a in position if articles[a]["language"] == lang] for lang in ("en", "zh")
    }
    for row in rows:
        if not row["gate"]:
            continue
        queries = row["queries"]
        first = row["hits"][0]["article_id"]
        answer_of = {
            a: float((queries @ texts[a]["answer"].T).max()) for a in same_language[row["language"]]
        }
        row["candidates"] = {
            "answer_row": float((queries @ rows_of(first)[-1]).max()),
            "answer": answer_of[first],
            "sentences": float((queries @ texts[first]["sentences"].T).max()),
            "answer_lead": answer_of[first] - max(v for a, v in answer_of.items() if a != first),
            "questions": float((queries @ texts[first]["questions"].T).max()),
            "hub": hub[first],
            **margin_features(row, data, position),
        }
        if occlusion:
            row["candidates"]["occlusion"] = _occlusion(
                embedder, row, rows_of(first), texts[first]["text"]
            )


def margin_features(row: dict, data: dict, position: dict[int, int]) -> dict[str, float]:
    """Twenty-eighth session: how far the first hit leads and whether two signals agree.

    lead       the first hit's similarity (soft maximum over its rows, best asking line) less
               the best other article's of its language (per_line: articles x lines)
    standout   the engine's own: its similarity less the search's 5th nearest article's
    agree      the model and the word search both rank it first
    lex_recip  1 / the word search's rank (0 when the word search does not find it)
    """
    hits = row["hits"]
    first = hits[0]
    best = row["per_line"].max(axis=1)  # per article, over the mail's asking lines
    language = data["vector_languages"]
    own = position[first["article_id"]]
    others = [best[i] for i in range(len(best)) if i != own and language[i] == language[own]]
    lexical = first["lexical_rank"]
    return {
        "lead": float(best[own] - max(others)),
        "standout": float(first["standout"] or 0.0),
        "agree": float(first["semantic_rank"] == 1 and lexical == 1),
        "lex_recip": 1.0 / lexical if lexical else 0.0,
    }


def _occlusion(embedder, row: dict, article_rows: np.ndarray, article_text: str) -> float:
    lines = [part for part in row["focus"].splitlines() if part.strip()][: len(row["queries"])]
    best = int(np.argmax(pooled(row["queries"], article_rows)))
    text = lines[min(best, len(lines) - 1)]
    if _CJK.search(text):
        text = to_simplified(text)
        article = to_simplified(article_text)
        words = [
            w
            for w, _tag in tagged_words(text)
            if len(w) >= 2 and _CJK.search(w) and w not in article
        ]
    else:
        known = set(analyze(article_text))
        words = [
            m.group(0)
            for m in _ENGLISH_WORD.finditer(text)
            if m.group(0).lower() not in ENGLISH_STOP_WORDS
            and len(m.group(0)) >= 3
            and analyze(m.group(0).lower())
            and not any(term in known for term in analyze(m.group(0).lower()))
        ]
    base = float(pooled(embedder.queries([text]), article_rows)[0])
    rises = [0.0]
    for word in dict.fromkeys(words):
        if _CJK.search(word):
            shorter = text.replace(word, "", 1)
        else:
            shorter = re.sub(r"\b" + re.escape(word) + r"\b", " ", text, count=1)
        shorter = " ".join(shorter.split())
        if shorter:
            rises.append(float(pooled(embedder.queries([shorter]), article_rows)[0]) - base)
    return max(rises)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", type=Path, help="what bench/offer_causes.py wrote")
    parser.add_argument("--occlusion", action="store_true", help="the slow word-occlusion try")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data = pickle.loads(args.pickle.read_bytes())
    rows = data["rows"]
    sources = list(dict.fromkeys(row["source"] for row in rows))
    for row in rows:
        row["gate"] = bool(row.get("gated", 0) > 0) and row["says"]
        if row["gate"]:
            row["base"] = base_features(row)
            row["language"] = row["hits"][0]["language"]
            row["slugs"] = [hit["slug"] for hit in row["hits"]]  # what the replay offers

    print("== offers as faq.matching made them ==")
    made_per_set = {s: counts([r for r in rows if r["source"] == s], made) for s in sources}
    for source, found in made_per_set.items():
        print(f"{source:<36} {line(found)}")
    print(per_set_line("all", made_per_set))
    print("\n== misses by cause ==")
    causes = collections.Counter(
        cause(r) for r in rows if outcome(r, made(r)) in ("nothing", "wrong")
    )
    for reason, number in causes.most_common():
        print(f"{number:4}  {reason}")
    print("\n== false offers ==")
    for row in rows:
        if outcome(row, made(row)) == "false":
            first = row["matches"][0]
            print(f"{row['source']:<36} {first[0]:<22} {first[1]:.3f}  {row['focus'][:90]!r}")

    cuts = dict(matching.MAIL_LANGUAGE_CUTS)
    differ = sum(
        made(r)
        != (replayed(r, logit(r, PRODUCTION, "base"), cuts[r["language"]]) if r["gate"] else [])
        for r in rows
    )
    print(f"\nreplay of faq.matching's formula: {differ} mails differ from its offers")

    # The candidates' figures are kept beside the pickle (the occlusion takes ~15 minutes).
    kept = args.pickle.with_suffix(".candidates.pkl")
    if kept.exists():
        known = pickle.loads(kept.read_bytes())
        for row in rows:
            if row["gate"]:
                row["candidates"] = known[(row["source"], row["number"])]
    if not kept.exists() or (
        args.occlusion and "occlusion" not in next(row["candidates"] for row in rows if row["gate"])
    ):
        candidate_features(data, rows, args.occlusion)
        figures = {(r["source"], r["number"]): r["candidates"] for r in rows if r["gate"]}
        kept.write_bytes(pickle.dumps(figures))
    names = ["answer_row", "answer", "sentences", "answer_lead", "questions", "hub"]
    names += ["lead", "standout", "agree", "lex_recip"]
    names += ["occlusion"] if args.occlusion else []
    # (a cache made with --occlusion serves a run without it too)
    print("\n== out of fold, one cut for both languages: right / false / only wrong ==")
    for name in [None, *names]:
        for row in rows:
            if row["gate"]:
                row["x"] = row["base"] + ([row["candidates"][name]] if name else [])
        out_of_fold(rows, sources, "x")
        print(f"{name or 'the six features, refitted':<28} {curve(rows)}")
    print("\n== each set left out, cuts chosen on the others ==")
    for row in rows:
        if row["gate"]:
            row["x"] = row["base"]
    print(per_set_line("the six features, refitted", left_out(rows, sources, "x")))
    for name in names:
        for row in rows:
            if row["gate"]:
                row["x"] = row["base"] + [row["candidates"][name]]
        print(per_set_line(f"+ {name}", left_out(rows, sources, "x")))
        print(
            per_set_line(f"+ {name}, coverage kept", left_out(rows, sources, "x", matched="base"))
        )


if __name__ == "__main__":
    main()
