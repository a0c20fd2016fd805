"""Whether two tickets of one customer are about the same matter (the ticket page's
"another ticket of this customer about the same matter, merge?" offer).

The customer alone is no sign: a shop's regular writes about a kettle on Monday and an
invoice on Wednesday, and offering to merge those invites a merge that mixes two
conversations. A sign is the same subject once the ``Re:``/``Fwd:``/``回复：`` prefixes and the
ticket token are gone, or an order number the two have in common. A customer who writes
again in a new thread rarely keeps the subject ("Kettle leaks", then "Kettle again" the next
day): a word of the subject the two share is a sign as well, if it names a thing (not
"question", "again", 问题, 请问) and the two were opened within RECENT_DAYS of each other,
unless they name different orders (two refunds of two orders are two matters). Work is
bounded: the subject's first SUBJECT_WORDS words, and the first few customer messages, each
read up to READ_CHARS.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property

from mailrouter.tokens import strip_subject_prefixes
from support.desk.models import Ticket

#: How much of each text is read for order numbers, and how many customer messages.
READ_CHARS = 20_000
READ_MESSAGES = 5
#: How many words of a subject are compared, and how far apart two tickets sharing one may
#: have been opened.
SUBJECT_WORDS = 30
RECENT_DAYS = 14

#: Words of a subject that name no matter: asking, greeting, urging, "again", and the few
#: that go with any purchase or any fault ("broken", 坏了: a fan's and a kettle's are two).
#: English words are compared without a plural "s".
_GENERIC = frozenset(
    """
    about after again and any are but can cannot could does did for from get had has have
    hello help how just may more need not now one our out please question questions quick
    really request same still thank thanks the this that there urgent very want was what
    when where which who why will with would you your yours issue problem order ask
    support service update follow another new other query enquiry inquiry info information
    re fw fwd dear broken working work faulty received arrived
    """.split()
)
#: Two-character runs of Chinese that name no matter (simplified and traditional).
_GENERIC_CJK = frozenset(
    """
    问题 問題 请问 請問 你好 您好 谢谢 謝謝 帮助 幫助 帮忙 幫忙 咨询 諮詢 关于 關於 还是 還是
    又是 一下 什么 什麼 怎么 怎麼 为什 為什 如何 可以 能否 订单 訂單 我的 你们 你們 麻烦 麻煩
    急急 紧急 緊急 再次 一个 一個 没有 沒有 已经 已經 还没 還沒 为何 為何
    坏了 壞了 不能 能用 用了 不了 无法 無法 收到
    """.split()
)
_WORD_RE = re.compile(r"[^\W\d_]+")
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")

#: An order number: after the word "order" (not "ordered") or 订单/訂單/单号/單號, a few
#: characters ("no.", "number is", "号是", "編號："), then a reference of at least five digits,
#: perhaps after a few letters ("A-77301"). Five digits, so that a year is not one.
_ORDER_RE = re.compile(
    r"(?:\border\b|订单|訂單|单号|單號)[^\n\d]{0,16}?(?<![a-z])([a-z]{0,5})-?(\d{5,})(?!\d)",
    re.IGNORECASE,
)


def order_numbers(text: str) -> set[str]:
    """The order numbers named in the first READ_CHARS of ``text``, upper-case, no hyphen."""
    return {(letters + digits).upper() for letters, digits in _ORDER_RE.findall(text[:READ_CHARS])}


def _topic(ticket: Ticket) -> str:
    return " ".join(strip_subject_prefixes(ticket.subject[:READ_CHARS]).casefold().split())


def subject_words(subject: str) -> set[str]:
    """The words of ``subject`` that may name its matter: letters-only words of three or more
    (case-folded, a plural "s" taken off) and each two-character run of a Chinese text, minus
    the generic ones; from its first SUBJECT_WORDS words only."""
    found: set[str] = set()
    for word in _WORD_RE.findall(strip_subject_prefixes(subject[:READ_CHARS]))[:SUBJECT_WORDS]:
        for run in _CJK_RE.findall(word):
            found |= {run[i : i + 2] for i in range(len(run) - 1)} - _GENERIC_CJK
        latin = _CJK_RE.sub(" ", word).casefold().split()
        for part in latin:
            if part.endswith("s") and not part.endswith("ss") and len(part) > 3:
                part = part[:-1]
            if len(part) >= 3 and part not in _GENERIC:
                found.add(part)
    return found


def _orders(ticket: Ticket) -> set[str]:
    found = order_numbers(ticket.subject or "")
    customer_messages = [m for m in ticket.messages if m.direction == "in"][:READ_MESSAGES]
    for message in customer_messages:
        found |= order_numbers(message.new_text or message.body_text or "")
    return found


class Matter:
    """What ``same_matter`` compares of one ticket, each part read once, when first needed:
    the ticket page compares its ticket with each of the customer's other tickets through one
    Matter, not by reading its subject and messages again for each."""

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket

    @cached_property
    def topic(self) -> str:
        return _topic(self.ticket)

    @cached_property
    def orders(self) -> frozenset[str]:
        return frozenset(_orders(self.ticket))

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(subject_words(self.ticket.subject or ""))

    def same_as(self, other: Matter) -> bool:
        """True if the two tickets share their subject (prefixes and token aside) or an order,
        or, opened within RECENT_DAYS of each other, a word of their subjects and no
        different orders."""
        if self.topic and self.topic == other.topic:
            return True
        if self.orders & other.orders:
            return True
        if self.orders and other.orders:
            return False  # each names its own order: two matters, whatever words they share
        apart = abs(self.ticket.created_at - other.ticket.created_at)
        if apart > timedelta(days=RECENT_DAYS):
            return False
        return bool(self.words & other.words)


def same_matter(ticket: Ticket, other: Ticket) -> bool:
    """``Matter.same_as`` for two tickets compared once."""
    return Matter(ticket).same_as(Matter(other))
