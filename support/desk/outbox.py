"""The durable outbox, enqueue side: every mail we send is a committed row first.

``enqueue_mail`` builds the message and stores it (an ``OutboundMail`` row plus the ``Message``
staff see on the ticket) in the caller's transaction, so a rolled-back change sends nothing and
a committed one is never lost. ``mailrouter.outbound.sender`` delivers the rows afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message as MailMessage
from email.parser import BytesParser
from email.utils import getaddresses, make_msgid
from typing import Any, Concatenate, ParamSpec

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from mailrouter.compose import (
    AUTO_SUBMITTED_AUTO_GENERATED,
    AUTO_SUBMITTED_AUTO_REPLIED,
    OutgoingFile,
    compose_message,
    header_text,
    message_bytes,
)
from mailrouter.tokens import add_subject_token, make_message_id
from support.core.config import company_name, mail_domains
from support.core.db import execute_core, utcnow
from support.core.direct_insert import insert_new
from support.core.html import sanitize_html
from support.core.reference_cache import reference_data
from support.core.round_trips import result_unread
from support.core.tables import table_of
from support.core.text import to_traditional
from support.desk.models import (
    AuditEvent,
    Department,
    Message,
    OutboundMail,
    Ticket,
    User,
)

logger = logging.getLogger(__name__)
P = ParamSpec("P")

KIND_AUTO_REPLY = "auto_reply"
KIND_NOTIFICATION = "notification"
#: One mail listing several tickets of one sender (support.desk.notifications.send_digests):
#: filed on the newest, it speaks of the others too, which a ticket moved later does not take
#: along: on the pages only admins list it, and only they and its recipients open it.
KIND_DIGEST = "notification_digest"
#: A colleague named in a note (support.desk.mentions): for reading, not answerable by mail
#: (a reply to a "notification" answers the customer: mailrouter.intake.staff_replies).
KIND_MENTION = "mention"
#: A one-time link for a staff member to choose a password (invitation, reset): about no
#: ticket, and its text is not shown on the sent-mail pages (the link opens the account); the
#: sender replaces its stored text once it is delivered or has failed (`without_account_link`).
KIND_ACCOUNT_LINK = "account_link"
#: The stored text of an account mail once it left (or failed for good).
ACCOUNT_LINK_REMOVED = (
    "(Removed after sending: this mail carried a one-time link to choose a password, which "
    "would open the account to whoever read it here.)\n"
)
#: Our mail to staff about a ticket: not part of its conversation.
STAFF_NOTICE_KINDS = (KIND_NOTIFICATION, KIND_DIGEST, KIND_MENTION)
#: Nobody reads the conversation entry's id; its failure fails the caller's transaction (on
#: PostgreSQL at the next answer waited for, see support.core.round_trips).
_INSERT_MESSAGE = result_unread(insert(table_of(Message)))


# --- building and storing ----------------------------------------------------------------------


def our_domain(config: Mapping[str, Any]) -> str:
    """Our own mail domain (the SMTP HELO name, and the Message-IDs' domain when the sending
    address has none): the first mail domain, else the general address's."""
    domains = mail_domains(config)
    if domains:
        return domains[0]
    general = str(config.get("MAIL_GENERAL_ADDRESS") or "")
    return general.rpartition("@")[2].lower() or "localhost"


def team_name(
    department: Department | None,
    config: Mapping[str, Any],
    *,
    language: str | None = None,
    traditional: bool = False,
) -> str:
    """The team our mail to a customer comes from, in their language: a Chinese customer's
    mail is from and signed by 客户服务部 (客戶服務部 for a writer of Traditional characters),
    as the auto-reply's text names it, not "Customer Service"."""
    if department is None:
        return company_name(config, language)
    if (language or "").split("-")[0].lower() == "zh" and department.name_zh:
        return to_traditional(department.name_zh) if traditional else department.name_zh
    return department.display_name or department.name


def message_id_domain(from_address: str, config: Mapping[str, Any]) -> str:
    """The domain of a mail's Message-ID: the sending address's, so a department at another
    domain (warranty@lumen.cn beside @example.com) does not send IDs of a domain it is not
    (spam filters and DMARC reports notice the mismatch). Threading does not depend on it:
    `verify_message_id` checks the signature and accepts any domain, old IDs included."""
    domain = from_address.strip().rpartition("@")[2].strip().strip(".").lower()
    if not domain or any(c.isspace() or c in "<>@" for c in domain):
        return our_domain(config)
    return domain


