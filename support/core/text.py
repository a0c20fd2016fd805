"""Chinese and mixed Chinese/English text: the one place that knows OpenCC and jieba.

Search, the mail classifier, the urgency rules and the reply check all read Chinese the same
way, so a Traditional mail and its Simplified twin score, route and warn alike:

- `to_simplified`: Traditional -> Simplified with OpenCC t2s plus this project's own rule
  (帳/帐 of accounts -> 账), one character for one character so offsets stay valid;
  `simplified_characters`: the same table's characters alone, for a reader that must be cheap;
- `search_simplified`: the same, with written Cantonese read as Mandarin (收唔到貨 -> 收不到货),
  for FAQ search and the auto-reply's matching only;
- `segment` / `segment_for_search`: one jieba instance with the shop's user dictionary;
  `is_dictionary_word`: whether its dictionary knows a word;
- `CJK_CHARS`, `CJK_RE`, `CJK_RUN_RE`, `has_cjk`: one definition of a Chinese character;
- `detect_language`: "zh" or "en";
- `to_traditional`, `writes_traditional`, `as_written_in`: answering a writer of Traditional
  characters in them, and showing them the words a reading of their text found as they wrote;
  `typed_in_traditional`: the same question for a search query;
  `for_simplified_reader`: a text written in Traditional (a Taiwan admin's article) for a
  reader of Simplified; `convert_keeping`: either conversion around words kept as written;
- `NO_TOPIC_WORDS`, `carries_topic`: words shown as why a mail was routed that tell a reader
  nothing (还是, 一直, "just");
- `quoted`: someone's value (an address, a tag, a field name) as a message quotes it back, on
  a page or in an API error, cut the one way.

The lowest layer: imports only the standard library and third-party packages.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import os
import re
import stat
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape, unescape
from typing import TYPE_CHECKING

from opencc import OpenCC

if TYPE_CHECKING:  # jieba is imported when a text is first segmented (0.2-0.5 s of CPU)
    import jieba
    import jieba.posseg

logger = logging.getLogger(__name__)

__all__ = [
    "CJK_CHARS",
    "CJK_RE",
    "CJK_RUN_RE",
    "CJK_SHARE_FOR_CHINESE",
    "NO_SUBJECT_MARKER",
    "NO_TOPIC_WORDS",
    "SHOP_WORDS",
    "as_taiwan_says",
    "as_written_in",
    "carries_topic",
    "clear_caches",
    "convert_keeping",
    "detect_language",
    "for_simplified_reader",
    "has_cjk",
    "pinyin_as_chinese",
    "pinyin_vocabulary",
    "pinyin_words",
    "read_pinyin",
    "quoted",
    "segment",
    "segment_for_search",
    "search_simplified",
    "segmenter",
    "simplified_characters",
    "to_simplified",
    "to_traditional",
    "typed_in_traditional",
    "writes_traditional",
    "written_in_pinyin",
]

# ---------------------------------------------------------------------------------------------
# What counts as a Chinese (CJK) character
# ---------------------------------------------------------------------------------------------

#: Body of a regex character class: kana, CJK unified ideographs (extension A, the basic
#: block, compatibility ideographs) and the supplementary ideographic planes. Kana is in so
#: that detect_language agrees with the mail parser's rule (a Japanese mail is not English).
#: A message's text when its mail had none (only a file, say): stored so a view never shows
#: a blank message, and shown in the reader's language (`support.core.web.message_words`).
NO_TEXT_MARKER = "(no text)"
#: A ticket's subject when its mail had none, stored as it always was and shown in the
#: reader's language (`support.core.web.subject_shown`, `support.desk.models.Ticket.own_subject`).
NO_SUBJECT_MARKER = "(no subject)"

CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
CJK_RE = re.compile(f"[{CJK_CHARS}]")
CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")


def has_cjk(text: str | None) -> bool:
    """True if `text` holds at least one CJK character."""
    return text is not None and CJK_RE.search(text) is not None


# Markup typed as text (`without_markup`): script and style blocks (to their end, or the
# text's), comments and declarations, and tags of real names with their attributes.
_CODE_BLOCK_RE = re.compile(
    r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)|<!--.*?(?:-->|$)", re.IGNORECASE | re.DOTALL
)
_TAG_RE = re.compile(r"</?[A-Za-z][\w:-]*(?:[\s/][^<>]*)?>|<![A-Za-z][^<>]*>")


def without_markup(text: str) -> str:
    """``text`` without HTML or XML markup typed as text: tags with their attributes, comments,
    script and style blocks with their code, character references (``&lt;b&gt;`` too). A mail
    of ``<script>alert(1)</script>`` went to HR at 0.77 on "alert", and a portal search for it
    listed five "possibly related" articles on the "1": code is no customer's word.
    Only real tag names are tags: ``<maria@example.org>`` is an address and stays."""
    text = unescape(text)
    text = _CODE_BLOCK_RE.sub(" ", text)
    return _TAG_RE.sub(" ", text)


# ---------------------------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------------------------

#: A Chinese character carries about a word, so a modest share of the letters already means
#: Chinese prose; an English mail quoting one Chinese name stays English.
CJK_SHARE_FOR_CHINESE = 0.15


def detect_language(text: str | None, *, min_cjk_share: float = CJK_SHARE_FOR_CHINESE) -> str:
    """'zh' when CJK characters are at least `min_cjk_share` of the letters, else 'en'.

    The default is the rule for whole mails (the mail parser's ``ParsedMail.language``). Pass
    ``min_cjk_share=0`` for short search queries: any Chinese character makes a Chinese
    question ("我的order什么时候到" is Chinese), which is what the FAQ search and the portal want.
    """
    if not text:
        return "en"
    cjk = len(CJK_RE.findall(text))
    if not cjk:
        return "en"
    letters = sum(map(str.isalpha, text))
    other = max(letters - cjk, 0)
    return "zh" if cjk / (cjk + other) >= min_cjk_share else "en"


#: Letters of the Latin script (Basic Latin, Latin-1, Latin Extended-A and -B: "José", "Łukasz").
_LATIN_LETTER_RE = re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]")


#: A toneless pinyin syllable: j, q and x take only the i- and ü-finals, and a syllable without
#: an initial is one of those that stand alone (an, ou, er...).
_PINYIN_SYLLABLE = (
    r"(?:(?:zh|ch|sh|[bpmfdtnlgkhrzcsyw])(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei"
    r"|ao|ou|an|en|in|un|ia|ie|iu|ua|uo|ui|ue|v|a|o|e|i|u)"
    r"|[jqx](?:iang|iong|ian|iao|ing|ia|ie|iu|in|ue|uan|un|i|u)"
    r"|ang|eng|ai|ei|ao|ou|an|en|er|a|o|e)"
)
_PINYIN_WORD_RE = re.compile(f"(?:{_PINYIN_SYLLABLE}){{1,3}}", re.IGNORECASE)
#: The commonest Chinese family names in pinyin: one of them makes a name of pinyin words a
#: Chinese name ("Zhang Wei", "Wei Zhang", "Chen Xiaoming").
PINYIN_SURNAMES = frozenset(
    """wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng
    liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye
    cheng wei su lu ding ren shen yao jin cui zhong tan fan fang shi qian dai xia jia qiu hou
    meng xiong qin bai mao hao kong wan gu lei long duan lai yin qiao shao ouyang situ""".split()
)


def is_pinyin_name(name: str) -> bool:
    """Whether ``name`` is a Chinese name in pinyin: two to four words, each of one to three
    pinyin syllables, one of them a common family name (`PINYIN_SURNAMES`)."""
    words = re.split(r"[\s,.-]+", name.strip())
    words = [word for word in words if word]
    return (
        2 <= len(words) <= 4
        and all(_PINYIN_WORD_RE.fullmatch(word) for word in words)
        and any(word.casefold() in PINYIN_SURNAMES for word in (words[0], words[-1]))
    )


def language_of_name(name: str | None) -> str | None:
    """A hint from the script of a mail's display name, for a mail of no words: "zh" for a
    name in Chinese characters ("李明"), "en" for one in Latin letters only ("John Smith"),
    None for any other or none (an address as its name, digits, Cyrillic) -- a weak hint,
    below the customer's own earlier language. A Chinese name in pinyin ("Zhang Wei",
    `is_pinyin_name`) is no hint either way: a mail client shows a Chinese customer's name in
    pinyin as often as an English speaker's, so the desk's own language decides (a photo from
    "Zhang Wei" to a Chinese desk was answered in English)."""
    name = (name or "").strip()[:200]
    if not name or "@" in name:
        return None
    if has_cjk(name):
        return "zh"
    letters = [c for c in name if c.isalpha()]
    if len(letters) >= 2 and all(_LATIN_LETTER_RE.match(c) for c in letters):
        return None if is_pinyin_name(name) else "en"
    return None


# ---------------------------------------------------------------------------------------------
# Traditional -> Simplified
# ---------------------------------------------------------------------------------------------

_t2s_lock = threading.Lock()


@functools.cache
def _t2s() -> tuple[OpenCC, re.Pattern[str] | None]:
    """The converter, and a pattern of the characters without which it cannot change a text.

    Those are the keys of its character table plus every character of a phrase key that holds
    none of them (沈默 -> 沉默). A text with none of these characters (English, or Chinese that
    is already Simplified) is returned as it is, which saves most of the conversion time. The
    pattern is a character class of the Basic Multilingual Plane ones (a regex scans a mail
    four times as fast as a set of characters is checked against it) or any character beyond
    it, rare in mail, for which the text is simply converted. None: always convert.
    """
    with _t2s_lock:
        converter = OpenCC("t2s")
        converter.convert("")  # loads the tables
        triggers: set[str] = set()
        try:
            tables = [entries for group in converter._dict_chain_data for *_, entries in group]
            characters = {key for table in tables for key in table if len(key) == 1}
            triggers |= characters
            for table in tables:
                for key, value in table.items():
                    if key != value and characters.isdisjoint(key):
                        triggers.update(key)
        except (AttributeError, TypeError, ValueError):  # another opencc layout: always convert
            logger.info("OpenCC tables not readable: every text goes through t2s")
            return converter, None
        basic = "".join(re.escape(char) for char in sorted(triggers) if char <= "\uffff")
        basic_class = f"[{basic}]|" if basic else ""
        return converter, re.compile(f"{basic_class}[\U00010000-\U0010ffff]")


@functools.cache
def _s2tw() -> OpenCC:
    return OpenCC("s2tw")


# t2s turns 帳 into the older 帐 (帳號 -> 帐号), and some people still type 帐号, but
# Simplified text writes accounts with 账: one spelling, so 帳號 meets 账号 and 未到帳 meets
# 未到账. Tents and nets (帐篷, 蚊帐) keep 帐.
_ACCOUNT_ZHANG_RE = re.compile(r"(?<![蚊营纱床])帐(?![篷幕子])")

# Texts up to this long (search runs, words, keywords) share a big cache; whole mails a small
# one, so a few thousand cached mails cannot take the memory of the many cached words.
_SHORT_TEXT = 64


# Taiwan's words for what the mainland calls otherwise, in customer service and shopping (after
# t2s: 保固 -> 保修, 簡訊 -> 短信, 軟體 -> 软件): a Taiwanese customer asking 保固多久 meets the
# FAQ's 保修期多久, and a Taiwanese FAQ meets a mainland customer's words the same way. Each pair
# has the same length (offsets into a text stay offsets into the original), and both sides of
# every comparison (index and query, model and mail) are read the same way, so mapping a word
# also used on the mainland (线上, 影片) costs nothing. Not OpenCC's tw2sp: its phrase table
# changes lengths (隨身碟 -> U盘) and would send most Simplified text through the converter.
_MAINLAND_WORDS = {
    "保固": "保修",
    "退费": "退款",
    "出货": "发货",
    "客诉": "投诉",
    "简讯": "短信",
    "讯息": "信息",
    "资讯": "信息",
    "信箱": "邮箱",
    "登入": "登录",
    "设定": "设置",
    "连结": "链接",
    "档案": "文件",
    "软体": "软件",
    "网路": "网络",
    "宽频": "宽带",
    "线上": "在线",
    "预设": "默认",
    "程式": "程序",
    "列印": "打印",
    "影印": "复印",
    "印表机": "打印机",
    "硬碟": "硬盘",
    "滑鼠": "鼠标",
    "萤幕": "屏幕",
    "晶片": "芯片",
    "视讯": "视频",
    "影片": "视频",
    "伺服器": "服务器",
    "冷气": "空调",
    "品质": "质量",
    "点数": "积分",
    "储值": "充值",
    "折价券": "优惠券",
    "计程车": "出租车",
    "客服专线": "客服热线",
    "搜寻": "搜索",
    "栏位": "字段",
    "支援": "支持",
    "范本": "模板",
    "字元": "字符",
    "伫列": "队列",
    "即时": "实时",
    "重设": "重置",
    "选单": "菜单",
    "逾时": "超时",
    "权杖": "令牌",
    "内建": "内置",
    "导览": "导航",
    "纯文字": "纯文本",
}
_MAINLAND_WORDS_RE = re.compile(
    "(?=["
    + "".join(sorted({word[0] for word in _MAINLAND_WORDS}))
    + "])(?:"
    + "|".join(sorted(_MAINLAND_WORDS, key=len, reverse=True))
    + ")"
)


#: Hong Kong calls a warranty 保養 (仲喺保養期內, 冇保養, 一年保養), which everywhere else, Hong
#: Kong included, is also care and servicing (保養方法, 定期保養, 一年保養一次): read as the
#: mainland's 保修 only where the words around it make it the warranty. A period (保養期, not
#: 保養期間, "while it is serviced"), the card or certificate (保養卡, 保養證), an extended one
#: (延長保養), so many years of it (兩年保養, not 一年保養兩次), and Cantonese that has it or not
#: (冇保養, 喺保養, 過咗保養, 保養仲有一年). Read after t2s, so in Simplified characters.
_HONG_KONG_WARRANTY_RE = re.compile(
    r"保养(?=期(?!间))|保养(?=[卡证])|(?<=延长)保养(?!周期|间隔)"
    r"|(?<=[一二两三四五六七八九十0-9]年)保养(?![一二两三四五六七八九十几0-9]*次)"
    r"|(?<=[冇喺])保养|(?<=过咗)保养|保养(?=仲)"
)


def _convert(text: str) -> str:
    converter, triggers = _t2s()
    if triggers is None or triggers.search(text):
        converted = converter.convert(text)
        if len(converted) != len(text):  # a phrase mapping changed length: char by char
            converted = "".join(
                one if len(one := converter.convert(char)) == 1 else char for char in text
            )
        text = converted
    if "帐" in text:
        text = _ACCOUNT_ZHANG_RE.sub("账", text)
    if "保养" in text:
        text = _HONG_KONG_WARRANTY_RE.sub("保修", text)
    return _MAINLAND_WORDS_RE.sub(lambda found: _MAINLAND_WORDS[found.group()], text)


_TAIWAN_SAYS = {mainland: taiwan for taiwan, mainland in _MAINLAND_WORDS.items()}
_TAIWAN_SAYS_RE = re.compile("|".join(sorted(_TAIWAN_SAYS, key=len, reverse=True)))


def as_taiwan_says(simplified: str) -> str:
    """A Simplified text as `to_simplified` reads it with the mainland words that stand for
    Taiwan's put back (短信 -> 简讯, 登录 -> 登入): the words a Taiwanese customer types, for
    matching them by sound (faq.search.homophones)."""
    return _TAIWAN_SAYS_RE.sub(lambda found: _TAIWAN_SAYS[found.group()], simplified)


_to_simplified_short = functools.lru_cache(maxsize=65536)(_convert)
_to_simplified_long = functools.lru_cache(maxsize=256)(_convert)


@functools.cache
def _t2s_characters() -> dict[int, str]:
    """t2s's one-character entries (the first of several choices, 帳 -> 账 as for accounts),
    for ``str.translate``; empty when OpenCC's tables are not readable."""
    converter, _triggers = _t2s()
    table: dict[int, str] = {}
    try:
        for group in converter._dict_chain_data:
            for *_, entries in group:
                for key, value in entries.items():
                    first = str(value).split(" ")[0]
                    if len(key) == 1 and len(first) == 1 and first != key:
                        table.setdefault(ord(key), first)
    except (AttributeError, TypeError, ValueError):
        logger.info("OpenCC tables not readable: simplified_characters changes nothing")
        return {}
    table[ord("帳")] = "账"
    return table


