"""A mail written in pinyin (no Chinese keyboard at hand) is Chinese, read as the Chinese it
spells; an English mail that names people and places in pinyin stays English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faq.search.dictionary import english_words
from mailrouter.parsing import parse_message
from support.core.text import (
    ENGLISH_LOOKALIKES,
    ENGLISH_SYLLABLES,
    PINYIN_SYLLABLES,
    PinyinVocabulary,
    pinyin_as_chinese,
    pinyin_syllables,
    read_pinyin,
    written_in_pinyin,
)
from tests.mailrouter.conftest import make_mail

BENCH = Path(__file__).resolve().parents[3] / "bench" / "pinyin_mails.jsonl"

#: Pinyin mails as customers write them: spaced, joined, tone marks, tone digits, a few English
#: words, a name, an order number.
PINYIN_MAILS = [
    "ni hao, wo de ding dan hai mei you fa huo, qing wen shen me shi hou fa?",
    "zhang hao bei suo le, zen me ban?",
    "kuai di yi zhi mei you geng xin",
    "Nǐ hǎo, wǒ xiǎng tuìkuǎn, dìngdān hào LH20260311-20417.",
    "yun4 fei4 zen3 me shou1?",
    "nihao, wodedingdan shenme shihou daohuo?",
    "hi, wo de order hai mei dao, tracking number ye cha bu dao wu liu xin xi",
    "Ni hao,\nwo shi Zhang Wei, wo xiang huan huo. Xie xie!",
    "wo de email shi chen@qq.com, mi ma wang le, zen me zhao hui?",
]

#: English mails that are near twins of pinyin: Chinese names and places, English words that
#: are pinyin syllables or split into them (time ti-me, here he-re), pinyin phrases quoted.
NEAR_TWINS = [
    "Hi, this is Zhang Wei from Wuhan. My order has not arrived yet, can you check?",
    "Can you see me here, Zhang Wei?",
    "Can you call me, Zhang Wei?",
    "Hi Zhang Wei, thanks, Li Na",
    "Please ship to Li Na, Room 1203, Lane 88 Yan An Road, Xuhui District, Shanghai.",
    "Hello, my name is Chen Xiaoming, I bought a fan in the Beijing store on Nanjing Road.",
    "Can he come and pick it up? My husband Zhou Jie is at home in Hangzhou all day.",
    "LIU Yang / ZHANG San: where is my parcel? Tracking says Dongguan since Monday.",
    "Thanks a lot, xie xie! The lamp arrived today. Ni hao to the whole team.",
    "Hang on, can you ping me when the man comes? I ran out of time, sorry.",
    "Can you send to Tai Chung in Taiwan? My sister Lin Mei Ling lives there.",
    "Zhang Wei\nHuang Li\nChen Ming\n\nThese three need staff accounts please.",
    "Can women and men get the same gift? He can come along on Monday.",
    "Wang Fang",
    "Zhang Wei Li Na Wang Fang Chen Jie",
    "Ni hao",
    "long time no see",
    "I need to change the date, the same time as before.",
    "Wei Zhang <wei.zhang@example.com> wrote: see the data here: https://lumen.example/zhang",
    "你好 ni hao, 我想退款",  # Chinese characters: detect_language decides
]


def test_pinyin_mails_are_pinyin() -> None:
    assert [mail for mail in PINYIN_MAILS if not written_in_pinyin(mail)] == []


def test_english_near_twins_stay_english() -> None:
    assert [mail for mail in NEAR_TWINS if written_in_pinyin(mail)] == []


def test_the_benchs_mails_are_judged_as_labelled() -> None:
    rows = [json.loads(line) for line in BENCH.read_text(encoding="utf-8").splitlines()]
    wrong = [
        row["id"]
        for row in rows
        if written_in_pinyin(f"{row['subject']}\n{row['body']}") != (row["kind"] == "pinyin")
    ]
    assert len(rows) == 50 and wrong == []


def test_a_pinyin_mail_reads_as_the_chinese_it_spells() -> None:
    read = pinyin_as_chinese(PINYIN_MAILS[0])
    assert read.startswith("你好，我的订单还没有发货，请问什么时候")
    assert pinyin_as_chinese("wo3 yao4 tui4 huo4, xie4 xie") == "我要退货，谢谢"
    # What is no pinyin stays as written: an order number, an address, a name in a sentence.
    assert "LH20260311-20417" in pinyin_as_chinese(PINYIN_MAILS[3])
    assert "chen@qq.com" in pinyin_as_chinese(PINYIN_MAILS[8])
    assert "Zhang Wei" in pinyin_as_chinese(PINYIN_MAILS[7])
    # Each line on its own: a subject does not run into the greeting.
    assert pinyin_as_chinese("tui kuan\nni hao, wo yao tui kuan").split("\n")[0] == "退款"
    # English stays as it is.
    assert pinyin_as_chinese(NEAR_TWINS[0]) == NEAR_TWINS[0]


def test_the_faqs_own_words_are_preferred_where_the_letters_spell_them() -> None:
    mail = "wo mei you shou dao bao guo, zen me ban?"
    assert "受到" in pinyin_as_chinese(mail)  # the commoner word, without the FAQ's
    known = PinyinVocabulary({"shoudao": ("收到", frozenset({4}))}, 7)
    assert "收到" in pinyin_as_chinese(mail, known)


def test_a_query_reads_only_known_words_and_a_mail_all_of_them() -> None:
    known = PinyinVocabulary({"tuikuan": ("退款", frozenset({3}))}, 7)
    assert read_pinyin(["wo", "yao", "tuikuan"], known, max_letters=40) == ["退款"]
    assert read_pinyin(["wo", "yao", "tuikuan"], known, whole=True) == ["我", "要", "退款"]
    assert read_pinyin(["tu", "ikuan"], known, whole=True) is None  # a space inside a syllable


def test_the_reading_is_bounded() -> None:
    assert read_pinyin(["wo"] * 2000, PinyinVocabulary({}, 0), whole=True) is None
    long = "wo de ding dan hai mei dao. " * 400
    assert written_in_pinyin(long)
    read = pinyin_as_chinese(long)
    assert read.startswith("我的订单还没到。") and read.endswith("wo de ding dan hai mei dao。")


def test_the_english_lookalikes_are_english_words_made_of_syllables() -> None:
    words = english_words()
    assert ENGLISH_LOOKALIKES <= words.keys()
    assert all(pinyin_syllables(word) for word in ENGLISH_LOOKALIKES)
    assert not ENGLISH_LOOKALIKES & PINYIN_SYLLABLES
    assert ENGLISH_SYLLABLES <= PINYIN_SYLLABLES


@pytest.mark.parametrize(
    ("subject", "body", "language"),
    [
        ("tui kuan", "ni hao, wo shang zhou tui le huo, tui kuan duo jiu neng dao zhang?", "zh"),
        ("Refund", "Hi, this is Zhang Wei from Wuhan, when will my refund arrive?", "en"),
        ("退款", "你好，退款多久能到账？", "zh"),
    ],
)
def test_the_parser_calls_a_pinyin_mail_chinese(subject: str, body: str, language: str) -> None:
    parsed = parse_message(
        make_mail(sender="Zhang Wei <zw@example.net>", subject=subject, body=body)
    )
    assert parsed.language == language
