"""The SMTP intake: accept mail for our addresses, store it durably, then say 250.

The handler is deliberately thin (Mailman's rule): check recipients, commit the raw bytes as
an InboundMail row, answer. Parsing, threading and routing happen later in the worker, so a
bug there can never make us lose or refuse a message. Any error before the commit becomes a
451 and the sending server tries again later.

Like Postfix, the listener is lenient about what real mail programs send: lines longer than
RFC 5321's 1,000 characters and bare LF line ends are accepted (aiosmtpd would answer a
permanent "500 Line too long"); bare LF is stored as CRLF. Every 4xx/5xx answer is logged
with its reason, bounded and escaped.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, AnyStr, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from mailrouter.intake import queue
from mailrouter.parsing import is_readable_address
from support.core.db import Database
from support.core.runner import StartupError, another_port

log = logging.getLogger(__name__)

REPLY_MAIL_OK = "250 2.1.0 OK"
REPLY_RCPT_OK = "250 2.1.5 OK"
REPLY_QUEUED = "250 2.0.0 OK: queued as {id}"
REPLY_RELAY_DENIED = "550 5.1.1 <{address}>: recipient rejected: not a mailbox here (no relaying)"
REPLY_BAD_ADDRESS = "553 5.1.3 <{address}>: not a valid address"
REPLY_BAD_SENDER = "553 5.1.7 Sender address has control or space characters"
REPLY_TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
REPLY_TOO_BIG = "552 5.3.4 Message too big for this system"
REPLY_TRY_AGAIN = "451 4.3.0 Local error: message not accepted, please try again later"
REPLY_TOO_MANY_SESSIONS = b"421 4.3.2 Too many connections, please try again later\r\n"

#: Recipients one message may have; more is a spammer's signature, not a customer's.
MAX_RECIPIENTS = 100
#: Connections served at once. Each may hold a whole message (or a command "line") of up to
#: MAIL_MAX_MESSAGE_BYTES in memory: 10 connections sending 20 MB lines took 200 MB, and with no
#: limit enough of them exhaust the host's memory. More get a 421 (the sender retries later).
MAX_SESSIONS = 50
#: Seconds the department address list is reused before it is read again.
ADDRESS_CACHE_SECONDS = 30.0
SERVER_IDENT = "support mail intake"
#: Seconds the intake may take to answer its own first connection when starting. aiosmtpd's
#: default (5 s) ran out on a two-core machine at load 16, failing a start that was only slow.
READY_TIMEOUT_SECONDS = 30.0
#: Characters of a refusal (and of its sender) written to the log.
LOG_REFUSAL_CHARS = 300
_BARE_LF = re.compile(rb"(?<!\r)\n")


def line_length_limit(max_message_bytes: int) -> int:
    """The longest line the listener reads: a whole message, so that bare-LF mail (one
    "line" to a CRLF reader) and very long lines are accepted up to the size limit."""
    return max(max_message_bytes, 64 * 1024) + 1024


def normalise_line_ends(raw: bytes) -> bytes:
    """Bare LF line ends as CRLF, and the dot-stuffing of the lines they end undone.

    aiosmtpd splits DATA on CRLF only, so it removed the transparency dot (RFC 5321 4.5.2)
    from the first line of each CRLF chunk but not from lines after a bare LF.
    """
    if _BARE_LF.search(raw) is None:
        return raw
    chunks = []
    for chunk in raw.split(b"\r\n"):
        lines = chunk.split(b"\n")
        lines[1:] = [line[1:] if line.startswith(b".") else line for line in lines[1:]]
        chunks.append(b"\r\n".join(lines))
    return b"\r\n".join(chunks)


def _for_log(value: object) -> str:
    """A value for a log line: escaped (no control characters) and bounded."""
    text = str(value)
    escaped = text[:LOG_REFUSAL_CHARS].encode("unicode_escape").decode("ascii")
    return escaped + ("..." if len(text) > LOG_REFUSAL_CHARS else "")


def durable_database(url: str) -> Database:
    """The intake's own engine. On SQLite, commits are fsynced (synchronous=FULL): the 250 we
    answer promises the message survives a power cut, which WAL's default NORMAL does not."""
    return Database(url, durable=True)


