"""Staff's ticket search: the one module that writes and reads the ticket search index.

Each ticket has one row in `ticket_search` holding the words of its subject, reference,
customer (name, address, company), tags and message texts (customer mail, replies, notes; not
the auto-replies). Every code path that changes them calls `index_tickets` in its own
transaction, so the index is in step when that transaction commits: the worker (new ticket,
follow-up), staff replies and notes, tags put on or taken off, merges, and the erasure of a
customer's data (which leaves nothing of theirs findable). `support db upgrade` indexes tickets
that have no row yet (after migration 0010; after 0020, tagged tickets whose row lacked their
tags).

The database-specific lookup is `support.core.fulltext`; the access rule is
`support.desk.access`: a search never lists a ticket the user may not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select
from sqlalchemy.orm import Session, joinedload

from support.core import fulltext
from support.core.db import utcnow
from support.core.round_trips import result_unread
from support.core.snippets import marked_excerpt
from support.core.tables import table_of
from support.desk.access import can_see_ticket, visible_ticket_clause
from support.desk.models import Customer, Message, Ticket, TicketSearch, TicketTag, User

#: Characters of one message's text that are indexed (the opening says what it is about).
MESSAGE_CHARS = 4_000
#: Characters of words stored per ticket.
DOCUMENT_CHARS = 60_000
PAGE_SIZE = 25
MAX_PAGES = 20
#: Messages of each ticket on a result page looked at for its excerpt (the newest).
EXCERPT_MESSAGES = 20
_REFERENCE_RE = re.compile(r"^\s*\[?#?\s*([A-Za-z]{2,10})-?(\d{1,12})\s*\]?\s*$")
_SEARCH_TABLE = table_of(TicketSearch)
_INSERT_SEARCH_ROW = result_unread(insert(_SEARCH_TABLE))


def ticket_document(session: Session, ticket: Ticket) -> str:
    """The words a ticket is found by (its messages read from the database)."""
    texts = session.execute(
        select(Message.subject, Message.new_text, Message.body_text)
        .where(Message.ticket_id == ticket.id, Message.direction != "auto")
        .order_by(Message.created_at, Message.id)
    ).all()
    tags = session.scalars(
        select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id).order_by(TicketTag.tag)
    ).all()
    return _document(ticket, ticket.customer, texts, tags=tags)


def _document(
    ticket: Ticket,
    customer: Customer | None,
    texts: Iterable[tuple[str | None, str | None, str | None]],
    known: Mapping[str, Sequence[str]] | None = None,
    *,
    tags: Sequence[str] = (),
) -> str:
    """The words of a ticket, its customer, its tags (an agent searching "fridge" meant the
    tickets tagged so too) and its messages' (subject, new text, body) in order."""
    parts: list[str | None] = [ticket.reference, ticket.own_subject]
    if customer is not None:
        parts += [customer.name, customer.email, customer.company]
    parts += tags
    for subject, new_text, body_text in texts:
        if subject and subject != ticket.subject:
            parts.append(subject[:500])
        parts.append((new_text or body_text or "")[:MESSAGE_CHARS])
    return fulltext.document(parts, DOCUMENT_CHARS, known)


def new_ticket_words(subject: str, text: str) -> dict[str, tuple[str, ...]]:
    """The words of a new ticket's subject and first message's text, worked out ahead of the
    write transaction (the worker's prepare step) for `index_new_ticket`; keyed by the texts,
    so a ticket written differently just segments its own."""
    message = text[:MESSAGE_CHARS]
    return {subject: fulltext.document_words(subject), message: fulltext.document_words(message)}


