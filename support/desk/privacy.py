"""Customers' personal data: consent records, export, erasure and retention (PIPL/GDPR practice).

One customer's data is spread over the desk's tables (customer, tickets, messages, attachments,
outbound mail, audit trail, consent records, training labels) and over other rooms' tables and
files (the mail queue's raw bytes, sender counters, ``instance/outbox/*.eml``, the FAQ's list of
unanswered mail). The desk may not import those rooms, so each of them hands in a
``PrivacyPart`` (the factory lists them: ``support.app``) that exports, erases and purges its
own share; this module does the desk's share and calls the parts.

Erasure keeps what statistics need: the ticket rows (department, urgency, status, channel, times,
rating number), the messages' direction, channel and times, attachment sizes and types, and the
customer row under a pseudonym (``erased-<id>@invalid``) with its tier. Retention
(``support.desk.retention``) anonymises closed tickets past their tier's limit with the same
code (``anonymise_tickets``), then erases customers with nothing left.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import ColumnElement, Text, cast, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from support.core.config import company_name
from support.core.db import utcnow
from support.desk import search
from support.desk.models import (
    Attachment,
    AuditEvent,
    ConsentRecord,
    Customer,
    Message,
    OutboundMail,
    Ticket,
    TrainingExample,
    User,
)

log = logging.getLogger(__name__)

EXPORT_FORMAT = "support-customer-export"
EXPORT_VERSION = 1
ERASED_TEXT = "[erased]"
#: What retention writes for the customer's address on the tickets it anonymises.
RETENTION_PSEUDONYM = "erased@invalid"
_ID_CHUNK = 500


# --- the other rooms' shares -------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureScope:
    """What one erasure covers. ``whole_customer`` is False for retention's ticket anonymisation,
    which leaves the customer (and data not tied to these tickets) in place."""

    customer_id: int
    ticket_ids: tuple[int, ...]
    #: Lower-case addresses and names to remove wherever they appear.
    addresses: tuple[str, ...]
    names: tuple[str, ...]
    pseudonym: str
    whole_customer: bool
    instance_path: Path
    #: Also search columns no index serves (the audit trail's data, outbound recipients) for the
    #: address: an erasure on request does; retention relies on the ticket links.
    thorough: bool = False

    @property
    def needles(self) -> tuple[str, ...]:
        return tuple(n for n in (*self.addresses, *self.names) if len(n) >= 3)


class PrivacyPart(Protocol):
    """A room's share of customers' data (the mail queue, the FAQ), handed in by the factory."""

    name: str

    def export(
        self, session: Session, customer: Customer, ticket_ids: Sequence[int], *, include_raw: bool
    ) -> dict[str, Any]:
        """This room's records about the customer, as JSON-ready values."""

    def erase(self, session: Session, scope: ErasureScope) -> dict[str, int]:
        """Remove or anonymise this room's personal data in `scope` (files too); counts."""

    def purge(
        self, session: Session, config: Mapping[str, Any], now: datetime, *, dry_run: bool
    ) -> dict[str, int]:
        """One bounded batch of this room's own retention (e.g. raw mail); counts by kind.
        With `dry_run`, everything that would go, changing nothing."""


def init_app(app: Flask, *, parts: Sequence[PrivacyPart]) -> None:
    app.extensions["support.privacy_parts"] = list(parts)


def parts_of(app: Flask) -> list[PrivacyPart]:
    return list(app.extensions.get("support.privacy_parts", []))


# --- consent -------------------------------------------------------------------------------------


def consent_text(config: Mapping[str, Any], language: str) -> str:
    """The consent text shown in `language` (English when that language has none)."""
    texts = config.get("PRIVACY_CONSENT_TEXT") or {}
    template = str(texts.get(language) or texts.get("en") or next(iter(texts.values()), ""))
    return template.replace("{company}", company_name(config, language)).replace(
        "{address}", str(config.get("MAIL_GENERAL_ADDRESS", ""))
    )


def consent_version(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def record_consent(
    session: Session,
    *,
    email: str,
    text: str,
    language: str | None,
    channel: str = "web",
    purpose: str = "contact",
    now: datetime | None = None,
) -> ConsentRecord:
    """Record that `email` agreed to `text`; the caller commits (with the question it covers)."""
    address = email.strip().lower()
    customer_id = session.scalar(select(Customer.id).where(Customer.email == address))
    record = ConsentRecord(
        customer_id=customer_id,
        email=address,
        channel=channel,
        purpose=purpose,
        version=consent_version(text),
        language=language,
        text=text,
        given_at=now or utcnow(),
    )
    session.add(record)
    session.flush()
    return record


# --- finding a customer's data -------------------------------------------------------------------


def find_customer(session: Session, email: str) -> Customer | None:
    """Addresses are stored lower-cased (``support.desk.customers``)."""
    return session.scalar(select(Customer).where(Customer.email == email.strip().lower()))


def customer_ticket_ids(session: Session, customer_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Ticket.id).where(Ticket.customer_id == customer_id).order_by(Ticket.id)
        )
    )


