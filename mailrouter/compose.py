"""Build outgoing RFC 5322 messages: auto-replies and staff replies, always from a department.

The customer must only ever see the department's address, so there is no parameter for a
sender, and ``extra_headers`` may not set any address or threading header.
"""

from __future__ import annotations

import email.utils
import itertools
import logging
import secrets
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32, EmailPolicy
from email.utils import format_datetime, formataddr, getaddresses
from typing import Any

from mailrouter.parsing.headers import one_line
from support.core.addresses import ascii_domain

logger = logging.getLogger(__name__)

#: RFC 3834 section 5: our automatic responses to a customer's message.
AUTO_SUBMITTED_AUTO_REPLIED = "auto-replied"
#: RFC 3834 section 5: automatic mail that answers no message (staff notifications and
#: digests, copies forwarded to a team, satisfaction surveys).
AUTO_SUBMITTED_AUTO_GENERATED = "auto-generated"
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


_MESSAGE_ID_HEADERS = frozenset({"message-id", "in-reply-to", "references"})
#: Address headers: with a non-ASCII local part (RFC 6532, sent with SMTPUTF8) they go out as
#: UTF-8, not as encoded words (an address inside an encoded word is no address).
_ADDRESS_HEADERS = frozenset({"from", "to", "cc"})
#: A header name: printable ASCII without colon or space (RFC 5322 section 2.2).
_HEADER_NAME_CHARS = frozenset(chr(c) for c in range(33, 127)) - {":"}


