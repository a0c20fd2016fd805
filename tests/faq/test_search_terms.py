"""Word vectors (faq.search.terms): a TF-IDF cosine of each article's text beside the model's
similarity, built with the index and kept in step with every edit."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher

from faq.evaluate import load_demo_docs
from faq.search import SearchIndex
from faq.search.fusion import WORD_WEIGHT, blend
from faq.search.terms import (
    FEATURES,
    NEGATION_WORD_CHARS,
    TERMS_FILE,
    _counts,
    article_text,
    count_articles,
    hashed_counts,
    terms,
)
from support.core.text import search_simplified


@pytest.mark.parametrize(
    ("query", "language", "expected", "near"),
    [
        # The model alone puts the lost-parcel answer first; "cash" and "accept" are the payment
        # answer's words, and the rank fusion gave "parcel"'s articles the word search's places.
        (
            "do you accept cash when the parcel arrives",
            "en",
            "payment-methods-en",
            "missing-package-en",
        ),
        ("where is my shipment right now", "en", "track-order-en", "change-address-en"),
        (
            "我的包裹三天前就寄出了。物流页面一直没有更新。在哪里可以查到现在到哪了？",
            "zh",
            "track-order-zh",
            "missing-package-zh",
        ),
    ],
)
def test_a_paraphrase_near_other_topics_finds_its_article(
    hybrid: SearchIndex, query: str, language: str, expected: str, near: str
) -> None:
    slugs = [hit.slug for hit in hybrid.search(query, language=language).hits]
    assert slugs[0] == expected
    assert near in slugs[1:5]  # the near topic is still offered below


def test_the_word_signal_adds_to_the_similarity_by_its_size() -> None:
    # 30 is nearer in meaning by 0.01; 10 shares the question's rarer words (cosine 0.3).
    ranked = blend([30, 10, 20], [0.05, 0.04, 0.0], [0.0, 0.3, 0.9])
    assert [article for article, _ in ranked] == [20, 10, 30]
    assert ranked[1][1] == pytest.approx(0.04 + WORD_WEIGHT * 0.3)
    tied = blend([30, 10], [0.05, 0.05], [0.0, 0.0])
    assert [article for article, _ in tied] == [30, 10]  # ties keep the candidates' order


def test_chinese_terms_are_characters_of_either_script_and_english_terms_words() -> None:
    assert terms("帳單", "zh") == terms("账单", "zh") == ["账", "单", "账单"]
    assert terms("Budget app", "en") == ["budget", "app", "budget app"]
    assert terms("退款3天", "zh") == terms("退款5天", "zh")  # any number is '#'
    assert terms("Budget 2024", "en") == terms("Budget 2025", "en") == ["budget"]


def test_a_chinese_negation_joins_no_topic_into_an_n_gram() -> None:
    # "没收到" is "not received" in any article that says it; "收到" and "还没" stay.
    assert terms("發票還沒收到", "zh") == [
        *["发", "票", "还", "没", "收", "到"],
        *["发票", "票还", "还没", "收到", "发票还"],
    ]
    assert {"没有", "尚未", "还没有"} <= set(terms("还没有尚未", "zh"))
    assert terms("退款多久", "zh")[-1] == "款多久"  # no negation: every n-gram


def test_a_verbs_cannot_get_joins_no_topic_into_an_n_gram() -> None:
    # "收不到" is "not received" of a code, a parcel or a refund alike; Cantonese 收唔到 reads so.
    assert (
        terms("收不到货", "zh")
        == terms("收唔到貨", "zh")
        == [
            *["收", "不", "到", "货"],
            "到货",
        ]
    )
    assert "付不了" in terms("付不了款", "zh")  # 不 of another verb names the problem


def test_the_negation_n_grams_are_found_as_a_filter_over_every_n_gram_finds_them() -> None:
    # terms() looks only around each negation (a mail's row is made for every mail); it must
    # drop exactly what a plain look at every n-gram drops.
    def plain(text: str) -> list[str]:  # every n-gram of 1-3 characters, then the filter
        negations = {
            at
            for at, char in enumerate(text)
            if char in "没未" or (char == "不" and text[at + 1 : at + 2] == "到")
        }
        return [
            text[i : i + n]
            for n in (1, 2, 3)
            for i in range(len(text) - n + 1)
            if n == 1
            or not negations & set(range(i, i + n))
            or NEGATION_WORD_CHARS.issuperset(text[i : i + n])
        ]

    shuffled = random.Random(23)
    for _ in range(3000):
        text = "".join(
            shuffled.choice("没未不还有尚发票收到订单") for _ in range(shuffled.randint(0, 9))
        )
        # terms() reads the search's reading, where Cantonese 未收 (not yet received) is 没收.
        assert terms(text, "zh") == plain(search_simplified(text)), text


@pytest.mark.parametrize(
    ("query", "expected", "negated"),
    [
        # Invoice not received: the refund answer's phrasing "退货了还没收到退款" and the lost
        # parcel's "没收到包裹" share its negation, not its topic.
        ("發票還沒收到", "invoice-zh", "refund-time-zh"),
        ("发票还没收到", "invoice-zh", "refund-time-zh"),
    ],
)
def test_a_negated_question_finds_its_topic_before_other_negated_phrasings(
    hybrid: SearchIndex, query: str, expected: str, negated: str
) -> None:
    slugs = [hit.slug for hit in hybrid.search(query, language="zh").hits]
    assert slugs[0] == expected
    assert negated in slugs[1:5]


def test_an_articles_own_text_is_its_nearest_by_tf_idf() -> None:
    texts = {
        1: ("en", "How long does a refund take? Refunds reach your card in 5-10 days."),
        2: ("en", "How do I track my parcel? Use the tracking link in your email."),
        3: ("zh", "退款多久到帳？退款會在5-10天內退回原卡。"),
    }
    words = count_articles([(key, language, text) for key, (language, text) in texts.items()])
    own = words.cosines(texts[1][1], "en", [1, 2, 3]).tolist()
    assert own[0] == pytest.approx(1.0, abs=1e-5) and 0.0 < own[1] < 0.5 and own[2] == 0.0
    simplified = words.cosines("退款多久到账", "zh", [1, 3]).tolist()
    assert simplified[0] == 0.0 and simplified[1] > 0.3  # either script, read the same way
    assert words.cosines("xyzzy", "en", [1, 2]).tolist() == [0.0, 0.0]  # unknown words only


def test_term_vectors_follow_rebuilds_edits_and_deletions(embedder, tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "ix", embedder=embedder)
    docs = load_demo_docs()[:6]
    index.rebuild(docs)
    words = index.term_vectors()
    vectors = index.vectors()
    assert words is not None and vectors is not None
    assert words.article_ids.tolist() == vectors.article_ids.tolist() == [1, 2, 3, 4, 5, 6]

    index.delete(3)
    words = index.term_vectors()
    assert words is not None and sorted(words.article_ids.tolist()) == [1, 2, 4, 5, 6]

    assert docs[0].language == docs[4].language == "en"
    assert not words.cosines("zanzibar boat", "en", [1, 5]).any()
    index.upsert(replace(docs[0], answer="We now deliver to Zanzibar by boat."))
    words = index.term_vectors()
    assert words is not None and sorted(words.article_ids.tolist()) == [1, 2, 4, 5, 6]
    assert words.cosines("zanzibar boat", "en", [1, 5]).tolist()[0] > 0.1  # the new text
    assert words.cosines("zanzibar boat", "en", [1, 5]).tolist()[1] == 0.0

    index.upsert(docs[2])  # back again
    reopened = SearchIndex(tmp_path / "ix", embedder=embedder)  # another process's view
    words = reopened.term_vectors()
    assert words is not None and sorted(words.article_ids.tolist()) == [1, 2, 3, 4, 5, 6]
    index.close()
    reopened.close()


def test_an_index_without_term_vectors_is_rebuilt(embedder, tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "ix", embedder=embedder)
    index.rebuild(load_demo_docs()[:2])
    assert not index.needs_rebuild()
    next((tmp_path / "ix").glob(f"gen-*/{TERMS_FILE}")).unlink()  # built before them
    assert index.needs_rebuild()
    found = index.search("how do I place an order", language="en").hits
    assert [hit.slug for hit in found][:1] == ["place-order-en"]  # meanwhile by rank fusion
    index.upsert(load_demo_docs()[2])  # an edit meanwhile makes no partial term vectors
    assert index.term_vectors() is None and index.needs_rebuild()
    index.rebuild(load_demo_docs()[:2])
    assert not index.needs_rebuild()
    index.close()


def test_the_word_search_alone_keeps_no_term_vectors(tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "ix")
    index.rebuild(load_demo_docs()[:2])
    assert index.term_vectors() is None
    assert not list((tmp_path / "ix").glob(f"gen-*/{TERMS_FILE}"))
    index.close()


def test_the_cosines_equal_a_plain_sparse_product() -> None:
    """`cosines` gathers rows and multiplies over the query's terms by hand (a third of the
    cost of scipy's row selection and product); it must give what the plain product gives."""
    articles = [
        (1, "en", "Where is my parcel? Track the courier with the tracking number."),
        (2, "en", "Refunds reach your card within 5 working days after we receive the return."),
        (3, "zh", "退款多久到账？收到退货后5个工作日内退回原支付账户。"),
        (4, "zh", "包裹一直没收到怎么办？请提供订单号，我们向快递公司查询。"),
        (5, "en", "Change the delivery address before the parcel ships."),
    ]
    vectors = count_articles(articles)
    queries = [
        ("my parcel never arrived, where is it", "en"),
        ("退款还没到账", "zh"),
        ("包裹沒收到", "zh"),  # Traditional
        ("zzz unknown words only", "en"),
    ]
    ids = [5, 999, 1, 3, 2, 4]  # an unknown article, both languages, any order
    for text, language in queries:
        query = vectors._weigh(_counts([(text, language)]), np.asarray([language]))
        expected = []
        for article_id in ids:
            position = vectors.position(article_id)
            if position is None or vectors.languages[position] != language:
                expected.append(0.0)
                continue
            row = vectors.weighted()[position]
            expected.append(float(query.multiply(row).sum()))
        found = vectors.cosines(text, language, ids)
        assert np.allclose(found, expected, atol=1e-6), (text, found, expected)
        assert found.max() > 0 or text.startswith("zzz")


