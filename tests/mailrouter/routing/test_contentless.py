"""Mails that say nothing (mailrouter.routing.contentless): a greeting, a test, "see attached",
a signature, nothing; and short mails that do say something."""

from __future__ import annotations

import pytest

from mailrouter.routing.contentless import MAX_CHARS, says_nothing


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("", "hi"),
        ("hi", "hi"),
        ("", "hello"),
        ("", "你好"),
        ("", "在吗"),
        ("", "test"),
        ("", ""),
        ("Re: Hi", "Hi there!\n\nBest regards,\nAnna"),
        ("轉寄：您好", "請看附件"),
        ("", "哈囉，請問有人在嗎？"),
        ("", "see attached"),
        ("Fwd:", "Please find attached.\n\nThanks,\nTom"),
        ("", "请看附件"),
        ("", "--\nMaria Lopez\nmaria.lopez@example.org"),
        ("", "您好！\n\n李明\n手机：13812345678"),
        ("", "Hello,\n\nJohn Smith\nPurchasing Manager\nAcme Trading Ltd\nwww.acme.example"),
    ],
)
def test_says_nothing(subject: str, text: str) -> None:
    assert says_nothing(subject, text)


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("Refund", ""),
        ("", "Refund"),
        ("", "Order Status"),  # capitals alone are no signature without a greeting or contacts
        ("Invoice", "see attached"),
        ("", "Hi,\nOrder 12345678"),
        ("", "您好\n退货"),
        ("", "你好，发票怎么开？"),
        ("", "Thanks,\nmy order never arrived"),
        ("", "我要投诉你们公司"),
        ("", "I want to complain about your company"),
        ("", "The test button on the smoke alarm does nothing."),
        ("Hello", "Hello,\n\nI was charged twice.\n\nBest,\nSam Lee\nSam Lee Design Ltd"),
    ],
)
def test_says_something(subject: str, text: str) -> None:
    assert not says_nothing(subject, text)


def test_a_long_mail_is_not_read() -> None:
    assert not says_nothing("", "hi " * (MAX_CHARS // 3 + 1))
    assert not says_nothing("", "hi\n" * 5_000_000)  # 10 MB of greetings: cut before any work


def test_one_word_of_the_senders_own_name_signs_a_greeting() -> None:
    """A greeting over "Carol" from Carol says nothing; over another word, or with no name to
    match, one capitalised word alone still says something ("Hi" over "Refund")."""
    assert says_nothing("Hi", "Hi\n\nCarol", "Carol")
    assert says_nothing("", "Hello,\nSmith.", "Dr. Anna Smith")
    assert not says_nothing("Hi", "Hi\n\nCarol")
    assert not says_nothing("", "Hi\n\nRefund", "Carol")
    assert not says_nothing("", "Carol", "Carol")  # no greeting: a name alone is no signature
