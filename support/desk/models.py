"""Core records: departments, urgency levels, customers, staff, tickets, messages, audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from support.core.db import Base, utcnow
from support.core.text import NO_SUBJECT_MARKER

#: "spam": staff said so; out of every queue, kept for the record (mailrouter.spam).
TICKET_STATUSES = ("new", "open", "waiting", "resolved", "closed", "spam")
OPEN_STATUSES = ("new", "open", "waiting")
#: The urgency from which a ticket is handled now: important (4) and emergency (5) tickets are
#: never snoozed, and a snoozed ticket raised to one comes back at once (support.desk.snooze).
URGENT_LEVEL = 4
ROLES = ("agent", "lead", "admin")
#: "held": a staff reply its author may still undo, released by the sender at
#: ``next_attempt_at`` (support.desk.held_replies).
OUTBOUND_STATES = ("held", "pending", "sending", "sent", "failed")
CHANNELS = ("email", "imap", "web", "api", "staff")


class Department(Base):
    """A routing target. Departments are data: admins add, rename and retire them."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(120), default="")
    email_address: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # Optional copy of each routed ticket for teams that live in their mail program.
    forward_address: Mapped[str | None] = mapped_column(String(254))
    # Per-department SLA overrides: {"<level>": {"first_response_minutes": n, ...}}
    sla_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(
        secondary="department_members", back_populates="departments"
    )

    def label(self, language: str = "en") -> str:
        return self.name_zh if language == "zh" and self.name_zh else self.name


class UrgencyLevel(Base):
    """The five urgency levels of the literature, each with its response targets."""

    __tablename__ = "urgency_levels"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_zh: Mapped[str] = mapped_column(String(80), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)

    def label(self, language: str = "en") -> str:
        return self.name_zh if language == "zh" and self.name_zh else self.name

    def numbered_label(self, language: str = "en") -> str:
        """The number staff sort by with the name that says what it means: "4 · Important"."""
        return f"{self.level} · {self.label(language)}"


STANDARD_TIER = "standard"
KEY_TIER = "key"
VIP_TIER = "vip"
CUSTOMER_TIERS = (STANDARD_TIER, KEY_TIER, VIP_TIER)