def owned_message_ids(session: Session, customer: Customer, ticket_ids: Sequence[int]) -> list[int]:
    """The customer's messages, wherever a merge put them.

    On the customer's tickets: all but another customer's mail and mail we sent about another
    customer's ticket (a merge across customers, refused now, may exist in older data). On other
    tickets: the customer's own mail, and what we sent about the customer's tickets on the
    tickets they were merged into. Each part is one query an index serves.
    """
    address = customer.email.strip().lower()
    outbound = aliased(OutboundMail)
    other = aliased(Customer)
    owned: set[int] = set()
    if ticket_ids:
        from_other = exists().where(
            other.email == func.lower(Message.from_address), other.id != customer.id
        )
        about_other = exists().where(
            outbound.id == Message.outbound_mail_id,
            outbound.ticket_id.is_not(None),
            outbound.ticket_id.not_in(ticket_ids),
        )
        owned.update(
            session.scalars(
                select(Message.id).where(
                    Message.ticket_id.in_(ticket_ids),
                    ~((Message.direction == "in") & from_other),
                    ~about_other,
                )
            )
        )
        targets = set(
            session.scalars(
                select(Ticket.merged_into_id).where(
                    Ticket.id.in_(ticket_ids), Ticket.merged_into_id.is_not(None)
                )
            )
        ) - set(ticket_ids)
        if targets:
            owned.update(
                session.scalars(
                    select(Message.id).where(
                        Message.ticket_id.in_(sorted(t for t in targets if t is not None)),
                        exists().where(
                            outbound.id == Message.outbound_mail_id,
                            outbound.ticket_id.in_(ticket_ids),
                        ),
                    )
                )
            )
    owned.update(
        session.scalars(
            select(Message.id).where(
                func.lower(Message.from_address) == address, Message.direction == "in"
            )
        )
    )
    return sorted(owned)


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield list(ids[start : start + _ID_CHUNK])


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _consents(session: Session, customer: Customer) -> list[ConsentRecord]:
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(
                or_(
                    ConsentRecord.customer_id == customer.id,
                    ConsentRecord.email == customer.email.strip().lower(),
                )
            )
            .order_by(ConsentRecord.id)
        )
    )


def _audit_about(
    session: Session, customer: Customer, ticket_ids: Sequence[int]
) -> list[AuditEvent]:
    conditions: list[ColumnElement[bool]] = [
        (AuditEvent.subject_type == "customer") & (AuditEvent.subject_id == customer.id),
    ]
    if ticket_ids:
        conditions.append(AuditEvent.ticket_id.in_(ticket_ids))
    return list(session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id)))


# --- export --------------------------------------------------------------------------------------


