"""Statements and round trips a processed message costs the worker on PostgreSQL, by kind.

Round trips to the database bound a worker on another host more than its CPU does, and a
statement that takes a row lock makes workers wait for each other. This stores the intake
bench's mails over SMTP, lets one in-process worker (no prepare process, so every statement is
seen) process them and counts each statement kind with an SQLAlchemy event listener.

On PostgreSQL it also counts the round trips the worker waited for (support.core.round_trip_count),
by phase (claim, prepare: reading and analysing outside the write transaction, write: the
per-message transactions) and by kind, and checks their total against the turns a proxy on the
wire saw (bench/latency_proxy.py, run in this process): a count that missed a kind of wait
would differ there.

    .venv/bin/python bench/worker_statements.py --database-url URL --wipe [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import socket
import sys
import threading
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import latency_proxy  # noqa: E402
from intake_bench import make_messages, prepare, send_all  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from mailrouter.intake.smtp import SmtpIntakeService  # noqa: E402
from mailrouter.intake.worker import Worker  # noqa: E402
from support.core.db import get_db  # noqa: E402
from support.core.round_trip_count import counting, statement_kind  # noqa: E402

WARM_UP = 50
#: The worker's functions that name a round trip's phase (innermost on the call stack wins).
PHASES = ("_claim", "_prepare_some", "_write", "_failed", "_over_budget")


def through_counting_proxy(url: str) -> str:
    """``url`` (PostgreSQL) through bench/latency_proxy.py, no delay, run in a thread of this
    process: its ``turns`` count the round trips on the wire."""
    parsed = make_url(url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve = latency_proxy._serve(port, parsed.port or 5432, 0.0)
    threading.Thread(target=asyncio.run, args=(serve,), daemon=True).start()
    for _ in range(100):  # until it listens
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        threading.Event().wait(0.05)
    return parsed.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def in_process_worker(app: Any, messages: int, warm_up: int = WARM_UP) -> Worker:
    """The intake bench's mails (``messages`` + ``warm_up``) stored over SMTP, and a worker that
    prepares in this process (every statement here), the first ``warm_up`` processed."""
    intake = SmtpIntakeService.for_app(app)
    intake.start()
    try:
        send_all("127.0.0.1", intake.port, make_messages(messages + warm_up, 7), 4)
    finally:
        intake.stop()
    app.config["WORKER_PREPARE_PROCESS"] = False
    worker = Worker(app, retry_base_seconds=0)
    worker.run_until_idle(limit=warm_up)
    return worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--wipe", action="store_true", help="empty a database that holds data")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--top", type=int, default=30, help="statement kinds to list")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    url = args.database_url
    postgresql = url is not None and url.startswith("postgresql")
    app = prepare(through_counting_proxy(url) if postgresql else url, args.wipe)
    worker = in_process_worker(app, args.messages)

    counts: collections.Counter[str] = collections.Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        counts[statement_kind(statement)] += 1

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", count)
    if postgresql:
        turns = latency_proxy.turns
        with counting(engine, phases=PHASES) as round_trips:
            done = worker.run_until_idle(limit=args.messages)
        turns = latency_proxy.turns - turns
    else:
        done = worker.run_until_idle(limit=args.messages)
    worker.close()
    print(f"{done} messages: {sum(counts.values()) / done:.2f} statements a message")
    for kind, number in counts.most_common(args.top):
        print(f"{number / done:6.2f}  {kind}")
    if postgresql:
        print(
            f"\nround trips a message: {round_trips.total / done:.2f} counted, "
            f"{turns / done:.2f} on the wire; {round_trips.commits / done:.2f} commits, "
            f"{round_trips.checkouts / done:.2f} pool checkouts"
        )
        phases = round_trips.by_phase()
        print("by phase: " + ", ".join(f"{p or '?'} {n / done:.2f}" for p, n in phases.items()))
        for (phase, kind), number in round_trips.counts.most_common(args.top):
            print(f"{number / done:6.2f}  {phase or '?':14s} {kind}")


if __name__ == "__main__":
    main()
