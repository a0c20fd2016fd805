"""`whole_words` (the fast form of a phrase's word edges) means what the plain form means."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailrouter.routing.features import mail_text, normalize_text
from mailrouter.routing.labels import load_bootstrap_examples
from mailrouter.routing.urgency_rules import (
    CALM_PHRASES,
    CONTACT_WORDS,
    DEVICE_ALARM_RE,
    INSTITUTIONS,
    NOT_ALARMS,
    PAST_OUTAGE_RE,
    URGENCY_CLAIMS,
    normalize_for_rules,
    whole_words,
)

BENCH = Path(__file__).resolve().parents[3] / "bench"
WORD = "a-z0-9"


def plain_form(body: str, first: str, last: str) -> str:
    """The obvious way to say "whole words": look behind before the phrase, ahead after it."""
    if re.match(f"[{WORD}]", first):
        body = rf"(?<![{WORD}]){body}"
    if re.match(f"[{WORD}]", last):
        body = rf"{body}(?![{WORD}])"
    return body


def both_forms(phrases: tuple[str, ...], separator: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    bodies = []
    for phrase in phrases:
        normalized = normalize_for_rules(phrase.strip())
        bodies.append(
            (separator.join(map(re.escape, normalized.split())), normalized[0], normalized[-1])
        )
    fast = re.compile("|".join(whole_words(body) for body, _, _ in bodies))
    plain = re.compile("|".join(plain_form(*parts) for parts in bodies))
    return fast, plain


def texts() -> list[str]:
    """Every bootstrap example and realistic routing mail, and edge cases of word edges."""
    found = [mail_text(example.subject, example.body) for example in load_bootstrap_examples()]
    for path in sorted(BENCH.glob("routing_mails_realistic*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                mail = json.loads(line)
                found.append(mail_text(mail["subject"], mail["body"]))
    found += [
        "emergency contact",
        "xemergency contact",
        "emergency contacts2 and police station",
        "the 2police station. no hurry",
        "a no-smoking room, no hurryx, (no hurry)",
        "紧急联系人 police headquartersx police headquarters",
    ]
    return [normalize_for_rules(text) for text in found]


@pytest.mark.parametrize(
    "phrases",
    [NOT_ALARMS, INSTITUTIONS, CONTACT_WORDS, URGENCY_CLAIMS, CALM_PHRASES],
    ids=["not-alarms", "institutions", "contact-words", "claims", "calm"],
)
def test_the_fast_form_finds_exactly_what_the_plain_form_finds(phrases: tuple[str, ...]) -> None:
    fast, plain = both_forms(phrases, r"[\s-]+")
    corpus = texts()
    assert len(corpus) > 500
    hits = 0
    for text in corpus:
        expected = [m.span() for m in plain.finditer(text)]
        assert [m.span() for m in fast.finditer(text)] == expected, text[:200]
        hits += bool(expected)
    assert hits >= 2  # the corpus does exercise the phrases


def test_the_no_hurry_words_become_one_token_only_as_whole_words() -> None:
    assert "xnohurryx" in normalize_text("No hurry, thanks")
    assert "xnohurryx" not in normalize_text("nohurry or no hurryx")
    assert "xnohurryx" in normalize_text("(No  hurry.)")


#: The two patterns as they were written before `whole_words` (the plain, slower form).
PLAIN_DEVICE_ALARM_RE = (
    r"(?:滤芯|滤网|机器|机子|设备|传感器|感应器|探测器|仪表|水位|缺水|水箱|温度|高温|超温"
    r"|故障|错误码|屏幕|面板|净水器|净化器|热水器|洗衣机|冰箱|空调|冷气|烤箱|电饭煲)"
    r"[^\s，。！？；：,.!?;:我你他她]{0,4}报警"
)
PLAIN_PAST_OUTAGE_RE = (
    r"\b(?:went|was|were|had\s+been)\s+down\b(?=[^.!?;\n]{0,40}?\b(?:last\s+(?:year|month"
    r"|week|summer|winter|spring|autumn|christmas)|(?:years?|months?|weeks?|ages|a\s+while"
    r"|some\s+time|a\s+long\s+time)\s+ago|back\s+in|in\s+(?:19|20)\d\d)\b)"
    r"|(?:去年|前年|几年前|几个月前|上个月|以前|早前|那年)[^\s，。！？；,.!?;]{0,12}?"
    r"(?:网站|系统|服务器|平台|接口)?(?:挂了|宕机|当机|瘫痪|崩溃)"
)


@pytest.mark.parametrize(
    ("fast", "plain", "extra"),
    [
        (
            PAST_OUTAGE_RE,
            PLAIN_PAST_OUTAGE_RE,
            [
                "it went down last year",
                "itwas down last year",
                "had  been down in 2019",
                "去年网站挂了一阵子",
                "以前系统宕机过",
            ],
        ),
        (
            DEVICE_ALARM_RE,
            PLAIN_DEVICE_ALARM_RE,
            ["净水器滤芯已经报警三天了", "机器漏电，我要报警"],
        ),
    ],
    ids=["past-outage", "device-alarm"],
)
def test_the_literal_first_patterns_find_what_the_plain_ones_find(
    fast: str, plain: str, extra: list[str]
) -> None:
    fast_re, plain_re = re.compile(fast), re.compile(plain)
    found = 0
    for text in [*texts(), *extra]:
        expected = [m.span() for m in plain_re.finditer(text)]
        assert [m.span() for m in fast_re.finditer(text)] == expected, text[:200]
        found += bool(expected)
    assert found >= len(extra)