def simplified_characters(text: str) -> str:
    """Traditional characters replaced one by one by their Simplified form (t2s's character
    table, without its phrases or context): about a hundred times cheaper than
    `to_simplified` (0.1 ms rather than 3 ms for a thousand characters), for the spam filter,
    which reads character pairs of every mail and must stay under a couple of milliseconds."""
    return text.translate(_t2s_characters())


def to_simplified(text: str) -> str:
    """Traditional Chinese converted to Simplified (OpenCC t2s, 帐 -> 账 for accounts, and
    Taiwan's words for the mainland's: 保固 -> 保修; Hong Kong's warranty, 保養期 -> 保修期, but
    not care, 保養方法); anything else unchanged. The result has
    the same length as `text`, character for character, so offsets into it are offsets into
    `text`.

    Cached, with a fast path for text without Traditional-only characters: converting costs
    ~2 µs a character (pure Python), and the classifier and the urgency rules each convert the
    same mail, one right after the other; search converts the same words again and again.
    """
    if len(text) <= _SHORT_TEXT:
        return _to_simplified_short(text)
    return _to_simplified_long(text)


# ---------------------------------------------------------------------------------------------
# Written Cantonese read as the Mandarin it means (search and FAQ matching only)
# ---------------------------------------------------------------------------------------------

