"""The durable outbox: every mail we send is a committed row first and a delivery second.

``support.desk.outbox.enqueue_mail`` stores each mail as a row in the caller's transaction;
``OutboxSender`` delivers the rows afterwards, one at a time:

1. claim a due row in its own short transaction (state ``sending``, a lease, ``attempts + 1``);
2. hand the stored bytes to the relay (or, with no relay configured, write an ``.eml`` file);
3. record the outcome at once in another short transaction, conditional on still owning the
   claim (``attempts`` is the claim's token).

A sender that dies after step 1 leaves a ``sending`` row whose lease expires; the next sender
claims it again, so the message still goes exactly once. The one window we cannot close is a
crash after the relay accepted the message but before step 3 committed: SMTP has no way to ask
"did you already take this?", so that message is sent a second time once the lease expires
(at least once, with the same stored bytes and so the same Message-ID, which lets mail
programs show it once). We keep that window and its cost small:

* the window itself is a single UPDATE right after the relay's reply, retried briefly if the
  database hiccups;
* the lease of a claim (``OUTBOUND_LEASE_SECONDS``, 90 s) is just above what one delivery may
  take (the relay client's SMTP timeout plus the retried UPDATE), not the intake worker's
  5 minutes, so a stopped sender delays its mail by about a minute and a half;
* just before handing the bytes to the relay the sender records the handoff (``handed_at``,
  ``relay_handoffs``). A row claimed again with ``handed_at`` set may already have been
  delivered: the sender logs a warning and writes a "mail_resent" audit event on the ticket,
  and ``relay_handoffs`` of 2 on a sent mail tells staff it may have arrived twice.

The ``.eml`` sink has no such window: the file name is fixed per row and written atomically,
so a repeat overwrites it.
"""

from __future__ import annotations

import logging
import re
import smtplib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask
from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailrouter.outbound.relay import (
    DEFAULT_TIMEOUT_SECONDS,
    DeliveryError,
    PermanentDeliveryError,
    RelayConfig,
    TemporaryDeliveryError,
    next_retry_delay,
    send_via_relay,
)
from support.core.atomic_files import write_atomically
from support.core.concurrency import lock_claimed_rows
from support.core.config import relay_host
from support.core.db import Database, get_db, utcnow
from support.core.runner import PeriodicTask
from support.core.tls import check_ca_file
from support.desk.models import (
    AuditEvent,
    Customer,
    OutboundMail,
)
from support.desk.outbox import KIND_ACCOUNT_LINK, our_domain, without_account_link

logger = logging.getLogger(__name__)

OUTBOX_DIRNAME = "outbox"
#: How often the sender in `support run` looks for due mail.
SEND_INTERVAL_SECONDS = 1.0
#: Rows one `support outbox send` delivers at most; the service's passes have no cap (they
#: stop between two mails when the process stops).
MAX_PER_PASS = 200
#: Attempts to record "sent" when the database is briefly unavailable (the duplicate window).
_MARK_SENT_TRIES = 5
_MARK_SENT_PAUSE_SECONDS = 0.5
#: The shortest lease a claim may have: one SMTP timeout of the relay client plus the time the
#: "sent" UPDATE may be retried, so a live sender never loses a claim it is still using.
MIN_LEASE_SECONDS = int(DEFAULT_TIMEOUT_SECONDS) + 10

# --- delivering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedMail:
    """A snapshot of a claimed row: the sender works from this, not from a live ORM object."""

    id: int
    attempts: int
    envelope_from: str
    recipients: list[str]
    message_id: str
    raw: bytes
    #: The row's kind: an account mail's link leaves the stored text once it is sent.
    kind: str = ""

    def spent(self) -> dict[str, bytes]:
        """What the row's stored text becomes once it is sent: an account mail's loses its
        one-time link (a database reader could open the account with it until it expires)."""
        return {"raw": without_account_link(self.raw)} if self.kind == KIND_ACCOUNT_LINK else {}


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def relay_config(config: Mapping[str, Any]) -> RelayConfig | None:
    """The relay from OUTBOUND_SMTP_*; None when no host is set (mail goes to instance/outbox)."""
    host = relay_host(config)
    if not host:
        return None
    security = str(config.get("OUTBOUND_SMTP_TLS") or "none").strip().lower()
    if security not in ("none", "starttls", "tls"):
        raise ValueError(f"OUTBOUND_SMTP_TLS must be none, starttls or tls, not {security!r}")
    return RelayConfig(
        host=host,
        port=int(config.get("OUTBOUND_SMTP_PORT") or 25),
        security=security,  # type: ignore[arg-type]
        username=str(config.get("OUTBOUND_SMTP_USER") or "") or None,
        password=str(config.get("OUTBOUND_SMTP_PASSWORD") or "") or None,
        helo_name=our_domain(config),
        ca_file=check_ca_file(config.get("OUTBOUND_SMTP_CA_FILE"), "OUTBOUND_SMTP_CA_FILE"),
    )