class Customer(Base):
    """Someone who writes in; created or matched by address at first contact."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    #: "standard", "key" or "vip" (CUSTOMER_TIERS); key and VIP customers are key accounts.
    tier: Mapped[str] = mapped_column(String(20), default=STANDARD_TIER)
    language: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Set when our mail to this address bounced.
    address_failing_at: Mapped[datetime | None] = mapped_column()
    address_failing_reason: Mapped[str | None] = mapped_column(Text)
    # Set when a burst of mail stopped auto-replies to this sender.
    flood_flagged_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when the customer's personal data was erased (on request or by retention,
    #: `support.desk.privacy`); the row keeps only a pseudonym, the tier and the dates.
    erased_at: Mapped[datetime | None] = mapped_column()

    tickets: Mapped[list[Ticket]] = relationship(back_populates="customer")

    @property
    def is_key_account(self) -> bool:
        """Key accounts come first (the texts' "key accounts first"): any tier above standard."""
        return bool(self.tier) and self.tier != STANDARD_TIER

    @is_key_account.setter
    def is_key_account(self, value: bool) -> None:
        self.tier = "key" if value else STANDARD_TIER


department_members = Table(
    "department_members",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)


#: The name `support init` gives the first admin when none is given (``--admin-name``): a
#: role, not a person, so it never signs a reply; staff pages ask for a real name until set.
UNNAMED_ADMIN = "Administrator"


class User(Base):
    """A staff account. Role decides reach: agent < lead (manages a department) < admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name customers see in signatures; protects staff who prefer a pseudonym.
    display_alias: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="agent")
    can_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(8))
    # With no own language ("Default"): the language their staff pages were last shown in
    # (the browser's, or the switch at the top), so the mail to them reads as their pages do.
    page_language: Mapped[str | None] = mapped_column(String(8))
    # Moves on at sign-out and password change: every session of the user ends (support.auth).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    api_token_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()

    departments: Mapped[list[Department]] = relationship(
        secondary="department_members", back_populates="members"
    )

    @property
    def needs_name(self) -> bool:
        """Still the name `support init` gave: customers would read "Administrator"."""
        return not self.display_alias and self.name.strip() == UNNAMED_ADMIN

    @property
    def signature_name(self) -> str:
        """The name replies are signed and sent with; empty (the team's name alone) until an
        unnamed first admin sets one."""
        return "" if self.needs_name else (self.display_alias or self.name)


class StaffToken(Base):
    """A one-time link to choose a password (invitation or reset), stored only as its hash.

    Bound to the password hash and address the user had when it was made
    (``password_stamp``): any password change, by the link or otherwise, or a new address makes
    it worthless; deactivation deletes it (support.desk.staff_tokens).
    """

    __tablename__ = "staff_tokens"
    __table_args__ = (Index("ix_staff_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: "invite" or "reset"
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    password_stamp: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class Ticket(Base):
    """One conversation with a customer about one need."""

    __tablename__ = "tickets"
    __table_args__ = (
        # The queue's order and, after it, what the SLA state is computed from: the inbox reads
        # breached / due-soon / on-track from this index alone (support.staff.inbox).
        Index(
            "ix_tickets_queue",
            "department_id",
            "status",
            "urgency",
            "first_response_due_at",
            "first_response_at",
            "resolution_due_at",
            "sla_warn_at",
            "sla_paused_at",
        ),
        Index("ix_tickets_triage", "needs_triage", "status"),
        Index("ix_tickets_assignee", "assignee_id", "status"),
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
        Index("ix_tickets_progress_due", "progress_due_at"),
        # Partial: only the few snoozed tickets are in it (the wake-up job's query); a full
        # index let PostgreSQL read the queues' "not snoozed" through it, not ix_tickets_queue.
        Index(
            "ix_tickets_snoozed_until",
            "snoozed_until",
            sqlite_where=text("snoozed_until IS NOT NULL"),
            postgresql_where=text("snoozed_until IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    urgency: Mapped[int] = mapped_column(ForeignKey("urgency_levels.level"), default=2)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    needs_triage: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    language: Mapped[str] = mapped_column(String(8), default="en")
    # The classifier's decision: {"department": {...}, "urgency": {...}, "model_version": ...}
    classification: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_customer_message_at: Mapped[datetime | None] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    first_response_at: Mapped[datetime | None] = mapped_column()
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)
    first_response_due_at: Mapped[datetime | None] = mapped_column()
    resolution_due_at: Mapped[datetime | None] = mapped_column()
    sla_paused_at: Mapped[datetime | None] = mapped_column()
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # When the active target (first response, then resolution) becomes "due soon".
    sla_warn_at: Mapped[datetime | None] = mapped_column()
    sla_warned_at: Mapped[datetime | None] = mapped_column()
    sla_breached_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    # Set when the customer clicked "this answered my question" in the auto-reply.
    resolved_by_article_id: Mapped[int | None] = mapped_column(ForeignKey("faq_articles.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # A reply to a closed ticket may open a new ticket linked to the old one.
    previous_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    #: The ticket a mail named (Message-ID, subject token) although its sender takes no part
    #: in it: this ticket was opened instead, and staff see the link (never the customer). Such
    #: a ticket may be merged into that one although their customers differ (merging.py).
    refers_to_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    satisfaction_rating: Mapped[int | None] = mapped_column(Integer)
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    satisfaction_at: Mapped[datetime | None] = mapped_column()
    #: "complaint" when the customer complains: the complaint steps and deadlines apply.
    kind: Mapped[str | None] = mapped_column(String(20))
    #: simple / general / complex (COMPLAINT_WORKING_DAYS, COMPLAINT_PROGRESS_DAYS).
    complaint_complexity: Mapped[str | None] = mapped_column(String(10))
    #: The complaint steps done so far (support.desk.complaints.STEPS).
    complaint_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    complaint_due_at: Mapped[datetime | None] = mapped_column()
    #: Complex complaints: the next progress report to the customer is due then.
    progress_due_at: Mapped[datetime | None] = mapped_column()
    progress_reminded_at: Mapped[datetime | None] = mapped_column()
    #: Set when the ticket's personal data (texts, addresses, attachments, mail) was removed;
    #: the row stays for statistics (`support.desk.privacy`).
    anonymised_at: Mapped[datetime | None] = mapped_column()
    #: Set aside by staff until then: out of the open queues, back by itself at that time or
    #: when the customer writes again (support.desk.snooze). The response clock keeps running.
    snoozed_until: Mapped[datetime | None] = mapped_column()

    customer: Mapped[Customer] = relationship(back_populates="tickets")
    department: Mapped[Department | None] = relationship()
    assignee: Mapped[User | None] = relationship()
    urgency_level: Mapped[UrgencyLevel] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="ticket", order_by="Message.created_at", foreign_keys="Message.ticket_id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_urgent(self) -> bool:
        """Important or emergency: handled now, never snoozed (``URGENT_LEVEL``)."""
        return self.urgency >= URGENT_LEVEL

    @property
    def own_subject(self) -> str:
        """The subject the customer wrote; "" when their mail had none (the stored
        placeholder is no words of theirs: not quoted to them, nor searched for answers)."""
        subject = self.subject or ""
        return "" if subject.strip() == NO_SUBJECT_MARKER else subject


class Message(Base):
    """One mail, form submission, staff reply or internal note within a ticket.

    Inbound messages keep the raw RFC 5322 bytes through their InboundMail row.
    """

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    # "in" from the customer, "out" a reply to the customer, "note" internal, "auto" auto-reply.
    direction: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20), default="email")
    # RFC 5322 Message-ID without angle brackets; unique so a CC to two addresses is one message.
    message_id: Mapped[str | None] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    from_address: Mapped[str] = mapped_column(String(254), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    to_addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc_addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(998), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    new_text: Mapped[str] = mapped_column(Text, default="")
    quoted_text: Mapped[str] = mapped_column(Text, default="")
    #: The mail a forward sends, as read (subject and own words): routed by when the sender's
    #: new text is only a short comment (mailrouter.parsing.forwards); "" for other mail.
    forwarded_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    html_sanitized: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    is_automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    automatic_reason: Mapped[str | None] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    inbound_mail_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_mail.id"), index=True)
    outbound_mail_id: Mapped[int | None] = mapped_column(ForeignKey("outbound_mail.id"))
    parse_defects: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Why the sender's address is not believed (a trusted DMARC or SPF failure), or None.
    sender_unverified: Mapped[str | None] = mapped_column(String(200))
    #: The sender's UTC offset in minutes from their mail's Date header (-300 for "-0500";
    #: `zones.UTC_OFFSET_MINUTES`), or None: the follow page tells times on the customer's own
    #: clock, as the auto-reply did.
    date_offset_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Below the columns because the expression index refers to them. The sender index serves
    # flood.recent_message_count, which compares lower(from_address) for every auto-reply.
    __table_args__ = (
        Index("ix_messages_ticket_created", "ticket_id", "created_at"),
        Index(
            "ix_messages_sender_direction_created", func.lower(from_address), direction, created_at
        ),
    )

    ticket: Mapped[Ticket] = relationship(back_populates="messages", foreign_keys=[ticket_id])
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="message")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content_id: Mapped[str | None] = mapped_column(String(998))
    is_inline: Mapped[bool] = mapped_column(Boolean, default=False)
    # None when the part was over the size limit; skipped_reason then says why.
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    skipped_reason: Mapped[str | None] = mapped_column(String(255))

    message: Mapped[Message] = relationship(back_populates="attachments")


class AuditEvent(Base):
    """Who did what, when: every state change of a ticket, article or account."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_ticket_created", "ticket_id", "created_at"),
        # Events about a customer (or another subject): export and erasure read them.
        Index("ix_audit_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # "system", "customer", "worker", "sla" when no staff member acted.
    actor_label: Mapped[str] = mapped_column(String(80), default="system")
    action: Mapped[str] = mapped_column(String(80), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class ConsentRecord(Base):
    """What a customer agreed to, when and where: the contact form's consent box.

    ``email`` links the record to the customer until the worker has created them (the form is
    queued as mail); erasure clears it and keeps the record under the customer's id.
    """

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    # "web" (the contact form)
    channel: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(40), default="contact")
    # The first 16 hex digits of the text's SHA-256, so a changed text is a new version.
    version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(default=utcnow)


class Setting(Base):
    """Small runtime state that must survive restarts (e.g. the trained model's data hash)."""

    __tablename__ = "runtime_settings"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


__all__ = [
    "AuditEvent",
    "Attachment",
    "ConsentRecord",
    "Customer",
    "Department",
    "Message",
    "Setting",
    "Ticket",
    "UrgencyLevel",
    "User",
    "department_members",
]


class OutboundMail(Base):
    """A message we send, committed before any attempt so a crash never loses or doubles it."""

    __tablename__ = "outbound_mail"
    __table_args__ = (Index("ix_outbound_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    # "auto_reply", "reply", "notification", "survey", "forward"
    kind: Mapped[str] = mapped_column(String(20))
    envelope_from: Mapped[str] = mapped_column(String(254))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    message_id: Mapped[str] = mapped_column(String(998), unique=True)
    subject: Mapped[str] = mapped_column(String(998), default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    lease_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    #: When the current claim's sender began handing the message to the relay (reset by each
    #: claim): a row claimed again with this set may already have been delivered.
    handed_at: Mapped[datetime | None] = mapped_column()
    #: How often the message was handed to the relay; 2 or more on a sent row means a sender
    #: stopped after handing it over, so the recipient may have it twice (same Message-ID).
    relay_handoffs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def written_to_file(self, relay_host: str) -> bool:
        """Whether this "sent" mail only went to instance/outbox/: with no relay the sender writes
        each mail there and marks it sent, and "Sent" told a new admin the customer had it."""
        return written_to_file(self.state, relay_host, self.relay_handoffs)


def written_to_file(state: str, relay_host: str, relay_handoffs: int) -> bool:
    """The rule behind :meth:`OutboundMail.written_to_file`, for rows read column by column."""
    return state == "sent" and not relay_host and not relay_handoffs


class TrainingExample(Base):
    """A labelled message: staff corrections, triage decisions and imported history."""

    __tablename__ = "training_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    department_code: Mapped[str | None] = mapped_column(String(40))
    urgency: Mapped[int | None] = mapped_column(Integer)
    # "correction", "triage", "csv", "confirmed"
    source: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: Who sees a saved reply: its author only, one department, or all staff.
SAVED_REPLY_SCOPES = ("personal", "department", "everyone")


class SavedReply(Base):
    """A reply text staff insert into the reply box; placeholders are filled per ticket."""

    __tablename__ = "saved_replies"
    __table_args__ = (Index("ix_saved_replies_scope", "scope", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20), default="personal")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship()
    department: Mapped[Department | None] = relationship()


class TicketSearch(Base):
    """One row per ticket: its searchable words (subject, customer, message texts), already
    normalised and segmented (`support.core.fulltext`). A full-text index is kept over it by the
    database (SQLite: the FTS5 table `ticket_search_fts`, in step through triggers; PostgreSQL: a
    GIN index over the words), both created by migration 0010. Written by `support.desk.search`.
    """

    __tablename__ = "ticket_search"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    document: Mapped[str] = mapped_column(Text, default="")
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketPresence(Base):
    """Who has a ticket open right now, and whether they are writing a reply: a heartbeat the
    ticket page sends while it is shown (support.desk.presence). Kept in the database, not in
    a process, because the web processes of several hosts serve the same desk."""

    __tablename__ = "ticket_presence"
    __table_args__ = (Index("ix_ticket_presence_expires_at", "expires_at"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: "viewing" or "replying" (support.desk.presence.STATES).
    state: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime] = mapped_column()


class TicketSeen(Base):
    """When a staff member last opened a ticket: the inbox's "unread for me" marker."""

    __tablename__ = "ticket_seen"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketTag(Base):
    """A free-form label staff put on a ticket ("refund", "退货"), normalised by
    support.desk.tags: lower case, Simplified characters, at most TAG_MAX_CHARS."""

    __tablename__ = "ticket_tags"
    #: The inbox's tag filter reads (tag, ticket); the ticket page reads the primary key.
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SavedView(Base):
    """An agent's own named inbox filter (support.desk.saved_views): which inbox (a
    department's code, "triage" or "mine") and the filters, as the inbox's query string."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_views_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))
    inbox_key: Mapped[str] = mapped_column(String(40))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
