"""Tags: free-form labels staff put on a ticket ("refund", "k200", "退货"), as in Zendesk.

A tag is what an agent typed, normalised so that one label is one tag however it was typed:
Unicode NFKC (full-width letters become plain ones), lower case, Traditional characters read
as Simplified (退貨 = 退货, as the search reads them), a leading "#" dropped and runs of spaces
made one "-". Letters and digits of any script and "-", "_", "." only (a letter or digit at
least; not Latin, Greek and Cyrillic letters mixed, which look alike), at most
``TAG_MAX_CHARS``; a ticket carries at most ``MAX_TAGS``. Every change is a line in the
ticket's history. Access is the ticket's (support.desk.access), and the tags offered as
suggestions are those of tickets the agent may see: another department's labels stay theirs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from support.core.db import utcnow
from support.core.text import simplified_characters
from support.desk import actions, search
from support.desk.access import visible_ticket_clause
from support.desk.models import Ticket, TicketTag, User

#: Characters of one tag at most (the column holds 40).
TAG_MAX_CHARS = 32
#: Tags on one ticket at most: more is a second subject line, not a label.
MAX_TAGS = 10
#: Suggestions offered at most (the most used first).
MAX_SUGGESTIONS = 50
#: Characters read from the field at most (what a tag can be and some spaces).
MAX_TYPED_CHARS = 200
_SPACES = re.compile(r"\s+")


class TagRefused(actions.ActionError):
    """The typed text cannot be a tag; the message is meant for the agent."""


def normalise(text: str | None) -> str:
    """The tag an agent's text stands for; raises TagRefused with the reason."""
    text = (text or "")[:MAX_TYPED_CHARS]
    tag = unicodedata.normalize("NFKC", text).strip().lstrip("#").strip()
    tag = _SPACES.sub("-", _simplified(tag).casefold())
    if not tag:
        raise TagRefused(_("Write a tag first."))
    if len(tag) > TAG_MAX_CHARS:
        raise TagRefused(_("A tag has at most %(n)s characters.", n=TAG_MAX_CHARS))
    for character in tag:
        if character in "-_." or character.isalnum():
            continue
        raise TagRefused(
            _(
                "A tag holds letters, digits and - _ . only, not “%(character)s”.",
                character=character,
            )
        )
    if not any(character.isalnum() for character in tag):
        # ".." or "-" label nothing, and "/tags/.." is a dot segment to HTTP clients: the API's
        # DELETE of such a tag reached /tickets/1/ instead.
        raise TagRefused(_("A tag needs a letter or digit."))
    if len(_look_alike_scripts(tag)) > 1:
        raise TagRefused(_("A tag mixes Latin, Greek or Cyrillic letters that look alike."))
    return tag


#: Scripts with letters that look like each other's (а/a, р/p, ο/o): a tag mixing them would
#: look like another tag ("rеfund" with a Cyrillic е) and be missed by its filter.
_LOOK_ALIKE_SCRIPTS = frozenset({"LATIN", "GREEK", "CYRILLIC"})


def _look_alike_scripts(tag: str) -> set[str]:
    """The scripts of _LOOK_ALIKE_SCRIPTS the tag's letters are written in (by the first word
    of each letter's Unicode name)."""
    found = set()
    for character in tag:
        if character.isalpha():
            script = unicodedata.name(character, "").partition(" ")[0]
            if script in _LOOK_ALIKE_SCRIPTS:
                found.add(script)
    return found


def _simplified(text: str) -> str:
    """`simplified_characters` until nothing changes: its table maps a few characters to
    others it maps again (薴 -> 苧 -> 苎), and a stored tag must normalise to itself, or the
    remove button and the filter link, which send the stored tag, would miss it."""
    for _pass in range(3):
        simpler = simplified_characters(text)
        if simpler == text:
            break
        text = simpler
    return text