#: Hong Kong customers write colloquial Cantonese (收唔到貨, 點樣退款, 仲未收到): words and
#: characters the FAQ's Mandarin never uses, so search missed the article that 收不到货 finds.
#: Word for word, each the same length as what it replaces (offsets stay valid for highlighting);
#: keys in Traditional and Simplified spelling. Only words whose Mandarin reading is the same
#: wherever they stand; the ambiguous ones are in `_CANTONESE_IN_CONTEXT`. Not 點算 (what do I
#: do?): faq.search.asking knows it as a question that names no topic, and 怎办 is no word.
_CANTONESE_WORDS = {
    "唔該": "谢谢",
    "唔该": "谢谢",
    "係咪": "是否",
    "系咪": "是否",
    "但系": "但是",
    "唔系": "不是",
    "都系": "都是",
    "就系": "就是",
    "乜嘢": "什么",
    "乜野": "什么",
    "點樣": "怎样",
    "点样": "怎样",
    "點解": "为何",
    "点解": "为何",
    "幾時": "何时",
    "几时": "何时",
    "幾耐": "多久",
    "几耐": "多久",
    "幾多": "多少",
    "几多": "多少",
    "邊度": "哪里",
    "边度": "哪里",
    "邊個": "哪个",
    "边个": "哪个",
    "呢個": "这个",
    "呢个": "这个",
    "呢度": "这里",
    "呢啲": "这些",
    "一啲": "一些",
    "啱啱": "刚刚",
    "仲未": "还没",
    "冇晒": "没了",
    "買嘢": "购物",
    "买嘢": "购物",
    "睇吓": "看下",
    "雪櫃": "冰箱",
    "雪柜": "冰箱",
    "搞掂": "搞定",
    "落單": "下单",
    "落单": "下单",
    "佢哋": "他们",
    "冇": "没",
    "咗": "了",
    "喺": "在",
    "嘅": "的",
    "哋": "们",
    "啲": "的",
    "佢": "他",
    "睇": "看",
    "咩": "啥",
    "乜": "啥",
    "俾": "给",
    "畀": "给",
    "攞": "拿",
    "嚟": "来",
    "搵": "找",
    "揾": "找",
    "啱": "对",
    "咁": "这",
    "嗰": "那",
    "揀": "选",
}
#: Characters Mandarin uses too, read as Cantonese only where the words around say so: 唔 is
#: 不 before a word, not Mandarin's hum (唔，好的); 係 is 是 but not in 關係/干係/係數; 點 is
#: 怎 before a verb (點用, 點退), never in 地點, 重點, 一點; 未 is 没 before what has not
#: happened yet (未收到), never in 未來/未必; 仲 is 还 but not in 仲裁, 仲介, 伯仲; 落 is 下
#: only for an order (落咗單).
_CANTONESE_IN_CONTEXT = (
    (r"唔(?=[\u4e00-\u9fff])", "不"),
    (r"(?<![關关干])係(?![數数])", "是"),
    (
        r"(?<![地重一有缺優优觀观焦終终起景網网據据站特盲要])[點点]"
        r"(?=[用做去買买退改查開开搞計计申聯联找整寄換换收付])",
        "怎",
    ),
    (r"(?<![尚從从並并])未(?=[收到發发寄退有見见回處处送])", "没"),
    (r"(?<!伯)仲(?![裁介夏秋春冬])", "还"),
    (r"落(?=[咗了][單单])", "下"),
)
_CANTONESE_RE = re.compile(
    "|".join(
        sorted(_CANTONESE_WORDS, key=len, reverse=True)  # words first: 唔該 before 唔
        + [f"(?P<c{n}>{pattern})" for n, (pattern, _) in enumerate(_CANTONESE_IN_CONTEXT)]
    )
)


def _mandarin(found: re.Match[str]) -> str:
    if found.lastgroup:
        return _CANTONESE_IN_CONTEXT[int(found.lastgroup[1:])][1]
    return _CANTONESE_WORDS[found.group()]


def search_simplified(text: str) -> str:
    """`to_simplified`, with written Cantonese read as the Mandarin it means (收唔到貨 ->
    收不到货, 點樣退款 -> 怎样退款, 仲未收到 -> 还没收到; 關係, 地點, 未來, 仲裁 stay): what FAQ
    search (index and query alike), the embedding model and the auto-reply's matching read.
    Not `to_simplified` itself: the classifier, tags and the pages read that one, and a tag
    唔該 or a shown excerpt must keep its words. The same length as `text`, char for char."""
    simple = to_simplified(text)
    if not _CANTONESE_RE.search(text):
        return simple
    pieces: list[str] = []
    position = 0
    for found in _CANTONESE_RE.finditer(text):
        pieces += (simple[position : found.start()], _mandarin(found))
        position = found.end()
    pieces.append(simple[position:])
    return "".join(pieces)


