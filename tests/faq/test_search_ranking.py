"""The numpy ranking (faq.search.ranking.rank) scores exactly as Whoosh's own BM25F.

`rank` reads Whoosh's posting lists and field lengths itself for speed; these tests run the
same clauses through Whoosh's matchers and scorer and compare every score, so a Whoosh upgrade
or a change to the formula that makes them drift fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from whoosh import scoring
from whoosh.query import Or, Term
from whoosh.searching import Searcher

from faq.evaluate import DEMO_EVAL, load_demo_docs, read_eval_csv
from faq.search import BM25_B, BM25_K1, SearchIndex, _match_clauses, query_terms, rank
from faq.search.ranking import Ranking

QUERIES = [
    "How long does a refund take?",
    "我退回去的东西钱多久能回到支付宝",
    "帳號被鎖定",
    "请问发票要怎么开？",
    "deliver to Xinjiang, how much is shipping",
    "iPhone 保修 多久",
    "the of and",  # nothing but stop words
]


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    index = SearchIndex(tmp_path_factory.mktemp("ranking-index"))
    docs = load_demo_docs()
    index.rebuild(docs)
    # A second segment with a deletion in the first: rank must read both, as Whoosh does.
    index.upsert(docs[0])
    index.delete(docs[5].article_id)
    yield index
    index.close()


def _whoosh_scores(searcher, clauses) -> dict[int, float]:
    query = Or([Term(c.field, c.term, boost=c.weight) for c in clauses])
    weighting = scoring.BM25F(B=BM25_B, K1=BM25_K1)
    with Searcher(searcher.reader(), weighting=weighting, closereader=False) as whoosh:
        return {hit.docnum: hit.score for hit in whoosh.search(query, limit=None)}


def _queries() -> list[str]:
    return QUERIES + [query for query, _ in read_eval_csv(DEMO_EVAL)][:40]


def test_rank_scores_are_whooshs_bm25f(demo_index: SearchIndex) -> None:
    searcher = demo_index._searcher()
    ranking = Ranking(searcher)
    allowed = ranking.allowed()
    assert allowed is not None  # the deletion is masked
    compared = 0
    for query in _queries():
        clauses = _match_clauses(query, query_terms(query))
        expected = _whoosh_scores(searcher, clauses)
        total, ranked = rank(ranking, clauses, allowed=allowed, limit=searcher.doc_count_all())
        actual = dict(ranked)
        assert total == len(expected), query
        assert actual.keys() == expected.keys(), query
        for docnum, score in expected.items():
            assert actual[docnum] == pytest.approx(score, rel=1e-5, abs=1e-6), query
        if expected:
            order = sorted(expected, key=lambda d: (-expected[d], d))
            top = [d for d, _ in ranked]
            # Same order, allowing float32/float64 rounding to swap exact ties.
            assert np.allclose([expected[d] for d in top], [expected[d] for d in order], rtol=1e-5)
        compared += len(expected)
    assert compared > 100


def test_rank_limits_and_prefers_a_language(demo_index: SearchIndex) -> None:
    searcher = demo_index._searcher()
    ranking = Ranking(searcher)
    clauses = _match_clauses("refund 退款", query_terms("refund 退款"))
    total, ranked = rank(ranking, clauses, limit=3, preferred_language="zh")
    assert total > 3
    assert len(ranked) == 3
    assert all(ranking.stored_fields(d)["language"] == "zh" for d, _ in ranked)


def test_indexed_words_are_those_whoosh_counts(demo_index: SearchIndex) -> None:
    """`Ranking.indexed` (remembered per searcher) answers as Whoosh's doc_frequency."""
    searcher = demo_index._searcher()
    ranking = Ranking(searcher)
    fields = ("question", "phrasings", "answer")
    for term in ["refund", "退款", "parcle", "xyzzy", "发票", "发漂", "refund"]:
        expected = any(searcher.doc_frequency(field, term) for field in fields)
        assert ranking.indexed(fields, term) is expected, term
    assert ranking.indexed(fields, "refund") and not ranking.indexed(fields, "xyzzy")
    assert not ranking.indexed(("question",), "xyzzy")


def test_the_package_has_no_import_cycles() -> None:
    """Each part imports only the parts listed before it in faq/search/__init__.py."""
    order = [
        "analysis",
        "snippets",
        "shared_vectors",
        "embedding",
        "english_model",
        "dictionary",
        "homophones",
        "ranking",
        "asking",
        "negation",
        "changes",
        "vectors",
        "terms",
        "fusion",
        "storage",
        "engine",
    ]
    folder = Path(__file__).resolve().parents[2] / "faq" / "search"
    for position, name in enumerate(order):
        source = (folder / f"{name}.py").read_text(encoding="utf-8")
        imported = re.findall(r"^\s*(?:from|import) faq\.search(?:\.(\w+))?\b", source, re.M)
        for part in imported:
            assert part in order[:position], (name, part or "faq.search")
