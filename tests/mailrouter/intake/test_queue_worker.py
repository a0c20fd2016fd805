"""The durable queue and its workers: every message processed exactly once, whatever happens."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, func, insert, select, text, update
from sqlalchemy.orm import Session

from mailrouter.intake import pipeline, queue
from mailrouter.intake import views as intake_views
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from support.core.db import SQLITE_BEGIN, utcnow
from support.core.round_trips import result_unread
from support.desk.models import AuditEvent, Customer, Message, OutboundMail, Ticket
from tests.factories import make_customer, make_ticket, make_user
from tests.mailrouter.conftest import make_mail, process_all, run_cli

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _fill(session, count: int, *, senders: int | None = None) -> list[int]:
    ids = []
    for n in range(count):
        who = n % (senders or count)
        raw = make_mail(
            sender=f"Customer {who} <customer{who}@example.net>",
            subject=f"Question {n}",
            body=f"Message number {n}.",
            message_id=f"<msg-{n}@mail.example.net>",
        )
        ids.append(
            queue.store_inbound(
                session,
                channel="smtp",
                raw=raw,
                envelope_from=f"customer{who}@example.net",
                envelope_to=["support@example.com"],
            ).id
        )
    session.commit()
    return ids


def _count(session, model, *where) -> int:
    value = session.scalar(select(func.count()).select_from(model).where(*where))
    session.commit()
    return value


def _assert_each_processed_exactly_once(session, count: int) -> None:
    states = dict(
        session.execute(select(InboundMail.state, func.count()).group_by(InboundMail.state)).all()
    )
    assert states == {"processed": count}
    assert _count(session, Ticket) == count
    assert _count(session, Message, Message.direction == "in") == count
    distinct = session.scalar(select(func.count(func.distinct(Message.inbound_mail_id))))
    assert distinct == count
    doubled = session.execute(
        select(OutboundMail.ticket_id).group_by(OutboundMail.ticket_id).having(func.count() > 1)
    ).all()
    assert doubled == []  # no ticket got two auto-replies
    session.commit()


def test_two_workers_racing_never_take_the_same_message(app, session) -> None:
    _fill(session, 50, senders=25)  # two messages per new customer, to race on creation too
    workers = [Worker(app, retry_base_seconds=0) for _ in range(2)]
    done = [0, 0]
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        done[index] = workers[index].run_until_idle()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(done) == 50
    # Each row was claimed once: a second claim would have counted a second attempt.
    assert session.scalar(select(func.max(InboundMail.attempts))) == 1
    assert _count(session, Customer) == 25
    _assert_each_processed_exactly_once(session, 50)


@pytest.mark.parametrize("messages", [2, 3])
def test_two_workers_writing_one_senders_new_tickets_at_once_send_one_auto_reply(
    app, db, session, messages
) -> None:
    """On PostgreSQL the worker locks the sender's flood row with its transaction's first
    statement (``flood.SENDER_LOCK_COLUMNS``): a second worker's transaction for the same
    sender waits there until the first commits, then sees its auto-reply (the window). The
    first worker is held with the lock; without it, both would reply."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite's write transactions take turns anyway")
    app.config["WORKER_BATCH_SIZE"] = 1
    ids = _fill(session, messages, senders=1)
    first = Worker(app, retry_base_seconds=0, prepare_process=False)
    locked = threading.Event()
    holder: list[threading.Thread] = []

    def hold_the_lock(conn, cursor, statement, parameters, context, executemany) -> None:
        if "locked_sender" in statement and threading.current_thread() in holder:
            holder.clear()
            locked.set()
            time.sleep(0.5)  # the other worker's transaction starts meanwhile

    event.listen(db.engine, "after_cursor_execute", hold_the_lock)
    try:
        thread = threading.Thread(target=first.process_batch)
        holder.append(thread)
        thread.start()
        assert locked.wait(30)
        others = Worker(app, retry_base_seconds=0, prepare_process=False).run_until_idle()
        thread.join(timeout=60)
    finally:
        event.remove(db.engine, "after_cursor_execute", hold_the_lock)
    assert others == messages - 1
    assert _count(session, Ticket) == messages
    replies = session.scalars(select(OutboundMail.ticket_id)).all()
    assert len(replies) == 1, replies  # one per sender per AUTOREPLY_WINDOW_HOURS
    first_ticket = session.scalar(
        select(Message.ticket_id).where(Message.inbound_mail_id == ids[0])
    )
    assert replies == [first_ticket]  # the worker that held the lock replied
    _assert_each_processed_exactly_once(session, messages)