#: Taiwan's spelling where OpenCC's s2tw gives another: its longest match reads 回复本邮件 as
#: 回 + 复本 (a copy) and 请回复 as 請回復 (to restore), where a reader expects 回覆 (to reply),
#: unless the 复 starts a word of its own (来回复制: 複製, to copy); and accounts are 帳 in
#: Taiwan (帳號, 帳單, 到帳), not 賬. Its phrase 并发 -> 併發 (concurrency; 併發症, a complication)
#: also catches 并 (and) before 发 (send, issue): 开具并发送 must read 開具並發送, not 開具併發送;
#: only where 并 does not end a word for merging (合併發票, 吞併) and no 症 follows.
_TAIWAN_SPELLING = {"賬": "帳", "回複": "回覆", "回復": "回覆", "併發": "並發"}
#: And Taiwan's words (after s2tw): each the reverse of a pair of _MAINLAND_WORDS, so that what a
#: reader is shown and types back into the search box reads as the words the articles use.
_TAIWAN_WORDS = {
    "保修": "保固",
    "發貨": "出貨",
    "短信": "簡訊",
    "郵箱": "信箱",
    "登錄": "登入",
    "設置": "設定",
    "鏈接": "連結",
    "軟件": "軟體",
    "網絡": "網路",
    "寬帶": "寬頻",
    "在線": "線上",
    "默認": "預設",
    "打印機": "印表機",
    "打印": "列印",
    "複印": "影印",
    "硬盤": "硬碟",
    "鼠標": "滑鼠",
    "屏幕": "螢幕",
    "芯片": "晶片",
    "視頻": "影片",
    "服務器": "伺服器",
    "空調": "冷氣",
    "質量": "品質",
    "積分": "點數",
    "充值": "儲值",
    "出租車": "計程車",
    "信息": "資訊",
    "搜索": "搜尋",
    "字段": "欄位",
    "支持": "支援",
    "文件": "檔案",
    "模板": "範本",
    "字符": "字元",
    "隊列": "佇列",
    "實時": "即時",
    "重置": "重設",
    "菜單": "選單",
    "超時": "逾時",
    "令牌": "權杖",
    "內置": "內建",
    "導航": "導覽",
    "純文本": "純文字",
}
#: Taiwan's words shown but not read back: searching them reads them as written. Either the
#: lengths differ (字節 -> 位元組: `to_simplified` keeps offsets, so it cannot read 位元組 as
#: 字节), or the Taiwan word is also the mainland's own word for something else, and reading it
#: as the mainland's would change what a reader of Simplified is shown of a Taiwan admin's
#: article (`for_simplified_reader`: 開票資料 must not become 开票数据, 回饋老客戶 not 反馈老客户,
#: 匯入帳戶 not 导入账户). `to_traditional`'s result may be longer or shorter than its text:
#: nothing keeps offsets into it (pages, mail and JSON are converted as wholes, a customer's
#: words put back by `convert_keeping`).
_TAIWAN_SHOWN_WORDS = {
    "保存": "儲存",  # only where it saves: see _TAIWAN_WORD_GUARDS
    "字節": "位元組",
    "數據": "資料",
    "文件夾": "資料夾",
    "創建": "建立",
    "添加": "新增",
    "新建": "新增",
    "打開": "開啟",
    "用戶名": "使用者名稱",
    "用戶": "使用者",
    "刷新": "重新整理",
    "退出登錄": "登出",
    "批量": "批次",
    "導出": "匯出",
    "導入": "匯入",
    "反饋": "回饋",
    "變量": "變數",
    "手機號": "手機號碼",
    "渠道": "管道",
    "字符串": "字串",
    "聯繫": "聯絡",  # to contact (聯絡我們, 感謝您聯絡); not a relation: see the guards
    # A new user's pass over the 繁體 pages (twenty-sixth session): a mail or note is a
    # 訊息 (消息 is news: 好消息, 最新消息), a saved view a 檢視, a response target 回應 (響應
    # answers a call), by mail 透過 (通過 passes: 審核通過), the current password 目前的,
    # a text box 文字方塊, a hash 雜湊, the customer's mail program 郵件程式, 哪裡 (the
    # portal's example question read 我的訂單到哪兒了), no right to 存取 a page.
    "消息": "訊息",
    "視圖": "檢視",
    "響應": "回應",
    "通過": "透過",
    "當前": "目前",
    "文本框": "文字方塊",
    "文本": "文字",
    "哈希值": "雜湊值",
    "郵件程序": "郵件程式",
    "哪兒": "哪裡",
    "這兒": "這裡",
    "訪問": "存取",
}
#: Where a word's characters may also be the end and start of two others: 文字段落 is 文字 +
#: 段落, not a form field. And where a word means Taiwan's word only in some places: 保存 is
#: 儲存 where something is saved (已保存, 未保存, 无法保存, 会保存, the button 保存, 保存修改,
#: 保存草稿), not where it is kept (保存期限, 妥善保存, 冷藏保存, 保存好发票); 支持 is 支援 where a
#: thing is supported (不支持 HTML, 支持哪些付款方式), not a person's support (感谢您的支持).
_TAIWAN_WORD_GUARDS = {
    "字段": (r"(?<![文數漢打寫題])", r"(?!落)"),
    "保存": (
        r"(?:(?<=[已未會而將])|(?<=無法)|(?<=不能)|^(?=保存$)|(?=保存(?:修改|更改|變更|草稿|設定|投訴|視圖)))",
        r"(?![期好完])",
    ),
    "支持": (r"(?<![的謝])", r"(?!者)"),
    "批量": (r"(?<![大])", ""),
    "手機號": ("", r"(?!碼)"),
    # 新建用户 (create a user) is 新增使用者, but the status 新建 (a new ticket) is no verb.
    "新建": (r"(?<!重)", r"(?!立|$)"),
    "添加": ("", r"(?!劑)"),  # 食品添加劑: an additive
    # 聯繫 is 聯絡 where someone is contacted, not a connection (密切聯繫, 聯繫起來).
    "聯繫": (r"(?<!密切)(?<!相互)(?<!彼此)", r"(?!起來|在一起)"),
    "消息": (r"(?<![好壞假])(?<!小道)(?<!最新)", ""),
    "響應": ("", r"(?=目標|期限|時限|時間)"),
    "通過": ("", r"(?=郵件|中繼|表單|電話|網站|連結|簡訊)"),
    "訪問": (r"(?<=無權)", r"(?=此?頁面)"),
}
_TAIWAN_ALL_WORDS = _TAIWAN_WORDS | _TAIWAN_SHOWN_WORDS
_TAIWAN_RE = re.compile(
    r"回[複復](?![製印雜合習查])|賬|(?<![合吞兼歸])併發(?!症)|"
    + "|".join(
        _TAIWAN_WORD_GUARDS.get(word, ("", ""))[0]
        + word
        + _TAIWAN_WORD_GUARDS.get(word, ("", ""))[1]
        for word in sorted(_TAIWAN_ALL_WORDS, key=len, reverse=True)
    )
)


def _taiwan(found: re.Match[str]) -> str:
    word = found.group()
    return _TAIWAN_ALL_WORDS.get(word) or _TAIWAN_SPELLING[word]


@functools.lru_cache(maxsize=16384)
def _run_to_traditional(run: str) -> str:
    return _TAIWAN_RE.sub(_taiwan, _s2tw().convert(run))


#: A pair of the mainland's quotes (“...”), on one line.
_QUOTED_RE = re.compile("“([^“”\n]*)”")


def _corner_quoted(found: re.Match[str]) -> str:
    text, start, end = found.string, found.start(), found.end()
    around = text[start - 1 : start] + found.group(1) + text[end : end + 1]
    return f"「{found.group(1)}」" if CJK_RE.search(around) else found.group()


#: Taiwan's spelling where the word starts outside a run of Chinese: OpenCC reads 天后 (the
#: goddess) in "3 天后" (in three days: 3 天後), and an IP address is a 位址.
_AROUND_RUNS = (
    (re.compile(r"(?<=\d)(\s?)天后"), r"\1天後"),
    (re.compile(r"(?<=IP)(\s?)地址"), r"\1位址"),
)


def to_traditional(text: str) -> str:
    """Simplified -> Traditional as Taiwan writes it (回覆, 帳號, 保固, 登入, 「引號」), to
    answer a writer in their own script (a word, a mail, a whole page). Only the runs of
    Chinese characters change, and “” around or next to Chinese becomes 「」; markup, links,
    Latin letters, digits and other punctuation stay as they are (English quoted in English
    too). Each run (a clause, mostly) is converted once and remembered, so a page that shares
    its labels and questions with others costs little after the first view."""
    converted = CJK_RUN_RE.sub(lambda run: _run_to_traditional(run.group()), text)
    if "天后" in converted or "地址" in converted:
        for pattern, spelled in _AROUND_RUNS:
            converted = pattern.sub(spelled, converted)
    return _QUOTED_RE.sub(_corner_quoted, converted) if "“" in converted else converted


#: How much of a text `writes_traditional` reads: the script shows in the first lines.
_SCRIPT_SAMPLE_CHARS = 2_000


