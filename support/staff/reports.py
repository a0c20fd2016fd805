"""Reports for leads and admins: response targets, backlog, volume, satisfaction, deflection.

Figures are computed from column-only queries over the chosen period (indexed on created_at)
and aggregated here, drawn as server-rendered SVG (support.staff.charts) and exported as CSV.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from support.auth import current_user, role_required
from support.core.db import db_session, utcnow
from support.core.spreadsheet import safe_cell
from support.core.web import duration
from support.desk import sla
from support.desk.access import visible_department_ids
from support.desk.models import OPEN_STATUSES, Department, Ticket, UrgencyLevel, User
from support.staff import charts
from support.staff.blueprints import bp
from support.staff.forms import ReportPeriodForm, options

AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 day", timedelta(days=1)),
    ("1-3 days", timedelta(days=3)),
    ("3-7 days", timedelta(days=7)),
    ("7-30 days", timedelta(days=30)),
    ("> 30 days", None),
)
#: The buckets as the page shows them (the CSV keeps the English keys above).
AGE_BUCKET_LABELS = {
    "< 1 day": _l("< 1 day"),
    "1-3 days": _l("1-3 days"),
    "3-7 days": _l("3-7 days"),
    "7-30 days": _l("7-30 days"),
    "> 30 days": _l("> 30 days"),
}
SECTIONS = ("first_response", "backlog", "volume", "satisfaction", "deflection", "complaints")
DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, chosen as whole local days."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    zone: ZoneInfo

    @classmethod
    def from_dates(
        cls, first: date | None, last: date | None, zone: ZoneInfo, today: date
    ) -> Period:
        if first and last and first > last:
            first, last = last, first
        # Clamped after the swap: a reversed pair must not bring a far date back unclamped
        # (9999-12-31 overflowed the day after it, a 500).
        last = min(last or today, today)
        first = min(first or last - timedelta(days=DEFAULT_DAYS - 1), last)
        first = max(first, last - timedelta(days=MAX_DAYS))
        start = datetime.combine(first, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(
            ZoneInfo("UTC")
        )
        return cls(start, end, first, last, zone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def bucket(self, moment: datetime) -> str:
        """Day, ISO week or month label, chosen so a chart has at most ~60 points."""
        local = moment.astimezone(self.zone).date()
        if self.days <= 45:
            return local.isoformat()
        if self.days <= 400:
            year, week, _day = local.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{local.year}-{local.month:02d}"

    def buckets(self) -> list[str]:
        labels: list[str] = []
        day = self.first_day
        while day <= self.last_day:
            moment = datetime.combine(day, time(12), tzinfo=self.zone)
            label = self.bucket(moment)
            if not labels or labels[-1] != label:
                labels.append(label)
            day += timedelta(days=1)
        return labels


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def report_departments(session: Session, user: User) -> list[Department]:
    ids = sorted(visible_department_ids(user))
    return list(
        session.scalars(select(Department).where(Department.id.in_(ids)).order_by(Department.name))
    )


@dataclass
class FirstResponseRow:
    department: str
    urgency: int | None  # None: all levels
    answered: int
    within_target: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def share_within(self) -> float | None:
        return self.within_target / self.answered if self.answered else None


@dataclass
class ComplaintRow:
    """Complaints of one complexity created in the period, against their deadlines."""

    complexity: str
    total: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    open_overdue: int = 0
    days_to_resolution: list[float] = field(default_factory=list)

    @property
    def median_days(self) -> float | None:
        value = percentile(self.days_to_resolution, 50)
        return round(value, 2) if value is not None else None


@dataclass
class Report:
    period: Period
    departments: list[Department]
    first_response: list[FirstResponseRow] = field(default_factory=list)
    backlog: dict[str, list[int]] = field(default_factory=dict)
    volume_by_department: dict[str, list[int]] = field(default_factory=dict)
    volume_by_urgency: dict[str, list[int]] = field(default_factory=dict)
    #: "5" -> "5 · Emergency": the levels as the chart's legend names them.
    urgency_names: dict[str, str] = field(default_factory=dict)
    volume_labels: list[str] = field(default_factory=list)
    satisfaction: dict[str, Counter[int]] = field(default_factory=dict)
    deflection: dict[str, tuple[int, int]] = field(default_factory=dict)
    complaints: list[ComplaintRow] = field(default_factory=list)
    #: What customers wrote with their rating in the period, lowest ratings first.
    rating_comments: list[RatingComment] = field(default_factory=list)


@dataclass(frozen=True)
class RatingComment:
    ticket_id: int
    reference: str
    rating: int
    comment: str
    rated_at: datetime


#: Comments listed on the reports page (the lowest ratings first: those need a look).
MAX_RATING_COMMENTS = 20


def _tickets_in_period(
    session: Session, departments: Sequence[Department], period: Period, *columns: Any
) -> list[Any]:
    return list(
        session.execute(
            select(Ticket.department_id, *columns).where(
                Ticket.created_at >= period.start,
                Ticket.created_at < period.end,
                Ticket.department_id.in_([d.id for d in departments]),
                Ticket.merged_into_id.is_(None),
            )
        ).all()
    )


def build_report(
    session: Session,
    departments: Sequence[Department],
    period: Period,
    now: datetime,
    language: str = "en",
) -> Report:
    report = Report(period, list(departments))
    names = {d.id: d.label(language) for d in departments}
    order = [names[d.id] for d in departments]

    # First responses within target, median and 90th percentile, per department and level.
    rows = _tickets_in_period(
        session,
        departments,
        period,
        Ticket.urgency,
        Ticket.first_response_seconds,
        Ticket.first_response_at,
        Ticket.first_response_due_at,
    )
    groups: dict[tuple[str, int | None], list[tuple[float, bool]]] = defaultdict(list)
    for dept_id, urgency, seconds, answered_at, due_at in rows:
        if answered_at is None or seconds is None:
            continue
        within = due_at is None or answered_at <= due_at
        for key in ((names[dept_id], urgency), (names[dept_id], None)):
            groups[key].append((float(seconds), within))
    for name in order:
        for level in (None, 5, 4, 3, 2, 1):
            values = groups.get((name, level))
            if not values and level is not None:
                continue
            seconds_list = [s for s, _w in values or []]
            report.first_response.append(
                FirstResponseRow(
                    name,
                    level,
                    len(seconds_list),
                    sum(1 for _s, w in values or [] if w),
                    percentile(seconds_list, 50),
                    percentile(seconds_list, 90),
                )
            )

    # Backlog: open tickets by age, whatever their creation date.
    report.backlog = {name: [0] * len(AGE_BUCKETS) for name in order}
    open_rows = session.execute(
        select(Ticket.department_id, Ticket.created_at).where(
            Ticket.department_id.in_([d.id for d in departments]),
            Ticket.status.in_(OPEN_STATUSES),
        )
    ).all()
    for dept_id, created_at in open_rows:
        if dept_id is None:  # never: IN does not match NULL
            continue
        age = now - created_at
        index = next(
            i for i, (_label, limit) in enumerate(AGE_BUCKETS) if limit is None or age < limit
        )
        report.backlog[names[dept_id]][index] += 1

    # Volume over time, by department and by urgency.
    labels = period.buckets()
    position = {label: i for i, label in enumerate(labels)}
    report.volume_labels = labels
    report.volume_by_department = {name: [0] * len(labels) for name in order}
    report.volume_by_urgency = {str(level): [0] * len(labels) for level in (5, 4, 3, 2, 1)}
    report.urgency_names = {
        str(u.level): u.numbered_label(language) for u in session.scalars(select(UrgencyLevel))
    }
    volume = _tickets_in_period(session, departments, period, Ticket.created_at, Ticket.urgency)
    for dept_id, created_at, urgency in volume:
        slot = position.get(period.bucket(created_at))
        if slot is None:
            continue
        report.volume_by_department[names[dept_id]][slot] += 1
        report.volume_by_urgency.setdefault(str(urgency), [0] * len(labels))[slot] += 1

    # Satisfaction of tickets rated in the period; FAQ deflection of tickets created in it.
    rated = session.execute(
        select(Ticket.department_id, Ticket.satisfaction_rating).where(
            Ticket.satisfaction_at >= period.start,
            Ticket.satisfaction_at < period.end,
            Ticket.department_id.in_([d.id for d in departments]),
            Ticket.satisfaction_rating.is_not(None),
        )
    ).all()
    report.satisfaction = {name: Counter() for name in order}
    for dept_id, rating in rated:
        if dept_id is None or rating is None:  # never: the query excludes NULL
            continue
        report.satisfaction[names[dept_id]][int(rating)] += 1
    report.rating_comments = [
        RatingComment(ticket_id, reference or str(ticket_id), rating, comment, rated_at)
        for ticket_id, reference, rating, comment, rated_at in session.execute(
            select(
                Ticket.id,
                Ticket.reference,
                Ticket.satisfaction_rating,
                Ticket.satisfaction_comment,
                Ticket.satisfaction_at,
            )
            .where(
                Ticket.satisfaction_at >= period.start,
                Ticket.satisfaction_at < period.end,
                Ticket.department_id.in_([d.id for d in departments]),
                Ticket.satisfaction_rating.is_not(None),
                Ticket.satisfaction_comment.is_not(None),
                Ticket.satisfaction_comment != "",
            )
            .order_by(Ticket.satisfaction_rating, Ticket.satisfaction_at.desc())
            .limit(MAX_RATING_COMMENTS)
        ).all()
        if rating is not None and comment and rated_at is not None  # always: the query says so
    ]
    deflected = _tickets_in_period(session, departments, period, Ticket.resolved_by_article_id)
    totals: dict[str, list[int]] = {name: [0, 0] for name in order}
    for dept_id, article_id in deflected:
        totals[names[dept_id]][0] += 1
        if article_id is not None:
            totals[names[dept_id]][1] += 1
    report.deflection = {name: (total, by_faq) for name, (total, by_faq) in totals.items()}
    report.complaints = _complaints(session, departments, period, now)
    return report


def _complaints(
    session: Session, departments: Sequence[Department], period: Period, now: datetime
) -> list[ComplaintRow]:
    """By complexity: how many, resolved within their deadline (complex ones have none: any
    resolution counts), still open past it, and the median days to resolution."""
    rows = {c: ComplaintRow(c) for c in ("simple", "general", "complex")}
    found = _tickets_in_period(
        session,
        departments,
        period,
        Ticket.kind,
        Ticket.complaint_complexity,
        Ticket.created_at,
        Ticket.resolved_at,
        Ticket.complaint_due_at,
        Ticket.status,
    )
    for _dept, kind, complexity, created_at, resolved_at, due_at, status in found:
        if kind != "complaint" or complexity not in rows:
            continue
        row = rows[complexity]
        row.total += 1
        if resolved_at is not None:
            row.resolved += 1
            row.resolved_on_time += due_at is None or resolved_at <= due_at
            row.days_to_resolution.append((resolved_at - created_at).total_seconds() / 86400)
        elif status in OPEN_STATUSES and due_at is not None and due_at < now:
            row.open_overdue += 1
    return list(rows.values())


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _time_chart(title: str, names: list[str], seconds: list[float | None]) -> Markup:
    """A bar chart of durations, its axis in hours, or in minutes when every bar is under an
    hour (2-minute medians drew an axis of 0.01-0.04 h under bars that read "2 min")."""
    present = [value for value in seconds if value is not None]
    hours = bool(present) and max(present) >= 3600
    scale = 3600 if hours else 60
    return charts.bar_chart(
        title,
        names,
        [None if value is None else value / scale for value in seconds],
        unit=pgettext("unit", "h") if hours else pgettext("unit", "min"),
        empty_text=_("No data"),
        value_text=lambda amount: duration(round(amount * scale)),
    )


def report_charts(report: Report) -> dict[str, Markup]:
    overall = [r for r in report.first_response if r.urgency is None]
    names = [r.department for r in overall]
    age_labels = [str(AGE_BUCKET_LABELS[label]) for label, _limit in AGE_BUCKETS]
    satisfaction_names = list(report.satisfaction)
    return {
        "within_target": charts.bar_chart(
            _("First responses within target"),
            names,
            [None if r.share_within is None else round(r.share_within * 100, 1) for r in overall],
            unit="%",
            empty_text=_("No data"),
            scale_max=100,
        ),
        "median_first_response": _time_chart(
            _("Median first response time"), names, [r.median_seconds for r in overall]
        ),
        "p90_first_response": _time_chart(
            _("90th percentile first response time"), names, [r.p90_seconds for r in overall]
        ),
        "backlog": charts.stacked_bar_chart(
            _("Open tickets by age"),
            age_labels,
            {name: counts for name, counts in report.backlog.items()},
            empty_text=_("No open tickets"),
            total_text=_("total"),
        ),
        "volume": charts.line_chart(
            _("New tickets by department"),
            report.volume_labels,
            report.volume_by_department,
            empty_text=_("No data"),
        ),
        "volume_urgency": charts.stacked_bar_chart(
            _("New tickets by urgency"),
            report.volume_labels,
            {
                report.urgency_names.get(k) or _("urgency %(level)s", level=k): v
                for k, v in report.volume_by_urgency.items()
            },
            empty_text=_("No data"),
            total_text=_("total"),
        ),
        "satisfaction": charts.bar_chart(
            _("Average satisfaction (1-5)"),
            satisfaction_names,
            [_average(report.satisfaction[n]) for n in satisfaction_names],
            empty_text=_("No ratings yet"),
            scale_max=5,
        ),
        "deflection": _deflection_chart(report),
    }


def _deflection_chart(report: Report) -> Markup:
    """Until a customer has clicked "this answered my question", the chart says so: bars of
    0 % drew nothing on an empty 0-1 % axis."""
    title = _("Tickets resolved by an FAQ article")
    if not any(by_faq for _total, by_faq in report.deflection.values()):
        return charts.bar_chart(
            title, [], [], empty_text=_("No ticket resolved by an FAQ article yet")
        )
    return charts.bar_chart(
        title,
        list(report.deflection),
        [
            round(by_faq / total * 100, 1) if total else None
            for total, by_faq in report.deflection.values()
        ],
        unit="%",
        empty_text=_("No data"),
    )


def _average(counts: Counter[int]) -> float | None:
    total = sum(counts.values())
    return round(sum(k * v for k, v in counts.items()) / total, 2) if total else None


def csv_rows(report: Report, section: str) -> Iterable[list[Any]]:
    """Rows of one report section, header first."""
    if section == "first_response":
        yield [
            "department",
            "urgency",
            "answered",
            "within_target",
            "share_within_target",
            "median_hours",
            "p90_hours",
        ]
        for r in report.first_response:
            share = None if r.share_within is None else round(r.share_within, 4)
            yield [
                r.department,
                r.urgency or "all",
                r.answered,
                r.within_target,
                share,
                _hours(r.median_seconds),
                _hours(r.p90_seconds),
            ]
    elif section == "backlog":
        yield ["department", *(label for label, _limit in AGE_BUCKETS)]
        for name, counts in report.backlog.items():
            yield [name, *counts]
    elif section == "volume":
        yield ["period", "department", "tickets"]
        for name, counts in report.volume_by_department.items():
            for label, count in zip(report.volume_labels, counts, strict=True):
                yield [label, name, count]
    elif section == "satisfaction":
        yield ["department", "ratings", "average", "r1", "r2", "r3", "r4", "r5"]
        for name, ratings in report.satisfaction.items():
            yield [
                name,
                sum(ratings.values()),
                _average(ratings),
                *(ratings[n] for n in range(1, 6)),
            ]
    elif section == "deflection":
        yield ["department", "tickets", "resolved_by_faq", "share"]
        for name, (total, by_faq) in report.deflection.items():
            yield [name, total, by_faq, round(by_faq / total, 4) if total else None]
    elif section == "complaints":
        yield [
            "complexity",
            "complaints",
            "resolved",
            "resolved_on_time",
            "open_overdue",
            "median_days_to_resolution",
        ]
        for row in report.complaints:
            yield [
                row.complexity,
                row.total,
                row.resolved,
                row.resolved_on_time,
                row.open_overdue,
                row.median_days,
            ]
    else:
        raise ValueError(f"unknown report section {section!r}")


def to_csv(rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


def dashboard_counts(
    session: Session, departments: Sequence[Department], now: datetime
) -> dict[str, dict[str, int]]:
    """Open / due soon / breached right now per department (grouped indexed counts)."""
    ids = [d.id for d in departments]
    result = {d.code: {"open": 0, "due_soon": 0, "breached": 0} for d in departments}
    codes = {d.id: d.code for d in departments}
    queries = {
        "open": Ticket.status.in_(OPEN_STATUSES),
        "due_soon": sla.state_clause("due_soon", now),
        "breached": sla.state_clause("breached", now),
    }
    for key, condition in queries.items():
        for dept_id, count in session.execute(
            select(Ticket.department_id, func.count())
            .where(Ticket.department_id.in_(ids), condition)
            .group_by(Ticket.department_id)
        ):
            if dept_id is not None:  # always: IN does not match NULL
                result[codes[dept_id]][key] = count
    return result


# --- pages -------------------------------------------------------------------------------------


def _period_and_departments() -> tuple[Period, list[Department], Any]:

    user = current_user()
    assert user is not None
    session = db_session()
    departments = report_departments(session, user)
    form = ReportPeriodForm(request.args)
    form.department.choices = options(
        [("", _("All my departments"))]
        + [(d.code, d.label(g.get("lang", "en"))) for d in departments]
    )
    form.validate()
    chosen = request.args.get("department") or ""
    if chosen:
        departments = [d for d in departments if d.code == chosen]
        if not departments:
            abort(404)
    zone = ZoneInfo(current_app.config["COMPANY_TIMEZONE"])
    today = utcnow().astimezone(zone).date()
    period = Period.from_dates(
        form.start.data if not form.start.errors else None,
        form.end.data if not form.end.errors else None,
        zone,
        today,
    )
    return period, departments, form


@bp.get("/reports")
@role_required("lead")
def reports():
    period, departments, form = _period_and_departments()
    report = build_report(db_session(), departments, period, utcnow(), g.get("lang", "en"))
    args = {k: v for k, v in request.args.items() if k in ("start", "end", "department") and v}
    return render_template(
        "staff/reports.html",
        report=report,
        charts=report_charts(report),
        form=form,
        sections=SECTIONS,
        csv_args=args,
        average=_average,
    )


@bp.get("/reports/<section>.csv")
@role_required("lead")
def report_csv(section: str):
    if section not in SECTIONS:
        abort(404)
    period, departments, _form = _period_and_departments()
    report = build_report(db_session(), departments, period, utcnow(), g.get("lang", "en"))
    filename = f"{section}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"
    return Response(
        "\ufeff" + to_csv(csv_rows(report, section)),  # BOM: Excel then reads UTF-8 (Chinese)
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/dashboard")
@role_required("lead")
def dashboard():

    user = current_user()
    assert user is not None
    session = db_session()
    now = utcnow()
    departments = report_departments(session, user)
    breached = list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.department_id.in_([d.id for d in departments]),
                sla.state_clause("breached", now),
            )
            .options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
            .order_by(Ticket.urgency.desc(), Ticket.first_response_due_at, Ticket.id)
            .limit(25)
        ).unique()
    )
    return render_template(
        "staff/dashboard.html",
        departments=departments,
        counts=dashboard_counts(session, departments, now),
        breached=breached,
        now=now,
    )
