"""A Chinese mail's first hit is judged less sure when the mail's subject, or the clauses of its
request that ask, name words the article does not have (faq.matching.mail_confidence,
faq.search.subject_words and asking_words): the subject says what the customer writes about,
the asking clause what they want, not the context around it."""

from __future__ import annotations

import json

import pytest

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.knowledge import ArticleMatch
from faq.matching import OFFER_CONFIDENCE, answers_for, mail_confidence, unasked_counts
from faq.search import asking_words, subject_words

SHOWROOM = ArticleMatch(
    article_id=1,
    slug="showroom-zh",
    question="有线下门店可以看实物吗？",
    language="zh",
    score=1.0,
    url_path="/a/showroom-zh",
    phrasings=("实体店在哪里", "可以去店里体验吗"),
    answer_text=(
        "我们以线上销售为主，但在深圳南山区科苑路88号3楼设有体验店，每周五至周日10:00-19:00"
        "开放，所有产品都可以现场体验。可以当场付款带走，也可以线上下单送货到家。"
    ),
    semantic_rank=1,
    lexical_rank=1,
    cosine=0.90,
    similarity=0.04,
    standout=0.03,
    word_cosine=0.2,
    semantic=True,
)
OTHER = ArticleMatch(
    **{
        **SHOWROOM.__dict__,
        "article_id": 2,
        "slug": "repair-request-zh",
        "semantic_rank": 2,
        "lexical_rank": 2,
        "cosine": 0.88,
        "word_cosine": 0.07,
    }
)
# Written for this test, not taken from an evaluation set.
PARKING = "开车去体验店停车方便吗\n周末想去深圳的体验店看看净化器，请问附近停车收费吗？"
ADDRESS = "体验店在哪\n周末想去深圳的体验店看看净化器，请问体验店几点开放？"
MOVED = (
    "地址写成公司了\n订单已经发货了，可是收货地址填的是公司，下周我出差不在公司，"
    "能不能改到家里的地址？"
)


def test_the_subject_and_the_asking_clauses_name_what_is_asked() -> None:
    assert {"停车", "开车"} <= set(subject_words(PARKING))
    assert subject_words("Re: 停车\n请问体验店附近能停车吗？") == []  # an earlier mail's subject
    assert subject_words("Parking\nIs there parking near the showroom?") == []
    # Of a request line, the clause that asks, not the context before it.
    words = asking_words(MOVED)
    assert "出差" not in words and "公司" not in words
    assert asking_words(PARKING) == ["停车", "收费"]


def test_a_first_hit_whose_article_lacks_the_subject_s_words_is_less_sure() -> None:
    hits = [SHOWROOM, OTHER]
    assert unasked_counts(SHOWROOM, ADDRESS) == (0, 0)
    assert unasked_counts(SHOWROOM, PARKING) == (2, 2)  # 开车 停车; 停车 收费
    assert mail_confidence(hits, PARKING) < mail_confidence(hits, ADDRESS)
    assert mail_confidence(hits, ADDRESS) == mail_confidence(hits)  # nothing unasked
    english = ArticleMatch(**{**SHOWROOM.__dict__, "language": "en"})
    assert unasked_counts(english, PARKING) == (0, 0)  # only Chinese mails are read so


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_a_near_topic_mail_gets_no_offer_its_answerable_twin_does(app, db) -> None:
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    with app.app_context(), db.sessionmaker() as session:
        parking = answers_for(session, PARKING, "zh", offered_only=False)
        address = answers_for(session, ADDRESS, "zh")
        moved = answers_for(session, MOVED, "zh")
    assert parking and parking[0].question == SHOWROOM.question
    assert parking[0].confidence < OFFER_CONFIDENCE and not parking[0].offer
    assert [match.question for match in address][:1] == [SHOWROOM.question]
    assert [match.question for match in moved][:1] == ["下单后可以修改收货地址吗？"]
