"""Would a negation check tell a wrong Chinese first hit from a right one? (twenty-eighth session)

Set 17's "冇收到貨 / 咁點算好？" (Cantonese for 没收到货, "haven't received the goods") is offered
the damaged-item answer, whose phrasing "收到货是坏的" ("the goods I received are broken")
says the verb the mail negates without the negation. The check tried here: a Chinese mail's
negated verbs (没 / 没有 / 未 + the next two characters, Simplified, "有没有" questions left out)
and, for its first hit, whether the article's text (question, phrasings, answer) has that verb
only un-negated (no 没 / 未 in the two characters before it): "contradicted".

Reads what bench/offer_causes.py wrote (calibration and hand-written sets 1-21 only) and prints,
per kind of first hit, how many are contradicted: a check worth having would catch wrong first
hits and few right ones.

    .venv/bin/python bench/offer_polarity.py /tmp/offer_causes.pkl
"""

from __future__ import annotations

import collections
import pickle
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from faq.search.analysis import markdown_to_text
from support.core.text import search_simplified

NEGATION = "没未"
_NEGATED = re.compile(r"(没有|没|未)([\u4e00-\u9fff]{2})")


def negated_verbs(text: str) -> set[str]:
    simplified = search_simplified(text).replace("有没有", "")
    return {m.group(2) for m in _NEGATED.finditer(simplified) if m.group(2)[0] not in "有能法"}


def contradicted(article: dict, verb: str) -> bool:
    """The article says `verb` and never negated."""
    text = search_simplified(
        "\n".join(
            [article["question"], *article["phrasings"], markdown_to_text(article["answer_md"])]
        )
    )
    plain = negated = 0
    for m in re.finditer(re.escape(verb), text):
        if any(c in text[max(0, m.start() - 2) : m.start()] for c in NEGATION):
            negated += 1
        else:
            plain += 1
    return bool(plain) and not negated


def main(path: Path) -> None:
    data = pickle.loads(path.read_bytes())
    by_slug = {a["slug"]: a for a in data["articles"].values()}
    found: collections.Counter = collections.Counter()
    for row in data["rows"]:
        if row["lang"] != "zh" or not row["hits"]:
            continue
        verbs = negated_verbs(row["focus"])
        if not verbs:
            continue
        first = row["hits"][0]
        right = first["slug"] in {*row["expect"], *row["ok"]}
        offered = any(offer and slug == first["slug"] for slug, _, offer in row["matches"])
        flag = any(contradicted(by_slug[first["slug"]], verb) for verb in verbs)
        kind = ("offered " if offered else "not offered ") + ("right" if right else "wrong")
        found[(kind, flag)] += 1
    for kind in ("offered right", "offered wrong", "not offered right", "not offered wrong"):
        total = found[(kind, True)] + found[(kind, False)]
        print(f"{kind:<20} {found[(kind, True)]:3} of {total:3} contradicted")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
