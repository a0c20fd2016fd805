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

import re

from support.core.text import CJK_RE, to_simplified

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
# A courtesy or a filler that says nothing, the whole piece (matched on Simplified text).
_FILLER_RE = re.compile(
    r"(?:(?:hi|hello|hey|hiya|howdy|greetings|dear|good (?:morning|afternoon|evening|day))"
    r"(?:\s+(?:there|all|everyone|team|sir|madam|sir or madam|support|support team|"
    r"customer service|customer support|service team))?"
    rf"{_NAME}"
    r"|(?:many |kind |best |warm |with )?(?:thanks?|thank you|regards|best|cheers|"
    r"sincerely|yours|yours sincerely|yours faithfully|best wishes|thanks in advance)"
    rf"{_NAME}"
    r"|(?:is )?(?:any ?one|any ?body|someone|somebody) (?:there|here|around)|are you there"
    r"|test(?:ing)?(?: test)?(?: \d{1,4})?|just (?:a )?test(?:ing)?"
    r"|(?:please )?(?:see|find|check) (?:the )?(?:attached|attachments?)(?: files?)?"
    r"|(?:please )?see attachments?|attached|attachments?|fyi"
    r"|(?:客服)?(?:你好|您好|你们好|您们好|妳好|哈喽|哈啰|嗨|hello)(?:客服|啊|呀)?"
    r"|(?:请问)?(?:在吗|在不在|有人吗|有人在吗|有人在不在|在么|在嘛)"
    r"|测试(?:一下)?(?:邮件)?|(?:请|烦请)?(?:看|查看|参阅|详见|见)(?:一下)?附件|附件"
    r"|谢谢|多谢|感谢|谢谢你|谢谢您|此致|敬礼|此致敬礼|祝好|顺祝商祺|麻烦了|辛苦了)",
    re.IGNORECASE,
)
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


def says_nothing(subject: str, text: str, sender_name: str = "") -> bool:
    """Whether a mail's subject (the model's, without the "(no subject)" placeholder) and the
    customer's new text hold nothing but greetings, fillers and a signature. ``sender_name``:
    the display name of the mail's From, whose words sign it ("Carol")."""
    own = frozenset(_SENDER_WORD_RE.findall(sender_name[:200].casefold()))
    subject = _SUBJECT_PREFIX_RE.sub("", subject or "").strip()
    text = (text or "").strip()
    if len(subject) + len(text) > MAX_CHARS:
        return False
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
