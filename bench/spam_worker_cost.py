"""What the spam check adds to the worker: the intake bench's customer mails processed with
the built-in filter on and off, alternating, in one process (wall and CPU time per message).

Usage: ``.venv/bin/python bench/spam_worker_cost.py [--messages 300] [--rounds 3]``

With SPAM_FILTER_ENABLED off the worker runs as before the spam check existed (no verdict is
computed or stored). The machine's load moves wall time a lot; CPU time per message is the
steadier figure. None of these mails is held as spam (the bench checks), so both runs do the
same work apart from the check.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select

from mailrouter.intake import queue
from mailrouter.intake.worker import Worker
from mailrouter.models import InboundMail
from support.core.db import get_db


def queue_messages(app, messages) -> None:
    """Queue the mails as the SMTP intake would have (department by address)."""
    with get_db(app).session() as session:
        addresses = queue.department_addresses(session)
        for sender, recipients, raw in messages:
            queue.store_inbound(
                session,
                channel="smtp",
                raw=raw,
                envelope_from=sender,
                envelope_to=recipients,
                department_code=queue.department_for_recipients(recipients, addresses),
            )


def run(app, messages, filter_on: bool) -> tuple[float, float, int]:
    app.config["SPAM_FILTER_ENABLED"] = filter_on
    queue_messages(app, messages)
    worker = Worker(app, retry_base_seconds=0)
    wall, cpu = time.perf_counter(), time.process_time()
    done = worker.run_until_idle()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with get_db(app).read_session() as session:
        held = session.scalar(
            select(func.count()).select_from(InboundMail).where(InboundMail.spam_state.is_not(None))
        )
    return wall * 1000 / done, cpu * 1000 / done, held or 0


def main() -> int:
    from intake_bench import make_messages, prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    app = prepare(None, False)
    results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for filter_on in (False, True):  # warm-up: models, dictionaries, caches; not counted
        run(app, make_messages(50, 99 - filter_on), filter_on)
    for round_number in range(args.rounds):
        for filter_on in (False, True):
            seed = 100 + round_number * 2 + filter_on
            wall, cpu, held = run(app, make_messages(args.messages, seed), filter_on)
            if held:
                print(f"warning: {held} bench mails held as spam", file=sys.stderr)
            results[filter_on].append((wall, cpu))
            label = "on " if filter_on else "off"
            print(f"round {round_number + 1}, filter {label}: {wall:.2f} ms wall, {cpu:.2f} ms CPU")
    header = f"{'spam filter':<12} {'ms/msg wall (median)':>22} {'ms/msg CPU (median)':>21}"
    print(f"\n{header} {'msg/s':>7}")
    for filter_on in (False, True):
        wall = statistics.median(w for w, _c in results[filter_on])
        cpu = statistics.median(c for _w, c in results[filter_on])
        print(f"{'on' if filter_on else 'off':<12} {wall:>22.2f} {cpu:>21.2f} {1000 / wall:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
