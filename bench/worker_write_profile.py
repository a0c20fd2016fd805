"""CPU a message of the worker's write phase (its per-message transactions), and where it goes.

The intake bench's worker CPU mixes preparing and writing; this stores the intake bench's mails
over SMTP, lets one in-process worker (no prepare process) take them and measures only
``Worker._write``: wall and CPU time a message, and with ``--profile`` a cProfile of it on a CPU
clock (inflated by the profiler, unevenly: many small calls more than a few large ones; compare
profiles with each other, and check a lead without the profiler).

    .venv/bin/python bench/worker_write_profile.py --database-url URL [--messages 400] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import prepare  # noqa: E402
from worker_statements import in_process_worker  # noqa: E402

from mailrouter.intake.worker import Worker  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--profile", help="write a cProfile of the write phase to this file")
    parser.add_argument("--top", type=int, default=50, help="functions to list")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    app = prepare(args.database_url, wipe=True)
    worker = in_process_worker(app, args.messages)
    profile = cProfile.Profile(time.process_time) if args.profile else None
    spent = {"wall": 0.0, "cpu": 0.0}
    write = Worker._write

    def measured(self: Worker, *rest: Any, **options: Any) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        try:
            write(self, *rest, **options)
        finally:
            if profile is not None:
                profile.disable()
            spent["wall"] += time.perf_counter() - wall
            spent["cpu"] += time.process_time() - cpu

    Worker._write = measured  # type: ignore[method-assign]
    done = worker.run_until_idle(limit=args.messages)
    worker.close()
    print(
        f"{done} messages: write phase {1000 * spent['wall'] / done:.2f} ms wall, "
        f"{1000 * spent['cpu'] / done:.2f} ms CPU a message"
        + (" (profiled)" if profile is not None else "")
    )
    if profile is not None:
        profile.dump_stats(args.profile)
        stats = pstats.Stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
