"""IMAP intake: read mailboxes we do not receive over SMTP, each message exactly once.

UIDs only mean something within one UIDVALIDITY, so the cursor (ImapCursor) keeps both, and
each stored message's ``source_key`` is "<mailbox>:<uidvalidity>:<uid>" (unique). A message is
committed together with the cursor, and only afterwards marked \\Seen or moved: a crash in
between leaves it unmarked but stored, never marked but lost.

On first contact with a mailbox, and after its UIDVALIDITY changed (the server rebuilt it),
the poller reads the messages that are not \\Seen and skips any it already stored (same
Message-ID or same bytes from this mailbox); after that it follows UIDs, so a person reading
the mailbox in a mail program cannot hide new mail from us. The first pass of each connection
marks (or moves) what an interruption left stored but unmarked.

Messages over MAIL_MAX_MESSAGE_BYTES, and one the server will not give after a few passes,
are not read: they stay unread in the mailbox with an error line. One process at a time reads
a mailbox (a lease, as for periodic jobs); the unique ``source_key`` keeps each message one
row even when two overlap.
"""

from __future__ import annotations

import hashlib
import imaplib
import ipaddress
import logging
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailrouter.intake import queue
from mailrouter.models import ImapCursor, InboundMail
from support.core.config import ConfigError
from support.core.db import Database, get_db, utcnow
from support.core.leases import PROCESS_ID, JobLease
from support.core.runner import STOP_WAIT_SECONDS
from support.core.tls import check_ca_file, client_context

log = logging.getLogger(__name__)

FETCH_BATCH = 25
#: A download batch also stops at this many bytes (the server said how big each message is).
FETCH_BATCH_BYTES = 32 * 1024 * 1024
#: UIDs per size query and per database look-up.
_SIZE_BATCH = 500
#: Passes that try a message the server will not give before it is left in the mailbox.
UNREADABLE_TRIES = 3
MAX_BACKOFF_SECONDS = 300.0
CONNECT_TIMEOUT_SECONDS = 30.0
#: The largest literal (a message's bytes in a FETCH response) read from the server without
#: MAIL_MAX_MESSAGE_BYTES; with it, that limit. The sizes asked first (`_batches`) are the
#: server's word: a server that says 2 kB and then sends {4000000000} must not fill the memory.
MAX_LITERAL_BYTES = 64 * 1024 * 1024
#: First wait after the server refused the sign-in or TLS failed: no retry a second later
#: fixes a wrong password or certificate, and quick retries get accounts locked by servers.
REFUSED_BACKOFF_SECONDS = 60.0
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
    #: PEM file of the server's own certificate or CA, trusted besides the system's CAs.
    ca_file: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImapMailbox:
        keys = list(cls.__dataclass_fields__)
        # The unknown key first: a mistyped `user` is what lacks `username`.
        unknown = set(data) - set(keys)
        if unknown:
            raise ValueError(
                f"IMAP mailbox entry has unknown keys: {', '.join(sorted(unknown))}"
                f" (the keys: {', '.join(keys)})"
            )
        missing = [k for k in ("host", "username", "password") if not data.get(k)]
        if missing:
            raise ValueError(f"IMAP mailbox entry lacks {', '.join(missing)}")
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
            ca_file=check_ca_file(data.get("ca_file"), "MAIL_IMAP_MAILBOXES ca_file"),
        )

    @property
    def key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ImapMessageUnavailable(Exception):
    """The server listed a message but gave no content for it (tried again later)."""


def _reason(exc: BaseException) -> str:
    """One line saying what failed (imapclient quotes the server's words as b'...')."""
    lines = str(exc).strip().splitlines()
    first = (lines[0] if lines else "")[:300]
    if first[:2] in ("b'", 'b"') and first.endswith(first[1]):
        first = first[2:-1]
    if isinstance(exc, LoginError):
        return f"the server refused the user name or password ({first})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS failed ({first}); if the server's certificate is your own or self-signed, "
            'name its file in the mailbox\'s "ca_file"'
        )
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({first})"
    return f"{type(exc).__name__}: {first}"


