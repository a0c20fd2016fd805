"""A mail that says nothing: only a greeting ("hi", "你好", "在吗？"), "test", "see attached",
a signature, or nothing at all.

The model reads such a mail as it reads any other and names a department it has no reason for
("hi" was public relations at 0.458, "Good morning." PR at urgency 5): a person looks first, in
triage. Only the subject and the customer's new text are read (the caller's), and only when
they are short: anything longer says something. A mail with a word of content anywhere, "Hi,
my kettle stopped heating", "Invoice" over "see attached", "退货" over "您好", is routed as ever.

What counts as saying nothing, line by line (each line cut at its sentence and comma ends):
greetings and closings with up to three words of a name ("Hi John", "Dear Support Team",
"Thanks, Tom"), asking whether anyone is there ("在吗", "Anyone there?"), "test", "see
attached", "FYI"; and lines of a signature: after a "--" line, a line with a phone number, an
address or a web site, a company (Ltd, 有限公司), and a name or a title in capitals of up to four
words ("John Smith", "Purchasing Manager"; one word only after a closing or when it is a word
of the sender's own name: "Hi" over "Carol" from Carol) or a Chinese name (a common surname
and one or two characters), these two only in a mail that greets or gives contact details:
"Refund" or "Order Status" alone says something.
"""

from __future__ import annotations

import functools
import re
from collections import deque

from support.core.text import CJK_RE, to_simplified, without_markup

#: Characters of subject and text read; a mail that says nothing is far shorter.
MAX_CHARS = 400
MAX_LINES = 12

