"""MIME structure: walk one message's MIME tree into body segments, attachments and defects.

Truncated MIME, missing boundaries, unparsable Content-Type or Content-Disposition headers and
absurd nesting are all common in real mail: each header is read with the message's policy
and, when that raises, read raw with a regex, and every such repair is recorded as a defect
instead of stopping the walk.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO
from typing import Any

from mailrouter.parsing.attachments import (
    ParsedAttachment,
    clean_filename,
    sniff_content_type,
    types_agree,
)
from mailrouter.parsing.charsets import decode_bytes, decode_bytes_with_codec
from mailrouter.parsing.headers import (
    _SURROGATE_RE,
    _as_raw_bytes,
    _clean_string,
    _Headers,
    _unfold,
    decode_header_text,
    normalise_message_id,
)
from mailrouter.parsing.tnef import tnef_files

logger = logging.getLogger(__name__)

_MAX_MIME_DEPTH = 40
_MAX_DEFECTS = 60
#: MIME parts one message is read for; the rest are ignored (a defect says so). Reading a
#: part's headers costs about 0.2 ms, so 50,000 one-byte attachments took 10 s and became
#: 50,000 rows on the ticket; real mail has a few dozen parts.
MAX_MIME_PARTS = 1_000

#: Where Outlook's plain text had an inline image (a signature logo, a pasted photo):
#: "[cid:image001.png@01DB4F1A.2B3C4D50]". The image is listed with the attachments and shown
#: in the HTML; as text the placeholder is noise in the inbox's opening and the ticket.
_CID_PLACEHOLDER_RE = re.compile(r"\[cid:[^\]\s]{1,200}\]")
_PARAM_RE = re.compile(r';\s*([\w*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_REPORT_TYPES = {
    "message/delivery-status",
    "message/global-delivery-status",
    "message/feedback-report",
    "message/disposition-notification",
    "text/rfc822-headers",
    "message/rfc822-headers",
    "message/global-headers",
}


@dataclass
class _Segment:
    plain: str | None = None
    html: str | None = None


def _raw_param(part: Message, header: str, name: str) -> str | None:
    """A parameter read with a regex, for headers the email package cannot parse.

    RFC 2231 forms (``name*=utf-8''...``, ``name*0*=...``) are joined and percent-decoded.
    """
    raw = _Headers(part).first(header) or ""
    plain = None
    pieces: list[str] = []
    for key, value in _PARAM_RE.findall(_unfold(raw)):
        key = key.lower()
        value = value.strip('"')
        if key == name:
            plain = value
        elif key.startswith(name + "*"):
            pieces.append(value)
    if pieces:
        joined = "".join(pieces)
        charset, encoded = "", joined
        if joined.count("'") >= 2:
            charset, _language, encoded = joined.split("'", 2)
        data = re.sub(
            rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), _as_raw_bytes(encoded)
        )
        text = decode_bytes(data, charset or "utf-8", guess=False)[0]
        if text:
            return text
    return plain


#: Parameters a MIME part's structure is read by; its file name too while that is affordable.
STRUCTURE_PARAMETERS = ("boundary", "charset", "format", "delsp", "type", "report-type")
NAME_PARAMETERS = ("name", "filename")
#: Characters of a header value searched for the parameters that are kept.
_SCANNED_PARAMETER_CHARS = 65_536


def bounded_parameter_header(value: str, limit: int, names: tuple[str, ...]) -> str:
    """A Content-Type or Content-Disposition value of at most about ``limit`` characters: as it
    is when short, else its first value and those of the parameters ``names`` (RFC 2231 pieces
    included) that fit. Linear: one regex pass over at most _SCANNED_PARAMETER_CHARS."""
    if len(value) <= limit:
        return value
    first, _sep, rest = _unfold(value[:_SCANNED_PARAMETER_CHARS]).partition(";")
    kept = [first.strip()[:100]]
    size = len(kept[0])
    for key, written in _PARAM_RE.findall(";" + rest):
        if key.lower().split("*", 1)[0] not in names:
            continue
        piece = f"{key}={written}"
        if size + 2 + len(piece) > limit:
            break  # RFC 2231 pieces stay in one run, never with a gap
        kept.append(piece)
        size += 2 + len(piece)
    return "; ".join(kept)


def _fallback_note(notes: list[str] | None, what: str, exc: Exception) -> None:
    logger.debug("header parsing with policy.default failed for %s", what, exc_info=True)
    if notes is not None:
        notes.append(f"{what} unreadable by policy.default ({type(exc).__name__}); read raw")


def _content_type(part: Message, notes: list[str] | None = None) -> str:
    try:
        content_type = part.get_content_type()
    except Exception as exc:
        _fallback_note(notes, "Content-Type", exc)
        raw = _Headers(part).first("content-type") or ""
        content_type = _unfold(raw).split(";", 1)[0].strip().lower() or "text/plain"
    if "/" not in content_type:
        return "text/plain"
    return content_type


def _charset(part: Message, notes: list[str] | None = None) -> str | None:
    try:
        value = part.get_param("charset")
    except Exception as exc:
        _fallback_note(notes, "charset", exc)
        value = _raw_param(part, "content-type", "charset")
    if isinstance(value, tuple):  # RFC 2231 form
        value = value[2]
    return str(value) if value else None


def _disposition(part: Message, notes: list[str] | None = None) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception as exc:
        _fallback_note(notes, "Content-Disposition", exc)
        raw = _Headers(part).first("content-disposition") or ""
        value = _unfold(raw).split(";", 1)[0].strip().lower()
        return value or None


def _filename(part: Message, hint: str | None, notes: list[str] | None = None) -> str | None:
    try:
        name = part.get_filename()
    except Exception as exc:
        _fallback_note(notes, "filename", exc)
        name = _raw_param(part, "content-disposition", "filename") or _raw_param(
            part, "content-type", "name"
        )
    if name and "\ufffd" in str(name):
        # Raw 8-bit bytes in the parameter (Foxmail and many Chinese systems write the name in
        # GBK so): the email package replaced them; the raw header still has them.
        name = (
            _raw_param(part, "content-disposition", "filename")
            or _raw_param(part, "content-type", "name")
            or name
        )
    if not name:
        return None
    name = str(name)
    if "=?" in name or _SURROGATE_RE.search(name):
        name = decode_header_text(name, hint)
    return name


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return _as_raw_bytes(payload)
    return b""


def _serialize(msg: Message) -> bytes:
    """Bytes of an embedded message, tolerant of headers the default policy cannot refold."""
    for chosen in (policy.compat32, None):
        try:
            buffer = BytesIO()
            BytesGenerator(buffer, mangle_from_=False, policy=chosen or msg.policy).flatten(msg)
            return buffer.getvalue()
        except Exception:
            continue
    try:
        return _as_raw_bytes(msg.as_string())
    except Exception:
        return b""


def _report_text(part: Message) -> bytes:
    """Field blocks of a delivery-status/feedback report as the text they were sent as."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                fields = _Headers(block)
                lines = [f"{k}: {_unfold(v)}" for k, vs in fields.values.items() for v in vs]
                blocks.append("\n".join(lines))
        return _as_raw_bytes("\n\n".join(blocks))
    return _payload_bytes(part)