def _bound_literals(client: IMAPClient, limit: int) -> None:
    """Refuse (abort the connection on) a literal over ``limit`` bytes before reading it:
    imaplib reads a literal's announced size whole into memory. Lines are bounded by imaplib
    itself (``_MAXLINE``), and literals are the only thing it reads with ``read``."""
    imap = client._imap
    read = imap.read

    def bounded(size: int) -> bytes:
        if size > limit:
            raise imaplib.IMAP4.abort(f"the server announced a literal of {size} bytes (> {limit})")
        return read(size)

    imap.read = bounded


class ImapPoller:
    """Reads one mailbox into the intake queue."""

    def __init__(
        self,
        database: Database,
        mailbox: ImapMailbox,
        *,
        poll_seconds: float = 60.0,
        max_message_bytes: int | None = None,
        lease_seconds: float = 40.0,
    ) -> None:
        self.database = database
        self.mailbox = mailbox
        self.poll_seconds = poll_seconds
        self.max_message_bytes = max_message_bytes
        #: Set at each connection: the first pass finishes what an interruption left undone.
        self._resume_pending = True
        #: The highest UID the last pass looked at (mail after it came in since).
        self._high_water = 0
        #: (uidvalidity, uid) -> passes in which the server gave no content for it.
        self._unreadable: dict[tuple[int, int], int] = {}
        # One reader per mailbox across processes and hosts (``run``); each poller is its own
        # holder, so two pollers of one process (tests) exclude each other too.
        name = "imap:" + hashlib.sha256(mailbox.key.encode("utf-8")).hexdigest()[:40]
        holder = f"{PROCESS_ID}:{secrets.token_hex(2)}"
        self._lease = JobLease(database, name, seconds=lease_seconds, holder=holder)
        self._lease_held = False
        self._lease_renewed_at = 0.0
        self._warned_clear_text = False

    # --- one pass ---------------------------------------------------------------------------

    def connect(self) -> IMAPClient:
        """Connect and sign in; without ``ssl``, through STARTTLS whenever the server offers
        it (the certificate verified as with ``ssl``), as mail programs do on port 143."""
        context = client_context(self.mailbox.ca_file)
        client = IMAPClient(
            self.mailbox.host,
            port=self.mailbox.port,
            ssl=self.mailbox.ssl,
            ssl_context=context,
            timeout=CONNECT_TIMEOUT_SECONDS,
        )
        _bound_literals(client, self.max_message_bytes or MAX_LITERAL_BYTES)
        try:
            if not self.mailbox.ssl:
                if client.has_capability("STARTTLS"):
                    client.starttls(context)
                elif not self._warned_clear_text and not _is_loopback(self.mailbox.host):
                    log.warning(
                        "IMAP %s: the server offers no TLS, so the password goes in clear text; "
                        'set "ssl": true or use a server that offers STARTTLS',
                        self.mailbox.key,
                    )
                    self._warned_clear_text = True
            client.login(self.mailbox.username, self.mailbox.password)
        except Exception:
            _logout_quietly(client)
            raise
        self._resume_pending = True
        return client

    def poll(self) -> int:
        """Connect, store new messages, disconnect; returns how many were stored."""
        client = self.connect()
        try:
            return self.poll_once(client)
        finally:
            _logout_quietly(client)

    def poll_if_free(self) -> int | None:
        """``poll`` under the mailbox's lease, as the service loop reads (`support imap-poll
        --once`); None, reading nothing, while another process holds it: two readers download
        everything twice and, with ``move_to``, both copy a message into the folder."""
        if not self._lease.acquire():
            return None
        try:
            return self.poll()
        finally:
            try:
                self._lease.release()
            except Exception:  # the database is gone; the lease simply runs out
                log.warning("IMAP %s: could not release the lease", self.mailbox.key)

    def poll_once(self, client: IMAPClient, *, stopping: Callable[[], bool] | None = None) -> int:
        """Store every message of the folder not stored yet; returns how many were stored.
        Once ``stopping()``, the pass ends after the message in hand (each is committed with
        the cursor; the next pass, here or on another host, goes on from there).

        During a resync (first contact, new UIDVALIDITY) the cursor stays where it was until
        the whole pass is done: a pass cut short reads the unseen messages again (skipping
        those stored) instead of switching to "every UID after the last one stored", which
        would take in all the mail read long ago that follows it.
        """
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
            if self._resume_pending:
                self._finish_interrupted(client, uidvalidity, last_uid)
            found = client.search(["UID", f"{last_uid + 1}:*"])
            candidates = sorted(uid for uid in found if uid > last_uid)
            high_water = max(candidates, default=last_uid)
        self._resume_pending = False

        stored = 0
        for batch in self._batches(client, candidates):
            response = client.fetch(list(batch), ["BODY.PEEK[]"])
            for uid in batch:
                if stopping is not None and stopping():
                    return stored  # the cursor stays at the last message stored
                data = response.get(uid)
                if data is None or b"BODY[]" not in data:
                    self._not_given(client, uidvalidity, uid)
                    if not resync:
                        self._advance(uidvalidity, uid)
                    continue
                if self._store(uidvalidity, uid, bytes(data[b"BODY[]"]), resync=resync):
                    stored += 1
                self._try_mark_done(client, [uid])
        self._advance(uidvalidity, high_water)
        self._high_water = high_water
        return stored

    def _more_arrived(self, client: IMAPClient) -> bool:
        """Whether mail came in during the pass just done. The server announced it in its
        answer to one of the pass's commands, and IDLE does not announce it again: idling now
        would leave it for the next renewal (``poll_seconds``) instead of reading it at once.

        The SEARCH below finds mail announced before it. Mail delivered just before the SEARCH
        is searched for in the mailbox as it was and announced (EXISTS) in the SEARCH's own
        answer, which imaplib keeps aside (imapclient has no public way to read it).
        """
        announced = client._imap.untagged_responses
        announced.pop("EXISTS", None)  # covered by the SEARCH
        found = client.search(["UID", f"{self._high_water + 1}:*"])
        return any(uid > self._high_water for uid in found) or bool(announced.pop("EXISTS", None))

    def _batches(self, client: IMAPClient, uids: Sequence[int]) -> Iterator[list[int]]:
        """The UIDs to download, in order and in batches of bounded size.

        Sizes are asked first: a message over MAIL_MAX_MESSAGE_BYTES is never downloaded (it
        would be held in memory whole); it stays unread in the mailbox, logged once, for a
        person to deal with. A UID without a size has gone (expunged by another client).
        """
        batch: list[int] = []
        batch_bytes = 0
        for chunk in _chunks(uids, _SIZE_BATCH):
            sizes = client.fetch(list(chunk), ["RFC822.SIZE"])
            for uid in chunk:
                size = int((sizes.get(uid) or {}).get(b"RFC822.SIZE", 0))
                if self.max_message_bytes and size > self.max_message_bytes:
                    log.error(
                        "IMAP %s: UID %s has %s bytes, more than MAIL_MAX_MESSAGE_BYTES (%s); "
                        "not read: it stays unread in the mailbox for a person to deal with",
                        self.mailbox.key,
                        uid,
                        size,
                        self.max_message_bytes,
                    )
                    continue
                if batch and (len(batch) >= FETCH_BATCH or batch_bytes + size > FETCH_BATCH_BYTES):
                    yield batch
                    batch, batch_bytes = [], 0
                batch.append(uid)
                batch_bytes += size
        if batch:
            yield batch

    def _not_given(self, client: IMAPClient, uidvalidity: int, uid: int) -> None:
        """FETCH came back without the message: gone, or a server that cannot give it now.

        A message still in the folder is tried again at the next pass (raising ends this one,
        before the cursor passes it); after UNREADABLE_TRIES passes it is left unread in the
        mailbox with an error line, so one broken message does not stop the mailbox.
        """
        if uid not in client.search(["UID", str(uid)]):
            log.warning("IMAP %s: UID %s vanished before it was read", self.mailbox.key, uid)
            return
        tries = self._unreadable.get((uidvalidity, uid), 0) + 1
        self._unreadable[(uidvalidity, uid)] = tries
        if tries < UNREADABLE_TRIES:
            raise ImapMessageUnavailable(
                f"the server gave no content for UID {uid} (try {tries} of {UNREADABLE_TRIES})"
            )
        log.error(
            "IMAP %s: the server gave no content for UID %s %s times; skipped: it stays unread "
            "in the mailbox for a person to deal with",
            self.mailbox.key,
            uid,
            tries,
        )

    def _finish_interrupted(self, client: IMAPClient, uidvalidity: int, last_uid: int) -> None:
        """Mark (or move) the stored messages a dead process or a dropped connection left.

        Once per connection: a message stored but not yet marked is still unseen (or still in
        the folder, with ``move_to``) at or below the cursor. Stored means its source_key is in
        the database; anything else there was never ours to mark.
        """
        if last_uid < 1:
            return
        criteria = ["UID", f"1:{last_uid}"] + ([] if self.mailbox.move_to else ["UNSEEN"])
        left = sorted(uid for uid in client.search(criteria) if uid <= last_uid)
        prefix = f"{self.mailbox.key}:{uidvalidity}:"
        done: list[int] = []
        for chunk in _chunks(left, _SIZE_BATCH):
            keys = [f"{prefix}{uid}" for uid in chunk]
            with self.database.session() as session:
                stored = set(
                    session.scalars(
                        select(InboundMail.source_key).where(InboundMail.source_key.in_(keys))
                    )
                )
            done.extend(uid for uid, key in zip(chunk, keys, strict=True) if key in stored)
        if done:
            log.info(
                "IMAP %s: finishing %s message(s) stored before an interruption",
                self.mailbox.key,
                len(done),
            )
            self._try_mark_done(client, done)

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

    def _store(self, uidvalidity: int, uid: int, raw: bytes, *, resync: bool) -> bool:
        """Commit the message, and the cursor with it; False when it was stored before.

        In a resync the cursor is left alone (see ``poll_once``) and a message is looked for
        among those stored from this mailbox under any UIDVALIDITY.
        """
        source_key = f"{self.mailbox.key}:{uidvalidity}:{uid}"
        try:
            with self.database.session() as session:
                stored_before = session.scalar(
                    select(InboundMail.id).where(InboundMail.source_key == source_key)
                )
                if stored_before is not None:
                    if not resync:
                        self._set_cursor(session, uidvalidity, uid)
                    return False
                if resync and self._already_stored(session, raw):
                    log.info("IMAP %s: UID %s was stored before; skipping", self.mailbox.key, uid)
                    return False
                inbound = queue.store_inbound(
                    session,
                    channel="imap",
                    raw=raw,
                    envelope_to=[self.mailbox.username] if "@" in self.mailbox.username else [],
                    department_code=self.mailbox.department,
                    source_key=source_key,
                    meta={"mailbox": self.mailbox.key},
                )
                if not resync:
                    self._set_cursor(session, uidvalidity, uid)
                inbound_id = inbound.id
        except IntegrityError:
            # Another poller (another host) stored this UID first. Marking it is safe only if
            # that is what the conflict was: anything else is an error, tried again later.
            with self.database.session() as session:
                if (
                    session.scalar(
                        select(InboundMail.id).where(InboundMail.source_key == source_key)
                    )
                    is None
                ):
                    raise
            log.info("IMAP %s: UID %s was stored concurrently", self.mailbox.key, uid)
            return False
        log.info("IMAP %s: stored UID %s as inbound mail %s", self.mailbox.key, uid, inbound_id)
        return True

    def _try_mark_done(self, client: IMAPClient, uids: list[int]) -> None:
        """``_mark_done``, where the server's refusal does not hold up intake.

        A ``move_to`` the server will not create, a full quota, a read-only folder: the mail
        is stored, so the pass goes on; it stays unmarked and the first pass of the next
        connection tries again. A broken connection still ends the pass.
        """
        try:
            self._mark_done(client, uids)
        except IMAPClientAbortError:
            raise
        except IMAPClientError as exc:
            log.warning(
                "IMAP %s: stored UID %s but could not mark or move it (%s); trying again at "
                "the next connection",
                self.mailbox.key,
                ",".join(map(str, uids[:20])) + (" ..." if len(uids) > 20 else ""),
                _reason(exc),
            )

    def _mark_done(self, client: IMAPClient, uids: list[int]) -> None:
        """After the commit: \\Seen, or move to ``move_to``."""
        if not self.mailbox.move_to:
            client.add_flags(uids, [SEEN], silent=True)
            return
        if not client.folder_exists(self.mailbox.move_to):
            client.create_folder(self.mailbox.move_to)
        if client.has_capability("MOVE"):
            try:
                client.move(uids, self.mailbox.move_to)
            except IMAPClientError as exc:
                if "EXPUNGEISSUED" not in str(exc):
                    raise
                # Another poller moved it first (two hosts on one mailbox): done either way.
                log.info("IMAP %s: UID %s was moved by another poller", self.mailbox.key, uids)
        else:
            client.copy(uids, self.mailbox.move_to)
            client.add_flags(uids, [DELETED], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()

    # --- the service loop -------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Poll (or IDLE) until ``stop``; reconnect with exponential backoff, saying why.

        Only the process holding the mailbox's lease reads it: with `support run` on two
        hosts, the other stands by and takes over when the holder dies (the lease runs out).
        Storage alone would keep each message one ticket, but two readers of one mailbox
        download everything twice and, with ``move_to``, both copy a message into the folder.
        """
        try:
            self._run(stop)
        finally:
            try:
                self._lease.release()
            except Exception:  # the database is gone; the lease simply runs out
                log.warning("IMAP %s: could not release the lease", self.mailbox.key)

    def _run(self, stop: threading.Event) -> None:
        backoff = 1.0
        standing_by = False
        while not stop.is_set():
            client = None
            try:
                if not self._hold_lease():
                    if not standing_by:
                        log.info(
                            "IMAP %s: another process reads this mailbox; standing by",
                            self.mailbox.key,
                        )
                    standing_by = True
                    stop.wait(self._lease.seconds / 3)
                    continue
                standing_by = False
                client = self.connect()
                use_idle = client.has_capability("IDLE")
                log.info(
                    "IMAP %s: connected (%s)",
                    self.mailbox.key,
                    "IDLE" if use_idle else f"polling every {self.poll_seconds:g}s",
                )
                while not stop.is_set() and self._hold_lease():
                    self.poll_once(client, stopping=stop.is_set)
                    backoff = 1.0
                    if self._more_arrived(client):
                        continue
                    if use_idle:
                        self._idle(client, stop)
                    else:
                        self._wait(stop)
            except Exception as exc:
                if stop.is_set():
                    break
                if isinstance(exc, (LoginError, ssl.SSLError)):
                    backoff = max(backoff, REFUSED_BACKOFF_SECONDS)
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
            while not stop.is_set() and self._hold_lease():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                if client.idle_check(timeout=min(_STOP_CHECK_SECONDS, remaining)):
                    break
        finally:
            client.idle_done()

    def _wait(self, stop: threading.Event) -> None:
        """``poll_seconds`` between passes for servers without IDLE, keeping the lease."""
        deadline = time.monotonic() + self.poll_seconds
        while not stop.is_set() and self._hold_lease():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            stop.wait(min(_STOP_CHECK_SECONDS, remaining))

    def _hold_lease(self) -> bool:
        """Renew the mailbox's lease every third of its length; True while it is ours."""
        now = time.monotonic()
        if self._lease_held and now - self._lease_renewed_at < self._lease.seconds / 3:
            return True
        self._lease_held = self._lease.acquire()
        self._lease_renewed_at = now
        return self._lease_held


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


def configured_mailboxes(entries: Sequence[Any]) -> list[ImapMailbox]:
    """MAIL_IMAP_MAILBOXES read, or a ConfigError naming the entry and its mistake: `support
    run` and `imap-poll` ended in a traceback on a key mistyped in config.toml."""
    mailboxes = []
    for number, entry in enumerate(entries, start=1):
        try:
            if not isinstance(entry, Mapping):
                raise ValueError("an entry is a table: {host = ..., username = ..., ...}")
            mailboxes.append(ImapMailbox.from_dict(entry))
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"MAIL_IMAP_MAILBOXES, mailbox {number}: {exc}") from None
    return mailboxes


class ImapPollerService:
    """For `support run` and `support imap-poll`: one thread per configured mailbox."""

    name = "imap"

    def __init__(self, app: Flask, *, database: Database | None = None) -> None:
        database = database or get_db(app)
        self.pollers = [
            ImapPoller(
                database,
                mailbox,
                poll_seconds=float(app.config["MAIL_IMAP_POLL_SECONDS"]),
                max_message_bytes=int(app.config["MAIL_MAX_MESSAGE_BYTES"]),
                lease_seconds=float(app.config["PERIODIC_LEASE_SECONDS"]),
            )
            for mailbox in configured_mailboxes(app.config["MAIL_IMAP_MAILBOXES"])
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
        """Each poller ends after the message in hand (its IDLE wait checks every second); one
        still connecting or signing in is not waited for long: nothing of it is uncommitted."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=STOP_WAIT_SECONDS)
