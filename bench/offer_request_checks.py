"""Checks of a mail's request against its offered article, each set left out in turn.

Twenty-ninth session. Near-topic mails (the words of an article's topic, another need: parking
at the showroom, a repair's progress, a warranty passed to a buyer) get the topic's article at
0.80-0.99. The twenty-second to twenty-eighth sessions tried the request's words, the request
line's closeness and the answer's embedding as terms of the mails' formula; this bench tries
the ideas left, each as a veto on the offer faq.matching made (the first hit, and the close
second with it), with its parameters chosen on the other sets (the most right offers less
FALSE_WEIGHT per false offer; no veto on a tie):

    intent      the request's kind (how-to, yes/no, how long or much, status of my case,
                complaint, why, a statement) against the article question's kind; the pairs
                vetoed are those whose offers on the other sets were false more often than
                FALSE_WEIGHT times less than right (at least MIN_PAIR_OFFERS offers)
    line_rank   the request line alone (the last line faq.search.focus keeps, as
                faq.search.request_words reads it) puts another article of the language ahead
                of the offered one by more than a margin
    line_floor  the request line's similarity to the offered article (soft maximum over its
                rows, as the search's) below a floor
    en_unasked  an English request names K or more words (stemmed, no stop words) the
                article's question, phrasings and answer lack, and the confidence is below C
                (the English twin of faq.matching.asks_beyond)
    per_article a cut of the article's own (both languages' versions), chosen on its offers
                in the other sets: do near-topic mails gather on the same articles set after set?

Reads what bench/offer_causes.py wrote (calibration and hand-written sets 1-23; never a
held-out set) and prints, per check, the offers before and after per set and pooled, left out
and fitted on all.

    .venv/bin/python bench/offer_causes.py /tmp/offer_causes.pkl
    .venv/bin/python bench/offer_request_checks.py /tmp/offer_causes.pkl
"""

from __future__ import annotations

import argparse
import collections
import itertools
import logging
import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from offer_features_loso import counts, made, outcome  # noqa: E402

from faq.search import ENGLISH_STOP_WORDS, analyze, markdown_to_text  # noqa: E402
from support.core.text import search_simplified  # noqa: E402

FALSE_WEIGHT = 2.0
MIN_PAIR_OFFERS = 3
#: The per-article cuts tried (a cut learned per article from its offers on the other sets).
ARTICLE_CUTS = [0.85, 0.9, 0.95, 0.98]

# The kinds of question, first match wins (lower-cased Simplified text).
KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "complaint",
        re.compile(
            r"投诉|态度.{0,2}差|生气|太过分|\bcomplain|\brude\b|\bunacceptable\b|disappoint"
        ),
    ),
    (
        "status",
        re.compile(
            r"到哪|进度|怎么还没|还没|到底.{0,8}没|好了没|去哪了|去哪里|\bwhere (?:is|are) my\b"
            r"|\bany (?:news|update)|\bstatus\b|\bprogress\b|\bstill (?:not|no|waiting|haven)"
            r"|\bwhat happened to\b|\bhas (?:it|my \w+) been\b"
        ),
    ),
    ("why", re.compile(r"为什么|点解|\bwhy\b")),
    (
        "howto",
        re.compile(
            r"怎么|如何|怎样|点样|点算|\bhow (?:do|can|should|would) (?:i|we|you)\b|\bhow to\b"
            r"|\bwhat (?:should|do) i do\b|\bwhat can i do\b"
        ),
    ),
    (
        "amount",
        re.compile(
            r"多久|多少|几天|几多|几时|什么时候|\bhow (?:long|much|many|soon|often)\b|\bwhen\b"
        ),
    ),
    (
        "yesno",
        re.compile(
            r"能不能|可不可以|可以|能否|是否|有没有|可唔可以|有冇|得唔得|[吗嘛吧][？?]?$"
            r"|^(?:can|could|may|is|are|do|does|did|will|would|should|have|has)\b"
            r"|\b(?:can|could|may) (?:i|we|you)\b|\bis (?:it|there)\b|\bdo you\b|\bdoes\b"
        ),
    ),
]


def kind(text: str) -> str:
    text = search_simplified(text).lower().strip()
    return next((name for name, pattern in KINDS if pattern.search(text)), "statement")


def request_line(row: dict) -> str:
    lines = row["focus"].splitlines()
    return lines[-1] if lines else ""