def writes_traditional(text: str | None) -> bool:
    """True when Chinese `text` is written in Traditional characters (Taiwan, Hong Kong).

    Counted on its first characters: at least two Chinese characters, and 3 % of them, that
    Traditional -> Simplified changes. A Simplified text changes none (or one, 帐 -> 账), so a
    stray Traditional name in a Simplified mail does not switch the reader's script.
    """
    sample = (text or "")[:_SCRIPT_SAMPLE_CHARS]
    chinese = CJK_RE.findall(sample)
    if not chinese:
        return False
    simplified = CJK_RE.findall(to_simplified(sample))
    changed = sum(a != b for a, b in zip(chinese, simplified, strict=False))
    return changed >= 2 and changed >= 0.03 * len(chinese)


def typed_in_traditional(query: str | None) -> bool:
    """True when a search query (a few words) holds a Traditional character: one that
    Traditional -> Simplified changes where it stands (發票, 帳號; not 著名, which both scripts
    write so). A query is too short for `writes_traditional`'s share, and Taiwan's words read
    as the mainland's (保固, 线上) are no evidence here: the mainland writes 线上 too."""
    if not query or not CJK_RE.search(query):
        return False
    table = _t2s_characters()
    reading = to_simplified(query)
    return any(a != b and ord(a) in table for a, b in zip(query, reading, strict=False))


def for_simplified_reader(text: str, written: str | None = None) -> str:
    """`text` in Simplified characters when ``written`` (the whole it is part of, such as an
    article's question and answer; `text` itself by default) is written in Traditional, as it
    is otherwise: `to_simplified` also reads Taiwan's words as the mainland's (线上 -> 在线), so
    it must not touch a text already written in Simplified."""
    return to_simplified(text) if writes_traditional(text if written is None else written) else text


def convert_keeping(
    text: str, convert: Callable[[str], str], keep: Sequence[str] = (), *, html: bool = False
) -> str:
    """`text` converted to the other script (`to_traditional`, `to_simplified`), the words in
    `keep` (a customer's subject, name or message) as they were written: the conversion has
    regional variants (台灣 -> 臺灣) that a writer would not have chosen. The longest first: a
    customer's subject is often part of their message."""
    quote: Callable[[str], str] = escape if html else str
    converted = convert(text)
    for own in sorted(keep, key=len, reverse=True):
        if own and convert(own) != own:
            converted = converted.replace(quote(convert(own)), quote(own))
    return converted


def as_written_in(words: str, text: str) -> str:
    """``words`` (the classifier's reasons, an urgency keyword: read in the Simplified,
    mainland form, 发票, 保修) with each Chinese run as ``text`` writes it (發票, 保固).

    `to_simplified` keeps offsets, so where a run is found in the reading of ``text`` is
    where the writer's own characters are. A run not found there is left as it is.
    """
    if not text or not CJK_RE.search(words):
        return words
    reading = to_simplified(text)

    def written(run: re.Match[str]) -> str:
        at = reading.find(run.group())
        return text[at : at + len(run.group())] if at >= 0 else run.group()

    return CJK_RUN_RE.sub(written, words)


# ---------------------------------------------------------------------------------------------
# Words that carry no topic
# ---------------------------------------------------------------------------------------------

#: Words a reader learns nothing from when they are shown as why a mail was routed (the
#: ticket page's deciding words): function words, particles, pronouns, numbers and measure
#: words, times, and verbs and adjectives every kind of mail uses (还是, 一直, 换, 新, 买,
#: "just", "bought"). The classifier keeps them as features; only what staff are shown leaves
#: them out (`carries_topic`). Simplified Chinese and casefolded English: what it reads.
NO_TOPIC_WORDS = frozenset(
    # English function words and the words of any mail ("just", "bought", "change").
    "a about after all also am an and any are as at be before been bought but buy buying by "
    "can can't cant change could day days did do does don't even every first for from get got "
    "had has have her his how i i'd i'm i've if in is it it's just know last let like look me "
    "my new next no not now of off old on once one only or our out over please possible really "
    "say she shows since so some someone that the them there they this to today tomorrow two "
    "up us very want wanted was we we'd we're were what when where whether which while who "
    "will with would yesterday yet you your him small under down including note pass morning "
    "afternoon evening night minutes hours weeks months years "
    # Greetings, thanks and a signature's company ("thank" of "thank you", "ltd").
    "hi hello dear thank thanks thx regards cheers sincerely team ltd "
    # Mandarin: particles, pronouns, adverbs, conjunctions ("还是", "一直").
    "的 了 是 我 我们 你 你们 您 他 她 它 他们 大家 吗 吧 呢 啊 着 和 在 有 也 就 都 还 还是 "
    "还有 一直 已 已经 先 再 很 非常 特别 比较 直接 重新 并 或 但是 可是 而且 因为 所以 "
    "如果 的话 另外 关于 作为 该 是否 是不是 能否 不 没 没有 不到 一样 "
    "请 请问 问 问下 一下 一个 这 那 个 要 想 想要 能 会 可以 需要 希望 给 把 被 让 对 从 "
    "到 说 得 "
    # Asking words and general verbs and adjectives (换, 新, 买).
    "什么 怎么 哪 哪里 多少 有没有 大概 买 换 改 新 小 多 快 好 好好 用 使用 开 打 出 "
    "看 看到 想问 只能 提供 帮忙 麻烦 了解 问题 正常 里面 全部 很多 部 "
    # Numbers, measure words and times.
    "台 号 月 之后 而家 向 一份 一张 两个 几次 一年 几天 两天 三天 现在 今天 昨天 时候 以后 前 "
    # Cantonese (of a Hong Kong customer's mail: 咗, 唔, 嚟 were all a fridge's reasons).
    "咗 嘅 係 系 喺 佢 哋 你哋 我哋 佢哋 啲 嚟 咁 噉 吖 啦 喎 囉 㗎 呀 嘛 咩 乜 嗰 唔 度 冇 有冇 "
    # Greetings and closings: the features leave them out where they stand alone
    # (mailrouter.routing.contentless.without_courtesy); inside a sentence they decide nothing.
    "您好 你好 谢谢 感谢 此致 敬礼".split()
)


def carries_topic(word: str) -> bool:
    """Whether a deciding word tells a reader something (not in `NO_TOPIC_WORDS`); Traditional
    is read as Simplified (a ticket's stored words, shown in the writer's characters)."""
    return to_simplified(word.strip()).casefold() not in NO_TOPIC_WORDS


# ---------------------------------------------------------------------------------------------
# Quoting someone's value back
# ---------------------------------------------------------------------------------------------

#: Longest value of someone's that a message quotes back to them.
QUOTED_MAX_CHARS = 100


