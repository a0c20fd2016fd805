"""@mentions in internal notes: `@Wang Fang`, `@wangfang` or `@wang.fang@example.com` tells that
colleague by mail (in their language, with a link to the ticket).

Only colleagues who may open the ticket can be told: a note naming anyone else is refused with
its text kept (support.desk.actions.add_note), rather than added with a mention that tells
nobody. A handle of staff the author may not know of (``access.can_see_staff``: another
department's; on a ticket in triage, the other triagers are the author's team) reads as no
one's, as an unknown handle does: the refusal would name them, and tell an agent which
addresses are staff of other departments; the note box does not offer them either. An "@"
inside a word (an address the note quotes: bob@example.org) mentions no one. Handles are
matched against active staff, longest first, so "@Wang Fang" is not "@Wang"; the work is
bounded (``MAX_MENTIONS`` "@"s read, handles of at most ``MAX_HANDLE_CHARS``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.desk.access import can_see_staff, can_see_ticket
from support.desk.models import Ticket, User
from support.desk.notifications import notify_mentioned

#: "@"s of one note looked at; colleagues one note tells at most.
MAX_MENTIONS = 20
MAX_HANDLE_CHARS = 254


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char in "_.-+@"


def handles(user: User) -> list[str]:
    """What an "@" may be followed by to name ``user``: their address, their name (as written
    and without spaces) and their display alias; lower case."""
    found = {user.email, user.name, user.name.replace(" ", ""), user.display_alias or ""}
    return [h.strip().lower() for h in found if h and h.strip()]


def _colleagues(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.id)))


def mentioned(session: Session, text: str) -> list[User]:
    """The active colleagues ``text`` names with an "@", in order of first mention."""
    if "@" not in text:
        return []
    table = sorted(
        ((handle, user) for user in _colleagues(session) for handle in handles(user)),
        key=lambda pair: -len(pair[0]),
    )
    folded = text.lower()
    found: dict[int, User] = {}
    start, looked = 0, 0
    while looked < MAX_MENTIONS and len(found) < MAX_MENTIONS:
        at = folded.find("@", start)
        if at < 0:
            break
        start, looked = at + 1, looked + 1
        if at > 0 and _is_word_char(folded[at - 1]):
            continue  # inside an address or a word
        rest = folded[at + 1 : at + 1 + MAX_HANDLE_CHARS + 1]
        for handle, user in table:
            after = rest[len(handle) : len(handle) + 1]
            if rest.startswith(handle) and not (after and _continues(handle, after)):
                found.setdefault(user.id, user)
                break
    return list(found.values())


def _continues(handle: str, after: str) -> bool:
    """Whether ``after`` carries on the word ``handle`` ends with ("@Li" in "@Lisa"). After a
    Chinese name anything may follow: "@王芳请看" names 王芳."""
    if unicodedata.east_asian_width(handle[-1]) in ("W", "F"):
        return False
    return _is_word_char(after) and after not in ".@"


@dataclass(frozen=True)
class Mentions:
    """Who a note names: those who will be told, and those who may not open the ticket."""

    told: list[User]
    refused: list[User]


def read_mentions(session: Session, ticket: Ticket, author: User, text: str) -> Mentions:
    """The colleagues the note names (never its author) whom the author may know of, split by
    whether they may open the ticket."""
    named = [
        u
        for u in mentioned(session, text)
        if u.id != author.id and can_see_staff(author, u, ticket)
    ]
    return Mentions(
        told=[u for u in named if can_see_ticket(u, ticket)],
        refused=[u for u in named if not can_see_ticket(u, ticket)],
    )


def notify(
    session: Session,
    ticket: Ticket,
    author: User,
    text: str,
    told: list[User],
    config: Mapping[str, Any],
) -> list[str]:
    """Mail each colleague told (their language, the note, the ticket's link); the addresses."""
    return [
        address
        for user in told
        for address in notify_mentioned(session, ticket, user, author, text, config)
    ]


def mentionable(session: Session, ticket: Ticket, author: User) -> list[dict[str, str]]:
    """The colleagues the note box offers after an "@" (those who may open the ticket and whom
    the author may know of), with the handle to insert: the name, or the address when two
    share the name."""
    colleagues = sorted(
        (u for u in _colleagues(session) if u.id != author.id and can_see_staff(author, u, ticket)),
        key=lambda u: u.name.lower(),
    )
    names = [u.name.strip().lower() for u in colleagues]
    offered = []
    for user in colleagues:
        if not can_see_ticket(user, ticket):
            continue
        unique = names.count(user.name.strip().lower()) == 1 and "@" not in user.name
        offered.append(
            {"name": user.name, "email": user.email, "handle": user.name if unique else user.email}
        )
    return offered[:200]
