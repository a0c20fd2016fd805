"""Where a worker's CPU goes: the worker process, its prepare process and the database server.

On two cores one worker, its prepare process (WORKER_PREPARE_PROCESS) and PostgreSQL share the
machine, so the CPU each spends per message bounds the throughput as much as round trips do.
Stores the bench's mails over SMTP, lets one worker process them and reads the CPU time of the
worker (its own clock), of its child processes and of every ``postgres`` process (Linux
``/proc``) around that run.

    .venv/bin/python bench/worker_cpu_split.py [--database-url URL] [--messages 800]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import make_messages, prepare, send_all  # noqa: E402

from mailrouter.intake.smtp import SmtpIntakeService  # noqa: E402
from mailrouter.intake.worker import Worker  # noqa: E402


def cpu_seconds(wanted: Callable[[str, int], bool]) -> float:
    """User + system CPU of the processes ``wanted(command, parent_pid)`` picks (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, tail = stat.read_text().rpartition(")")
        except OSError:  # the process ended meanwhile
            continue
        fields = tail.split()
        if wanted(head.partition("(")[2], int(fields[1])):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder (wiped)")
    parser.add_argument("--messages", type=int, default=800)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    app = prepare(args.database_url, wipe=True)
    intake = SmtpIntakeService.for_app(app)
    intake.start()
    try:
        send_all("127.0.0.1", intake.port, make_messages(args.messages + 20, 7), 4)
    finally:
        intake.stop()
    worker = Worker(app, retry_base_seconds=0)
    worker.run_until_idle(limit=10)  # warm-up, as bench/intake_bench.py
    worker.prepare_process.wait_ready(120)
    me = os.getpid()

    def server(command: str, _parent: int) -> bool:
        return command.startswith("postgres")

    def children(_command: str, parent: int) -> bool:
        return parent == me

    before = (cpu_seconds(server), cpu_seconds(children), time.process_time(), time.perf_counter())
    done = worker.run_until_idle(limit=args.messages)
    after = (cpu_seconds(server), cpu_seconds(children), time.process_time(), time.perf_counter())
    worker.close()
    server_s, children_s, own_s, wall_s = (b - a for a, b in zip(before, after, strict=True))
    per = 1000 / done
    print(
        f"{done} messages, {done / wall_s:.1f} msg/s (load {os.getloadavg()[0]:.1f}); per message:"
        f" wall {wall_s * per:.2f} ms, CPU of the worker {own_s * per:.2f} ms, of its prepare"
        f" process {children_s * per:.2f} ms, of the database server {server_s * per:.2f} ms"
    )


if __name__ == "__main__":
    main()