def quoted(value: object, limit: int = QUOTED_MAX_CHARS) -> str:
    """A value someone sent (typed into a page's field, posted to the API) as a message to
    them quotes it: its text (``repr`` of anything else), at most ``limit`` characters, the
    last an ellipsis when cut. Not at a word: what is quoted is an address, a tag, a name."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------------------------

#: The user dictionary: words jieba's general dictionary splits in ways that hurt a shop.
SHOP_WORDS = (
    "退货", "退款", "换货", "运费", "包邮", "到货", "发货", "物流", "快递", "顺丰", "保修", "维修",
    "发票", "增值税", "专票", "普票", "优惠券", "优惠码", "折扣", "会员", "积分", "账号", "账户",
    "密码", "验证码", "收货地址", "订单号", "支付宝", "微信支付", "银联", "信用卡", "分期", "花呗",
    "价保", "保价", "差价", "缺货", "预售", "到货通知", "开箱", "破损", "无理由", "七天无理由",
    "以旧换新", "招聘", "实习", "门店", "客服", "工作日", "海外", "关税", "签收", "拒收", "自提",
)  # fmt: skip
_SHOP_WORD_FREQUENCY = 20000

_jieba_lock = threading.Lock()


def _jieba_cache_folder() -> str | None:
    """A folder of this user's own for jieba's dictionary cache, or None (jieba's default).

    jieba's default is /tmp/jieba.cache for every user: once root had made it, each command
    run as the units' user logged "Dump cache file failed" with a traceback, and any local user
    could plant a cache for our processes to load."""
    folder = os.path.join(tempfile.gettempdir(), f"support-jieba-{os.getuid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        found = os.lstat(folder)
    except OSError:
        return None
    mine = stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid()
    return folder if mine and not found.st_mode & 0o077 else None


@functools.cache
def segmenter() -> jieba.Tokenizer:
    """Our own jieba instance (not the global one), loaded once, quietly, with SHOP_WORDS."""
    import jieba

    with _jieba_lock:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = _jieba_cache_folder()
        tokenizer.initialize()
        for word in SHOP_WORDS:
            tokenizer.add_word(word, freq=_SHOP_WORD_FREQUENCY)
        return tokenizer


@functools.cache
def _tagger() -> jieba.posseg.POSTokenizer:
    """jieba's part-of-speech tagger over our own instance (SHOP_WORDS are words to it too)."""
    import jieba.posseg  # its tables load on first use: only a Chinese mail's offer needs them

    return jieba.posseg.POSTokenizer(segmenter())


def load_tagger() -> None:
    """Load jieba's part-of-speech tables now (about 0.5 s of CPU, once a process), not inside
    the first Chinese mail whose FAQ offer reads its request's words (`tagged_words`)."""
    _tagger()


@functools.lru_cache(maxsize=2048)
def tagged_words(run: str) -> tuple[tuple[str, str], ...]:
    """jieba's words of a Simplified run with their part of speech ("v" a verb, "n" a noun,
    "vn" a verb used as a noun, ...): what a sentence does, not only what it is about."""
    return tuple((pair.word, pair.flag) for pair in _tagger().cut(run))


@functools.lru_cache(maxsize=8192)
def segment(run: str) -> tuple[str, ...]:
    """jieba's words (accurate mode) for one run of Chinese, already Simplified.

    Cached: jieba is pure Python and the slowest step of reading a mail, while greetings,
    thanks, sign-offs and product names recur from mail to mail.
    """
    return tuple(segmenter().lcut(run))


def is_dictionary_word(simplified: str) -> bool:
    """Whether a Simplified word is in jieba's dictionary (with SHOP_WORDS): a real word, not
    one jieba's model made up for characters it has no word for."""
    return len(simplified) >= 2 and bool(segmenter().FREQ.get(simplified))


@functools.lru_cache(maxsize=65536)
def segment_for_search(run: str) -> tuple[tuple[str, int, int], ...]:
    """jieba's search-mode words (long words plus their parts) with offsets within `run`."""
    return tuple(segmenter().tokenize(run, mode="search"))


def pinyin_words(text: str) -> list[str]:
    """Chinese as toneless pinyin, one item per jieba word ("退货流程" -> tuihuo, liucheng);
    other text is kept as it is. For readable ASCII (URL slugs), not for search."""
    from pypinyin import Style, lazy_pinyin  # imported on first use: only editors need it

    words: list[str] = []
    position = 0
    for run in CJK_RUN_RE.finditer(text or ""):
        words.append(text[position : run.start()])
        words += ["".join(lazy_pinyin(word, style=Style.NORMAL)) for word in segment(run.group())]
        position = run.end()
    words.append((text or "")[position:])
    return [word.strip() for word in words if word.strip()]


def name_sort_key(name: str) -> tuple[str, ...]:
    """Where `name` goes in a list its reader scans: Chinese by pinyin, as dictionaries and
    Chinese software order names (保修 bao before 发票 fa before 退货 tui), other text without
    regard to case. Chinese names sorted by code point, or by their English names, look random."""
    from pypinyin import Style, lazy_pinyin  # imported on first use: only lists of names need it

    return tuple(
        lazy_pinyin(name.strip(), style=Style.TONE3, errors=lambda other: other.casefold())
    )


# ---------------------------------------------------------------------------------------------
# Pinyin typed for want of a Chinese keyboard
# ---------------------------------------------------------------------------------------------

#: The toneless syllables of Mandarin as typed (ü as v), those of pypinyin's dictionary less
#: the vowelless interjections (m, n, ng, hm, hng), which would let English words through:
#: tests/faq/test_search.py checks the list against pypinyin.
PINYIN_SYLLABLES = frozenset(
    """
    a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu
    ca cai can cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou
    chu chua chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang
    dao de dei den deng di dia dian diao die din ding diu dong dou du duan dui dun duo e ei en
    eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou
    gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai
    huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai
    kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao
    le lei len leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve
    ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang
    nao ne nei nen neng ni nia nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve
    o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang
    qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan
    rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi
    shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan
    tang tao te tei teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei
    wen weng wo wong wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan
    yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha
    zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui
    zhun zhuo zi zong zou zu zuan zui zun zuo
    """.split()
)
LONGEST_SYLLABLE = max(map(len, PINYIN_SYLLABLES))
#: The syllables that are everyday English words, not names: a query of these alone is English
#: ("hang men", "men can", "pan"). The other syllables the English word list holds are there
#: as names and places (wu, liu, zhang, xi, bao) or are rare (ma, ye, de): no English query is
#: made of them alone. tests/faq/test_search.py checks them against both lists.
ENGLISH_SYLLABLES = frozenset(
    """
    a ai an bang ban bin bing can dan den die din ding dun duo e er fan fang fen gang gong
    hang he hen ken lan lie long man me men min nun o pan pang pen pie pin ping po ran rang
    re run sang she song sun tan tang tie wan yo you zen
    """.split()
)
#: Everyday English words whose letters split into pinyin syllables ("time" ti-me, "change"
#: chang-e, "women" wo-men): the commonest 6,000 words of the English model's vocabulary that
#: do, less the lone syllables (ENGLISH_SYLLABLES says which of those are English). A mail's
#: words of this list or of ENGLISH_SYLLABLES count as English when its language is judged
#: (`written_in_pinyin`): "Can you see me here, Zhang Wei?" is English. tests/support/
#: test_pinyin_mail.py checks the list against the vocabulary.
ENGLISH_LOOKALIKES = frozenset(
    """
    age alan ali alice alone along alongside america american anger anna anne anti anyone are
    area aren arena asia asian aside aware balance base bone came canada canadian candidate care
    career case ceiling ceo chance change chase china chinese cinema damage dance danger data
    date dating dean debate decade decide defence defense depending desire diocese disease due
    duke eating ending ensure entire era eye face fame future game gate gaze gene guide hate
    heading here heritage house huge human hungarian hunting june kate keeping lake landing lane
    language late leading league lee like line loan longer lose luke machine made magazine make
    male maria marie marine mean meaning measure media median medicine meeting mexican miami
    michigan mike mile mine mining minute mobile mode moore more musician name nature nice nine
    ocean one open orange page palace pale piano piece pierre police politician pure queen range
    reading realize reduce release remaining residence rice ride riding rio rise route rule
    running sale same santa saying sea sean secure see seen semi senate sense sequence share
    side silence silver site size suicide sure take taken tea time waiting wake wanting woman
    women wooden wore
    """.split()
)
#: A mail is read as pinyin when at least this share of its Latin words are pinyin and not
#: English (`written_in_pinyin`): a customer's pinyin mail keeps an English word or two
#: ("wo de order hai mei dao", "hi", "ok", "iPhone"), an English one names a few people or
#: places in pinyin ("Zhang Wei from Wuhan") among words that are not.
PINYIN_MAIL_SHARE = 0.7
#: ... and holds at least this many syllables of such words: "ni hao" alone says too little.
MIN_PINYIN_MAIL_SYLLABLES = 4
#: Letters of a mail read as pinyin (a long mail's first few paragraphs: what it asks is there).
MAX_PINYIN_MAIL_LETTERS = 1500
#: How often, in jieba's counts, a word of the FAQ's own is taken to be when a mail's pinyin is
#: read (as the shop's words are: _SHOP_WORD_FREQUENCY): "fa huo" is 发货, not 发火.
KNOWN_WORD_FREQUENCY = 20000
#: Words of jieba's dictionary rarer than this are not offered as readings of pinyin (two to
#: four characters; single characters are always): 45,000 words, built in about a second.
PINYIN_LEXICON_MIN_FREQUENCY = 50
#: What reading a character by one of its rarer readings adds to its cost (its -log share):
#: about twenty times rarer than its main reading.
OTHER_READING_COST = 3.0
_TONE_MARKS = frozenset("\u0304\u0301\u030c\u0300")  # ā á ǎ à, as NFD writes them
# A typed word: syllables, each perhaps followed by its tone's digit ("wu4liu2").
_TONED_WORD_RE = re.compile(r"(?:[a-z]+[1-5])*[a-z]*")
# What a mail's pinyin is read around: addresses and links (an order number is no pinyin word).
_NOT_PINYIN_RE = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?:\w+://|www\.)[^\s<>\"]*[\w/]", re.ASCII
)
# The punctuation of a pinyin mail, as a Chinese text writes it.
# A mail's pieces as its pinyin is read: addresses and links whole, spaces, punctuation, words.
_MAIL_PIECE_RE = re.compile(rf"(?P<kept>{_NOT_PINYIN_RE.pattern})|\s+|[^\w\s]+|\w+")
_CHINESE_SPACING_RE = re.compile(r"\s*([，。？！：；])[^\S\n]*")
_CHINESE_PUNCTUATION = str.maketrans(
    {",": "，", ".": "。", "?": "？", "!": "！", ":": "：", ";": "；"}
)


