"""Copies (Cc) of a staff reply: who may be copied, read from what an agent typed.

A reply may copy only the ticket's conversation: addresses the customer's own mail came from,
went to or copied (their colleague in Cc), and those earlier replies copied. Never an address
that is new to the ticket: a desk that mails anyone an agent types is an open relay for whoever
gets hold of an agent's session. Never our own addresses either (a loop). The agent's text is
hostile input: its length, the number of addresses and each address's characters are bounded,
so no header can be injected (the composer writes each address as a mailbox, mailrouter.compose).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import gettext as _

from support.desk.models import Ticket

#: Copies per reply at most; the customer is always the To.
MAX_CC = 5
#: Characters of the Cc field read at most (five long addresses and separators).
MAX_CC_CHARS = 1_500
#: An addr-spec of the plain kind mail programs write: no quotes, comments, brackets, spaces
#: or line breaks, so nothing but an address can reach a header.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_SEPARATORS = re.compile(r"[,;\s]+")


class CcRefused(ValueError):
    """The Cc field cannot be used as typed; the message is meant for the agent."""


def conversation_addresses(ticket: Ticket, own: Iterable[str]) -> list[str]:
    """Everyone the ticket's mail went between, as first seen (lower case): the customer, the
    addresses of their mail's From, To and Cc, and earlier replies' copies; not ours."""
    ours = {a.lower() for a in own}
    seen: dict[str, None] = {ticket.customer.email.lower(): None}
    for message in sorted(ticket.messages, key=lambda m: (m.created_at, m.id)):
        if message.direction == "in" and not message.is_automatic:
            found = [message.from_address, *(message.to_addresses or [])]
            found += message.cc_addresses or []
        elif message.direction == "out":
            found = list(message.cc_addresses or [])
        else:
            continue
        for address in found:
            if isinstance(address, str) and _ADDRESS.fullmatch(address):
                seen.setdefault(address.lower(), None)
    return [a for a in seen if a not in ours]


def default_cc(ticket: Ticket, own: Iterable[str]) -> list[str]:
    """What the reply box offers: the copies of the customer's latest mail (or, when it had
    none, of our latest reply), without the customer and our own addresses."""
    ours = {a.lower() for a in own} | {ticket.customer.email.lower()}
    latest = sorted(
        (m for m in ticket.messages if m.direction in ("in", "out") and not m.is_automatic),
        key=lambda m: (m.created_at, m.id),
    )
    for message in reversed(latest):
        copies = [
            a.lower()
            for a in message.cc_addresses or []
            if isinstance(a, str) and _ADDRESS.fullmatch(a) and a.lower() not in ours
        ]
        if copies or message.direction == "in":
            return list(dict.fromkeys(copies))[:MAX_CC]
    return []


def read_cc(text: str | None, ticket: Ticket, own: Iterable[str]) -> list[str]:
    """The addresses to copy, from the Cc field as typed; raises CcRefused with the reason."""
    text = (text or "").strip()
    if not text:
        return []
    if len(text) > MAX_CC_CHARS:
        raise CcRefused(_("The Cc field is too long."))
    customer = ticket.customer.email.lower()
    allowed = set(conversation_addresses(ticket, own))
    wanted: list[str] = []
    for part in _SEPARATORS.split(text):
        if not part:
            continue
        if not _ADDRESS.fullmatch(part):
            raise CcRefused(_("“%(text)s” is not an email address.", text=part[:80]))
        address = part.lower()
        if address == customer or address in wanted:
            continue  # the customer is the To already
        if address not in allowed:
            raise CcRefused(
                _(
                    "%(address)s is not part of this conversation: a reply can copy only"
                    " the people the customer's mail came from, went to or copied.",
                    address=address,
                )
            )
        wanted.append(address)
    if len(wanted) > MAX_CC:
        raise CcRefused(_("Copy at most %(n)s addresses.", n=MAX_CC))
    return wanted
