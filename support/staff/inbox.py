"""Inboxes: one per department plus "triage" and "mine", most urgent first, then due time.

Paging is keyset-based (the last row's urgency, due time and id), so page 200 costs what page
1 costs, and every query starts from an index: ix_tickets_queue (department, status, ...),
ix_tickets_triage or ix_tickets_assignee. Counts in the navigation are grouped counts over the
same indexes; nothing counts the whole table per page view.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from support import sla
from support.db import db_session, utcnow
from support.models import OPEN_STATUSES, TICKET_STATUSES, Customer, Department, Ticket, User
from support.staff.auth import current_user, has_role, login_required, visible_department_ids
from support.staff.blueprints import bp

log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class InboxView:
    """Which tickets an inbox holds: a department's, the triage queue, or the user's own."""

    key: str
    kind: str  # "department" | "triage" | "mine"
    department: Department | None = None

    def title(self, language: str = "en") -> str:
        if self.kind == "department" and self.department is not None:
            return self.department.label(language)
        return _("Triage") if self.kind == "triage" else _("Mine")


@dataclass
class InboxFilters:
    status: str = "open"
    urgency: int | None = None
    sla: str | None = None
    assignee: str | None = None  # "me", "none" or a user id
    q: str = ""

    @classmethod
    def from_args(cls, args: Any) -> InboxFilters:
        status = args.get("status") or "open"
        if status not in ("open", "all", *TICKET_STATUSES):
            status = "open"
        urgency = args.get("urgency") or None
        sla_state = args.get("sla") or None
        assignee = args.get("assignee") or None
        return cls(
            status=status,
            urgency=int(urgency)
            if urgency and urgency.isdigit() and 1 <= int(urgency) <= 5
            else None,
            sla=sla_state if sla_state in sla.SLA_STATES else None,
            assignee=assignee if assignee in ("me", "none") or (assignee or "").isdigit() else None,
            q=(args.get("q") or "").strip()[:200],
        )

    def as_args(self) -> dict[str, str]:
        args = {"status": self.status} if self.status != "open" else {}
        if self.urgency:
            args["urgency"] = str(self.urgency)
        if self.sla:
            args["sla"] = self.sla
        if self.assignee:
            args["assignee"] = self.assignee
        if self.q:
            args["q"] = self.q
        return args


@dataclass(frozen=True)
class Cursor:
    """Position after the last row shown: (urgency, first-response due time, id)."""

    urgency: int
    due_at: datetime | None
    id: int

    @classmethod
    def after(cls, ticket: Ticket) -> Cursor:
        return cls(ticket.urgency, ticket.first_response_due_at, ticket.id)

    def encode(self) -> str:
        due = str(int(self.due_at.timestamp() * 1_000_000)) if self.due_at else "n"
        return f"{self.urgency}.{due}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """None for anything malformed: a bad cursor just means the first page."""
        try:
            urgency, due, ident = (text or "").split(".")
            due_at = None if due == "n" else datetime.fromtimestamp(int(due) / 1_000_000, tz=UTC)
            return cls(int(urgency), due_at, int(ident))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass
class InboxPage:
    tickets: list[Ticket]
    next_cursor: Cursor | None
    states: dict[int, str | None] = field(default_factory=dict)


def available_views(session: Session, user: User) -> list[InboxView]:
    """The inboxes a user works: their departments (all for admins), triage, mine."""
    ids = visible_department_ids(user)
    departments = session.scalars(
        select(Department).where(Department.id.in_(sorted(ids))).order_by(Department.name)
    ).all()
    views = [
        InboxView(d.code, "department", d)
        for d in departments
        if d.is_active or user.role == "admin" or d in user.departments
    ]
    if user.can_triage or user.role == "admin":
        views.append(InboxView("triage", "triage"))
    views.append(InboxView("mine", "mine"))
    return views


def find_view(session: Session, user: User, key: str) -> InboxView | None:
    return next((v for v in available_views(session, user) if v.key == key), None)


def _scope(view: InboxView, user: User) -> ColumnElement[bool]:
    if view.kind == "department":
        assert view.department is not None
        return Ticket.department_id == view.department.id
    if view.kind == "triage":
        return Ticket.needs_triage.is_(True)
    return Ticket.assignee_id == user.id


def _after(cursor: Cursor) -> ColumnElement[bool]:
    due = Ticket.first_response_due_at
    if cursor.due_at is None:
        same_level = and_(Ticket.urgency == cursor.urgency, due.is_(None), Ticket.id > cursor.id)
    else:
        same_level = and_(
            Ticket.urgency == cursor.urgency,
            or_(
                due.is_(None),
                due > cursor.due_at,
                and_(due == cursor.due_at, Ticket.id > cursor.id),
            ),
        )
    return or_(Ticket.urgency < cursor.urgency, same_level)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def inbox_select(
    user: User,
    view: InboxView,
    filters: InboxFilters,
    now: datetime,
    after: Cursor | None = None,
) -> Select[tuple[Ticket]]:
    """The query of one inbox page (without LIMIT); urgency 5 first, FIFO within a level."""
    conditions: list[ColumnElement[bool]] = [_scope(view, user)]
    if filters.status == "open":
        conditions.append(Ticket.status.in_(OPEN_STATUSES))
    elif filters.status != "all":
        conditions.append(Ticket.status == filters.status)
    if filters.urgency:
        conditions.append(Ticket.urgency == filters.urgency)
    if filters.sla:
        conditions.append(sla.state_clause(filters.sla, now))
    if filters.assignee == "me":
        conditions.append(Ticket.assignee_id == user.id)
    elif filters.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif filters.assignee:
        conditions.append(Ticket.assignee_id == int(filters.assignee))
    if filters.q:
        pattern = _like_pattern(filters.q)
        customers = select(Customer.id).where(
            or_(
                Customer.name.ilike(pattern, escape="\\"),
                Customer.email.ilike(pattern, escape="\\"),
                Customer.company.ilike(pattern, escape="\\"),
            )
        )
        conditions.append(
            or_(
                Ticket.subject.ilike(pattern, escape="\\"),
                Ticket.reference.ilike(pattern, escape="\\"),
                Ticket.customer_id.in_(customers),
            )
        )
    if after is not None:
        conditions.append(_after(after))
    return (
        select(Ticket)
        .where(*conditions)
        .order_by(
            Ticket.urgency.desc(),
            Ticket.first_response_due_at.asc().nulls_last(),
            Ticket.id.asc(),
        )
    )


def inbox_page(
    session: Session,
    user: User,
    view: InboxView,
    filters: InboxFilters,
    now: datetime,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> InboxPage:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = (
        inbox_select(user, view, filters, now, after)
        .options(
            joinedload(Ticket.customer),
            joinedload(Ticket.assignee),
            joinedload(Ticket.department),
        )
        .limit(limit + 1)
    )
    rows = list(session.scalars(query).unique())
    next_cursor = Cursor.after(rows[limit - 1]) if len(rows) > limit else None
    tickets = rows[:limit]
    return InboxPage(tickets, next_cursor, {t.id: sla.sla_state(t, now) for t in tickets})


def nav_counts(session: Session, user: User) -> dict[str, int]:
    """Open tickets per inbox, from grouped counts over the queue/triage/assignee indexes."""
    ids = sorted(visible_department_ids(user))
    counts: dict[str, int] = {}
    if ids:
        rows = session.execute(
            select(Ticket.department_id, func.count())
            .where(Ticket.department_id.in_(ids), Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.department_id)
        ).all()
        codes = dict(session.execute(select(Department.id, Department.code)).all())
        counts.update({codes[dept_id]: n for dept_id, n in rows if dept_id in codes})
    if user.can_triage or user.role == "admin":
        counts["triage"] = (
            session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.needs_triage.is_(True), Ticket.status.in_(OPEN_STATUSES))
            )
            or 0
        )
    counts["mine"] = (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.assignee_id == user.id, Ticket.status.in_(OPEN_STATUSES))
        )
        or 0
    )
    return counts


def escalated_tickets(session: Session, user: User, limit: int = 20) -> list[Ticket]:
    """Escalated open tickets of a lead's departments: shown above the inbox, oldest first."""
    if not has_role(user, "lead"):
        return []
    ids = sorted(visible_department_ids(user))
    if not ids:
        return []
    return list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.department_id.in_(ids),
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.escalated_at.is_not(None),
            )
            .options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
            .order_by(Ticket.escalated_at, Ticket.id)
            .limit(limit)
        ).unique()
    )


