"""Quoted history and signatures: split a plain-text body into new text, quote and signature.

Staff and the classifier should read what the customer wrote now, not the history their mail
client appended: Outlook/Foxmail/QQ header blocks, "On ... wrote:" attributions (English,
Chinese, German, French, Spanish, Italian, Dutch, wrapped by Gmail), '>' lines wherever they
are, and "Sent from my ..." or "-- " signatures.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)


def _any_of(*patterns: re.Pattern[str]) -> re.Pattern[str]:
    """One regex that matches where any of ``patterns`` does: one call per line, not one each."""
    assert all(p.flags & ~(re.IGNORECASE | re.UNICODE) == 0 for p in patterns)
    flags = ["i" if p.flags & re.IGNORECASE else "" for p in patterns]
    return re.compile("|".join(f"(?{f}:{p.pattern})" for f, p in zip(flags, patterns, strict=True)))


# Attributions that open quoted history even when the quote is not '>'-prefixed.
_ATTRIBUTION_RE = _any_of(
    re.compile(r"^\s*(?:On|At)\s.{0,300}\b(?:wrote|writes)\s*:\s*$", re.IGNORECASE),
    re.compile(r"^\s*(?:在|於|于)\s*.{0,300}(?:写道|寫道)\s*[:：]?\s*$"),
    re.compile(r"^.{0,300}(?:于|於)\s*.{0,120}(?:写道|寫道)\s*[:：]\s*$"),
    re.compile(r"^\s*(?:Am|Le|El|Il|Op)\s.{0,300}(?:schrieb|a écrit|escribió|ha scritto|schreef)"),
)
# Gmail wraps a long "On ..., Name <address> wrote:" over two or three lines.
_WRAPPED_ATTRIBUTION_START_RE = re.compile(r"^\s*(?:On|At|在)\s")
_ATTRIBUTION_END_RE = re.compile(r"(?:wrote|writes|写道|寫道)\s*[:：]?\s*$", re.IGNORECASE)
# Looser ones ("Bob wrote:") count only directly above '>' lines.
_WEAK_ATTRIBUTION_RE = re.compile(r"^.{0,300}\b(?:wrote|writes|said)\s*:\s*$", re.IGNORECASE)
# Dash-framed lines that open quoted or forwarded history: Outlook, QQ Mail, Samsung/Huawei/
# Xiaomi mail apps; NetEase Mail Master ("---- 回复的原邮件 ----", "---- Replied Message ----");
# forwards from Gmail ("---------- Forwarded message ---------"), Thunderbird and NetEase
# webmail ("-------- 转发邮件信息 --------", "-------- Forwarding messages --------") and Gmail's
# Traditional Chinese UI ("---------- 轉寄的郵件 ---------").
# QQ Mail's plain text keeps the HTML's spaces as entities:
# "------------------&nbsp;原始邮件&nbsp;------------------".
#: The names between the dashes of a separator that opens a forwarded mail (regex
#: alternatives, any case): one definition for threading, routing and the spam features.
FORWARD_SEPARATOR_NAMES = (
    r"Forwarded Message|Forwarding messages?|转发邮件信息|转发的邮件|转发的消息|轉寄郵件|"
    r"轉寄的郵件|已轉寄郵件|已转发邮件"
)
#: The names between the dashes of a separator that opens a reply's quoted history.
REPLY_SEPARATOR_NAMES = (
    r"Original Message|Original|Reply Message|Replied Message|原始邮件|原始郵件|原邮件|原郵件|"
    r"原始信息|回复的邮件|回复的原邮件|Ursprüngliche Nachricht|Message d'origine"
)
#: Apple Mail's forward introduction, a line of its own before a colon ("开始转发的邮件：" and
#: "開始轉寄的郵件：" in its Chinese UIs today, "以下是转发的邮件：" in older ones; "轉寄的郵件："
#: too, as the thirty-third session's brief names it); regex alternatives, any case.
FORWARD_INTRO_NAMES = (
    r"Begin forwarded message|以下是转发的邮件|以下为转发的邮件|以下是轉寄的郵件|"
    r"开始转发的邮件|開始轉寄的郵件|開始轉發的郵件|开始转寄的邮件|轉寄的郵件"
)
_GAP = r"(?:\s|&nbsp;)*"
_SEPARATOR_RE = re.compile(
    rf"^\s*-{{2,}}{_GAP}(?:{FORWARD_SEPARATOR_NAMES}|{REPLY_SEPARATOR_NAMES}){_GAP}-{{2,}}\s*$",
    re.IGNORECASE,
)
# The introduction opens history only when a header field follows.
_FORWARD_INTRO_RE = re.compile(rf"^\s*(?:{FORWARD_INTRO_NAMES})\s*[:：]\s*$", re.IGNORECASE)
# A rule of underscores (Outlook) or dashes (Aliyun Mail) directly above a From field.
_UNDERSCORE_RULE_RE = re.compile(r"^\s*(?:_{10,}|-{10,})\s*$")
_FROM_FIELD_RE = re.compile(
    r"^\s*[*>]?\s*(?:From|发件人|發件人|寄件者|寄件人|Von|De)\s*\*?\s*[:：]", re.IGNORECASE
)
_DATE_FIELD_RE = re.compile(
    r"^\s*[*>]?\s*(?:Sent|Date|Sent on|发送时间|發送時間|傳送時間|发送日期|发件时间|发信时间|"
    r"寄件日期|时间|時間|日期|Gesendet|Envoyé)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_TO_FIELD_RE = re.compile(
    r"^\s*[*>]?\s*(?:To|Subject|Cc|收件人|收件者|主\s?题|主\s?題|主旨|抄\s?送|副本|"
    r"An|Betreff|À|Objet)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER_RE = re.compile(r"^--\s?$")
_SENT_FROM_RE = re.compile(
    r"^\s*(?:Sent from my\s|Sent from (?:Mail|Outlook|Yahoo|Samsung|Huawei)|Get Outlook for\s|"
    r"Sent via\s|发自我的|发自\s*(?:网易|我的|手机|iPhone|iPad)|来自我的|从我的\s*\S+\s*发送|"
    r"從我的\s*\S+\s*(?:傳送|寄出)|寄自我的|發自我的|Envoyé de mon|Von meinem\s|"
    r"获取\s*Outlook\s|取得\s*Outlook\s|发送自\s*(?:Windows|我的)|签名由\s*网易邮箱大师\s*定制)",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 15


def is_sent_from_line(line: str) -> bool:
    """A mail program's own signature line: "Sent from my iPhone", "发自我的华为手机"."""
    return _SENT_FROM_RE.match(line) is not None


