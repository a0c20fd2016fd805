"""The worker keeps reference data between its transactions, and staff changes still reach it."""

from __future__ import annotations

from sqlalchemy import select, update

from mailrouter.intake import queue
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from mailrouter.routing.decisions import active_departments
from support.core.db import Database
from support.core.reference_cache import REFERENCE_CACHE, REFERENCE_TTL_SECONDS, ReferenceCache
from support.core.tables import table_of
from support.desk.models import Department, Ticket
from tests.factories import make_ticket, make_user
from tests.mailrouter.conftest import make_mail


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _worker(app) -> tuple[Worker, _Clock]:
    worker = Worker(app, retry_base_seconds=0, prepare_process=False)
    clock = _Clock()
    worker.reference_cache.clock = clock
    return worker, clock


def _department_of_new_mail(session, worker: Worker) -> str | None:
    """Queue a mail to sales@, let the worker process it; the code of its ticket's department."""
    inbound = queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(to="sales@example.com", subject="A quote for 40 kettles"),
        envelope_from="buyer@example.net",
        envelope_to=["sales@example.com"],
        department_code="sales",
    )
    session.commit()
    assert worker.run_until_idle() == 1
    ticket_id = session.scalar(select(InboundMail.ticket_id).where(InboundMail.id == inbound.id))
    code = session.scalar(
        select(Department.code)
        .join(Ticket, Ticket.department_id == Department.id)
        .where(Ticket.id == ticket_id)
    )
    session.commit()
    return code


def test_the_worker_reads_reference_data_once_for_many_transactions(app, session) -> None:
    make_user(session, departments=("sales",))  # notified of each new sales ticket
    make_user(session, role="lead", departments=(), can_triage=True)
    session.commit()
    worker, _clock = _worker(app)
    assert _department_of_new_mail(session, worker) == "sales"
    loads = worker.reference_cache.loads
    assert loads >= 3  # departments, urgency levels, our addresses (at least)
    for _ in range(3):
        assert _department_of_new_mail(session, worker) == "sales"
    assert worker.reference_cache.loads == loads


def test_a_department_changed_on_another_host_reaches_the_worker_within_the_ttl(
    app, session
) -> None:
    worker, clock = _worker(app)
    assert _department_of_new_mail(session, worker) == "sales"
    # Another host: its own engine and a plain UPDATE, so nothing in this process hears of it.
    other = Database(app.config["DATABASE_URL"])
    try:
        with other.engine.begin() as conn:
            conn.execute(
                update(table_of(Department))
                .where(Department.code == "sales")
                .values(is_active=False)
            )
    finally:
        other.dispose()
    clock.now += REFERENCE_TTL_SECONDS / 2
    assert _department_of_new_mail(session, worker) == "sales"  # nothing told this worker yet
    clock.now += REFERENCE_TTL_SECONDS / 2
    assert _department_of_new_mail(session, worker) != "sales"


def test_a_department_changed_in_this_process_reaches_the_worker_at_once(app, session) -> None:
    worker, _clock = _worker(app)
    assert _department_of_new_mail(session, worker) == "sales"
    sales = session.scalar(select(Department).where(Department.code == "sales"))
    sales.is_active = False  # as the staff page does, in the same process (`support run`)
    session.commit()
    assert _department_of_new_mail(session, worker) != "sales"
    sales.is_active = True
    session.commit()
    assert _department_of_new_mail(session, worker) == "sales"


def test_a_transaction_gets_copies_of_only_the_departments_it_uses(app, db) -> None:
    """On PostgreSQL every message is a transaction: copying all five departments (and their
    members) into each one was most of what the kept reference data still cost."""
    with db.session() as session:
        make_user(session, departments=("sales",))
    cache = ReferenceCache()
    with db.session() as session:
        session.info[REFERENCE_CACHE] = cache
        read = active_departments(session)
        assert read["sales"].code == "sales"  # the first read loads them all
    with db.session() as session:
        session.info[REFERENCE_CACHE] = cache
        kept = active_departments(session)
        assert cache.loads == 1  # kept, not read again
        assert "service" in kept and len(kept) == len(read) and set(kept) == set(read)
        assert not [o for o in session.identity_map.values() if isinstance(o, Department)]
        sales = kept["sales"]
        assert sales in session and kept.get("sales") is sales  # one copy per transaction
        assert [u.email for u in sales.members] == [u.email for u in read["sales"].members]
        in_session = {o.code for o in session.identity_map.values() if isinstance(o, Department)}
        assert in_session == {"sales"}
        ticket = make_ticket(session)
        ticket.department = sales  # usable as the transaction's own object
    with db.session() as session:
        assert session.get(Ticket, ticket.id).department.code == "sales"


def test_the_admins_notified_when_nobody_works_the_department_are_reference_data(
    app, session
) -> None:
    """A desk of admins only (as `support init` makes it): each new ticket notifies them, read
    once for many transactions like the triage staff, and a change in this process is seen at
    once."""
    from sqlalchemy import event

    from support.desk.models import OutboundMail

    admin = make_user(session, role="admin", departments=())
    session.commit()
    worker, _clock = _worker(app)
    statements: list[str] = []
    engine = session.get_bind()

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            _department_of_new_mail(session, worker)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    admin_reads = [s for s in statements if "FROM users" in s and "users.role =" in s]
    assert len(admin_reads) == 1
    notices = session.scalars(select(OutboundMail).where(OutboundMail.kind != "auto_reply")).all()
    assert [n.recipients for n in notices] == [[admin.email]] * 3
    admin.is_active = False  # the staff page, in this process
    session.commit()
    before = len(notices)
    _department_of_new_mail(session, worker)
    notices = session.scalars(select(OutboundMail).where(OutboundMail.kind != "auto_reply")).all()
    assert len(notices) == before  # nobody left to notify