def test_the_hashed_counts_equal_scikit_learns_feature_hasher() -> None:
    """`hashed_counts` hashes a text's terms without the hasher's sparse matrices (the worker
    does it for every mail): the same columns and counts as `FeatureHasher`, for every demo
    article and some mails, in both languages."""
    hasher = FeatureHasher(n_features=FEATURES, input_type="string", alternate_sign=False)
    texts = [
        (doc.language, article_text(doc.question, doc.phrasings, doc.answer))
        for doc in load_demo_docs()
    ]
    texts += [
        ("en", "Kettle stopped working after 12 days\nThe light blinks red three times."),
        ("zh", "订单 123 还没发货\n你好，我上周下的订单到现在还显示待发货，请问什么时候能发？"),
        ("zh", "發票抬頭需要修改（訂單 77）"),
        ("en", ""),
        ("en", "the the the"),  # one term three times
    ]
    rows = [terms(text, language) for language, text in texts]
    expected = sp.csr_matrix(hasher.transform(rows), dtype=np.float32)
    expected.sum_duplicates()
    found = _counts((text, language) for language, text in texts)
    assert found.shape == expected.shape and found.dtype == expected.dtype
    assert np.array_equal(found.indptr, expected.indptr)
    assert np.array_equal(found.indices, expected.indices)
    assert np.array_equal(found.data, expected.data)
    for row, (_language, text) in zip(rows, texts, strict=True):
        columns, counts = hashed_counts(row)
        assert np.array_equal(columns, np.sort(columns)) and counts.dtype == np.float32
        single = sp.csr_matrix(hasher.transform([row]), dtype=np.float32)
        single.sum_duplicates()
        assert np.array_equal(columns, single.indices), text
        assert np.array_equal(counts, single.data), text