# A legal footer is the last paragraph of the new text and opens with one of these.
_LEGAL_FOOTER_RE = re.compile(
    r"^\s*(?:CONFIDENTIALITY (?:NOTICE|CAUTION)|(?:LEGAL )?DISCLAIMER\s*[:：]|"
    r"This (?:e-?mail|message)\b.{0,80}?\b(?:is|are|may be|contains?)\b.{0,80}?"
    r"\b(?:confidential|privileged|intended)|免责声明|保密声明|"
    r"本邮件(?:及其附件)?(?:含有|包含|仅|可能)|此邮件(?:及其附件)?(?:含有|包含|仅|可能)|"
    r"本電子郵件|本郵件(?:及其附件)?(?:含有|包含|僅))",
    re.IGNORECASE,
)
# ... and says what legal footers say, which a customer's own last words rarely do.
_LEGAL_TERMS_RE = re.compile(
    r"intended (?:recipient|solely)|addressee|notify the sender|delete|unauthori[sz]ed|prohibited|"
    r"删除|刪除|禁止|仅限|僅限|通知发件人|通知寄件人",
    re.IGNORECASE,
)
_MAX_FOOTER_CHARS = 1500
# NetEase Mail Master's name card as plain text: its table cells leave lines of only '|'.
_CARD_RULE_RE = re.compile(r"^\s*\|[\s|]*$")
_MAX_CARD_LINES = 10


# A contact card typed as the last lines, as Chinese business people sign without "-- ":
# a name line, perhaps a title or company line, then "label：value" contact lines or bare links.
_CONTACT_LINE_RE = re.compile(
    r"^\s*(?:(?P<label>微信号?|微訊|WeChat(?: ID)?|手机|手機|移动电话|电话|電話|座机|Tel|Telephone|"
    r"Phone|Mobile|Mob|Cell|Fax|传真|傳真|地址|Add|Addr|Address|公司|Company|QQ|邮箱|郵箱|"
    r"E-?mail|网址|網址|网站|網站|Web|Website|Skype|WhatsApp|LINE(?: ID)?)\s*[:：]\s*\S"
    r"|(?:https?://|www\.)\S+\s*$|[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*$)",
    re.IGNORECASE,
)
# A name or a title/company line: short, no label, no digits, no sentence punctuation.
_CARD_HEAD_RE = re.compile(r"^[^\d:：。，,！!？?；;@/]{2,40}$")
# Han names of two to four characters, or one to four words of letters.
_NAME_RE = re.compile(
    r"^\s*(?:[\u4e00-\u9fff·•]{2,5}|[A-Za-z][A-Za-z.'-]*(?: [A-Za-z.'-]+){0,3})\s*$"
)
# ... but not an advert's "张经理" or "王总": a person signs with their own name.
_SALES_NAME_RE = re.compile(r"(?:经理|經理|总|總|专员|專員|客服)\s*$")
_MAX_CONTACT_LINE_CHARS = 80
_MIN_CONTACT_LINES = 2


