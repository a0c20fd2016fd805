"""Retention: what `support purge` and `support run` remove once it is older than its limit.

Raw mail bytes go after RETENTION_RAW_MAIL_DAYS (the mail queue's part does it); closed tickets
are anonymised after their customer's tier's RETENTION_CLOSED_TICKET_YEARS, with the erasure's
code (``support.desk.privacy``), and customers with nothing left are then erased. Each batch is
one short write transaction (SQLite has one writer) and a run does a bounded number of them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import exists, func, or_, select

from support.core.db import get_db, utcnow
from support.core.runner import PeriodicTask
from support.desk.models import CUSTOMER_TIERS, Customer, Ticket
from support.desk.privacy import anonymise_tickets, erase_customer, parts_of

log = logging.getLogger(__name__)

#: Tickets (or customers) one purge transaction anonymises; raw mail rows one transaction drops.
TICKET_BATCH = 50
CUSTOMER_BATCH = 10
RAW_MAIL_BATCH = 200
#: Batches of each kind one purge run does at most; the next run continues.
MAX_BATCHES_PER_RUN = 200
#: Ticket statuses whose personal data retention may remove.
CLOSED_STATUSES = ("resolved", "closed")


@dataclass
class PurgeReport:
    """What a purge removed (or, dry, would remove): counts per kind and tier."""

    dry_run: bool
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, kind: str, tier: str, count: int) -> None:
        if count:
            self.counts[kind][tier] = self.counts[kind].get(tier, 0) + count

    def total(self, kind: str | None = None) -> int:
        kinds = [kind] if kind else list(self.counts)
        return sum(sum(self.counts.get(k, {}).values()) for k in kinds)

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        if not self.total():
            return [f"purge: nothing past its retention limit ({verb} nothing)"]
        return [
            f"{kind} ({tier}): {count}"
            for kind, tiers in sorted(self.counts.items())
            for tier, count in sorted(tiers.items())
        ]


def _configured_years(config: Mapping[str, Any]) -> tuple[dict[str, int], int]:
    """RETENTION_CLOSED_TICKET_YEARS as typed, and the years of a tier it does not list."""
    mapping = {
        str(k): int(v) for k, v in (config.get("RETENTION_CLOSED_TICKET_YEARS") or {}).items()
    }
    longest = max(mapping.values(), default=0)
    if any(v <= 0 for v in mapping.values()):
        longest = 0  # some tier is kept for ever: an unknown tier is kept too
    return mapping, longest


def years_by_tier(config: Mapping[str, Any]) -> dict[str, int]:
    """Years each customer tier's closed tickets are kept (0: until erased on request), as the
    purge applies them; the portal's privacy notice states these."""
    mapping, longest = _configured_years(config)
    return {tier: max(mapping.get(tier, longest), 0) for tier in CUSTOMER_TIERS}


def _tier_limits(config: Mapping[str, Any]) -> list[tuple[str, Any, int]]:
    """(tier label, condition on Customer, years) for each tier with a limit."""
    mapping, longest = _configured_years(config)
    limits = [(tier, Customer.tier == tier, mapping.get(tier, longest)) for tier in CUSTOMER_TIERS]
    known = sorted(set(CUSTOMER_TIERS) | set(mapping))
    extra = [t for t in mapping if t not in CUSTOMER_TIERS]
    limits += [(tier, Customer.tier == tier, mapping[tier]) for tier in extra]
    limits.append(("other", Customer.tier.not_in(known), longest))
    return [(label, condition, years) for label, condition, years in limits if years > 0]


def _cutoff(now: datetime, years: int) -> datetime:
    return now - timedelta(days=365 * years)


def _expired_tickets(condition: Any, cutoff: datetime) -> Any:
    closed_at = func.coalesce(Ticket.closed_at, Ticket.resolved_at, Ticket.updated_at)
    return (
        select(Ticket.id)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(
            condition,
            Ticket.anonymised_at.is_(None),
            Ticket.status.in_(CLOSED_STATUSES),
            closed_at < cutoff,
        )
        .order_by(Ticket.id)
    )


