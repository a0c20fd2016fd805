"""Threading: which ticket, if any, an inbound message continues.

Evidence is weighed strongest first:

1. ``In-Reply-To``/``References`` name one of our signed Message-IDs (``verify_message_id``),
   or any Message-ID we know (a customer's earlier mail, our outbox);
2. the subject carries a ``[#SUP-00012]`` token AND the sender already takes part in that
   ticket (its customer, or an address that wrote in it before): anyone can type a token, so a
   stranger's token opens a new ticket instead of reading or writing someone else's. The
   pipeline gives no subject for a contact-form question: anyone can type any address there;
3. nothing else. A subject text alone ("Re: Order problem") never threads: two customers
   with the same subject must never see each other's conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailrouter.parsing import MAX_MESSAGE_IDS
from mailrouter.tokens import find_subject_token, verify_message_id
from support.desk.models import OPEN_STATUSES, Customer, Message, OutboundMail, Ticket

log = logging.getLogger(__name__)

_MAX_FOLLOW = 10


@dataclass(frozen=True)
class ThreadMatch:
    """The ticket a message continues, and what proved it (for the log and the staff view)."""

    ticket: Ticket
    via: str
    evidence: str


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


def _candidate_ids(in_reply_to: str | None, references: Sequence[str]) -> list[str]:
    """In-Reply-To first, then the newest MAX_MESSAGE_IDS References newest first; each once,
    without brackets. Linear (a dict dedupes), and bounded whatever the caller passes, so one
    hostile mail cannot make the lookup below hold the write lock."""
    newest = list(references)[-MAX_MESSAGE_IDS:]
    ordered = (_bare(value) for value in [in_reply_to or "", *reversed(newest)])
    return list(dict.fromkeys(bare for bare in ordered if bare))


def current_ticket(session: Session, ticket: Ticket) -> Ticket:
    """Follow merges: mail to a ticket merged into another belongs to the surviving one."""
    for _ in range(_MAX_FOLLOW):
        if ticket.merged_into_id is None:
            break
        target = session.get(Ticket, ticket.merged_into_id)
        if target is None:
            break
        ticket = target
    return ticket


def ticket_by_reference(session: Session, reference: str) -> Ticket | None:
    return session.scalar(
        select(Ticket).where(func.upper(Ticket.reference) == reference.strip().upper())
    )


def _tickets_by_known_ids(session: Session, ids: list[str]) -> dict[str, int]:
    """Message-ID -> ticket id for IDs stored on messages or in the outbox."""
    variants = ids + [f"<{i}>" for i in ids]
    found: dict[str, int] = {}
    rows = session.execute(
        select(Message.message_id, Message.ticket_id).where(Message.message_id.in_(variants))
    )
    for message_id, ticket_id in rows:
        if message_id is not None:  # always: IN never matches NULL
            found.setdefault(_bare(message_id), ticket_id)
    outbound_rows = session.execute(
        select(OutboundMail.message_id, OutboundMail.ticket_id).where(
            OutboundMail.message_id.in_(variants), OutboundMail.ticket_id.is_not(None)
        )
    )
    for outbound_message_id, outbound_ticket_id in outbound_rows:
        if outbound_ticket_id is not None:  # always: the query excludes NULL
            found.setdefault(_bare(outbound_message_id), outbound_ticket_id)
    return found


def match_by_message_ids(session: Session, ids: Iterable[str], *, key: bytes) -> ThreadMatch | None:
    """The ticket named by the first of ``ids`` that is ours (signed) or known to us."""
    ids = [i for i in (_bare(x) for x in ids) if i]
    if not ids:
        return None
    known = _tickets_by_known_ids(session, ids)
    for message_id in ids:
        reference = verify_message_id(message_id, key)
        if reference:
            ticket = ticket_by_reference(session, reference)
            if ticket is not None:
                return ThreadMatch(current_ticket(session, ticket), "signed-message-id", message_id)
            log.warning("signed Message-ID %s names unknown ticket %s", message_id, reference)
        if message_id in known:
            ticket = session.get(Ticket, known[message_id])
            if ticket is not None:
                return ThreadMatch(current_ticket(session, ticket), "known-message-id", message_id)
    return None


def is_participant(session: Session, ticket: Ticket, address: str) -> bool:
    """The ticket's customer, or someone who wrote in the ticket before."""
    address = address.strip().lower()
    if not address:
        return False
    customer_email = session.scalar(select(Customer.email).where(Customer.id == ticket.customer_id))
    if customer_email and customer_email.strip().lower() == address:
        return True
    wrote_before = session.scalar(
        select(Message.id)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == "in",
            func.lower(Message.from_address) == address,
        )
        .limit(1)
    )
    return wrote_before is not None


def find_conversation(
    session: Session,
    *,
    in_reply_to: str | None,
    references: Sequence[str],
    subject: str,
    from_address: str,
    key: bytes,
    preferred_ids: Sequence[str] = (),
) -> ThreadMatch | None:
    """The ticket this message continues, or None for a new conversation.

    ``preferred_ids`` are tried before the headers (a bounce names the Message-ID of our mail
    that failed, which is better evidence than the bounce's own headers).
    """
    match = match_by_message_ids(
        session, [*preferred_ids, *_candidate_ids(in_reply_to, references)], key=key
    )
    if match is not None:
        return match
    reference = find_subject_token(subject)
    if reference:
        ticket = ticket_by_reference(session, reference)
        if ticket is None:
            return None
        ticket = current_ticket(session, ticket)
        if is_participant(session, ticket, from_address):
            return ThreadMatch(ticket, "subject-token", reference)
        log.info(
            "subject token %s from %s ignored: not a participant of that ticket",
            reference,
            from_address or "(no sender)",
        )
    return None


def open_successor(session: Session, ticket: Ticket) -> Ticket | None:
    """An open ticket that was started by a reply to this closed one (MAIL_REOPEN_MODE=new)."""
    return session.scalar(
        select(Ticket)
        .where(Ticket.previous_ticket_id == ticket.id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
