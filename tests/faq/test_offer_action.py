"""A mail that asks an action its topic's article does not answer (giving points to someone,
extending the warranty, a complaint, a coupon never credited) is not offered that article
(faq.matching.asks_other_action, faq.search.REQUEST_ACTIONS), while a mail the article answers,
in the same words of the topic, still is. The mails are written for this test, not taken from
a held-out set."""

from __future__ import annotations

import json

import pytest

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.knowledge import ArticleMatch
from faq.matching import MAIL_UNASKED_CONFIDENCE, answers_for, asks_other_action
from faq.search import answered_actions, asked_actions

DEMO = {
    article["slug"]: article
    for article in json.loads(DEMO_CONTENT.read_text(encoding="utf-8"))["articles"]
}


def match(slug: str) -> ArticleMatch:
    article = DEMO[slug]
    return ArticleMatch(
        article_id=1,
        slug=slug,
        question=article["question"],
        language=article["language"],
        score=1.0,
        url_path=f"/a/{slug}",
        phrasings=tuple(article["phrasings"]),
        answer_text=article["answer"],
    )


POINTS_GIVEN = "积分\n我的积分能转给我老婆用吗？"
POINTS_USED = "积分\n我账户里有三千积分，结账的时候怎么抵扣？能抵多少钱？"
COUPON_NOT_CREDITED = "券\n上次以旧换新说好给的优惠券到现在还没到账，麻烦查一下。"
TRADE_IN = "以旧换新\n买新净化器的时候旧的可以回收吗？能给多少钱的优惠券？"
WARRANTY_EXTENDED = (
    "Warranty\nHi, can I pay to extend the warranty on my purifier for another two years?"
    "\nThanks, Jo"
)
WARRANTY_COVERED = (
    "Warranty\nHi, my purifier is 18 months old and stopped working. Is it still under warranty?"
    "\nThanks, Jo"
)


def test_a_request_names_the_action_it_asks_in_either_script_or_english() -> None:
    assert asked_actions("積分\n請問我的會員積分可以轉給朋友嗎？") == {"transfer"}
    assert asked_actions("Coupon\nCan I give my coupons to my brother?") == {"transfer"}
    assert asked_actions("Points\nCan I transfer my points to my wife's account?") == {"transfer"}
    assert asked_actions(WARRANTY_EXTENDED) == {"renew"}
    assert asked_actions("快递\n派送员态度很差，我要投诉他。") == {"complaint"}
    assert asked_actions("券\n以旧换新的优惠券到现在还没到账") == {"credit"}
    assert asked_actions(POINTS_USED) == set()
    assert asked_actions(WARRANTY_COVERED) == set()
    # Not a transfer, an extension or a reissue: how to order, pay, buy a gift, reset.
    assert asked_actions("Order\nCan I order without creating another account?") == set()
    assert asked_actions("Paid\nI paid by bank transfer to your account, still unpaid?") == set()
    assert asked_actions("礼物\n我想买一台净化器送给朋友，能开发票吗？") == set()
    assert asked_actions("验证码\n验证码过期了，怎么重新发？") == set()
    assert asked_actions("出厂设置\n扫地机恢复出厂设置以后还是不动，怎么送修？") == set()


def test_a_request_for_another_way_than_the_articles_names_its_kind() -> None:
    """Thirty-fourth session's kinds: paying instalments off early, a warranty or purchase
    passed to a new owner, collecting an order in person, a document in another language or
    currency; in English, Simplified and Traditional Chinese and Cantonese."""
    assert asked_actions("Plan\nCan I pay the rest off early in one go?") == {"early"}
    assert asked_actions("分期\n花唄分期可以提前還款嗎？") == {"early"}
    assert asked_actions("Warranty\nDoes the warranty pass to me as the new owner?") == {"owner"}
    assert asked_actions("保修\n我想把净化器转卖，保修还有效吗？") == {"owner"}
    assert asked_actions("Order\nCan I pick it up at your showroom?") == {"pickup"}
    assert asked_actions("Order\nCould I collect my order from the store?") == {"pickup"}
    assert asked_actions("Order\nCan I pick up my parcel at a locker?") == {"pickup"}
    assert asked_actions("香港\n可唔可以寄去順豐站自取？") == {"pickup"}
    assert asked_actions("Invoice\nCan you issue the invoice in English?") == {"currency"}
    assert asked_actions("付款\n门店可以用港币付款吗？") == {"currency"}
    # The article's own questions ask none of these.
    assert asked_actions("Plan\nCan I pay in monthly installments?") == set()
    assert asked_actions("Repair\nWill the courier pick it up from my home?") == set()
    assert asked_actions("到货\n能不能提前发货？") == set()
    assert asked_actions("发票\n怎么开发票？") == set()


