"""Mails that say nothing (mailrouter.routing.contentless): a greeting, a test, "see attached",
a signature, nothing; and short mails that do say something."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailrouter.routing import contentless
from mailrouter.routing.contentless import MAX_CHARS, says_nothing, without_courtesy
from support.core.text import to_simplified
from tests.work import cpu_seconds


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
        # Markup typed as text, the tags' names and the code in them no words of the customer.
        ("", "<script>alert(1)</script>"),
        ("hello", "<SCRIPT type='text/javascript'>alert('x')</SCRIPT>"),
        ("", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("", "<img src=x onerror=alert(1)><svg/onload=alert(1)>"),
        ("", "<style>body{color:red}</style><!-- note --><div><br/></div>"),
        ("", "<p>Hi there</p>"),
        ("", "--\nMaria Lopez\n<maria.lopez@example.org>"),
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
        ("", "Hi, <b>refund</b> please"),
        ("", "I typed <script> into your form and it broke"),
        ("<b>Invoice</b>", ""),
    ],
)
def test_says_something(subject: str, text: str) -> None:
    assert not says_nothing(subject, text)


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        # swaks's own test mail, what a new admin sends first to the SMTP intake: it became an
        # Important (level 4, 84 %) Sales ticket.
        ("test Mon, 07 Dec 2026 10:43:21 +0000", "This is a test mailing\n\n"),
        ("Test email", "This is a test email."),
        ("Test message", "Just testing."),
        ("test 2026-12-07 10:43", "this is just a test"),
        ("测试邮件", "这是一封测试邮件"),
    ],
)
def test_a_test_mail_says_nothing(subject: str, text: str) -> None:
    assert says_nothing(subject, text)


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("test Mon, 07 Dec 2026 10:43:21 +0000", "My kettle broke."),
        ("Order of 07 Dec 2026", ""),
        ("Test results", "This is a test mailing"),
        ("", "This is a test of your patience: where is my refund?"),
        ("", "The test mail you sent me had no invoice."),
    ],
)
def test_a_date_or_a_test_beside_content_says_something(subject: str, text: str) -> None:
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


# ----------------------------------------------------------------------------- courtesy


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            "您好，我的电水壶不加热了，请问怎么办？谢谢。李明",
            ["电水壶不加热了", "请问怎么办"],
            ["您好", "谢谢", "李明"],
        ),
        (
            "Hi,\n\nMy kettle stopped heating yesterday.\n\nThanks,\nMark Jensen",
            ["My kettle stopped heating yesterday."],
            ["Hi", "Thanks", "Mark", "Jensen"],
        ),
        (
            "Dear Sir or Madam,\n\nThe toaster only browns one side.\n\nKind regards,\n"
            "Helen Moreau\nSenior Buyer, Moreau Interiors Ltd\nT: +44 161 555 0192\n"
            "linkedin.com/in/helen | www.moreau.example",
            ["The toaster only browns one side."],
            ["Dear", "Madam", "regards", "Helen", "Moreau", "Buyer", "0192", "linkedin"],
        ),
        (
            "你好，\n\n洗衣机脱水声音很大。\n\n此致\n敬礼\n\n王经理\n上海某科技有限公司",
            ["洗衣机脱水声音很大"],
            ["你好", "此致", "敬礼", "王经理", "有限公司"],
        ),
        ("Hello, my washing machine does not drain. Anna", ["does not drain"], ["Hello", "Anna"]),
        ("洗衣机洗完不排水。王芳\n--\n王芳 13800138000", ["洗衣机洗完不排水"], ["王芳"]),
    ],
)
def test_greetings_closings_and_signatures_are_left_out(text, kept, gone) -> None:
    read = without_courtesy(text)
    assert all(words in read for words in kept)
    assert not [words for words in gone if words in read]


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Hi HR, how many days of leave do I have left?", "HR"),
        ("Dear Accounts Payable,\nPlease update our bank details.", "Accounts Payable"),
        ("人事部您好：\n我想请假。", "人事部"),
        ("Order Status", "Order Status"),  # a mail's only line is its content
        ("Refund\nJohn Smith", "Refund"),
        ("I bought it at Argos. It broke.", "It broke."),  # no name after the last sentence
    ],
)
def test_a_greeting_keeps_the_department_it_names_and_a_mail_its_content(text, kept) -> None:
    assert kept in without_courtesy(text)


def test_without_courtesy_is_linear_on_hostile_text() -> None:
    # Regular expressions' work (uncountable from Python): 16 ms of CPU at load 17; the bound
    # is 125 times that (a quadratic path on these 200k pieces takes minutes).
    text = "Hi " * 100_000 + "\n" + "Anna Smith\n" * 10_000 + "x," * 100_000
    assert cpu_seconds(without_courtesy, text) < 2.0


def test_lines_remembered_read_as_lines_worked_out_afresh(monkeypatch) -> None:
    """`_line_without_courtesy` is remembered per line: every hand-written mail of bench/
    (both languages and scripts) reads the same with the remembered lines, twice over, as with
    each line worked out afresh."""
    bench = Path(__file__).resolve().parents[3] / "bench"
    texts = [
        to_simplified(f"{row['subject']}\n{row['body']}")
        for pattern in ("offer_mails_handwritten*.jsonl", "routing_mails_realistic*.jsonl")
        for path in sorted(bench.glob(pattern))
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    ]
    assert len(texts) > 1000
    remembered = [contentless.without_courtesy(text) for text in texts * 2]
    assert contentless._line_without_courtesy.cache_info().hits > len(texts)
    monkeypatch.setattr(
        contentless, "_line_without_courtesy", contentless._line_without_courtesy.__wrapped__
    )
    afresh = [contentless.without_courtesy(text) for text in texts * 2]
    assert remembered == afresh
    assert sum(a != b for a, b in zip(afresh, texts * 2, strict=True)) > len(texts)