def test_a_new_customer_whose_number_was_assigned_already_gets_the_next_free_one(
    app, db, session
) -> None:
    """The worker on PostgreSQL writes a new customer's number (C + its key, drawn ahead) with
    the INSERT; numbers staff assigned already (an import) make that INSERT fail, and the
    customer is numbered as before, from the next free number: the mail is not lost."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite's customers get their number after the INSERT")
    last = session.scalar(text("SELECT last_value FROM customers_id_seq"))
    # The numbers the worker's next keys would give, assigned to imported customers.
    taken = {f"C{n:06d}" for n in range(last + 41, last + 81)}
    for number in sorted(taken):
        make_customer(session, number=number)
    session.commit()
    _fill(session, 3)
    done = Worker(app, retry_base_seconds=0).run_until_idle()
    assert done == 3
    _assert_each_processed_exactly_once(session, 3)
    numbers = session.scalars(
        select(Customer.number).where(Customer.email.like("customer_@example.net"))
    ).all()
    assert len(set(numbers)) == 3 and not set(numbers) & taken, numbers
    assert all(re.fullmatch(r"C\d{6}", number) for number in numbers)


def test_expired_lease_is_taken_over_and_the_late_worker_backs_off(app, session) -> None:
    [inbound_id] = _fill(session, 1)
    slow, fast = Worker(app), Worker(app)
    with slow.database.session() as s:
        [claim] = queue.claim_batch(s, worker_id=slow.worker_id, lease_seconds=300, max_attempts=3)
    assert fast.process_batch() == []  # leased: not due for anyone else

    session.execute(
        update(InboundMail).values(lease_until=utcnow() - timedelta(seconds=1))
    )  # the slow worker was killed and its lease ran out
    session.commit()
    [taken] = fast.process_batch()
    assert (taken.inbound_id, taken.state) == (inbound_id, "processed")
    # The original worker wakes up and must not process the message a second time.
    with app.app_context(), slow.database.session() as s:
        assert slow._process(s, claim).outcome == "skipped"
    row = session.get(InboundMail, inbound_id)
    assert row.attempts == 2
    assert _count(session, Ticket) == 1


@pytest.mark.parametrize("lost_by", ["takeover", "erasure"])
def test_a_prepared_message_whose_claim_was_lost_is_not_written(app, session, lost_by) -> None:
    """The claim is confirmed in the write transaction's first answer (queue.CLAIM_HELD), not
    by a query of its own: a message prepared before its claim was lost writes nothing."""
    [inbound_id] = _fill(session, 1)
    slow = Worker(app, prepare_process=False)
    with slow.database.session() as s:
        claims = queue.claim_batch(s, worker_id=slow.worker_id, lease_seconds=300, max_attempts=3)
    done: dict = {}
    prepared, _read = slow._prepare_some(claims, done, {})
    assert len(prepared) == 1 and not done
    if lost_by == "takeover":
        session.execute(update(InboundMail).values(lease_until=utcnow() - timedelta(seconds=1)))
        session.commit()
        [taken] = Worker(app).process_batch()
        assert taken.state == "processed"
    else:  # what an erasure does to mail still queued (support.desk.privacy)
        session.execute(update(InboundMail).values(state="processed", locked_by=None))
        session.commit()
    with app.app_context(), slow.database.session() as s:
        outcome = slow._process(s, claims[0], prepared[0])
        s.commit()
    assert (outcome.outcome, outcome.state) == ("skipped", "taken-over")
    assert _count(session, Ticket) == (1 if lost_by == "takeover" else 0)
    assert session.get(InboundMail, inbound_id).state == "processed"


def test_message_that_keeps_killing_workers_is_quarantined(app, session) -> None:
    [inbound_id] = _fill(session, 1)
    session.execute(
        update(InboundMail).values(
            state="processing",
            attempts=app.config["WORKER_MAX_ATTEMPTS"],
            locked_by="dead-host:123:1",
            lease_until=utcnow() - timedelta(seconds=1),
        )
    )
    session.commit()
    assert process_all(app) == 0
    row = session.get(InboundMail, inbound_id)
    assert row.state == "quarantined"
    assert "interrupted 3 times" in row.last_error


def test_a_failing_message_rolls_back_alone_and_the_rest_of_its_batch_commits(
    app, session, monkeypatch
) -> None:
    ids = _fill(session, 5)
    poison = ids[2]
    real = pipeline.process_inbound

    def failing_for_one(s, inbound, config, **kwargs):
        result = real(s, inbound, config, **kwargs)  # the work is done, then fails: roll back
        if inbound.id == poison:
            raise RuntimeError("bad message")
        return result

    monkeypatch.setattr(pipeline, "process_inbound", failing_for_one)
    batch = Worker(app, retry_base_seconds=0).process_batch()
    assert [p.inbound_id for p in batch] == ids  # one batch, in arrival order
    assert [p.state for p in batch] == ["processed"] * 2 + ["received"] + ["processed"] * 2
    assert _count(session, Ticket) == 4
    assert _count(session, Message, Message.inbound_mail_id == poison) == 0
    row = session.get(InboundMail, poison)
    assert (row.state, row.attempts) == ("received", 1)
    assert "bad message" in row.last_error
    session.commit()

    monkeypatch.undo()
    assert process_all(app) == 1
    _assert_each_processed_exactly_once(session, 5)


def test_a_write_failing_at_the_commit_fails_its_message_alone(app, session, monkeypatch) -> None:
    """On PostgreSQL the worker's writes nobody reads wait for the next answered statement
    (support.core.round_trips): one that fails shows at its message's COMMIT, and that message
    alone is rolled back and retried; the batch's next messages use the same connection."""
    ids = _fill(session, 4)
    poison = ids[1]
    real = pipeline.process_inbound
    bad_audit_row = result_unread(insert(AuditEvent.__table__))

    def failing_write_for_one(s, inbound, config, **kwargs):
        result = real(s, inbound, config, **kwargs)
        if inbound.id == poison:  # a write whose error nobody sees before the commit
            s.execute(bad_audit_row, {"action": "test", "actor_id": 987_654, "data": {}})
        return result

    monkeypatch.setattr(pipeline, "process_inbound", failing_write_for_one)
    batch = Worker(app, retry_base_seconds=0).process_batch()
    assert [p.state for p in batch] == ["processed", "received", "processed", "processed"]
    assert _count(session, Message, Message.inbound_mail_id == poison) == 0
    assert _count(session, Ticket) == 3

    monkeypatch.undo()
    assert process_all(app) == 1
    _assert_each_processed_exactly_once(session, 4)


