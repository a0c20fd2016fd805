"""Where each of several PostgreSQL workers' wall time goes, and what their backends wait for.

The intake bench's four-worker part (``intake_bench.process_in_parallel``) says how many
messages the workers made and how much CPU each kind of process spent; not why four workers on
two cores make 2.3x one. This runs the same four workers on mail queued directly (no SMTP round),
each instrumented, and splits every worker's measured window (its main thread) into:

* ``cpu``: its own CPU time (``thread_time``);
* ``run queue``: ready to run but waiting for a core (``/proc/self/task/TID/schedstat``);
* ``database``: blocked in psycopg's ``Connection.wait`` (the answer is on its way: the network,
  the proxy, the backend's work and its own wait for a core, row locks), less the CPU and run
  queue time inside it;
* ``prepare process``: blocked on its prepare process's batch (``Reply.result``), likewise;
* ``other sleep``: the rest (the pipe to the child, polls, files).

Each is also given by the worker's phase it fell in: claiming (``Worker._claim``), preparing in
its own process (``Worker._prepare_some``), writing (``Worker._write``), the rest. Meanwhile the
bench process samples ``pg_stat_activity`` (every ``--sample-ms``, on a connection straight to
the server, not through the proxy) for the workers' backends: state and wait event, and for a
backend waiting on a lock, the lock (``pg_locks``: kind, table). The claims' sizes are counted
(a claim that found fewer rows than it asked for, an empty one).

    .venv/bin/python bench/latency_proxy.py --listen 5435 --target 5432 --delay-ms 2 &
    .venv/bin/python bench/worker_time_split.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5435/DB --sample-url \
        postgresql+psycopg://postgres@127.0.0.1:5432/DB --workers 4 --process 1200

A measuring tool: the wrapping costs some CPU (a few reads of /proc a round trip).
"""

from __future__ import annotations

import argparse
import collections
import functools
import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402
from intake_bench import (  # noqa: E402
    SECRET_KEY,
    ServerCpu,
    _cold_embedding_cache,
    cpu_seconds,
    make_messages,
    prepare,
)
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from mailrouter.intake import prepare_process, queue  # noqa: E402
from mailrouter.intake.worker import Worker  # noqa: E402
from support.app import create_app  # noqa: E402
from support.core.db import get_db  # noqa: E402

KINDS = ("cpu", "run queue", "database", "prepare process", "other sleep")
PHASES = ("claim", "prepare here", "write", "rest")


class _Schedstat:
    """This thread's CPU and run-queue nanoseconds, read cheaply (one pread of /proc)."""

    def __init__(self) -> None:
        self._fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY)

    def read(self) -> tuple[float, float]:
        on_cpu, waiting, _slices = os.pread(self._fd, 200, 0).split()
        return int(on_cpu) / 1e9, int(waiting) / 1e9


class Split:
    """Seconds of the main thread by (phase, kind), and the claims' sizes."""

    def __init__(self) -> None:
        self.schedstat = _Schedstat()
        self.seconds: collections.Counter[tuple[str, str]] = collections.Counter()
        self.phase = "rest"
        self.claims: collections.Counter[str] = collections.Counter()
        self.waits = 0
        self.thread = threading.get_ident()

    def blocked(self, kind: str, call: Callable[[], Any]) -> Any:
        """Run ``call``, counting its wall time less CPU and run queue as ``kind``."""
        if threading.get_ident() != self.thread:
            return call()
        wall, (cpu, queued) = time.perf_counter(), self.schedstat.read()
        try:
            return call()
        finally:
            cpu_after, queued_after = self.schedstat.read()
            spent = time.perf_counter() - wall
            cpu, queued = cpu_after - cpu, queued_after - queued
            self.seconds[(self.phase, kind)] += max(0.0, spent - cpu - queued)
            self.seconds[(self.phase, "in " + kind)] += spent
            self.waits += kind == "database"

    def in_phase(self, phase: str, call: Callable[[], Any]) -> Any:
        outer, self.phase = self.phase, phase
        wall, (cpu, queued) = time.perf_counter(), self.schedstat.read()
        try:
            return call()
        finally:
            cpu_after, queued_after = self.schedstat.read()
            self.seconds[(phase, "wall")] += time.perf_counter() - wall
            self.seconds[(phase, "cpu")] += cpu_after - cpu
            self.seconds[(phase, "run queue")] += queued_after - queued
            self.phase = outer


