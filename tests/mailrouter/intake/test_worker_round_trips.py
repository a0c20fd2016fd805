"""What a processed message costs in round trips to PostgreSQL: the worker's throughput against
a database on another host follows them (bench/worker_statements.py prints them by kind)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from mailrouter.intake import queue
from mailrouter.intake import worker as worker_module
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from support.core.reference_cache import ReferenceCache
from support.core.round_trip_count import counting
from tests.mailrouter.conftest import make_mail

#: The worker's phases (see bench/worker_statements.py).
PHASES = ("_claim", "_prepare_some", "_write", "_failed", "_over_budget")
#: Round trips a message may cost at most, by phase: what they came to when they were brought
#: down (0.55, 0.45 and 2.7 with this test's mail: new tickets with auto-replies, 8 of 20 from
#: new customers, batches of 10; the reference data read again when its cache runs out adds
#: up to 0.3). Before: the prepare read one message a round trip (1.45), psycopg waited
#: for each transaction's BEGIN (5.95 to write), and the sender's flood lock, the customer's
#: earlier messages (repeated reports) and a new customer's number were a wait each (4.7).
MOST_A_MESSAGE = {"_claim": 0.7, "_prepare_some": 0.6, "_write": 3.2}
#: Statements no longer waited for on their own: read with the write transaction's first
#: answer (pipeline._ReadAhead), or checked by the INSERT (a new customer's number).
NOT_ALONE = (
    "INSERT INTO sender_activity",
    "SELECT messages.ticket_id, tickets.reference",
    "SELECT customers.id FROM customers WHERE customers.number",
)


def _store(session, count: int, *, senders: int) -> list[int]:
    ids = []
    for n in range(count):
        who = n % senders
        ids.append(
            queue.store_inbound(
                session,
                channel="smtp",
                raw=make_mail(
                    sender=f"Customer {who} <customer{who}@example.net>",
                    subject=f"Question {n}",
                    body=f"Where is my order {n}? It has not arrived yet.",
                    message_id=f"<round-trips-{n}@mail.example.net>",
                ),
                envelope_from=f"customer{who}@example.net",
                envelope_to=["support@example.com"],
            ).id
        )
    session.commit()
    return ids


def test_round_trips_a_message_on_postgresql(app, db, session, monkeypatch) -> None:
    if db.dialect != "postgresql":
        pytest.skip("round trips are counted on PostgreSQL (SQLite has none)")
    app.config["WORKER_BATCH_SIZE"] = 10
    _store(session, 22, senders=10)
    worker = Worker(app, retry_base_seconds=0)
    # Its reference data kept for the whole test: read again every REFERENCE_TTL_SECONDS (2 s)
    # of the real clock, they came to 4.1 round trips a message written on a loaded machine.
    worker.reference_cache = ReferenceCache(clock=lambda: 0.0)
    # And each batch prepared whole (PREPARE_SECONDS cut it there; the rest was analysed in
    # the write transactions).
    monkeypatch.setattr(worker_module, "PREPARE_SECONDS", 600.0)
    assert worker.run_until_idle(limit=2) == 2  # loads the reference data, models, FAQ index
    with counting(db.engine, phases=PHASES) as round_trips:
        done = worker.run_until_idle()
    assert done == 20
    phases = round_trips.by_phase()
    assert set(phases) <= set(MOST_A_MESSAGE), round_trips.counts
    for phase, most in MOST_A_MESSAGE.items():
        assert phases[phase] / done <= most, (phase, sorted(round_trips.counts.items()))
    assert round_trips.commits / done <= 1.3  # one a message, one a claim and a prepare read
    alone = [kind for (_phase, kind) in round_trips.counts if kind.startswith("answer: ")]
    assert not [kind for kind in alone if kind.removeprefix("answer: ").startswith(NOT_ALONE)]


def test_a_batch_is_read_in_one_statement_up_to_its_byte_budget(app, db, session) -> None:
    ids = _store(session, 4, senders=4)
    claims = queue.claim_batch(session, worker_id="me", lease_seconds=60, max_attempts=3, limit=4)
    assert [c.id for c in claims] == ids
    session.execute(update(InboundMail).where(InboundMail.id == ids[2]).values(locked_by="other"))
    session.commit()
    sizes = [session.get(InboundMail, i).size for i in ids]
    with db.read_session() as reading:
        rows = queue.load_claimed_batch(reading, ids, worker_id="me", max_bytes=sizes[0] + 1)
    # The first row always; the second too (the bytes before it are under the budget); the
    # third is another worker's now; the fourth is past the budget, left for the next read.
    assert sorted(rows.loaded) == ids[:2] and rows.later == {ids[3]}
    assert rows.loaded[ids[1]].raw == session.get(InboundMail, ids[1]).raw


def test_a_batch_over_the_byte_budget_is_prepared_in_parts(app, session, monkeypatch) -> None:
    ids = _store(session, 3, senders=3)
    monkeypatch.setattr(worker_module, "PREPARE_BYTES", 1)  # one message a read
    reads: list[list[int]] = []
    real = queue.load_claimed_batch

    def load(reading, row_ids, **kwargs):
        reads.append(list(row_ids))
        return real(reading, row_ids, **kwargs)

    monkeypatch.setattr(queue, "load_claimed_batch", load)
    batch = Worker(app, retry_base_seconds=0).process_batch()
    assert [(p.inbound_id, p.state) for p in batch] == [(i, "processed") for i in ids]
    assert reads == [ids, ids[1:], ids[2:]]
