"""Customers are created or matched by their address at first contact.

Addresses compare case-insensitively (``Wang.Fang@Example.NET`` is one person: they are stored
lower-cased, so create customers through ``find_or_create_customer``), the number is
"C" + six digits, and a name we already know is kept: a From header saying only "wang" must
not overwrite the full name staff corrected.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from support.core.concurrency import insert_or_get
from support.core.db import utcnow
from support.core.direct_insert import insert_new
from support.desk.models import Customer

log = logging.getLogger(__name__)

# Built once: every message looks its sender up.
_CUSTOMER_BY_EMAIL = select(Customer).where(Customer.email == bindparam("email"))
_CUSTOMER_NUMBER_TAKEN = select(Customer.__table__.c.id).where(
    Customer.__table__.c.number == bindparam("number")
)


def normalise_address(address: str) -> str:
    return (address or "").strip().strip("<>").strip().lower()


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


def find_or_create_customer(session: Session, address: str, name: str = "") -> Customer:
    """The customer with this address, created on first contact (with its number).

    Safe when two workers see a new sender at the same time: if the other worker committed
    first, the existing row is used (``insert_or_get``). The id comes from the database, the
    number from the id.
    """
    address = normalise_address(address)
    if not address:
        raise ValueError("a customer needs an e-mail address")
    name = " ".join((name or "").split())[:200]
    existing = customer_by_address(session, address)
    if existing is not None:
        if name and not existing.name:
            existing.name = name
        return existing
    customer = Customer(email=address[:254], name=name, created_at=utcnow())

    def insert() -> Customer:
        number = {customer: lambda key: {"number": _free_number(session, key)}}
        insert_new(session, customer, derived=number)
        return customer

    found, created = insert_or_get(session, insert, lambda: customer_by_address(session, address))
    if not created:
        log.info("customer %s was created concurrently; using it", address)
        return found
    log.info("new customer %s (%s)", customer.number, address)
    return customer


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
