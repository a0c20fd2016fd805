"""Build the large evaluation FAQs (bench/faq_scale/*.json) from their compact sources.

Sources (bench/faq_scale/src/*.txt): a line ``@category-slug|name|English name`` opens a
category; each following line ``slug|question|answer`` is an article (``\\n`` in an answer
is a line break, ``\\\\`` a backslash). The JSON files have the
format of faq/demo_content.json (faq.evaluate.load_demo_docs reads them). Questions
(src/questions_*.txt, ``slug|question``; an empty slug: no article answers it) are split into
a tuning half and a held-out half (*_tune.csv, *_heldout.csv; never tune on the held-out half).

    .venv/bin/python bench/faq_scale/build_content.py
"""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = {
    "zh_telecom": (
        "zh",
        {
            "name_en": "Galaxy Telecom",
            "name_zh": "星河電信",
            "description_zh": (
                "星河電信是台灣的行動通信與光纖寬頻業者，"
                "提供 4G/5G 門號、預付卡、國際漫遊與家用光纖服務。"
            ),
            "description_en": "A Taiwanese mobile operator and fibre broadband provider.",
        },
    ),
    "zh_shop": (
        "zh",
        {
            "name_en": "Youxuan Mall",
            "name_zh": "优选商城",
            "description_zh": (
                "优选商城是一家网上商城，也在全国经营线下门店，销售家电、数码、服饰、食品和日用品。"
            ),
            "description_en": "An online shop with stores across mainland China.",
        },
    ),
    "zh_bank": (
        "zh",
        {
            "name_en": "Qingchuan Commercial Bank",
            "name_zh": "晴川商業銀行",
            "description_zh": (
                "晴川商業銀行是台灣的商業銀行，提供信用卡、網路銀行與行動銀行 App、存款、"
                "轉帳、外匯、行動支付與個人貸款服務。"
            ),
            "description_en": "A Taiwanese commercial bank (cards, online banking, deposits).",
        },
    ),
    "en_budget": (
        "en",
        {
            "name_en": "Ledgerly community",
            "name_zh": "Ledgerly",
            "description_en": (
                "Community FAQ of Ledgerly, a personal budgeting app "
                "(bank sync, budgets, goals, reports)."
            ),
            "description_zh": "Ledgerly 個人記帳 App 的社群常見問題。",
        },
    ),
    "en_community": (
        "en",
        {
            "name_en": "HomeNet community",
            "name_zh": "HomeNet",
            "description_en": (
                "Community Q&A of HomeNet, a home-networking forum (routers, wifi, mesh, "
                "ports, VPN, DNS); each article is a thread title and its accepted answer."
            ),
            "description_zh": "HomeNet 家用網路社群問答。",
        },
    ),
    "en_printing": (
        "en",
        {
            "name_en": "LayerLine community",
            "name_zh": "LayerLine",
            "description_en": (
                "Community Q&A of LayerLine, a 3D-printing forum (printers, bed levelling, "
                "extrusion, filaments, slicers, resin); each article is a thread title and its "
                "accepted answer."
            ),
            "description_zh": "LayerLine 3D 列印社群問答。",
        },
    ),
}


def build(name: str, language: str, company: dict) -> dict:
    categories: dict[str, dict] = {}
    articles = []
    category = None
    for path in sorted(HERE.glob(f"src/{name}_*.txt")):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            if line.startswith("@"):
                slug, title, title_en = (line[1:].split("|") + [""])[:3]
                category = slug
                categories.setdefault(
                    slug,
                    {"slug": slug, "name_en": title_en or title, "name_zh": title},
                )
                continue
            slug, question, answer = line.split("|", 2)
            assert category, f"{path}:{line_no}: article before a category"
            articles.append(
                {
                    "slug": slug,
                    "translation_key": slug,
                    "category": category,
                    "language": language,
                    "question": question.strip(),
                    "answer": unescape(answer.strip()),
                }
            )
    slugs = [a["slug"] for a in articles]
    assert len(slugs) == len(set(slugs)), "duplicate slugs"
    return {"company": company, "categories": list(categories.values()), "articles": articles}


def unescape(text: str) -> str:
    """A source line holds a whole answer: ``\\n`` stands for a line break."""
    return re.sub(r"\\([n\\])", lambda m: "\n" if m.group(1) == "n" else "\\", text)


QUESTIONS = {
    "zh_telecom": "questions_zh.txt",
    "en_budget": "questions_en.txt",
    "zh_shop": "questions_zh_shop.txt",
}
SPLIT_SEED = 15  # fixed: the halves must never change once measured


def split_questions(name: str, slugs: set[str]) -> None:
    """Write {name}_tune.csv and {name}_heldout.csv: a fixed random half each, answerable and
    unanswerable rows (``|question``: no article answers it) split separately."""
    rows = []
    for line in (HERE / "src" / QUESTIONS[name]).read_text(encoding="utf-8").splitlines():
        if line.strip():
            expected, query = line.split("|", 1)
            assert not expected or expected in slugs, f"unknown article {expected!r}"
            rows.append((query.strip(), expected.strip()))
    rng = random.Random(SPLIT_SEED)
    halves: dict[str, list[tuple[str, str]]] = {"tune": [], "heldout": []}
    for answerable in (True, False):
        part = [row for row in rows if bool(row[1]) == answerable]
        rng.shuffle(part)
        middle = len(part) // 2
        halves["tune"] += part[:middle]
        halves["heldout"] += part[middle:]
    for half, part in halves.items():
        with open(HERE / f"{name}_{half}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["query", "expected"])
            writer.writerows(part)
        unanswerable = sum(1 for row in part if not row[1])
        print(f"{name}_{half}.csv: {len(part)} rows, {unanswerable} unanswerable")


def main() -> None:
    for name, (language, company) in SETS.items():
        content = build(name, language, company)
        out = HERE / f"{name}.json"
        out.write_text(json.dumps(content, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        articles, categories = len(content["articles"]), len(content["categories"])
        print(f"{out.name}: {articles} articles, {categories} categories")
        if name in QUESTIONS:  # the others' questions are CSV files
            split_questions(name, {article["slug"] for article in content["articles"]})


if __name__ == "__main__":
    main()
