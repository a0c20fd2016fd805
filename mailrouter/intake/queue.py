"""The durable intake queue: every inbound mail is an InboundMail row before anyone answers.

Rows move ``received`` -> ``processing`` (claimed by one worker, with a lease) -> ``processed``,
or to ``quarantined`` after WORKER_MAX_ATTEMPTS failures, where staff inspect and replay them.
Claiming is a short transaction of its own (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's IMMEDIATE transactions serialise writers, and the conditional UPDATE makes
the claim safe either way), so the attempt counts even when the worker is killed mid-way.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from typing import Any, cast

from flask import current_app, has_app_context
from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    and_,
    bindparam,
    case,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session

from mailrouter.compose import compose_message, message_bytes
from mailrouter.models import QUEUED_STATES_SQL, ClaimedMail, InboundMail
from mailrouter.outbound.follow_clock import answer_by_text, promised_answer, readers_clock
from mailrouter.parsing.headers import sender_utc_offset
from support.core.concurrency import advisory_lock_on, single_writer
from support.core.db import UTCDateTime, execute_core, utcnow
from support.core.round_trips import result_unread
from support.core.tables import table_of
from support.core.zones import own_clock
from support.desk.access import visible_department_ids
from support.desk.models import AuditEvent, Department, Message, Ticket, User

log = logging.getLogger(__name__)

RECEIVED = "received"
PROCESSING = "processing"
PROCESSED = "processed"
QUARANTINED = "quarantined"

#: Only this much of a message is searched for its Message-ID; headers are never longer.
_HEADER_SCAN_BYTES = 64 * 1024
_MESSAGE_ID_HEADER_RE = re.compile(
    rb"^message-id[ \t]*:[ \t]*((?:[^\r\n]*)(?:\r?\n[ \t][^\r\n]*)*)", re.IGNORECASE | re.MULTILINE
)
_MAX_ERROR_CHARS = 20_000
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID of raw mail without angle brackets, read cheaply from the header block.

    Only for bookkeeping (finding duplicates); the worker's parser is the authority.
    """
    head = raw[:_HEADER_SCAN_BYTES]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=-1)
    if end >= 0:
        head = head[:end]
    match = _MESSAGE_ID_HEADER_RE.search(head)
    if not match:
        return None
    value = b" ".join(match.group(1).split()).decode("ascii", "replace")
    # No control characters: PostgreSQL stores no NUL, and refused the whole row (a 451).
    value = _CONTROL_RE.sub("", value).strip()
    inner = re.search(r"<([^<>\s]+)>", value)
    value = inner.group(1) if inner else value.strip("<> ")
    return value[:998] or None


def _inbound_fields(
    *,
    channel: str,
    raw: bytes,
    envelope_from: str,
    envelope_to: Iterable[str],
    department_code: str | None,
    source_key: str | None,
    meta: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "received_at": utcnow(),
        "channel": channel,
        "envelope_from": (envelope_from or "")[:254],
        "envelope_to": [address.strip().lower() for address in envelope_to],
        "department_code": department_code,
        "source_key": source_key,
        "raw": bytes(raw),
        "size": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
        "header_message_id": header_message_id(raw),
        "meta": dict(meta or {}),
        "state": RECEIVED,
        "attempts": 0,
    }


