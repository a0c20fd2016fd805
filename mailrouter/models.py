"""Mail router records: the durable intake queue, IMAP cursors, reply templates, classifier
runs and sender activity. (The outbox and training labels are the desk's: `support.desk.models`.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from support.core.db import Base, utcnow

INBOUND_STATES = ("received", "processing", "processed", "quarantined")
#: The states a worker may claim a row in (``ix_inbound_mail_queued``'s rows): "received", and
#: "processing" under a lease that may have run out.
QUEUED_STATES_SQL = "state IN ('received', 'processing')"


class InboundMail(Base):
    """A message exactly as received, committed before the sender hears 250.

    This row is the work queue: the worker claims rows in state "received", and a row left in
    "processing" by a crashed worker is claimed again once its lease expires.
    """

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "smtp", "imap", "web" (contact form), "api"
    channel: Mapped[str] = mapped_column(String(20))
    envelope_from: Mapped[str] = mapped_column(String(254), default="")
    envelope_to: Mapped[list[str]] = mapped_column(JSON, default=list)
    # For an IMAP message: "<mailbox name>:<uidvalidity>:<uid>", unique so nothing is stored twice.
    source_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    # Department chosen by the address or mailbox the mail came in through, if any.
    department_code: Mapped[str | None] = mapped_column(String(40))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    #: Set when retention or erasure dropped the raw bytes (raw is then empty); the parsed
    #: message stays with its ticket.
    raw_dropped_at: Mapped[datetime | None] = mapped_column()
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    header_message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    # Extra data for non-mail channels (contact form fields, client IP hash).
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    locked_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column()
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # The spam check's verdict (mailrouter.spam): NULL until checked. ``spam_state`` is
    # "suspected" or "certain" while the mail is held on the Spam page instead of being a
    # ticket, "released" once staff said "not spam", "confirmed" once staff said "spam".
    spam_state: Mapped[str | None] = mapped_column(String(12))
    spam_score: Mapped[float | None] = mapped_column()
    # {"level", "source", "reasons": [...], "subject", "sender_check"}
    spam_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # Below the columns because the expression index refers to them. The sender index serves
    # flood.recent_message_count, which compares lower(envelope_from) for every auto-reply.
    # The queue index holds only the rows a worker may claim, in id order: the claim
    # (mailrouter.intake.queue) reads the oldest 20 of them and stops, however many mails were
    # processed before them or wait behind them.
    __table_args__ = (
        Index("ix_inbound_state_next", "state", "next_attempt_at"),
        Index(
            "ix_inbound_mail_queued",
            "id",
            sqlite_where=text(QUEUED_STATES_SQL),
            postgresql_where=text(QUEUED_STATES_SQL),
        ),
        Index("ix_inbound_sender_received", func.lower(envelope_from), received_at),
        Index("ix_inbound_spam_state_received", "spam_state", "received_at"),
    )


class ImapCursor(Base):
    """How far a mailbox has been read: UIDs are only meaningful within one UIDVALIDITY."""

    __tablename__ = "imap_cursors"

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_key: Mapped[str] = mapped_column(String(400), unique=True)
    uidvalidity: Mapped[int] = mapped_column(Integer)
    last_uid: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReplyTemplate(Base):
    """An admin-edited auto-reply template; shipped files are the fallback and the reset target."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # e.g. "sales.4.zh.txt", "default.en.html", "default.en.subject"
    key: Mapped[str] = mapped_column(String(120), unique=True)
    source: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ClassifierRun(Base):
    """One training of the model, with its held-out evaluation, shown to admins."""

    __tablename__ = "classifier_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    model_version: Mapped[str] = mapped_column(String(80))
    data_hash: Mapped[str] = mapped_column(String(64))
    n_examples: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(default=0.0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class SenderActivity(Base):
    """Per-sender counters for auto-reply windows and flood detection."""

    __tablename__ = "sender_activity"
    __table_args__ = (UniqueConstraint("address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    last_auto_reply_at: Mapped[datetime | None] = mapped_column()
    auto_replies_day: Mapped[str | None] = mapped_column(String(10))
    auto_replies_today: Mapped[int] = mapped_column(Integer, default=0)
    flood_blocked_at: Mapped[datetime | None] = mapped_column()


class SpamExample(Base):
    """A staff decision "spam" or "not spam" on one mail, which the learned filter learns.

    The mail is kept (its first 256 KB) because its held copy is purged later, and because
    the filter reads it again whenever its features change. No foreign keys: purging held
    spam or merging tickets must not touch what was learned.
    """

    __tablename__ = "spam_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "spam" or "ham"
    label: Mapped[str] = mapped_column(String(10))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    inbound_mail_id: Mapped[int | None] = mapped_column(Integer, index=True)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class ClaimedMail:
    """What the pipeline reads of a claimed row: loaded and finished with one statement each,
    so the worker's unit of work never has to track the (large) queue row."""

    id: int
    received_at: datetime
    channel: str
    envelope_from: str
    department_code: str | None
    raw: bytes
    meta: dict[str, Any]
