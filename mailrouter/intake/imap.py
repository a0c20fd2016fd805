"""IMAP intake: read mailboxes we do not receive over SMTP, each message exactly once.

UIDs only mean something within one UIDVALIDITY, so the cursor (ImapCursor) keeps both, and
each stored message's ``source_key`` is "<mailbox>:<uidvalidity>:<uid>" (unique). A message is
committed together with the cursor, and only afterwards marked \\Seen or moved: a crash in
between leaves it unmarked but stored, never marked but lost.

On first contact with a mailbox, and after its UIDVALIDITY changed (the server rebuilt it),
the poller reads the messages that are not \\Seen and skips any it already stored (same
Message-ID or same bytes from this mailbox); after that it follows UIDs, so a person reading
the mailbox in a mail program cannot hide new mail from us.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from imapclient import DELETED, SEEN, IMAPClient
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailrouter.intake import queue
from mailrouter.models import ImapCursor, InboundMail
from support.core.db import Database, get_db, utcnow

log = logging.getLogger(__name__)

FETCH_BATCH = 25
MAX_BACKOFF_SECONDS = 300.0
CONNECT_TIMEOUT_SECONDS = 30.0
#: How often a wait (IDLE or poll interval) checks whether the service is stopping.
_STOP_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class ImapMailbox:
    """One entry of MAIL_IMAP_MAILBOXES."""

    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    ssl: bool = True
    folder: str = "INBOX"
    department: str | None = None
    move_to: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImapMailbox:
        missing = [k for k in ("host", "username", "password") if not data.get(k)]
        if missing:
            raise ValueError(f"IMAP mailbox entry lacks {', '.join(missing)}")
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"IMAP mailbox entry has unknown keys: {', '.join(sorted(unknown))}")
        use_ssl = bool(data.get("ssl", True))
        return cls(
            host=str(data["host"]),
            username=str(data["username"]),
            password=str(data["password"]),
            port=int(data.get("port") or (993 if use_ssl else 143)),
            ssl=use_ssl,
            folder=str(data.get("folder") or "INBOX"),
            department=data.get("department") or None,
            move_to=data.get("move_to") or None,
        )

    @property
    def key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class ImapPoller:
    """Reads one mailbox into the intake queue."""

    def __init__(
        self,
        database: Database,
        mailbox: ImapMailbox,
        *,
        poll_seconds: float = 60.0,
        max_message_bytes: int | None = None,
    ) -> None:
        self.database = database
        self.mailbox = mailbox
        self.poll_seconds = poll_seconds
        self.max_message_bytes = max_message_bytes

    # --- one pass ---------------------------------------------------------------------------

    def connect(self) -> IMAPClient:
        client = IMAPClient(
            self.mailbox.host,
            port=self.mailbox.port,
            ssl=self.mailbox.ssl,
            timeout=CONNECT_TIMEOUT_SECONDS,
        )
        try:
            client.login(self.mailbox.username, self.mailbox.password)
        except Exception:
            _logout_quietly(client)
            raise
        return client

    def poll(self) -> int:
        """Connect, store new messages, disconnect; returns how many were stored."""
        client = self.connect()
        try:
            return self.poll_once(client)
        finally:
            _logout_quietly(client)

    def poll_once(self, client: IMAPClient) -> int:
        """Store every message of the folder not stored yet; returns how many were stored."""
        folder_info = client.select_folder(self.mailbox.folder)
        uidvalidity = int(folder_info[b"UIDVALIDITY"])
        with self.database.session() as session:
            cursor = self._cursor(session)
            known = (cursor.uidvalidity, cursor.last_uid) if cursor is not None else None

        resync = known is None or known[0] != uidvalidity
        if resync:
            all_uids = client.search(["ALL"])
            unseen = set(client.search(["UNSEEN"]))
            candidates = sorted(uid for uid in all_uids if uid in unseen)
            high_water = max(all_uids, default=0)
            if known is None:
                log.info(
                    "IMAP %s: first contact; reading %s unseen of %s messages",
                    self.mailbox.key,
                    len(candidates),
                    len(all_uids),
                )
            else:
                log.warning(
                    "IMAP %s: UIDVALIDITY changed from %s to %s; re-reading %s unseen messages "
                    "and skipping those already stored",
                    self.mailbox.key,
                    known[0],
                    uidvalidity,
                    len(candidates),
                )
        else:
            assert known is not None  # else resync
            last_uid = known[1]
            found = client.search(["UID", f"{last_uid + 1}:*"])
            candidates = sorted(uid for uid in found if uid > last_uid)
            high_water = max(candidates, default=last_uid)

        stored = 0
        for batch in _chunks(candidates, FETCH_BATCH):
            response = client.fetch(list(batch), ["BODY.PEEK[]"])
            for uid in batch:
                data = response.get(uid)
                if data is None or b"BODY[]" not in data:
                    log.warning(
                        "IMAP %s: UID %s vanished before it was read", self.mailbox.key, uid
                    )
                    self._advance(uidvalidity, uid)
                    continue
                if self._store(uidvalidity, uid, bytes(data[b"BODY[]"]), check_known=resync):
                    stored += 1
                self._mark_done(client, uid)
        self._advance(uidvalidity, high_water)
        return stored

    def _cursor(self, session: Session) -> ImapCursor | None:
        return session.scalar(select(ImapCursor).where(ImapCursor.mailbox_key == self.mailbox.key))

    def _set_cursor(self, session: Session, uidvalidity: int, uid: int) -> None:
        cursor = session.scalar(
            select(ImapCursor).where(ImapCursor.mailbox_key == self.mailbox.key).with_for_update()
        )
        if cursor is None:
            session.add(
                ImapCursor(mailbox_key=self.mailbox.key, uidvalidity=uidvalidity, last_uid=uid)
            )
        elif cursor.uidvalidity != uidvalidity or uid > cursor.last_uid:
            cursor.uidvalidity = uidvalidity
            cursor.last_uid = uid
            cursor.updated_at = utcnow()

    def _advance(self, uidvalidity: int, uid: int) -> None:
        with self.database.session() as session:
            self._set_cursor(session, uidvalidity, uid)

    def _already_stored(self, session: Session, raw: bytes) -> bool:
        sha = hashlib.sha256(raw).hexdigest()
        message_id = queue.header_message_id(raw)
        same = [InboundMail.sha256 == sha]
        if message_id:
            same.append(InboundMail.header_message_id == message_id)
        found = session.scalar(
            select(InboundMail.id)
            .where(InboundMail.source_key.like(f"{_like_escape(self.mailbox.key)}:%", escape="\\"))
            .where(or_(*same))
            .limit(1)
        )
        return found is not None

    def _store(self, uidvalidity: int, uid: int, raw: bytes, *, check_known: bool) -> bool:
        """Commit the message and the cursor together; False when it was stored before."""
        source_key = f"{self.mailbox.key}:{uidvalidity}:{uid}"
        try:
            with self.database.session() as session:
                stored_before = session.scalar(
                    select(InboundMail.id).where(InboundMail.source_key == source_key)
                )
                if stored_before is not None:
                    self._set_cursor(session, uidvalidity, uid)
                    return False
                if check_known and self._already_stored(session, raw):
                    log.info("IMAP %s: UID %s was stored before; skipping", self.mailbox.key, uid)
                    self._set_cursor(session, uidvalidity, uid)
                    return False
                if self.max_message_bytes and len(raw) > self.max_message_bytes:
                    log.warning(
                        "IMAP %s: UID %s has %s bytes, more than MAIL_MAX_MESSAGE_BYTES; "
                        "storing it anyway (it is already in the mailbox)",
                        self.mailbox.key,
                        uid,
                        len(raw),
                    )
                inbound = queue.store_inbound(
                    session,
                    channel="imap",
                    raw=raw,
                    envelope_to=[self.mailbox.username] if "@" in self.mailbox.username else [],
                    department_code=self.mailbox.department,
                    source_key=source_key,
                    meta={"mailbox": self.mailbox.key},
                )
                self._set_cursor(session, uidvalidity, uid)
                inbound_id = inbound.id
        except IntegrityError:
            log.info("IMAP %s: UID %s was stored concurrently", self.mailbox.key, uid)
            return False
        log.info("IMAP %s: stored UID %s as inbound mail %s", self.mailbox.key, uid, inbound_id)
        return True

    def _mark_done(self, client: IMAPClient, uid: int) -> None:
        """After the commit: \\Seen, or move to ``move_to``."""
        if not self.mailbox.move_to:
            client.add_flags([uid], [SEEN], silent=True)
            return
        if not client.folder_exists(self.mailbox.move_to):
            client.create_folder(self.mailbox.move_to)
        if client.has_capability("MOVE"):
            client.move([uid], self.mailbox.move_to)
        else:
            client.copy([uid], self.mailbox.move_to)
            client.add_flags([uid], [DELETED], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge([uid])
            else:
                client.expunge()

    # --- the service loop -------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Poll (or IDLE) until ``stop``; reconnect with exponential backoff, saying why."""
        backoff = 1.0
        while not stop.is_set():
            client = None
            try:
                client = self.connect()
                use_idle = client.has_capability("IDLE")
                log.info(
                    "IMAP %s: connected (%s)",
                    self.mailbox.key,
                    "IDLE" if use_idle else f"polling every {self.poll_seconds:g}s",
                )
                while not stop.is_set():
                    self.poll_once(client)
                    backoff = 1.0
                    if use_idle:
                        self._idle(client, stop)
                    else:
                        stop.wait(self.poll_seconds)
            except Exception as exc:
                if stop.is_set():
                    break
                log.warning(
                    "IMAP %s: %s; reconnecting in %.0fs",
                    self.mailbox.key,
                    _reason(exc),
                    backoff,
                )
                stop.wait(backoff)
                backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)
            finally:
                if client is not None:
                    _logout_quietly(client)

    def _idle(self, client: IMAPClient, stop: threading.Event) -> None:
        """Wait for the server to announce a change, at most ``poll_seconds`` (IDLE renewal)."""
        client.idle()
        try:
            deadline = time.monotonic() + self.poll_seconds
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if client.idle_check(timeout=min(_STOP_CHECK_SECONDS, remaining)):
                    break
        finally:
            client.idle_done()


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _logout_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is already gone; nothing to tidy up
        try:
            client.shutdown()
        except Exception:
            pass


class ImapPollerService:
    """For `support run` and `support imap-poll`: one thread per configured mailbox."""

    name = "imap"

    def __init__(self, app: Flask, *, database: Database | None = None) -> None:
        database = database or get_db(app)
        self.pollers = [
            ImapPoller(
                database,
                ImapMailbox.from_dict(entry),
                poll_seconds=float(app.config["MAIL_IMAP_POLL_SECONDS"]),
                max_message_bytes=int(app.config["MAIL_MAX_MESSAGE_BYTES"]),
            )
            for entry in app.config["MAIL_IMAP_MAILBOXES"]
        ]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=p.run, args=(self._stop,), name=f"imap-{i}", daemon=True)
            for i, p in enumerate(self.pollers, start=1)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