def test_an_article_that_says_the_action_answers_it() -> None:
    text = " ".join((DEMO["damaged-item-zh"]["answer"], DEMO["refund-time-zh"]["answer"]))
    assert answered_actions(text) == {"renew", "credit"}  # 补发, 到账
    assert not answered_actions(DEMO["coupon-code-zh"]["answer"])
    assert asks_other_action(match("member-points-zh"), POINTS_GIVEN)
    assert not asks_other_action(match("member-points-zh"), POINTS_USED)
    assert asks_other_action(match("warranty-en"), WARRANTY_EXTENDED)
    assert not asks_other_action(match("warranty-en"), WARRANTY_COVERED)
    # Points "not credited yet" are what the points article answers (credited after returns).
    assert not asks_other_action(match("member-points-zh"), "积分\n上周买的净化器，积分还没到账？")
    # A replacement for a damaged item is what the damaged-item article offers (补发).
    assert not asks_other_action(match("damaged-item-zh"), "台灯\n收到的台灯灯罩碎了，能补发吗？")


@pytest.mark.usefixtures("demo_faq_vectors")  # the demo FAQ's article texts, embedded once a run
def test_near_topic_mails_get_no_offer_their_answerable_twins_do(app, db) -> None:
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    with app.app_context(), db.sessionmaker() as session:
        given = answers_for(session, POINTS_GIVEN, "zh", offered_only=False)
        used = answers_for(session, POINTS_USED, "zh")
        extended = answers_for(session, WARRANTY_EXTENDED, "en", offered_only=False)
        covered = answers_for(session, WARRANTY_COVERED, "en")
        not_credited = answers_for(session, COUPON_NOT_CREDITED, "zh", offered_only=False)
        trade_in = answers_for(session, TRADE_IN, "zh")
    # The model puts the topic's article first, sure enough for an offer without the check
    # (0.84-0.97; the older check of unasked words, faq.matching.asks_beyond, passes them).
    assert given and given[0].question == DEMO["member-points-zh"]["question"]
    assert not given[0].offer and given[0].confidence < 0.8
    assert [m.question for m in used][:1] == [DEMO["member-points-zh"]["question"]]
    assert extended and extended[0].question == DEMO["warranty-en"]["question"]
    assert not extended[0].offer
    assert [m.question for m in covered][:1] == [DEMO["warranty-en"]["question"]]
    assert not_credited and not_credited[0].question == DEMO["trade-in-zh"]["question"]
    assert not not_credited[0].offer
    assert [m.question for m in trade_in][:1] == [DEMO["trade-in-zh"]["question"]]


