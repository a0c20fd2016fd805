"""Customers are created or matched by their address at first contact.

Addresses compare case-insensitively (``Wang.Fang@Example.NET`` is one person: they are stored
lower-cased, so create customers through ``find_or_create_customer``), the number is
"C" + six digits, and a name we already know is kept: a From header saying only "wang" must
not overwrite the full name staff corrected.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import del_attribute

from support.core.addresses import comparable_address
from support.core.concurrency import insert_or_get
from support.core.db import utcnow
from support.core.direct_insert import KEY_BLOCKS, insert_new, insert_new_unless_taken
from support.core.zones import own_clock
from support.desk import sla
from support.desk.audit import record_event
from support.desk.models import CUSTOMER_TIERS, OPEN_STATUSES, Customer, Message, Ticket, User

log = logging.getLogger(__name__)

# Built once: every message looks its sender up.
_CUSTOMER_BY_EMAIL = select(Customer).where(Customer.email == bindparam("email"))
_CUSTOMERS = Customer.__table__
_CUSTOMER_NUMBER_TAKEN = select(_CUSTOMERS.c.id).where(_CUSTOMERS.c.number == bindparam("number"))


def normalise_address(address: str) -> str:
    """The stored form (`comparable_address`): user@Bücher.de finds user@xn--bcher-kva.de."""
    return comparable_address((address or "").strip().strip("<>").strip())


def customer_by_address(session: Session, address: str) -> Customer | None:
    """Addresses are stored lower-cased (``find_or_create_customer`` is the only way customers
    are made), so an exact, indexed match is a case-insensitive one."""
    address = normalise_address(address)
    if not address:
        return None
    return session.scalar(_CUSTOMER_BY_EMAIL, {"email": address})


def _free_number(session: Session, start: int) -> str:
    """C + six digits, starting from the row id (numbers others assigned are skipped)."""
    candidate = max(start, 1)
    while True:
        number = f"C{candidate:06d}"
        if session.execute(_CUSTOMER_NUMBER_TAKEN, {"number": number}).first() is None:
            return number
        candidate += 1


def _insert_numbered_ahead(session: Session, customer: Customer) -> bool:
    """INSERT a new customer with its key drawn ahead and the number made from it, in one
    statement whose answer is the only one waited for (the session's ``KeyBlocks``: the
    worker's, on PostgreSQL). Looking the number up first was a second wait for the server for
    every new sender. A clash of the number (someone assigned it already: an import) or of the
    address (another worker created the customer meanwhile) writes nothing and needs no
    savepoint (``insert_new_unless_taken``): False, and the caller goes the usual way, which
    finds the other worker's customer or numbers this one from the next free number. Two
    nested savepoints caught those clashes before: four statements more for each new sender.
    False without key blocks."""
    blocks = session.info.get(KEY_BLOCKS)
    if blocks is None:
        return False
    key = blocks.take(session, _CUSTOMERS)
    customer.id, customer.number = key, f"C{max(key, 1):06d}"
    if insert_new_unless_taken(session, customer):
        return True
    del_attribute(customer, "id")
    del_attribute(customer, "number")
    return False


#: The join condition that finds the customer with an address (bound as ``customer_email``,
#: normalised) in a caller's own statement (an outer join: None when there is none), whose
#: result the caller passes as ``looked_up``.
CUSTOMER_JOIN_ON = Customer.email == bindparam("customer_email")


def find_or_create_customer(
    session: Session,
    address: str,
    name: str = "",
    *,
    looked_up: tuple[Customer | None] | None = None,
    name_existing: bool = False,
) -> tuple[Customer, bool]:
    """The customer with this address, created on first contact (with its number), and
    whether it was created now (a first contact has no earlier mail to look through).

    ``looked_up``: the customer with this address as the caller read it in its transaction
    (``CUSTOMER_JOIN_ON``), ``(None,)`` when there was none: not read again.

    ``name`` names a customer created now; an existing one without a name takes it only with
    ``name_existing``: a mail our MTA authenticated for the address's domain. Neither the
    contact form's name nor an unauthenticated mail's From name does: anyone can write any
    name beside any address, and it filled in the record of the address's owner, whom staff
    then saw and greeted by it. A record this message creates takes it: nothing on it is
    anyone else's yet, staff need a name for it, and a first mail names its new record so too
    (its From is no better proof); the name stays on the message either way.

    Safe when two workers see a new sender at the same time: if the other worker committed
    first, the existing row is used (``insert_or_get``). The id comes from the database, the
    number from the id.
    """
    address = normalise_address(address)
    if not address:
        raise ValueError("a customer needs an e-mail address")
    name = " ".join((name or "").split())[:200]
    existing = customer_by_address(session, address) if looked_up is None else looked_up[0]
    if existing is not None:
        if name and name_existing and not existing.name:
            existing.name = name
        return existing, False
    customer = Customer(email=address[:254], name=name, created_at=utcnow())
    if _insert_numbered_ahead(session, customer):
        log.info("new customer %s (%s)", customer.number, address)
        return customer, True

    def insert() -> Customer:
        number = {customer: lambda key: {"number": _free_number(session, key)}}
        # Awaited: a unique conflict must raise here, inside insert_or_get's savepoint.
        insert_new(session, customer, derived=number, awaited=True)
        return customer

    found, created = insert_or_get(session, insert, lambda: customer_by_address(session, address))
    if not created:
        log.info("customer %s was created concurrently; using it", address)
        return found, False
    log.info("new customer %s (%s)", customer.number, address)
    return customer, True


def flag_failing_address(
    session: Session, addresses: list[str], reason: str, *, at: datetime | None = None
) -> list[Customer]:
    """Mark customers whose address bounced, so staff see it before writing again."""
    flagged = []
    for address in {normalise_address(a) for a in addresses if a}:
        customer = customer_by_address(session, address)
        if customer is None:
            continue
        customer.address_failing_at = at or utcnow()
        customer.address_failing_reason = reason[:2000]
        flagged.append(customer)
        log.info("customer %s: address %s flagged as failing", customer.number, address)
    return flagged


# --- tiers and imports --------------------------------------------------------------------------


class CustomerError(ValueError):
    """A customer change that cannot be made, in words staff can act on."""


def check_tier(tier: str) -> str:
    tier = (tier or "").strip().lower()
    if tier not in CUSTOMER_TIERS:
        raise CustomerError(f"tier must be one of {', '.join(CUSTOMER_TIERS)}, not {tier!r}")
    return tier


def set_tier(
    session: Session,
    customer: Customer,
    tier: str,
    config: Mapping[str, Any],
    *,
    actor: User | None = None,
) -> int:
    """Give a customer a tier (standard, key, vip) and recompute the response targets of their
    open tickets (SLA_TIER_TARGETS); returns how many tickets were recomputed."""
    tier = check_tier(tier)
    if customer.tier == tier:
        return 0
    before, customer.tier = customer.tier, tier
    record_event(
        session,
        "customer.tier_changed",
        {"from": before, "to": tier},
        actor_id=actor.id if actor is not None else None,
        actor_label="staff" if actor is not None else "system",
        subject_type="customer",
        subject_id=customer.id,
    )
    open_tickets = session.scalars(
        select(Ticket).where(Ticket.customer_id == customer.id, Ticket.status.in_(OPEN_STATUSES))
    ).all()
    for ticket in open_tickets:
        sla.start_clock(ticket, config)
    log.info("customer %s: tier %s -> %s", customer.number, before, tier)
    return len(open_tickets)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


#: A customers CSV holds at most this many rows (a CRM export of a small or mid-size company).
MAX_IMPORT_ROWS = 100_000


def import_customers(
    session: Session,
    rows: Iterable[Mapping[str, str | None]],
    config: Mapping[str, Any],
    *,
    actor: User | None = None,
) -> ImportReport:
    """Create or update customers from CSV rows (email, name, company, tier, language).

    Empty cells change nothing; a bad row is reported by its line and skipped.
    """
    report = ImportReport()
    for line, row in enumerate(rows, start=2):
        if line - 1 > MAX_IMPORT_ROWS:
            report.errors.append(f"stopped after {MAX_IMPORT_ROWS} rows")
            break
        address = normalise_address(row.get("email") or "")
        if "@" not in address or len(address) > 254 or any(c.isspace() for c in address):
            report.errors.append(f"line {line}: not an e-mail address: {address[:80]!r}")
            continue
        try:
            tier = check_tier(row.get("tier") or "") if (row.get("tier") or "").strip() else None
        except CustomerError as exc:
            report.errors.append(f"line {line}: {exc}")
            continue
        customer, created = find_or_create_customer(session, address)
        if created:
            report.created += 1
        else:
            report.updated += 1
        for column, limit in (("name", 200), ("company", 200)):
            value = " ".join((row.get(column) or "").split())[:limit]
            if value:
                setattr(customer, column, value)
        language = (row.get("language") or "").strip().lower()[:8]
        if language:
            customer.language = language
        if tier is not None:
            set_tier(session, customer, tier, config, actor=actor)
    return report


def clock_message(messages: Iterable[Message]) -> Message | None:
    """The customer's latest message that gave their clock: a mail's Date header, or the
    browser's clock of a contact-form question (its channel "web")."""
    found = [
        m for m in messages if m.direction == "in" and own_clock(m.date_offset_minutes) is not None
    ]
    return max(found, key=lambda m: (m.created_at, m.id), default=None)


def customers_offset(messages: Iterable[Message]) -> int | None:
    """The UTC offset (minutes) of `clock_message`: the clock the follow page and the ticket
    page's customer card tell the customer's time on."""
    latest = clock_message(messages)
    return latest.date_offset_minutes if latest is not None else None
