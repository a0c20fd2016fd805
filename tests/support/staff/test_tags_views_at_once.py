"""Two agents at once on one ticket's tags, or one agent in two tabs on their saved views: the
second begins while the first has written and not yet committed. The limits (MAX_TAGS,
MAX_VIEWS) and the "there already" answers hold as they do one after the other. PostgreSQL
runs writers side by side (without the locks, the second read the count before the first
committed: eleven tags, 21 views, a 500 for the same tag); SQLite's writers take turns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from support.desk import saved_views, tags
from support.desk.actions import ActionError
from support.desk.models import SavedView, Ticket, TicketTag, User
from tests.factories import make_ticket, make_user


def _waiting_or_done(db, thread: threading.Thread, backend: list[int]) -> None:
    """Return once ``thread`` has finished or its session waits for a lock (PostgreSQL's
    pg_stat_activity). SQLite shows no waiter: its second writer waits at its first statement
    whatever the code does, so a moment's start is all it needs."""
    if db.dialect != "postgresql":
        thread.join(0.3)
        return
    deadline = time.monotonic() + 30
    while thread.is_alive() and time.monotonic() < deadline:
        with db.engine.connect() as connection:
            waiting = connection.scalar(
                text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": backend[0]},
            )
        if waiting:
            return
        time.sleep(0.02)


def _interleaved(app, db, first: Callable[[Session], Any], second: Callable[[Session], Any]):
    """``first`` in one session, left uncommitted while ``second`` runs in another session (a
    thread); the first commits once the second has finished or waits for a lock, then the
    second commits. Returns the second's answer, or the exception it raised."""
    outcome: list[Any] = []
    backend: list[int] = []
    started = threading.Event()

    def run_second() -> None:
        with app.test_request_context("/?lang=en"), db.sessionmaker() as session:
            try:
                if db.dialect == "postgresql":
                    backend.append(session.scalar(text("SELECT pg_backend_pid()")))
                started.set()
                outcome.append(second(session))
                session.commit()
            except Exception as error:  # the answer under test
                session.rollback()
                outcome.append(error)
            finally:
                started.set()

    with app.test_request_context("/?lang=en"), db.sessionmaker() as session:
        first(session)
        session.flush()
        thread = threading.Thread(target=run_second)
        thread.start()
        assert started.wait(30)
        _waiting_or_done(db, thread, backend)
        session.commit()
    thread.join(60)
    assert not thread.is_alive()
    return outcome[0]


@pytest.fixture
def tagged(session) -> tuple[int, int, int]:
    """A ticket with room for one more tag, and two agents of its department."""
    one, other = make_user(session), make_user(session)
    ticket = make_ticket(session, subject="Kettle")
    for n in range(tags.MAX_TAGS - 1):
        session.add(TicketTag(ticket_id=ticket.id, tag=f"t{n}"))
    session.commit()
    return ticket.id, one.id, other.id


def _adding(ticket_id: int, user_id: int, typed: str) -> Callable[[Session], Any]:
    def add(session: Session) -> Any:
        ticket, user = session.get(Ticket, ticket_id), session.get(User, user_id)
        assert ticket is not None and user is not None
        return tags.add_tag(session, ticket, user, typed)

    return add


def test_two_agents_adding_the_last_tag_at_once_keep_the_limit(app, db, session, tagged) -> None:
    ticket_id, one, other = tagged
    second = _interleaved(
        app, db, _adding(ticket_id, one, "refund"), _adding(ticket_id, other, "k200")
    )
    assert isinstance(second, tags.TagRefused) and "at most" in str(second)
    count = session.scalar(select(func.count()).where(TicketTag.ticket_id == ticket_id))
    assert count == tags.MAX_TAGS


def test_two_agents_adding_the_same_tag_at_once_add_it_once(app, db, session, tagged) -> None:
    ticket_id, one, other = tagged
    second = _interleaved(
        app, db, _adding(ticket_id, one, "refund"), _adding(ticket_id, other, "#Refund")
    )
    assert second is None  # "the ticket has that tag already", not a failed request
    found = session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id)).all()
    assert sorted(found).count("refund") == 1


@pytest.fixture
def viewer(session) -> int:
    """An agent with room for one more saved view."""
    agent = make_user(session)
    for n in range(saved_views.MAX_VIEWS - 1):
        session.add(SavedView(user_id=agent.id, name=f"View {n}", inbox_key="service", filters={}))
    session.commit()
    return agent.id


def _saving(user_id: int, name: str) -> Callable[[Session], Any]:
    def save(session: Session) -> Any:
        user = session.get(User, user_id)
        assert user is not None
        return saved_views.save_view(session, user, name, "service", {"tag": "refund"})

    return save


@pytest.mark.parametrize(
    ("names", "refusal"),
    [(("Refunds", "Late parcels"), "at most"), (("Refunds", "REFUNDS"), "already")],
)
def test_two_tabs_saving_a_view_at_once_keep_the_limit_and_the_names(
    app, db, session, viewer, names, refusal
) -> None:
    first, second = names
    answer = _interleaved(app, db, _saving(viewer, first), _saving(viewer, second))
    assert isinstance(answer, ActionError) and refusal in str(answer)
    kept = session.scalars(select(SavedView.name).where(SavedView.user_id == viewer)).all()
    assert len(kept) == saved_views.MAX_VIEWS and first in kept and second not in kept