def export_customer(
    session: Session, customer: Customer, parts: Sequence[PrivacyPart], *, include_raw: bool = False
) -> dict[str, Any]:
    """Everything stored about one customer, as JSON-ready values (texts, not raw mail bytes
    unless `include_raw`)."""
    ticket_ids = customer_ticket_ids(session, customer.id)
    tickets = [session.get(Ticket, ticket_id) for ticket_id in ticket_ids]
    references = {t.id: t.reference for t in tickets if t is not None}
    message_ids = owned_message_ids(session, customer, ticket_ids)
    messages = [
        m
        for ids in _chunks(message_ids)
        for m in session.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id))
    ]
    outbound = (
        list(
            session.scalars(
                select(OutboundMail)
                .where(OutboundMail.ticket_id.in_(ticket_ids))
                .order_by(OutboundMail.id)
            )
        )
        if ticket_ids
        else []
    )
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": utcnow().isoformat(),
        "customer": {
            "id": customer.id,
            "number": customer.number,
            "email": customer.email,
            "name": customer.name,
            "company": customer.company,
            "tier": customer.tier,
            "language": customer.language,
            "timezone": customer.timezone,
            "created_at": _iso(customer.created_at),
            "address_failing_at": _iso(customer.address_failing_at),
            "address_failing_reason": customer.address_failing_reason,
            "flood_flagged_at": _iso(customer.flood_flagged_at),
            "erased_at": _iso(customer.erased_at),
        },
        "consents": [
            {
                "channel": c.channel,
                "purpose": c.purpose,
                "version": c.version,
                "language": c.language,
                "text": c.text,
                "given_at": _iso(c.given_at),
            }
            for c in _consents(session, customer)
        ],
        "tickets": [
            {
                "reference": t.reference,
                "subject": t.subject,
                "status": t.status,
                "channel": t.channel,
                "language": t.language,
                "department": t.department.code if t.department else None,
                "urgency": t.urgency,
                "created_at": _iso(t.created_at),
                "first_response_at": _iso(t.first_response_at),
                "resolved_at": _iso(t.resolved_at),
                "closed_at": _iso(t.closed_at),
                "merged_into": references.get(t.merged_into_id) if t.merged_into_id else None,
                "anonymised_at": _iso(t.anonymised_at),
                "rating": {
                    "rating": t.satisfaction_rating,
                    "comment": t.satisfaction_comment,
                    "at": _iso(t.satisfaction_at),
                }
                if t.satisfaction_rating is not None
                else None,
            }
            for t in tickets
            if t is not None
        ],
        "messages": [
            {
                "ticket": references.get(m.ticket_id or 0),
                "direction": m.direction,
                "channel": m.channel,
                "created_at": _iso(m.created_at),
                "from_address": m.from_address,
                "from_name": m.from_name,
                "to": list(m.to_addresses or []),
                "cc": list(m.cc_addresses or []),
                "subject": m.subject,
                "text": m.body_text,
                # Kept from the Date header of their mail: where on earth they wrote from.
                "utc_offset_minutes": m.date_offset_minutes,
                "attachments": [
                    {
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "size": a.size,
                        "sha256": a.sha256,
                        "stored": a.data is not None,
                    }
                    for a in m.attachments
                ],
            }
            for m in messages
            if m.direction != "note"
        ],
        "outbound_mail": [
            {
                "ticket": references.get(o.ticket_id or 0),
                "kind": o.kind,
                "recipients": list(o.recipients or []),
                "subject": o.subject,
                "state": o.state,
                "created_at": _iso(o.created_at),
                "sent_at": _iso(o.sent_at),
                **(
                    {"raw_base64": base64.b64encode(o.raw).decode()}
                    if include_raw and o.raw
                    else {}
                ),
            }
            for o in outbound
            if o.kind in ("auto_reply", "reply", "survey")
        ],
        "audit_events": [
            {
                "ticket": references.get(e.ticket_id or 0),
                "action": e.action,
                "actor": e.actor_label,
                "created_at": _iso(e.created_at),
                "data": e.data,
            }
            for e in _audit_about(session, customer, ticket_ids)
        ],
    }
    for part in parts:
        data.update(part.export(session, customer, ticket_ids, include_raw=include_raw))
    return data


def export_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


# --- erasure -------------------------------------------------------------------------------------


def pseudonym(customer_id: int) -> str:
    return f"erased-{customer_id}@invalid"


def scrub_json(value: Any, needles: Sequence[str]) -> Any:
    """`value` with every string that mentions one of `needles` (lower-case) replaced."""
    if isinstance(value, str):
        lowered = value.lower()
        return ERASED_TEXT if any(n in lowered for n in needles) else value
    if isinstance(value, list):
        return [scrub_json(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: scrub_json(item, needles) for key, item in value.items()}
    return value


def _minimal_classification(classification: Mapping[str, Any] | None) -> dict[str, Any]:
    """The decision without the words that made it (they come from the customer's text)."""
    data = dict(classification or {})
    kept: dict[str, Any] = {}
    for key in ("department", "urgency"):
        part = data.get(key)
        if isinstance(part, dict):
            kept[key] = {k: part[k] for k in ("label", "probability", "source") if k in part}
    if "model_version" in data:
        kept["model_version"] = data["model_version"]
    return kept


def _scope(
    customer: Customer,
    ticket_ids: Sequence[int],
    *,
    whole: bool,
    instance_path: Path,
    thorough: bool = False,
) -> ErasureScope:
    names = tuple(n.strip().lower() for n in (customer.name, customer.company) if n and n.strip())
    return ErasureScope(
        customer_id=customer.id,
        ticket_ids=tuple(ticket_ids),
        addresses=(customer.email.strip().lower(),) if customer.erased_at is None else (),
        names=names,
        pseudonym=pseudonym(customer.id),
        whole_customer=whole,
        instance_path=Path(instance_path),
        thorough=thorough,
    )


def _erase_messages(session: Session, message_ids: Sequence[int], scope: ErasureScope) -> int:
    for ids in _chunks(message_ids):
        common: dict[str, Any] = {
            "subject": "",
            "body_text": "",
            "new_text": "",
            "quoted_text": "",
            "forwarded_text": "",
            "signature": "",
            "html_sanitized": None,
            "from_name": "",
            "to_addresses": [],
            "cc_addresses": [],
            "references": [],
            "in_reply_to": None,
        }
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.direction == "in")
            .values(
                **common, from_address=scope.pseudonym, message_id=None, date_offset_minutes=None
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Message)
            .where(Message.id.in_(ids), Message.direction != "in")
            .values(**common)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Attachment)
            .where(Attachment.message_id.in_(ids))
            .values(
                data=None, filename="erased", sha256="", content_id=None, skipped_reason="erased"
            )
            .execution_options(synchronize_session=False)
        )
    return len(message_ids)