def sender_identity(
    department: Department | None,
    config: Mapping[str, Any],
    author: User | None = None,
    *,
    language: str | None = None,
    traditional: bool = False,
) -> tuple[str, str]:
    """(display name, address) of our mail: the department's, else the general address.

    A staff member appears by their signature name (display alias if set) beside the team's
    name (see `team_name`: ``language`` and ``traditional`` are the customer's); their own
    address is never used, so it cannot leak to a customer.
    """
    if department is not None and department.email_address:
        name = team_name(department, config, language=language, traditional=traditional)
        address = department.email_address
    else:
        name = company_name(config, language)
        address = str(config["MAIL_GENERAL_ADDRESS"])
    if author is not None and author.signature_name:
        name = f"{author.signature_name} ({name})"
    return name, address


def own_addresses(session: Session, config: Mapping[str, Any]) -> frozenset[str]:
    """Every address we send from (`sender_identity`: the departments' and the general
    address) or forward to: mail from one is a loop, never a customer, and answering one
    starts a loop; a forward of mail from one is our own mail sent back."""

    general = str(config.get("MAIL_GENERAL_ADDRESS") or "").strip().lower()

    def load() -> frozenset[str]:
        addresses = {general}
        for email_address, forward_address in session.execute(
            select(Department.email_address, Department.forward_address)
        ):
            addresses.add((email_address or "").strip().lower())
            addresses.add((forward_address or "").strip().lower())
        addresses.discard("")
        return frozenset(addresses)

    # Keyed by the general address too: it is a setting, not a row.
    return reference_data(session, f"own_addresses:{general}", load, tables=(table_of(Department),))


def _addr_specs(recipients: Iterable[str]) -> list[str]:
    specs: list[str] = []
    for _name, addr in getaddresses([header_text(recipient) for recipient in recipients]):
        addr = addr.strip()
        if "@" not in addr:
            raise ValueError(f"invalid recipient address {addr!r}")
        if addr.lower() not in (s.lower() for s in specs):
            specs.append(addr)
    return specs


def _pending_row(
    email_message: MailMessage,
    ticket_id: int | None,
    kind: str,
    envelope_from: str,
    recipients: list[str],
    message_id: str,
    now: datetime,
) -> OutboundMail:
    """The outbox row of a composed mail, due at once."""
    return OutboundMail(
        ticket_id=ticket_id,
        kind=kind,
        envelope_from=envelope_from,
        recipients=recipients,
        message_id=message_id.strip("<>"),
        subject=str(email_message["Subject"]),
        raw=message_bytes(email_message),
        state="pending",
        attempts=0,
        relay_handoffs=0,
        next_attempt_at=now,
        created_at=now,
    )


@dataclass(frozen=True)
class ComposedMail:
    """A mail composed and ready to store (``compose_mail``), nothing written yet."""

    outbound: OutboundMail
    #: The conversation entry's row, but for the stored mail's id.
    entry: dict[str, Any]
    ticket_reference: str


def compose_mail(
    *,
    ticket: Ticket,
    kind: str,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    automatic: bool = False,
    auto_submitted: str = AUTO_SUBMITTED_AUTO_REPLIED,
    department: Department | None = None,
    author: User | None = None,
    config: Mapping[str, Any],
    language: str | None = None,
    traditional: bool = False,
    files: Sequence[OutgoingFile] = (),
    cc: Sequence[str] = (),
) -> ComposedMail:
    """A mail about ``ticket``, composed for ``store_mail``: ``enqueue_mail`` does both.

    ``in_reply_to``/``references`` are the customer's message's IDs so the reply threads in
    their mail program; the subject gets the ticket's ``[#REF]`` token so a plain reply finds
    the ticket too. ``automatic`` marks automatic mail (RFC 3834's Auto-Submitted, of the kind
    ``auto_submitted`` says: auto-replied answers a message, auto-generated answers none) and
    stores the conversation entry as direction "auto" instead of "out".
    ``language``/``traditional``: the customer's, for the sender's name (see `team_name`);
    None for mail to staff. ``files`` go out as attachments (the caller stores them on the
    conversation entry, see support.desk.reply_files).

    Everything that can fail for the mail's own reasons (an unusable address, a header that
    cannot be composed) fails here, before the caller's first write; ``store_mail`` then only
    writes. The auto-reply relies on it to need no savepoint
    (``mailrouter.outbound.autoreply.after_new_ticket``).
    """
    if not ticket.reference:
        raise ValueError("the ticket has no reference yet; flush it before sending mail")
    recipients = _addr_specs(to)
    if not recipients:
        raise ValueError("a mail needs at least one recipient")
    copies = [a for a in _addr_specs(cc) if a.lower() not in {r.lower() for r in recipients}]
    department = department or ticket.department
    from_name, from_address = sender_identity(
        department, config, author, language=language, traditional=traditional
    )
    now = utcnow()
    message_id = make_message_id(
        ticket.reference,
        domain=message_id_domain(from_address, config),
        key=str(config["SECRET_KEY"]).encode(),
    )
    full_subject = add_subject_token(subject, ticket.reference)
    references = [r for r in references if r]
    email_message = compose_message(
        from_name=from_name,
        from_address=from_address,
        to=list(to),
        subject=full_subject,
        text=text,
        html=html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        automatic=automatic,
        auto_submitted=auto_submitted,
        date_at=now,
        files=files,
        cc=copies,
    )
    outbound = _pending_row(
        email_message, ticket.id, kind, from_address, [*recipients, *copies], message_id, now
    )
    entry = {
        "ticket_id": ticket.id,
        "direction": "auto" if automatic else "out",
        "channel": "email",
        "message_id": outbound.message_id,
        "in_reply_to": in_reply_to.strip().strip("<>") if in_reply_to else None,
        "references": [r.strip().strip("<>") for r in references],
        "from_address": from_address,
        "from_name": from_name,
        "to_addresses": recipients,
        "cc_addresses": copies,
        "subject": full_subject,
        "body_text": text,
        "new_text": text,
        "html_sanitized": sanitize_html(html) if html else None,
        "language": ticket.language,
        "is_automatic": automatic,
        "author_id": author.id if author is not None else None,
        "created_at": now,
    }
    return ComposedMail(outbound, entry, ticket.reference)