# The checks: each a function (row, parameters) -> whether the offer is vetoed, with the grid
# of parameters to choose from; the intent check learns its pairs instead.


def line_figures(row: dict, data: dict, position: dict[int, int]) -> tuple[float, float]:
    """The request line's similarity to the offered article and the best other article's of
    the language (the last column of per_line: one per focus line)."""
    first = row["hits"][0]
    column = row["per_line"][:, -1]
    own = position[first["article_id"]]
    same = np.array(
        [
            data["articles"][aid]["language"] == first["language"]
            for aid in data["vector_article_ids"]
        ]
    )
    others = np.where(same & (np.arange(len(column)) != own), column, -1.0)
    return float(column[own]), float(others.max())


def english_unasked(row: dict, data: dict) -> int:
    first = row["hits"][0]
    if first["language"] != "en":
        return 0
    article = data["articles"][first["article_id"]]
    text = " ".join(
        (article["question"], *article["phrasings"], markdown_to_text(article["answer_md"]))
    )
    known = set(analyze(text))
    words = [
        word
        for word in dict.fromkeys(analyze(request_line(row)))
        if word not in ENGLISH_STOP_WORDS and not word.isdigit() and len(word) > 2
    ]
    return sum(word not in known for word in words)


def offered_after(row: dict, veto: bool) -> list[str]:
    return [] if veto else made(row)


def score(rows: list[dict], vetoed: Callable[[dict], bool]) -> float:
    found = counts(rows, lambda row: offered_after(row, vetoed(row)))
    return found["right"] - FALSE_WEIGHT * found["false"]


def choose(rows: list[dict], grid: list, rule: Callable[[dict, object], bool]):
    """The grid's parameters with the best score on these rows (None, no veto, wins ties)."""
    best, best_score = None, score(rows, lambda row: False)
    for parameters in grid:
        value = score(rows, lambda row, p=parameters: rule(row, p))
        if value > best_score:
            best, best_score = parameters, value
    return best


def trade_offs(rows: list[dict], grid: list, rule: Callable[[dict, object], bool]) -> None:
    """Fitted on all: what each of the grid's vetoes takes, the five that take most false
    offers (right offers lost, false offers removed)."""
    before = counts(rows, made)
    found = []
    for parameters in grid:
        after = counts(rows, lambda row, p=parameters: offered_after(row, rule(row, p)))
        found.append(
            (before["false"] - after["false"], before["right"] - after["right"], parameters)
        )
    found.sort(key=lambda item: (-item[0], item[1]))
    print(
        "  fitted on all, most false offers removed: "
        + "; ".join(
            f"{parameters}: -{lost} right, -{removed} false"
            for removed, lost, parameters in found[:5]
        )
    )


def pairs_to_veto(rows: list[dict]) -> frozenset[tuple[str, str]]:
    """The (request kind, article kind) pairs whose offers here were false or wrong often."""
    tally: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for row in rows:
        if not made(row):
            continue
        tally[row["pair"]][outcome(row, made(row))] += 1
    return frozenset(
        pair
        for pair, found in tally.items()
        if sum(found.values()) >= MIN_PAIR_OFFERS and FALSE_WEIGHT * found["false"] > found["right"]
    )


def report(name: str, rows: list[dict], sources: list[str], fold_veto) -> None:
    """Per set and pooled, before and with the veto chosen on the other sets."""
    before_all: collections.Counter = collections.Counter()
    after_all: collections.Counter = collections.Counter()
    print(f"\n== {name}: each set left out (before -> after) ==")
    for source in sources:
        held = [row for row in rows if row["source"] == source]
        train = [row for row in rows if row["source"] != source]
        vetoed = fold_veto(train)
        before = counts(held, made)
        after = counts(held, lambda row, v=vetoed: offered_after(row, v(row)))
        before_all += before
        after_all += after
        if before != after:
            print(f"  {source:<36} {short(before)} -> {short(after)}")
    print(f"  pooled: {short(before_all)} -> {short(after_all)}")
    print(f"          {ratios(before_all)} -> {ratios(after_all)}")


def short(found: collections.Counter) -> str:
    return (
        f"right {found['right']}/{found['answerable']}, false {found['false']}/"
        f"{found['unanswerable']}, precision {found['good']}/{found['offers']}"
    )