def tags_of(session: Session, ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """Each ticket's tags in alphabetical order, in one query (for the inbox's rows)."""
    ids = sorted(set(ticket_ids))
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    rows = session.execute(
        select(TicketTag.ticket_id, TicketTag.tag)
        .where(TicketTag.ticket_id.in_(ids))
        .order_by(TicketTag.ticket_id, TicketTag.tag)
    )
    for ticket_id, tag in rows:
        found.setdefault(ticket_id, []).append(tag)
    return found


def _take_turns_on_tags(session: Session, ticket: Ticket) -> None:
    """Lock the ticket's row (FOR UPDATE; SQLite's writers take turns already) before its tags
    are read for a change: two agents adding the tenth and an eleventh tag, or the same tag,
    at once each read the tags without the other's, and both wrote. The row, not a lock of its
    own: a change of tags updates the ticket's row anyway (as a merge does its target's), so
    no second kind of lock can be taken in another order."""
    session.execute(select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())


def add_tag(
    session: Session, ticket: Ticket, user: User, typed: str, *, now: datetime | None = None
) -> str | None:
    """Put a tag on the ticket; the tag, or None when it was there already. The caller
    commits."""
    now = now or utcnow()
    actions.require_workable(ticket, user)
    tag = normalise(typed)
    _take_turns_on_tags(session, ticket)
    present = tags_of(session, [ticket.id]).get(ticket.id, [])
    if tag in present:
        return None
    if len(present) >= MAX_TAGS:
        raise TagRefused(_("A ticket has at most %(n)s tags.", n=MAX_TAGS))
    session.add(TicketTag(ticket_id=ticket.id, tag=tag, created_by_id=user.id, created_at=now))
    ticket.updated_at = now
    session.flush()
    actions.audit(session, ticket, user, "ticket.tagged", now=now, tag=tag)
    search.index_tickets(session, [ticket.id])  # found by its tags too
    return tag


def remove_tag(
    session: Session, ticket: Ticket, user: User, tag: str, *, now: datetime | None = None
) -> bool:
    """Take a tag off the ticket; False when it did not carry it. The caller commits."""
    now = now or utcnow()
    actions.require_workable(ticket, user)
    try:
        tag = normalise(tag)
    except TagRefused:
        return False
    result = session.execute(
        delete(TicketTag).where(TicketTag.ticket_id == ticket.id, TicketTag.tag == tag)
    )
    if not int(getattr(result, "rowcount", 0) or 0):
        return False
    ticket.updated_at = now
    session.flush()
    actions.audit(session, ticket, user, "ticket.untagged", now=now, tag=tag)
    search.index_tickets(session, [ticket.id])
    return True


def carried_by_merge(
    session: Session, source: Ticket, target: Ticket
) -> tuple[list[str], list[str]]:
    """The tags a merge of ``source`` into ``target`` would add to ``target`` (those it lacks,
    in alphabetical order, while it has room: ``MAX_TAGS``) and those left out for want of
    room (the merge's confirmation page says both)."""
    found = tags_of(session, [source.id, target.id])
    present = found.get(target.id, [])
    missing = [tag for tag in found.get(source.id, []) if tag not in present]
    room = max(MAX_TAGS - len(present), 0)
    return missing[:room], missing[room:]


def carry_over(
    session: Session, source: Ticket, target: Ticket, user: User, *, now: datetime
) -> tuple[list[str], list[str]]:
    """Put the tags of ``source`` (a ticket being merged into ``target``) on ``target`` as
    well, in alphabetical order while it has room for them (``MAX_TAGS``); each one added is a
    line in the target's history. Access is the merge's. The tags added and those left out
    for want of room. The caller commits."""
    _take_turns_on_tags(session, target)
    added, left_out = carried_by_merge(session, source, target)
    for tag in added:
        session.add(TicketTag(ticket_id=target.id, tag=tag, created_by_id=user.id, created_at=now))
    session.flush()
    for tag in added:
        actions.audit(
            session, target, user, "ticket.tagged", now=now, tag=tag, merged=source.reference
        )
    return added, left_out


def take_back(
    session: Session, target: Ticket, user: User, carried: Iterable[str], *, now: datetime
) -> None:
    """Take the tags a merge carried over (`carry_over`) off ``target`` again, for the
    merge's undo; each one a line in the target's history. The caller commits."""
    carried = sorted({str(tag) for tag in carried})[:MAX_TAGS]
    if not carried:
        return
    session.execute(
        delete(TicketTag).where(TicketTag.ticket_id == target.id, TicketTag.tag.in_(carried))
    )
    session.flush()
    for tag in carried:
        actions.audit(session, target, user, "ticket.untagged", now=now, tag=tag, merge_undone=True)


def suggestions(session: Session, user: User, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Tags already in use on tickets the user may see, the most used first: what the tag
    fields offer. Tags of other departments' tickets are not the user's to learn."""
    uses = func.count().label("uses")
    rows = session.execute(
        select(TicketTag.tag, uses)
        .join(Ticket, Ticket.id == TicketTag.ticket_id)
        .where(visible_ticket_clause(user))
        .group_by(TicketTag.tag)
        .order_by(uses.desc(), TicketTag.tag)
        .limit(limit)
    )
    return [tag for tag, _uses in rows]