def test_a_request_about_the_state_of_the_customers_own_case_names_its_kind() -> None:
    """Thirty-fifth session's kind "status": asking us to look into the customer's own case, for
    its progress or whether it has happened yet; in English, Simplified, Traditional and
    Cantonese. Not when the request also asks what an article states (the usual time, the way,
    where to look), nor a question of why or whether ("是怎么回事", "can you tell me if it is
    still under warranty")."""
    assert asked_actions("Repair\nIt's been two weeks. Can you check where it is?") == {"status"}
    assert asked_actions("Repair RX-1\nAny update on my repair?") == {"status"}
    assert asked_actions("Repair\nWhat's happening with my kettle?") == {"status"}
    assert asked_actions("Job\nCould you let me know if my application has been received?") == {
        "status"
    }
    assert asked_actions("维修\n寄去维修十天了，能不能帮我查一下修到哪一步了？") == {"status"}
    assert asked_actions("維修進度\n送修三個禮拜了，請問修好了沒？") == {"status"}
    assert asked_actions("维修\n部机拎去整咗两个礼拜，可唔可以帮我查吓进度？") == {"status"}
    # What an article states: the usual time, where to look, the way; a why or a whether.
    assert asked_actions("Refund\nStill no refund. How long does it usually take?") == set()
    assert asked_actions("退款\n退货签收三天了，退款还没到，一般要多久？") == set()
    assert asked_actions("维修\n在哪里能查维修进度？") == set()
    assert asked_actions("Repair\nHow do I get my kettle repaired?") == set()
    assert asked_actions("券\n结算的时候显示不可用，是怎么回事？") == set()
    assert asked_actions("Fan\nCan you tell me if it is still under guarantee?") == set()
    assert asked_actions("应聘\n我想应聘客服岗位，附件是简历，请查收。") == set()  # "find attached"


def test_an_article_that_says_where_to_follow_a_case_answers_its_state() -> None:
    where = "Parcel\nIt says shipped but there is no tracking number. Can you check where it is?"
    lost = "包裹\n物流显示已签收，但我根本没收到，麻烦帮我查一下。"
    progress = "维修\n寄去维修十天了，能不能帮我查一下修到哪一步了？"
    assert not asks_other_action(match("track-order-en"), where)
    assert not asks_other_action(match("missing-package-zh"), lost)
    assert asks_other_action(match("repair-request-zh"), progress)
    # The refund article states the usual time: a late refund asked that way is its question.
    late = "退款\n退货签收三天了，退款还没到，一般要多久？"
    assert not asks_other_action(match("refund-time-zh"), late)
    # An article about the time it takes answers "can you check": it says when to expect it.
    checked = "Refund\nI returned the fan two weeks ago and have no money yet. Can you check?"
    assert asked_actions(checked) == {"status"}
    assert not asks_other_action(match("refund-time-en"), checked)


# Typed questions (thirty-fifth session): a short question of the same kinds, and its twin that
# asks what the article answers, in the same words of the topic. Written for this test.
TYPED_OTHER_ACTION = {
    "can I give my points to my daughter": "member-points-en",
    "会员积分能送给朋友吗": "member-points-zh",
    "積分可以轉讓給朋友嗎": "member-points-zh",
    "can I buy an extended warranty for my vacuum": "warranty-en",
    "发票能开英文的吗": "invoice-zh",
}
TYPED_TWINS = {
    "how do I use my points at checkout": "member-points-en",
    "积分怎么抵扣": "member-points-zh",
    "積分怎麼用": "member-points-zh",
    "is my vacuum still under warranty": "warranty-en",
    "发票怎么开": "invoice-zh",
}


@pytest.mark.usefixtures("demo_faq_vectors")
def test_typed_questions_of_another_action_get_no_offer_their_twins_do(app, db) -> None:
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    with app.app_context(), db.sessionmaker() as session:
        other = {
            text: answers_for(
                session, text, "zh" if slug.endswith("-zh") else "en", offered_only=False
            )
            for text, slug in TYPED_OTHER_ACTION.items()
        }
        twins = {
            text: answers_for(session, text, "zh" if slug.endswith("-zh") else "en")
            for text, slug in TYPED_TWINS.items()
        }
    for text, slug in TYPED_OTHER_ACTION.items():
        found = other[text]
        assert found and found[0].question == DEMO[slug]["question"], text
        # Judged sure enough by the typed formula, then stopped by the action check.
        assert not found[0].offer and found[0].confidence == MAIL_UNASKED_CONFIDENCE, text
    for text, slug in TYPED_TWINS.items():
        assert [m.question for m in twins[text]][:1] == [DEMO[slug]["question"]], text