def store_inbound(
    session: Session,
    *,
    channel: str,
    raw: bytes,
    envelope_from: str = "",
    envelope_to: Iterable[str] = (),
    department_code: str | None = None,
    source_key: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> InboundMail:
    """Add a received message to the queue; it is durable once the caller commits."""
    inbound = InboundMail(
        **_inbound_fields(
            channel=channel,
            raw=raw,
            envelope_from=envelope_from,
            envelope_to=envelope_to,
            department_code=department_code,
            source_key=source_key,
            meta=meta,
        )
    )
    session.add(inbound)
    session.flush()
    return inbound


_INSERT_INBOUND = insert(table_of(InboundMail)).returning(table_of(InboundMail).c.id)


def insert_inbound(
    connection: Connection,
    *,
    channel: str,
    raw: bytes,
    envelope_from: str = "",
    envelope_to: Iterable[str] = (),
    department_code: str | None = None,
) -> int:
    """``store_inbound`` for the SMTP hot path: one Core INSERT, no ORM; returns the id."""
    fields = _inbound_fields(
        channel=channel,
        raw=raw,
        envelope_from=envelope_from,
        envelope_to=envelope_to,
        department_code=department_code,
        source_key=None,
        meta=None,
    )
    return connection.execute(_INSERT_INBOUND, fields).scalar_one()


def department_addresses(session: Session) -> dict[str, str]:
    """Lower-cased address -> department code, for every active department."""
    rows = session.execute(
        select(Department.email_address, Department.code).where(Department.is_active.is_(True))
    )
    return {address.strip().lower(): code for address, code in rows if address}


def department_for_recipients(
    recipients: Iterable[str], addresses: Mapping[str, str]
) -> str | None:
    """The department of the first recipient that is a department address, if any."""
    for recipient in recipients:
        code = addresses.get(recipient.strip().lower())
        if code:
            return code
    return None


# --- the web contact form ----------------------------------------------------------------------

#: The meta flag of a contact-form question whose address gets no auto-reply: the address was
#: over the form's hourly limit (``faq.portal``), which the page must not tell.
NO_AUTO_REPLY = "no_auto_reply"


def web_message_id(kind: str, domain: str) -> str:
    """A Message-ID for mail the web pages write: a reply naming it joins its ticket
    (``conversations``), so it must not be guessable. ``make_msgid`` alone draws from
    ``random`` (Mersenne Twister), whose next values follow from some 300 seen ones."""
    return make_msgid(idstring=f"{kind}.{secrets.token_hex(12)}", domain=domain)


def build_web_message(
    *,
    name: str,
    email: str,
    subject: str,
    body: str,
    to_address: str,
    submitted_at: datetime | None = None,
    utc_offset_minutes: int | None = None,
) -> bytes:
    """A real RFC 5322 message from a contact form, so it takes exactly the mail path.

    Written by ``compose_message``, which makes every header safe: the stdlib's default policy
    writes a display name that looks like an RFC 2047 word (``=?utf-8?b?...?=``) as is, so
    whatever it decodes to (``Eve\\r\\nBcc: ...``) became headers of the message we queue.
    """
    domain = to_address.rpartition("@")[2] or "localhost"
    at = submitted_at or utcnow()
    try:
        message = compose_message(
            from_name=name or "",
            from_address=email.strip(),
            to=[to_address],
            subject=subject or "",
            text=body or "",
            html=None,
            message_id=web_message_id("web", domain),
            in_reply_to=None,
            references=[],
            automatic=False,
            extra_headers={"X-Support-Channel": "web"},
            date_at=at,
        )
    except ValueError:
        raise ValueError(f"invalid e-mail address {email!r}") from None
    offset = own_clock(utc_offset_minutes)
    if offset is not None:
        # The customer's clock, as their own mail program would write the Date header: the
        # pipeline keeps its offset (follow page, ticket page, auto-reply times), "+0000"
        # included (`form_utc_offset`).
        clock = timezone(timedelta(minutes=offset))
        message.replace_header("Date", format_datetime(at.astimezone(clock)))
    else:  # "-0000": the time in UTC, the customer's zone unknown (RFC 5322, 3.3)
        message.replace_header("Date", format_datetime(at.astimezone(UTC).replace(tzinfo=None)))
    return message_bytes(message)


_FORM_UTC_RE = re.compile(r"\+0000\s*$")


def form_utc_offset(raw: bytes) -> int | None:
    """The customer's clock a contact-form message carries, as `build_web_message` wrote it
    in the Date header. Its "+0000" is a browser on UTC+0 (London in winter, Reykjavik): as
    mail, where programs that do not know the zone write it too, `sender_utc_offset` reads it
    as unknown; the form writes "-0000" for that."""
    date = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)["Date"]
    if isinstance(date, str) and _FORM_UTC_RE.search(date):
        return 0
    return sender_utc_offset(date if isinstance(date, str) else None)


