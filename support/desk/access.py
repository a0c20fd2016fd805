"""Who may see and work which ticket: the one access rule, as a test and as a WHERE clause.

Pages, the API, notifications and mailed staff replies all decide through `can_see_ticket` /
`visible_ticket_clause`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session, object_session

from support.desk.models import Customer, Department, Ticket, User


def has_role(user: User | None, *roles: str) -> bool:
    """Admins pass every role check; otherwise the user's role must be one of `roles`."""
    return user is not None and (user.role == "admin" or user.role in roles)


def visible_department_ids(user: User) -> frozenset[int]:
    """Departments whose inboxes the user works: all for admins, their memberships otherwise."""
    if user.role == "admin":
        session = object_session(user)
        if session is None:
            raise ValueError("the user must belong to a session")
        return frozenset(session.scalars(select(Department.id)))
    return frozenset(department.id for department in user.departments)


def can_see_staff(user: User, other: User, on: Ticket | None = None) -> bool:
    """Whether `user` may learn that `other` exists (their name or address): admins see
    everyone; others see themselves, the members of their departments and the admins (who
    work every department and are on every ticket's assign list). On a ticket waiting in
    triage (`on`), which no department has yet, those who triage are one team, as a
    department's members are on its tickets (their notes and "is viewing" name them there)."""
    if user.role == "admin" or other.id == user.id or other.role == "admin":
        return True
    if on is not None and on.needs_triage and user.can_triage and other.can_triage:
        return True
    return not visible_department_ids(user).isdisjoint(d.id for d in other.departments)


def can_see_ticket(user: User | None, ticket: Ticket | None) -> bool:
    """The one access rule: own departments, triage (if allowed) and tickets assigned to them."""
    if user is None or ticket is None or not user.is_active:
        return False
    if user.role == "admin":
        return True
    if ticket.department_id is not None and ticket.department_id in visible_department_ids(user):
        return True
    if user.can_triage and ticket.needs_triage:
        return True
    return ticket.assignee_id == user.id


def visible_ticket(session: Session, user: User | None, ticket_id: object) -> Ticket | None:
    """The ticket with this id when `user` may see it, else None: a page or the API names
    another ticket (merged into, refers to, reported before) only to who may open it, so a
    reference never tells of another department's tickets."""
    if not isinstance(ticket_id, int) or isinstance(ticket_id, bool):
        return None
    ticket = session.get(Ticket, ticket_id)
    return ticket if can_see_ticket(user, ticket) else None


def visible_ticket_clause(user: User) -> ColumnElement[bool]:
    """`can_see_ticket` as a WHERE clause, for lists and searches."""
    if user.role == "admin":
        return true()
    department_ids = visible_department_ids(user)
    parts: list[ColumnElement[bool]] = [Ticket.assignee_id == user.id]
    if department_ids:
        parts.append(Ticket.department_id.in_(sorted(department_ids)))
    if user.can_triage:
        parts.append(Ticket.needs_triage.is_(True))
    return or_(*parts) if parts else false()


def can_see_customer(session: Session, user: User | None, customer: Customer | None) -> bool:
    """A customer's card (their tier) is the user's when they may see one of the
    customer's tickets, or the customer has none yet (an imported key account): a customer
    known only from another department's mail is not theirs to look up or change."""
    if user is None or customer is None or not user.is_active:
        return False
    if user.role == "admin":
        return True
    tickets = select(Ticket.id).where(Ticket.customer_id == customer.id)
    if session.scalar(tickets.where(visible_ticket_clause(user)).limit(1)) is not None:
        return True
    return session.scalar(tickets.limit(1)) is None