def instrument(worker: Worker) -> Split:
    split = Split()
    wait = psycopg.Connection.wait

    def timed_wait(self: Any, *args: Any, **kwargs: Any) -> Any:
        return split.blocked("database", lambda: wait(self, *args, **kwargs))

    psycopg.Connection.wait = timed_wait  # type: ignore[method-assign]
    result = prepare_process.Reply.result

    def timed_result(self: Any) -> Any:
        return split.blocked("prepare process", lambda: result(self))

    prepare_process.Reply.result = timed_result  # type: ignore[method-assign]
    phases = (("_claim", "claim"), ("_prepare_some", "prepare here"), ("_write", "write"))
    for name, phase in phases:
        method = getattr(worker, name)

        def phased(*args: Any, _method: Any = method, _phase: str = phase, **kwargs: Any) -> Any:
            return split.in_phase(_phase, functools.partial(_method, *args, **kwargs))

        setattr(worker, name, phased)
    claim = worker._claim

    def counted_claim(size: int) -> list[queue.Claim]:
        claims = claim(size)
        split.claims["asked"] += size
        split.claims["got"] += len(claims)
        split.claims["calls"] += 1
        split.claims["short"] += 0 < len(claims) < size
        split.claims["empty"] += not claims
        return claims

    worker._claim = counted_claim  # type: ignore[method-assign]
    return split


def _worker_process(
    url: str, instance: str, limit: int, barrier: Any, first_done: Any, done: Any
) -> None:
    """As ``intake_bench._worker_process``, instrumented."""
    logging.disable(logging.WARNING)
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "TESTING": True}, instance_path=instance
    )
    worker = Worker(app, retry_base_seconds=0)
    worker.run_until_idle(limit=5)
    worker.warm_up()
    worker.prepare_process.wait_ready(120)
    split = instrument(worker)
    child = worker.prepare_process.get()
    child_pid = child.pid if child is not None else None
    barrier.wait()
    child_cpu = cpu_seconds(child_pid)
    started = time.perf_counter()
    cpu, queued = split.schedstat.read()
    count = 0
    while count < limit and not first_done.is_set():
        batch = worker.process_batch(limit - count)
        if not batch:
            break
        count += len(batch)
    first_done.set()
    wall = time.perf_counter() - started
    cpu_after, queued_after = split.schedstat.read()
    done.put(
        {
            "count": count,
            "wall": wall,
            "cpu": cpu_after - cpu,
            "run queue": queued_after - queued,
            "seconds": dict(split.seconds),
            "claims": dict(split.claims),
            "waits": split.waits,
            "prepared elsewhere": worker.prepared_elsewhere,
            "child cpu": cpu_seconds(child_pid) - child_cpu,
        }
    )
    worker.close()


_ACTIVITY = text(
    "SELECT a.pid, a.state, a.wait_event_type, a.wait_event, l.locktype, "
    "l.relation::regclass::text, l.mode "
    "FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted "
    "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
    "AND a.backend_type = 'client backend'"
)


def sample_activity(url: str, stop: threading.Event, every: float) -> collections.Counter[str]:
    """What the database's client backends are doing, counted over samples."""
    seen: collections.Counter[str] = collections.Counter()
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        connection.execute(text("SET application_name = 'time-split sampler'"))
        connection.commit()
        while not stop.is_set():
            for _pid, state, event_type, event, locktype, relation, mode in connection.execute(
                _ACTIVITY
            ):
                what = f"{state} / {event_type or '-'}:{event or '-'}"
                if locktype:
                    what += f" ({locktype} {relation or ''} {mode})"
                seen[what] += 1
            seen["(samples)"] += 1
            connection.commit()
            stop.wait(every)
    engine.dispose()
    return seen


def queue_directly(app: Any, count: int, seed: int, history: int) -> None:
    """``count`` of the bench's mails queued, after ``history`` rows of mail processed before
    (a running desk's queue holds every mail it processed, until the retention purge)."""
    database = get_db(app)
    messages = make_messages(count, seed)
    with database.engine.begin() as connection:
        if history:
            sender, recipients, raw = messages[0]
            first = queue.insert_inbound(
                connection, channel="smtp", raw=raw, envelope_from=sender, envelope_to=recipients
            )
            connection.execute(_HISTORY, {"first": first, "more": history - 1})
            connection.execute(_PROCESSED, {"first": first})
        for sender, recipients, raw in messages:
            queue.insert_inbound(
                connection, channel="smtp", raw=raw, envelope_from=sender, envelope_to=recipients
            )
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE inbound_mail"))  # as autovacuum would have


