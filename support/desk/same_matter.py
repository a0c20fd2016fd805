"""Whether two tickets of one customer are about the same matter (the ticket page's
"another open ticket from this customer, merge?" offer).

The customer alone is no sign: a shop's regular writes about a kettle on Monday and an
invoice on Wednesday, and offering to merge those invites a merge that mixes two
conversations. A sign is the same subject once the ``Re:``/``Fwd:``/``回复：`` prefixes and the
ticket token are gone, or an order number the two have in common. Work is bounded: the
subject and the first few customer messages, each read up to READ_CHARS.
"""

from __future__ import annotations

import re

from mailrouter.tokens import strip_subject_prefixes
from support.desk.models import Ticket

#: How much of each text is read for order numbers, and how many customer messages.
READ_CHARS = 20_000
READ_MESSAGES = 5

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


def _orders(ticket: Ticket) -> set[str]:
    found = order_numbers(ticket.subject or "")
    customer_messages = [m for m in ticket.messages if m.direction == "in"][:READ_MESSAGES]
    for message in customer_messages:
        found |= order_numbers(message.new_text or message.body_text or "")
    return found


def same_matter(ticket: Ticket, other: Ticket) -> bool:
    """True if the two tickets share their subject (prefixes and token aside) or an order."""
    topic = _topic(ticket)
    if topic and topic == _topic(other):
        return True
    mine = _orders(ticket)
    return bool(mine and mine & _orders(other))
