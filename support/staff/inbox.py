"""Inboxes: one per department plus "triage" and "mine".

The order: first every ticket whose response target is breached or due soon (its SLA state, as
the badge shows it: `support.desk.sla.state_clause`), most urgent first, then by due time;
then all the others the same way (most urgent first, then due time, then oldest). So an
overdue urgency-2 ticket comes before on-track urgency-4/5 ones, and the emergencies still lead
within each group. The two groups are two queries ("phases"); the cursor says which one it is in.

An agent may sort by a column instead (``?sort=received``, ``-received`` for the other way;
also ``due``, ``customer``, ``status``: `SORTS`, nothing else reaches the SQL): one query
ordered by that column and the id, paged by keyset after the last row's id (its value is read
back), so "next ticket" on the ticket page follows the sorted list too. Due walks
ix_tickets_queue in order per status and urgency; received, customer and status read every
ticket the filters match and sort them (no index holds those orders).

Paging is keyset-based (the last row's urgency, due time and id), so page 200 costs what page
1 costs, and every query starts from an index: ix_tickets_queue (department, status, ...),
ix_tickets_triage or ix_tickets_assignee. Counts in the navigation are grouped counts over the
same indexes; nothing counts the whole table per page view.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from flask import (
    abort,
    current_app,
    flash,
    g,
    has_app_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    not_,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response

from support.auth import current_user, login_required
from support.core.db import UTCDateTime, db_session, like_contains, utcnow
from support.core.web import duration, id_or_none, local_path
from support.desk import actions, presence, saved_views, seen, sla, tags
from support.desk.access import can_see_ticket, has_role, visible_department_ids
from support.desk.models import (
    OPEN_STATUSES,
    TICKET_STATUSES,
    Customer,
    Department,
    Ticket,
    TicketTag,
    UrgencyLevel,
    User,
)
from support.desk.staff_names import staff_name
from support.staff import inbox_return
from support.staff.blueprints import bp
from support.staff.forms import ONLY_OPEN, SNOOZED, InboxFilterForm, SavedViewForm, options
from support.staff.getting_started import steps_to_show

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
    tag: str | None = None  # normalised (support.desk.tags)
    #: A key of SORTS, "-" before it for the other way round; None: the queue order.
    sort: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> InboxFilters:
        status = args.get("status") or "open"
        if status not in ("open", "all", ONLY_OPEN, SNOOZED, *TICKET_STATUSES):
            status = "open"
        urgency = id_or_none(args.get("urgency"))
        sla_state = args.get("sla") or None
        assignee = args.get("assignee") or None
        if assignee not in ("me", "none"):
            assignee = str(id_or_none(assignee) or "") or None
        return cls(
            status=status,
            urgency=urgency if urgency is not None and urgency <= 5 else None,
            sla=sla_state if sla_state in sla.SLA_STATES else None,
            assignee=assignee,
            q=(args.get("q") or "").strip()[:200],
            tag=_tag_or_none(args.get("tag")),
            sort=_sort_or_none(args.get("sort")),
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
        if self.tag:
            args["tag"] = self.tag
        if self.sort:
            args["sort"] = self.sort
        return args


#: The columns an inbox may be sorted by, in the order of the table's headers.
SORTS = ("received", "customer", "status", "due")
#: Statuses in the order of their work (not alphabetical: 新建 before 处理中 in any language).
_STATUS_RANK = {status: rank for rank, status in enumerate(TICKET_STATUSES)}


def _sort_or_none(text: Any) -> str | None:
    """A sort the inbox knows ("customer", "-customer"); None for anything else (the queue
    order), so that no text of the query string reaches the SQL."""
    if not isinstance(text, str) or len(text) > 20:
        return None
    return text if text.removeprefix("-") in SORTS else None


def _tag_or_none(text: str | None) -> str | None:
    """The tag a filter names, normalised as tags are stored; None for none or one that no
    tag could be (nothing to filter by)."""
    if not text or not text.strip():
        return None
    try:
        return tags.normalise(text)
    except tags.TagRefused:
        return None


@dataclass(frozen=True)
class Cursor:
    """Position after the last row shown: (urgency, first-response due time, id), and whether
    it is among the breached and due-soon tickets that come first."""

    urgency: int
    due_at: datetime | None
    id: int
    hot: bool = False

    @classmethod
    def after(cls, ticket: Ticket, hot: bool = False) -> Cursor:
        return cls(ticket.urgency, ticket.first_response_due_at, ticket.id, hot)

    def encode(self) -> str:
        due = str(int(self.due_at.timestamp() * 1_000_000)) if self.due_at else "n"
        return f"{'h' if self.hot else ''}{self.urgency}.{due}.{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """None for anything malformed: a bad cursor just means the first page."""
        text = text or ""
        hot = text.startswith("h")
        try:
            urgency, due, ident = text.removeprefix("h").split(".")
            due_at = None if due == "n" else datetime.fromtimestamp(int(due) / 1_000_000, tz=UTC)
        except (ValueError, OverflowError, OSError):
            return None
        # Numbers the database's columns cannot hold are malformed too (an overflow, a 500).
        level, ticket_id = id_or_none(urgency), id_or_none(ident)
        if level is None or level > 5 or ticket_id is None:
            return None
        return cls(level, due_at, ticket_id, hot)


@dataclass
class InboxPage:
    tickets: list[Ticket]
    next_cursor: Cursor | None
    states: dict[int, str | None] = field(default_factory=dict)
    previews: dict[int, str] = field(default_factory=dict)
    unread: set[int] = field(default_factory=set)
    ages: dict[int, str] = field(default_factory=dict)
    #: "2 h 10 min left" for the tickets whose badge says "Due soon" (`due_in`).
    due_in: dict[int, str] = field(default_factory=dict)
    tags: dict[int, list[str]] = field(default_factory=dict)


def time_left_text(seconds: float) -> str:
    """How long until a due time, one phrasing for every due time on the staff pages:
    "2 h 10 min left", "还剩 2 小时 10 分钟"; once passed, "35 min overdue", "已超时 35 分钟".
    (A "due soon" row said 还剩 13 分钟 while an on-track row said 23 小时 14 分钟后.)"""
    if seconds >= 0:
        return _("%(amount)s left", amount=duration(seconds))
    return _("%(amount)s overdue", amount=duration(-seconds))


def due_in(ticket: Ticket, now: datetime) -> str:
    """ "2 h 10 min left", "还剩 2 小时 10 分钟": what a "Due soon" badge has left, by the SLA
    code's own reckoning (`sla.time_left`: the first response's target until it is sent, then
    the resolution's; a paused clock stands still). Empty when there is nothing to count."""
    left = sla.time_left(ticket, now)
    if left is None or left.total_seconds() <= 0:
        return ""
    return time_left_text(left.total_seconds())


