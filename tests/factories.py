"""Factories for records tests need; each returns a flushed object with sensible defaults."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.core.db import utcnow
from support.core.passwords import hash_password
from support.desk.models import Customer, Department, Message, Ticket, User

_counter = itertools.count(1)


def department(session: Session, code: str = "service") -> Department:
    found = session.scalar(select(Department).where(Department.code == code))
    if found is None:
        raise LookupError(f"no department {code!r}; seed_reference_data creates the defaults")
    return found


def make_customer(session: Session, **fields) -> Customer:
    n = next(_counter)
    fields.setdefault("email", f"customer{n}@example.org")
    fields.setdefault("name", f"Customer {n}")
    fields.setdefault("number", f"C{n:06d}")
    customer = Customer(**fields)
    session.add(customer)
    session.flush()
    return customer


def make_user(
    session: Session,
    *,
    role: str = "agent",
    departments: tuple[str, ...] = ("service",),
    password: str = "correct horse battery",
    **fields,
) -> User:
    n = next(_counter)
    fields.setdefault("email", f"staff{n}@example.com")
    fields.setdefault("name", f"Staff {n}")
    user = User(
        role=role,
        password_hash=hash_password(password),
        departments=[department(session, code) for code in departments],
        **fields,
    )
    session.add(user)
    session.flush()
    return user


def make_ticket(
    session: Session,
    *,
    customer: Customer | None = None,
    department_code: str | None = "service",
    body: str = "My kettle stopped working after two days.",
    **fields,
) -> Ticket:
    customer = customer or make_customer(session)
    fields.setdefault("subject", "Kettle broken")
    fields.setdefault("urgency", 2)
    ticket = Ticket(
        customer=customer,
        department=department(session, department_code) if department_code else None,
        **fields,
    )
    session.add(ticket)
    session.flush()
    ticket.reference = ticket.reference or f"SUP-{ticket.id:05d}"
    session.add(
        Message(
            ticket=ticket,
            direction="in",
            from_address=customer.email,
            from_name=customer.name,
            subject=ticket.subject,
            body_text=body,
            new_text=body,
            created_at=utcnow(),
        )
    )
    session.flush()
    return ticket


def same_matter_tickets(
    session: Session, customer: Customer, first: str, again: str, **again_fields
) -> tuple[Ticket, Ticket]:
    """Two open tickets of ``customer`` about one kettle (subjects ``first`` and ``again``):
    their mail names the same order, so the ticket page offers to merge them whatever their
    subjects say (support.desk.same_matter)."""
    body = "Order 88240193: the kettle stopped heating."
    return (
        make_ticket(session, customer=customer, subject=first, body=body),
        make_ticket(session, customer=customer, subject=again, body=body, **again_fields),
    )
