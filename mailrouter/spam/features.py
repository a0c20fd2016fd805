"""The words and traits the learned filter reads from one mail.

Words of the subject and body (Latin words; Chinese as overlapping pairs of characters, so no
dictionary is needed and a Chinese mail is judged by what it says, not by being Chinese), the
domains of links, and a few header traits spam has and customer mail rarely has (no
Message-ID, HTML only, many recipients, a shouting subject). Header *words* are left out on
purpose: the shipped corpus's relays and list headers say where it was collected, not
whether a mail is spam. At most ``MAX_TEXT_CHARS`` of text and ``MAX_TOKENS`` tokens are read.
"""

from __future__ import annotations

import re

from mailrouter.parsing import ParsedMail
from support.core.text import CJK_CHARS

MAX_TEXT_CHARS = 20_000
MAX_TOKENS = 1500
_WORD_RE = re.compile(r"[a-z][a-z0-9'$-]{1,24}|\$\d[\d,.]*|\d{1,3}%")
_CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")
_URL_RE = re.compile(r"https?://([a-z0-9.\-]{1,200})", re.IGNORECASE)
_LETTERS_RE = re.compile(r"[A-Za-z]")


def _words(text: str, prefix: str, out: list[str]) -> None:
    lowered = text.lower()
    out.extend(prefix + word.strip("'-") for word in _WORD_RE.findall(lowered))
    for run in _CJK_RUN_RE.findall(text):
        if len(run) == 1:
            out.append(prefix + run)
        else:
            out.extend(prefix + run[i : i + 2] for i in range(len(run) - 1))


def header_traits(parsed: ParsedMail) -> list[str]:
    """Traits of the envelope of a mail, as pseudo-words ("h:...")."""
    traits = []
    if parsed.message_id_generated:
        traits.append("h:no-message-id")
    content_type = parsed.headers.get("content-type", "").lower()
    if content_type.startswith("text/html"):
        traits.append("h:html-only")
    recipients = len(parsed.to) + len(parsed.cc)
    if recipients == 0:
        traits.append("h:no-recipients")
    elif recipients > 10:
        traits.append("h:many-recipients")
    if parsed.date is None:
        traits.append("h:no-date")
    subject = parsed.subject or ""
    letters = _LETTERS_RE.findall(subject)
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        traits.append("h:subject-shouts")
    if "!!" in subject or "$$" in subject:
        traits.append("h:subject-exclaims")
    if not subject.strip():
        traits.append("h:no-subject")
    if any(ord(c) < 32 or 0x2500 <= ord(c) <= 0x25FF for c in subject):
        traits.append("h:subject-odd-chars")
    sender_domain = parsed.from_address.rpartition("@")[2].lower()
    reply_domain = (parsed.reply_to or "").rpartition("@")[2].lower()
    if reply_domain and sender_domain and reply_domain != sender_domain:
        traits.append("h:reply-to-elsewhere")
    if re.search(r"\d{4,}", parsed.from_address.partition("@")[0]):
        traits.append("h:sender-digits")
    return traits


def _site(domain: str) -> str:
    """The registered name of a link's host ("shop" of www.shop.example), lower-cased."""
    labels = domain.lower().strip(".").split(".")
    return labels[-2] if len(labels) >= 2 else labels[0]


def mail_tokens(parsed: ParsedMail) -> list[str]:
    """Everything the learned filter reads of one mail, each token once (the traits first, so
    that a long mail's cut at MAX_TOKENS only drops words)."""
    body = (parsed.text or "")[:MAX_TEXT_CHARS]
    links = _URL_RE.findall(body)
    tokens = header_traits(parsed)
    tokens.append(f"b:length-{min(len(body).bit_length(), 16)}")
    if not links:
        tokens.append("b:no-links")
    tokens.extend("u:" + _site(domain) for domain in links[:50])
    _words(parsed.subject or "", "s:", tokens)
    _words(body, "", tokens)
    return list(dict.fromkeys(tokens))[:MAX_TOKENS]
