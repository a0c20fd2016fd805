"""Undoing a merge (support.desk.merging): both tickets exactly as before, for a while, and only
while nothing else happened on either of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from support.core.db import utcnow
from support.desk import actions, merging
from support.desk.models import AuditEvent, Message, Ticket
from support.desk.sla import start_clock
from tests.factories import make_customer, make_ticket, make_user

COMPARED = (*merging.SNAPSHOT_FIELDS,)


def _state(ticket: Ticket) -> dict:
    return {name: getattr(ticket, name) for name in COMPARED}


def _message_ids(session, ticket: Ticket) -> set[int]:
    return set(session.scalars(select(Message.id).where(Message.ticket_id == ticket.id)))


@pytest.fixture
def pair(app, session):
    """A resolved ticket and a newer, more urgent duplicate of the same customer with a note,
    a first reply and a snooze: a merge reopens the first and raises it."""
    agent = make_user(session)
    customer = make_customer(session, name="Alice Brown")
    hours_ago = utcnow() - timedelta(hours=5)
    kept = make_ticket(session, customer=customer, subject="Kettle", created_at=hours_ago)
    start_clock(kept, app.config, now=hours_ago)
    kept.status, kept.resolved_at = "resolved", utcnow() - timedelta(hours=1)
    kept.messages[0].created_at = hours_ago
    earlier = utcnow() - timedelta(minutes=40)  # all before the (back-dated) merges below
    again = make_ticket(
        session, customer=customer, subject="Kettle (again)", urgency=4, created_at=earlier
    )
    again.messages[0].created_at = earlier
    start_clock(again, app.config, now=again.created_at)
    again.first_response_at = utcnow() - timedelta(minutes=5)
    again.snoozed_until = utcnow() + timedelta(days=1)
    again.sla_paused_at = utcnow() - timedelta(minutes=2)
    again.sla_paused_seconds = 17
    again.status = "waiting"
    actions.add_note(
        session, again, agent, "Called her: same kettle.", now=utcnow() - timedelta(minutes=30)
    )
    session.commit()
    return agent, kept, again


def test_undo_restores_both_tickets_messages_and_notes_exactly(app, session, pair) -> None:
    agent, kept, again = pair
    before_kept, before_again = _state(kept), _state(again)
    kept_messages, again_messages = _message_ids(session, kept), _message_ids(session, again)
    with app.test_request_context("/?lang=en"):
        merging.merge(session, again, agent, kept, app.config)
        session.commit()
        assert kept.status == "open" and kept.urgency == 4  # reopened and raised by the merge
        assert _message_ids(session, kept) == kept_messages | again_messages
        assert [u.source.id for u in merging.undoable_merges(session, agent, kept)] == [again.id]

        target = merging.undo_merge(session, again, agent)
        session.commit()
    assert target.id == kept.id
    session.expire_all()
    kept, again = session.get(Ticket, kept.id), session.get(Ticket, again.id)
    assert _state(kept) == before_kept
    assert _state(again) == before_again  # its status, pause, snooze and due times
    assert kept.urgency_level.level == before_kept["urgency"]
    assert _message_ids(session, kept) == kept_messages
    assert _message_ids(session, again) == again_messages  # the note came back too
    for ticket, other in ((kept, again), (again, kept)):
        undone = session.scalar(
            select(AuditEvent).where(
                AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.merge_undone"
            )
        )
        assert undone is not None and undone.data["reference"] == other.reference
        assert undone.actor_id == agent.id


def test_undo_is_refused_after_new_activity_or_the_window_or_twice(app, session, pair) -> None:
    agent, kept, again = pair
    with app.test_request_context("/?lang=en"):
        merged_at = utcnow()
        merging.merge(session, again, agent, kept, app.config, now=merged_at)
        session.commit()
        # A colleague wrote a note on the kept ticket a minute later: undoing would lose where
        # it belongs, so the merge stays.
        actions.add_note(
            session, kept, agent, "Parts ordered.", now=merged_at + timedelta(minutes=1)
        )
        session.commit()
        with pytest.raises(actions.ActionError, match="something happened"):
            merging.undo_merge(session, again, agent, now=merged_at + timedelta(minutes=2))
        session.rollback()
        assert merging.undoable_merges(session, agent, kept, merged_at + timedelta(minutes=2)) == []


def test_undo_is_refused_after_ten_minutes(app, session, pair) -> None:
    agent, kept, again = pair
    with app.test_request_context("/?lang=en"):
        merged_at = utcnow() - timedelta(minutes=11)
        merging.merge(session, again, agent, kept, app.config, now=merged_at)
        session.commit()
        with pytest.raises(actions.ActionError, match="10 minutes"):
            merging.undo_merge(session, again, agent)
        session.rollback()
        merging.undo_merge(session, again, agent, now=merged_at + timedelta(minutes=9))
        session.commit()
        with pytest.raises(actions.ActionError, match="not merged"):
            merging.undo_merge(session, again, agent, now=merged_at + timedelta(minutes=9))


def test_undo_needs_access_to_both_tickets(app, session, pair) -> None:
    agent, kept, again = pair
    sales = make_user(session, departments=("sales",))
    with app.test_request_context("/?lang=en"):
        merging.merge(session, again, agent, kept, app.config)
        session.commit()
        assert merging.undoable_merges(session, sales, kept) == []
        with pytest.raises(actions.ActionError, match="cannot work"):
            merging.undo_merge(session, again, sales)
        session.rollback()
        # Seeing the kept ticket only (it was assigned to them) is not enough either.
        kept.assignee_id = sales.id
        session.commit()
        assert merging.undoable_merges(session, sales, kept) == []
        with pytest.raises(actions.ActionError, match="cannot work"):
            merging.undo_merge(session, again, sales)
