"""The subject and sender a staff list shows of raw mail it did not parse (the quarantine page)."""

from __future__ import annotations

from pathlib import Path

from mailrouter.parsing import listed_headers
from mailrouter.parsing.headers import LISTED_SUBJECT_CHARS

REALMAIL = Path(__file__).resolve().parents[1] / "fixtures" / "realmail"


def test_an_encoded_chinese_subject_and_name_are_decoded() -> None:
    raw = (REALMAIL / "outlook-ooo-zh.eml").read_bytes()  # gb2312 B words
    assert listed_headers(raw) == ("自动答复: 热水器维修预约", "李娜 <lina@hengda-trading.cn>")


def test_raw_8bit_subjects_and_split_words_read_as_the_parser_reads_them() -> None:
    for name in ("raw-gbk-subject.eml", "split-multibyte-encoded-words.eml"):
        subject, _sender = listed_headers((REALMAIL / name).read_bytes())
        assert subject and "=?" not in subject and "\ufffd" not in subject, (name, subject)


def test_a_long_folded_subject_is_one_line_cut_short() -> None:
    words = " ".join(f"=?utf-8?B?5pyA5paw5LyY5oOg?= word{i}" for i in range(80))
    raw = f"From: a@b.example\r\nSubject: {words}\r\n\tmore\r\n\r\nbody".encode()
    subject, sender = listed_headers(raw)
    assert len(subject) == LISTED_SUBJECT_CHARS and subject.endswith("…")
    assert "\n" not in subject and subject.startswith("最新优惠 word0")
    assert sender == "a@b.example"


def test_a_subject_in_the_body_is_not_the_mails_and_nothing_is_empty() -> None:
    raw = b"From: <>\r\nTo: x@y.example\r\n\r\nSubject: not a header\r\n"
    assert listed_headers(raw) == ("", "<>")
    assert listed_headers(b"") == ("", "")


def test_controls_and_bidi_overrides_in_a_name_are_dropped() -> None:
    raw = b"From: =?utf-8?B?5byg5LiJ4oCu?= <z@qq.com>\r\nSubject: a\x1b[31mb\r\n\r\n"
    subject, sender = listed_headers(raw)
    assert sender == "张三 <z@qq.com>"
    assert "\x1b" not in subject
