"""A short question signed with a contact card: the card's WeChat id and phone are not a pitch.

A qq.com customer's "KT-200的滤芯有货吗？" signed "王磊 / 微信：... / 手机：... / http://..." was
certain spam (13.8): "b:chat-id" +4.8, "b:phone" +3.0 and the link. The parser now recognises
the card as a signature; when the text above it is short and asks a question, its chat id and
phone are one trait, "b:signature-contact". An advert's card under a pitch counts as before.
"""

from __future__ import annotations

import pytest

from mailrouter.parsing import parse_message
from mailrouter.spam import verdict
from mailrouter.spam.features import mail_tokens

CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0, "SPAM_FILTER_ENABLED": True}
CARD = "王磊\r\n微信：wanglei_88\r\n手机：138 1234 5678\r\nhttp://www.example-shop.cn\r\n"


def _mail(body: str, sender: str = "12345678@qq.com") -> bytes:
    return (
        f"From: {sender}\r\nTo: service@example.com\r\nSubject: =?utf-8?B?5ruk6Iqv?=\r\n"
        "Date: Mon, 7 Dec 2026 10:00:00 +0800\r\nMessage-ID: <s1@qq.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    ).encode()


def _verdict(raw: bytes) -> verdict.SpamVerdict:
    return verdict.builtin_verdict(parse_message(raw), CONFIG, verdict.shipped_model(), raw)


@pytest.mark.parametrize(
    "body",
    [
        f"KT-200的滤芯有货吗？\r\n\r\n{CARD}",
        "請問KT-200的濾芯有現貨嗎？\r\n\r\n陳志明\r\n微信：chenzm\r\n手機：0912 345 678\r\n"
        "電話：02-2345-6789\r\nhttp://www.example-shop.tw\r\n",
        "Do you have the KT-200 filter in stock?\r\n\r\nWang Lei\r\nWeChat: wanglei_88\r\n"
        "Mobile: +86 138 1234 5678\r\nhttp://www.example-shop.cn\r\n",
    ],
)
def test_a_short_question_signed_with_a_contact_card_is_not_held(body: str) -> None:
    raw = _mail(body)
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:signature-contact" in tokens
    assert "b:chat-id" not in tokens and "b:phone" not in tokens, tokens
    found = _verdict(raw)
    assert found.level == verdict.HAM, found


@pytest.mark.parametrize(
    "body",
    [
        # An advert's pitch asks nothing: its card counts as before.
        f"低价出售海关数据，精准客户开发，有意者请联系！\r\n\r\n{CARD}",
        # A long text above the card is no short question.
        "请问" + "我们公司专业生产各类滤芯，价格优惠，质量可靠，" * 12 + "有兴趣吗？\r\n\r\n"
        f"{CARD}",
        # A phone in the customer's own words counts.
        f"我的手机是13912345678，能回电吗？\r\n\r\n{CARD}",
    ],
)
def test_the_contact_traits_count_as_before(body: str) -> None:
    raw = _mail(body)
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:signature-contact" not in tokens
    assert "b:phone" in tokens, tokens


def test_an_adverts_card_keeps_its_link() -> None:
    """A card under a pitch is the advert's: its link counts among the mail's sites."""
    raw = _mail(f"低价出售海关数据，精准客户开发，有意者请联系！\r\n\r\n{CARD}")
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:signature-links" not in tokens and "b:sites-free-1" in tokens, tokens


def test_a_company_sender_is_read_as_before() -> None:
    raw = _mail(f"KT-200的滤芯有货吗？\r\n\r\n{CARD}", sender="wang@lumen-partner.example")
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:signature-contact" not in tokens and "b:chat-id" in tokens
