"""Statements a processed message costs the worker on PostgreSQL (or SQLite), by kind.

Round trips to the database bound a worker on another host more than its CPU does, and a
statement that takes a row lock makes workers wait for each other. This stores the intake
bench's mails over SMTP, lets one in-process worker (no prepare process, so every statement is
seen) process them and counts each statement kind with an SQLAlchemy event listener.

    .venv/bin/python bench/worker_statements.py --database-url URL --wipe [--messages 200]
"""

from __future__ import annotations

import argparse
import collections
import logging
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from intake_bench import make_messages, prepare, send_all  # noqa: E402
from sqlalchemy import event  # noqa: E402

from mailrouter.intake.smtp import SmtpIntakeService  # noqa: E402
from mailrouter.intake.worker import Worker  # noqa: E402
from support.core.db import get_db  # noqa: E402

WARM_UP = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--wipe", action="store_true", help="empty a database that holds data")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--top", type=int, default=30, help="statement kinds to list")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    app = prepare(args.database_url, args.wipe)
    intake = SmtpIntakeService.for_app(app)
    intake.start()
    try:
        send_all("127.0.0.1", intake.port, make_messages(args.messages + WARM_UP, 7), 4)
    finally:
        intake.stop()
    app.config["WORKER_PREPARE_PROCESS"] = False  # every statement in this process
    worker = Worker(app, retry_base_seconds=0)
    worker.run_until_idle(limit=WARM_UP)

    counts: collections.Counter[str] = collections.Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        kind = re.sub(r"\s+", " ", statement.strip())[:90]
        counts[re.sub(r"%\(\w+\)s|\$\d+|\?", "?", kind)] += 1

    event.listen(get_db(app).engine, "before_cursor_execute", count)
    done = worker.run_until_idle(limit=args.messages)
    worker.close()
    print(f"{done} messages: {sum(counts.values()) / done:.2f} statements a message")
    for kind, number in counts.most_common(args.top):
        print(f"{number / done:6.2f}  {kind}")


if __name__ == "__main__":
    main()