def assignee_choices(session: Session, user: User, view: InboxView) -> list[tuple[str, str]]:
    choices = [("", _("Anyone")), ("me", _("Me")), ("none", _("Unassigned"))]
    if view.kind == "department" and view.department is not None:
        members = sorted(
            (m for m in view.department.members if m.is_active and m.id != user.id),
            key=lambda m: m.name,
        )
        choices += [(str(m.id), m.name) for m in members]
    return choices


@bp.get("/")
@login_required
def inbox():  # noqa: ANN201
    user = current_user()
    assert user is not None
    views = available_views(db_session(), user)
    return redirect(url_for("staff.inbox_view", key=views[0].key))


@bp.get("/inbox/<key>")
@login_required
def inbox_view(key: str):  # noqa: ANN201
    from flask import g

    from support.staff.forms import InboxFilterForm, options

    user = current_user()
    assert user is not None
    session = db_session()
    view = find_view(session, user, key)
    if view is None:
        abort(404)
    filters = InboxFilters.from_args(request.args)
    form = InboxFilterForm(request.args)
    form.assignee.choices = options(assignee_choices(session, user, view))
    now = utcnow()
    after = Cursor.decode(request.args.get("after"))
    page = inbox_page(session, user, view, filters, now, after)
    return render_template(
        "staff/inbox.html",
        view=view,
        view_title=view.title(g.get("lang", "en")),
        page=page,
        filters=filters,
        form=form,
        now=now,
        escalated=escalated_tickets(session, user) if after is None else [],
        first_page_args=filters.as_args(),
        next_args={**filters.as_args(), "after": page.next_cursor.encode()}
        if page.next_cursor
        else None,
        warn_fraction=current_app.config["SLA_WARN_FRACTION"],
    )