@dataclass(frozen=True)
class PinyinVocabulary:
    """Words a reading of pinyin knows (`read_pinyin`): their pinyin letters -> (the word,
    where its syllables start inside the letters), and the most letters of any."""

    words: Mapping[str, tuple[str, frozenset[int]]]
    longest: int


NO_VOCABULARY = PinyinVocabulary({}, 0)


def toneless(text: str) -> str:
    """Pinyin as it is typed without tones: lower case, tone marks dropped, ü as v ("Nǐ hǎo,
    lǜ" -> "ni hao, lv"); tone digits are left to the reader (`typed_pinyin_words`)."""
    spelled = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).lower())
    spelled = spelled.replace("u\u0308", "v").replace("u:", "v")
    return "".join(char for char in spelled if not unicodedata.combining(char))


def has_tone_marks(text: str) -> bool:
    """Whether `text` holds a pinyin tone mark (ā á ǎ à and the like)."""
    return any(char in _TONE_MARKS for char in unicodedata.normalize("NFD", text))


def typed_pinyin_words(typed: str) -> list[str] | None:
    """A toneless typed word's syllable-letters ("wu4liu2" -> ["wu", "liu"]: a tone's digit ends
    a syllable as a space does), or None when it is not letters with tone digits."""
    if not _TONED_WORD_RE.fullmatch(typed):
        return None
    return re.findall(r"[a-z]+", typed)


@functools.lru_cache(maxsize=8192)
def pinyin_syllables(letters: str) -> tuple[str, ...] | None:
    """`letters` (lower case, toneless) cut into pinyin syllables, fewest first ("tuikuan" ->
    tui kuan, "fangan" -> fang an), or None when no cut reads every letter."""
    if not letters or not letters.isascii() or not letters.isalpha():
        return None
    best: list[tuple[str, ...] | None] = [None] * (len(letters) + 1)
    best[0] = ()
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - LONGEST_SYLLABLE), end):
            before = best[start]
            if before is not None and letters[start:end] in PINYIN_SYLLABLES:
                if best[end] is None or len(before) + 1 < len(best[end] or ()):
                    best[end] = (*before, letters[start:end])
    return best[len(letters)]


def written_in_pinyin(text: str | None) -> bool:
    """Whether a mail (its subject and text) is Chinese written in pinyin for want of a Chinese
    keyboard ("ni hao, wo de ding dan hai mei you fa huo"): no Chinese characters, and of its
    Latin words (addresses, links and numbers aside) at least PINYIN_MAIL_SHARE are pinyin, of
    MIN_PINYIN_MAIL_SYLLABLES syllables at least. Tones (marks or digits) make a word pinyin
    whatever its letters. Not pinyin: a word that is not all syllables ("my", "order"), an
    everyday English word that is (ENGLISH_LOOKALIKES: "time", "here", "change"). Counted on
    neither side: a lone syllable that is an everyday English word (ENGLISH_SYLLABLES: "can",
    "me", "zen"; but a mail needs more pinyin words than such), and a capitalised word inside a
    sentence, which is a name or a place ("Zhang Wei", "Wuhan"), however a mail writes them. So
    an English mail that names people and places in pinyin stays English ("Hi, this is Zhang
    Wei from Wuhan", "Can you see me here, Zhang Wei?": bench/pinyin_mails.jsonl's near twins).
    Bounded: the first MAX_PINYIN_MAIL_LETTERS * 2 characters."""
    text = _NOT_PINYIN_RE.sub(" ", (text or "")[: MAX_PINYIN_MAIL_LETTERS * 2])
    if not text or has_cjk(text):
        return False
    toned_anywhere = has_tone_marks(text)
    found = list(re.finditer(r"[^\W_]+", text))
    counted = pinyin = neutral = syllables = 0
    gap_start = 0  # where the text between this word and the one before starts
    for at, match in enumerate(found):
        if (1 - PINYIN_MAIL_SHARE) * (pinyin + len(found) - at) < PINYIN_MAIL_SHARE * (
            counted - pinyin
        ):
            return False  # too many words are no pinyin already (an English mail: at once)
        typed = match.group()
        gap, gap_start = text[gap_start : match.start()], match.end()
        word = typed.lower() if typed.isascii() else toneless(typed)
        if not word.isascii() or not word.isalnum():
            counted += 1  # Cyrillic, Greek, ...
            continue
        parts = typed_pinyin_words(word)
        if parts is None or word[0].isdigit():
            if not any(char.isdigit() for char in word):
                counted += 1  # "my", "order"; numbers and LH20260311 count for neither side
            continue
        cut = [pinyin_syllables(part) for part in parts]
        if not parts or any(part is None for part in cut):
            counted += 1
            continue
        toned = toned_anywhere or not word.isalpha()
        inside = at > 0 and not any(char in ".!?:;\n" for char in gap)
        if not toned and typed[0].isupper() and inside:
            continue  # a name or a place inside a sentence
        if not toned and word in ENGLISH_SYLLABLES:
            neutral += 1
            continue
        counted += 1
        if toned or word not in ENGLISH_LOOKALIKES:
            pinyin += 1
            syllables += sum(len(part or ()) for part in cut)
    return (
        syllables >= MIN_PINYIN_MAIL_SYLLABLES
        and pinyin > neutral
        and pinyin >= PINYIN_MAIL_SHARE * counted
    )


def _syllable_starts(syllables: Sequence[str]) -> frozenset[int]:
    return frozenset(itertools.accumulate(len(s) for s in syllables[:-1]))


