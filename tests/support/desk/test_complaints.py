"""Complaints: recognised or marked by staff, deadlines in working days, a checklist of the
texts' steps, and progress reports every three working days for complex ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from support.desk import actions, complaints
from support.desk.models import AuditEvent, OutboundMail, Ticket
from support.desk.sla import check_targets
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login, mail_text

#: Thursday 2026-06-04 10:00 in Shanghai.
THURSDAY_10 = datetime(2026, 6, 4, 2, 0, tzinfo=UTC)


def _complaint(session, app, complexity: str) -> Ticket:
    ticket = make_ticket(
        session,
        customer=make_customer(session, email=f"{complexity}@example.net", name="Zhang San"),
        created_at=THURSDAY_10,
        subject="Technician missed the appointment",
    )
    complaints.mark_complaint(session, ticket, complexity, app.config)
    return ticket


def test_deadlines_are_working_days_on_the_business_calendar(app, session) -> None:
    simple = _complaint(session, app, "simple")
    assert simple.complaint_due_at == datetime(2026, 6, 5, 2, 0, tzinfo=UTC)  # Friday 10:00
    general = _complaint(session, app, "general")
    # Thursday + 3 working days, over the weekend: Tuesday 10:00.
    assert general.complaint_due_at == datetime(2026, 6, 9, 2, 0, tzinfo=UTC)
    complex_ = _complaint(session, app, "complex")
    assert complex_.complaint_due_at is None
    assert complex_.progress_due_at == datetime(2026, 6, 9, 2, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="complexity"):
        complaints.mark_complaint(session, simple, "hard", app.config)


def test_a_complex_complaint_gets_progress_reminders_until_resolved(app, session) -> None:
    lead = make_user(session, role="lead", email="lead@example.com", departments=("service",))
    ticket = _complaint(session, app, "complex")
    ticket.assignee = make_user(session, email="agent@example.com", departments=("service",))
    session.commit()

    before = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)  # Monday 17:00: not yet due
    assert check_targets(session, app.config, now=before).progress_reminded == []
    due = datetime(2026, 6, 9, 2, 30, tzinfo=UTC)
    assert check_targets(session, app.config, now=due).progress_reminded == [ticket.id]
    assert check_targets(session, app.config, now=due).progress_reminded == []  # once
    reminders = session.scalars(
        select(OutboundMail).where(OutboundMail.kind == "complaint_reminder")
    ).all()
    assert sorted(m.recipients[0] for m in reminders) == ["agent@example.com", lead.email]
    assert "Zhang San" in mail_text(reminders[0])  # the progress-update text to adapt

    # A reply to the customer is a progress report: the next is due three working days later.
    actions.reply(
        session,
        ticket,
        lead,
        "We have spoken to the technician.",
        config=app.config,
        now=due + timedelta(hours=1),
    )
    assert ticket.progress_due_at == datetime(2026, 6, 12, 3, 30, tzinfo=UTC)
    assert ticket.progress_reminded_at is None
    # Resolved: no more reminders.
    ticket.status = "resolved"
    session.commit()
    later = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)
    assert check_targets(session, app.config, now=later).progress_reminded == []


def test_staff_mark_a_complaint_and_tick_its_steps(app, session, client) -> None:
    ticket = make_ticket(session, created_at=THURSDAY_10)
    make_user(session, email="agent@example.com", departments=("service",))
    session.commit()
    login(client, "agent@example.com")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Not a complaint." in page
    url = f"/staff/tickets/{ticket.id}/complaint"
    client.post(url, data={"complaint-complexity": "complex"})
    client.post(
        url,
        data={"complaint-complexity": "complex", "complaint-steps": ["acknowledge", "record"]},
    )
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Next progress report to the customer due" in page and "Progress update to send" in page
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    assert (ticket.kind, ticket.complaint_complexity) == ("complaint", "complex")
    assert ticket.complaint_steps == ["acknowledge", "record"]
    actions_logged = session.scalars(
        select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)
    ).all()
    assert "ticket.complaint" in actions_logged and "ticket.complaint_steps" in actions_logged
    session.commit()
    assert client.post(url, data={"complaint-complexity": "impossible"}).status_code == 400
    client.post(url, data={"complaint-complexity": ""})
    session.expire_all()
    assert session.get(Ticket, ticket.id).kind is None


def test_the_report_counts_complaints_against_their_deadlines(app, session, client) -> None:
    from support.desk.models import Department
    from support.staff.reports import Period, build_report, csv_rows

    on_time = _complaint(session, app, "simple")
    on_time.resolved_at = on_time.complaint_due_at - timedelta(hours=2)
    on_time.status = "resolved"
    late = _complaint(session, app, "general")
    late.resolved_at = late.complaint_due_at + timedelta(days=1)
    late.status = "resolved"
    _complaint(session, app, "complex")
    make_ticket(session, created_at=THURSDAY_10)  # not a complaint
    session.commit()
    service = session.scalar(select(Department).where(Department.code == "service"))
    zone = ZoneInfo("Asia/Shanghai")
    period = Period.from_dates(date(2026, 6, 4), date(2026, 6, 4), zone, date(2026, 7, 1))
    report = build_report(session, [service], period, now=THURSDAY_10 + timedelta(days=30))
    rows = {row[0]: row[1:] for row in list(csv_rows(report, "complaints"))[1:]}
    assert rows["simple"][:4] == [1, 1, 1, 0]
    assert rows["general"][:4] == [1, 1, 0, 0]
    assert rows["complex"][:4] == [1, 0, 0, 0]