def _cosines_row_by_row(vectors, text: str, language: str, article_ids: list[int]) -> np.ndarray:
    """The straightforward cosines (as until the twenty-fifth session): every candidate's whole
    weighted row read, each entry's product with the query's weight for its term, summed."""
    result = np.zeros(len(article_ids), np.float32)
    indices, data = vectors._query_row(text, language)
    weighted = vectors.weighted()
    for n, article_id in enumerate(article_ids):
        position = vectors.position(article_id)
        if position is None or vectors.languages[position] != language or not len(indices):
            continue
        start, end = weighted.indptr[position], weighted.indptr[position + 1]
        row_terms, row_weights = weighted.indices[start:end], weighted.data[start:end]
        found = np.searchsorted(indices, row_terms)
        found[found == len(indices)] = 0
        products = np.where(indices[found] == row_terms, row_weights * data[found], 0.0)
        result[n] = np.bincount(np.zeros(len(products), np.int64), weights=products, minlength=1)[0]
    return result


def test_the_cosines_read_by_term_are_exactly_the_row_by_row_sums() -> None:
    """`cosines` reads only the entries of the query's terms (`_dot_products`): the same
    floats, bit for bit, as reading every candidate's row, for the demo FAQ and every mail
    written by hand in bench/ (both languages, both scripts), candidates in random order."""
    docs = load_demo_docs()
    vectors = count_articles(
        [
            (n, d.language, article_text(d.question, d.phrasings, d.answer))
            for n, d in enumerate(docs)
        ]
    )
    bench = Path(__file__).resolve().parents[2] / "bench"
    mails = [
        json.loads(line)
        for pattern in ("offer_mails_handwritten*.jsonl", "routing_mails_realistic*.jsonl")
        for path in sorted(bench.glob(pattern))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(mails) > 1000
    rng = random.Random(25)
    ids = [*range(len(docs)), 10_000]
    scored = 0
    for mail in mails:
        language = (
            "zh" if (mail.get("lang") or mail.get("language", "en")).startswith("zh") else "en"
        )
        text = f"{mail['subject']}\n{mail['body']}"
        candidates = rng.sample(ids, rng.randint(1, len(ids)))
        found = vectors.cosines(text, language, candidates)
        assert found.dtype == np.float32
        assert np.array_equal(found, _cosines_row_by_row(vectors, text, language, candidates))
        scored += bool(found.any())
    assert scored > len(mails) // 2