def _expired_customers(condition: Any, cutoff: datetime) -> Any:
    """Customers with nothing left to keep: no ticket still holding data, none recent."""
    holding = exists().where(
        Ticket.customer_id == Customer.id,
        or_(Ticket.anonymised_at.is_(None), Ticket.created_at >= cutoff),
    )
    return (
        select(Customer.id)
        .where(condition, Customer.erased_at.is_(None), Customer.created_at < cutoff, ~holding)
        .order_by(Customer.id)
    )


def purge(app: Flask, *, dry_run: bool = False, now: datetime | None = None) -> PurgeReport:
    """Apply the retention settings: raw mail (the parts), then closed tickets per tier, then
    customers with nothing left. Each batch is its own short write transaction; a run does at
    most MAX_BATCHES_PER_RUN batches per kind (the next run goes on). Idempotent."""
    now = now or utcnow()
    config = app.config
    database = get_db(app)
    parts = parts_of(app)
    instance_path = Path(app.instance_path)
    report = PurgeReport(dry_run=dry_run)

    for part in parts:
        for _ in range(1 if dry_run else MAX_BATCHES_PER_RUN):
            with database.read_session() if dry_run else database.session() as session:
                counts = part.purge(session, config, now, dry_run=dry_run)
            for kind, count in counts.items():
                report.add(kind, "all", count)
            if not any(counts.values()):
                break

    for tier, condition, years in _tier_limits(config):
        cutoff = _cutoff(now, years)
        if dry_run:
            with database.read_session() as session:
                tickets = session.scalar(
                    select(func.count()).select_from(_expired_tickets(condition, cutoff).subquery())
                )
                customers = session.scalar(
                    select(func.count()).select_from(
                        select(Customer.id)
                        .where(
                            condition,
                            Customer.erased_at.is_(None),
                            Customer.created_at < cutoff,
                            ~exists().where(
                                Ticket.customer_id == Customer.id,
                                or_(
                                    Ticket.created_at >= cutoff,
                                    Ticket.status.not_in(CLOSED_STATUSES),
                                    func.coalesce(
                                        Ticket.closed_at, Ticket.resolved_at, Ticket.updated_at
                                    )
                                    >= cutoff,
                                ),
                            ),
                        )
                        .subquery()
                    )
                )
            report.add("tickets", tier, int(tickets or 0))
            report.add("customers", tier, int(customers or 0))
            continue
        for _ in range(MAX_BATCHES_PER_RUN):
            with database.session() as session:
                ids = list(session.scalars(_expired_tickets(condition, cutoff).limit(TICKET_BATCH)))
                if ids:
                    report.add(
                        "tickets",
                        tier,
                        anonymise_tickets(
                            session, ids, parts, instance_path=instance_path, now=now
                        ),
                    )
            if len(ids) < TICKET_BATCH:
                break
        for _ in range(MAX_BATCHES_PER_RUN):
            with database.session() as session:
                ids = list(
                    session.scalars(_expired_customers(condition, cutoff).limit(CUSTOMER_BATCH))
                )
                for customer_id in ids:
                    customer = session.get(Customer, customer_id)
                    if customer is not None:
                        erase_customer(
                            session,
                            customer,
                            parts,
                            instance_path=instance_path,
                            reason="retention",
                            now=now,
                        )
                report.add("customers", tier, len(ids))
            if len(ids) < CUSTOMER_BATCH:
                break
    if not dry_run and report.total():
        log.info("purge: %s", "; ".join(report.lines()))
    return report


def services(app: Flask) -> list[PeriodicTask]:
    """The periodic retention purge for `support run` (RETENTION_PURGE_HOURS; 0 = never)."""
    hours = float(app.config.get("RETENTION_PURGE_HOURS") or 0)
    if hours <= 0:
        return []

    def run() -> None:
        with app.app_context():
            purge(app)

    return [PeriodicTask("retention-purge", hours * 3600, run)]