def ratios(found: collections.Counter) -> str:
    return (
        f"coverage {found['right'] / found['answerable']:.3f}, precision "
        f"{found['good'] / max(found['offers'], 1):.3f}, "
        f"false {found['false'] / found['unanswerable']:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", type=Path, help="what bench/offer_causes.py wrote")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data = pickle.loads(args.pickle.read_bytes())
    rows = data["rows"]
    sources = list(dict.fromkeys(row["source"] for row in rows))
    position = {int(aid): i for i, aid in enumerate(data["vector_article_ids"])}
    for row in rows:
        if not made(row):
            continue
        first = row["hits"][0]
        article = data["articles"][first["article_id"]]
        row["pair"] = (kind(request_line(row)), kind(article["question"]))
        row["line"] = line_figures(row, data, position)
        row["en_unasked"] = english_unasked(row, data)
        row["confidence"] = row["matches"][0][1]
        row["topic"] = first["slug"].rsplit("-", 1)[0]  # both languages' article

    print("== offered first hits by (request kind, article question kind): right / false / wrong")
    tally: dict = collections.defaultdict(collections.Counter)
    for row in rows:
        if made(row):
            tally[row["pair"]][outcome(row, made(row))] += 1
    for pair, found in sorted(tally.items(), key=lambda item: -sum(item[1].values())):
        figures = f"{found['right']:4} {found['false']:3} {found['wrong']:3}"
        print(f"  {pair[0]:>9} / {pair[1]:<9} {figures}")
    print("\n== false offers' kinds ==")
    for row in rows:
        if made(row) and outcome(row, made(row)) == "false":
            print(f"  {row['pair']}  {request_line(row)[:100]!r}")

    def intent(train: list[dict]):
        veto = pairs_to_veto(train)
        return lambda row: bool(made(row)) and row["pair"] in veto

    print("\nintent pairs vetoed, fitted on all:", sorted(pairs_to_veto(rows)))
    report("intent", rows, sources, intent)
    pairs = sorted(tally, key=lambda pair: -tally[pair]["false"])[:6]
    trade_offs(
        rows, [frozenset([pair]) for pair in pairs], lambda row, veto: row.get("pair") in veto
    )

    def grid_check(grid: list, rule: Callable[[dict, object], bool]):
        def fold(train: list[dict]):
            chosen = choose(train, grid, rule)
            if chosen is None:
                return lambda row: False
            return lambda row: rule(row, chosen)

        return fold

    def line_rank(row: dict, margin) -> bool:
        return (
            bool(made(row))
            and row["line"][1] - row["line"][0] > margin[0]
            and (row["confidence"] < margin[1])
        )

    ranks = list(itertools.product([0.0, 0.005, 0.01, 0.02, 0.03], [0.9, 0.95, 1.01]))
    print("line_rank fitted on all:", choose(rows, ranks, line_rank))
    report("line_rank", rows, sources, grid_check(ranks, line_rank))
    trade_offs(rows, ranks, line_rank)

    def line_floor(row: dict, floor) -> bool:
        return bool(made(row)) and row["line"][0] < floor[0] and row["confidence"] < floor[1]

    floors = list(itertools.product([0.80, 0.82, 0.84, 0.86, 0.88], [0.9, 0.95, 1.01]))
    print("line_floor fitted on all:", choose(rows, floors, line_floor))
    report("line_floor", rows, sources, grid_check(floors, line_floor))
    trade_offs(rows, floors, line_floor)

    def en_unasked(row: dict, rule) -> bool:
        return bool(made(row)) and row["en_unasked"] >= rule[0] and row["confidence"] < rule[1]

    unasked = list(itertools.product([1, 2, 3, 4, 5], [0.9, 0.95, 1.01]))
    print("en_unasked fitted on all:", choose(rows, unasked, en_unasked))
    report("en_unasked", rows, sources, grid_check(unasked, en_unasked))
    trade_offs(rows, unasked, en_unasked)

    def per_article(train: list[dict]):
        cuts = {}
        for key in {row["topic"] for row in train if made(row)}:
            own = [row for row in train if made(row) and row["topic"] == key]
            cuts[key] = choose(own, ARTICLE_CUTS, lambda row, c: row["confidence"] < c)
        return lambda row: (
            bool(made(row))
            and cuts.get(row["topic"]) is not None
            and row["confidence"] < cuts[row["topic"]]
        )

    report("per_article cut", rows, sources, per_article)


if __name__ == "__main__":
    main()