def _commits_of_one_batch(app, monkeypatch, transaction_seconds: float) -> int:
    """Write transactions committed while a worker processes one batch (the claim's included),
    all processed; a read session's COMMIT (it only ends a snapshot) is not one."""
    from mailrouter.intake import worker as worker_module

    worker = Worker(app, retry_base_seconds=0)
    commits = []

    def count(connection) -> None:
        if connection.get_execution_options().get(SQLITE_BEGIN) != "DEFERRED":
            commits.append(1)

    event.listen(worker.database.engine, "commit", count)
    monkeypatch.setattr(worker_module, "TRANSACTION_SECONDS", transaction_seconds)
    try:
        batch = worker.process_batch()
    finally:
        event.remove(worker.database.engine, "commit", count)
    assert all(p.state == "processed" for p in batch)
    return len(commits)


def test_a_long_batch_commits_in_several_transactions(app, session, monkeypatch) -> None:
    """SQLite's write lock is held per transaction: a slow batch must not hold it throughout."""
    _fill(session, 4)
    assert _commits_of_one_batch(app, monkeypatch, 0.0) == 1 + 4  # the claim, then each message
    _assert_each_processed_exactly_once(session, 4)


def _worker_process(app, instance, log_path) -> subprocess.Popen:
    """A real `support worker` process (commands registered as the lead will in support.cli)."""
    code = (
        "from support.cli import cli; from mailrouter.intake.cli import COMMANDS; "
        "[cli.add_command(c) for c in COMMANDS]; cli(prog_name='support')"
    )
    env = {
        **os.environ,
        "SUPPORT_DATABASE_URL": app.config["DATABASE_URL"],
        "SUPPORT_SECRET_KEY": app.config["SECRET_KEY"],
        "SUPPORT_WORKER_LEASE_SECONDS": "1",
        "SUPPORT_WORKER_POLL_SECONDS": "0.1",
        "SUPPORT_FAQ_INDEX_DIR": app.config["FAQ_INDEX_DIR"],
        "SUPPORT_CLASSIFIER_MODEL_PATH": app.config["CLASSIFIER_MODEL_PATH"],
    }
    with open(log_path, "ab") as log:  # a file, not a pipe: a full pipe blocks the worker
        return subprocess.Popen(
            [sys.executable, "-c", code, "--instance", str(instance), "worker"],
            env=env,
            cwd=str(PROJECT_ROOT),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def _processed(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            select(func.count()).select_from(InboundMail).where(InboundMail.state == "processed")
        )


@pytest.mark.slow
@pytest.mark.usefixtures("model_in_instance")
def test_kill_9_mid_run_then_restart_processes_every_message_once(app, session, tmp_path) -> None:
    total = 60
    _fill(session, total)
    # A plain engine: on SQLite its reads take no write lock (the app's begins IMMEDIATE), so
    # watching cannot slow the worker down or be starved by it.
    engine = create_engine(app.config["DATABASE_URL"])
    log_path = tmp_path / "worker.log"
    first = _worker_process(app, tmp_path / "worker-instance", log_path)
    # Each worker starts Python and loads its models first: over 60 s on a loaded machine.
    try:
        deadline = time.monotonic() + 180
        while _processed(engine) < 5:
            assert first.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the worker processed nothing"
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
        at_kill = _processed(engine)
        assert at_kill < total, "the worker finished before it could be killed"

        second = _worker_process(app, tmp_path / "worker-instance", log_path)
        try:
            deadline = time.monotonic() + 180
            while _processed(engine) < total:
                assert second.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, f"stuck at {_processed(engine)} of {total}"
                time.sleep(0.05)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        assert second.returncode == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)  # else a ResourceWarning fails whichever test comes next
        engine.dispose()
    _assert_each_processed_exactly_once(session, total)