def store_mail(session: Session, composed: ComposedMail) -> OutboundMail:
    """Write a composed mail and its conversation entry: two INSERTs, nothing else to fail."""
    outbound = composed.outbound
    # Direct INSERTs, not the unit of work, which cost several times more (this runs for every
    # auto-reply); the conversation entry needs no object at all.
    insert_new(session, outbound)
    execute_core(session, _INSERT_MESSAGE, {**composed.entry, "outbound_mail_id": outbound.id})
    logger.info(
        "queued %s mail %s for ticket %s", outbound.kind, outbound.id, composed.ticket_reference
    )
    return outbound


def _then_stored(
    compose: Callable[P, ComposedMail],
) -> Callable[Concatenate[Session, P], OutboundMail]:
    def enqueue_mail(session: Session, /, *args: P.args, **options: P.kwargs) -> OutboundMail:
        """Store a mail about ``ticket`` for delivery (``compose_mail``'s arguments after the
        session); it goes out after the caller commits."""
        return store_mail(session, compose(*args, **options))

    return enqueue_mail


#: ``compose_mail`` and ``store_mail`` at once: a mail stored for delivery after the caller
#: commits (see compose_mail for its arguments).
enqueue_mail = _then_stored(compose_mail)


def enqueue_account_mail(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    config: Mapping[str, Any],
    language: str | None,
) -> OutboundMail:
    """Store a mail to a staff member about their account (no ticket: no conversation entry),
    from the desk's general address, for the sender to deliver after the caller commits."""
    recipients = _addr_specs([to])
    from_name, from_address = sender_identity(None, config, language=language)
    now = utcnow()
    message_id = make_msgid(domain=message_id_domain(from_address, config))
    email_message = compose_message(
        from_name=from_name,
        from_address=from_address,
        to=recipients,
        subject=subject,
        text=text,
        html=None,
        message_id=message_id,
        in_reply_to=None,
        references=[],
        automatic=True,
        auto_submitted=AUTO_SUBMITTED_AUTO_GENERATED,
        date_at=now,
    )
    outbound = _pending_row(
        email_message, None, KIND_ACCOUNT_LINK, from_address, recipients, message_id, now
    )
    insert_new(session, outbound)
    logger.info("queued %s mail %s", outbound.kind, outbound.id)
    return outbound


class AccountLinkGone(ValueError):
    """A failed account mail is not sent again: its link was taken out of the stored text
    (a new invitation or reset sends a new link)."""


def without_account_link(raw: bytes) -> bytes:
    """An account mail's stored bytes without its text (and so without its link): the same
    headers, so the sent-mail page still says who got what and when."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    message.set_content(ACCOUNT_LINK_REMOVED)
    return message_bytes(message)


def retry_mail(
    session: Session, outbound: OutboundMail, *, actor: User | None = None
) -> OutboundMail:
    """Put a failed mail back in the queue with fresh attempts (the staff "retry" button)."""
    if outbound.state != "failed":
        raise ValueError(f"mail {outbound.id} is {outbound.state}, not failed")
    if outbound.kind == KIND_ACCOUNT_LINK:  # its link is gone from the stored text
        raise AccountLinkGone(f"mail {outbound.id} carried a password link, removed on failure")
    outbound.state = "pending"
    outbound.attempts = 0
    outbound.next_attempt_at = utcnow()
    outbound.lease_until = None
    session.add(
        AuditEvent(
            actor_id=actor.id if actor is not None else None,
            actor_label="staff" if actor is not None else "system",
            action="mail_retry",
            ticket_id=outbound.ticket_id,
            subject_type="outbound_mail",
            subject_id=outbound.id,
            data={"previous_error": outbound.last_error},
        )
    )
    session.flush()
    return outbound