def outbound_mail_about(scope: ErasureScope) -> list[ColumnElement[bool]]:
    """Conditions (any of them) for our mail about the erased tickets, or to their addresses
    (in a thorough erasure); [] when there is nothing to look for."""
    conditions: list[ColumnElement[bool]] = []
    if scope.ticket_ids:
        conditions.append(OutboundMail.ticket_id.in_(scope.ticket_ids))
    if scope.thorough:
        conditions.extend(
            func.lower(cast(OutboundMail.recipients, Text)).contains(address, autoescape=True)
            for address in scope.addresses
        )
    return conditions


def _erase_outbound(session: Session, scope: ErasureScope) -> int:
    conditions = outbound_mail_about(scope)
    ids = sorted(
        {
            i
            for condition in conditions
            for i in session.scalars(select(OutboundMail.id).where(condition))
        }
    )
    for chunk in _chunks(ids):
        session.execute(
            update(OutboundMail)
            .where(
                OutboundMail.id.in_(chunk), OutboundMail.state.in_(("held", "pending", "sending"))
            )
            .values(state="failed", next_attempt_at=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(OutboundMail)
            .where(OutboundMail.id.in_(chunk))
            .values(raw=b"", subject="", recipients=[], last_error=None)
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def _erase_audit(session: Session, scope: ErasureScope) -> int:
    if not scope.needles:
        return 0
    # One query per condition, so each is served by its index (an OR of them is not).
    conditions: list[ColumnElement[bool]] = []
    if scope.ticket_ids:
        conditions.append(AuditEvent.ticket_id.in_(scope.ticket_ids))
    if scope.whole_customer:
        conditions.append(
            (AuditEvent.subject_type == "customer") & (AuditEvent.subject_id == scope.customer_id)
        )
    if scope.thorough:
        conditions.extend(
            func.lower(cast(AuditEvent.data, Text)).contains(address, autoescape=True)
            for address in scope.addresses
        )
    events = {
        event_id: data
        for condition in conditions
        for event_id, data in session.execute(
            select(AuditEvent.id, AuditEvent.data).where(condition)
        )
    }
    changed = 0
    for event_id, data in events.items():
        scrubbed = scrub_json(data, scope.needles)
        if scrubbed != data:
            session.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event_id)
                .values(data=scrubbed)
                .execution_options(synchronize_session=False)
            )
            changed += 1
    return changed


def _erase_tickets(session: Session, scope: ErasureScope, now: datetime) -> None:
    for ticket_id in scope.ticket_ids:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            continue
        ticket.subject = ""
        ticket.satisfaction_comment = None
        ticket.classification = _minimal_classification(ticket.classification)
        ticket.anonymised_at = ticket.anonymised_at or now
    if scope.ticket_ids:
        session.execute(
            delete(TrainingExample)
            .where(TrainingExample.ticket_id.in_(scope.ticket_ids))
            .execution_options(synchronize_session=False)
        )


def _erase_scope(
    session: Session,
    scope: ErasureScope,
    message_ids: Sequence[int],
    parts: Sequence[PrivacyPart],
    now: datetime,
) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    # The parts first: they read the desk's rows (e.g. which outbox files to delete).
    for part in parts:
        for key, value in part.erase(session, scope).items():
            counts[key] += value
    counts["tickets"] += len(scope.ticket_ids)
    counts["messages"] += _erase_messages(session, message_ids, scope)
    counts["outbound_mail"] += _erase_outbound(session, scope)
    counts["audit_events"] += _erase_audit(session, scope)
    _erase_tickets(session, scope, now)
    session.flush()
    session.expire_all()  # the bulk UPDATEs above bypassed the loaded objects
    # Nothing erased may stay findable: the tickets and any others holding their messages.
    touched = set(scope.ticket_ids)
    for ids in _chunks(message_ids):
        touched.update(session.scalars(select(Message.ticket_id).where(Message.id.in_(ids))))
    search.index_tickets(session, touched)
    return dict(counts)


