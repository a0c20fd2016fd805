"""Near-topic mails' false offers by kind, and the "rival words" check, each set left out.

Thirty-fourth session. Reads what bench/offer_causes.py wrote (calibration and hand-written sets
1-28; never a held-out set) and prints

1. every false offer (a mail no article answers, offered something) and every wrong offer (an
   answerable mail offered only other articles), with its request line, offered article and
   figures, sorted into kinds (`kind_of`: a general reading of the request, not of the mail);
2. the rival-words check: a mail's asking lines (faq.search.focus) name words (faq.search
   .analyze: stemmed English, jieba Chinese) that the offered article's question, phrasings and
   answer lack but another article of its language has in its question or phrasings: the mail
   asks about something the FAQ files under another topic ("bring it to the showroom" beside
   the repair article, 积分 beside the cancellation article). An offer is vetoed when at least
   K such words are named and its confidence is below C; K, C, which lines (all asking lines or
   the last) and at most how many articles' questions a word may be in (a topic's word, not a
   common one) are chosen on the other sets (the most right offers less FALSE_WEIGHT per false
   offer, no veto on a tie) and scored on the set left out.

    .venv/bin/python bench/offer_causes.py /tmp/offer_causes.pkl
    .venv/bin/python bench/offer_rival_words.py /tmp/offer_causes.pkl [--list]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from offer_features_loso import counts, made, outcome, read_causes  # noqa: E402
from offer_request_checks import FALSE_WEIGHT, ratios, short  # noqa: E402

from faq.search import ENGLISH_STOP_WORDS, analyze, markdown_to_text  # noqa: E402
from support.core.text import search_simplified  # noqa: E402

# The kinds of near-topic request, first match wins (lower-cased Simplified request lines).
KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "not the shop's service (press, partner, supplier, job, praise)",
        re.compile(
            r"采访|合作|业配|供应|样品|报价单|代理|经销|职缺|职位|应征|实习|表扬|\binterview"
            r"|\breporter|\bpartner|\bsupplier|\bsamples?\b|\bquotation\b|\bdistribut|\bjob\b"
            r"|\bposition\b|\brecruit|\bthank"
        ),
    ),
    (
        "what happened to my case (status, progress, not returned, not credited)",
        re.compile(
            r"进度|还没|没回来|没有退|没到|没收到|去哪|\bwhere is\b|\bstill\b.{0,20}\b(?:not|no)\b"
            r"|\bheard nothing|\bprogress|\bstatus|\bcheck where|\bdidn'?t\b|\bnever\b"
        ),
    ),
    (
        "an exception or another way (instead, someone else, another place, early, merge)",
        re.compile(
            r"提前|指定|合并|自取|代收|转给|送给|别人|朋友|妈妈|还是只能|而是|换成|改成|分开|一起寄"
            r"|\binstead\b|\brather\b|\bfriend|\bsomeone else|\bnew owner|\bmerge|\bcombine"
            r"|\bonly for\b|\bother\b|\bafter \d|\bbefore\b|\bearly\b|\bsunday|\bevening"
        ),
    ),
    (
        "product detail (spec, model, app, stock of a kind)",
        re.compile(
            r"适用|面积|噪音|参数|规格|功率|app|闪退|除湿|颜色|尺寸|\bspec|\bcolou?r|\bflicker"
            r"|\bwatt|\bnoise|\bsell\b|\bdo you have\b|\bmodel\b"
        ),
    ),
    (
        "a document's wording or form (language, tax number, paper, title)",
        re.compile(r"纸质|抬头|税号|统一编号|盖章|英文|\benglish\b|\bgst\b|\bvat\b|\bpaper\b"),
    ),
]


def kind_of(text: str) -> str:
    text = search_simplified(text).lower()
    return next((name for name, pattern in KINDS if pattern.search(text)), "other")


def asking_lines(row: dict, last: bool) -> list[str]:
    lines = [line for line in row["focus"].splitlines() if line.strip()]
    return lines[-1:] if last else lines


def article_words(article: dict) -> set[str]:
    text = " ".join(
        (article["question"], *article["phrasings"], markdown_to_text(article["answer_md"]))
    )
    return set(analyze(text))


def question_words(article: dict) -> set[str]:
    return set(analyze(" ".join((article["question"], *article["phrasings"]))))


def topic_words(articles: dict) -> dict[str, dict[str, set[int]]]:
    """Per language, each word of an article's question or phrasings: the articles that say it."""
    found: dict[str, dict[str, set[int]]] = collections.defaultdict(
        lambda: collections.defaultdict(set)
    )
    for article_id, article in articles.items():
        for word in question_words(article):
            found[article["language"]][word].add(article_id)
    return found


