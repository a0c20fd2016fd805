"""Forwarded mail: what a forward sends, so that "FYI" or "请处理" does not route on its own.

A colleague or customer who forwards a mail to the help desk ("FYI", "see below", "转发给你们
看看", or nothing at all) means the forwarded mail: its words decide department, urgency and FAQ
answers. ``read_inline_forward`` finds the forwarded mail under the comment (Gmail, Outlook,
Apple Mail, Thunderbird, QQ/Foxmail/163 separators and header blocks) and returns its subject,
sender and own words (its quotes and signatures removed); ``reading_text`` is the one rule for
what routing, urgency and FAQ matching read: the comment, and the forwarded mail when the
comment is short.

A reply that quotes is not a forward: "-----Original Message-----", "原始邮件" and a bare header
block open both, so they count as a forward only under a forward subject ("Fwd:", "FW:",
"转发：", "轉寄：") and not under a reply's; explicit forward separators ("Forwarded message",
"Begin forwarded message:", "转发邮件信息", "轉寄的郵件") count under any subject.

Bounds: a forward inside a forward is followed ``MAX_FORWARD_DEPTH`` levels deep, and at most
``MAX_FORWARD_CHARS`` of a forwarded mail are read (a forwarded newsletter can be huge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailrouter.parsing.quotes import (
    _DATE_FIELD_RE,
    _FORWARD_INTRO_RE,
    _FROM_FIELD_RE,
    _SEPARATOR_RE,
    _TO_FIELD_RE,
    _UNDERSCORE_RULE_RE,
    FORWARD_SEPARATOR_NAMES,
    _is_header_block,
    _Lines,
    _quote_start,
    split_mail_text,
)
from support.core.text import CJK_RE, NO_TEXT_MARKER

#: Forwards nested deeper than this (a forward of a forward of a forward...) are not followed.
MAX_FORWARD_DEPTH = 3
#: Characters of a forwarded mail read (its start: the words that matter come first).
MAX_FORWARD_CHARS = 20_000
#: A comment of fewer words (two Chinese characters count as one) is read with the forwarded
#: mail: "FYI", "Please handle.", "See below, I think this is for you rather than me."; a
#: longer one is the sender's own account and is read alone.
SHORT_COMMENT_WORDS = 25

# The first reply or forward prefix of a subject, after a mail gateway's "[EXTERNAL]" tag.
SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(re|aw|sv|antw|回复|回覆|答复|答覆|fwd?|wg|tr|转发|转寄|轉寄|轉發)"
    r"\s*[:：]",
    re.IGNORECASE,
)
FORWARD_PREFIXES = frozenset({"fw", "fwd", "wg", "tr", "转发", "转寄", "轉寄", "轉發"})

#: Separators that only forwards use (a reply's "Original Message" is not one of them).
_FORWARD_SEPARATOR_RE = re.compile(
    rf"^\s*-{{2,}}\s*(?:{FORWARD_SEPARATOR_NAMES})\s*-{{2,}}\s*$", re.IGNORECASE
)
# One field of a forwarded mail's header block ("From: ...", "主题：...", "*Sent:* ...").
_FIELD_RE = re.compile(r"^\s*[*>]?\s*([^\s:：*]{1,20}(?:\s[^\s:：*]{1,12})?)\s*\*?\s*[:：]\s*(.*)$")
_SUBJECT_NAMES = frozenset(
    {"subject", "主题", "主 题", "主題", "主 題", "主旨", "betreff", "objet"}
)
_ADDRESS_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_WORD_RE = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Forwarded:
    """The mail a forward sends: its subject, sender and own words (no quotes, no signature)."""

    subject: str
    from_address: str
    text: str

    def as_text(self) -> str:
        """Subject and words, as routing reads them and the ticket page shows them."""
        return f"{self.subject}\n\n{self.text}".strip()


def is_forward_subject(subject: str) -> bool:
    prefix = SUBJECT_PREFIX_RE.match(subject or "")
    return prefix is not None and prefix.group(1).lower() in FORWARD_PREFIXES


def is_reply_subject(subject: str) -> bool:
    prefix = SUBJECT_PREFIX_RE.match(subject or "")
    return prefix is not None and prefix.group(1).lower() not in FORWARD_PREFIXES


def is_short_comment(comment: str) -> bool:
    """Few enough words to be a note on the forwarded mail rather than the message itself."""
    comment = "" if comment.strip() == NO_TEXT_MARKER else comment
    cjk = len(CJK_RE.findall(comment))
    words = len(_WORD_RE.findall(CJK_RE.sub(" ", comment)))
    return words + cjk / 2 < SHORT_COMMENT_WORDS


#: What a mail program writes in its plain text where the mail had a picture: Gmail's
#: "[image: screenshot.png]" and "[image: Inline image 1]", "[Image]", Chinese and Japanese
#: clients' "[图片]", "[圖片: 截圖.png]", "[画像: photo.jpg]", and a picture's file name in
#: brackets ("[image001.png]", Outlook's when it drops the "cid:"). Staff see it where the
#: picture was; routing, urgency, language and FAQ matching read none of its words.
_PICTURE_PLACEHOLDER_RE = re.compile(
    r"\[(?:(?:inline )?image|picture|图片|圖片|图像|圖像|截图|截圖|画像|イメージ|이미지)"
    r"(?:\s*[:：][^\[\]\n]{0,200})?\]"
    r"|\[[^\[\]\n/\\:]{1,120}\.(?:png|jpe?g|gif|bmp|webp|heic|tiff?)\]",
    re.IGNORECASE,
)


def without_picture_placeholders(text: str) -> str:
    """``text`` without the placeholders mail programs write for pictures (linear time)."""
    return _PICTURE_PLACEHOLDER_RE.sub("", text) if "[" in text else text


def reading_text(new_text: str | None, body_text: str | None, forwarded_text: str = "") -> str:
    """What routing, urgency and FAQ matching read of a mail: the sender's new text (the whole
    body only when nothing new was recognised), and the forwarded mail when the new text is
    only a short comment or none; never a picture's placeholder ("[image: photo.jpg]"), and
    new text of placeholders alone is no text."""
    written = (new_text or "").strip()
    own = without_picture_placeholders(written).strip()
    if written and not own:
        own = NO_TEXT_MARKER  # a picture alone: not the quoted history under it
    if forwarded_text.strip() and is_short_comment(own):
        comment = "" if own == NO_TEXT_MARKER else own
        return f"{comment}\n\n{forwarded_text.strip()}".strip()
    return own or without_picture_placeholders(body_text or "")


def read_inline_forward(text: str, subject: str, *, depth: int = 0) -> Forwarded | None:
    """The mail forwarded inline under the sender's comment, or None when ``text`` forwards
    none (no history, a reply's quote, or history without a header block to read)."""
    lines = text[: MAX_FORWARD_CHARS * 2].split("\n")
    start = _quote_start(_Lines(lines))
    if start is None:
        # The whole forward in one '>' quote (Apple Mail's HTML puts it in a cite blockquote):
        # read under the quote, as the plain text part would have it.
        quoted = _quoted_forward(lines)
        return read_inline_forward("\n".join(quoted), subject, depth=depth) if quoted else None
    if not _opens_forward(lines, start, subject):
        return None
    index = start
    if not _FROM_FIELD_RE.match(lines[index]) and not _TO_FIELD_RE.match(lines[index]):
        index += 1  # the separator, Apple Mail's introduction or Outlook's rule
    while index < len(lines) and not lines[index].strip():
        index += 1
    fields, index = _header_fields(lines, index)
    if not fields:
        return None
    body = "\n".join(lines[index:])[:MAX_FORWARD_CHARS]
    forwarded_subject = _field(fields, _SUBJECT_NAMES)
    sender = _ADDRESS_RE.search(_from_value(fields))
    split = split_mail_text(body)
    if split.nothing_new and depth + 1 < MAX_FORWARD_DEPTH:
        # Forwarded again without a word: the mail under the next separator is what was sent.
        inner = read_inline_forward(body, "Fwd:", depth=depth + 1)
        if inner is not None:
            return inner
    return Forwarded(
        subject=forwarded_subject,
        from_address=sender.group(0).lower() if sender else "",
        text=split.new_text.strip(),
    )


_QUOTE_MARK_RE = re.compile(r"^\s*> ?")


def _quoted_forward(lines: list[str]) -> list[str] | None:
    """The lines of the first '>' quote without one level of '>', when it opens with a
    forward's start ("> Begin forwarded message:", "> ---------- Forwarded message"); else
    None (a reply's quote, or no quote)."""
    start = next((n for n, line in enumerate(lines) if line.lstrip().startswith(">")), None)
    if start is None:
        return None
    block = []
    for line in lines[start:]:
        if line.strip() and not line.lstrip().startswith(">"):
            break
        block.append(_QUOTE_MARK_RE.sub("", line, count=1))
    first = block[0]
    if _FORWARD_INTRO_RE.match(first) or _FORWARD_SEPARATOR_RE.match(first):
        return block
    return None


def _opens_forward(lines: list[str], start: int, subject: str) -> bool:
    """Whether the history at ``start`` is a forwarded mail rather than a reply's quote."""
    line = lines[start]
    if _FORWARD_SEPARATOR_RE.match(line) or _FORWARD_INTRO_RE.match(line):
        return True
    ambiguous = (
        _SEPARATOR_RE.match(line) is not None
        or _UNDERSCORE_RULE_RE.match(line) is not None
        or _is_header_block(lines, start)
    )
    return ambiguous and is_forward_subject(subject)


def _header_fields(lines: list[str], index: int) -> tuple[list[tuple[str, str]], int]:
    """The forwarded mail's header fields from ``index`` to the first blank line, and the
    index after them; none when the block does not open with a From, Date, To or Subject."""
    fields: list[tuple[str, str]] = []
    while index < len(lines) and lines[index].strip(" \t>") and len(fields) < 20:
        line = lines[index]
        found = _FIELD_RE.match(line)
        known = _FROM_FIELD_RE.match(line) or _DATE_FIELD_RE.match(line) or _TO_FIELD_RE.match(line)
        if found and known:
            fields.append((found.group(1).strip().lower(), found.group(2).strip()))
        elif fields and (line[:1].isspace() or fields[-1][1].endswith((",", ";"))):
            name, value = fields[-1]  # a long To or Subject wrapped onto the next line
            fields[-1] = (name, f"{value} {line.strip()}")
        elif fields:
            break  # the body, with no blank line before it
        else:
            return [], index
        index += 1
    return fields, index


def _field(fields: list[tuple[str, str]], names: frozenset[str]) -> str:
    return next((value for name, value in fields if name in names), "")


def _from_value(fields: list[tuple[str, str]]) -> str:
    return next((value for name, value in fields if _FROM_FIELD_RE.match(f"{name}:")), "")
