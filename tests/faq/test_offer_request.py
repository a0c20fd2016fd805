"""A Chinese mail near an article's topic that asks what the article does not answer is not
offered it (faq.matching.asks_beyond, faq.search.request_words), while a mail the article
answers, in the same words of the topic, still is."""

from __future__ import annotations

import json

import pytest

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.knowledge import ArticleMatch
from faq.matching import MAIL_UNASKED_WORDS, answers_for, asks_beyond
from faq.search import request_words

MISSING_PARCEL = ArticleMatch(
    article_id=1,
    slug="missing-package-zh",
    question="物流显示已签收，但我没收到包裹怎么办？",
    language="zh",
    score=1.0,
    url_path="/a/missing-package-zh",
    phrasings=("快递丢了", "显示签收了但是没拿到"),
    answer_text=(
        "请先询问家人、邻居、门卫或物业，并查看附近的快递柜和驿站，再等24小时，快递员有时会提前"
        "点签收。如果仍未收到，请在7天内带上订单号联系我们。我们会向快递公司发起调查，3个工作日内"
        "仍找不到包裹的，将为您补发或全额退款。"
    ),
)
# Not from a held-out set: written for this test.
COMPLAINT = "快递员\n派送员态度很差，打电话也不接，直接把包裹扔在楼下，我要投诉他。"
AGENCY = "合作\n我们是一家马来西亚的电器经销商，想代理你们的产品在当地销售，请问找谁洽谈？"
MISSING = "包裹没收到\n物流显示昨天已签收，可是家里没人收到，快递柜里也没有，包裹到底去哪了？"


def test_a_request_names_what_it_wants_done_not_how_it_asks() -> None:
    words = request_words("積分\n請問我的會員積分可以轉給我媽媽的帳號用嗎？")
    assert "转给" in words and "妈妈" in words  # Traditional read as Simplified
    assert not {"可以", "请问", "用"} & set(words)  # asking, not what is asked
    assert request_words("Points\nCan I transfer my points to my mother?") == []


def test_a_request_the_article_has_no_word_of_asks_beyond_it() -> None:
    assert asks_beyond(MISSING_PARCEL, COMPLAINT)
    assert not asks_beyond(MISSING_PARCEL, MISSING)
    english = ArticleMatch(**{**MISSING_PARCEL.__dict__, "language": "en"})
    assert not asks_beyond(english, COMPLAINT)  # only Chinese mails are judged so
    # One or two unasked words are not enough (many answerable mails name a few).
    assert MAIL_UNASKED_WORDS >= 2
    assert not asks_beyond(MISSING_PARCEL, "快递\n快递员把包裹放哪了？签收了但是没收到")


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_a_near_topic_complaint_gets_no_offer_its_answerable_twin_does(app, db) -> None:
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    with app.app_context(), db.sessionmaker() as session:
        complaint = answers_for(session, COMPLAINT, "zh", offered_only=False)
        agency = answers_for(session, AGENCY, "zh", offered_only=False)
        missing = answers_for(session, MISSING, "zh")
    # The model puts the parcel and shipping articles first, sure enough for an offer (0.84
    # and 0.88 without the check); neither is offered.
    assert complaint and complaint[0].question == MISSING_PARCEL.question
    assert not complaint[0].offer and complaint[0].confidence < 0.8
    assert agency and "海外" in agency[0].question and not agency[0].offer
    assert [match.question for match in missing][:1] == [MISSING_PARCEL.question]