# --- staff: the quarantine page and CLI -------------------------------------------------------


@pytest.fixture
def quarantined_id(app, session) -> int:
    [inbound_id] = _fill(session, 1)
    session.execute(
        update(InboundMail).values(
            state="quarantined", attempts=3, last_error="RuntimeError: classifier model is corrupt"
        )
    )
    session.commit()
    return inbound_id


@pytest.fixture
def staff_client(app, client):
    if "quarantine" not in app.blueprints:  # until the lead registers it in create_app
        intake_views.init_app(app)
    return client


def _sign_in(app, client, role: str) -> None:
    with app.extensions["support_db"].session() as s:
        # The test mail has no department: it is for staff who may triage.
        user = make_user(s, role=role, email=f"{role}@example.com", can_triage=True)
        email = user.email
    response = client.post(
        "/staff/login", data={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 302


def test_quarantine_page_lists_shows_and_replays(
    app, session, staff_client, quarantined_id
) -> None:
    _sign_in(app, staff_client, "lead")
    page = staff_client.get("/staff/quarantine/").get_data(as_text=True)
    assert "classifier model is corrupt" in page
    assert "已隔离" in staff_client.get("/staff/quarantine/?lang=zh").get_data(as_text=True)
    assert f'/staff/quarantine/{quarantined_id}"' in page

    detail = staff_client.get(f"/staff/quarantine/{quarantined_id}").get_data(as_text=True)
    assert "Message number 0." in detail and "RuntimeError" in detail
    raw = staff_client.get(f"/staff/quarantine/{quarantined_id}/raw")
    assert raw.mimetype == "message/rfc822"
    assert raw.data == session.get(InboundMail, quarantined_id).raw
    session.commit()

    response = staff_client.post(f"/staff/quarantine/{quarantined_id}/replay")
    assert response.status_code == 302
    assert process_all(app) == 1
    row = session.get(InboundMail, quarantined_id)
    assert row.state == "processed" and row.ticket_id is not None


def test_quarantine_page_is_for_leads_only(app, staff_client, quarantined_id) -> None:
    assert staff_client.get("/staff/quarantine/").status_code == 302  # to the sign-in page
    _sign_in(app, staff_client, "agent")
    assert staff_client.get("/staff/quarantine/").status_code == 403
    assert staff_client.post(f"/staff/quarantine/{quarantined_id}/replay").status_code == 403


@pytest.mark.parametrize("app_settings", [{"WTF_CSRF_ENABLED": True}])
def test_replay_needs_a_csrf_token(app, session, staff_client, quarantined_id) -> None:
    with app.extensions["support_db"].session() as s:
        make_user(s, role="lead", email="lead@example.com")
    page = staff_client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    staff_client.post(
        "/staff/login",
        data={
            "email": "lead@example.com",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    assert staff_client.post(f"/staff/quarantine/{quarantined_id}/replay").status_code == 400
    assert session.get(InboundMail, quarantined_id).state == "quarantined"


@pytest.mark.usefixtures("model_in_instance")
def test_quarantine_cli_lists_shows_and_replays(app, session, quarantined_id) -> None:
    session.commit()
    listing = run_cli(app, "quarantine", "list")
    assert "quarantined: 1" in listing and "classifier model is corrupt" in listing
    shown = run_cli(app, "quarantine", "show", str(quarantined_id))
    assert "state: quarantined" in shown and "RuntimeError" in shown
    assert "Message number 0." in run_cli(app, "quarantine", "show", str(quarantined_id), "--raw")
    run_cli(app, "quarantine", "replay", str(quarantined_id))
    assert "processed 1 message(s)" in run_cli(app, "worker", "--until-idle")
    assert session.get(InboundMail, quarantined_id).state == "processed"


def test_new_tickets_are_written_without_the_units_of_work_they_used_to_cost(app, session) -> None:
    """The worker's rate rests on this: a new ticket, its customer, message, audit trail and
    auto-reply are written with direct statements; the ORM's unit of work has nothing to do."""
    flushes: list[int] = []

    def count(flushing: Session, _context, _instances) -> None:
        flushes.append(len(flushing.new) + len(flushing.dirty))

    ids = _fill(session, 4)
    event.listen(Session, "before_flush", count)
    try:
        assert process_all(app) == 4
    finally:
        event.remove(Session, "before_flush", count)
    _assert_each_processed_exactly_once(session, len(ids))
    assert _count(session, OutboundMail, OutboundMail.kind == "auto_reply") == 4
    assert [n for n in flushes if n] == []


def _set_the_sequences_back_under(worker: Worker, db, session) -> tuple[InboundMail, Ticket]:
    """The worker has drawn keys ahead; the tickets sequence is set back (a restore) and another
    writer takes the keys the worker holds. Returns a new mail for the worker and the last of
    the other writer's tickets."""
    _fill(session, 1)
    assert worker.run_until_idle() == 1
    first = session.scalar(select(Ticket.id))
    session.commit()
    with db.engine.begin() as connection:  # set back; another writer takes the next key
        set_back = "SELECT setval(pg_get_serial_sequence('tickets', 'id'), :n)"
        connection.execute(text(set_back), {"n": first})
        connection.execute(text("SELECT setval(pg_get_serial_sequence('messages', 'id'), 1000)"))
    customer = make_customer(session, email="other@example.net", number="C900001")
    others = [make_ticket(session, customer=customer) for _ in range(3)]
    session.commit()
    assert [t.id for t in others] == [first + 1, first + 2, first + 3]  # what the worker holds
    stored = queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(sender="later@example.net", subject="Later", body="One more question."),
        envelope_from="later@example.net",
        envelope_to=["support@example.com"],
    )
    session.commit()
    return stored, others[-1]


def _processed_on_the_second_attempt(session, stored: InboundMail, last_other: Ticket) -> None:
    session.expire_all()
    mail = session.get(InboundMail, stored.id)
    assert (mail.state, mail.attempts) == ("processed", 2)
    ticket = session.get(Ticket, mail.ticket_id)
    assert ticket.id > last_other.id and ticket.reference == f"SUP-{ticket.id:05d}"


def test_a_sequence_set_back_under_the_worker_costs_one_retry_not_the_mail(
    app, db, session
) -> None:
    """PostgreSQL: the worker draws new rows' keys ahead, a block at a time. If the sequence is
    set back under it (a restore), a drawn key clashes once; the worker then draws afresh."""
    if db.dialect != "postgresql":
        pytest.skip("keys are drawn ahead on PostgreSQL only")
    worker = Worker(app, retry_base_seconds=0)
    stored, last_other = _set_the_sequences_back_under(worker, db, session)
    assert worker.run_until_idle() == 2  # the failed attempt, then the retry
    _processed_on_the_second_attempt(session, stored, last_other)


def test_a_key_clash_reported_as_a_lost_savepoint_also_draws_afresh(
    app, db, session, monkeypatch
) -> None:
    """An INSERT's error can arrive with a later answer, inside a savepoint: PostgreSQL then
    reports the savepoint as missing, not the duplicate key (seen in CI). The retry must still
    draw fresh keys, or it clashes again."""
    import psycopg
    from sqlalchemy.exc import IntegrityError, InternalError

    if db.dialect != "postgresql":
        pytest.skip("keys are drawn ahead on PostgreSQL only")
    worker = Worker(app, retry_base_seconds=0)
    stored, last_other = _set_the_sequences_back_under(worker, db, session)
    real_failed = worker._failed

    def reported_as_a_lost_savepoint(claim, exc):
        if isinstance(exc, IntegrityError):
            lost = psycopg.errors.InvalidSavepointSpecification('savepoint "sa_savepoint_2"')
            exc = InternalError("ROLLBACK TO SAVEPOINT sa_savepoint_2", {}, lost)
        return real_failed(claim, exc)

    monkeypatch.setattr(worker, "_failed", reported_as_a_lost_savepoint)
    assert worker.run_until_idle() == 2
    _processed_on_the_second_attempt(session, stored, last_other)


def test_an_auto_reply_that_fails_leaves_its_ticket_and_the_next_message_its_reply(
    app, session, monkeypatch
) -> None:
    """A reply that cannot be made (a template that does not render, an unusable address) fails
    before its first write: its ticket is kept without one, nothing of the reply is stored (no
    FAQ demand, no use of the sender's window), and the next message of the same transaction
    (SQLite) or the next transaction (PostgreSQL) is answered."""
    from faq.models import UnansweredQuestion
    from mailrouter.models import SenderActivity
    from mailrouter.outbound import autoreply

    real = autoreply.render_context
    calls: list[int] = []

    def failing_first(*args, **options):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("template does not render")
        return real(*args, **options)

    monkeypatch.setattr(autoreply, "render_context", failing_first)
    _fill(session, 2)
    batch = Worker(app, retry_base_seconds=0).process_batch()

    assert [p.state for p in batch] == ["processed", "processed"]
    assert _count(session, Ticket) == 2
    failed = session.scalars(select(AuditEvent).where(AuditEvent.action == "auto_reply_failed"))
    (failed_ticket,) = [event.ticket_id for event in failed]
    replies = session.scalars(select(OutboundMail).where(OutboundMail.kind == "auto_reply")).all()
    assert [r.ticket_id for r in replies] == [batch[1].ticket_id] != [failed_ticket]
    assert _count(session, Message, Message.direction == "auto") == 1
    asked = session.scalars(select(UnansweredQuestion.ticket_id)).all()
    assert failed_ticket not in asked and batch[1].ticket_id in asked
    windows = session.execute(select(SenderActivity.address, SenderActivity.last_auto_reply_at))
    assert {address for address, at in windows if at is not None} == {"customer1@example.net"}


def test_an_auto_reply_writes_no_savepoint_of_its_own(app, db, session) -> None:
    """Decided and composed before its first write, the reply needs no savepoint (SAVEPOINT
    and RELEASE were 2 of 13 statements a message on PostgreSQL): on PostgreSQL a message's
    transaction has none, on SQLite only the worker's own one around each message."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    _fill(session, 3)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        batch = Worker(app, retry_base_seconds=0).process_batch()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [p.outcome for p in batch] == ["new_ticket"] * 3
    assert _count(session, OutboundMail, OutboundMail.kind == "auto_reply") == 3
    savepoints = [s for s in statements if s.startswith("SAVEPOINT")]
    assert len(savepoints) == (3 if db.dialect == "sqlite" else 0)


def test_an_auto_reply_failing_after_its_first_write_retries_the_message_whole(
    app, session, monkeypatch
) -> None:
    """Should the reply's writes fail (they are plain statements, so only a database error or
    a bug can), nothing of the message is kept, as with a database error: the retry stores its
    ticket and its one reply; no half-written reply is committed."""
    from mailrouter.outbound import autoreply

    real = autoreply._acknowledge
    calls: list[int] = []

    def failing_first(s, ticket):
        calls.append(ticket.id)
        if len(calls) == 1:
            raise RuntimeError("a bug after the reply's first write")
        return real(s, ticket)

    monkeypatch.setattr(autoreply, "_acknowledge", failing_first)
    _fill(session, 2)
    batch = Worker(app, retry_base_seconds=0).process_batch()
    assert [p.state for p in batch] == ["received", "processed"]
    assert _count(session, OutboundMail) == 1

    assert process_all(app) == 1
    _assert_each_processed_exactly_once(session, 2)
    assert _count(session, OutboundMail, OutboundMail.kind == "auto_reply") == 2
    assert _count(session, Message, Message.direction == "auto") == 2
    assert _count(session, AuditEvent, AuditEvent.action == "auto_reply_failed") == 0


def test_sqlite_batches_messages_in_a_transaction_postgresql_commits_each(
    app, db, session, monkeypatch
) -> None:
    """On PostgreSQL no row lock may be held from one message into the next (workers deadlocked
    on FAQ articles' demand rows); SQLite has one writer and saves the commits."""
    _fill(session, 4)
    commits = _commits_of_one_batch(app, monkeypatch, 60.0)
    assert commits == (1 + 1 if db.dialect == "sqlite" else 1 + 4)  # the claim, then the work
    _assert_each_processed_exactly_once(session, 4)


def test_a_database_error_in_the_auto_reply_retries_the_message_not_drops_the_reply(
    app, session, monkeypatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from mailrouter.outbound import autoreply

    real = autoreply._acknowledge
    calls: list[int] = []

    def deadlocked_once(s, ticket):
        calls.append(ticket.id)
        if len(calls) == 1:
            raise OperationalError("UPDATE tickets", {}, Exception("deadlock detected"))
        return real(s, ticket)

    monkeypatch.setattr(autoreply, "_acknowledge", deadlocked_once)
    _fill(session, 1)
    first = Worker(app, retry_base_seconds=0).process_batch()
    assert [p.state for p in first] == ["received"]  # back in the queue, nothing kept
    assert _count(session, Ticket) == 0

    assert process_all(app) == 1
    _assert_each_processed_exactly_once(session, 1)
    assert _count(session, OutboundMail, OutboundMail.kind == "auto_reply") == 1


def test_a_batch_is_analysed_ahead_of_its_first_write_transaction(
    app, session, monkeypatch
) -> None:
    """Preparing holds no write lock, so it is not cut by the write transactions' bound: cut,
    it made batches of one or two messages, each transaction reloading the reference data."""
    from mailrouter.intake import worker as worker_module

    ids = _fill(session, 4)
    steps: list[tuple[str, int]] = []
    real_analyse, real_process = pipeline.analyse, pipeline.process_inbound

    def analyse(s, parsed, config, **kwargs):
        steps.append(("analyse", len(steps)))
        return real_analyse(s, parsed, config, **kwargs)

    def process(s, inbound, config, **kwargs):
        steps.append(("process", inbound.id))
        return real_process(s, inbound, config, **kwargs)

    monkeypatch.setattr(pipeline, "analyse", analyse)
    monkeypatch.setattr(pipeline, "process_inbound", process)
    monkeypatch.setattr(worker_module, "TRANSACTION_SECONDS", 0.0)
    # Not cut by its own bound either: the first message loads the models, over 2 s on a
    # loaded machine, and the others were then analysed in the write transactions.
    monkeypatch.setattr(worker_module, "PREPARE_SECONDS", 600.0)
    batch = Worker(app, retry_base_seconds=0).process_batch()
    assert [p.state for p in batch] == ["processed"] * 4
    assert [kind for kind, _ in steps] == ["analyse"] * 4 + ["process"] * 4
    assert [i for kind, i in steps if kind == "process"] == ids


def test_a_failing_analysis_costs_its_message_nothing_and_the_others_their_analysis(
    app, session, monkeypatch
) -> None:
    """One read session serves the batch's analyses: a failure in one (on PostgreSQL, a failed
    statement aborts the transaction) must not spoil the next ones."""
    from mailrouter.intake import worker as worker_module

    _fill(session, 3)
    real = pipeline.analyse
    calls: list[int] = []

    def analyse(s, parsed, config, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            s.execute(text("SELECT no_such_column FROM tickets"))  # a failed statement
        return real(s, parsed, config, **kwargs)

    monkeypatch.setattr(pipeline, "analyse", analyse)
    # All three analysed ahead (the first loads the models: over 2 s on a loaded machine).
    monkeypatch.setattr(worker_module, "PREPARE_SECONDS", 600.0)
    batch = Worker(app, retry_base_seconds=0).process_batch()
    assert [p.state for p in batch] == ["processed"] * 3  # the second worked out in place
    assert len(calls) == 3
    assert _count(session, Ticket) == 3