# Reply and forward prefixes of a subject ("Re:", "Fwd:", "回复：", "轉寄："), repeated.
_SUBJECT_PREFIX_RE = re.compile(
    r"^(?:\s*(?:\[[^\]]{0,40}\]\s*)?(?:re|aw|sv|fwd?|wg|tr|回复|回覆|答复|答覆|转发|转寄|轉寄|轉發)\s*[:：])+",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER_RE = re.compile(r"^\s*--\s*$")
# Where a line's pieces end: sentences, commas, dashes, and the spaces between Chinese phrases.
_PIECE_END_RE = re.compile(r"[.!?。！？,，;；:：~～…、]+|\s+-\s+|(?<=[^\x00-\x7f])\s+")
_NAME = r"(?:\s+[A-Z][\w'.-]*){0,3}"
# Greetings and closings, the whole piece (matched on Simplified text).
_COURTESY = (
    r"(?:(?:hi|hello|hey|hiya|howdy|greetings|dear|good (?:morning|afternoon|evening|day))"
    r"(?:\s+(?:there|all|everyone|team|sir|madam|sir or madam|support|support team|"
    r"customer service|customer support|service team))?"
    rf"{_NAME}"
    r"|(?:many |kind |best |warm |with )?(?:thanks?|thank you|regards|best|cheers|"
    r"sincerely|yours|yours sincerely|yours faithfully|best wishes|thanks in advance)"
    rf"{_NAME}"
    r"|(?:客服)?(?:你好|您好|你们好|您们好|妳好|哈喽|哈啰|嗨|hello)(?:客服|啊|呀)?"
    r"|谢谢|多谢|感谢|谢谢你|谢谢您|此致|敬礼|此致敬礼|祝好|顺祝商祺|麻烦了|辛苦了)"
)
# Fillers that are no courtesy: asking whether anyone is there, "test", "see attached", "FYI".
_OTHER_FILLERS = (
    r"(?:(?:is )?(?:any ?one|any ?body|someone|somebody) (?:there|here|around)|are you there"
    r"|test(?:ing)?(?: test)?(?: \d{1,4})?|just (?:a )?test(?:ing)?"
    # A test mail's own words (swaks sends "This is a test mailing" under "test <date>").
    r"|(?:this is )?(?:just )?(?:a )?test(?:ing)? (?:e-?mail|mail|mailing|message)"
    r"|this is (?:just )?a test"
    r"|(?:这是)?(?:一封)?测试(?:一下)?(?:邮件)?"
    r"|(?:please )?(?:see|find|check) (?:the )?(?:attached|attachments?)(?: files?)?"
    r"|(?:please )?see attachments?|attached|attachments?|fyi"
    r"|(?:请问)?(?:在吗|在不在|有人吗|有人在吗|有人在不在|在么|在嘛)"
    r"|(?:请|烦请)?(?:看|查看|参阅|详见|见)(?:一下)?附件|附件)"
)
# A date and time in a subject ("test Mon, 07 Dec 2026 10:43:21 +0000", swaks's; "test
# 2026-12-07 10:43"): no words of the customer's.
_SUBJECT_DATE_RE = re.compile(
    r"(?:\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s*)?"
    r"(?:\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{4}"
    r"|\b\d{4}-\d{2}-\d{2})"
    r"(?:[\sT]+\d{1,2}:\d{2}(?::\d{2})?)?(?:\s*(?:[+-]\d{4}|utc|gmt|z)\b)?",
    re.IGNORECASE,
)
# A courtesy or a filler that says nothing, the whole piece.
_FILLER_RE = re.compile(f"{_COURTESY}|{_OTHER_FILLERS}", re.IGNORECASE)
# Closings after which the rest of a short mail is its signature.
_CLOSING_RE = re.compile(
    r"^(?:(?:many |kind |best |warm )?(?:thanks?|thank you|regards|best|cheers|sincerely|"
    r"yours(?: sincerely| faithfully| truly)?|best wishes)|谢谢|多谢|此致|敬礼|祝好|顺祝商祺)"
    r"[\s,.!，。！]*$",
    re.IGNORECASE,
)
# A signature's contact line: a phone number, an address, a web site, after a contact word;
# nothing else is on the line ("Order 12345678" says something).
_CONTACT_RE = re.compile(
    r"\+?\d[\d ()./-]{6,}\d|[\w.+-]+@[\w-]+\.[\w.-]+|(?:https?://|www\.)\S+|"
    r"\b(?:tel|phone|mobile|mob|cell|fax|email|e-mail|web|wechat|skype|whatsapp|qq)\b|"
    r"电话|手机|座机|传真|邮箱|微信",
    re.IGNORECASE,
)
_COMPANY_RE = re.compile(
    r"^[A-Z0-9][\w'.&-]*(?:\s+[\w'.&-]+){0,5}\s+(?:Ltd|Limited|Inc|LLC|LLP|PLC|GmbH|Corp|Co)\.?$|"
    r"^[\u4e00-\u9fffA-Za-z0-9（）()]{2,24}(?:有限公司|有限责任公司|集团)$"
)
# A name or a title in capitals: "John Smith", "Purchasing Manager" (one word, "Maria", only
# after a closing).
_CAPITALS_RE = re.compile(r"^[A-Z][\w'.&-]*(?:\s+[A-Z&][\w'.&-]*){0,3}$")
# A Chinese name: a common surname and one or two characters.
_CHINESE_NAME_RE = re.compile(
    "^[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤欧][\u4e00-\u9fff]{1,2}$"
)
_MARKS_RE = re.compile(r"[\W_]+")
# The words of the sender's display name ("Carol Smith" -> carol, smith).
_SENDER_WORD_RE = re.compile(r"[^\W\d_]{2,}")


def sender_words(sender_name: str) -> frozenset[str]:
    """The words of the sender's display name, casefolded ("Carol Smith" -> carol, smith;
    "王丽" -> 王丽)."""
    return frozenset(_SENDER_WORD_RE.findall(sender_name[:200].casefold()))


def says_nothing(subject: str, text: str, sender_name: str = "") -> bool:
    """Whether a mail's subject (the model's, without the "(no subject)" placeholder) and the
    customer's new text hold nothing but greetings, fillers, a signature and markup (a mail of
    tags alone is routed as a mail of no words). ``sender_name``: the display name of the
    mail's From, whose words sign it ("Carol")."""
    own = sender_words(sender_name)
    subject = _SUBJECT_PREFIX_RE.sub("", subject or "").strip()
    text = (text or "").strip()
    if len(subject) + len(text) > MAX_CHARS:
        return False
    subject, text = without_markup(subject).strip(), without_markup(text).strip()
    subject = _SUBJECT_DATE_RE.sub(" ", subject).strip()
    lines = [line.strip() for line in to_simplified(text).split("\n") if line.strip()]
    if len(lines) > MAX_LINES or not _only_fillers(to_simplified(subject)):
        return False
    if any(_SIGNATURE_DELIMITER_RE.match(line) for line in lines):
        lines = lines[
            : next(i for i, line in enumerate(lines) if _SIGNATURE_DELIMITER_RE.match(line))
        ]
        signed = True
    else:
        signed = any(_contact_or_company(line) for line in lines)
    courtesy = closed = False
    for line in lines:
        if _only_fillers(line):
            courtesy = True
            closed = closed or _CLOSING_RE.match(line) is not None
        elif not (_contact_or_company(line) or _name(line, signed or courtesy, closed, own)):
            return False
    return True


def _only_fillers(line: str) -> bool:
    """Each piece of the line is a courtesy or a filler (an empty line is)."""
    pieces = (piece.strip() for piece in _PIECE_END_RE.split(line))
    return all(_FILLER_RE.fullmatch(piece) for piece in pieces if _MARKS_RE.sub("", piece))


def _contact_or_company(line: str) -> bool:
    """A signature's line of contact details or a company's name."""
    if _COMPANY_RE.match(line):
        return True
    rest = _CONTACT_RE.sub("", line)
    return rest != line and not _MARKS_RE.sub("", rest)


def _name(line: str, signed: bool, closed: bool, own: frozenset[str]) -> bool:
    """A name or a title, in a mail that is signed or greets (one word only after a closing or
    when it is a word of the sender's own name, ``own``)."""
    if not signed:
        return False
    if CJK_RE.search(line):
        return _CHINESE_NAME_RE.match(line) is not None
    found = _CAPITALS_RE.match(line.rstrip(",."))
    if found is None:
        return False
    word = found.group()
    return closed or " " in word or word.rstrip(".").casefold() in own


# ----------------------------------------------------------------------------- courtesy

#: Longest piece tested against the fillers: a courtesy is short, and a long piece (a 20 kB
#: line without punctuation) is content; bounding it keeps the regex work linear.
_MAX_FILLER_PIECE = 60
#: Longer lines are read at their ends only (`_without_courtesy_pieces`): their first piece
#: and their last _LINE_END_READ characters' pieces.
_LONG_LINE = 200
_LINE_END_READ = 2 * _MAX_FILLER_PIECE + 10
#: A signature's line is short; a longer one is content (or a confidentiality notice).
_MAX_SIGNATURE_LINE = 120
_WORD_CHARACTER_RE = re.compile(r"[^\W_]")
#: Lines at the end of a mail read as its signature at most (names, titles, contact lines).
MAX_SIGNATURE_LINES = 6
# Words of a greeting that greet whoever reads: "Hello there", "Dear Sir or Madam".
_GREETED_ANYONE = frozenset(
    "there all everyone team sir madam or and support customer service care folks guys".split()
)
_GREETED_MAX_WORDS = 4
# Words of a greeted addressee that say which department is meant: kept as content ("Hi HR",
# "Dear Accounts Payable", "Dear Hiring Manager"); any other addressee is a name or the help
# desk in general ("Hi John", "Hello Lumen team") and goes with the greeting.
_DEPARTMENT_WORDS = frozenset(
    "hr human resources hiring recruitment recruiting recruiter talent people payroll "
    "sales purchasing procurement accounts account finance billing payable receivable credit "
    "pr press media marketing partnerships communications".split()
)
_CHINESE_DEPARTMENT_RE = re.compile(r"人事|人资|招聘|财务|会计|销售|采购|市场|公关|媒体|宣传")
# More closings than _FILLER_RE's: "Thanks a lot", "Thank you very much", "期待您的回复".
_MORE_CLOSINGS_RE = re.compile(
    r"(?:many |kind |best |warm )?(?:thanks|thank you)(?: (?:a lot|so much|very much|again))?"
    r"|all the best|best wishes|warm wishes|looking forward to (?:hearing from you|your reply)"
    r"|期待(?:您的|你的)?回复|盼复|谢谢你们|谢谢您们|非常感谢|多谢了|谢谢了|顺祝(?:商祺|安好)|祝(?:好|顺利)"
    r"|唔该(?:晒)?|多谢晒",
    re.IGNORECASE,
)
# A greeting or a closing, the whole piece: a greeting that names whom it greets ("Dear Hiring
# Manager", "Hi HR", "人资部您好": its <to> is read by _courtesy), the fillers, more closings.
_COURTESY_PIECE_RE = re.compile(
    r"(?:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening|day))\s+(?P<to>.+)"
    r"|(?P<chinese_to>[\w（）()]{1,12}?)(?:你好|您好|你们好|您们好)"
    rf"|{_COURTESY}|{_MORE_CLOSINGS_RE.pattern}",
    re.IGNORECASE,
)
# A signature line cut at commas and bars: "Senior Reporter, Consumer Weekly",
# "Operations Coordinator | Brightwater Logistics Ltd".
_SIGNATURE_PARTS_RE = re.compile(r"\s*[,|·]\s*")
# The confidentiality notice under a signature.
_DISCLAIMER_RE = re.compile(
    r"(?:confidentiality notice|disclaimer|this (?:e-?mail|message)\b[^.]{0,80}\bconfidential"
    r"|本邮件|此邮件|免责声明|保密声明)",
    re.IGNORECASE,
)
# A web address without its scheme: "linkedin.com/in/x", "example.co.uk".
_WEB_ADDRESS_RE = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|co|uk|de|cn|tw|hk)\b\S*")
# The end of a sentence, before a name that signs the mail on the same line.
_SENTENCE_END_RE = re.compile(r"[.!?。！？]+\s*")
# A Chinese name as it signs a mail among colleagues: "小潘", "老王", "阿明".
_CHINESE_NICKNAME_RE = re.compile(r"^[小老阿][\u4e00-\u9fff]$")
# A contact line's label left over once its number is read: "T:", "Mob.", "Tel".
_SHORT_LABEL_MAX = 4