def eml_path(directory: Path, mail_id: int, message_id: str) -> Path:
    """The fixed file of one outbound row, so writing it twice leaves one file."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", message_id)[:120]
    return directory / f"{mail_id:08d}-{safe}.eml"


def write_eml(directory: Path, mail_id: int, message_id: str, raw: bytes) -> Path:
    """Write atomically (a crash leaves the whole file or none)."""
    target = eml_path(directory, mail_id, message_id)
    write_atomically(target, raw)
    return target


def _due_clause(now: datetime) -> Any:
    return or_(
        and_(
            OutboundMail.state == "pending",
            or_(OutboundMail.next_attempt_at.is_(None), OutboundMail.next_attempt_at <= now),
        ),
        # A reply held for its author's undo goes out once its time is up: the claim is the
        # release, so a crash neither loses it (the row is committed) nor sends it twice.
        and_(OutboundMail.state == "held", OutboundMail.next_attempt_at <= now),
        and_(OutboundMail.state == "sending", OutboundMail.lease_until < now),
    )


class OutboxSender:
    """Delivers due outbox rows; safe to run in several threads or processes at once."""

    def __init__(
        self,
        database: Database,
        config: Mapping[str, Any],
        *,
        outbox_dir: Path,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.config = config
        self.outbox_dir = Path(outbox_dir)
        self.clock = clock
        self.max_attempts = max(1, int(config.get("OUTBOUND_MAX_ATTEMPTS") or 8))
        self.lease = timedelta(
            seconds=max(MIN_LEASE_SECONDS, int(config.get("OUTBOUND_LEASE_SECONDS") or 90))
        )
        relay_config(config)  # a bad relay setting fails at start, not at every delivery

    @classmethod
    def for_app(cls, app: Flask, **options: Any) -> OutboxSender:
        return cls(
            get_db(app),
            app.config,
            outbox_dir=Path(app.instance_path) / OUTBOX_DIRNAME,
            **options,
        )

    # One pass --------------------------------------------------------------------------------

    def run_once(
        self, limit: int | None = MAX_PER_PASS, *, stopping: Callable[[], bool] | None = None
    ) -> SendReport:
        """Deliver every mail that is due now (up to ``limit``; None: all, until ``stopping()``).

        Senders in several processes and hosts run at once: each claim takes a different row
        (``lock_claimed_rows``: FOR UPDATE SKIP LOCKED on PostgreSQL).
        """
        report = SendReport()
        while limit is None or report.handled < limit:
            if stopping is not None and stopping():
                break
            claimed = self.claim_next()
            if claimed is None:
                break
            self.deliver_and_record(claimed, report)
        return report

    def deliver_and_record(self, claimed: ClaimedMail, report: SendReport | None = None) -> str:
        """Send one claimed mail and record what happened; returns the row's new state."""
        report = report if report is not None else SendReport()
        try:
            refused = self.deliver(claimed)
        except PermanentDeliveryError as exc:
            self._record_failure(claimed, exc.reason, permanent=True, cause=exc)
            report.failed += 1
            report.errors.append(exc.reason)
            return "failed"
        except TemporaryDeliveryError as exc:
            state = self._record_failure(claimed, exc.reason, permanent=False, cause=exc)
            report.errors.append(exc.reason)
            if state == "failed":
                report.failed += 1
            else:
                report.retrying += 1
            return state
        except Exception as exc:  # a bug or a full disk must not stop the queue
            logger.exception("unexpected error sending outbound mail %s", claimed.id)
            reason = f"unexpected error: {type(exc).__name__}: {exc}"
            state = self._record_failure(claimed, reason, permanent=False, cause=None)
            report.errors.append(reason)
            if state == "failed":
                report.failed += 1
            else:
                report.retrying += 1
            return state
        self.mark_sent(claimed, refused)
        report.sent += 1
        return "sent"

    # Steps (public so tests can stop between them, as a crash would) --------------------------

    def claim_next(self) -> ClaimedMail | None:
        """Claim the oldest due row for this sender, or return None when nothing is due.

        PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets concurrent senders take different rows.
        SQLite: the session's transaction starts with ``BEGIN IMMEDIATE``, so no other writer
        runs between the SELECT and the claim.
        """
        now = self.clock()
        with self.database.session() as session:
            while True:
                query = (
                    select(OutboundMail).where(_due_clause(now)).order_by(OutboundMail.id).limit(1)
                )
                row = session.scalar(lock_claimed_rows(query, session))
                if row is None:
                    return None
                reclaimed = row.state == "sending"
                row.attempts = (row.attempts or 0) + 1
                if reclaimed and row.attempts > self.max_attempts:
                    # Senders died this often while sending it: something about this mail
                    # stops the process. Give up rather than crash for ever.
                    self._fail(
                        session,
                        row,
                        f"the sender stopped {self.max_attempts} times while sending this mail; "
                        "it may or may not have been delivered",
                        now,
                    )
                    session.flush()
                    continue
                if reclaimed and row.handed_at is not None:
                    self._note_resend(session, row, now)
                elif reclaimed:
                    logger.warning(
                        "outbound mail %s was left 'sending' by a stopped sender; sending again",
                        row.id,
                    )
                row.state = "sending"
                row.lease_until = now + self.lease
                row.handed_at = None
                session.flush()
                return ClaimedMail(
                    id=row.id,
                    attempts=row.attempts,
                    envelope_from=row.envelope_from,
                    recipients=list(row.recipients),
                    message_id=row.message_id,
                    raw=row.raw,
                    kind=row.kind,
                )

    def deliver(self, claimed: ClaimedMail) -> dict[str, str]:
        """Hand the stored bytes to the relay or the outbox folder; returns refused recipients."""
        relay = relay_config(self.config)
        if relay is None:
            # The file is kept as the row is once sent (an account mail without its link):
            # with no relay nobody receives it, and the admin is told so (staff.admin).
            kept = claimed.spent().get("raw", claimed.raw)
            path = write_eml(self.outbox_dir, claimed.id, claimed.message_id, kept)
            logger.info(
                "outbound mail %s (%s) written to %s (no relay configured)",
                claimed.id,
                claimed.kind,
                path,
            )
            return {}
        if not self.record_handoff(claimed):
            raise TemporaryDeliveryError("claimed again by another sender before the handoff")
        return send_via_relay(relay, claimed.raw, claimed.envelope_from, claimed.recipients)

    def record_handoff(self, claimed: ClaimedMail) -> bool:
        """Note that this claim is about to hand the mail to the relay (and renew the lease).

        From here on a crash may leave a delivered mail in ``sending``; the next claim then
        knows it may be sending a duplicate. False when another sender owns the row now.
        """
        now = self.clock()
        with self.database.session() as session:
            return _update_if_ours(
                session,
                claimed,
                handed_at=now,
                relay_handoffs=OutboundMail.relay_handoffs + 1,
                lease_until=now + self.lease,
            )

    def mark_sent(self, claimed: ClaimedMail, refused: Mapping[str, str] | None = None) -> bool:
        """Record delivery at once; this UPDATE is all that stands between us and a duplicate."""
        refused = dict(refused or {})
        note = (
            "accepted, but the relay refused: "
            + "; ".join(f"{rcpt}: {reply}" for rcpt, reply in refused.items())
            if refused
            else None
        )
        spent = claimed.spent()
        for attempt in range(1, _MARK_SENT_TRIES + 1):
            try:
                with self.database.session() as session:
                    done = _update_if_ours(
                        session,
                        claimed,
                        state="sent",
                        sent_at=self.clock(),
                        lease_until=None,
                        last_error=note,
                        **spent,
                    )
                break
            except OperationalError:
                if attempt == _MARK_SENT_TRIES:
                    logger.exception(
                        "mail %s was delivered but cannot be marked sent; it will be sent again "
                        "when its lease expires",
                        claimed.id,
                    )
                    raise
                time.sleep(_MARK_SENT_PAUSE_SECONDS * attempt)
        if not done:
            logger.warning("outbound mail %s was claimed again by another sender", claimed.id)
            return False
        # One INFO line a mail: without a relay, `deliver` has named the file it wrote.
        level = logging.INFO if relay_config(self.config) is not None else logging.DEBUG
        logger.log(level, "outbound mail %s (%s) sent", claimed.id, claimed.kind)
        if refused:
            with self.database.session() as session:
                row = session.get(OutboundMail, claimed.id)
                if row is not None:
                    self._flag_refused(session, row, refused, self.clock())
        return True

    # Failures --------------------------------------------------------------------------------

    def _record_failure(
        self,
        claimed: ClaimedMail,
        reason: str,
        *,
        permanent: bool,
        cause: DeliveryError | None,
    ) -> str:
        now = self.clock()
        with self.database.session() as session:
            row = session.scalar(
                select(OutboundMail).where(*_still_ours(claimed)).with_for_update()
            )
            if row is None:
                logger.warning("outbound mail %s was claimed again by another sender", claimed.id)
                return "sending"
            if permanent or row.attempts >= self.max_attempts:
                if not permanent:
                    reason = f"gave up after {row.attempts} attempts: {reason}"
                self._fail(session, row, reason, now)
                if permanent and cause is not None:
                    self._flag_refused(session, row, _refused_by(cause), now)
                return "failed"
            row.state = "pending"
            row.lease_until = None
            row.last_error = reason
            row.next_attempt_at = now + next_retry_delay(row.attempts)
            logger.info(
                "outbound mail %s: temporary failure (%s); retrying at %s",
                row.id,
                reason,
                row.next_attempt_at.isoformat(),
            )
            return "pending"

    def _note_resend(self, session: Session, row: OutboundMail, now: datetime) -> None:
        """The previous claim handed this mail to the relay and never recorded the outcome."""
        handed_at = row.handed_at
        logger.warning(
            "outbound mail %s <%s> was handed to the relay at %s by a sender that stopped before "
            "recording the outcome; sending it again, the recipient may get it twice (same "
            "Message-ID)",
            row.id,
            row.message_id,
            handed_at.isoformat() if handed_at is not None else "?",
        )
        session.add(
            AuditEvent(
                actor_label="system",
                action="mail_resent",
                ticket_id=row.ticket_id,
                subject_type="outbound_mail",
                subject_id=row.id,
                created_at=now,
                data={
                    "kind": row.kind,
                    "message_id": row.message_id,
                    "handed_at": handed_at.isoformat() if handed_at is not None else None,
                    "relay_handoffs": row.relay_handoffs,
                    "attempts": row.attempts,
                },
            )
        )

    def _fail(self, session: Session, row: OutboundMail, reason: str, now: datetime) -> None:
        row.state = "failed"
        row.lease_until = None
        row.next_attempt_at = None
        row.last_error = reason
        if row.kind == KIND_ACCOUNT_LINK:  # never sent again (retry_mail): its link goes
            row.raw = without_account_link(row.raw)
        session.add(
            AuditEvent(
                actor_label="system",
                action="mail_failed",
                ticket_id=row.ticket_id,
                subject_type="outbound_mail",
                subject_id=row.id,
                created_at=now,
                data={
                    "reason": reason,
                    "kind": row.kind,
                    "recipients": list(row.recipients),
                    "attempts": row.attempts,
                },
            )
        )
        logger.warning("outbound mail %s failed: %s", row.id, reason)

    def _flag_refused(
        self, session: Session, row: OutboundMail, refused: Mapping[str, str], now: datetime
    ) -> None:
        """Mark customers whose address the relay refused for good, so auto-replies stop."""
        permanent = {
            rcpt.lower(): reply for rcpt, reply in refused.items() if reply.strip()[:1] == "5"
        }
        if not permanent:
            return
        customers = session.scalars(
            select(Customer).where(func.lower(Customer.email).in_(sorted(permanent)))
        ).all()
        for customer in customers:
            customer.address_failing_at = now
            customer.address_failing_reason = permanent[customer.email.lower()][:500]