class IntakeHandler:
    """aiosmtpd handler: the recipient policy and the durable store, nothing else."""

    def __init__(
        self,
        database: Database,
        *,
        mail_domains: Iterable[str],
        general_address: str,
        max_message_bytes: int,
        channel: str = "smtp",
    ) -> None:
        self.database = database
        self.mail_domains = {d.strip().lower() for d in mail_domains if d.strip()}
        self.general_address = general_address.strip().lower()
        self.max_message_bytes = max_message_bytes
        self.channel = channel
        self._addresses: dict[str, str] = {}
        self._addresses_read_at = float("-inf")
        self._addresses_lock = threading.Lock()

    @classmethod
    def from_config(cls, database: Database, config: Mapping[str, Any]) -> IntakeHandler:
        return cls(
            database,
            mail_domains=config["MAIL_DOMAINS"],
            general_address=config["MAIL_GENERAL_ADDRESS"],
            max_message_bytes=int(config["MAIL_MAX_MESSAGE_BYTES"]),
        )

    # Runs in a worker thread: it reads the database.
    def department_addresses(self) -> dict[str, str]:
        with self._addresses_lock:
            if time.monotonic() - self._addresses_read_at > ADDRESS_CACHE_SECONDS:
                with self.database.session() as session:
                    self._addresses = queue.department_addresses(session)
                self._addresses_read_at = time.monotonic()
            return self._addresses

    def _is_ours_without_database(self, address: str) -> bool:
        domain = address.rpartition("@")[2]
        return address == self.general_address or domain in self.mail_domains

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not is_readable_address(address):
            return REPLY_BAD_SENDER
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return REPLY_MAIL_OK

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        address = address.strip()
        lowered = address.lower()
        local, at, domain = lowered.rpartition("@")
        if not at or not local or not domain or not is_readable_address(address):
            return REPLY_BAD_ADDRESS.format(address=_for_log(address))
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return REPLY_TOO_MANY_RECIPIENTS
        if not self._is_ours_without_database(lowered):
            try:
                addresses = await asyncio.to_thread(self.department_addresses)
            except Exception:
                log.exception("cannot read department addresses; answering 451")
                return REPLY_TRY_AGAIN
            if lowered not in addresses:  # logged by _IntakeSMTP.push, as every refusal
                return REPLY_RELAY_DENIED.format(address=address)
        envelope.rcpt_tos.append(address)
        return REPLY_RCPT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = normalise_line_ends(envelope.original_content or b"")
        if len(raw) > self.max_message_bytes:  # aiosmtpd enforces it too; belt and braces
            return REPLY_TOO_BIG
        try:
            inbound_id = await asyncio.to_thread(
                self.store, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except Exception:
            log.exception("could not store a message from %s; answering 451", session.peer)
            return REPLY_TRY_AGAIN
        return REPLY_QUEUED.format(id=inbound_id)

    def store(self, raw: bytes, mail_from: str, recipients: list[str]) -> int:
        """Commit the message; returns its InboundMail id. Only then may we answer 250."""
        try:
            addresses = self.department_addresses()
        except Exception:
            log.warning("department addresses unavailable; storing without a department")
            addresses = {}
        with self.database.engine.begin() as connection:  # committed when the block ends
            inbound_id = queue.insert_inbound(
                connection,
                channel=self.channel,
                raw=raw,
                envelope_from=mail_from,
                envelope_to=recipients,
                department_code=queue.department_for_recipients(recipients, addresses),
            )
        log.info(
            "accepted %s bytes from %s for %s as inbound mail %s",
            len(raw),
            _for_log(mail_from or "<>"),
            _for_log(", ".join(recipients)),
            inbound_id,
        )
        return inbound_id


class _IntakeSMTP(SMTP):
    """aiosmtpd's SMTP with a longer line limit and a log line for every refusal."""

    def __init__(
        self, handler: Any, *, line_length_limit: int, sessions: _Sessions, **kwargs: Any
    ) -> None:
        # Read by SMTP.__init__ for its StreamReader's limit, and by smtp_DATA.
        self.line_length_limit = line_length_limit
        self._sessions = sessions
        self._counted = False
        self._refused = False
        super().__init__(handler, **kwargs)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._counted and self._sessions.open >= self._sessions.limit:
            # Refused before a session starts: nothing of it is read or kept.
            self._refused = True
            log.warning(
                "SMTP connection from %s refused: %d connections open",
                _for_log(transport.get_extra_info("peername")),
                self._sessions.open,
            )
            cast(asyncio.WriteTransport, transport).write(REPLY_TOO_MANY_SESSIONS)
            transport.close()
            return
        if not self._counted:
            self._counted = True
            self._sessions.open += 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        if self._counted:
            self._counted = False
            self._sessions.open -= 1
        super().connection_lost(error)

    async def push(self, status: AnyStr) -> None:
        text = status if isinstance(status, str) else status.decode("utf-8", "replace")
        if text[:1] in ("4", "5"):
            envelope = getattr(self, "envelope", None)
            session = getattr(self, "session", None)
            log.warning(
                "SMTP refusal to %s (MAIL FROM %s, RCPT TO %s): %s",
                _for_log(session.peer if session is not None else "?"),
                _for_log(envelope.mail_from if envelope is not None else None),
                _for_log(",".join(envelope.rcpt_tos) if envelope is not None else ""),
                _for_log(text),
            )
        await super().push(status)


class _Sessions:
    """Connections open on one listener (all in its event loop's thread)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0


class _IntakeController(Controller):
    """A Controller that can listen on port 0 (a free port) and reports the port it got, and
    serves at most ``max_sessions`` connections at once."""

    def __init__(self, handler: Any, *, max_sessions: int = MAX_SESSIONS, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.sessions = _Sessions(max_sessions)

    def factory(self) -> SMTP:
        return _IntakeSMTP(self.handler, sessions=self.sessions, **self.SMTP_kwargs)

    def _trigger_server(self) -> None:
        if self.server is not None and self.port == 0:
            # loop.create_server() made it: an asyncio.Server, though aiosmtpd types it as the
            # AbstractServer base, which has no sockets.
            server = cast(asyncio.Server, self.server)
            self.port = server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpIntakeService:
    """The SMTP listener as a Service for `support run` and `support smtp`."""

    name = "smtp"

    def __init__(
        self,
        handler: Any,
        *,
        host: str,
        port: int,
        max_message_bytes: int,
        owns_database: Database | None = None,
        port_in_use_hint: str = "",
    ) -> None:
        self.handler = handler
        #: Said after "address already in use": how to choose another port.
        self.port_in_use_hint = port_in_use_hint
        self.host = host
        self.port = port
        self._owned = owns_database
        self.controller = _IntakeController(
            handler,
            hostname=host,
            port=port,
            data_size_limit=max_message_bytes,
            line_length_limit=line_length_limit(max_message_bytes),
            ident=SERVER_IDENT,
            enable_SMTPUTF8=True,
            ready_timeout=READY_TIMEOUT_SECONDS,
        )

    def listening(self) -> str:
        """Where it listens, for the serving commands' "ready:" line (after `start`)."""
        return f"the SMTP intake at {self.host}:{self.port}"

    @classmethod
    def for_app(cls, app: Flask) -> SmtpIntakeService:
        database = durable_database(app.config["DATABASE_URL"])
        handler = IntakeHandler.from_config(database, app.config)
        return cls(
            handler,
            host=app.config["SMTP_HOST"],
            port=int(app.config["SMTP_PORT"]),
            max_message_bytes=int(app.config["MAIL_MAX_MESSAGE_BYTES"]),
            owns_database=database,
            port_in_use_hint=another_port("SMTP_PORT", app.instance_path),
        )

    def start(self) -> None:
        try:
            self.controller.start()
        except TimeoutError:
            # A subclass of OSError, without a strerror: aiosmtpd's own wait ran out, and its
            # thread may still be starting: stop it rather than leave a listener behind.
            self.controller.stop(no_assert=True)
            raise StartupError(
                f"the SMTP intake on {self.host}:{self.port} did not answer within "
                f"{READY_TIMEOUT_SECONDS:.0f} s of starting (is the machine overloaded?)"
            ) from None
        except OSError as exc:
            hint = f" ({self.port_in_use_hint})" if self.port_in_use_hint else " (SMTP_PORT)"
            raise StartupError(
                f"cannot listen for SMTP on {self.host}:{self.port}: {exc.strerror}{hint}"
            ) from None
        self.port = self.controller.port
        log.info("SMTP intake listening on %s:%s", self.host, self.port)

    def stop(self) -> None:
        self.controller.stop()
        if self._owned is not None:
            self._owned.dispose()