def enqueue_web_submission(
    session: Session,
    *,
    name: str,
    email: str,
    subject: str,
    body: str,
    department_code: str | None,
    meta: Mapping[str, Any] | None = None,
    general_address: str | None = None,
    utc_offset_minutes: int | None = None,
) -> InboundMail:
    """Queue a contact-form submission as an InboundMail (channel "web"); the caller commits.

    The message is addressed to the chosen department (or ``general_address``, default the
    app's MAIL_GENERAL_ADDRESS) and then goes through the same pipeline as any mail.
    ``utc_offset_minutes``: the customer's clock as their browser gave it (None: unknown).
    """
    department = None
    if department_code:
        department = session.scalar(select(Department).where(Department.code == department_code))
        if department is None:
            raise ValueError(f"unknown department {department_code!r}")
    if department is not None:
        to_address = department.email_address
    else:
        to_address = general_address or _configured_general_address()
    raw = build_web_message(
        name=name,
        email=email,
        subject=subject,
        body=body,
        to_address=to_address,
        utc_offset_minutes=utc_offset_minutes,
    )
    return store_inbound(
        session,
        channel="web",
        raw=raw,
        envelope_from=email.strip(),
        envelope_to=[to_address],
        department_code=department.code if department is not None else None,
        meta=meta,
    )


class WebIntake:
    """The contact form's way into the intake (``faq.portal.ContactIntake``): a question is a
    mail on the "web" channel, and the form's hourly limit counts those."""

    def submit(
        self,
        session: Session,
        *,
        name: str,
        email: str,
        subject: str,
        body: str,
        department_code: str | None,
        meta: Mapping[str, Any],
        utc_offset_minutes: int | None = None,
        mail_to_address: bool = True,
    ) -> int:
        if not mail_to_address:
            meta = {**meta, NO_AUTO_REPLY: True}
        return enqueue_web_submission(
            session,
            name=name,
            email=email,
            subject=subject,
            body=body,
            department_code=department_code,
            meta=meta,
            utc_offset_minutes=utc_offset_minutes,
        ).id

    def receipt(
        self, session: Session, question_id: int, *, language: str, traditional: bool
    ) -> WebReceipt | None:
        """The reference of the ticket this question started, once the worker made it, and
        when the personal answer is due at the latest (`promised_answer`, told as the follow
        page tells times: `answer_by_text`).

        Anyone can type any address, so nothing here may depend on what we know of it: the
        due time is the one the question's words earn from anyone (the ticket's own may be
        sooner: a key account's tier, a repeated report; the confirmation mail tells the
        address's owner), on the clock of the browser that sent the form, never a zone on
        record, and it stays the same once the ticket is answered or merged into another of
        the address's tickets. Never a follow link: the follow page would show our answers
        to the address; the link goes by mail, to the address, for everyone.

        None while it waits in the queue, and if it ever joined an existing ticket (it takes
        no subject token; see the pipeline): the page must not hand out another's reference.
        """
        row = session.execute(
            select(InboundMail.ticket_id, InboundMail.received_at).where(
                InboundMail.id == question_id, InboundMail.channel == "web"
            )
        ).first()
        if row is None or row.ticket_id is None:
            return None
        ticket = session.get(Ticket, row.ticket_id)
        # Started by this question (its messages move when staff merge it; this stays).
        if ticket is None or not ticket.reference or ticket.created_at != row.received_at:
            return None
        due = promised_answer(ticket, current_app.config)
        if due is None:
            return WebReceipt(ticket.reference, None)
        offset = session.scalar(
            select(Message.date_offset_minutes).where(Message.inbound_mail_id == question_id)
        )
        clock = readers_clock(
            None,
            offset,
            current_app.config,
            language=language,
            traditional=traditional,
            moment=due,
        )
        return WebReceipt(ticket.reference, answer_by_text(due, clock, utcnow()))


@dataclass(frozen=True)
class WebReceipt:
    """What the contact form's confirmation shows (``faq.portal.ContactReceipt``)."""

    reference: str
    #: "tomorrow at 03:46, your time (UTC-5)"; None when no decision is on record.
    answer_by: str | None


def _configured_general_address() -> str:
    if has_app_context():
        return str(current_app.config["MAIL_GENERAL_ADDRESS"])
    raise ValueError("no department and no general address given")


# --- claiming and finishing --------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A row this worker owns until ``lease_until``; ``attempts`` includes this one."""

    id: int
    attempts: int
    lease_until: datetime