def without_courtesy(text: str) -> str:
    """``text`` without what no department or urgency rests on: greetings and closings ("您好，",
    "Hi John,", "谢谢！", "Kind regards,") wherever they stand as a piece of their own, and the
    signature at the end (names, titles, companies, contact lines; after a "--" line, all).

    The classifier's features read this (`features.normalize_text`): the shipped examples'
    greetings and signatures followed the writer's habits, not the mail's department or
    level, so "您好" and a signed "李明" were deciding words staff were shown. Expects
    Simplified Chinese, capitals kept (a name is found by its capitals). The first line with
    content stays: a mail of one line ("Order Status") keeps it.
    """
    lines = text.split("\n")
    delimiter = next(
        (i for i, line in enumerate(lines) if i and _SIGNATURE_DELIMITER_RE.match(line)), None
    )
    if delimiter is not None:
        lines = lines[:delimiter]
    lines = [_without_courtesy_pieces(line) for line in lines]
    content = [i for i, line in enumerate(lines) if _WORD_CHARACTER_RE.search(line)]
    last = content[-1] if content else 0
    for index in reversed(content[1:][-MAX_SIGNATURE_LINES:]):
        if not _signature_line(lines[index].strip()):
            break
        lines[index] = ""
        last = content[content.index(index) - 1]
    if content:
        lines[last] = _without_last_name(lines[last])
    return "\n".join(lines)


