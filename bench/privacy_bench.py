"""Retention purge and erasure: how long each write transaction holds the (SQLite) write lock.

Builds customers with one ticket each (three messages, one outbound mail, one inbound mail of
`--raw-bytes` raw bytes), most of them closed past the standard tier's limit, then runs
`support purge --dry-run`, `support purge` (timing every batch's transaction) and one erasure
of a customer with `--erase-tickets` tickets.

    .venv/bin/python bench/privacy_bench.py                        # SQLite in a temp folder
    .venv/bin/python bench/privacy_bench.py --customers 5000
    .venv/bin/python bench/privacy_bench.py --database-url postgresql+psycopg://u@host/db --reset
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from mailrouter.models import InboundMail
from support.app import create_app
from support.core.db import Database, get_db
from support.desk import privacy, retention
from support.desk.models import (
    AuditEvent,
    Customer,
    Department,
    Message,
    OutboundMail,
    Ticket,
)
from support.desk.seed import seed_reference_data
from support.migrate import upgrade


class TimedDatabase:
    """The app's database, timing every write session (one transaction each)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.durations: list[float] = []

    @contextmanager
    def session(self) -> Iterator[Session]:
        started = time.perf_counter()
        with self.database.session() as session:
            yield session
        self.durations.append(time.perf_counter() - started)

    def read_session(self) -> Any:
        return self.database.read_session()


def build(database: Database, customers: int, raw_bytes: int, erase_tickets: int) -> int:
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=3 * 365 + 30)
    raw = b"Subject: order\r\nFrom: someone@example.org\r\n\r\n" + b"x" * raw_bytes
    with database.session() as session:
        seed_reference_data(session)
        department_id = session.scalar(select(Department.id).where(Department.code == "service"))
    with database.engine.begin() as conn:
        conn.execute(
            insert(Customer),
            [
                {
                    "email": f"customer{n}@example.org",
                    "name": f"Customer {n}",
                    "company": "",
                    "tier": "key" if n % 5 == 0 else "standard",
                    "created_at": long_ago,
                }
                for n in range(customers + 1)
            ],
        )
        ids = dict(conn.execute(select(Customer.email, Customer.id)).all())
        tickets = []
        for n in range(customers):
            tickets.append(
                {
                    "customer_id": ids[f"customer{n}@example.org"],
                    "subject": f"Order {n}",
                    "department_id": department_id,
                    "urgency": 2,
                    "status": "closed",
                    "channel": "email",
                    "language": "en",
                    "classification": {},
                    "created_at": long_ago,
                    "updated_at": long_ago,
                    "closed_at": long_ago,
                    "sla_paused_seconds": 0,
                    "needs_triage": False,
                }
            )
        big = ids[f"customer{customers}@example.org"]
        for n in range(erase_tickets):
            tickets.append(
                {**tickets[0], "customer_id": big, "subject": f"Big {n}", "status": "open"}
            )
        conn.execute(insert(Ticket), tickets)
        rows = conn.execute(select(Ticket.id, Ticket.customer_id)).all()
        conn.execute(
            insert(Message),
            [
                {
                    "ticket_id": ticket_id,
                    "direction": direction,
                    "channel": "email",
                    "from_address": f"c{customer_id}@example.org",
                    "from_name": "Someone",
                    "to_addresses": [],
                    "cc_addresses": [],
                    "references": [],
                    "parse_defects": [],
                    "subject": "Order",
                    "body_text": "Please send my order to 1 Long Road. " * 20,
                    "new_text": "",
                    "quoted_text": "",
                    "signature": "",
                    "is_automatic": False,
                    "created_at": long_ago,
                }
                for ticket_id, customer_id in rows
                for direction in ("in", "out", "in")
            ],
        )
        conn.execute(
            insert(OutboundMail),
            [
                {
                    "ticket_id": ticket_id,
                    "kind": "reply",
                    "envelope_from": "service@example.com",
                    "recipients": [f"c{customer_id}@example.org"],
                    "message_id": f"out-{ticket_id}@example.com",
                    "subject": "Re: Order",
                    "raw": raw,
                    "state": "sent",
                    "attempts": 1,
                    "relay_handoffs": 1,
                    "created_at": long_ago,
                }
                for ticket_id, customer_id in rows
            ],
        )
        conn.execute(
            insert(InboundMail),
            [
                {
                    "received_at": long_ago,
                    "channel": "smtp",
                    "envelope_from": f"c{customer_id}@example.org",
                    "envelope_to": ["service@example.com"],
                    "raw": raw,
                    "size": len(raw),
                    "sha256": "0" * 64,
                    "meta": {},
                    "state": "processed",
                    "attempts": 1,
                    "ticket_id": ticket_id,
                }
                for ticket_id, customer_id in rows
            ],
        )
        conn.execute(
            insert(AuditEvent),
            [
                {
                    "action": "ticket.created",
                    "actor_label": "customer",
                    "ticket_id": ticket_id,
                    "data": {"sender": f"c{customer_id}@example.org"},
                    "created_at": long_ago,
                }
                for ticket_id, customer_id in rows
            ],
        )
    return big


def _summary(durations: list[float]) -> str:
    if not durations:
        return "no transactions"
    ms = sorted(d * 1000 for d in durations)
    return (
        f"{len(ms)} transactions, median {statistics.median(ms):.0f} ms, "
        f"longest {ms[-1]:.0f} ms, total {sum(ms) / 1000:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--reset", action="store_true", help="empty the PostgreSQL schema first")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--raw-bytes", type=int, default=20_000)
    parser.add_argument("--erase-tickets", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-privacy-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "TESTING": True},
        instance_path=folder / "instance",
    )
    database = get_db(app)
    if args.reset and database.dialect == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(database.engine)
    started = time.perf_counter()
    big = build(database, args.customers, args.raw_bytes, args.erase_tickets)
    print(f"built {args.customers} customers in {time.perf_counter() - started:.1f} s ({url})")

    timed = TimedDatabase(database)
    retention.get_db = lambda _app=None: timed  # type: ignore[assignment,misc]
    with app.app_context():
        started = time.perf_counter()
        dry = retention.purge(app, dry_run=True)
        print(f"dry run {time.perf_counter() - started:.2f} s: {'; '.join(dry.lines())}")
        # Raw mail alone, then tickets and customers alone, then everything again (nothing).
        years = app.config["RETENTION_CLOSED_TICKET_YEARS"]
        days = app.config["RETENTION_RAW_MAIL_DAYS"]
        for label, settings in (
            ("raw mail", {"RETENTION_CLOSED_TICKET_YEARS": {}}),
            ("tickets and customers", {"RETENTION_RAW_MAIL_DAYS": 0}),
            ("again", {}),
        ):
            app.config.update(
                {"RETENTION_CLOSED_TICKET_YEARS": years, "RETENTION_RAW_MAIL_DAYS": days}
            )
            app.config.update(settings)
            timed.durations.clear()
            started = time.perf_counter()
            report = retention.purge(app)
            print(
                f"purge, {label}: {time.perf_counter() - started:.1f} s, "
                f"{'; '.join(report.lines())}; write {_summary(timed.durations)}"
            )
        started = time.perf_counter()
        with database.session() as session:
            customer = session.get(Customer, big)
            assert customer is not None
            counts = privacy.erase_customer(
                session, customer, privacy.parts_of(app), instance_path=app.instance_path
            )
        print(
            f"erasure of a customer with {args.erase_tickets} tickets: one transaction of "
            f"{(time.perf_counter() - started) * 1000:.0f} ms ({counts.get('messages')} messages)"
        )


if __name__ == "__main__":
    main()
