"""A mail whose fused first hit the model alone put there, not offered, is offered its second
hit when the word search ranks that one first and the mails' formula is sure of it
(faq.matching.MAIL_ALONE_*).

The mails are tuning mails (sets 4 and 19, bench/offer_mails_handwritten_*.jsonl): each got no
offer before, its article second behind one the word search ranks lower. A mail whose first hit
is offered keeps that offer alone.
"""

from __future__ import annotations

import json

from faq.evaluate import DEMO_CONTENT
from faq.importexport import import_articles
from faq.index_sync import rebuild_index
from faq.matching import answers_for

DEMO = {
    article["slug"]: article
    for article in json.loads(DEMO_CONTENT.read_text(encoding="utf-8"))["articles"]
}

SECOND_IS_THE_ANSWER = [
    (
        "forgot my coupon\nHi, I just paid for order 66120 and only afterwards noticed I had a 50"
        " yuan voucher sitting in my account that I forgot to use. Can it still be applied to that"
        " order somehow?\n\nCheers\nMarco",
        "en",
        "coupon-code-en",
    ),
    (
        "付款後想取消訂單\n剛剛付款買了熱水壺，後來發現家裡其實還有一個，想取消訂單，還沒出貨，"
        "可以取消嗎？錢會退回原來的帳戶嗎？",
        "zh",
        "change-cancel-order-zh",
    ),
]


def test_a_second_hit_the_word_search_ranks_first_is_offered_alone(app, db) -> None:
    with db.session() as session:
        import_articles(session, json.loads(DEMO_CONTENT.read_text(encoding="utf-8")))
    rebuild_index(app)
    with app.app_context(), db.sessionmaker() as session:
        found = {
            text: answers_for(session, text, lang) for text, lang, _slug in SECOND_IS_THE_ANSWER
        }
        first = answers_for(session, "Refund\nHow long does a refund take to arrive?", "en")
    for text, _lang, slug in SECOND_IS_THE_ANSWER:
        assert [match.question for match in found[text]] == [DEMO[slug]["question"]], text
    assert [match.question for match in first] == [DEMO["refund-time-en"]["question"]]