_PROCESSED = text("UPDATE inbound_mail SET state = 'processed' WHERE id = :first")
_HISTORY = text(
    "INSERT INTO inbound_mail (received_at, channel, envelope_from, envelope_to, raw, size,"
    " sha256, meta, state, attempts) SELECT received_at, channel, envelope_from, envelope_to,"
    " raw, size, sha256, meta, 'processed', 1 FROM inbound_mail, generate_series(1, :more)"
    " WHERE id = :first"
)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the workers' (through the proxy)")
    parser.add_argument("--sample-url", help="the sampler's (straight to the server)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--process", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample-ms", type=float, default=5.0)
    parser.add_argument(
        "--history", type=int, default=0, help="processed mails in the queue before the run"
    )
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    app = prepare(args.database_url, wipe=True)
    queue_directly(app, args.process * 2 + 50, args.seed, args.history)
    _cold_embedding_cache(app)
    get_db(app).dispose()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.workers + 1)
    first_done, done = context.Event(), context.Queue()
    url, instance = app.config["DATABASE_URL"], app.instance_path
    processes = [
        context.Process(
            target=_worker_process,
            args=(url, instance, args.process // args.workers, barrier, first_done, done),
        )
        for _ in range(args.workers)
    ]
    for child in processes:
        child.start()
    stop = threading.Event()
    sampled: collections.Counter[str] = collections.Counter()
    sampler = threading.Thread(
        target=lambda: sampled.update(
            sample_activity(args.sample_url or url, stop, args.sample_ms / 1000)
        )
    )
    server = ServerCpu(app)
    barrier.wait(timeout=300)
    load = os.getloadavg()[0]
    server.start()
    sampler.start()
    results = [done.get() for _ in processes]
    served = server.seconds()
    stop.set()
    sampler.join()
    for child in processes:
        child.join()
    processed = sum(r["count"] for r in results)
    print(
        f"{args.workers} workers, {processed} messages, load {load:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    print(
        "CPU ms a message: workers (main threads) "
        f"{1000 * sum(r['cpu'] for r in results) / processed:.2f}, prepare processes "
        f"{1000 * sum(r['child cpu'] for r in results) / processed:.2f}, "
        + ", ".join(f"{kind} {1000 * seconds / processed:.2f}" for kind, seconds in served.items())
    )
    for number, r in enumerate(results, start=1):
        wall, count = r["wall"], r["count"]
        seconds = r["seconds"]
        database = sum(v for (_p, k), v in seconds.items() if k == "database")
        child = sum(v for (_p, k), v in seconds.items() if k == "prepare process")
        other = wall - r["cpu"] - r["run queue"] - database - child
        parts = {
            "cpu": r["cpu"],
            "run queue": r["run queue"],
            "database": database,
            "prepare process": child,
            "other sleep": other,
        }
        print(
            f"worker {number}: {count} messages in {wall:.1f} s ({count / wall:.1f} msg/s), "
            f"{r['prepared elsewhere']} prepared by its child; ms a message: "
            + ", ".join(f"{k} {1000 * v / count:.2f}" for k, v in parts.items())
            + f"; {r['waits'] / count:.2f} database waits a message"
        )
        for phase in PHASES:
            if (phase, "wall") not in seconds and phase != "rest":
                continue
            row = {kind: seconds.get((phase, kind), 0.0) for kind in ("wall", "cpu", "run queue")}
            row["database"] = seconds.get((phase, "database"), 0.0)
            row["prepare process"] = seconds.get((phase, "prepare process"), 0.0)
            if phase == "rest":
                row["wall"] = wall - sum(seconds.get((p, "wall"), 0.0) for p in PHASES[:-1])
                row["cpu"] = r["cpu"] - sum(seconds.get((p, "cpu"), 0.0) for p in PHASES[:-1])
                row["run queue"] = r["run queue"] - sum(
                    seconds.get((p, "run queue"), 0.0) for p in PHASES[:-1]
                )
            print(
                f"    {phase:13s} "
                + ", ".join(f"{k} {1000 * v / count:6.2f}" for k, v in row.items())
            )
        claims = r["claims"]
        print(
            "    claims: "
            + ", ".join(f"{k} {claims.get(k, 0)}" for k in ("calls", "asked", "got", "short"))
            + f", empty {claims.get('empty', 0)}"
        )
    samples = sampled.pop("(samples)", 0) or 1
    print(f"backends ({samples} samples; backends a sample in each state):")
    for what, number in sampled.most_common():
        print(f"    {number / samples:6.3f}  {what}")


if __name__ == "__main__":
    main()