def _refused_by(error: DeliveryError) -> dict[str, str]:
    cause = error.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        return {
            rcpt: f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
            for rcpt, (code, text) in cause.recipients.items()
        }
    return {}


def _still_ours(claimed: ClaimedMail) -> tuple[ColumnElement[bool], ...]:
    """The claimed row, while this sender still owns the claim (``attempts`` is its token)."""
    return (
        OutboundMail.id == claimed.id,
        OutboundMail.state == "sending",
        OutboundMail.attempts == claimed.attempts,
    )


def _update_if_ours(session: Session, claimed: ClaimedMail, **values: Any) -> bool:
    """UPDATE the claimed row unless another sender claimed it since; False then."""
    # An UPDATE without RETURNING gives a CursorResult (it has rowcount); the Session.execute
    # stubs say only Result.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(OutboundMail)
            .where(*_still_ours(claimed))
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    return bool(result.rowcount)


# --- wiring ------------------------------------------------------------------------------------


def services(app: Flask) -> list[Any]:
    """For `support run`: the sender, waking every second and sending all that is due."""
    sender = OutboxSender.for_app(app)
    task = PeriodicTask(
        "outbox",
        SEND_INTERVAL_SECONDS,
        lambda: sender.run_once(limit=None, stopping=task.stopping),
    )
    return [task]
