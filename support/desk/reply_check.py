"""Spot phrases in a staff reply that customer-service guidance advises against.

Blaming a colleague, "not my job", "calm down", "company policy" as the whole answer: such
phrases make a customer feel brushed off even when the reply is otherwise right. The check
only warns and offers a kinder wording in the same language; staff may always send anyway.
Chinese is matched on a Simplified copy of the text (support.core.text.to_simplified keeps
every character in place), so offsets point into what the staff member actually typed; a
phrase written in Traditional characters gets its suggestion in Traditional characters.

`reply_in_other_language` is the other check before sending: a reply in English to a customer
who wrote in Chinese, or the other way round (in a mixed queue worked by keyboard, the easy
mistake).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from support.core.text import CJK_RE, detect_language, to_simplified, to_traditional

logger = logging.getLogger(__name__)

Language = Literal["en", "zh"]


@dataclass(frozen=True)
class PhraseWarning:
    """One risky phrase: ``phrase`` is the text as written, at ``text[start:end]``."""

    phrase: str
    category: str
    suggestion: str
    start: int
    end: int


SUGGESTIONS: dict[str, dict[Language, str]] = {
    "blames_colleagues": {
        "en": "I'll take this up with the team responsible myself and get back to you.",
        "zh": "我来和负责的同事确认，并亲自给您回复。",
    },
    "not_my_job": {
        "en": "Let me pass this to the right colleague and make sure they follow up with you.",
        "zh": "我帮您转给负责的同事，并会跟进到有结果为止。",
    },
    "dead_end": {
        "en": "I haven't been able to locate it yet. Could you send me the order number "
        "so I can keep looking?",
        "zh": "我这边暂时还没查到，麻烦您提供一下订单号，我继续帮您查。",
    },
    "not_our_problem": {
        "en": "I understand how frustrating this is. Here is what we can do to help: ...",
        "zh": "理解您的困扰，我们一起看看怎么帮您解决：……",
    },
    "blames_customer": {
        "en": "For next time, doing this earlier will make it quicker; for now, here is how "
        "we'll fix it: ...",
        "zh": "下次提前联系我们会处理得更快；这次我们先帮您这样解决：……",
    },
    "dismissive": {
        "en": "I understand this is frustrating, and I want to get it sorted for you.",
        "zh": "非常理解您的心情，我们一定尽快帮您处理。",
    },
    "helpless": {
        "en": "Here is what I can do for you: ...",
        "zh": "我这边可以为您做的是：……",
    },
    "policy_refusal": {
        "en": "We can't do that because ..., but here is what I can offer instead: ...",
        "zh": "这一项暂时无法办理，原因是……；不过我们可以为您……",
    },
    "condescending": {
        "en": "To recap: ...",
        "zh": "我再为您整理一下：……",
    },
    "dont_know": {
        "en": "Good question. Let me find out and get back to you.",
        "zh": "我帮您确认一下，稍后回复您。",
    },
}


@dataclass(frozen=True)
class _Rule:
    category: str
    language: Language
    pattern: re.Pattern[str]
    # A match is ignored when the clause before it matches this (e.g. "if you can't find…").
    unless_after: re.Pattern[str] | None = None


def _en(category: str, *phrases: str) -> list[_Rule]:
    """Whole-word English rules; a space in a phrase stands for any run of whitespace."""
    return [
        _Rule(
            category,
            "en",
            re.compile(r"(?<![\w'])" + phrase.replace(" ", r"\s+") + r"(?![\w'])", re.IGNORECASE),
        )
        for phrase in phrases
    ]


def _zh(category: str, *patterns: str, unless_after: str | None = None) -> list[_Rule]:
    exclusion = re.compile(unless_after) if unless_after else None
    return [_Rule(category, "zh", re.compile(pattern), exclusion) for pattern in patterns]


_IS = r"(?:that's|that is|it's|it is|this is|thats|its)"
_CANT = r"(?:can't|cant|cannot|can not|couldn't|could not|am unable to|are unable to|was unable to)"
# Someone else's team, never "our"/"my" team (owning the problem is good).
_OTHER_TEAM = (
    r"(?:the |a |an )?(?:(?!our\b|my\b)[\w-]+ ){0,2}"
    r"(?:department|dept|team|warehouse|courier)(?:'s)?"
)
_YOU_OR_CONDITION = r"(?:您|你|如果|若|万一|假如|要是|是否|一旦)[^。！？!?.，,；;]*$"

RULES: tuple[_Rule, ...] = (
    *_en(
        "blames_colleagues",
        rf"{_IS} {_OTHER_TEAM} (?:problem|issue|fault|mistake|responsibility)",
        r"(?:their|another department's|the other department's|the other team's) "
        r"(?:fault|mistake|problem)",
        rf"blame {_OTHER_TEAM}",
    ),
    *_en(
        "not_my_job",
        r"(?:not|isn't|isnt) (?:part of )?my (?:job|department|responsibility|area)",
        r"above my pay grade",
        r"I (?:don't|do not) (?:handle|deal with) (?:that|this|those)",
        r"(?:you'll|you will|you) (?:have to|need to|must) (?:contact|call|email|ask) "
        r"(?:another|the other|a different) (?:department|team)",
    ),
    *_en("dead_end", rf"(?:I|we) {_CANT} find(?: it| that| them| anything| any record)?"),
    *_en(
        "not_our_problem",
        r"not (?:our|my) (?:problem|concern|fault|issue)",
        r"nothing to do with (?:us|me)",
        rf"{_IS} (?:your|a you) problem",
    ),
    *_en(
        "blames_customer",
        r"you should(?:'ve| have)",
        r"you (?:were|are) supposed to",
        r"you (?:didn't|did not|failed to) (?:read|follow|check)",
        rf"{_IS} your (?:own )?fault",
        r"if you had (?:read|followed|checked|listened)",
    ),
    *_en(
        "dismissive",
        r"calm down",
        r"settle down",
        r"(?:you're|you are) overreacting",
        r"(?:don't|do not) (?:shout|yell)",
        r"(?:there's|there is) no need to (?:shout|yell|be rude|get upset)",
    ),
    *_en(
        "helpless",
        r"(?:there's |there is )?nothing (?:else |more )?(?:I|we) can do",
        r"out of (?:my|our) hands",
        r"(?:I|we) (?:can't|cannot) help you",
    ),
    *_en(
        "policy_refusal",
        rf"{_IS} (?:just |simply )?(?:against )?(?:our |the )?company policy",
        r"(?:against|because of|due to) (?:our |the )?company policy",
        r"company policy (?:says no|doesn't allow|does not allow|forbids|prohibits|won't allow)",
        r"policy is policy",
        r"rules are rules",
    ),
    *_en(
        "condescending",
        r"as I (?:already |have already |previously |have )?(?:said|stated|mentioned|explained|"
        r"told you)",
        r"per my (?:last|previous) (?:email|message|reply)",
        r"you (?:obviously|clearly) (?:didn't|did not|don't|do not)",
    ),
    *_en(
        "dont_know",
        r"I (?:don't|do not) know(?=\s*(?:[.!,;]|$))",
        r"(?:I have|I've|we have) no idea",
    ),
    *_zh(
        "blames_colleagues",
        r"(?:这|那)(?:是|属于)?[^，。！？,.!?\s我]{0,8}?(?:部门|部|那边|组|仓库|快递|物流)的"
        r"(?:问题|事|责任|错)",
        r"是(?:他们|别的部门|其他部门|其它部门|别人)的(?:问题|错|责任)",
        r"怪(?:他们|别的部门|其他部门|其它部门|别人|同事|快递|物流)",
    ),
    *_zh(
        "not_my_job",
        r"不归我(?:们)?(?:部门)?管",
        r"(?:这|那)?(?:个|件事)?不是我(?:们)?(?:部门)?(?:的(?:工作|职责|事情?|活)|负责的|管的)",
        r"(?:我|我们)(?:这边|部门)?不负责(?=这|那|[。！，,.!]|$)",
        r"(?:你|您)(?:自己)?(?:去)?(?:找|问|联系)(?:别的|其他|其它|另外的?)(?:部门|人)",
    ),
    *_zh(
        "dead_end",
        r"(?<![您你])(?:(?:我|我们)(?:这边|系统)?(?:也|实在|还是|都)?)?"
        r"(?:找不到|查不到|没(?:有)?找到|没(?:有)?查到)",
        unless_after=_YOU_OR_CONDITION,
    ),
    *_zh(
        "not_our_problem",
        r"不关(?:我|我们)(?:的)?事",
        r"(?:跟|和|与)(?:我|我们)(?:公司)?(?:没(?:有)?(?:关系|关联)|无关)",
        r"不是(?:我|我们)(?:公司)?的(?:问题|错|责任)",
    ),
    *_zh(
        "blames_customer",
        r"(?:你|您)(?:应该|应当)(?:早点|早些)",
        r"(?:你|您)(?:本来|当初|早就)(?:应该|应当|就该)",
        r"(?:你|您)(?:早该|本该|本应)",
        r"谁让(?:你|您)",
        r"是(?:你|您)(?:自己)?的(?:错|责任)",
        r"是(?:你|您)自己的问题",
        r"怪(?:你|您)(?:自己)?",
        r"(?:你|您)为什么不早(?:点)?(?:说|告诉|联系)",
    ),
    *_zh(
        "dismissive",
        r"(?:你|您|请)(?:先)?冷静",
        r"冷静(?:一下|一点|点)",
        r"(?:别|不要)(?:激动|嚷|吵|喊)",
        r"(?:急|吵|嚷|喊)什么",
        r"有什么好(?:急|生气)的",
    ),
    *_zh(
        "helpless",
        r"(?:我|我们)(?:这边)?(?:也|实在|真的|确实)*没(?:有)?办法",
        r"无能为力",
        r"爱莫能助",
        r"(?:我|我们)(?:也|实在)?帮不了(?:你|您)",
    ),
    *_zh(
        "policy_refusal",
        r"(?:这|那)(?:是|就是)(?:我们)?(?:公司)?的?规定",
        r"规定就是规定",
        r"公司规定(?:就是这样|不允许|不行|不能)",
        r"按(?:照)?(?:公司)?规定(?:不行|不能|不可以)",
        r"没有为什么",
    ),
    *_zh(
        "condescending",
        r"我(?:已经|都|早就)(?:说|讲)(?:过|了)(?:很多遍|好几遍|多少遍|好多次)?",
        r"我(?:已经|都|早就)告诉过(?:你|您)",
        r"(?:说|讲)了(?:多少|好几|很多)(?:遍|次)",
        r"(?:你|您)(?:听不懂|看不懂)(?:吗|么)",
    ),
    *_zh(
        "dont_know",
        r"(?:我|我们)(?:也)?不(?:知道|清楚)(?=[。！!，,.…？?]|$)",
    ),
)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})
_CLAUSE_LOOKBACK = 12


def _normalized(text: str) -> str:
    """Simplified Chinese, straight apostrophes, same length as ``text`` (to_simplified keeps
    every character in place, so offsets into it are offsets into ``text``)."""
    return to_simplified(text.translate(_APOSTROPHES))


def check_reply(text: str) -> list[PhraseWarning]:
    """Warnings for risky phrases in ``text``, in reading order, never overlapping."""
    if not text:
        return []
    normalized = _normalized(text)
    found: list[tuple[int, int, _Rule]] = []
    for rule in RULES:
        for match in rule.pattern.finditer(normalized):
            start, end = match.span()
            if start == end:
                continue
            if rule.unless_after is not None:
                before = normalized[max(0, start - _CLAUSE_LOOKBACK) : start]
                if rule.unless_after.search(before):
                    continue
            found.append((start, end, rule))
    found.sort(key=lambda item: (item[0], -(item[1] - item[0])))
    warnings: list[PhraseWarning] = []
    for start, end, rule in found:
        if warnings and start < warnings[-1].end:
            continue  # the longer, earlier match already covers this text
        phrase = text[start:end]
        suggestion = SUGGESTIONS[rule.category][rule.language]
        if rule.language == "zh" and phrase != normalized[start:end]:
            suggestion = to_traditional(suggestion)  # answer in the writer's script
        warnings.append(
            PhraseWarning(
                phrase=phrase,
                category=rule.category,
                suggestion=suggestion,
                start=start,
                end=end,
            )
        )
    return warnings


#: A reply is called English with at least this many Latin words ("OK, thanks!" to a Chinese
#: customer is no English prose), Chinese with at least this many Chinese characters.
MIN_LATIN_WORDS = 6
MIN_CJK_CHARS = 4
_LATIN_WORD_RE = re.compile(r"[A-Za-z]{2,}")
#: Web and mail addresses are in no language: a Chinese reply naming an FAQ article's address
#: is Chinese. Dropped as whole whitespace-separated tokens (a regex such as ``\S+@\S+`` backs
#: off at every character of a long token: 0.36 s of CPU for 20,000 letters).
_ADDRESS_MARKS = ("://", "www.", "@")


def _without_addresses(text: str) -> str:
    return " ".join(
        token for token in text.split() if not any(mark in token for mark in _ADDRESS_MARKS)
    )


def reply_in_other_language(text: str, customer_language: str | None) -> Language | None:
    """The language `text` is written in ("en" or "zh") when it is not `customer_language`
    (the language of the customer's latest mail); None when they agree, when the customer's is
    unknown, or when the text is too short to say."""
    customer = (customer_language or "").split("-")[0].split("_")[0].lower()
    if customer not in ("en", "zh"):
        return None
    prose = _without_addresses(text or "")
    written = detect_language(prose)
    if written == customer:
        return None
    if written == "en" and len(_LATIN_WORD_RE.findall(prose)) >= MIN_LATIN_WORDS:
        return "en"
    if written == "zh" and len(CJK_RE.findall(prose)) >= MIN_CJK_CHARS:
        return "zh"
    return None
