"""Loop and flood protection: windows, daily caps, bursts, and two workers at once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import event, func, select

from mailrouter.flood import (
    ALLOWED,
    ALREADY_REPLIED,
    DAILY_LIMIT,
    FLOOD,
    WINDOW,
    FloodDecision,
    clear_flood_flag,
    decide_auto_reply,
    recent_message_count,
)
from mailrouter.intake.queue import store_inbound
from mailrouter.models import SenderActivity
from support.core.db import utcnow
from support.desk.models import AuditEvent, Customer
from support.desk.outbox import enqueue_mail
from tests.factories import make_customer, make_ticket

ADDRESS = "li.wei@example.cn"


def reserve_auto_reply(session, address: str, **options) -> FloodDecision:
    """The decision and what it writes (the auto-reply writes it once its mail is composed)."""
    decision = decide_auto_reply(session, address, **options)
    decision.record(session)
    return decision


def settings(app, **changes) -> dict:
    return {**app.config, **changes}


def test_one_auto_reply_per_sender_per_window(app, session):
    config = settings(app, AUTOREPLY_WINDOW_HOURS=4.0)
    now = utcnow()

    first = reserve_auto_reply(session, ADDRESS, ticket_id=1, config=config, now=now)
    second = reserve_auto_reply(
        session, ADDRESS.upper(), ticket_id=2, config=config, now=now + timedelta(hours=3)
    )
    later = reserve_auto_reply(
        session, ADDRESS, ticket_id=3, config=config, now=now + timedelta(hours=4, minutes=1)
    )

    assert first.reason == ALLOWED
    assert second.reason == WINDOW and not second.allowed
    assert later.allowed


def test_never_a_second_auto_reply_on_one_ticket(app, session):
    ticket = make_ticket(session, customer=make_customer(session, email=ADDRESS))
    enqueue_mail(
        session,
        ticket=ticket,
        kind="auto_reply",
        to=[ADDRESS],
        subject="We have your message",
        text="Thank you.",
        automatic=True,
        config=app.config,
    )

    decision = reserve_auto_reply(
        session, ADDRESS, ticket_id=ticket.id, config=app.config, now=utcnow() + timedelta(days=9)
    )

    assert decision.reason == ALREADY_REPLIED


def test_daily_cap_per_sender(app, session):
    config = settings(app, AUTOREPLY_WINDOW_HOURS=0.0, AUTOREPLY_MAX_PER_DAY=3)
    # 02:00 in Shanghai, so the next three hours stay on the same company day.
    start = utcnow().replace(hour=18, minute=0, second=0, microsecond=0)

    decisions = [
        reserve_auto_reply(
            session, ADDRESS, ticket_id=n, config=config, now=start + timedelta(minutes=n)
        )
        for n in range(1, 5)
    ]
    next_day = reserve_auto_reply(
        session, ADDRESS, ticket_id=9, config=config, now=start + timedelta(days=1)
    )

    assert [d.reason for d in decisions] == [ALLOWED, ALLOWED, ALLOWED, DAILY_LIMIT]
    assert next_day.allowed


def burst(session, count: int) -> None:
    for n in range(count):
        store_inbound(
            session,
            channel="smtp",
            raw=f"From: {ADDRESS}\r\nSubject: ping {n}\r\n\r\nping\r\n".encode(),
            envelope_from=ADDRESS,
            envelope_to=["service@example.com"],
        )


def test_burst_stops_auto_replies_and_flags_the_sender_for_staff(app, session):
    config = settings(app, AUTOREPLY_BURST_COUNT=5, AUTOREPLY_BURST_MINUTES=10)
    customer = make_customer(session, email=ADDRESS)
    burst(session, 5)

    first = reserve_auto_reply(session, ADDRESS, ticket_id=1, config=config)
    again = reserve_auto_reply(session, ADDRESS, ticket_id=2, config=config)
    hours_later = reserve_auto_reply(
        session, ADDRESS, ticket_id=3, config=config, now=utcnow() + timedelta(hours=30)
    )

    assert first.reason == FLOOD and "5 messages" in first.detail
    assert again.reason == FLOOD
    assert hours_later.reason == FLOOD  # flagged until staff look at it
    assert session.get(Customer, customer.id).flood_flagged_at is not None
    flags = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sender_flood_flagged")
    ).all()
    assert len(flags) == 1 and flags[0].subject_id == customer.id

    assert clear_flood_flag(session, ADDRESS)
    cleared = reserve_auto_reply(
        session, ADDRESS, ticket_id=4, config=config, now=utcnow() + timedelta(hours=30)
    )
    assert cleared.allowed


def test_fewer_messages_than_a_burst_are_no_flood(app, session):
    config = settings(app, AUTOREPLY_BURST_COUNT=5, AUTOREPLY_BURST_MINUTES=10)
    burst(session, 4)

    assert reserve_auto_reply(session, ADDRESS, ticket_id=1, config=config).allowed


def test_two_workers_at_once_send_one_auto_reply(app, db):
    """Both workers check the same sender at the same moment; the row lock lets one through."""
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker(ticket_id: int) -> None:
        try:
            with db.session() as session:
                barrier.wait(timeout=60)
                decision = reserve_auto_reply(
                    session, ADDRESS, ticket_id=ticket_id, config=app.config
                )
                results.append(decision.reason)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == [ALLOWED, WINDOW]
    with db.session() as session:
        rows = session.scalar(select(func.count()).select_from(SenderActivity))
    assert rows == 1


def _plans_of_sender_counts(db) -> list[str]:
    """The database's plan for each statement recent_message_count runs, as one string each."""
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN IMMEDIATE
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as session:
            recent_message_count(session, ADDRESS.upper(), utcnow() - timedelta(minutes=10))
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    plans = []
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            # Small test tables are cheaper to scan; ask whether the index can serve the query.
            conn.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN "
        for statement, parameters in statements:
            rows = conn.exec_driver_sql(explain + statement, parameters).all()
            plans.append(" | ".join(str(part) for row in rows for part in row))
    return plans


def test_sender_counts_seek_the_sender_indexes(app, db, session):
    """Counted for every auto-reply: the counts must use lower(sender) indexes, not scan tables."""
    make_ticket(session, customer=make_customer(session, email=ADDRESS))
    burst(session, 3)
    session.commit()

    plans = _plans_of_sender_counts(db)

    assert len(plans) == 1, plans  # one statement, one count per table
    assert _seeks(db.dialect, plans[0], "ix_inbound_sender_received", "envelope_from"), plans[0]
    assert _seeks(db.dialect, plans[0], "ix_messages_sender_direction_created", "from_address"), (
        plans[0]
    )


def _seeks(dialect: str, plan: str, index: str, column: str) -> bool:
    """Whether the plan looks the sender up in `index` (not a scan of the table or the index)."""
    if dialect == "sqlite":
        return f"USING INDEX {index} (<expr>=?" in plan
    return index in plan and f"Index Cond: ((lower(({column})::text) = " in plan