def ages(tickets: list[Ticket], now: datetime) -> dict[int, str]:
    """How long ago each ticket was opened, compact ("3 d", "5 h", "12 min"): units are
    translated once per page, not once per row (the inbox is the busiest page)."""
    days, hours, mins = _("%(n)s d"), _("%(n)s h"), _("%(n)s min")  # formatted below
    just_now = _("just now")
    result = {}
    for ticket in tickets:
        minutes = max(0, int((now - ticket.created_at).total_seconds() // 60))
        if minutes >= 24 * 60:
            result[ticket.id] = days % {"n": minutes // (24 * 60)}
        elif minutes >= 60:
            result[ticket.id] = hours % {"n": minutes // 60}
        elif minutes >= 1:
            result[ticket.id] = mins % {"n": minutes}
        else:
            result[ticket.id] = just_now
    return result


def available_views(session: Session, user: User) -> list[InboxView]:
    """The inboxes a user works: their departments (all for admins), triage, mine.

    Remembered for the request: the page and its navigation both need them.
    """

    cache_key = f"staff_views_{user.id}"
    if has_app_context() and cache_key in g:
        return g.get(cache_key)
    views = _available_views(session, user)
    if has_app_context():
        setattr(g, cache_key, views)
    return views


def _available_views(session: Session, user: User) -> list[InboxView]:
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


def _statuses(filters: InboxFilters) -> tuple[str, ...]:
    if filters.status in ("open", SNOOZED):
        return OPEN_STATUSES
    if filters.status == "all":
        return tuple(s for s in TICKET_STATUSES if s != "spam")  # spam only when asked for
    if filters.status == ONLY_OPEN:
        return ("open",)
    return (filters.status,)


@dataclass(frozen=True)
class _Shape:
    """Everything that changes the SQL text of an inbox query (values are bound apart)."""

    kind: str
    statuses: tuple[str, ...]
    levels: tuple[int, ...]
    after_level: int | None  # the cursor's urgency level, if any
    after_untimed: bool  # the cursor sits among the tickets without a due time
    sla_state: str | None
    assignee: str | None  # "me", "none", "id" or None
    search: bool
    limit: int
    tag: bool = False
    phase: str = "all"  # "hot" (breached or due soon), "rest", or "all" (no split)
    snooze: str = "awake"  # "awake" (not snoozed), "snoozed", or "any"


def _snooze(filters: InboxFilters) -> str:
    """Snoozed tickets leave the open queues (support.desk.snooze); the "Snoozed" filter
    shows them, and closed statuses and "All" ignore the snooze."""
    if filters.status == SNOOZED:
        return "snoozed"
    return "awake" if filters.status in ("open", ONLY_OPEN, *OPEN_STATUSES) else "any"


_NOW = bindparam("now", type_=UTCDateTime())
_AFTER_DUE = bindparam("after_due", type_=UTCDateTime())
_AFTER_ID = bindparam("after_id", type_=Integer())


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    """Scope and the filters that narrow rows without changing their order."""
    if shape.kind == "department":
        conditions = [Ticket.department_id == bindparam("department_id", type_=Integer())]
    elif shape.kind == "triage":
        conditions = [Ticket.needs_triage.is_(True)]
    else:
        conditions = [Ticket.assignee_id == bindparam("user_id", type_=Integer())]
    if shape.snooze == "awake":
        conditions.append(Ticket.snoozed_until.is_(None))
    elif shape.snooze == "snoozed":
        conditions.append(Ticket.snoozed_until.is_not(None))
    if shape.sla_state:
        conditions.append(sla.state_clause(shape.sla_state, _NOW))  # type: ignore[arg-type]
    if shape.phase != "all":
        hot = or_(
            sla.state_clause("breached", _NOW),  # type: ignore[arg-type]
            sla.state_clause("due_soon", _NOW),  # type: ignore[arg-type]
        )
        conditions.append(hot if shape.phase == "hot" else not_(hot))
    if shape.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif shape.assignee:
        conditions.append(Ticket.assignee_id == bindparam("assignee_id", type_=Integer()))
    if shape.tag:
        tagged = select(TicketTag.ticket_id).where(
            TicketTag.tag == bindparam("tag", type_=String())
        )
        conditions.append(Ticket.id.in_(tagged))
    if shape.search:
        pattern = bindparam("pattern", type_=String())
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
    return conditions


def _queue_branches(
    shape: _Shape, base: list[ColumnElement[bool]]
) -> list[Select[int, int, datetime | None]]:
    """One index range per (status, urgency, due set or not), each already in queue order.

    ix_tickets_queue is (department, status, urgency, due): a range with all three fixed is
    read in due order, so each branch stops after `limit` rows and none sorts; only the few
    hundred rows of the branches are merged. One ORDER BY over "status IN (...)" would sort
    every open ticket of the department on every page view instead.
    """
    due = Ticket.first_response_due_at
    branches = []
    for level in shape.levels:
        if shape.after_level is not None and level > shape.after_level:
            continue
        at_cursor = level == shape.after_level
        for status in shape.statuses:
            here = [*base, Ticket.status == status, Ticket.urgency == level]
            if not (at_cursor and shape.after_untimed):
                timed = [*here, due.is_not(None)]
                if at_cursor:
                    timed.append(
                        or_(due > _AFTER_DUE, and_(due == _AFTER_DUE, Ticket.id > _AFTER_ID))
                    )
                branches.append(
                    select(Ticket.id, Ticket.urgency, due)
                    .where(*timed)
                    .order_by(due, Ticket.id)
                    .limit(shape.limit)
                )
            untimed = [*here, due.is_(None)]
            if at_cursor and shape.after_untimed:
                untimed.append(Ticket.id > _AFTER_ID)
            branches.append(
                select(Ticket.id, Ticket.urgency, due)
                .where(*untimed)
                .order_by(Ticket.id)
                .limit(shape.limit)
            )
    return branches


def _after(shape: _Shape) -> ColumnElement[bool]:
    due = Ticket.first_response_due_at
    level = shape.after_level
    if shape.after_untimed:
        same_level = and_(Ticket.urgency == level, due.is_(None), Ticket.id > _AFTER_ID)
    else:
        same_level = and_(
            Ticket.urgency == level,
            or_(due.is_(None), due > _AFTER_DUE, and_(due == _AFTER_DUE, Ticket.id > _AFTER_ID)),
        )
    return or_(Ticket.urgency < level, same_level)


@lru_cache(maxsize=512)
def _statement(shape: _Shape) -> Select[Any]:
    """Built once per shape: constructing thirty branches costs more than running them."""
    base = _conditions(shape)
    # A text search or a tag matches few rows: one pass with the subquery evaluated once beats
    # running it in every branch.
    if shape.kind == "department" and not (shape.search or shape.tag) and shape.phase != "hot":
        if shape.phase == "rest":
            # Closed statuses are never breached or due soon: their index ranges as usual.
            # Open tickets that are neither: one sorted query, since skipping the breached
            # ones at the start of every (status, level) range would read most of them.
            closed = tuple(st for st in shape.statuses if st not in OPEN_STATUSES)
            unsplit = replace(shape, phase="all", statuses=closed)
            branches = _queue_branches(unsplit, _conditions(unsplit))
            still_open = tuple(st for st in shape.statuses if st in OPEN_STATUSES)
            if still_open:
                branches.append(_sorted(replace(shape, statuses=still_open), base))
        else:
            branches = _queue_branches(shape, base)
        if not branches:
            return select(Ticket.id).where(false())
        merged = union_all(*(select(b.subquery()) for b in branches)).subquery()
        return (
            select(merged.c.id)
            .order_by(
                merged.c.urgency.desc(),
                merged.c.first_response_due_at.asc().nulls_last(),
                merged.c.id.asc(),
            )
            .limit(shape.limit)
        )
    # Triage and "mine" are small sets (ix_tickets_triage / ix_tickets_assignee), searches
    # and the breached / due-soon phase match few rows: one query, one sort of what matched.
    return _sorted(shape, base).with_only_columns(Ticket.id)


def _sorted(shape: _Shape, base: list[ColumnElement[bool]]) -> Select[int, int, datetime | None]:
    """The shape's rows in queue order by one sort of everything that matches."""
    conditions = [*base, Ticket.status.in_(shape.statuses), Ticket.urgency.in_(shape.levels)]
    if shape.after_level is not None:
        conditions.append(_after(shape))
    statement = (
        select(Ticket.id, Ticket.urgency, Ticket.first_response_due_at)
        .where(*conditions)
        .order_by(
            Ticket.urgency.desc(),
            Ticket.first_response_due_at.asc().nulls_last(),
            Ticket.id.asc(),
        )
        .limit(shape.limit)
    )
    return statement


def _shape_and_params(
    user: User,
    view: InboxView,
    filters: InboxFilters,
    now: datetime,
    after: Cursor | None,
    limit: int,
    phase: str,
) -> tuple[_Shape, dict[str, Any]]:
    assignee = filters.assignee if filters.assignee in (None, "none") else "id"
    shape = _Shape(
        kind=view.kind,
        statuses=_statuses(filters),
        levels=(filters.urgency,) if filters.urgency else (5, 4, 3, 2, 1),
        after_level=after.urgency if after else None,
        after_untimed=bool(after and after.due_at is None),
        sla_state=filters.sla,
        assignee=assignee,
        search=bool(filters.q),
        limit=limit,
        phase=phase,
        snooze=_snooze(filters),
        tag=bool(filters.tag),
    )
    params: dict[str, Any] = {"now": now}
    if view.kind == "department":
        assert view.department is not None
        params["department_id"] = view.department.id
    elif view.kind == "mine":
        params["user_id"] = user.id
    if assignee == "id":
        params["assignee_id"] = user.id if filters.assignee == "me" else int(filters.assignee or 0)
    if filters.q:
        params["pattern"] = like_contains(filters.q)
    if filters.tag:
        params["tag"] = filters.tag
    if after is not None:
        params["after_id"] = after.id
        params["after_due"] = after.due_at
    return shape, params


def inbox_query(
    user: User,
    view: InboxView,
    filters: InboxFilters,
    now: datetime,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE + 1,
    *,
    phase: str = "all",
) -> tuple[Select[Any], dict[str, Any]]:
    """The ids of one inbox page in queue order (urgency 5 first, FIFO within a level), as a
    cached statement and its parameters."""
    shape, params = _shape_and_params(user, view, filters, now, after, limit, phase)
    return _statement(shape), params


def _matching(shape: _Shape) -> list[ColumnElement[bool]]:
    """Every ticket the inbox holds with the shape's filters, in no order (no cursor)."""
    return [
        *_conditions(shape),
        Ticket.status.in_(shape.statuses),
        Ticket.urgency.in_(shape.levels),
    ]


def inbox_count(
    session: Session, user: User, view: InboxView, filters: InboxFilters, now: datetime
) -> int:
    """How many tickets the inbox holds with these filters (a saved view's count): the
    page's own conditions, counted."""
    shape, params = _shape_and_params(user, view, filters, now, None, 1, "all")
    statement = select(func.count()).select_from(Ticket).where(*_matching(shape))
    return session.scalar(statement, params) or 0


def inbox_select(
    user: User,
    view: InboxView,
    filters: InboxFilters,
    now: datetime,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE + 1,
) -> Select[Any]:
    """`inbox_query` with its values bound in (for EXPLAIN and other callers)."""
    statement, params = inbox_query(user, view, filters, now, after, limit)
    used = {p.key for p in statement.compile().binds.values()}
    return statement.params(**{k: v for k, v in params.items() if k in used})


@dataclass(frozen=True)
class SortHeader:
    """A column header's link (the order it turns to) and its aria-sort (None: not sorted)."""

    href: str
    state: str | None


def sort_headers(filters: InboxFilters) -> dict[str, SortHeader]:
    """Each sortable column's header link, the filters kept: a click sorts by the column, a
    second click the other way round; the urgency column's link is the queue order. Plain
    links, so they work without JavaScript and the order stays in the URL."""
    kept = {k: v for k, v in filters.as_args().items() if k != "sort"}
    headers = {"urgency": SortHeader("?" + urlencode(kept), None if filters.sort else "descending")}
    for key in SORTS:
        turned, state = key, "descending" if filters.sort == f"-{key}" else None
        if filters.sort == key:
            turned, state = f"-{key}", "ascending"
        headers[key] = SortHeader("?" + urlencode({**kept, "sort": turned}), state)
    return headers


def _sort_column(name: str) -> ColumnElement[Any]:
    if name == "received":
        return Ticket.created_at.expression
    if name == "due":
        return Ticket.first_response_due_at.expression
    if name == "status":
        return case(_STATUS_RANK, value=Ticket.status, else_=len(_STATUS_RANK))
    return func.lower(func.coalesce(func.nullif(Customer.name, ""), Customer.email))


def _sorted_ids(
    session: Session,
    user: User,
    view: InboxView,
    filters: InboxFilters,
    now: datetime,
    after: Cursor | None,
    limit: int,
) -> list[int]:
    """The ids of one page in the order of ``filters.sort``, after the ticket ``after`` names:
    by the column, then by id; a ticket without a due time comes last either way.

    Received and due are read per status (due: per status and urgency), each branch stopped
    after ``limit`` rows, then the branches merged, as the queue order does. By due each
    branch is a range of ix_tickets_queue (department, status, urgency, due) walked in order;
    by received each is read and sorted (an index (department, status, created_at, id) would
    walk it, but PostgreSQL then read the queue's filtered queries from that narrower index).
    Received is never NULL (no "IS NULL" key); due reads the tickets with a due time, then
    those without one in id order. Customer and status are expressions no tickets index
    holds: read and sorted."""
    assert filters.sort is not None
    descending = filters.sort.startswith("-")
    name = filters.sort.removeprefix("-")
    column = _sort_column(name)
    shape, params = _shape_and_params(user, view, filters, now, None, limit, "all")
    conditions = _matching(shape)
    value, beyond_id = None, None
    if after is not None:
        found = session.execute(
            select(column)
            .select_from(Ticket)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(Ticket.id == after.id)
        ).first()
        if found is not None:
            value = found[0]
            beyond_id = Ticket.id < after.id if descending else Ticket.id > after.id
    ids: list[int] = []
    if beyond_id is None or value is not None:
        valued = [*conditions, column.is_not(None)] if name == "due" else list(conditions)
        if beyond_id is not None:
            beyond = column < value if descending else column > value
            # "(beyond or tied and beyond the id)", with a bound an index range can start at.
            bound = column <= value if descending else column >= value
            valued.append(and_(bound, or_(beyond, beyond_id)))
        walk = _walk_statement(name, column, valued, shape, descending, limit)
        ids = list(session.scalars(walk, params))
    if name == "due" and len(ids) < limit:
        empty = [*conditions, column.is_(None)]
        if beyond_id is not None and value is None:
            empty.append(beyond_id)
        walk = _walk_statement(name, None, empty, shape, descending, limit - len(ids))
        ids += session.scalars(walk, params)
    return ids


def _walk_statement(
    name: str,
    column: ColumnElement[Any] | None,
    conditions: list[ColumnElement[bool]],
    shape: _Shape,
    descending: bool,
    limit: int,
) -> Select[Any]:
    """The first ``limit`` ids matching ``conditions`` by ``column`` (None: by id alone)."""
    by_id = Ticket.id.expression
    keys: list[ColumnElement[Any]] = [by_id] if column is None else [column, by_id]
    if name in ("customer", "status"):
        return (
            select(Ticket.id)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(*conditions)
            .order_by(*(k.desc() if descending else k.asc() for k in keys))
            .limit(limit)
        )
    # One branch per status (received: read and sorted, no index holds that order) or per
    # status and level (due: a range of ix_tickets_queue, (department, status, urgency), which
    # is in due order).
    ranges = [[Ticket.status == status] for status in shape.statuses]
    if name == "due":
        ranges = [[*r, Ticket.urgency == level] for r in ranges for level in shape.levels]
    labelled = [k.label(f"key{n}") for n, k in enumerate(keys)]
    branches = [
        select(*labelled)
        .where(*conditions, *fixed)
        .order_by(*(k.desc() if descending else k.asc() for k in keys))
        .limit(limit)
        for fixed in ranges
    ]
    merged = union_all(*(select(b.subquery()) for b in branches)).subquery()
    merged_keys = [merged.c[f"key{n}"] for n in range(len(keys))]
    return (
        select(merged_keys[-1])
        .order_by(*(k.desc() if descending else k.asc() for k in merged_keys))
        .limit(limit)
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

    def phase_ids(phase: str, cursor: Cursor | None, count: int) -> list[int]:
        statement, params = inbox_query(user, view, filters, now, cursor, count, phase=phase)
        return list(session.scalars(statement, params))

    if filters.sort:
        ids, hot = _sorted_ids(session, user, view, filters, now, after, limit + 1), set()
    else:
        in_hot = after is None or after.hot
        may_be_hot = any(status in OPEN_STATUSES for status in _statuses(filters))
        hot_ids = phase_ids("hot", after, limit + 1) if in_hot and may_be_hot else []
        rest_ids = []
        if len(hot_ids) <= limit:
            rest_ids = phase_ids("rest", None if in_hot else after, limit + 1 - len(hot_ids))
        ids = hot_ids + rest_ids
        hot = set(hot_ids)
    loaded = {
        t.id: t
        for t in session.scalars(
            select(Ticket)
            .where(Ticket.id.in_(ids))
            .options(
                joinedload(Ticket.customer),
                joinedload(Ticket.assignee),
                joinedload(Ticket.department),
            )
        ).unique()
    }
    rows = [loaded[i] for i in ids if i in loaded]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = Cursor.after(last, last.id in hot) if last is not None else None
    tickets = rows[:limit]
    states: dict[int, str | None] = {t.id: sla.sla_state(t, now) for t in tickets}
    return InboxPage(
        tickets,
        next_cursor,
        states,
        seen.previews(session, [t.id for t in tickets]),
        seen.unread_ids(session, user.id, tickets),
        ages(tickets, now),
        {t.id: due_in(t, now) for t in tickets if states[t.id] == "due_soon"},
        tags.tags_of(session, [t.id for t in tickets]),
    )


def nav_counts(session: Session, user: User) -> dict[str, int]:
    """Open tickets per inbox, from grouped counts over the queue/triage/assignee indexes."""
    ids = sorted(visible_department_ids(user))
    counts: dict[str, int] = {}
    if ids:
        rows = session.execute(
            select(Ticket.department_id, func.count())
            .where(
                Ticket.department_id.in_(ids),
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.snoozed_until.is_(None),
            )
            .group_by(Ticket.department_id)
        ).all()
        codes = dict(session.execute(select(Department.id, Department.code)).all())
        counts.update({codes[dept_id]: n for dept_id, n in rows if dept_id in codes})
    if user.can_triage or user.role == "admin":
        counts["triage"] = (
            session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(
                    Ticket.needs_triage.is_(True),
                    Ticket.status.in_(OPEN_STATUSES),
                    Ticket.snoozed_until.is_(None),
                )
            )
            or 0
        )
    counts["mine"] = (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.assignee_id == user.id,
                Ticket.status.in_(OPEN_STATUSES),
                Ticket.snoozed_until.is_(None),
            )
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
        choices += [(str(m.id), staff_name(m.name)) for m in members]
    return choices


@dataclass(frozen=True)
class ListedView:
    """A saved view as the inbox lists it: None for count and href when its inbox is not the
    agent's any more."""

    id: int
    name: str
    count: int | None
    href: str | None
    current: bool


def listed_views(
    session: Session, user: User, now: datetime, here: tuple[str, dict[str, str]] | None
) -> list[ListedView]:
    """The user's views with their counts; `here` (inbox key, filters) marks the one shown."""
    listed = []
    for view in saved_views.views_of(session, user):
        inbox = find_view(session, user, view.inbox_key)
        if inbox is None:
            listed.append(ListedView(view.id, view.name, None, None, False))
            continue
        filters = InboxFilters.from_args(view.filters)
        args: dict[str, Any] = filters.as_args()
        listed.append(
            ListedView(
                view.id,
                view.name,
                inbox_count(session, user, inbox, filters, now),
                url_for("staff.inbox_view", key=inbox.key, **args),
                here == (inbox.key, args),
            )
        )
    return listed


@bp.get("/")
@login_required
def inbox():
    user = current_user()
    assert user is not None
    views = available_views(db_session(), user)
    return redirect(url_for("staff.inbox_view", key=views[0].key))


@bp.get("/inbox/<key>")
@login_required
def inbox_view(key: str):

    user = current_user()
    assert user is not None
    session = db_session()
    view = find_view(session, user, key)
    if view is None:
        abort(404)
    filters = InboxFilters.from_args(request.args)
    form = InboxFilterForm(request.args)
    form.assignee.choices = options(assignee_choices(session, user, view))
    form.sort.data = filters.sort or ""  # an unknown order reads as the queue order
    form.tag.data = filters.tag or ""  # as stored: "退貨" and "#Refund" read "退货", "refund"
    levels = session.scalars(select(UrgencyLevel).order_by(UrgencyLevel.level.desc()))
    form.urgency.choices = options(
        [("", _("Any")), *((str(u.level), u.numbered_label(g.lang)) for u in levels)]
    )
    now = utcnow()
    after = Cursor.decode(request.args.get("after"))
    page = inbox_page(session, user, view, filters, now, after)
    inbox_return.remember(
        view.key, {**filters.as_args(), **({"after": after.encode()} if after else {})}
    )
    return render_template(
        "staff/inbox.html",
        view=view,
        tag_suggestions=tags.suggestions(session, user),
        saved_views=listed_views(session, user, now, (view.key, filters.as_args())),
        view_form=SavedViewForm(prefix="view", formdata=None),
        busy=presence.open_by_others(session, [t.id for t in page.tickets], user.id, now),
        view_title=view.title(g.get("lang", "en")),
        page=page,
        filters=filters,
        form=form,
        now=now,
        escalated=escalated_tickets(session, user) if after is None else [],
        getting_started=steps_to_show(session, user, current_app.config, request.cookies)
        if after is None
        else [],
        first_page_args=filters.as_args(),
        next_args={**filters.as_args(), "after": page.next_cursor.encode()}
        if page.next_cursor
        else None,
        ticket_href=url_for("staff.ticket_page", ticket_id=0)[:-1],  # + id: no url_for per row
        # + the inbox, which the ticket page's actions, "... and next" and `j` keep going through
        ticket_query="?" + urlencode({"queue": view.key}),
        bulk=bulk_choices(session, user, view),
        sorting=sort_headers(filters),
    )


# --- bulk actions ---------------------------------------------------------------------------

#: Tickets one bulk action takes at most (a page holds PAGE_SIZE).
MAX_BULK = MAX_PAGE_SIZE


def bulk_choices(session: Session, user: User, view: InboxView) -> dict[str, Any]:
    """Who tickets may be assigned to and where they may move, for the inbox's bulk form.

    ``assigns_others``: a lead's bar has the "Assign to" list; an agent, who may give a ticket
    to nobody but themselves, has "Take" alone (the list of one name did the same)."""
    departments = session.scalars(
        select(Department).where(Department.is_active.is_(True)).order_by(Department.name)
    ).all()
    people: list[User] = [user]
    if has_role(user, "lead") and view.department is not None:
        people += sorted(
            (m for m in view.department.members if m.is_active and m.id != user.id),
            key=lambda m: m.name,
        )
    return {
        "people": people,
        "departments": departments,
        "assigns_others": has_role(user, "lead"),
    }


def _bulk_department(session: Session) -> Department | None:
    """The department the bulk bar's "Move" names; None for its placeholder or an unknown id."""
    department_id = id_or_none(request.form.get("department", ""))
    return session.get(Department, department_id) if department_id else None


def _bulk_one(session: Session, user: User, ticket: Ticket, action: str) -> bool:
    """Apply the action to one ticket; False when it was so already (a ticket moved to the
    department it is in, or resolved twice, was named among the changed ones)."""
    config = current_app.config
    if action == "assign":
        raw = request.form.get("assignee", "")
        assignee_id = id_or_none(raw)
        assignee = session.get(User, assignee_id) if assignee_id else None
        if raw and assignee is None:
            raise actions.ActionError(_("No such person."))
        if ticket.assignee_id == (assignee.id if assignee else None):
            return False
        actions.assign(session, ticket, user, assignee, config)
    elif action == "take":  # the `a` key and "Take": to oneself, whatever the list says
        if ticket.assignee_id == user.id:
            return False
        actions.assign(session, ticket, user, user, config)
    elif action == "move":
        department = _bulk_department(session)
        if department is None:
            raise actions.ActionError(_("Choose a department."))
        if department.id == ticket.department_id:
            return False
        actions.change_department(session, ticket, user, department, config)
    elif action == "resolve":
        if ticket.status not in OPEN_STATUSES:
            return False
        actions.resolve(session, ticket, user, config)
    elif action == "tag":
        return tags.add_tag(session, ticket, user, request.form.get("tag", "")) is not None
    elif action == "untag":
        return tags.remove_tag(session, ticket, user, request.form.get("tag", ""))
    else:
        abort(400)
    return True


@bp.post("/inbox/<key>/bulk")
@login_required
def inbox_bulk(key: str):
    """Take, assign, move, resolve, tag or untag the selected tickets, each through the one
    service layer (access checks and history entries included), each in its own savepoint."""
    user = current_user()
    assert user is not None
    session = db_session()
    if find_view(session, user, key) is None:
        abort(404)
    action = request.form.get("action", "")
    ids = sorted({i for i in map(id_or_none, request.form.getlist("ticket_id")[:MAX_BULK]) if i})
    if ids and action == "move" and _bulk_department(session) is None:
        # The placeholder left as it was: say so once, and touch nothing (not "N tickets
        # could not be changed", which reads as a permission problem).
        flash(_("Choose a department."), "error")
        return _bulk_back(key)
    if ids and action in ("tag", "untag"):
        try:
            tags.normalise(request.form.get("tag", ""))
        except tags.TagRefused as no_tag:
            flash(str(no_tag), "error")  # once, and nothing touched (as for "move")
            return _bulk_back(key)
    done: list[str] = []
    unchanged: list[str] = []  # the user's own tickets that were already so
    gone = 0  # moved out of the user's sight
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)):
        if not can_see_ticket(user, ticket):
            continue
        try:
            with session.begin_nested():
                changed = _bulk_one(session, user, ticket, action)
            (done if changed else unchanged).append(ticket.reference or str(ticket.id))
            gone += changed and not can_see_ticket(user, ticket)
        except actions.ActionError:
            pass
    # Every other id counts alike, missing or another department's: the count must not tell
    # which ids exist.
    refused = len(ids) - len(done) - len(unchanged)
    if not ids:
        flash(_("Select one or more tickets first."), "error")
    if done:
        flash(_bulk_done_message(action, done), "success")
    if gone:
        flash(
            ngettext(
                "%(num)s of them is in a department you do not work in: you can no longer open it.",
                "%(num)s of them are in a department you do not work in: you can no longer "
                "open them.",
                gone,
            ),
            "info",
        )
    if unchanged:
        flash(
            ngettext(
                "%(num)s ticket needed no change: %(refs)s.",
                "%(num)s tickets needed no change: %(refs)s.",
                len(unchanged),
                refs=_references(unchanged),
            ),
            "info",
        )
    if refused:
        flash(
            ngettext(
                "%(num)s ticket could not be changed.",
                "%(num)s tickets could not be changed.",
                refused,
            ),
            "error",
        )
    return _bulk_back(key)


def _bulk_back(key: str) -> Response:
    """Back to the page the agent was on, filters and all (the form sends its own path)."""
    back = local_path(request.form.get("next"))
    return redirect(
        back if back and back.startswith("/staff/") else url_for("staff.inbox_view", key=key)
    )


def _references(references: list[str]) -> str:
    """SUP-00004, SUP-00016; on a Chinese page SUP-00004、SUP-00016."""
    return ("、" if g.get("lang") == "zh" else ", ").join(references)


def _bulk_done_message(action: str, references: list[str]) -> str:
    """What was done, to which tickets: after a slip of the `e` key the agent knows what to
    reopen."""
    num, refs = len(references), _references(references)
    if action == "assign":
        return ngettext(
            "%(num)s ticket assigned: %(refs)s.",
            "%(num)s tickets assigned: %(refs)s.",
            num,
            refs=refs,
        )
    if action == "take":
        return ngettext(
            "%(num)s ticket assigned to you: %(refs)s.",
            "%(num)s tickets assigned to you: %(refs)s.",
            num,
            refs=refs,
        )
    if action == "move":
        target = _bulk_department(db_session())
        return ngettext(
            "%(num)s ticket moved to %(department)s: %(refs)s.",
            "%(num)s tickets moved to %(department)s: %(refs)s.",
            num,
            refs=refs,
            department=target.label(g.get("lang", "en")) if target else "—",
        )
    if action in ("tag", "untag"):
        tag = tags.normalise(request.form.get("tag", ""))
        if action == "tag":
            return ngettext(
                "Tag “%(tag)s” added to %(num)s ticket: %(refs)s.",
                "Tag “%(tag)s” added to %(num)s tickets: %(refs)s.",
                num,
                refs=refs,
                tag=tag,
            )
        return ngettext(
            "Tag “%(tag)s” removed from %(num)s ticket: %(refs)s.",
            "Tag “%(tag)s” removed from %(num)s tickets: %(refs)s.",
            num,
            refs=refs,
            tag=tag,
        )
    return ngettext(
        "%(num)s ticket resolved: %(refs)s.", "%(num)s tickets resolved: %(refs)s.", num, refs=refs
    )
