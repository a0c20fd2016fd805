"""Relevance evaluation metrics, the evaluation file format and the demo data it runs on."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from opencc import OpenCC

from faq.evaluate import (
    DEMO_CONTENT,
    DEMO_EVAL,
    EvaluationMiss,
    evaluate,
    evaluate_shown,
    load_demo_docs,
    read_eval_csv,
)


def ranked_search(rankings: dict[str, list[str]]):
    return lambda query: rankings.get(query, [])


def test_metrics_from_ranks() -> None:
    rows = [("q1", "a"), ("q2", "b"), ("q3", "c"), ("q4", "d")]
    rankings = {
        "q1": ["a", "x", "y"],  # rank 1
        "q2": ["x", "b", "y"],  # rank 2
        "q3": ["x", "y", "z", "w", "v", "c"],  # rank 6: outside top 5, inside top 10
        "q4": ["x"],  # not found
    }
    report = evaluate(rows, ranked_search(rankings))
    assert report.n == 4
    assert report.recall_at_1 == pytest.approx(1 / 4)
    assert report.recall_at_5 == pytest.approx(2 / 4)
    assert report.mrr_at_10 == pytest.approx((1 + 1 / 2 + 1 / 6) / 4)
    assert report.misses == [
        EvaluationMiss("q2", "b", ["x", "b", "y"]),
        EvaluationMiss("q3", "c", ["x", "y", "z"]),
        EvaluationMiss("q4", "d", ["x"]),
    ]
    query, expected, got = report.misses[0]  # a miss unpacks like a tuple
    assert (query, expected, got) == ("q2", "b", ["x", "b", "y"])


def test_ranks_beyond_ten_do_not_count_and_ids_are_compared_as_strings() -> None:
    rows = [("q", "11")]
    report = evaluate(rows, lambda _: [str(n) for n in range(20)])
    assert report.mrr_at_10 == 0.0 and report.recall_at_5 == 0.0
    assert evaluate([("q", "3")], lambda _: [1, 2, 3]).mrr_at_10 == pytest.approx(1 / 3)


def test_shown_counts_every_row_and_finds_only_in_the_first_five() -> None:
    shown = ranked_search({"a": ["x"], "b": ["1", "2", "3", "4", "5", "y"], "c": ["z", "w"]})
    report = evaluate_shown([("a", "x"), ("b", "y"), ("c", ""), ("d", "q")], shown)
    assert (report.n, report.found_at_5) == (3, 1)  # "y" is sixth; "c" is unanswerable
    assert report.counts == {1: 1, 6: 1, 2: 1, 0: 1} and report.mean_shown == 9 / 4
    assert "1 of 3" in report.summary() and "0:1 1:1 2:1 6:1" in report.summary()


def test_empty_evaluation() -> None:
    report = evaluate([], lambda _: [])
    assert (report.n, report.recall_at_1, report.mrr_at_10) == (0, 0.0, 0.0)


def test_read_eval_csv(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text(
        '\ufeffquery,expected\n"hi, where is my parcel",track-order-en\n\n退款,refund\n'
    )
    assert read_eval_csv(path) == [("hi, where is my parcel", "track-order-en"), ("退款", "refund")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("question,slug\nq,a\n", "expected exactly: query, expected"),
        ("query\nq\n", "expected exactly: query, expected"),
        ("query,expected,extra\nq,a,b\n", "expected exactly: query, expected"),
        ("query,expected\n,a\n", "line 2"),
        ("query,expected\nq,a\nq2,a,b\n", "line 3"),
    ],
)
def test_read_eval_csv_rejects_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "eval.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_eval_csv(path)


# -- the demo data ------------------------------------------------------------------------------


def test_demo_content_is_complete_and_bilingual() -> None:
    content = json.loads(DEMO_CONTENT.read_text(encoding="utf-8"))
    categories = {c["slug"] for c in content["categories"]}
    assert len(categories) >= 6
    assert all(c["name_en"] and c["name_zh"] for c in content["categories"])
    articles = content["articles"]
    assert len({a["slug"] for a in articles}) == len(articles) >= 48
    languages_by_key: dict[str, list[str]] = {}
    for article in articles:
        assert article["category"] in categories
        assert article["slug"].endswith(f"-{article['language']}")
        assert 1 <= len(article["phrasings"]) <= 3
        assert article["question"] and len(article["answer"]) > 80
        languages_by_key.setdefault(article["translation_key"], []).append(article["language"])
    assert len(languages_by_key) >= 24
    assert all(sorted(langs) == ["en", "zh"] for langs in languages_by_key.values())
    assert sum(1 for a in articles if a.get("demand_seed")) >= 5
    assert len(load_demo_docs()) == len(articles)


def test_demo_eval_is_paraphrased_and_bilingual() -> None:
    rows = read_eval_csv(DEMO_EVAL)
    slugs = {doc.slug for doc in load_demo_docs()}
    assert all(expected in slugs for _, expected in rows)
    languages = Counter(expected.rsplit("-", 1)[1] for _, expected in rows)
    assert languages["en"] >= 40 and languages["zh"] >= 40

    def normalise(text: str) -> str:
        return re.sub(r"[\W_]+", "", text.lower())

    written = {normalise(d.question) for d in load_demo_docs()}
    written |= {normalise(p) for d in load_demo_docs() for p in d.phrasings}
    assert not [q for q, _ in rows if normalise(q) in written], "eval copies an article"

    t2s = OpenCC("t2s")
    traditional = [q for q, _ in rows if t2s.convert(q) != q]
    mixed = [q for q, e in rows if e.endswith("-zh") and re.search("[A-Za-z]{3,}", q)]
    assert len(traditional) >= 5 and len(mixed) >= 3
