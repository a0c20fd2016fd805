"""Threading: which ticket, if any, an inbound message continues.

Evidence is weighed strongest first:

1. ``In-Reply-To``/``References`` name one of our signed Message-IDs (``verify_message_id``),
   or any Message-ID we know (a customer's earlier mail, our outbox);
2. the subject carries a ``[#SUP-00012]`` token. The pipeline gives no subject for a
   contact-form question: anyone can type any address there;
3. nothing else. A subject text alone ("Re: Order problem") never threads: two customers
   with the same subject must never see each other's conversation.

Evidence names a ticket; it does not make the sender one of its people. A Message-ID travels
with every forward and quote, and anyone can type a token, so a person's mail joins the named
ticket only when its sender takes part in it (`sender_takes_part`): the ticket's customer, an
address its conversation's mail came from, went to or copied (`reply_cc.takes_part`: the very
people a reply may copy), an active staff member who may see the ticket (the pages' rule,
`can_see_ticket`: another department's agent writes into it no more than he reads it), or one
of our own addresses (the departments', their forward addresses, the general one); staff and
our own addresses through a Message-ID we signed only (anyone can write our address or a
colleague's into From beside a subject token).
Nobody's mailbox is vouched for by its domain: a colleague at the customer's company who was
never on the conversation is a stranger too (staff merge him in if he belongs). A sender a trusted
Authentication-Results calls forged takes part in nothing. Whatever else is found
(``ThreadMatch.sender_takes_part`` False) becomes a ticket of its own that refers to the named
one for staff only (the pipeline).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailrouter.parsing import MAX_MESSAGE_IDS
from mailrouter.tokens import find_subject_token, verify_message_id
from support.desk.access import can_see_ticket
from support.desk.models import OPEN_STATUSES, Message, OutboundMail, Ticket, User
from support.desk.reply_cc import takes_part

log = logging.getLogger(__name__)

_MAX_FOLLOW = 10
#: ``ThreadMatch.via`` of a match on the subject's ticket token.
SUBJECT_TOKEN = "subject-token"
#: ``ThreadMatch.via`` of a match on a Message-ID we signed (`verify_message_id`).
SIGNED_MESSAGE_ID = "signed-message-id"


@dataclass(frozen=True)
class ThreadMatch:
    """The ticket a message continues, and what proved it (for the log and the staff view)."""

    ticket: Ticket
    via: str
    evidence: str
    #: Whether the sender is one of the ticket's people (`sender_takes_part`). When not, the
    #: mail does not join it: the ticket is only what the mail refers to.
    sender_takes_part: bool = True


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
                return ThreadMatch(current_ticket(session, ticket), SIGNED_MESSAGE_ID, message_id)
            log.warning("signed Message-ID %s names unknown ticket %s", message_id, reference)
        if message_id in known:
            ticket = session.get(Ticket, known[message_id])
            if ticket is not None:
                return ThreadMatch(current_ticket(session, ticket), "known-message-id", message_id)
    return None


def sender_takes_part(
    session: Session,
    ticket: Ticket,
    address: str,
    *,
    via: str,
    own: Collection[str] = (),
    sender_customer_id: int | None = None,
) -> bool:
    """Whether mail from ``address`` may join the ticket's conversation, named by evidence of
    kind ``via`` (see the module's docstring): one of ``own`` (our own addresses,
    `support.desk.outbox.own_addresses`) through a Message-ID we signed only, whatever else
    it is; otherwise its customer (``sender_customer_id``: the sender's customer when the
    caller read it already), an address of its conversation or, through a Message-ID we
    signed only, an active staff member who may see the ticket."""
    address = address.strip().lower()
    if not address:
        return False
    if address in {a.strip().lower() for a in own}:
        # Anyone can put our address in From beside a reference in the subject or a
        # Message-ID that travelled with a forward, and nobody checks From on the way in.
        return via == SIGNED_MESSAGE_ID
    if sender_customer_id is not None and sender_customer_id == ticket.customer_id:
        return True
    if takes_part(session, ticket, address, own):
        return True
    if via != SIGNED_MESSAGE_ID:
        # A colleague's address is ours too: anyone can write it beside a subject token (its
        # words reached the customer's follow page and its Cc the conversation).
        return False
    staff = session.scalars(
        select(User).where(func.lower(User.email) == address, User.is_active.is_(True)).limit(5)
    )
    return any(can_see_ticket(user, ticket) for user in staff)


def find_conversation(
    session: Session,
    *,
    in_reply_to: str | None,
    references: Sequence[str],
    subject: str,
    from_address: str,
    key: bytes,
    preferred_ids: Sequence[str] = (),
    own: Collection[str] = (),
    sender_verified: bool = True,
    sender_customer_id: int | None = None,
) -> ThreadMatch | None:
    """The ticket this message names, or None for a new conversation.

    ``preferred_ids`` are tried before the headers (a bounce names the Message-ID of our mail
    that failed, which is better evidence than the bounce's own headers). The match says
    whether the sender takes part in the ticket (`sender_takes_part`; ``own``: our own
    addresses); a sender that ``sender_verified`` False calls forged takes part in nothing.
    ``sender_customer_id``: the sender's customer when the caller read it already (the
    ticket's own customer then costs no statement: most replies are the customer's).
    """
    match = match_by_message_ids(
        session, [*preferred_ids, *_candidate_ids(in_reply_to, references)], key=key
    )
    if match is None:
        reference = find_subject_token(subject)
        ticket = ticket_by_reference(session, reference) if reference else None
        if ticket is None:
            return None
        match = ThreadMatch(current_ticket(session, ticket), SUBJECT_TOKEN, reference or "")
    if sender_verified and sender_takes_part(
        session,
        match.ticket,
        from_address,
        via=match.via,
        own=own,
        sender_customer_id=sender_customer_id,
    ):
        return match
    log.info(
        "%s %s from %s names %s, but the sender takes no part in it%s",
        match.via,
        match.evidence[:200],
        from_address or "(no sender)",
        match.ticket.reference,
        "" if sender_verified else " (forged sender)",
    )
    return replace(match, sender_takes_part=False)


def open_successor(session: Session, ticket: Ticket) -> Ticket | None:
    """An open ticket that was started by a reply to this closed one (MAIL_REOPEN_MODE=new)."""
    return session.scalar(
        select(Ticket)
        .where(Ticket.previous_ticket_id == ticket.id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.id.desc())
        .limit(1)
    )
