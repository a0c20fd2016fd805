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
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from support.core.text import quoted
from support.desk.models import Customer, Message, Ticket

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


def _entry_addresses(
    direction: str, is_automatic: bool, sender: Any, to: Any, cc: Any
) -> list[str]:
    """The addresses one conversation entry puts in the conversation: a customer's mail its
    From, To and Cc (not a bounce or out-of-office stored on the ticket), a reply of ours its
    copies; nothing of notes and other entries."""
    if direction == "in" and not is_automatic:
        found = [sender, *(to or [])] + list(cc or [])
    elif direction == "out":
        found = list(cc or [])
    else:
        return []
    return [a.lower() for a in found if isinstance(a, str) and _ADDRESS.fullmatch(a)]


def conversation_addresses(ticket: Ticket, own: Iterable[str]) -> list[str]:
    """Everyone the ticket's mail went between, as first seen (lower case): the customer, the
    addresses of their mail's From, To and Cc, and earlier replies' copies; not ours."""
    ours = {a.lower() for a in own}
    seen: dict[str, None] = {ticket.customer.email.lower(): None}
    for message in sorted(ticket.messages, key=lambda m: (m.created_at, m.id)):
        for address in _entry_addresses(
            message.direction,
            message.is_automatic,
            message.from_address,
            message.to_addresses,
            message.cc_addresses,
        ):
            seen.setdefault(address, None)
    return [a for a in seen if a not in ours]


#: What `takes_part` reads of a ticket's entries: their addresses, not their texts.
_ENTRY_ADDRESSES = select(
    Message.direction,
    Message.is_automatic,
    Message.from_address,
    Message.to_addresses,
    Message.cc_addresses,
).where(Message.ticket_id == bindparam("ticket_id"))
_CUSTOMER_EMAIL = select(Customer.email).where(Customer.id == bindparam("customer_id"))


def takes_part(session: Session, ticket: Ticket, address: str, own: Iterable[str]) -> bool:
    """Whether ``address`` is one of `conversation_addresses` of the ticket (the same rule,
    read from the database's address columns only): the people a reply may copy are the
    people whose mail may join the conversation. Never one of ``own``, our own addresses,
    which the customer's mail went to but which are nobody of the conversation."""
    address = (address or "").strip().lower()
    if not address or address in {a.strip().lower() for a in own}:
        return False
    customer_email = session.scalar(_CUSTOMER_EMAIL, {"customer_id": ticket.customer_id})
    if (customer_email or "").strip().lower() == address:
        return True
    return any(
        address in _entry_addresses(*row)
        for row in session.execute(_ENTRY_ADDRESSES, {"ticket_id": ticket.id})
    )


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
            raise CcRefused(_("“%(text)s” is not an email address.", text=quoted(part)))
        address = part.lower()
        if address == customer or address in wanted:
            continue  # the customer is the To already
        if address not in allowed:
            raise CcRefused(
                _(
                    "%(address)s is not part of this conversation: a reply can copy only"
                    " the people the customer's mail came from, went to or copied.",
                    address=quoted(address),
                )
            )
        wanted.append(address)
    if len(wanted) > MAX_CC:
        raise too_many()
    return wanted


def too_many() -> CcRefused:
    """The refusal of more than MAX_CC copies (the API's for a list too long to read)."""
    return CcRefused(_("Copy at most %(n)s addresses.", n=MAX_CC))