def index_new_ticket(
    session: Session,
    ticket: Ticket,
    customer: Customer | None,
    messages: Sequence[Message],
    known: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Write the row of a ticket this transaction just inserted, from the objects in hand.

    The worker's hot path: one INSERT and no reads, where `index_tickets` reloads the ticket,
    its customer and its messages and deletes the old row (four statements; about 1 ms of the
    worker's budget per mail). ``messages`` are all the ticket's messages, oldest first; the
    row is the same as `index_tickets` would write (test_search checks both). ``known``:
    `new_ticket_words`, if worked out ahead."""
    texts = [(m.subject, m.new_text, m.body_text) for m in messages if m.direction != "auto"]
    document = _document(ticket, customer, texts, known)
    session.execute(
        _INSERT_SEARCH_ROW,
        [{"ticket_id": ticket.id, "document": document, "indexed_at": utcnow()}],
    )


def index_tickets(session: Session, ticket_ids: Iterable[int]) -> None:
    """Write the index rows of these tickets from what the session holds now (flushed first)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return
    session.flush()
    now = utcnow()
    tickets = session.scalars(
        select(Ticket).where(Ticket.id.in_(ids)).options(joinedload(Ticket.customer))
    )
    rows = [
        {"ticket_id": t.id, "document": ticket_document(session, t), "indexed_at": now}
        for t in tickets
    ]
    session.execute(delete(_SEARCH_TABLE).where(_SEARCH_TABLE.c.ticket_id.in_(ids)))
    if rows:
        session.execute(insert(_SEARCH_TABLE), rows)


def reindex_all(session: Session, batch: int = 500, *, missing_only: bool = False) -> int:
    """Rebuild every ticket's row (or only those of tickets without one); the caller commits.

    `support db upgrade` and `support init` index the missing ones (after migration 0010)."""
    last = 0
    done = 0
    while True:
        query = select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)
        if missing_only:
            query = query.where(~Ticket.id.in_(select(_SEARCH_TABLE.c.ticket_id)))
        ids = list(session.scalars(query))
        if not ids:
            return done
        index_tickets(session, ids)
        session.expunge_all()
        done += len(ids)
        last = ids[-1]


def ticket_by_reference(session: Session, user: User, query: str) -> Ticket | None:
    """The ticket a query like "SUP-00010", "#SUP-10" or "[#SUP-00010]" names, if visible."""
    found = _REFERENCE_RE.match(query or "")
    if found is None:
        return None
    prefix, number = found.group(1).upper(), int(found.group(2))
    candidates = {f"{prefix}-{found.group(2)}", f"{prefix}-{number:05d}"}
    ticket = session.scalar(select(Ticket).where(Ticket.reference.in_(sorted(candidates))))
    return ticket if can_see_ticket(user, ticket) else None


@dataclass(frozen=True)
class Excerpt:
    """Where a result matched: an escaped excerpt of one message with the searched words in
    <mark> (safe in a page), what the message is ("in", "out", "note"), who wrote it and when."""

    html: str
    direction: str
    author: str
    at: datetime


@dataclass
class SearchPage:
    tickets: list[Ticket]
    page: int
    has_more: bool
    terms: list[str]
    excerpts: dict[int, Excerpt] = field(default_factory=dict)


def search_tickets(session: Session, user: User, query: str, page: int = 1) -> SearchPage:
    """Tickets whose words hold every word of `query`, newest first, only those `user` may see."""
    terms = fulltext.query_terms(query)
    page = max(1, min(page, MAX_PAGES))
    if not terms:
        return SearchPage([], page, False, terms)
    found = fulltext.match(session, "ticket_search", "ticket_id", terms)
    with fulltext.index_lookup(session):
        ids = list(
            session.scalars(
                select(Ticket.id)
                .select_from(found.source)
                .join(Ticket, Ticket.id == found.key)
                .where(found.condition, visible_ticket_clause(user))
                .order_by(found.key.desc())
                .limit(PAGE_SIZE + 1)
                .offset((page - 1) * PAGE_SIZE)
            )
        )
    loaded = {
        t.id: t
        for t in session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(ids[:PAGE_SIZE]))
            .options(joinedload(Ticket.customer), joinedload(Ticket.department))
        ).unique()
    }
    tickets = [loaded[i] for i in ids[:PAGE_SIZE] if i in loaded]
    excerpts = message_excerpts(session, [t.id for t in tickets], terms)
    return SearchPage(tickets, page, len(ids) > PAGE_SIZE, terms, excerpts)


def message_excerpts(
    session: Session, ticket_ids: Sequence[int], terms: Sequence[str]
) -> dict[int, Excerpt]:
    """For each ticket, the excerpt of the message holding the most of `terms` (the newest of
    those), among its `EXCERPT_MESSAGES` newest messages (the auto-replies left out, as the
    index leaves them out), each read as far as the index reads it. None for a ticket found
    by its subject, customer or tags alone."""
    if not ticket_ids or not terms:
        return {}
    text = func.substr(
        func.coalesce(func.nullif(Message.new_text, ""), Message.body_text), 1, MESSAGE_CHARS
    )
    newest = (
        select(
            Message.ticket_id,
            Message.direction,
            Message.from_name,
            Message.from_address,
            Message.author_id,
            Message.created_at,
            text.label("text"),
            func.row_number()
            .over(
                partition_by=Message.ticket_id,
                order_by=(Message.created_at.desc(), Message.id.desc()),
            )
            .label("position"),
        )
        .where(Message.ticket_id.in_(ticket_ids), Message.direction != "auto")
        .subquery()
    )
    rows = session.execute(
        select(newest)
        .where(newest.c.position <= EXCERPT_MESSAGES)
        .order_by(newest.c.ticket_id, newest.c.position)
    ).all()
    best: dict[int, tuple[int, Row[Any], list[tuple[int, int]]]] = {}
    for row in rows:
        held = best.get(row.ticket_id)
        if held is not None and held[0] == len(terms):
            continue  # the newest message holding every word is found
        spans, found = fulltext.term_spans(row.text or "", terms)
        if found and (held is None or len(found) > held[0]):
            best[row.ticket_id] = (len(found), row, spans)
    authors = _author_names(session, [r.author_id for _n, r, _s in best.values()])
    excerpts = {}
    for ticket_id, (_count, row, spans) in best.items():
        staff = authors.get(row.author_id, "") if row.direction in ("out", "note") else ""
        author = staff or row.from_name or row.from_address
        excerpts[ticket_id] = Excerpt(
            marked_excerpt(row.text, spans), row.direction, author, row.created_at
        )
    return excerpts


def _author_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}
