"""Loop and flood protection for auto-replies: per-sender windows, daily caps, burst detection.

Two machines that auto-reply to each other loop until someone notices; a script that mails us
in a tight loop would get one auto-reply per message. So every auto-reply first takes the
sender's ``SenderActivity`` row under a lock and checks, in this order:

* never a second auto-reply on the same ticket;
* a burst (AUTOREPLY_BURST_COUNT messages within AUTOREPLY_BURST_MINUTES, counted from the
  stored mail) stops auto-replies to the sender and flags the customer for staff;
* at most one auto-reply per AUTOREPLY_WINDOW_HOURS (not for a question sent from the contact
  form: a web form cannot loop, its own hourly limit per address and IP bounds it, and its
  confirmation page promises the mail);
* at most AUTOREPLY_MAX_PER_DAY per day (the company's calendar day).

Only when all pass is the reply recorded, in the same transaction, so two workers handling two
messages from one sender at once cannot both send: the second waits for the row lock
(PostgreSQL ``FOR UPDATE``; SQLite transactions are exclusive already) and then sees the
first one's reply.

On PostgreSQL the worker takes that lock with its transaction's first statement, for a mail that
may open a ticket (``SENDER_LOCK_COLUMNS``, ``LockedSender``): waiting for the lock's own answer
was one round trip for every mail, a fifth of a worker's waits on a database on another host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CTE, Row, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from mailrouter.models import InboundMail, SenderActivity
from support.core.concurrency import insert_or_lock
from support.core.db import execute_core, utcnow
from support.core.round_trips import result_unread
from support.core.tables import table_of
from support.desk.audit import record_event
from support.desk.customers import customer_by_address
from support.desk.models import AuditEvent, Customer, Message, OutboundMail, User

logger = logging.getLogger(__name__)

#: How long a detected burst keeps auto-replies off even if staff do nothing (a flagged
#: customer stays off until staff clear the flag).
FLOOD_BLOCK = timedelta(hours=24)

ALLOWED = "allowed"
ALREADY_REPLIED = "already_replied"
FLOOD = "flood"
WINDOW = "window"
DAILY_LIMIT = "daily_limit"


@dataclass(frozen=True)
class FloodDecision:
    allowed: bool
    reason: str
    detail: str = ""
    #: What the decision writes (the reply's reservation, or a burst's flag), left to
    #: ``record`` so a caller can compose the reply first (``decide_auto_reply``).
    writes: Callable[[Session], None] | None = field(default=None, compare=False, repr=False)

    def record(self, session: Session) -> None:
        """Write what the decision made of the sender (nothing when there is nothing)."""
        if self.writes is not None:
            self.writes(session)


def normalize_address(address: str) -> str:
    return (address or "").strip().lower()


def _local_day(moment: datetime, config: Mapping[str, Any]) -> str:
    try:
        zone = ZoneInfo(str(config.get("COMPANY_TIMEZONE") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).date().isoformat()


_INBOUND = table_of(InboundMail)
_MESSAGES = table_of(Message)
_SENDERS = table_of(SenderActivity)
_OUTBOUND = table_of(OutboundMail)

# Prepared once: the statements of every auto-reply, built per call, cost more than they run.
_SENDER_COUNTS = select(
    select(func.count())
    .select_from(_INBOUND)
    .where(
        func.lower(_INBOUND.c.envelope_from) == bindparam("sender"),
        _INBOUND.c.received_at >= bindparam("since"),
    )
    .scalar_subquery(),
    select(func.count())
    .select_from(_MESSAGES)
    .where(
        _MESSAGES.c.direction == "in",
        func.lower(_MESSAGES.c.from_address) == bindparam("sender"),
        _MESSAGES.c.created_at >= bindparam("since"),
    )
    .scalar_subquery(),
)
_UPDATE_SENDER = result_unread(update(_SENDERS).where(_SENDERS.c.id == bindparam("sender_id")))
_TICKET_AUTO_REPLY = (
    select(_OUTBOUND.c.id)
    .where(_OUTBOUND.c.ticket_id == bindparam("ticket_id"), _OUTBOUND.c.kind == "auto_reply")
    .limit(1)
)
#: Whether the ticket had its auto-reply, and _SENDER_COUNTS: returned with the sender's row
#: (one round trip for all of it).
_REPLIED_AND_COUNTS = (
    _TICKET_AUTO_REPLY.scalar_subquery().label("replied"),
    *(column.label(f"recent_{n}") for n, column in enumerate(_SENDER_COUNTS.selected_columns)),
)


def _locked_sender() -> CTE:
    """See LOCKED_SENDER."""
    inserting = pg_insert(_SENDERS).values(address=bindparam("sender"), auto_replies_today=0)
    return (
        inserting.on_conflict_do_update(
            index_elements=["address"], set_={"address": inserting.excluded.address}
        )
        .returning(*_SENDERS.columns)
        .cte("locked_sender")
    )


#: The sender's row (bound as ``sender``), created if needed, locked until the transaction
#: ends, as ``_locked_activity`` does it, as a WITH of a caller's own PostgreSQL statement (one
#: row: join it ON true), whose columns are SENDER_LOCK_COLUMNS.
LOCKED_SENDER = _locked_sender()


def _sender_lock_columns(locked: CTE) -> tuple[Any, ...]:
    """See SENDER_LOCK_COLUMNS."""
    # Never correlated with the caller's own tables (the worker's first statement reads
    # messages too): they count the sender's rows, whatever else the statement reads.
    counts = (column.correlate(None) for column in _SENDER_COUNTS.selected_columns)
    return (
        *(locked.c[name].label(f"sender_{name}") for name in LockedSender._fields[:6]),
        *(column.label(f"sender_recent_{n}") for n, column in enumerate(counts)),
    )


class LockedSender(NamedTuple):
    """A sender's row locked by the caller's transaction, and its messages since the burst
    window began (``recent_0``: intake rows, ``recent_1``: conversation entries)."""

    id: int
    address: str
    last_auto_reply_at: datetime | None
    auto_replies_day: str | None
    auto_replies_today: int
    flood_blocked_at: datetime | None
    recent_0: int
    recent_1: int
    #: Whether the ticket had its auto-reply: never, for a ticket this transaction created.
    replied: None = None

    @classmethod
    def of(cls, row: Row[Any]) -> LockedSender:
        """From a row of a statement with SENDER_LOCK_COLUMNS."""
        return cls(*(getattr(row, f"sender_{name}") for name in cls._fields[:8]))


#: LOCKED_SENDER's columns and the sender's recent message counts (bound: ``since``; see
#: ``sender_lock_parameters``), for ``LockedSender.of``. The caller's transaction holds the
#: lock from that statement on, as if ``decide_auto_reply`` had taken it: only for one that
#: may open a ticket.
SENDER_LOCK_COLUMNS = _sender_lock_columns(LOCKED_SENDER)


def sender_lock_parameters(
    address: str, config: Mapping[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """The bind parameters of SENDER_LOCK_COLUMNS for ``address``."""
    since = (now or utcnow()) - timedelta(minutes=int(config["AUTOREPLY_BURST_MINUTES"]))
    return {"sender": normalize_address(address), "since": since}


def recent_message_count(session: Session, address: str, since: datetime) -> int:
    """Messages from ``address`` since ``since``: stored intake rows or conversation entries.

    The larger of the two counts is used: intake rows include mail not processed yet (a burst
    arrives faster than the worker), conversation entries include channels without intake rows.
    Both are counted, in one statement, for every auto-reply, so each must match its sender
    index expression for expression (``ix_inbound_sender_received``,
    ``ix_messages_sender_direction_created``) to seek, not scan.
    """
    inbound, messages = session.execute(
        _SENDER_COUNTS, {"sender": normalize_address(address), "since": since}
    ).one()
    return max(int(inbound or 0), int(messages or 0))


def _locked_activity(session: Session, address: str, *, ticket_id: int, since: datetime) -> Row:
    """The sender's row, created if needed, locked until the caller's transaction ends; with
    it, whether the ticket had its auto-reply (``replied``) and the sender's messages since
    ``since`` (``recent_0``: intake rows, ``recent_1``: conversation entries; see
    recent_message_count). The counts may miss a message committed by a writer that held the
    row meanwhile (see insert_or_lock); the window and daily limits, read from the row, do not."""
    return insert_or_lock(
        session,
        _SENDERS,
        {"address": address, "auto_replies_today": 0},
        index_elements=("address",),
        also=_REPLIED_AND_COUNTS,
        parameters={"ticket_id": ticket_id, "sender": address, "since": since},
    )


def decide_auto_reply(
    session: Session,
    address: str,
    *,
    ticket_id: int,
    config: Mapping[str, Any],
    now: datetime | None = None,
    customer: Customer | None = None,
    window: bool = True,
    locked: LockedSender | None = None,
) -> FloodDecision:
    """Decide whether ``address`` may get an auto-reply for this ticket; what that changes for
    the sender (the reply's reservation, a burst's flag) is written by the decision's
    ``record``, which the caller calls once its reply is composed: a reply that fails before
    its first write needs no savepoint to leave no trace (only the sender's row, locked here,
    may be new; on PostgreSQL the worker creates it with its first statement anyway).

    ``customer`` is the customer with this address when the caller has it at hand (else it is
    looked up). ``window`` False skips the per-sender window (a contact-form question; see
    above). ``locked``: the sender's row as the caller's transaction locked it already, for a
    ticket that transaction created (SENDER_LOCK_COLUMNS; used when its address is this one).
    The caller records the decision and enqueues the reply in the same transaction; if it
    rolls back, the reservation goes with it.
    """
    address = normalize_address(address)
    now = now or utcnow()
    burst_minutes = int(config["AUTOREPLY_BURST_MINUTES"])
    activity: Row[Any] | LockedSender
    if locked is not None and locked.address == address:
        activity = locked
    else:
        activity = _locked_activity(
            session, address, ticket_id=ticket_id, since=now - timedelta(minutes=burst_minutes)
        )
    replied, inbound, messages = activity.replied, activity.recent_0, activity.recent_1
    if replied is not None:
        return FloodDecision(False, ALREADY_REPLIED, "this ticket had its auto-reply")

    if customer is None:
        customer = customer_by_address(session, address)
    burst_count = int(config["AUTOREPLY_BURST_COUNT"])
    recent = max(int(inbound or 0), int(messages or 0))  # as recent_message_count
    if burst_count > 0 and recent >= burst_count:
        return FloodDecision(
            False,
            FLOOD,
            f"{recent} messages within {burst_minutes} minutes; sender flagged",
            partial(
                _flag_flood,
                activity=activity,
                customer=customer,
                count=recent,
                minutes=burst_minutes,
                now=now,
            ),
        )
    if customer is not None and customer.flood_flagged_at is not None:
        return FloodDecision(False, FLOOD, "sender is flagged for a burst of mail")
    if activity.flood_blocked_at is not None and now - activity.flood_blocked_at < FLOOD_BLOCK:
        return FloodDecision(False, FLOOD, "sender sent a burst of mail recently")

    span = timedelta(hours=float(config["AUTOREPLY_WINDOW_HOURS"]))
    last = activity.last_auto_reply_at
    if window and last is not None and now - last < span:
        return FloodDecision(
            False,
            WINDOW,
            f"an auto-reply went to this sender at {last.isoformat()}",
        )

    today = _local_day(now, config)
    sent_today = activity.auto_replies_today if activity.auto_replies_day == today else 0
    if sent_today >= int(config["AUTOREPLY_MAX_PER_DAY"]):
        return FloodDecision(False, DAILY_LIMIT, f"{sent_today} auto-replies today")

    reservation = {
        "sender_id": activity.id,
        "last_auto_reply_at": now,
        "auto_replies_day": today,
        "auto_replies_today": sent_today + 1,
    }
    return FloodDecision(True, ALLOWED, writes=partial(_reserve, reservation=reservation))


def _reserve(session: Session, *, reservation: dict[str, Any]) -> None:
    execute_core(session, _UPDATE_SENDER, reservation)


def _flag_flood(
    session: Session,
    *,
    activity: Row[Any] | LockedSender,
    customer: Customer | None,
    count: int,
    minutes: int,
    now: datetime,
) -> None:
    first_time = activity.flood_blocked_at is None or now - activity.flood_blocked_at >= FLOOD_BLOCK
    execute_core(session, _UPDATE_SENDER, {"sender_id": activity.id, "flood_blocked_at": now})
    if customer is not None and customer.flood_flagged_at is None:
        customer.flood_flagged_at = now
        first_time = True
    if first_time:
        logger.warning(
            "%s sent %d messages within %d minutes: auto-replies stopped, flagged for staff",
            activity.address,
            count,
            minutes,
        )
        record_event(
            session,
            "sender_flood_flagged",
            {"address": activity.address, "messages": count, "minutes": minutes},
            subject_type="customer" if customer is not None else "sender",
            subject_id=customer.id if customer is not None else activity.id,
            created_at=now,
        )


def clear_flood_flag(session: Session, address: str, *, actor: User | None = None) -> bool:
    """Let auto-replies reach a flagged sender again (staff decided it was not a loop)."""
    address = normalize_address(address)
    changed = False
    activity = session.scalar(select(SenderActivity).where(SenderActivity.address == address))
    if activity is not None and activity.flood_blocked_at is not None:
        activity.flood_blocked_at = None
        changed = True
    customer = customer_by_address(session, address)
    if customer is not None and customer.flood_flagged_at is not None:
        customer.flood_flagged_at = None
        changed = True
    if changed:
        session.add(
            AuditEvent(
                actor_id=actor.id if actor is not None else None,
                actor_label="staff" if actor is not None else "system",
                action="sender_flood_cleared",
                subject_type="customer" if customer is not None else "sender",
                subject_id=customer.id if customer is not None else None,
                data={"address": address},
            )
        )
        session.flush()
    return changed