# Built once: the claim runs for every message, and composing SQLAlchemy expressions each
# time cost more than the queries themselves. Core (not ORM) statements, bound by name.
_queue_table = table_of(InboundMail)
_NOW = bindparam("now", type_=UTCDateTime())
_CLAIMABLE = and_(
    # The queue index's own condition, word for word (ix_inbound_mail_queued): the claim reads
    # the oldest due rows from it and stops at ``limit``. Without it, the history of processed
    # mail (PostgreSQL walked it by primary key) or the whole backlog (sorted by id: SQLite, and
    # PostgreSQL before its statistics) was read for every claim. SQLite uses a partial index
    # only for a query that repeats its condition.
    text(QUEUED_STATES_SQL),
    or_(
        and_(
            _queue_table.c.state == RECEIVED,
            or_(_queue_table.c.next_attempt_at.is_(None), _queue_table.c.next_attempt_at <= _NOW),
        ),
        and_(_queue_table.c.state == PROCESSING, _queue_table.c.lease_until < _NOW),
    ),
)
_DUE = (
    select(
        _queue_table.c.id,
        _queue_table.c.state,
        _queue_table.c.attempts,
        _queue_table.c.locked_by,
    )
    .where(_CLAIMABLE)
    .order_by(_queue_table.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_TAKE = (
    update(_queue_table)
    .where(_queue_table.c.id.in_(bindparam("row_ids", expanding=True)), _CLAIMABLE)
    .values(
        state=PROCESSING,
        locked_by=bindparam("worker_id"),
        lease_until=bindparam("lease_until", type_=UTCDateTime()),
        attempts=_queue_table.c.attempts + 1,
    )
    .returning(_queue_table.c.id, _queue_table.c.attempts)
)
_GIVE_UP = (
    update(_queue_table)
    .where(_queue_table.c.id == bindparam("row_id"), _CLAIMABLE)
    .values(state=QUARANTINED, locked_by=None, lease_until=None, last_error=bindparam("error"))
)


def claim_batch(
    session: Session,
    *,
    worker_id: str,
    lease_seconds: float,
    max_attempts: int,
    limit: int = 1,
    now: datetime | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` of the oldest due rows and commit the claims; [] when none is due.

    A row whose lease ran out after ``max_attempts`` claims killed its workers each time (a
    crash, OOM, kill -9): it is quarantined instead of being tried for ever.
    """
    while True:
        connection = session.connection()
        moment = now or utcnow()
        lease_until = moment + timedelta(seconds=lease_seconds)
        candidates = connection.execute(_DUE, {"now": moment, "limit": max(1, limit)}).all()
        wanted = []
        for row_id, state, attempts, locked_by in candidates:
            if state == PROCESSING and attempts >= max_attempts:
                error = (
                    f"processing was interrupted {attempts} times (the worker crashed or was "
                    f"killed; last one: {locked_by})"
                )
                connection.execute(_GIVE_UP, {"now": moment, "row_id": row_id, "error": error})
                log.error(
                    "inbound mail %s quarantined: its workers died %s times", row_id, attempts
                )
                continue
            if state == PROCESSING:
                log.warning(
                    "inbound mail %s: lease of %s expired; taking it over", row_id, locked_by
                )
            wanted.append(row_id)
        taken = (
            connection.execute(
                _TAKE,
                {
                    "now": moment,
                    "row_ids": wanted,
                    "worker_id": worker_id,
                    "lease_until": lease_until,
                },
            ).all()
            if wanted
            else []
        )
        claims = [
            Claim(id=row_id, attempts=attempts, lease_until=lease_until)
            for row_id, attempts in sorted(taken)
        ]
        session.commit()
        if claims or not candidates:
            return claims
        # Every candidate was quarantined or taken by someone else: look again.


_CLAIMED_UNLOCKED = select(
    _queue_table.c.id,
    _queue_table.c.received_at,
    _queue_table.c.channel,
    _queue_table.c.envelope_from,
    _queue_table.c.department_code,
    _queue_table.c.raw,
    _queue_table.c.meta,
).where(
    _queue_table.c.id == bindparam("row_id"),
    _queue_table.c.state == PROCESSING,
    _queue_table.c.locked_by == bindparam("worker_id"),
)
_CLAIMED = _CLAIMED_UNLOCKED.with_for_update()
_FINISH = result_unread(
    update(_queue_table)
    .where(_queue_table.c.id == bindparam("row_id"))
    .values(
        state=PROCESSED,
        processed_at=bindparam("processed_at", type_=UTCDateTime()),
        ticket_id=bindparam("ticket_id"),
        meta=bindparam("meta", type_=_queue_table.c.meta.type),
        locked_by=None,
        lease_until=None,
        last_error=None,
        next_attempt_at=None,
    )
)


#: _FINISH with the spam check's verdict (when the mail was checked at all).
_FINISH_CHECKED = _FINISH.values(
    spam_state=bindparam("spam_state"),
    spam_score=bindparam("spam_score"),
    spam_detail=bindparam("spam_detail", type_=_queue_table.c.spam_detail.type),
)


_STILL_CLAIMED = (
    select(_queue_table.c.id)
    .where(
        _queue_table.c.id == bindparam("row_id"),
        _queue_table.c.state == PROCESSING,
        _queue_table.c.locked_by == bindparam("worker_id"),
    )
    .with_for_update()
)


def load_claimed(
    session: Session, row_id: int, *, worker_id: str, lock: bool = True
) -> ClaimedMail | None:
    """The row, locked (``lock``), if this worker still holds its claim; None if another
    took it over. Unlocked in a read session: the worker parses outside its write transaction
    and confirms the claim there with ``lock_claim`` and ``CLAIM_HELD``."""
    statement = _CLAIMED if lock else _CLAIMED_UNLOCKED
    row = session.execute(statement, {"row_id": row_id, "worker_id": worker_id}).first()
    return None if row is None else _claimed_mail(row)


def _claimed_mail(row: Any) -> ClaimedMail:
    return ClaimedMail(
        id=row.id,
        received_at=row.received_at,
        channel=row.channel,
        envelope_from=row.envelope_from or "",
        department_code=row.department_code,
        raw=row.raw,
        meta=dict(row.meta or {}),
    )


#: The rows of a batch this worker still holds, in one statement; a row's raw bytes only while
#: the rows before it (in id order) hold fewer than ``max_bytes``, so the first row's always.
_IN_BUDGET = func.sum(_queue_table.c.size).over(
    order_by=_queue_table.c.id
) - _queue_table.c.size < bindparam("max_bytes")
_CLAIMED_BATCH = select(
    *(column for column in _CLAIMED_UNLOCKED.selected_columns if column.key != "raw"),
    case((_IN_BUDGET, _queue_table.c.raw)).label("raw"),
    _IN_BUDGET.label("in_budget"),
).where(
    _queue_table.c.id.in_(bindparam("row_ids", expanding=True)),
    _queue_table.c.state == PROCESSING,
    _queue_table.c.locked_by == bindparam("worker_id"),
)


@dataclass(frozen=True)
class ClaimedBatch:
    """Claimed rows read together (``load_claimed_batch``)."""

    #: Row id -> the row, for the rows read.
    loaded: dict[int, ClaimedMail]
    #: Rows still held but past the byte budget: read them with the next call.
    later: frozenset[int]


def load_claimed_batch(
    session: Session, row_ids: list[int], *, worker_id: str, max_bytes: int
) -> ClaimedBatch:
    """``load_claimed`` (unlocked) for several rows in one round trip (the prepare read of a
    batch: one per message was a round trip each), oldest first, until the raw bytes read pass
    ``max_bytes``: the row that passes it is read, the ones after it are not. A row another
    worker took over is in neither part of the answer."""
    loaded: dict[int, ClaimedMail] = {}
    later: set[int] = set()
    parameters = {"row_ids": row_ids, "worker_id": worker_id, "max_bytes": max_bytes}
    for row in session.execute(_CLAIMED_BATCH, parameters):
        if row.in_budget:
            loaded[row.id] = _claimed_mail(row)
        else:
            later.add(row.id)
    return ClaimedBatch(loaded, frozenset(later))


_LOCK_CLAIM = result_unread(_STILL_CLAIMED)
#: ``_LOCK_CLAIM`` that also takes ``serialise_on``'s lock on ``serialise_key`` (PostgreSQL),
#: while the claim holds: one statement where there were two, for every message.
_LOCK_CLAIM_SERIALISED = result_unread(
    _STILL_CLAIMED.with_only_columns(advisory_lock_on("serialise_key"))
)
#: 1 in a statement's row while the worker holds the claim (else None): read after
#: ``lock_claim``, in an answer the caller waits for anyway. Bound parameters:
#: ``claim_row_id``, ``claim_worker_id``.
CLAIM_HELD = (
    select(literal(1))
    .where(
        _queue_table.c.id == bindparam("claim_row_id"),
        _queue_table.c.state == PROCESSING,
        _queue_table.c.locked_by == bindparam("claim_worker_id"),
    )
    .scalar_subquery()
)


def lock_claim(
    session: Session, row_id: int, *, worker_id: str, serialise_key: str | None = None
) -> None:
    """Lock the row if this worker still holds its claim (not taken over, not erased), without
    waiting for the answer (one round trip less on PostgreSQL): the caller reads CLAIM_HELD in
    its next statement, which the server runs once the lock is held. Nothing to lock on SQLite,
    whose write transactions run one at a time.

    ``serialise_key``: also ``serialise_on(session, serialise_key)``, in the same statement
    (taken only while the claim holds: a caller that lost it writes nothing)."""
    if single_writer(session):
        return
    parameters = {"row_id": row_id, "worker_id": worker_id}
    if serialise_key is None:
        execute_core(session, _LOCK_CLAIM, parameters)
    else:
        execute_core(
            session, _LOCK_CLAIM_SERIALISED, {**parameters, "serialise_key": serialise_key}
        )


def mark_processed(
    session: Session,
    mail: ClaimedMail,
    *,
    outcome: str,
    ticket_id: int | None,
    detail: str = "",
    spam: SpamCheck | None = None,
) -> None:
    """Done: the outcome goes into the row's meta; a replay's ``force_ticket`` is used up.
    ``spam`` is the spam check's verdict, stored on the row when the mail was checked."""
    meta = {k: v for k, v in mail.meta.items() if k != "force_ticket"}
    meta["outcome"] = outcome
    if detail:
        meta["detail"] = detail[:500]
    values = {"row_id": mail.id, "processed_at": utcnow(), "ticket_id": ticket_id, "meta": meta}
    if spam is None:
        execute_core(session, _FINISH, values)
        return
    values.update(spam_state=spam.state, spam_score=spam.score, spam_detail=spam.detail)
    execute_core(session, _FINISH_CHECKED, values)


@dataclass(frozen=True)
class SpamCheck:
    """What the spam check leaves on a processed row: ``state`` "suspected" or "certain"
    when held as spam (None otherwise), the score, and the reasons shown to staff."""

    state: str | None
    score: float | None
    detail: dict[str, Any]


def record_failure(
    session: Session,
    claim: Claim,
    *,
    worker_id: str,
    error: str,
    max_attempts: int,
    retry_delay_seconds: float,
) -> str | None:
    """Put a failed row back for a later retry, or quarantine it; returns the new state.

    Only the worker that still owns the claim may do this (None otherwise). ``max_attempts=0``
    quarantines at once (``quarantine``).
    """
    inbound = session.get(InboundMail, claim.id, with_for_update=True)
    if inbound is None or inbound.state != PROCESSING or inbound.locked_by != worker_id:
        return None
    inbound.last_error = error[-_MAX_ERROR_CHARS:]
    inbound.locked_by = None
    inbound.lease_until = None
    if inbound.attempts >= max_attempts:
        inbound.state = QUARANTINED
        inbound.next_attempt_at = None
    else:
        inbound.state = RECEIVED
        inbound.next_attempt_at = utcnow() + timedelta(seconds=retry_delay_seconds)
    return inbound.state


_RELEASE = (
    update(_queue_table)
    .where(
        _queue_table.c.id.in_(bindparam("row_ids", expanding=True)),
        _queue_table.c.state == PROCESSING,
        _queue_table.c.locked_by == bindparam("worker_id"),
    )
    .values(
        state=RECEIVED,
        locked_by=None,
        lease_until=None,
        next_attempt_at=None,
        attempts=_queue_table.c.attempts - 1,
    )
)


def release_claims(session: Session, row_ids: Iterable[int], *, worker_id: str) -> int:
    """Put claimed rows this worker has not processed back in the queue at once, as a worker
    that stops does: another worker takes them now, not when their lease runs out. The claim's
    attempt is taken back (none was made); a row processed, failed or taken over meanwhile is
    left alone. Returns how many were put back."""
    ids = sorted(set(row_ids))
    if not ids:
        return 0
    result = session.execute(_RELEASE, {"row_ids": ids, "worker_id": worker_id})
    return int(cast(CursorResult[Any], result).rowcount)


def quarantine(session: Session, claim: Claim, *, worker_id: str, error: str) -> str | None:
    """Quarantine a claimed row at once, without retries (a retry would fail the same way);
    returns the new state, or None when this worker no longer owns the claim."""
    return record_failure(
        session, claim, worker_id=worker_id, error=error, max_attempts=0, retry_delay_seconds=0
    )


# --- staff: quarantine and set-aside mail ------------------------------------------------------


# --- staff access: quarantined and set-aside mail, by department ------------------------------

#: Mail staff may inspect and replay here; anything else (queued, processed into a ticket) is
#: reached through its ticket, never through this page.
HELD = or_(
    InboundMail.state == QUARANTINED,
    and_(InboundMail.state == PROCESSED, InboundMail.ticket_id.is_(None)),
)


def inbound_department_id() -> ColumnElement[int | None]:
    """An inbound mail's department: its ``department_code``, else its ticket's department."""
    return func.coalesce(
        select(Department.id)
        .where(Department.code == InboundMail.department_code)
        .correlate(InboundMail)
        .scalar_subquery(),
        select(Ticket.department_id)
        .where(Ticket.id == InboundMail.ticket_id)
        .correlate(InboundMail)
        .scalar_subquery(),
    )


def visible_inbound_clause(user: User) -> ColumnElement[bool]:
    """The ticket access rule for held mail: admins all, others their departments' mail, and
    mail with no department only when they may triage."""
    if user.role == "admin":
        return true()
    department = inbound_department_id()
    department_ids = visible_department_ids(user)
    parts: list[ColumnElement[bool]] = []
    if department_ids:
        parts.append(department.in_(sorted(department_ids)))
    if user.can_triage:
        parts.append(department.is_(None))
    return or_(*parts) if parts else false()


def held_for(session: Session, user: User, inbound_id: int) -> InboundMail | None:
    """The quarantined or set-aside mail `user` may see; None for anything else."""
    return session.scalar(
        select(InboundMail).where(InboundMail.id == inbound_id, HELD, visible_inbound_clause(user))
    )


def quarantined(
    session: Session, *, limit: int = 200, visible_to: User | None = None
) -> list[InboundMail]:
    where = visible_inbound_clause(visible_to) if visible_to is not None else true()
    return list(
        session.scalars(
            select(InboundMail)
            .where(InboundMail.state == QUARANTINED, where)
            .order_by(InboundMail.id.desc())
            .limit(limit)
        )
    )


def set_aside(
    session: Session, *, limit: int = 200, visible_to: User | None = None
) -> list[InboundMail]:
    """Processed automatic mail (bounces, out-of-office, lists) that belongs to no ticket
    (held spam has its own page)."""
    where = visible_inbound_clause(visible_to) if visible_to is not None else true()
    return list(
        session.scalars(
            select(InboundMail)
            .where(
                InboundMail.state == PROCESSED,
                InboundMail.ticket_id.is_(None),
                InboundMail.spam_state.is_(None),
                where,
            )
            .order_by(InboundMail.id.desc())
            .limit(limit)
        )
    )


def queue_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(InboundMail.state, func.count()).group_by(InboundMail.state))
    return {state: count for state, count in rows}


def replay(
    session: Session,
    inbound_id: int,
    *,
    actor: User | None = None,
    actor_label: str = "staff",
    as_ticket: bool = False,
) -> InboundMail:
    """Queue a quarantined (or set-aside) message again with a fresh attempt budget.

    ``as_ticket`` makes set-aside automatic mail a ticket in triage (never auto-answered).
    """
    inbound = session.get(InboundMail, inbound_id, with_for_update=True)
    if inbound is None:
        raise LookupError(f"no inbound mail {inbound_id}")
    is_set_aside = inbound.state == PROCESSED and inbound.ticket_id is None
    if inbound.state != QUARANTINED and not is_set_aside:
        raise ValueError(
            f"inbound mail {inbound_id} is {inbound.state}; only quarantined mail "
            "or automatic mail without a ticket can be replayed"
        )
    previous_error = inbound.last_error
    inbound.state = RECEIVED
    inbound.attempts = 0
    inbound.next_attempt_at = None
    inbound.locked_by = None
    inbound.lease_until = None
    inbound.processed_at = None
    inbound.meta = {**(inbound.meta or {}), "force_ticket": bool(as_ticket or is_set_aside)}
    session.add(
        AuditEvent(
            actor_id=actor.id if actor is not None else None,
            actor_label=actor_label,
            action="inbound.replayed",
            subject_type="inbound_mail",
            subject_id=inbound.id,
            data={"previous_error": (previous_error or "")[:2000], "as_ticket": as_ticket},
        )
    )
    session.flush()
    log.info(
        "inbound mail %s queued again by %s", inbound.id, actor.email if actor else actor_label
    )
    return inbound