def rival_words(
    row: dict, slug_ids: dict[str, int], data: dict, topics, whole: dict, *, last: bool, most: int
) -> dict[str, list[str]]:
    """For each offered article: the words of the mail's asking lines that it lacks and at most
    `most` other articles of its language have in their questions or phrasings."""
    words = list(
        dict.fromkeys(
            word
            for line in asking_lines(row, last)
            for word in analyze(line)
            if word not in ENGLISH_STOP_WORDS and not word.isdigit() and len(word) > 1
        )
    )
    found = {}
    for slug in made(row):
        article_id = slug_ids[slug]
        language = data["articles"][article_id]["language"]
        own = whole[article_id]
        found[slug] = [
            word
            for word in words
            if word not in own and 0 < len(topics[language].get(word, set()) - {article_id}) <= most
        ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", type=Path, help="what bench/offer_causes.py wrote")
    parser.add_argument("--list", action="store_true", help="list false and wrong offers")
    args = parser.parse_args()
    data, rows, sources = read_causes(args.pickle)
    slug_ids = {article["slug"]: aid for aid, article in data["articles"].items()}
    whole = {aid: article_words(article) for aid, article in data["articles"].items()}
    topics = topic_words(data["articles"])
    confidence = {
        id(row): {slug: sure for slug, sure, offer in row["matches"] if offer} for row in rows
    }

    kinds: collections.Counter = collections.Counter()
    for row in rows:
        offers = made(row)
        tag = outcome(row, offers)
        if tag not in ("false", "wrong"):
            continue
        request = " / ".join(asking_lines(row, False))
        kinds[(tag, kind_of(request))] += 1
        if args.list:
            figures = [
                (hit["slug"], round(hit["cosine"], 3), round(hit["word_cosine"], 3))
                for hit in row["hits"][:2]
            ]
            print(
                f"{tag:>5} {row['source'][17:-6]:<14} {kind_of(request)[:24]:<24} "
                f"{offers} {[round(c, 2) for c in confidence[id(row)].values()]} {figures}\n"
                f"      {request[:160]!r}"
            )
    print("\n== false and wrong offers by kind (made by faq.matching today) ==")
    for (tag, name), number in sorted(kinds.items()):
        print(f"  {tag:>5}  {number:3}  {name}")

    grid = list(itertools.product([1, 2], [0.9, 0.95, 1.01], [False, True], [1, 2, 3, 60]))
    cache: dict = {}

    def rivals(row: dict, last: bool, most: int) -> dict[str, list[str]]:
        key = (id(row), last, most)
        if key not in cache:
            cache[key] = rival_words(row, slug_ids, data, topics, whole, last=last, most=most)
        return cache[key]

    def after(row: dict, parameters) -> list[str]:
        least, ceiling, last, most = parameters
        found = rivals(row, last, most)
        return [
            slug
            for slug in made(row)
            if not (len(found[slug]) >= least and confidence[id(row)][slug] < ceiling)
        ]

    def value(chosen_rows: list[dict], parameters) -> float:
        found = counts(chosen_rows, made if parameters is None else lambda r: after(r, parameters))
        return found["right"] - FALSE_WEIGHT * found["false"]

    def choose(train: list[dict]):
        best, best_value = None, value(train, None)
        for parameters in grid:
            score = value(train, parameters)
            if score > best_value:
                best, best_value = parameters, score
        return best

    print("\n== rival words: fitted on all, the ten with most false offers removed ==")
    before = counts(rows, made)
    table = []
    for parameters in grid:
        found = counts(rows, lambda r, p=parameters: after(r, p))
        table.append(
            (before["false"] - found["false"], before["right"] - found["right"], parameters)
        )
    for removed, lost, parameters in sorted(table, key=lambda item: (-item[0], item[1]))[:10]:
        print(
            f"  (K, C, last line only, most articles) {parameters}: -{lost} right, -{removed} false"
        )
    print("  chosen on all:", choose(rows))

    print("\n== rival words, each set left out (before -> after) ==")
    before_all: collections.Counter = collections.Counter()
    after_all: collections.Counter = collections.Counter()
    for source in sources:
        held = [row for row in rows if row["source"] == source]
        chosen = choose([row for row in rows if row["source"] != source])
        was = counts(held, made)
        now = was if chosen is None else counts(held, lambda r, p=chosen: after(r, p))
        before_all += was
        after_all += now
        print(f"  {source:<36} {chosen}  {short(was)} -> {short(now)}")
    print(f"  pooled: {short(before_all)} -> {short(after_all)}")
    print(f"          {ratios(before_all)} -> {ratios(after_all)}")


if __name__ == "__main__":
    main()
