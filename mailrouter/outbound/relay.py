"""Hand outgoing mail to an SMTP relay and say whether a failure is worth retrying.

The outbox decides what to do with a failure; this module only sorts failures into
"try again later" (4xx replies, network trouble, relay misconfiguration that an admin can fix)
and "this message will never go" (5xx replies about the message or its recipients).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message
from typing import Literal

from mailrouter.compose import message_bytes
from support.core.addresses import ascii_domain
from support.core.tls import client_context

logger = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]

RETRY_BASE_DELAY = timedelta(minutes=1)
RETRY_MAX_DELAY = timedelta(hours=1)


class DeliveryError(Exception):
    """The relay did not take the message; ``reason`` includes the server's reply."""

    def __init__(self, reason: str, *, smtp_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.smtp_code = smtp_code


class TemporaryDeliveryError(DeliveryError):
    """Try again later: 4xx reply, relay unreachable, timeout, dropped connection, bad login."""


class PermanentDeliveryError(DeliveryError):
    """Do not retry: the relay refused the message or every recipient with a 5xx reply."""


#: Seconds one SMTP operation (connect, a command, the DATA transfer) may take.
DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, kw_only=True)
class RelayConfig:
    host: str
    port: int = 25
    security: Security = "none"
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    #: Name sent in EHLO; None uses the machine's FQDN (which may need a slow DNS lookup).
    helo_name: str | None = None
    #: PEM file of the relay's own certificate or CA, trusted besides the system's CAs.
    ca_file: str | None = None

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return (
            f"RelayConfig(host={self.host!r}, port={self.port}, security={self.security!r}, "
            f"username={self.username!r}, timeout={self.timeout})"
        )


def _reply_text(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(text.split())}".strip()


def _error_for_reply(context: str, code: int, text: bytes | str) -> DeliveryError:
    reason = f"{context}: {_reply_text(code, text)}"
    if 500 <= code <= 599:
        return PermanentDeliveryError(reason, smtp_code=code)
    return TemporaryDeliveryError(reason, smtp_code=code)


def _connect(config: RelayConfig) -> smtplib.SMTP:
    context = client_context(config.ca_file)
    if config.security == "tls":
        return smtplib.SMTP_SSL(
            config.host,
            config.port,
            local_hostname=config.helo_name,
            timeout=config.timeout,
            context=context,
        )
    smtp = smtplib.SMTP(
        config.host, config.port, local_hostname=config.helo_name, timeout=config.timeout
    )
    try:
        smtp.ehlo()
        if config.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
    except BaseException:
        smtp.close()
        raise
    return smtp


def _ascii_domains(address: str) -> str:
    """The address with its domain as IDNA; as it is when it has none to encode (the relay
    then refuses it and says why)."""
    try:
        return ascii_domain(address) if address else address
    except ValueError:
        return address


def _deliver(
    config: RelayConfig, data: bytes, envelope_from: str, recipients: list[str]
) -> dict[str, str]:
    smtp = _connect(config)
    try:
        if config.username:
            smtp.login(config.username, config.password or "")
        # An international domain goes as IDNA (user@xn--bcher-kva.de), which every relay
        # takes; only non-ASCII mailboxes (王芳@example.cn) need SMTPUTF8 (RFC 6531).
        envelope_from, recipients = (
            _ascii_domains(envelope_from),
            list(map(_ascii_domains, recipients)),
        )
        international = not all(addr.isascii() for addr in [envelope_from, *recipients])
        if international and not smtp.has_extn("smtputf8"):
            raise PermanentDeliveryError(
                f"relay {config.host}:{config.port} cannot deliver to non-ASCII addresses "
                "(no SMTPUTF8)"
            )
        options = ["SMTPUTF8"] if international else []
        refused = smtp.sendmail(envelope_from, recipients, data, mail_options=options)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
    return {rcpt: _reply_text(code, text) for rcpt, (code, text) in refused.items()}


def send_via_relay(
    config: RelayConfig,
    message: Message | bytes,
    envelope_from: str,
    recipients: list[str],
) -> dict[str, str]:
    """Send one message; return the recipients the relay refused while accepting others.

    Raises ``TemporaryDeliveryError`` or ``PermanentDeliveryError``. A partial refusal is not
    raised, because retrying would send the message twice to those who got it; the caller
    should record the returned ``{recipient: reply}``. Bad credentials and a relay without
    STARTTLS are temporary: they are fixed in the settings, not in the message.
    """
    if not recipients:
        raise ValueError("no recipients")
    data = message if isinstance(message, bytes) else message_bytes(message)
    where = f"{config.host}:{config.port}"
    try:
        refused = _deliver(config, data, envelope_from, recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        replies = {rcpt: _reply_text(code, text) for rcpt, (code, text) in exc.recipients.items()}
        summary = "; ".join(f"{rcpt}: {reply}" for rcpt, reply in replies.items())
        codes = [code for code, _text in exc.recipients.values()]
        if codes and all(500 <= code <= 599 for code in codes):
            raise PermanentDeliveryError(
                f"all recipients refused: {summary}", smtp_code=codes[0]
            ) from exc
        raise TemporaryDeliveryError(
            f"recipients refused: {summary}", smtp_code=min(codes, default=None)
        ) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise TemporaryDeliveryError(
            f"relay {where} rejected the login: {_reply_text(exc.smtp_code, exc.smtp_error)}",
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPSenderRefused as exc:
        raise _error_for_reply(
            f"sender {exc.sender} refused", exc.smtp_code, exc.smtp_error
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise TemporaryDeliveryError(f"relay {where} does not support: {exc}") from exc
    except smtplib.SMTPServerDisconnected as exc:
        raise TemporaryDeliveryError(f"relay {where} disconnected: {exc}") from exc
    except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as exc:
        # The relay turned us away before any message was named: a setup problem.
        raise TemporaryDeliveryError(
            f"relay {where} refused the session: {_reply_text(exc.smtp_code, exc.smtp_error)}",
            smtp_code=exc.smtp_code,
        ) from exc
    except smtplib.SMTPResponseException as exc:  # DATA refused, and any other reply
        raise _error_for_reply(f"relay {where}", exc.smtp_code, exc.smtp_error) from exc
    except smtplib.SMTPException as exc:
        raise TemporaryDeliveryError(f"relay {where}: {exc}") from exc
    except OSError as exc:  # refused, unreachable, timeout, DNS, TLS handshake
        raise TemporaryDeliveryError(
            f"cannot reach relay {where}: {type(exc).__name__}: {exc}"
        ) from exc
    if refused:
        logger.warning("relay %s accepted the message but refused %s", where, refused)
    return refused


def next_retry_delay(
    attempts: int,
    *,
    base: timedelta = RETRY_BASE_DELAY,
    cap: timedelta = RETRY_MAX_DELAY,
) -> timedelta:
    """Return how long to wait after ``attempts`` failed tries: 1 min, 2, 4 ... at most 1 h.

    Deterministic on purpose (no jitter): the outbox sends one message at a time, so retries
    do not stampede, and tests can state exact times.
    """
    exponent = max(attempts, 1) - 1
    if exponent >= 32:  # any realistic cap is reached long before; avoid huge numbers
        return cap
    return min(base * (2**exponent), cap)