def _contact_card_start(own: list[str], content: list[int]) -> int | None:
    """Where a trailing contact card begins (see _CONTACT_LINE_RE), or None.

    Read in the last _MAX_CARD_LINES lines only: contact lines going up from the last line, no
    blank between them, at least _MIN_CONTACT_LINES of them labelled (a list of bare links
    under a heading is no card), then a name line (and at most one title
    or company line under it), with a blank line and the customer's own text above.
    """
    index = len(content) - 1
    labelled = 0
    while index >= 0 and len(content) - index <= _MAX_CARD_LINES:
        line = own[content[index]]
        found = _CONTACT_LINE_RE.match(line) if len(line) <= _MAX_CONTACT_LINE_CHARS else None
        if found is None:
            break
        if index < len(content) - 1 and content[index + 1] != content[index] + 1:
            return None
        labelled += found.group("label") is not None
        index -= 1
    if labelled < _MIN_CONTACT_LINES or index < 1:
        return None
    for head in (index, index - 1):
        if head < 1 or len(content) - head > _MAX_CARD_LINES:
            return None
        line = own[content[head]].strip()
        if content[head + 1] != content[head] + 1 or not _CARD_HEAD_RE.match(line):
            return None
        start = content[head]
        if _NAME_RE.match(line) and not own[start - 1].strip():
            return None if _SALES_NAME_RE.search(line) else start
    return None


def is_contact_card(signature: str) -> bool:
    """Whether a signature (``QuoteSplit.signature``) is a contact card typed by hand."""
    lines = ["-", "", *signature.strip().split("\n")[: _MAX_CARD_LINES + 1]]
    content = [index for index, line in enumerate(lines) if line.strip()]
    return _contact_card_start(lines, content) == 2


def _trailing_signature_start(own: list[str], sender_address: str) -> int | None:
    """Where a signature without a delimiter begins at the end of the new text, or None.

    Four shapes real clients and people leave there, each bounded to the last lines: Foxmail's
    default signature (the sender's own address alone on the last line), NetEase Mail Master's
    name card (lines of '|' around a name and address), a contact card typed by hand (a name,
    then "微信：...", "Tel: ..." lines), and a legal footer paragraph (its opening words and a
    legal term both). Something of the customer's own must stay before it.
    """
    content = [index for index, line in enumerate(own) if line.strip()]
    if len(content) < 2:
        return None
    last = content[-1]
    address = sender_address.strip().lower()
    if address and own[last].strip().lower() == address:
        return last
    tail = content[-_MAX_CARD_LINES:]
    rules = [index for index in tail if _CARD_RULE_RE.match(own[index])]
    if len(rules) >= 2 and rules[0] != content[0]:
        return rules[0]
    card = _contact_card_start(own, content)
    if card is not None:
        return card
    paragraph = last
    while paragraph > 0 and own[paragraph - 1].strip():
        paragraph -= 1
    footer = "\n".join(own[paragraph : last + 1])
    if paragraph > content[0] and len(footer) <= _MAX_FOOTER_CHARS:
        if _LEGAL_FOOTER_RE.match(own[paragraph]) and _LEGAL_TERMS_RE.search(footer):
            return paragraph
    return None


def _is_header_block(lines: list[str], index: int) -> bool:
    """Outlook/Foxmail/QQ style: a From line followed closely by Sent/Date and To/Subject."""
    if not _FROM_FIELD_RE.match(lines[index]):
        return False
    following = lines[index + 1 : index + 7]
    has_date = any(_DATE_FIELD_RE.match(line) for line in following)
    has_to = any(_TO_FIELD_RE.match(line) for line in following)
    return has_date and has_to


def _is_attribution(lines: list[str], index: int, *, weak: bool = False) -> bool:
    line = lines[index]
    if len(line) > 400:
        return False
    if _ATTRIBUTION_RE.match(line):
        return True
    if weak and _WEAK_ATTRIBUTION_RE.match(line):
        return True
    if _WRAPPED_ATTRIBUTION_START_RE.match(line):
        joined = line
        for extra in lines[index + 1 : index + 3]:
            joined += " " + extra
            if _ATTRIBUTION_RE.match(joined):
                return True
    return False