def _without_last_name(line: str) -> str:
    """The mail's last line without the name that signs it after its last sentence
    ("洗完不排水。王芳", "...after the wash. Anna")."""
    ends = deque(_SENTENCE_END_RE.finditer(line, max(0, len(line) - _LINE_END_READ)), maxlen=1)
    if not ends or not _name_piece(line[ends[0].end() :].strip()):
        return line
    return line[: ends[0].end()]


def _without_courtesy_pieces(line: str) -> str:
    """The line without its pieces that are a greeting or a closing (with their marks), and
    without a name that ends the line right after a closing ("谢谢。李明", "Thanks, Tom").

    A long line is read at its two ends only: a courtesy opens or closes what it stands in,
    and the pieces between them would cost a regex each (a paragraph is one line).
    """
    if len(line) <= _LONG_LINE:
        return _line_without_courtesy(line)
    head = _PIECE_END_RE.search(line)
    tail = _PIECE_END_RE.search(line, len(line) - _LINE_END_READ)
    if head is None or tail is None or tail.start() < head.end():
        return line
    return (
        _line_without_courtesy(line[: head.end()])
        + line[head.end() : tail.end()]
        + _line_without_courtesy(line[tail.end() :])
    )


@functools.lru_cache(maxsize=8192)
def _line_without_courtesy(line: str) -> str:
    """A line (or a long line's end) without its courtesy pieces (`_without_courtesy_pieces`).

    Cached by the line (a pure function of it): greetings, closings and signature lines recur
    from mail to mail, and each costs a regular expression per piece (3-4 % of a prepared mail's
    CPU in a py-spy profile of the bench's mails)."""
    if not line.strip():
        return line
    cuts = [(m.start(), m.end()) for m in _PIECE_END_RE.finditer(line)]
    spans = list(
        zip([0, *(end for _, end in cuts)], [*(start for start, _ in cuts), len(line)], strict=True)
    )
    kept: list[str] = []
    after_courtesy = False
    for number, (start, end) in enumerate(spans):
        piece = line[start:end]
        marks = line[end : cuts[number][1]] if number < len(cuts) else ""
        core = piece.strip()
        last = number == len(spans) - 1
        content = _courtesy(core) if core and len(core) <= _MAX_FILLER_PIECE else None
        if content is not None:
            kept.append(f" {content}{marks}" if content else " ")
            after_courtesy = not content
        elif last and after_courtesy and core and _name_piece(core):
            kept.append(" ")
        else:
            kept.append(piece + marks)
            after_courtesy = after_courtesy and not core
    return "".join(kept)