@functools.cache
def _pinyin_lexicon() -> tuple[dict[str, tuple[str, frozenset[int], float]], int]:
    """jieba's dictionary by toneless pinyin letters: letters -> (the commonest word of that
    pinyin, where its syllables start, its cost: -log of its share of jieba's counts), and the
    most letters of any key. Single characters under each of their readings (了 le and liao),
    longer words (PINYIN_LEXICON_MIN_FREQUENCY) under pypinyin's reading of the phrase, else
    each character's first. Built once, on the first pinyin mail (about a second of CPU)."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    plain = functools.cache(lambda syllable: toneless(syllable))
    frequencies = segmenter().FREQ
    total = math.log(segmenter().total or 1)
    lexicon: dict[str, tuple[str, frozenset[int], float]] = {}
    longest = 0
    for word, frequency in frequencies.items():
        if not frequency or not 1 <= len(word) <= 4 or not CJK_RUN_RE.fullmatch(word):
            continue
        if len(word) == 1:
            readings = pinyin_dict.get(ord(word))
            choices = [[plain(r)] for r in readings.split(",")] if readings else []
        elif frequency >= PINYIN_LEXICON_MIN_FREQUENCY:
            phrase = phrases_dict.get(word)
            if phrase is not None:
                syllables = [plain(options[0]) for options in phrase]
            else:
                firsts = [pinyin_dict.get(ord(char)) for char in word]
                syllables = [plain(first.split(",")[0]) for first in firsts if first]
            choices = [syllables] if len(syllables) == len(word) else []
        else:
            continue
        cost = total - math.log(frequency)
        for rank, syllables in enumerate(choices):
            letters = "".join(syllables)
            if not letters.isascii() or not letters.isalpha():
                continue
            # A character's rarer readings are rarely meant (而 is er, seldom neng).
            read_cost = cost + (OTHER_READING_COST if rank else 0.0)
            kept = lexicon.get(letters)
            if kept is None or read_cost < kept[2]:
                lexicon[letters] = (word, _syllable_starts(syllables), read_cost)
                longest = max(longest, len(letters))
    return lexicon, longest


def pinyin_vocabulary(words: Iterable[str]) -> PinyinVocabulary:
    """Words of Chinese characters (Simplified) by their pinyin letters (pypinyin's reading of
    the word), for `read_pinyin`: a reader's own words, read where the letters spell one."""
    from pypinyin import Style, lazy_pinyin  # imported on first use

    by_letters: dict[str, tuple[str, frozenset[int]]] = {}
    for word in words:
        if not CJK_RUN_RE.fullmatch(word):
            continue
        syllables = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
        letters = "".join(syllables)
        if len(syllables) == len(word) and letters.isascii() and letters.isalpha():
            by_letters.setdefault(letters, (word, _syllable_starts(syllables)))
    return PinyinVocabulary(by_letters, max(map(len, by_letters), default=0))


def read_pinyin(
    tokens: Sequence[str],
    known: PinyinVocabulary,
    *,
    whole: bool = False,
    max_letters: int = MAX_PINYIN_MAIL_LETTERS,
) -> list[str] | None:
    """The words typed pinyin `tokens` spell ("tui", "kuan" -> 退款), in order; None when the
    tokens are not all pinyin, or (not `whole`) spell no `known` word. The one reading of pinyin:
    a search query's (FAQ search's did-you-mean and suggestions) and a mail's.

    Every letter must be read, a token's end falling only where a syllable of the piece does.
    Not `whole` (a query): as a `known` word (the FAQ's own) or as a syllable of none, and only
    the known words are returned ("wo yao tuikuan": 退款); of the readings, the one with most
    letters in known words, then fewest pieces, wins. `whole` (a mail, read as Chinese text):
    every piece is a word or character of jieba's dictionary (`_pinyin_lexicon`; a known word
    as common as KNOWN_WORD_FREQUENCY at least), and the reading of the least cost (the
    commonest words, as an input method's first guess without context) is returned in full
    ("wo de dingdan" -> 我 的 订单).

    Bounded: at most `max_letters` letters, each the end of at most as many pieces as the
    longest word's pinyin has letters, each a few dictionary lookups: linear in the letters."""
    letters = "".join(token.lower() for token in tokens)
    if not 0 < len(letters) <= max_letters or not letters.isascii() or not letters.isalpha():
        return None
    typed_end = [False] * (len(letters) + 1)  # where a typed word ends
    for at in itertools.accumulate(len(token) for token in tokens):
        typed_end[at] = True
    lexicon, lexicon_longest = _pinyin_lexicon() if whole else ({}, 0)
    known_cost = math.log(segmenter().total or 1) - math.log(KNOWN_WORD_FREQUENCY) if whole else 0
    longest = max(known.longest, lexicon_longest, LONGEST_SYLLABLE)
    # best[i]: (score, words) of the best reading of letters[:i]; a greater score is better.
    best: list[tuple[tuple[float, ...], tuple[str, ...]] | None] = [None] * (len(letters) + 1)
    best[0] = ((0.0, 0.0), ())
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - longest), end):
            before = best[start]
            if before is None:
                continue
            (first, second), words = before
            piece = letters[start:end]
            inner = {at - start for at in range(start + 1, end) if typed_end[at]}
            options: list[tuple[tuple[float, ...], tuple[str, ...]]] = []
            found = known.words.get(piece)
            if whole:
                entry = lexicon.get(piece)
                if found and inner <= found[1]:
                    # The FAQ's own word where the letters spell one (收到, not 受到).
                    cost = min(known_cost, entry[2]) if entry else known_cost
                    options.append(((first - cost, 0.0), (*words, found[0])))
                elif entry and inner <= entry[1]:
                    options.append(((first - entry[2], 0.0), (*words, entry[0])))
            else:
                if found and inner <= found[1]:
                    options.append(((first + len(piece), second - 1), (*words, found[0])))
                if piece in PINYIN_SYLLABLES and not inner:
                    options.append(((first, second - 1), words))
            for option in options:
                current = best[end]
                if current is None or option[0] > current[0]:
                    best[end] = option
    reading = best[len(letters)]
    return list(reading[1]) if reading and reading[1] else None


def pinyin_as_chinese(
    text: str, known: PinyinVocabulary | None = None, *, pinyin: bool | None = None
) -> str:
    """A mail written in pinyin (`written_in_pinyin`) as the Chinese it spells, for the readers
    that understand Chinese (routing's model and keywords, the FAQ's search and offer checks):
    "ni hao, wo de ding dan hai mei you fa huo" -> "你好，我的订单还没有发货". Each stretch of
    pinyin between punctuation is read as a whole (`read_pinyin`, `known`: the FAQ's own words,
    preferred); what is not pinyin (an English word, an order number, an address) stays as
    written. Any other text is returned as it is. Bounded: MAX_PINYIN_MAIL_LETTERS letters are
    read, the rest of a long mail is kept as written."""
    if not written_in_pinyin(text):
        return text
    known = known or NO_VOCABULARY
    parts: list[str] = []
    run: list[str] = []  # the syllable-letters of the pinyin words of the stretch being read
    run_text: list[str] = []  # ... as typed
    budget = MAX_PINYIN_MAIL_LETTERS

    def flush() -> None:
        nonlocal budget
        letters = sum(map(len, run))
        reading = read_pinyin(run, known, whole=True) if run and letters <= budget else None
        budget -= letters
        parts.append("".join(reading) if reading else "".join(run_text))
        run.clear()
        run_text.clear()

    sentence_start = True
    for found in _MAIL_PIECE_RE.finditer(text):
        piece = found.group()
        kept = found.group("kept") is not None  # an address or a link, as written
        typed = None if kept else typed_pinyin_words(toneless(piece))
        name = piece[0].isupper() and not sentence_start
        if piece.isspace() or not piece.isalnum():
            sentence_start = sentence_start or "\n" in piece or bool(set(piece) & set(".!?:;"))
        else:
            sentence_start = False
        if typed and not name and all(pinyin_syllables(part) for part in typed):
            run += typed
            run_text.append(piece)
        elif piece.isspace():
            if run and "\n" not in piece:
                run_text.append(piece)
            else:
                if run:
                    flush()  # a line is read on its own (a subject, a greeting)
                parts.append(piece)
        else:
            if run:
                flush()
            # A sentence's punctuation as Chinese writes it; not inside 1.5 or LH-2026.
            ends = found.end() == len(text) or text[found.end()].isspace()
            punctuation = not kept and not piece.isalnum() and ends
            parts.append(piece.translate(_CHINESE_PUNCTUATION) if punctuation else piece)
    if run:
        flush()
    return _CHINESE_SPACING_RE.sub(r"\1", "".join(parts)).strip()


def clear_caches() -> None:
    """Forget converted and segmented texts (benchmarks measuring new text)."""
    _to_simplified_short.cache_clear()
    _to_simplified_long.cache_clear()
    _run_to_traditional.cache_clear()
    segment.cache_clear()
    segment_for_search.cache_clear()
    pinyin_syllables.cache_clear()