def erase_customer(
    session: Session,
    customer: Customer,
    parts: Sequence[PrivacyPart],
    *,
    instance_path: Path | str,
    actor: User | None = None,
    actor_label: str | None = None,
    reason: str = "request",
    now: datetime | None = None,
) -> dict[str, int]:
    """Remove the customer's personal data everywhere; the caller commits. Idempotent.

    The audit entry ("customer.erased") names the customer's id and counts, nothing more.
    """
    now = now or utcnow()
    session.flush()
    # Tickets retention already anonymised hold nothing more (same scrubbing, whole ticket).
    ticket_ids = list(
        session.scalars(
            select(Ticket.id)
            .where(Ticket.customer_id == customer.id, Ticket.anonymised_at.is_(None))
            .order_by(Ticket.id)
        )
    )
    scope = _scope(
        customer,
        ticket_ids,
        whole=True,
        instance_path=Path(instance_path),
        thorough=reason == "request",
    )
    message_ids = owned_message_ids(session, customer, ticket_ids)
    session.expire_all()
    counts = _erase_scope(session, scope, message_ids, parts, now)
    consents = session.execute(
        update(ConsentRecord)
        .where(
            or_(
                ConsentRecord.customer_id == customer.id,
                ConsentRecord.email.in_(scope.addresses or ("",)),  # stored lower-case
            )
        )
        .values(customer_id=customer.id, email=None)
        .execution_options(synchronize_session=False)
    )
    counts["consents"] = int(getattr(consents, "rowcount", 0) or 0)
    customer = session.get(Customer, scope.customer_id) or customer
    customer.email = scope.pseudonym
    customer.name = ""
    customer.company = ""
    customer.timezone = None
    customer.address_failing_reason = None
    customer.erased_at = customer.erased_at or now
    session.add(
        AuditEvent(
            created_at=now,
            actor_id=actor.id if actor is not None else None,
            actor_label=actor_label or ("staff" if actor is not None else "system"),
            action="customer.erased",
            subject_type="customer",
            subject_id=customer.id,
            data={"reason": reason, **counts},
        )
    )
    session.flush()
    # Their name and address leave the search index with the row (all their tickets).
    search.index_tickets(session, customer_ticket_ids(session, customer.id))
    log.info("customer %s erased (%s): %s", customer.id, reason, dict(counts))
    return counts


def anonymise_tickets(
    session: Session,
    ticket_ids: Sequence[int],
    parts: Sequence[PrivacyPart],
    *,
    instance_path: Path | str,
    now: datetime | None = None,
) -> int:
    """Retention's ticket-level erasure: the same scrubbing, for all messages of these tickets
    at once (one statement per kind for the whole batch); the customers stay, their mail on
    these tickets shows ``erased@invalid``. The caller commits. Returns the tickets done."""
    now = now or utcnow()
    rows = session.execute(
        select(Ticket.id, Customer.email, Customer.name, Customer.company, Customer.erased_at)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(Ticket.id.in_(ticket_ids))
    ).all()
    if not rows:
        return 0
    addresses = sorted({email.strip().lower() for _, email, _, _, erased in rows if not erased})
    names = sorted(
        {n.strip().lower() for _, _, name, company, _ in rows for n in (name, company) if n.strip()}
    )
    scope = ErasureScope(
        customer_id=0,
        ticket_ids=tuple(row[0] for row in rows),
        addresses=tuple(addresses),
        names=tuple(names),
        pseudonym=RETENTION_PSEUDONYM,
        whole_customer=False,
        instance_path=Path(instance_path),
    )
    message_ids = list(
        session.scalars(select(Message.id).where(Message.ticket_id.in_(scope.ticket_ids)))
    )
    session.flush()
    session.expire_all()
    _erase_scope(session, scope, message_ids, parts, now)
    session.add(
        AuditEvent(
            created_at=now,
            actor_label="system",
            action="tickets.anonymised",
            data={"reason": "retention", "tickets": len(scope.ticket_ids)},
        )
    )
    session.flush()
    return len(scope.ticket_ids)