def _name_piece(piece: str) -> bool:
    """A name on its own: up to three words in capitals, or a Chinese name."""
    if _CHINESE_NAME_RE.match(piece) or _CHINESE_NICKNAME_RE.match(piece):
        return True
    return _CAPITALS_RE.match(piece) is not None and piece.count(" ") < 3


def _courtesy(piece: str) -> str | None:
    """What of a short piece is content: None when all of it (no courtesy), "" when none (a
    greeting or closing), else the department a greeting names ("HR" of "Hi HR")."""
    found = _COURTESY_PIECE_RE.fullmatch(piece)
    if found is None:
        return None
    to = found.group("to")
    if to is not None:  # "Hi John", "Dear Hiring Manager", but not "Hello my kettle broke"
        words = [word for word in re.split(r"[\s/&,.-]+", to) if word]
        if len(words) > _GREETED_MAX_WORDS:
            return None
        if {word.casefold() for word in words} & _DEPARTMENT_WORDS:
            return to
        named = all(w[0].isupper() or w.casefold() in _GREETED_ANYONE for w in words)
        return "" if named else None
    to = found.group("chinese_to")
    if to is not None and (
        _CHINESE_DEPARTMENT_RE.search(to) or to.isascii() and to.casefold() in _DEPARTMENT_WORDS
    ):
        return to
    return ""


def _signature_line(line: str) -> bool:
    """A line of a signature: names, titles, companies or contact details, side by side
    ("Senior Reporter, Consumer Weekly", "linkedin.com/in/x | +44 7911 123456")."""
    if not line or _DISCLAIMER_RE.match(line):
        return True
    if len(line) > _MAX_SIGNATURE_LINE:
        return False
    if _contact_or_company(line) or _name_piece(line):
        return True
    parts = [part for part in _SIGNATURE_PARTS_RE.split(line.rstrip(",.")) if part]
    return bool(parts) and all(_signature_part(part) for part in parts)


def _signature_part(part: str) -> bool:
    if _CAPITALS_RE.match(part) or _COMPANY_RE.match(part) or _name_piece(part):
        return True
    rest = _WEB_ADDRESS_RE.sub("", _CONTACT_RE.sub("", part))
    return rest != part and len(_MARKS_RE.sub("", rest)) <= _SHORT_LABEL_MAX  # "T: +44 ..."
