"""Build outgoing RFC 5322 messages: auto-replies and staff replies, always from a department.

The customer must only ever see the department's address, so there is no parameter for a
sender, and ``extra_headers`` may not set any address or threading header.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email import policy as email_policy
from email.generator import BytesGenerator
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage, Message
from email.policy import EmailPolicy, Policy
from email.utils import format_datetime, getaddresses
from io import BytesIO

logger = logging.getLogger(__name__)

#: RFC 3834 section 5: our automatic responses to a customer's message.
AUTO_SUBMITTED_AUTO_REPLIED = "auto-replied"
#: How many Message-IDs References keeps: the thread root plus the most recent ones, so a
#: long conversation cannot grow the header without bound.
MAX_REFERENCES = 20

# Headers compose_message sets itself; letting extra_headers override them could leak a
# staff address (From, Sender) or break threading.
_PROTECTED_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "return-path",
        "auto-submitted",
    }
)


class _MessageIdListHeader(UnstructuredHeader):
    """In-Reply-To/References folded only between IDs, never into RFC 2047 encoded words.

    The stdlib treats these headers as unstructured text and turns a Message-ID longer than
    one line (Outlook's often are) into ``=?utf-8?q?...?=``, which breaks threading.
    """

    def fold(self, *, policy: Policy) -> str:
        limit = policy.max_line_length or 78
        lines = [f"{self.name}:"]
        for message_id in str(self).split():
            if len(lines[-1]) + 1 + len(message_id) > limit and lines[-1] != f"{self.name}:":
                lines.append("")
            lines[-1] += f" {message_id}"
        return policy.linesep.join(lines) + policy.linesep


def _outgoing_policy() -> EmailPolicy:
    registry = HeaderRegistry()
    registry.map_to_type("in-reply-to", _MessageIdListHeader)
    registry.map_to_type("references", _MessageIdListHeader)
    # 7bit: bodies become quoted-printable/base64 so relays without 8BITMIME accept them;
    # non-ASCII headers (Chinese names, subjects) become RFC 2047 encoded words.
    return email_policy.SMTP.clone(cte_type="7bit", header_factory=registry)


OUTGOING_POLICY = _outgoing_policy()


def normalize_message_id(message_id: str) -> str:
    """Return a Message-ID with exactly one pair of angle brackets; reject unusable ones."""
    core = message_id.strip().strip("<>").strip()
    if not core or "@" not in core or any(c.isspace() or c in "<>" for c in core):
        raise ValueError(f"invalid Message-ID {message_id!r}")
    return f"<{core}>"


def thread_references(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """Return the References list for a reply: theirs plus the message we answer (RFC 5322 3.6.4).

    Unusable IDs are dropped rather than failing the reply; duplicates are removed and the
    list is trimmed to the thread root plus the newest IDs.
    """
    ids: list[str] = []
    for raw in [*references, *([in_reply_to] if in_reply_to else [])]:
        for candidate in (raw or "").split():
            try:
                ids.append(normalize_message_id(candidate))
            except ValueError:
                logger.info("dropping unusable Message-ID %r from References", candidate)
    unique = list(dict.fromkeys(reversed(ids)))[::-1]  # keep each ID's last position
    if len(unique) > MAX_REFERENCES:
        unique = [unique[0], *unique[-(MAX_REFERENCES - 1) :]]
    return unique


def _address(raw: str) -> Address:
    [(display_name, addr_spec)] = getaddresses([raw]) or [("", "")]
    if "@" not in addr_spec:
        raise ValueError(f"invalid recipient address {raw!r}")
    return Address(display_name=display_name, addr_spec=addr_spec)


def _single_line(value: str) -> str:
    return " ".join(value.split())


def compose_message(
    *,
    from_name: str,
    from_address: str,
    to: list[str],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    in_reply_to: str | None,
    references: list[str],
    automatic: bool,
    extra_headers: Mapping[str, str] | None = None,
    date_at: datetime | None = None,
) -> EmailMessage:
    """Return a ready-to-send message from a department address.

    ``references`` are the customer's References; the ID we answer (``in_reply_to``) is
    appended. ``automatic`` marks auto-replies (``Auto-Submitted: auto-replied``, RFC 3834,
    and ``X-Auto-Response-Suppress: All`` so Exchange sends no out-of-office back).
    ``Precedence`` is deliberately not set: it is not standardised and ``bulk`` hurts
    delivery.
    """
    if not to:
        raise ValueError("a message needs at least one recipient")
    msg = EmailMessage(policy=OUTGOING_POLICY)
    msg["From"] = Address(display_name=_single_line(from_name), addr_spec=from_address.strip())
    msg["To"] = [_address(recipient) for recipient in to]
    msg["Subject"] = _single_line(subject)
    msg["Date"] = format_datetime((date_at or datetime.now(UTC)).astimezone(UTC))
    msg["Message-ID"] = normalize_message_id(message_id)
    if in_reply_to:
        try:
            msg["In-Reply-To"] = normalize_message_id(in_reply_to)
        except ValueError:
            logger.info("not setting In-Reply-To to unusable Message-ID %r", in_reply_to)
    thread = thread_references(references, in_reply_to)
    if thread:
        msg["References"] = " ".join(thread)
    if automatic:
        msg["Auto-Submitted"] = AUTO_SUBMITTED_AUTO_REPLIED
        msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (extra_headers or {}).items():
        if name.strip().lower() in _PROTECTED_HEADERS:
            raise ValueError(f"extra_headers may not set {name}")
        msg[name] = _single_line(value)

    msg.set_content(text, subtype="plain", charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def message_bytes(message: Message) -> bytes:
    """Serialise a message exactly once, for the outbox and the relay.

    Headers parsed back from stored bytes are written as they were (``refold_source='none'``):
    re-folding them with the stdlib's unstructured rules would encode long Message-IDs.
    """
    policy = message.policy
    if isinstance(policy, EmailPolicy):
        policy = policy.clone(refold_source="none", linesep="\r\n")
    buffer = BytesIO()
    BytesGenerator(buffer, policy=policy).flatten(message)
    return buffer.getvalue()
