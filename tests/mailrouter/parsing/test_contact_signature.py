"""A trailing contact block is a signature, as Chinese business people sign without "-- ".

A qq.com customer's one-line question signed "王磊 / 微信：... / 手机：... / http://..." was
certain spam (13.0): the parser saw no signature, so the spam features read the WeChat id, the
phone and the shop link as the mail's. The block is recognised in the last lines only, each
short, "label：value" contact lines under a name line (and a title or company line); an
advert's contact list and a customer's order details are not a signature.
"""

from __future__ import annotations

import pytest

from mailrouter.parsing.quotes import is_contact_card, split_quote

QUESTION = "你好，请问KT-200的滤芯在哪里可以买到？"


@pytest.mark.parametrize(
    "block",
    [
        # Simplified, the shape of the report.
        "王磊\n微信：wanglei_88\n手机：138 1234 5678\nhttp://www.example-shop.cn",
        # Traditional, half-width colons, company and address.
        "陳志明\n台灣明光貿易有限公司\n電話: 02-2345-6789\n手機：0912 345 678\n"
        "地址：台北市中山區南京東路二段100號\nLINE: chenzm",
        # English, a title line under the name.
        "Wang Lei\nPurchasing Manager\nTel: +86 21 6234 5678\nMobile: +86 138 1234 5678\n"
        "WeChat: wanglei_88\nhttps://www.example-shop.cn",
        # QQ, a mail address, a bare link.
        "李娜\nQQ：88123456\n邮箱：lina@qq.com\nwww.lina-home.example",
    ],
)
def test_a_trailing_contact_block_is_a_signature(block: str) -> None:
    new, _quoted, signature = split_quote(f"{QUESTION}\n\n{block}\n")
    assert new == QUESTION
    assert signature == block


def test_a_contact_block_under_a_closing_word_keeps_the_closing() -> None:
    text = f"{QUESTION}\n谢谢！\n\n王磊\n微信：wanglei_88\n手机：13812345678"
    new, _quoted, signature = split_quote(text)
    assert new == f"{QUESTION}\n谢谢！"
    assert signature.startswith("王磊\n")


@pytest.mark.parametrize(
    "text",
    [
        # An advert: a pitch, then its contact list under a "联系人" (contact person) line.
        "专业代开各类发票，量大从优，欢迎来电咨询！\n\n联系人：张经理\n电话：138 1234 5678\n"
        "微信：fapiao_888\nQQ：88123456",
        # An advert's contact list signed by a "manager" (no person signs "张经理").
        "低价出售海关数据，精准客户开发！\n\n张经理\n手机：138 1234 5678\n微信：data_888\n"
        "QQ：88123456",
        # The same without a name (a card names its person).
        "低价出售海关数据，精准客户开发，欢迎咨询。\n\n手机：138 1234 5678\n微信：data_888\n"
        "QQ：88123456\n网址：http://data.example.cn",
        # A customer's order details: what the mail is about, not a signature.
        "我的订单还没有发货，麻烦查一下。\n\n订单号：88240193\n收货人：王磊\n电话：13812345678\n"
        "地址：上海市徐汇区漕溪北路88号",
        "我的订单还没有发货，麻烦查一下。\n订单号：88240193\n电话：13812345678\n"
        "地址：上海市徐汇区漕溪北路88号",
        # Nothing but the contact block: it is all the customer wrote.
        "王磊\n微信：wanglei_88\n手机：138 1234 5678",
        # A list of links under a heading (a list mail's "SEE ALSO") has no contact lines.
        "The ozone figures are in.\n\nSEE ALSO\nhttp://science.example/a\n"
        "http://science.example/b\nmail@science.example",
        # One contact line is the customer's own sentence, not a card.
        f"{QUESTION}\n\n王磊\n手机：13812345678",
    ],
)
def test_what_is_not_a_contact_signature(text: str) -> None:
    new, _quoted, signature = split_quote(text)
    assert (new, signature) == (text, "")


def test_a_long_contact_list_is_not_a_signature() -> None:
    lines = "\n".join(f"电话：021-6234-56{i:02}" for i in range(12))
    text = f"{QUESTION}\n\n王磊\n{lines}"
    assert split_quote(text)[1:] == ("", "")


def test_long_lines_are_not_a_card() -> None:
    long_address = "地址：" + "上海市徐汇区漕溪北路" * 10
    text = f"{QUESTION}\n\n王磊\n微信：wanglei_88\n{long_address}"
    assert split_quote(text)[2] == ""


def test_a_huge_body_is_read_in_its_last_lines_only() -> None:
    body = "\n".join(["微信：abc"] * 200_000)
    new, _quoted, signature = split_quote(f"{QUESTION}\n\n{body}")
    assert signature == ""


def test_is_contact_card_tells_a_card_from_other_signatures() -> None:
    assert is_contact_card(
        "王磊\n微信：wanglei_88\n手机：138 1234 5678\nhttp://www.example-shop.cn"
    )
    assert not is_contact_card("Sent from my iPhone")
    assert not is_contact_card("Li Na\nhttps://www.linkedin.com/in/lina")
    assert not is_contact_card("")
