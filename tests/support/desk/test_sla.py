"""Response targets with a controlled clock: calendar and business hours, holidays, pauses,
warnings and escalations (each once), night-time hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from support.core.runner import PeriodicTask
from support.desk import actions, sla
from support.desk.models import AuditEvent, Ticket
from tests.factories import department, make_ticket, make_user
from tests.support.staff_helpers import MONDAY_10_SHANGHAI, mail_text, outbound

SHANGHAI = ZoneInfo("Asia/Shanghai")
BUSINESS = {"timezone": "Asia/Shanghai", "hours": {"mon-fri": "09:00-18:00"}}


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def started(session, config, *, at: datetime, urgency: int = 4, **fields) -> Ticket:
    ticket = make_ticket(session, urgency=urgency, created_at=at, **fields)
    sla.start_clock(ticket, config, now=at)
    session.flush()
    return ticket


@pytest.mark.parametrize(("level", "minutes"), [(5, 60), (4, 240), (3, 1440), (2, 1440), (1, 1440)])
def test_default_first_response_targets_in_calendar_hours(app, session, level, minutes) -> None:
    ticket = started(session, app.config, at=MONDAY_10_SHANGHAI, urgency=level)
    assert ticket.first_response_due_at == MONDAY_10_SHANGHAI + timedelta(minutes=minutes)
    assert ticket.resolution_due_at > ticket.first_response_due_at


def test_config_and_department_overrides(app, session) -> None:
    app.config["SLA_TARGETS"] = {"5": {"first_response_minutes": 30, "resolution_minutes": 300}}
    ticket = started(session, app.config, at=MONDAY_10_SHANGHAI, urgency=5)
    assert ticket.first_response_due_at == MONDAY_10_SHANGHAI + timedelta(minutes=30)
    assert ticket.resolution_due_at == MONDAY_10_SHANGHAI + timedelta(minutes=300)

    department(session, "service").sla_overrides = {"5": {"first_response_minutes": 15}}
    sla.start_clock(ticket, app.config, now=MONDAY_10_SHANGHAI)
    assert ticket.first_response_due_at == MONDAY_10_SHANGHAI + timedelta(minutes=15)


def test_bad_config_target_names_the_setting(app, session) -> None:
    app.config["SLA_TARGETS"] = {"4": {"first_response_minutes": -5}}
    ticket = make_ticket(session, urgency=4, created_at=MONDAY_10_SHANGHAI)
    with pytest.raises(ValueError, match="SLA_TARGETS"):
        sla.start_clock(ticket, app.config)


def test_business_hours_skip_the_weekend_and_holidays(app, session) -> None:
    app.config["SLA_BUSINESS_CALENDAR"] = BUSINESS
    friday_5pm = local(2026, 5, 8, 17)
    ticket = started(session, app.config, at=friday_5pm, urgency=4)  # 4 working hours
    assert ticket.first_response_due_at == local(2026, 5, 11, 12)  # Monday noon

    app.config["SLA_BUSINESS_CALENDAR"] = {**BUSINESS, "holidays": ["2026-05-11"]}
    sla.start_clock(ticket, app.config, now=friday_5pm)
    assert ticket.first_response_due_at == local(2026, 5, 12, 12)  # Tuesday noon

    app.config["SLA_BUSINESS_CALENDAR"] = {**BUSINESS, "working_days": ["2026-05-10"]}
    sla.start_clock(ticket, app.config, now=friday_5pm)
    assert ticket.first_response_due_at == local(2026, 5, 10, 12)  # make-up Sunday


def test_a_target_can_stay_on_calendar_hours(app, session) -> None:
    app.config["SLA_BUSINESS_CALENDAR"] = BUSINESS
    app.config["SLA_TARGETS"] = {"5": {"clock": "calendar"}}
    friday = local(2026, 5, 8, 17, 30)
    emergency = started(session, app.config, at=friday, urgency=5)
    normal = started(session, app.config, at=friday, urgency=4)
    assert emergency.first_response_due_at == friday + timedelta(hours=1)
    assert normal.first_response_due_at == local(2026, 5, 11, 12, 30)


def test_pause_moves_due_times_and_is_not_counted(app, session) -> None:
    t0 = MONDAY_10_SHANGHAI
    ticket = started(session, app.config, at=t0, urgency=4)
    assert ticket.first_response_due_at == t0 + timedelta(hours=4)
    agent = make_user(session)
    actions.mark_waiting(session, ticket, agent, app.config, now=t0 + timedelta(hours=1))
    assert sla.sla_state(ticket, t0 + timedelta(hours=10)) == "on_track"  # the clock stands still
    sla.resume_clock(ticket, app.config, now=t0 + timedelta(hours=3))
    assert ticket.sla_paused_seconds == 2 * 3600
    assert ticket.first_response_due_at == t0 + timedelta(hours=6)
    sla.record_first_response(ticket, app.config, now=t0 + timedelta(hours=4))
    assert ticket.first_response_seconds == 2 * 3600
    assert sla.first_response_met(ticket) is True


def test_pause_over_a_weekend_counts_only_working_time(app, session) -> None:
    app.config["SLA_BUSINESS_CALENDAR"] = BUSINESS
    ticket = started(session, app.config, at=local(2026, 5, 8, 15), urgency=4)  # Fri 15:00
    assert ticket.first_response_due_at == local(2026, 5, 11, 10)  # 3 h Fri + 1 h Mon
    sla.pause_clock(ticket, now=local(2026, 5, 8, 17))
    sla.resume_clock(ticket, app.config, now=local(2026, 5, 11, 10))  # Mon 10:00
    assert ticket.sla_paused_seconds == 2 * 3600  # Fri 17-18 and Mon 9-10
    assert ticket.first_response_due_at == local(2026, 5, 11, 12)


def test_states_follow_the_warn_fraction(app, session) -> None:
    t0 = MONDAY_10_SHANGHAI
    ticket = started(session, app.config, at=t0, urgency=4)  # 4 h, warn at 3 h
    assert sla.sla_state(ticket, t0 + timedelta(hours=2)) == "on_track"
    assert sla.sla_state(ticket, t0 + timedelta(hours=3)) == "due_soon"
    assert sla.sla_state(ticket, t0 + timedelta(hours=4)) == "breached"
    ticket.status = "resolved"
    assert sla.sla_state(ticket, t0 + timedelta(hours=4)) is None


def test_sql_states_agree_with_python(app, session) -> None:
    t0 = MONDAY_10_SHANGHAI
    now = t0 + timedelta(hours=5)
    tickets = [
        started(session, app.config, at=t0 - timedelta(hours=h), urgency=4)
        for h in (-1, 0, 1.5, 2.5, 4, 8)
    ]
    paused = started(session, app.config, at=t0 - timedelta(hours=3), urgency=4)
    sla.pause_clock(paused, now=t0 - timedelta(hours=2))  # frozen at 1 h used
    answered = started(session, app.config, at=t0 - timedelta(hours=40), urgency=4)
    sla.record_first_response(answered, app.config, now=t0 - timedelta(hours=39))
    session.flush()
    for state in sla.SLA_STATES:
        in_sql = set(session.scalars(select(Ticket.id).where(sla.state_clause(state, now))))
        in_python = {t.id for t in [*tickets, paused, answered] if sla.sla_state(t, now) == state}
        assert in_sql == in_python, state
    assert sla.sla_state(paused, now) == "on_track"
    assert sla.sla_state(answered, now) == "due_soon"  # resolution 48 h, warn at 36 h, used 45 h


def _audits(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_warning_then_escalation_each_sent_once(app, session) -> None:
    t0 = MONDAY_10_SHANGHAI
    make_user(session, role="lead", email="lead@example.com")
    agent = make_user(session, email="agent@example.com")
    make_user(session, email="bystander@example.com")
    ticket = started(session, app.config, at=t0, urgency=4, assignee=agent)
    session.commit()

    early = sla.check_targets(session, app.config, now=t0 + timedelta(hours=2))
    assert early.warned == [] and early.escalated == []

    report = sla.check_targets(session, app.config, now=t0 + timedelta(hours=3, minutes=1))
    assert report.warned == [ticket.id]
    warnings = outbound(session, ticket, "notification")
    assert sorted(r for m in warnings for r in m.recipients) == [
        "agent@example.com",
        "lead@example.com",
    ]
    assert "due soon" in warnings[0].subject.lower()
    again = sla.check_targets(session, app.config, now=t0 + timedelta(hours=3, minutes=30))
    assert again.warned == [] and len(outbound(session, ticket, "notification")) == 2

    report = sla.check_targets(session, app.config, now=t0 + timedelta(hours=4, minutes=1))
    assert report.escalated == [ticket.id]
    assert ticket.escalated_at == t0 + timedelta(hours=4, minutes=1)
    assert ticket.sla_breached_at is not None
    assert len(outbound(session, ticket, "notification")) == 4
    later = sla.check_targets(session, app.config, now=t0 + timedelta(hours=9))
    assert later.escalated == [] and len(outbound(session, ticket, "notification")) == 4
    assert len(_audits(session, "sla.warned")) == 1
    assert len(_audits(session, "sla.escalated")) == 1


def test_escalation_without_a_lead_goes_to_admins(app, session) -> None:
    make_user(session, role="admin", departments=(), email="boss@example.com", language="en")
    ticket = started(session, app.config, at=MONDAY_10_SHANGHAI, urgency=5)
    sla.check_targets(session, app.config, now=MONDAY_10_SHANGHAI + timedelta(hours=2))
    mails = outbound(session, ticket, "notification")
    assert [m.recipients for m in mails] == [["boss@example.com"]]
    assert "escalated" in mails[0].subject.lower()
    assert "Urgency: 5 · Emergency" in mail_text(mails[0])


def test_no_mail_at_night_on_a_business_calendar(app, session) -> None:
    app.config["SLA_BUSINESS_CALENDAR"] = BUSINESS
    make_user(session, role="lead", email="lead@example.com")
    ticket = started(session, app.config, at=local(2026, 5, 11, 14), urgency=4)  # Mon 14:00
    assert ticket.first_response_due_at == local(2026, 5, 11, 18)
    night = sla.check_targets(session, app.config, now=local(2026, 5, 11, 22))
    assert night.held_for_working_hours == [ticket.id]
    assert outbound(session, ticket) == []
    morning = sla.check_targets(session, app.config, now=local(2026, 5, 12, 9, 1))
    assert morning.escalated == [ticket.id]
    assert ticket.sla_warned_at is not None  # no separate warning after the breach
    assert len(outbound(session, ticket, "notification")) == 1


def test_calendar_hours_target_is_escalated_at_night(app, session) -> None:
    app.config["SLA_BUSINESS_CALENDAR"] = BUSINESS
    app.config["SLA_TARGETS"] = {"5": {"clock": "calendar"}}
    make_user(session, role="lead", email="lead@example.com")
    ticket = started(session, app.config, at=local(2026, 5, 11, 21), urgency=5)
    report = sla.check_targets(session, app.config, now=local(2026, 5, 11, 22, 5))
    assert report.escalated == [ticket.id]


def test_paused_and_resolved_tickets_are_not_chased(app, session) -> None:
    t0 = MONDAY_10_SHANGHAI
    make_user(session, role="lead")
    waiting = started(session, app.config, at=t0, urgency=5)
    sla.pause_clock(waiting, now=t0 + timedelta(minutes=10))
    waiting.status = "waiting"
    done = started(session, app.config, at=t0, urgency=5)
    sla.stop_clock(done, app.config, now=t0 + timedelta(minutes=20))
    done.status = "resolved"
    session.flush()
    report = sla.check_targets(session, app.config, now=t0 + timedelta(hours=5))
    assert report.warned == [] and report.escalated == []


def test_first_response_switches_to_the_resolution_target(app, session) -> None:
    t0 = MONDAY_10_SHANGHAI
    make_user(session, role="lead")
    ticket = started(session, app.config, at=t0, urgency=5)  # 1 h / 24 h
    sla.check_targets(session, app.config, now=t0 + timedelta(hours=2))
    assert ticket.escalated_at is not None
    sla.record_first_response(ticket, app.config, now=t0 + timedelta(hours=2))
    assert ticket.escalated_at is None and ticket.sla_warned_at is None
    assert sla.first_response_met(ticket) is False
    assert ticket.sla_warn_at == t0 + timedelta(hours=18)
    assert sla.sla_state(ticket, t0 + timedelta(hours=3)) == "on_track"


def test_lower_urgency_lets_the_new_target_warn_again(app, session) -> None:
    t0 = MONDAY_10_SHANGHAI
    make_user(session, role="lead")
    ticket = started(session, app.config, at=t0, urgency=5)
    sla.check_targets(session, app.config, now=t0 + timedelta(minutes=50))
    assert ticket.sla_warned_at is not None
    ticket.urgency = 4
    sla.start_clock(ticket, app.config, now=t0 + timedelta(minutes=55))
    assert ticket.sla_warned_at is None
    assert ticket.first_response_due_at == t0 + timedelta(hours=4)


def test_services_run_the_check_periodically(app) -> None:
    app.config["SLA_CHECK_SECONDS"] = 42
    tasks = sla.services(app)
    assert [t.name for t in tasks] == ["sla-check", "notification-digest"]
    assert all(isinstance(t, PeriodicTask) and t.interval == 42 for t in tasks)


def test_sla_check_command(app, session, database_url, tmp_path) -> None:
    from support.cli import cli

    make_user(session, role="lead", email="lead@example.com")
    ticket = started(session, app.config, at=MONDAY_10_SHANGHAI, urgency=5)
    session.commit()
    instance = tmp_path / "cli-instance"
    instance.mkdir()
    (instance / "config.toml").write_text(
        f'secret_key = "cli-test-secret"\ndatabase_url = "{database_url}"\n'
    )
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--instance", str(instance), "sla-check", "--now", "2026-05-04T13:00:00+08:00"]
    )
    assert result.exit_code == 0, result.output
    assert "1 escalated" in result.output
    session.expire_all()
    assert session.get(Ticket, ticket.id).escalated_at is not None


@pytest.mark.parametrize(
    ("level", "on_track_left", "due_soon_left"),
    [
        (5, timedelta(minutes=31), timedelta(minutes=26)),
        (2, timedelta(hours=7), timedelta(hours=6)),
    ],
)
def test_due_soon_is_the_last_quarter_but_at_least_half_an_hour_on_a_short_target(
    app, session, level: int, on_track_left: timedelta, due_soon_left: timedelta
) -> None:
    # A trial: an emergency (60 min) with 26 of its minutes left showed "On track" and the
    # dashboard counted 0 due soon: a quarter of an hour is no warning for an emergency. The
    # badge, the inbox/dashboard counts and the warning job read the one stored warn time.
    t0 = MONDAY_10_SHANGHAI
    make_user(session, role="lead")
    ticket = started(session, app.config, at=t0, urgency=level, first_response_at=None)
    due = ticket.first_response_due_at
    assert sla.sla_state(ticket, due - on_track_left) == "on_track"
    now = due - due_soon_left
    assert sla.sla_state(ticket, now) == "due_soon"
    due_soon = select(Ticket.id).where(sla.state_clause("due_soon", now))
    assert session.scalars(due_soon).all() == [ticket.id]
    assert sla.check_targets(session, app.config, now=now).warned == [ticket.id]