class _Walker:
    """Collects body segments, attachments and defects from one MIME tree."""

    def __init__(self, max_attachment_bytes: int) -> None:
        self.max_attachment_bytes = max_attachment_bytes
        self.attachments: list[ParsedAttachment] = []
        self.report_texts: list[str] = []
        self.defects: list[str] = []
        self.first_charset: str | None = None
        self.segments: list[_Segment] = []
        self.parser_defects: dict[str, list[str]] = {}
        self.parts = 0

    def defect(self, text: str) -> None:
        if text not in self.defects and len(self.defects) < _MAX_DEFECTS:
            self.defects.append(text)

    def read(self, reader: Callable[..., Any], part: Message, where: str, *args: Any) -> Any:
        """Call a header reader, recording when it had to fall back to the raw header."""
        notes: list[str] = []
        value = reader(part, *args, notes=notes)
        for note in notes:
            self.defect(f"{where}: {note}")
        return value

    def note_parser_defects(self, part: Message, where: str) -> None:
        for found in getattr(part, "defects", []) or []:
            self.parser_defects.setdefault(type(found).__name__, []).append(where)

    def all_defects(self) -> list[str]:
        """Repairs noted while walking, parser defects summarised once per kind."""
        summary = []
        for name, places in self.parser_defects.items():
            more = f" (and {len(places) - 1} more parts)" if len(places) > 1 else ""
            summary.append(f"{places[0]}: {name}{more}")
        return summary + self.defects

    def walk(self, part: Message, depth: int = 0, where: str = "message") -> list[_Segment]:
        if depth > _MAX_MIME_DEPTH:
            self.defect(f"{where}: MIME nesting deeper than {_MAX_MIME_DEPTH}; rest ignored")
            return []
        self.parts += 1
        if self.parts > MAX_MIME_PARTS:
            self.defect(f"more than {MAX_MIME_PARTS} MIME parts; the rest ignored")
            return []
        self.note_parser_defects(part, where)
        content_type = self.read(_content_type, part, where)
        payload = part.get_payload()
        if content_type.startswith("multipart/"):
            if not isinstance(payload, list):
                self.defect(f"{where}: multipart without parts; read as text")
                return self.leaf(part, "text/plain", where)
            if content_type == "multipart/alternative":
                return self.alternative(payload, depth, where)
            segments: list[_Segment] = []
            for number, child in enumerate(payload, 1):
                if isinstance(child, Message):
                    segments += self.walk(child, depth + 1, f"{where}.{number}")
            return segments
        if content_type in _REPORT_TYPES:
            data = _report_text(part)
            self.report_texts.append(decode_bytes(data, self.read(_charset, part, where))[0])
            self.add_attachment(part, content_type, data, where)
            return []
        if isinstance(payload, list):  # message/rfc822 and other embedded messages
            inner = payload[0] if payload and isinstance(payload[0], Message) else None
            if inner is not None:
                self.note_parser_defects(inner, f"{where} (embedded)")
            data = _serialize(inner) if inner is not None else b""
            self.add_attachment(part, content_type, data, where, inner=inner)
            return []
        return self.leaf(part, content_type, where)

    def alternative(self, children: list[Any], depth: int, where: str) -> list[_Segment]:
        """One segment: the first plain version for text, the last HTML version for display."""
        merged = _Segment()
        for number, child in enumerate(children, 1):
            if not isinstance(child, Message):
                continue
            for segment in self.walk(child, depth + 1, f"{where}.{number}"):
                if segment.plain is not None and merged.plain is None:
                    merged.plain = segment.plain
                if segment.html is not None:
                    merged.html = segment.html
        if merged.plain is None and merged.html is None:
            return []
        return [merged]

    def leaf(self, part: Message, content_type: str, where: str) -> list[_Segment]:
        disposition = self.read(_disposition, part, where)
        charset = self.read(_charset, part, where)
        if charset and self.first_charset is None:
            self.first_charset = charset
        # A raw 8-bit name is read in the part's charset, else in the body's (a PDF has none).
        filename = self.read(_filename, part, where, charset or self.first_charset)
        data = _payload_bytes(part)
        is_body_type = content_type in ("text/plain", "text/html")
        if (
            is_body_type
            and disposition != "attachment"
            and (not filename or disposition == "inline")
        ):
            text, note, codec = decode_bytes_with_codec(data, charset)
            if self.first_charset is None and codec is not None:
                # Undeclared: what the body was read as is the best guess for raw 8-bit
                # headers, a few bytes that a detector alone reads as any CJK charset.
                self.first_charset = codec
            if note:
                self.defect(f"{where}: {note}")
            text = _clean_string(text.replace("\r\n", "\n").replace("\r", "\n"))
            if content_type == "text/html":
                return [_Segment(html=text)]
            return [_Segment(plain=_CID_PLACEHOLDER_RE.sub("", text))]
        self.add_attachment(part, content_type, data, where, filename=filename)
        return []

    def add_attachment(
        self,
        part: Message,
        content_type: str,
        data: bytes,
        where: str,
        *,
        filename: str | None = None,
        inner: Message | None = None,
    ) -> None:
        disposition = self.read(_disposition, part, where)
        if filename is None:
            filename = self.read(_filename, part, where, self.first_charset)
        if filename is None and inner is not None:
            subject = decode_header_text(_Headers(inner).first("subject"), self.first_charset)
            filename = f"{subject[:80]}.eml" if subject.strip() else None
        index = len(self.attachments) + 1
        sniffed = sniff_content_type(data[:64])
        name = clean_filename(filename, sniffed or content_type, index)
        mismatch = sniffed is not None and not types_agree(content_type, sniffed)
        if mismatch:
            self.defect(f"{where}: {name!r} declared {content_type} but its bytes are {sniffed}")
        content_id = None
        try:
            raw_id = _Headers(part).first("content-id")
        except Exception:
            raw_id = None
        if raw_id:
            content_id = normalise_message_id(raw_id)
        self.attachments.append(
            ParsedAttachment(
                filename=name,
                content_type=content_type,
                size=len(data),
                data=self.kept(data),
                content_id=content_id,
                is_inline=disposition == "inline" or (disposition is None and bool(content_id)),
                sniffed_type=sniffed,
                type_mismatch=mismatch,
                skipped_reason=self.skipped_reason(data),
            )
        )
        if "application/ms-tnef" in (content_type, sniffed):
            self.add_tnef_files(data)

    def kept(self, data: bytes) -> bytes | None:
        return data if len(data) <= self.max_attachment_bytes else None

    def skipped_reason(self, data: bytes) -> str | None:
        if len(data) <= self.max_attachment_bytes:
            return None
        return f"{len(data)} bytes is over the {self.max_attachment_bytes}-byte attachment limit"

    def add_tnef_files(self, stream: bytes) -> None:
        """The files inside Outlook's winmail.dat, listed after it as attachments of their own
        (the winmail.dat stays: it is what the customer's program sent)."""
        for file in tnef_files(stream):
            index = len(self.attachments) + 1
            sniffed = sniff_content_type(file.data[:64])
            guessed = mimetypes.guess_type(file.name)[0] if file.name else None
            content_type = sniffed or guessed or "application/octet-stream"
            self.attachments.append(
                ParsedAttachment(
                    filename=clean_filename(file.name, content_type, index),
                    content_type=content_type,
                    size=len(file.data),
                    data=self.kept(file.data),
                    sniffed_type=sniffed,
                    skipped_reason=self.skipped_reason(file.data),
                )
            )
