"""Snooze (support.desk.snooze): set aside until a time, back by the periodic job or the
customer's next mail, never hiding an unanswered customer or stopping the response clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from mailrouter.intake.staff_replies import staff_reply_target
from mailrouter.parsing import parse_message
from support.app import periodic_services
from support.core.db import utcnow
from support.desk import actions, sla, snooze
from support.desk.models import AuditEvent, Ticket
from support.desk.sla import start_clock
from support.staff.inbox import InboxFilters, InboxView, inbox_page, nav_counts
from tests.factories import department, make_ticket, make_user
from tests.mailrouter.conftest import make_mail, queue_and_process
from tests.mailrouter.intake.test_staff_replies import _staff_reply
from tests.support.staff_helpers import mail_text, outbound

SHANGHAI = {"COMPANY_TIMEZONE": "Asia/Shanghai"}


def test_presets_end_at_nine_in_the_companys_zone() -> None:
    # Saturday 2026-12-05 23:30 in Shanghai (15:30 UTC).
    now = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
    assert snooze.preset_time("tomorrow", now, SHANGHAI) == datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    assert snooze.preset_time("three_days", now, SHANGHAI) == datetime(
        2026, 12, 8, 1, 0, tzinfo=UTC
    )
    # Next week: Monday morning, also from a Sunday (not the same day's 9:00).
    assert snooze.preset_time("next_week", now, SHANGHAI) == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    sunday = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
    assert snooze.preset_time("next_week", sunday, SHANGHAI) == datetime(
        2026, 12, 7, 1, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        snooze.preset_time("forever", now, SHANGHAI)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-12-08T14:30", datetime(2026, 12, 8, 6, 30, tzinfo=UTC)),
        ("2026-12-08T14:30:00", datetime(2026, 12, 8, 6, 30, tzinfo=UTC)),
        ("2026-12-08T14:30+00:00", None),  # the field never sends a zone: not ours
        ("tomorrow", None),
        ("", None),
        ("2026-12-08T14:30" + "0" * 100, None),
    ],
)
def test_a_custom_time_is_read_in_the_companys_zone(typed, expected) -> None:
    assert snooze.local_time(typed, SHANGHAI) == expected


@pytest.fixture
def answered(app, session):
    agent = make_user(session)
    created = utcnow() - timedelta(hours=2)
    ticket = make_ticket(session, subject="Parts on order", created_at=created)
    start_clock(ticket, app.config, now=created)
    ticket.first_response_at = created + timedelta(minutes=30)
    ticket.status = "open"
    session.commit()
    return agent, ticket


def _events(session, ticket: Ticket, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == action)
        )
    )


def test_no_snooze_before_the_first_reply_or_out_of_bounds(app, session, answered) -> None:
    agent, ticket = answered
    fresh = make_ticket(session, subject="Unanswered")
    session.commit()
    now = utcnow()
    with app.test_request_context("/?lang=en"):
        with pytest.raises(actions.ActionError, match="first reply"):
            snooze.snooze(session, fresh, agent, now + timedelta(days=1), now=now)
        with pytest.raises(actions.ActionError, match="future"):
            snooze.snooze(session, ticket, agent, now - timedelta(minutes=5), now=now)
        with pytest.raises(actions.ActionError, match="90 days"):
            snooze.snooze(session, ticket, agent, now + timedelta(days=91), now=now)
        outsider = make_user(session, departments=("sales",))
        with pytest.raises(actions.ActionError, match="cannot work"):
            snooze.snooze(session, ticket, outsider, now + timedelta(days=1), now=now)
    assert fresh.snoozed_until is None and ticket.snoozed_until is None


def test_a_snoozed_ticket_leaves_the_open_queue_and_the_job_brings_it_back(
    app, session, answered
) -> None:
    agent, ticket = answered
    other = make_ticket(session, subject="Still here")
    session.commit()
    view = InboxView("service", "department", department(session))
    now = utcnow()

    def queue_ids(status: str = "open") -> list[int]:
        filters = InboxFilters(status=status)
        return [t.id for t in inbox_page(session, agent, view, filters, now).tickets]

    with app.test_request_context("/?lang=en"):
        assert set(queue_ids()) == {ticket.id, other.id}
        snooze.snooze(session, ticket, agent, now + timedelta(hours=3), now=now)
        session.commit()
        assert queue_ids() == [other.id]
        assert queue_ids("snoozed") == [ticket.id]
        assert ticket.id in queue_ids("all")
        assert nav_counts(session, agent)["service"] == 1

        assert snooze.wake_due(session, now + timedelta(hours=2)) == []  # not yet
        assert snooze.wake_due(session, now + timedelta(hours=3)) == [ticket.id]
        session.commit()
    assert ticket.snoozed_until is None
    assert set(queue_ids()) == {ticket.id, other.id}
    [ended] = _events(session, ticket, "ticket.snooze_ended")
    assert ended.data["reason"] == "time" and ended.actor_id is None
    assert _events(session, ticket, "ticket.snoozed")[0].actor_id == agent.id


def test_the_response_clock_keeps_running_while_snoozed(app, session, answered) -> None:
    """Snoozing must not hide a breach: the check escalates a snoozed ticket as any other."""
    agent, ticket = answered
    now = utcnow()
    due = ticket.resolution_due_at
    with app.test_request_context("/?lang=en"):
        snooze.snooze(session, ticket, agent, now + timedelta(days=30), now=now)
        session.commit()
        assert ticket.resolution_due_at == due and ticket.sla_paused_at is None
        report = sla.check_targets(session, app.config, due + timedelta(minutes=1))
    assert ticket.id in report.escalated


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("state", ["due_soon", "breached"])
def test_a_snoozed_ticket_whose_target_is_due_soon_or_missed_comes_back(
    app, session, answered, level, state
) -> None:
    """A breach must surface, not wait hidden until the snooze ends: the check that warns of a
    target due soon, or escalates a missed one, brings the snoozed ticket back to the queue as
    the wake job does (its history entry, its notice to the assignee), once for each."""
    agent, ticket = answered
    ticket.assignee_id, ticket.urgency = agent.id, level
    start_clock(ticket, app.config, now=ticket.created_at)
    session.commit()
    now = utcnow()
    view = InboxView("service", "department", department(session))
    with app.test_request_context("/?lang=en"):
        snooze.snooze(session, ticket, agent, now + timedelta(days=30), now=now)
        session.commit()
        at = (ticket.sla_warn_at if state == "due_soon" else ticket.resolution_due_at) + timedelta(
            minutes=1
        )
        assert sla.sla_state(ticket, at) == state
        report = sla.check_targets(session, app.config, at)
        session.commit()
        assert ticket.id in (report.warned if state == "due_soon" else report.escalated)
        assert ticket.snoozed_until is None
        queue = inbox_page(session, agent, view, InboxFilters(status="open"), at).tickets
        assert [t.id for t in queue] == [ticket.id]
        [ended] = _events(session, ticket, "ticket.snooze_ended")
        assert ended.data["reason"] == f"target_{state}" and ended.actor_id is None
        assert ended.data["until"] == (now + timedelta(days=30)).isoformat()
        back = [m for m in outbound(session, ticket, "notification") if "暂缓结束" in m.subject]
        assert [m.recipients for m in back] == [[agent.email]]
        # Told once: snoozed again, the same state does not bring it back a second time.
        snooze.snooze(session, ticket, agent, at + timedelta(days=3), now=at)
        session.commit()
        sla.check_targets(session, app.config, at + timedelta(minutes=5))
        session.commit()
    assert ticket.snoozed_until == at + timedelta(days=3)
    assert len(_events(session, ticket, "ticket.snooze_ended")) == 1


def test_resolving_ends_a_snooze(app, session, answered) -> None:
    agent, ticket = answered
    with app.test_request_context("/?lang=en"):
        snooze.snooze(session, ticket, agent, utcnow() + timedelta(days=1))
        actions.resolve(session, ticket, agent, app.config, survey=False)
        session.commit()
    assert ticket.snoozed_until is None


def test_the_wake_job_runs_once_per_deployment_under_a_lease(app) -> None:
    [task] = [t for t in periodic_services(app) if getattr(t, "name", "") == "snooze-wake"]
    assert task.lease is not None  # every host may run it; one holds the lease


def test_the_customers_next_mail_wakes_a_snoozed_ticket(app, session) -> None:
    customer = "Wang Fang <wang.fang@example.net>"
    raw = make_mail(sender=customer, subject="Kettle", message_id="<k1@mail.example.net>")
    ticket = queue_and_process(app, session, raw)
    ticket.first_response_at = utcnow()
    ticket.snoozed_until = utcnow() + timedelta(days=3)
    session.commit()
    ticket_id = ticket.id
    reply = make_mail(sender=customer, subject="Re: Kettle", in_reply_to="<k1@mail.example.net>")
    ticket = queue_and_process(app, session, reply)
    assert ticket.id == ticket_id and len(ticket.messages) == 2  # the reply joined the ticket
    assert ticket.snoozed_until is None
    [ended] = _events(session, ticket, "ticket.snooze_ended")
    assert ended.data["reason"] == "customer" and ended.actor_label == "customer"


def test_the_assignee_is_told_by_mail_when_the_snooze_ends(app, session, answered) -> None:
    """The wake job mails the assignee (in their language), answerable as the other notices
    are; an unassigned ticket tells nobody, and a ticket closed meanwhile is not announced."""
    agent, ticket = answered
    agent.language = "zh"
    ticket.assignee_id = agent.id
    unassigned = make_ticket(session, subject="Nobody's")
    unassigned.first_response_at = utcnow()
    session.commit()
    now = utcnow()
    with app.app_context():
        snooze.snooze(session, ticket, agent, now + timedelta(hours=3), now=now)
        snooze.snooze(session, unassigned, agent, now + timedelta(hours=3), now=now)
        session.commit()
        assert snooze.wake_due(session, now + timedelta(hours=2)) == []
        assert outbound(session, ticket, "notification") == []  # not before it wakes
        woken = snooze.wake_due(session, now + timedelta(hours=3), app.config)
        session.commit()
    assert sorted(woken) == sorted([ticket.id, unassigned.id])
    [told] = outbound(session, ticket, "notification")
    assert told.recipients == [agent.email]
    assert "暂缓结束" in told.subject and "Parts on order" in told.subject
    text = mail_text(told)
    assert "现已回到您的队列" in text and f"/staff/tickets/{ticket.id}" in text
    assert outbound(session, unassigned, "notification") == []
    reply = parse_message(_staff_reply(told, agent.email, "已经寄出零件。"))
    assert staff_reply_target(session, reply, app.config) == (agent, ticket)


def test_a_ticket_resolved_while_snoozed_sends_no_wake_notice(app, session, answered) -> None:
    agent, ticket = answered
    ticket.assignee_id = agent.id
    session.commit()
    now = utcnow()
    with app.app_context():
        snooze.snooze(session, ticket, agent, now + timedelta(hours=3), now=now)
        ticket.status = "resolved"  # as a script or an old row might leave it
        session.commit()
        assert snooze.wake_due(session, now + timedelta(hours=4), app.config) == [ticket.id]
        session.commit()
    assert outbound(session, ticket, "notification") == []


@pytest.mark.parametrize("level", [4, 5])
def test_important_and_emergency_tickets_are_never_snoozed(app, session, answered, level) -> None:
    """An emergency snoozed for three days with no second look: the customer-service rule is
    that important and emergency tickets are handled now. Refused, saying what to do instead."""
    agent, ticket = answered
    ticket.urgency = level
    session.commit()
    now = utcnow()
    with app.test_request_context("/?lang=en"):
        for until in (now + timedelta(hours=2), snooze.preset_time("three_days", now, {})):
            with pytest.raises(actions.ActionError, match="Wait for customer"):
                snooze.snooze(session, ticket, agent, until, now=now)
    assert ticket.snoozed_until is None and not _events(session, ticket, "ticket.snoozed")


def test_raising_a_snoozed_ticket_to_important_brings_it_back(app, session, answered) -> None:
    agent, ticket = answered
    now = utcnow()
    with app.test_request_context("/?lang=en"):
        snooze.snooze(session, ticket, agent, now + timedelta(days=3), now=now)
        actions.change_urgency(session, ticket, agent, 3, app.config)
        assert ticket.snoozed_until is not None  # "special problem": the snooze stands
        actions.change_urgency(session, ticket, agent, 5, app.config)
        session.commit()
    assert ticket.snoozed_until is None
    [ended] = _events(session, ticket, "ticket.snooze_ended")
    assert ended.data["reason"] == "urgency" and ended.actor_id == agent.id


def test_the_wake_job_brings_back_a_snoozed_urgent_ticket_at_once(app, session, answered) -> None:
    """A snooze from before the rule, or one a merge raised to an emergency, does not wait for
    its time: the next run of the wake-up job brings it back."""
    agent, ticket = answered
    now = utcnow()
    with app.test_request_context("/?lang=en"):
        snooze.snooze(session, ticket, agent, now + timedelta(days=3), now=now)
        ticket.urgency = 5  # as a merge or an older snooze leaves it
        session.commit()
        assert snooze.wake_due(session, now + timedelta(minutes=1)) == [ticket.id]
        session.commit()
    assert ticket.snoozed_until is None
    [ended] = _events(session, ticket, "ticket.snooze_ended")
    assert ended.data["reason"] == "urgency"