class _Lines:
    """Lines of a text with O(1) access to the next non-blank line (texts can be huge)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self._next = [len(lines)] * (len(lines) + 1)
        for index in range(len(lines) - 1, -1, -1):
            self._next[index] = index if lines[index].strip() else self._next[index + 1]

    def next_content(self, index: int) -> str | None:
        """The first non-blank line at or after ``index``."""
        if index >= len(self.lines):
            return None
        position = self._next[index]
        return self.lines[position] if position < len(self.lines) else None


def _quote_start(text_lines: _Lines) -> int | None:
    """Index where top-posted history begins (everything after it is quoted)."""
    lines = text_lines.lines
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if _SEPARATOR_RE.match(line):
            return index
        if _FORWARD_INTRO_RE.match(line):
            following = text_lines.next_content(index + 1)
            if following is not None and (
                _FROM_FIELD_RE.match(following) or _TO_FIELD_RE.match(following)
            ):
                return index
        if _UNDERSCORE_RULE_RE.match(line):
            following = text_lines.next_content(index + 1)
            if following is not None and _FROM_FIELD_RE.match(following):
                return index
        if _is_header_block(lines, index):
            return index
        if _is_attribution(lines, index):
            # "On ... wrote:" followed by '>' lines: a bottom-post or interleaved reply may
            # continue after the quote, so only the '>' lines are history.
            end = index
            while end < min(index + 2, len(lines) - 1) and not _ATTRIBUTION_END_RE.search(
                lines[end]
            ):
                end += 1
            following = text_lines.next_content(end + 1)
            if following is None or not following.lstrip().startswith(">"):
                return index
    return None


def _wrapped_attribution_lines(own: list[str], line: str) -> int:
    """How many lines before ``line`` start the attribution it ends (0 when none)."""
    if not _ATTRIBUTION_END_RE.search(line):
        return 0
    for back in (2, 1):
        previous = own[-back:]
        if len(previous) == back and all(entry.strip() for entry in previous):
            if _is_attribution([*previous, line], 0):
                return back
    return 0


@dataclass(frozen=True)
class QuoteSplit:
    """A plain-text body split into what the sender wrote now, history and signature."""

    new_text: str
    quoted_text: str
    signature: str
    #: Nothing but history and a signature was found: ``new_text`` is then the full text.
    nothing_new: bool
    #: The history was cut at a separator, header block or attribution (top-posted history,
    #: under which a bottom-poster's answer may still hide), not only '>' lines.
    history_on_top: bool


def split_quote(text: str, *, sender_address: str = "") -> tuple[str, str, str]:
    """(new text, quoted history, signature) of a plain-text body (see ``split_mail_text``)."""
    split = split_mail_text(text, sender_address=sender_address)
    return split.new_text, split.quoted_text, split.signature


def split_mail_text(text: str, *, sender_address: str = "") -> QuoteSplit:
    """Split a plain-text body into new text, quoted history and signature.

    Top-posted history after a separator or header block is cut off whole; '>' lines and their
    attribution are moved to the quote wherever they are, so bottom-posted and interleaved
    answers keep the customer's own words. When nothing is left, the full text is the new text.
    ``sender_address`` (the From address) lets a signature that is only that address go.
    """
    text_lines = _Lines(text.split("\n"))
    lines = text_lines.lines
    start = _quote_start(text_lines)
    head = lines if start is None else lines[:start]
    quoted = [] if start is None else lines[start:]
    own: list[str] = []
    inline_quote: list[str] = []
    for index, line in enumerate(head):
        if line.lstrip().startswith(">"):
            inline_quote.append(line)
            continue
        next_line = text_lines.next_content(index + 1) if index + 1 < len(head) else None
        if next_line is not None and next_line.lstrip().startswith(">"):
            # An attribution directly above the quote, possibly wrapped over up to 3 lines.
            wrapped = _wrapped_attribution_lines(own, line)
            if wrapped:
                inline_quote.extend(own[-wrapped:] + [line])
                del own[-wrapped:]
                continue
            if _is_attribution(head, index, weak=True):
                inline_quote.append(line)
                continue
        own.append(line)
    signature_lines: list[str] = []
    # Non-blank lines after each line: a signature is short, so "-- " early in a long text
    # is more likely a separator the customer typed.
    after = [0] * len(own)
    count = 0
    for index in range(len(own) - 1, -1, -1):
        after[index] = count
        count += bool(own[index].strip())
    for index, line in enumerate(own):
        if after[index] > _MAX_SIGNATURE_LINES:
            continue
        if _SENT_FROM_RE.match(line):
            signature_lines, own = own[index:], own[:index]
            break
        if _SIGNATURE_DELIMITER_RE.match(line):
            signature_lines, own = own[index + 1 :], own[:index]
            break
    trailing = _trailing_signature_start(own, sender_address)
    if trailing is not None:
        signature_lines, own = (
            own[trailing:] + ([""] if signature_lines else []) + signature_lines,
            own[:trailing],
        )
    new_text = "\n".join(own).strip()
    quoted_text = "\n".join(inline_quote + ([""] if inline_quote and quoted else []) + quoted)
    signature = "\n".join(signature_lines).strip()
    nothing_new = not new_text
    return QuoteSplit(
        new_text=new_text or text.strip(),
        quoted_text=quoted_text.strip(),
        signature=signature,
        nothing_new=nothing_new and bool(quoted_text.strip()),
        history_on_top=start is not None,
    )