class _OutgoingPolicy(Compat32):
    """compat32 with CRLF line ends, and Message-ID headers folded only between IDs.

    compat32 keeps header values as plain strings; the default policy parses every header
    into objects and refolds it, which cost more than half of composing a mail. compat32
    folds at whitespace only, so it never splits an ID, but it would leave the header name
    alone on its first line before a long ID (Outlook's often are); this keeps it beside it.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
            and value[:1] != " "
            and value[-1:] != " "
        ):
            # Fits on its line as it is: compat32 would write the same bytes, at a tenth of
            # the cost (a Header object and its folding; the auto-reply's MIME generation
            # was a tenth of the worker's write phase). Checked by tests/mailrouter/test_compose.py.
            return f"{name}: {value}{self.linesep}".encode("ascii")
        if name.lower() in _ADDRESS_HEADERS and isinstance(value, str) and not value.isascii():
            return self._fold_utf8_addresses(name, value)
        if name.lower() not in _MESSAGE_ID_HEADERS:
            return super().fold_binary(name, value)
        limit = self.max_line_length or 78
        lines = [f"{name}:"]
        for message_id in str(value).split():
            if len(lines[-1]) + 1 + len(message_id) > limit and lines[-1] != f"{name}:":
                lines.append("")
            lines[-1] += f" {message_id}"
        return (self.linesep.join(lines) + self.linesep).encode("ascii")

    def _fold_utf8_addresses(self, name: str, value: str) -> bytes:
        """``name <addr>`` list in UTF-8 (RFC 6532), folded only between mailboxes."""
        limit = self.max_line_length or 78
        lines = [f"{name}:"]
        mailboxes = value.split(", ")
        for index, mailbox in enumerate(mailboxes):
            piece = f" {mailbox}{',' if index < len(mailboxes) - 1 else ''}"
            if len(lines[-1]) + len(piece) > limit and lines[-1] != f"{name}:":
                lines.append("")
            lines[-1] += piece
        return (self.linesep.join(lines) + self.linesep).encode("utf-8")


OUTGOING_POLICY = _OutgoingPolicy(linesep="\r\n", mangle_from_=False)

# Bodies stay 7-bit so relays without 8BITMIME accept them: plain 7bit when the text is
# ASCII with short lines, else the shorter of quoted-printable and base64. The stdlib's
# utf-8 charset encodes bodies as base64 and headers as the shorter of Q and B words.
_UTF8 = Charset("utf-8")
_UTF8_7BIT = Charset("utf-8")
# None (no transfer encoding) is valid at runtime; typeshed types body_encoding as int only.
_UTF8_7BIT.body_encoding = None  # type: ignore[assignment]
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
#: RFC 2047 section 2: an encoded word is at most 75 characters.
_MAX_ENCODED_WORD = 75
#: Words longer than this go out as encoded words, which can be folded anywhere, so no
#: header line grows past 78 characters.
_MAX_PLAIN_WORD = 76


@dataclass(frozen=True)
class OutgoingFile:
    """A file our mail carries. ``filename`` is already cleaned (mailrouter.parsing.clean_filename);
    ``content_type`` is the one we decided on (never the uploader's word unchecked)."""

    filename: str
    content_type: str
    data: bytes


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


#: Characters of one RFC 2231 filename piece, so no header line passes 78 characters.
_FILENAME_PIECE = 56


def _disposition(filename: str) -> str:
    """``attachment; filename=...``: a short ASCII name quoted, any other in RFC 2231 pieces
    (UTF-8, percent-encoded, split at whitespace the fold may use), since compat32 folds no
    parameter and a relay refuses a line over 998 bytes."""
    name = header_text(filename) or "attachment"
    if name.isascii() and len(name) <= _FILENAME_PIECE and name.isprintable():
        return f'attachment; filename="{email.utils.quote(name)}"'
    encoded = urllib.parse.quote(name, safe="")
    pieces: list[str] = []
    while encoded:
        cut = min(len(encoded), _FILENAME_PIECE)
        if "%" in encoded[cut - 2 : cut]:  # never split a %XX escape
            cut = encoded.rindex("%", 0, cut)
        pieces.append(encoded[:cut])
        encoded = encoded[cut:]
    pieces[0] = "utf-8''" + pieces[0]
    return "attachment; " + "; ".join(f"filename*{i}*={piece}" for i, piece in enumerate(pieces))


def _file_part(file: OutgoingFile) -> MIMEApplication:
    """A base64 attachment part with a name that survives any script and length."""
    part = MIMEApplication(file.data, _subtype="octet-stream", policy=OUTGOING_POLICY)
    maintype, _sep, subtype = file.content_type.partition("/")
    if maintype and subtype and file.content_type.isascii() and " " not in file.content_type:
        part.replace_header("Content-Type", file.content_type)
        if maintype == "text":  # without a charset a reader assumes ASCII
            part.set_param("charset", "utf-8" if _is_utf8(file.data) else "unknown-8bit")
    part["Content-Disposition"] = _disposition(file.filename)
    return part


def normalize_message_id(message_id: str) -> str:
    """Return a Message-ID with exactly one pair of angle brackets; reject unusable ones."""
    core = message_id.strip().strip("<>").strip()
    if not core or "@" not in core or not core.isprintable() or any(c in " <>" for c in core):
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


#: ``value`` made safe for a header we write (mailrouter.parsing.headers.one_line): every header
#: made from customer input (subject, display names) passes here, so a CR or LF (say, from a
#: decoded RFC 2047 word in a contact form's name) can never start a header of its own.
header_text = one_line


_single_line = header_text


def _needs_encoding(value: str) -> bool:
    """True unless ``value`` can go out as plain ASCII words that fold to short lines.

    ``=?`` is encoded too: a recipient's program would otherwise decode it as an encoded word.
    """
    return (
        not value.isascii()
        or "=?" in value
        or any(len(word) > _MAX_PLAIN_WORD for word in value.split())
    )


def _unstructured(name: str, value: str) -> Header:
    """A one-line text header (Subject, extra headers); RFC 2047 encoded words when needed."""
    value = _single_line(value)
    charset = _UTF8 if _needs_encoding(value) else "us-ascii"
    return Header(value, charset, header_name=name)


def _mailbox(display_name: str, addr_spec: str) -> str:
    """``name <addr>``: the name as encoded words if needed, the domain as IDNA.

    A non-ASCII local part (王芳@example.cn) is written as UTF-8 (RFC 6532); such a mail can
    only be sent with SMTPUTF8, which the relay checks (``relay._deliver``).
    """
    local, _, domain = addr_spec.strip().rpartition("@")
    if (
        not local
        or not (local + domain).isprintable()
        or "<" in local + domain
        or ">" in local + domain
        or len(domain.split()) != 1
    ):
        raise ValueError(f"invalid address {addr_spec!r}")
    address = ascii_domain(f"{local}@{domain}")
    display_name = _single_line(display_name)
    if not _needs_encoding(display_name):
        if not display_name:
            return address
        # formataddr quotes the name when needed, but refuses a non-ASCII address.
        quoted = formataddr((display_name, "placeholder@invalid")).rsplit(" <", 1)[0]
        return f"{quoted} <{address}>"
    lines = _UTF8.header_encode_lines(display_name, itertools.repeat(_MAX_ENCODED_WORD))
    # A None entry stands for an empty first line, only possible when a line has no room for
    # one character; with 75-character words it never occurs.
    words = [word for word in lines if word is not None]
    return f"{' '.join(words)} <{address}>"


def _recipient(raw: str) -> str:
    # A line break inside a quoted name would make the parser read no address at all.
    [(display_name, addr_spec)] = getaddresses([header_text(raw)]) or [("", "")]
    if "@" not in addr_spec:
        raise ValueError(f"invalid recipient address {raw!r}")
    return _mailbox(display_name, addr_spec)


def _text_part(content: str, subtype: str) -> MIMEText:
    """A UTF-8 text part in canonical form (CRLF line ends, RFC 2046 4.1.1) and 7-bit clean."""
    # Only CR, LF and CRLF end lines (str.splitlines would also split at U+2028, form feeds).
    lines = content.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    body = "\r\n".join(lines) + "\r\n"
    max_line_length = OUTGOING_POLICY.max_line_length or 78  # as in fold_binary
    if body.isascii() and max(map(len, lines), default=0) <= max_line_length:
        charset = _UTF8_7BIT
    else:
        ascii_chars = len(body.encode("ascii", "ignore"))
        other_bytes = len(body.encode()) - ascii_chars
        # Quoted-printable triples every non-ASCII byte; base64 adds a third to everything.
        charset = _UTF8_QP if 5 * other_bytes <= ascii_chars else _UTF8
    # MIMEText accepts a Charset at runtime (it calls str() on it); typeshed says str only.
    return MIMEText(body, subtype, charset, policy=OUTGOING_POLICY)  # type: ignore[arg-type]


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
    auto_submitted: str = AUTO_SUBMITTED_AUTO_REPLIED,
    extra_headers: Mapping[str, str] | None = None,
    date_at: datetime | None = None,
    files: Sequence[OutgoingFile] = (),
    cc: Sequence[str] = (),
) -> Message:
    """Return a ready-to-send message from a department address.

    ``references`` are the customer's References; the ID we answer (``in_reply_to``) is
    appended. ``automatic`` marks automatic mail (``Auto-Submitted``, RFC 3834: ``auto_submitted``
    says which kind, auto-replied or auto-generated; and ``X-Auto-Response-Suppress: All`` so
    Exchange sends no out-of-office back).
    ``Precedence`` is deliberately not set: it is not standardised and ``bulk`` hurts
    delivery. ``msg["Subject"]`` is a ``Header``; ``str()`` of it is the subject as sent.
    ``files`` go out as attachments after the text (multipart/mixed).
    """
    if not to:
        raise ValueError("a message needs at least one recipient")
    for name in extra_headers or {}:
        if not name or not set(name) <= _HEADER_NAME_CHARS:
            raise ValueError(f"invalid header name {name!r}")
        if name.strip().lower() in _PROTECTED_HEADERS:
            raise ValueError(f"extra_headers may not set {name}")
    if html is None:
        msg: Message = _text_part(text, "plain")
    else:
        msg = MIMEMultipart(
            "alternative",
            # Random, and "=_" never occurs in quoted-printable or base64 text: no need for the
            # stdlib's check of the body for it (a regex compiled per mail).
            boundary=f"=_{secrets.token_hex(16)}",
            _subparts=[_text_part(text, "plain"), _text_part(html, "html")],
            policy=OUTGOING_POLICY,
        )
    if files:
        msg = MIMEMultipart(
            "mixed",
            boundary=f"=_{secrets.token_hex(16)}",
            _subparts=[msg, *(_file_part(file) for file in files)],
            policy=OUTGOING_POLICY,
        )
    msg["From"] = _mailbox(from_name, from_address)
    msg["To"] = ", ".join(_recipient(recipient) for recipient in to)
    if cc:
        msg["Cc"] = ", ".join(_recipient(recipient) for recipient in cc)
    # compat32 takes Header values (str() of one is the header as sent); typeshed says str only.
    msg["Subject"] = _unstructured("Subject", subject)  # type: ignore[assignment]
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
        if auto_submitted not in (AUTO_SUBMITTED_AUTO_REPLIED, AUTO_SUBMITTED_AUTO_GENERATED):
            raise ValueError(f"unknown Auto-Submitted value {auto_submitted!r}")
        msg["Auto-Submitted"] = auto_submitted
        msg["X-Auto-Response-Suppress"] = "All"
    for name, value in (extra_headers or {}).items():
        msg[name] = _unstructured(name, value)  # type: ignore[assignment]  # Header, as Subject
    return msg


def message_bytes(message: Message) -> bytes:
    """Serialise a message exactly once, for the outbox and the relay, with CRLF line ends.

    Headers parsed back from stored bytes are written as they were (``refold_source='none'``):
    re-folding them with the stdlib's unstructured rules would encode long Message-IDs.
    """
    policy = message.policy.clone(linesep="\r\n", mangle_from_=False)
    if isinstance(policy, EmailPolicy):
        policy = policy.clone(refold_source="none")
    return message.as_bytes(policy=policy)
