"""Issue 15's goal for near-topic mails, in English and Chinese: a mail that asks a detail its
topic's article does not answer (paying instalments off early, the warranty passed to a second
owner) gets no offer, and its answerable twin (same topic, the article's own question) still
does. The mails are written for this test, not taken from a hand-written set.
Thirty-fifth session: a mail about the state of the customer's own case (a repair's progress)
gets no offer, while its twins, the repair's usual time, a late refund asked as "how long does it
usually take" and "can you check where my parcel is" (the tracking article), still get theirs.
Before the thirty-fourth session's request kinds (faq.search.REQUEST_ACTIONS: "early", "owner")
the mails' formula and the learned pair re-check offered the near-topic ones at 0.92-0.97."""

from __future__ import annotations

import json

import pytest

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.matching import answers_for

NEAR_TOPIC = [
    (
        "en",
        "installments-en",
        "Installments paid early\nI bought a robot vacuum on a 12 month plan. Can I pay the rest "
        "off early in one go, and do I still pay the fees for the remaining months?\nThanks, Bo",
    ),
    (
        "en",
        "warranty-en",
        "Warranty for second owner\nMy neighbour gave me her Lumen purifier when she moved. It has "
        "a fault now. Does the warranty pass to me as the new owner?\nThanks, Cy",
    ),
    (
        "zh",
        "installments-zh",
        "分期提前还\n我买扫地机用了花呗分期12期，现在想把剩下的几期一次还清，可以提前还吗？手续费还收吗？",
    ),
    # The state of the customer's own case (thirty-fifth session's "status" kind).
    (
        "en",
        "repair-request-en",
        "My kettle's repair\nYour courier collected my kettle for repair three weeks ago and I "
        "have heard nothing since. Could you please check on it and tell me when I get it back?"
        "\nThanks, Di",
    ),
    (
        "zh",
        "repair-request-zh",
        "维修的电风扇\n我的电风扇两个星期前寄去你们售后维修了，一直没有消息，麻烦帮我查一下修到哪一步了？",
    ),
]
TWINS = [
    (
        "en",
        "installments-en",
        "Monthly payments\nI'd like to buy the robot vacuum but spread the cost. Can I pay in "
        "monthly installments?\nThanks, Bo",
    ),
    (
        "en",
        "warranty-en",
        "Warranty length\nMy Lumen purifier has a fault now. How long is the warranty and what "
        "does it cover?\nThanks, Cy",
    ),
    ("zh", "installments-zh", "能分期吗\n我想买扫地机，请问可以用花呗分期付款吗？"),
    (
        "en",
        "repair-request-en",
        "My kettle's repair\nMy kettle stopped heating. How do I get it repaired, and how long "
        "does a repair usually take?\nThanks, Di",
    ),
    (
        "zh",
        "repair-request-zh",
        "维修的电风扇\n我的电风扇不转了，怎么申请维修？修好一般要多久？",
    ),
    (
        "zh",
        "refund-time-zh",
        "退款还没到\n退回去的风扇你们仓库三天前就签收了，退款还没到我的信用卡，一般要多久？",
    ),
    (
        "en",
        "track-order-en",
        "Where is my parcel\nThe app says my order shipped yesterday but I got no tracking "
        "number. Can you check where it is?\nThanks, Di",
    ),
]
QUESTIONS = {
    article["slug"]: article["question"]
    for article in json.loads(DEMO_CONTENT.read_text(encoding="utf-8"))["articles"]
}


@pytest.fixture
def demo_app(app, db, demo_faq_vectors):
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    return app


def offered(app, db, mails: list[tuple[str, str, str]]) -> list[list[str]]:
    with app.app_context(), db.sessionmaker() as session:
        return [[m.question for m in answers_for(session, text, lang)] for lang, _, text in mails]


def test_the_answerable_twins_are_offered_their_article(demo_app, db) -> None:
    found = offered(demo_app, db, TWINS)
    assert found == [[QUESTIONS[slug]] for _lang, slug, _text in TWINS]


def test_near_topic_mails_get_no_offer(demo_app, db) -> None:
    found = offered(demo_app, db, NEAR_TOPIC)
    assert found == [[] for _mail in NEAR_TOPIC]
