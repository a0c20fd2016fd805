"""The message: ``parse_message`` turns raw bytes into a ParsedMail and never raises.

It parses the MIME tree with policy.default behind a header cache (``_CachingPolicy``), falls
back to compat32 when that policy's header parsing raises, and to the bytes shown as text when
nothing can parse them; then it reads the headers, the body (plain text, sanitized HTML) and
splits off quoted history, the signature and the language.
"""

from __future__ import annotations

import functools
import hashlib
import html as htmllib
import logging
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.feedparser import BytesFeedParser
from email.message import Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from typing import Any

from mailrouter.parsing.attachments import ParsedAttachment
from mailrouter.parsing.charsets import decode_bytes
from mailrouter.parsing.forwards import (
    MAX_FORWARD_DEPTH,
    SUBJECT_PREFIX_RE,
    Forwarded,
    is_forward_subject,
    read_inline_forward,
    reading_text,
    without_picture_placeholders,
)
from mailrouter.parsing.headers import (
    KEPT_HEADERS,
    MAX_MESSAGE_IDS,
    _as_raw_bytes,
    _clean_string,
    _distinct_message_ids,
    _first_message_id,
    _Headers,
    _one_line,
    _parse_addresses,
    _parse_date,
    _unfold,
    decode_header_text,
    normalise_message_id,
    sender_utc_offset,
)
from mailrouter.parsing.html import (
    _CLOSED_TAG_RE,
    _MAX_HTML_CHARS,
    _MAX_HTML_DEPTH,
    _read_html,
)
from mailrouter.parsing.mime import (
    _MAX_DEFECTS,
    _MAX_MIME_DEPTH,
    MAX_MIME_PARTS,
    NAME_PARAMETERS,
    STRUCTURE_PARAMETERS,
    _Segment,
    _Walker,
    bounded_parameter_header,
)
from mailrouter.parsing.quotes import QuoteSplit, split_mail_text
from support.core.html import sanitize_html
from support.core.text import NO_TEXT_MARKER, detect_language, written_in_pinyin

logger = logging.getLogger(__name__)


def _adds_nothing(
    split: QuoteSplit,
    subject: str,
    in_reply_to: str | None,
    references: list[str],
    has_attachments: bool,
) -> bool:
    """A reply that adds no words to the mail it quotes (a photo sent from a phone, say).

    Its new text is then "no text", so routing, urgency and FAQ matching do not read our own
    quoted mail as the customer's words. Only a reply (In-Reply-To, References or a Re:
    subject), never a forward (the forwarded mail is what it sends); and when the history was
    cut at a separator or attribution on top, only with an attachment: a bottom-poster's answer
    under an unmarked quote ("-----Original Message-----", then history, then the answer)
    would otherwise be lost, and the full text keeps it.
    """
    if not split.nothing_new or (split.history_on_top and not has_attachments):
        return False
    if is_forward_subject(subject):
        return False
    return SUBJECT_PREFIX_RE.match(subject) is not None or bool(in_reply_to or references)


#: Domain of Message-IDs we make up for mail that arrived without one (RFC 2606 reserved).
GENERATED_ID_DOMAIN = "support.invalid"


def is_generated_message_id(message_id: str) -> bool:
    """A Message-ID we made up: the sender's mail program never saw it, so mail of ours
    must not name it in In-Reply-To or References."""
    return message_id.strip("<> ").endswith("@" + GENERATED_ID_DOMAIN)


@dataclass
class ParsedMail:
    """Everything the router, classifier and staff view read from one message."""

    message_id: str
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_address: str
    from_name: str
    reply_to: str | None
    to: list[str]
    cc: list[str]
    date: datetime | None
    headers: dict[str, str]
    #: The sender's UTC offset in minutes from the Date header (``sender_utc_offset``), or None.
    date_offset_minutes: int | None
    text: str
    html_sanitized: str | None
    new_text: str
    quoted_text: str
    signature: str
    language: str
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    #: True when the mail had no usable Message-ID and ``message_id`` was derived from its bytes.
    message_id_generated: bool = False
    #: The mail this one forwards (inline or attached), as read: its subject and own words;
    #: "" when it forwards none, or only mail from its own recipients (our own mail).
    forwarded_text: str = ""
    #: A From display name not shown because it names another address (``from_name`` is then
    #: ""): the spam check still reads it, no page does.
    from_name_hidden: str = ""
    #: Text the HTML hides from its reader (not displayed, a 0-2 px or white font), one line
    #: per piece; it stays in ``text`` as read. The spam check reads it apart.
    hidden_text: str = ""

    def reading_text(self) -> str:
        """What routing, urgency and FAQ matching read (``forwards.reading_text``)."""
        return reading_text(self.new_text, self.text, self.forwarded_text)


#: Longer header values are parsed each time: they are rare and their parse trees are big.
#: A cached header costs about 15 KB (its parse tree and class), so the cache stays near 4 MB.
_MAX_CACHED_HEADER_CHARS = 300


@functools.lru_cache(maxsize=256)
def _default_header(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


class _CachingPolicy(EmailPolicy):
    """policy.default, except that a header value it has parsed before is not parsed again.

    The parser and the walk ask for a part's type, parameters, boundary and transfer encoding
    over ten times a message, and policy.default runs its header parser each time: that was
    most of parse_message's time. A parsed header depends only on its name and raw value and
    is immutable, so a cache shared by all messages returns exactly what policy.default would
    (and a value it cannot parse still raises every time, as before).

    Budget: the intake worker's target of 150 messages/s leaves parsing about 0.5 ms per
    message. Without this cache parse_message took 0.86 ms per message on
    ``bench/parse_bench.py``, with it 0.31 ms; the cache (256 headers, about 4 MB) is what
    keeps parsing inside that budget, so measure with the bench before changing it.
    """

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        # Only raw values from the parser are cached; header objects are returned as they are.
        if type(value) is str and len(value) <= _MAX_CACHED_HEADER_CHARS:
            return _default_header(name, value)
        if type(value) is str and len(value) <= _MAX_MIME_HEADER_CHARS:
            return _long_default_header(name, value)
        return policy.default.header_fetch_parse(name, value)


_CACHING_POLICY = _CachingPolicy()


#: How deep the parser builds the MIME tree: one level more than the walker reads, so the walk
#: still notes the cut. Deeper parts keep their headers and their lines as one text payload.
_MAX_PARSE_DEPTH = _MAX_MIME_DEPTH + 2


#: Content-Type and Content-Disposition values are read by the email package's header parser,
#: about 20 us a character and quadratic in the parameters: a 0.5 MB Content-Type of 50,000
#: parameters took 122 s to parse, 20,000 RFC 2231 pieces of a name 110 s, all before the parse
#: budget could quarantine the mail. A longer value keeps only the parameters the walk reads
#: (a 120-character Chinese file name percent-encoded fits).
_MAX_MIME_HEADER_CHARS = 1_500
#: Long (uncached) MIME headers a message may have at that length; later ones keep only what
#: the structure needs, in a value short enough for the cache (their files get plain names).
_MAX_LONG_MIME_HEADERS = 20
_MIME_PARAMETER_HEADERS = frozenset({"content-type", "content-disposition"})


@functools.lru_cache(maxsize=8)
def _long_default_header(name: str, value: str) -> Any:
    """One part's long MIME header, asked for some seven times in a row by parser and walk."""
    return policy.default.header_fetch_parse(name, value)


class _DepthLimitedParser(BytesFeedParser):
    """The email package's parser, building at most ``_MAX_PARSE_DEPTH`` levels of parts.

    The stdlib parser recurses once per nested multipart or message/* part (a generator per
    level, each line passing through all of them and tested against every open boundary): a
    1,000-level mail took 0.8 s and then raised RecursionError, so the ticket lost its subject
    and Message-ID. Below the limit a part is read as the parser reads a headers-only message:
    its headers, then everything up to its enclosing boundary as its payload.
    """

    def __init__(self, *, policy: policy.Policy) -> None:
        super().__init__(policy=policy)
        self._depth = 0
        self.cut = False
        self.long_mime_headers = 0
        self.shortened = 0

    def _parse_headers(self, lines: list[str]) -> None:
        """The part's headers, with MIME parameter headers bounded before anything reads them."""
        super()._parse_headers(lines)  # type: ignore[misc]
        headers = self._cur._headers  # type: ignore[attr-defined]
        for index, (name, value) in enumerate(headers):
            if not isinstance(value, str) or len(value) <= _MAX_CACHED_HEADER_CHARS:
                continue
            if name.strip().lower() not in _MIME_PARAMETER_HEADERS:
                continue
            self.long_mime_headers += 1
            names: tuple[str, ...] = STRUCTURE_PARAMETERS
            limit = _MAX_CACHED_HEADER_CHARS
            if self.long_mime_headers <= _MAX_LONG_MIME_HEADERS:
                names, limit = names + NAME_PARAMETERS, _MAX_MIME_HEADER_CHARS
            bounded = bounded_parameter_header(value, limit, names)
            if bounded != value:
                self.shortened += 1
                headers[index] = (name, bounded)

    def _parsegen(self) -> Iterator[object]:
        self._depth += 1
        deep = self._depth > _MAX_PARSE_DEPTH
        if deep:
            self.cut = True
            self._headersonly = True  # read by the innermost _parsegen only, right after headers
        try:
            yield from super()._parsegen()  # type: ignore[misc]
        finally:
            if deep:
                self._headersonly = False
            self._depth -= 1


#: Lines starting "--" (boundary lines) of a multipart message that the parser reads: the email
#: package builds a part per boundary (about 12 us each, before the walk reads any), so a
#: 25 MB mail of 12-byte parts took a minute. The walk reads MAX_MIME_PARTS of them anyway.
_MAX_BOUNDARY_LINES = 10 * MAX_MIME_PARTS
#: An address written in a display name: anything around an @ up to a space or a delimiter.
_ADDRESS_IN_NAME_RE = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


def _names_another_address(name: str, address: str) -> bool:
    """Whether a From display name holds an address other than the sender's own. Staff lists
    show the name alone: ``"service@example.com" <x@evil.example>`` read as our own service
    address (or a colleague's, or a look-alike with a Cyrillic а); the sender's own address as
    its name (``"li@example.net" <li@example.net>``) is harmless."""
    return any(
        found.strip(".").casefold() != address.casefold()
        for found in _ADDRESS_IN_NAME_RE.findall(name)
    )


_MULTIPART_RE = re.compile(rb"content-type:[ \t]*(?:\r?\n[ \t]+)?multipart/", re.IGNORECASE)


def _within_boundary_lines(raw: bytes) -> tuple[bytes, bool]:
    """``raw`` up to its ``_MAX_BOUNDARY_LINES``-th line starting "--" after the first, and
    whether it was cut; a message that is no multipart anywhere (a plain text of "-- " lines)
    is never cut. Linear: at most that many searches, each from where the last one stopped."""
    position = 0
    for _ in range(_MAX_BOUNDARY_LINES + 1):
        position = raw.find(b"\n--", position)
        if position < 0:
            return raw, False
        position += 1
    if _MULTIPART_RE.search(raw, 0, position) is None:
        return raw, False
    return raw[:position], True


def _parse_tree(raw: bytes, chosen: policy.Policy) -> tuple[Message, bool, int]:
    """The MIME tree, whether parts nested deeper than ``_MAX_PARSE_DEPTH`` were cut, and how
    many MIME parameter headers were shortened."""
    parser = _DepthLimitedParser(policy=chosen)
    parser.feed(raw)
    return parser.close(), parser.cut, parser.shortened


def _walk_with_fallback(raw: bytes, max_attachment_bytes: int) -> tuple[Message, _Walker]:
    """Walk with policy.default (cached); re-read with compat32 when its header parsing raises."""
    errors: list[str] = []
    raw, parts_cut = _within_boundary_lines(raw)
    # Defect texts name the policies by class, as they did before the cache: keep them stable.
    for name, chosen in (("EmailPolicy", _CACHING_POLICY), ("Compat32", policy.compat32)):
        try:
            msg, cut, shortened = _parse_tree(raw, chosen)
            walker = _Walker(max_attachment_bytes)
            if cut:
                walker.defect(f"MIME nesting deeper than {_MAX_PARSE_DEPTH} levels; read as text")
            if shortened:
                walker.defect(
                    f"{shortened} Content-Type or Content-Disposition header(s) too long;"
                    " only the parameters read were kept"
                )
            if parts_cut:
                walker.defect(f"more than {MAX_MIME_PARTS} MIME parts; the rest ignored")
            walker.segments = walker.walk(msg)
            for error in errors:
                walker.defect(error)
            return msg, walker
        except Exception as exc:  # any parser failure means: try the weaker policy
            logger.info("MIME parsing with %s failed: %r", name, exc)
            errors.append(f"MIME parsing with {name} failed ({exc!r:.120})")
    raise _Unparsable("; ".join(errors))


class _Unparsable(Exception):
    pass


def _escaped_pre(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<pre>{escaped}</pre>"


#: Tags read as HTML per message, all parts together: BeautifulSoup takes about 16 us a tag,
#: so 1 MB of ``<p>`` took 5 s and ten such parts a minute. A part that would pass the limit is
#: read as text with its tags removed (a defect says so); real mail, even a 1 MB newsletter,
#: has a few ten thousand.
_MAX_HTML_TAGS = 100_000


def _tags_removed(html: str) -> str:
    """Text of HTML without a parser (linear): tags removed, entities decoded."""
    text = htmllib.unescape(_CLOSED_TAG_RE.sub(" ", html[:_MAX_HTML_CHARS]))
    return _clean_string(text.replace("\r\n", "\n")).strip()


#: A plain alternative this short ("Please view this email in an HTML-capable client.") whose
#: words the HTML does not hold, beside an HTML version many times longer, is a newsletter
#: tool's stub, not the customer's words: staff, classifier and FAQ offers read the HTML.
_STUB_PLAIN_MAX_CHARS = 400
_STUB_LENGTH_FACTOR = 4
_SPACES_RE = re.compile(r"\s+")


def _plain_is_stub(plain: str, html_text: str) -> bool:
    """Whether ``plain`` stands in for ``html_text`` rather than being its plain version."""
    short = _SPACES_RE.sub(" ", plain).strip()
    if len(short) > _STUB_PLAIN_MAX_CHARS:
        return False
    full = _SPACES_RE.sub(" ", html_text).strip()
    if len(full) < _STUB_LENGTH_FACTOR * max(len(short), 50):
        return False
    return short not in full


def _body_from_segments(segments: list[_Segment], walker: _Walker) -> tuple[str, str | None, str]:
    """Plain text of all body parts, one sanitized HTML view when any part was HTML, and the
    text the HTML parts hide."""
    plain_parts: list[str] = []
    html_parts: list[str] = []
    hidden_parts: list[str] = []
    has_html = any(segment.html for segment in segments)
    tags_left = _MAX_HTML_TAGS
    for segment in segments:
        if segment.html:
            tags = segment.html.count("<", 0, _MAX_HTML_CHARS)
            tags_left -= tags
            if tags_left < 0:
                walker.defect(f"HTML with over {_MAX_HTML_TAGS} tags a message read as text")
                plain = segment.plain if (segment.plain or "").strip() else None
                segment = _Segment(plain=plain or _tags_removed(segment.html))
                tags_left += tags
        reading = _read_html(segment.html) if segment.html else None
        if reading is not None and reading.truncated:
            walker.defect(f"HTML part longer than {_MAX_HTML_CHARS} characters was cut")
        if reading is not None and reading.rewritten:
            walker.defect("HTML with many unclosed tags or comments; sanitized before reading")
        if reading is not None and reading.hidden:
            hidden_parts.append(reading.hidden)
        if segment.plain is not None and segment.plain.strip():
            if reading is not None and _plain_is_stub(segment.plain, reading.text):
                walker.defect("plain-text version only a stub of the HTML; read the HTML")
                plain_parts.append(reading.text)
            else:
                plain_parts.append(segment.plain.strip("\n"))
        elif reading is not None:
            plain_parts.append(reading.text)
        if not has_html:
            continue
        if reading is not None and reading.depth > _MAX_HTML_DEPTH:
            walker.defect(f"HTML nested deeper than {_MAX_HTML_DEPTH} levels; shown as text")
            html_parts.append(_escaped_pre(reading.text))
        elif segment.html:
            html_parts.append(sanitize_html(segment.html[:_MAX_HTML_CHARS]))
        elif segment.plain:
            html_parts.append(_escaped_pre(segment.plain))
    text = "\n\n".join(part for part in plain_parts if part.strip())
    return text, ("\n".join(html_parts) if html_parts else None), "\n".join(hidden_parts)


def _generated_message_id(raw: bytes) -> str:
    return f"generated.{hashlib.sha256(raw).hexdigest()[:40]}@{GENERATED_ID_DOMAIN}"


def parse_message(
    raw: bytes,
    *,
    max_attachment_bytes: int = 10 * 1024 * 1024,
    own_addresses: Collection[str] = (),
) -> ParsedMail:
    """Parse one message; never raises, whatever the bytes are. ``own_addresses``: the
    addresses we send from (support.desk.outbox.own_addresses); a forwarded mail from
    one of them is our own mail sent back, not read as the sender's words."""
    own = frozenset(address.strip().lower() for address in own_addresses)
    try:
        return _parse(raw, max_attachment_bytes, own=own)
    except Exception as exc:  # last line of defence: show the bytes as text
        logger.exception("mail parsing failed; keeping the raw text")
        return _fallback(raw, f"parser failed ({exc!r:.200}); showing the raw message")


def _headers_only(
    raw: bytes, reason: str, max_attachment_bytes: int
) -> tuple[Message, _Walker] | None:
    """When the MIME tree cannot be read: the headers (subject, Message-ID, sender are what
    threading and staff need most) and the body as text, or None when even that fails."""
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        payload = msg.get_payload()
        body = _as_raw_bytes(payload) if isinstance(payload, str) else b""
    except Exception:
        logger.info("reading only the headers failed too", exc_info=True)
        return None
    walker = _Walker(max_attachment_bytes)
    walker.defect(f"{reason}; headers kept, body shown as raw text")
    text, _note = decode_bytes(body)
    walker.segments = [_Segment(plain=_clean_string(text.replace("\r\n", "\n")))]
    return msg, walker


def _fallback(raw: bytes, reason: str) -> ParsedMail:
    text, _note = decode_bytes(raw or b"")
    text = _clean_string(text.replace("\r\n", "\n")).strip() or NO_TEXT_MARKER
    return ParsedMail(
        message_id=_generated_message_id(raw or b""),
        in_reply_to=None,
        references=[],
        subject="",
        from_address="",
        from_name="",
        reply_to=None,
        to=[],
        cc=[],
        date=None,
        headers={},
        date_offset_minutes=None,
        text=text,
        html_sanitized=None,
        new_text=text,
        quoted_text="",
        signature="",
        language=detect_language(text),
        defects=[reason],
        message_id_generated=True,
    )


def _parse(
    raw: bytes, max_attachment_bytes: int, depth: int = 0, *, own: frozenset[str] = frozenset()
) -> ParsedMail:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raw = str(raw).encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    leading = len(raw) - len(raw.lstrip(b"\r\n"))
    body_raw = raw[leading:]
    try:
        msg, walker = _walk_with_fallback(body_raw, max_attachment_bytes)
    except _Unparsable as exc:
        rescued = _headers_only(body_raw, str(exc), max_attachment_bytes)
        if rescued is None:
            return _fallback(raw, str(exc))
        msg, walker = rescued
    if leading:
        walker.defect("blank lines before the headers removed")

    headers = _Headers(msg)
    hint = walker.first_charset

    given_id = normalise_message_id(headers.first("message-id"))
    generated = given_id is None
    if given_id is None:
        walker.defect("no usable Message-ID; generated one from the message bytes")
    message_id = given_id if given_id is not None else _generated_message_id(raw)
    in_reply_to = _first_message_id(headers.first("in-reply-to"))
    references = _distinct_message_ids(" ".join(headers.all("references")))
    if len(references) > MAX_MESSAGE_IDS:
        walker.defect(
            f"References names {len(references)} Message-IDs; only the last {MAX_MESSAGE_IDS} kept"
        )
        references = references[-MAX_MESSAGE_IDS:]

    subject = _one_line(decode_header_text(headers.first("subject"), hint))
    senders = _parse_addresses(headers.all("from"), hint) or _parse_addresses(
        headers.all("sender"), hint
    )
    from_name, from_address = senders[0] if senders else ("", "")
    from_name_hidden = ""
    if _names_another_address(from_name, from_address):
        walker.defect("From display name names another address; not shown")
        from_name_hidden, from_name = from_name, ""
    if not senders and headers.all("from"):
        walker.defect("From header has no readable address")
        # "MAILER-DAEMON <>" still tells staff (and automatic-mail rules) who sent it.
        raw_from = _unfold(headers.first("from") or "")
        from_name = _one_line(decode_header_text(raw_from.split("<", 1)[0], hint)).strip("\"' ")
    reply_to_pairs = _parse_addresses(headers.all("reply-to"), hint)
    reply_to = reply_to_pairs[0][1] if reply_to_pairs else None
    to = _unique(address for _name, address in _parse_addresses(headers.all("to"), hint))
    cc = _unique(address for _name, address in _parse_addresses(headers.all("cc"), hint))
    date, date_defect = _parse_date(headers.first("date"))
    if date_defect:
        walker.defect(date_defect)

    kept_headers = {}
    for name in KEPT_HEADERS:
        value = headers.first(name)
        if value is not None:
            kept_headers[name] = _one_line(decode_header_text(value, hint))

    text, html_sanitized, hidden_text = _body_from_segments(walker.segments, walker)
    if not text.strip() and walker.report_texts:
        text = "\n\n".join(report.strip() for report in walker.report_texts if report.strip())
    text = text.strip("\n") or NO_TEXT_MARKER
    split = split_mail_text(text, sender_address=from_address)
    new_text, quoted_text, signature = split.new_text, split.quoted_text, split.signature
    if _adds_nothing(split, subject, in_reply_to, references, bool(walker.attachments)):
        new_text = NO_TEXT_MARKER
    # Only history on top (a separator, header block or attribution) can be a forwarded mail,
    # or a '>' quote that opens with a forward's start (Apple Mail's HTML blockquote).
    inline = (
        read_inline_forward(text, subject, depth=depth)
        if split.history_on_top or split.quoted_text.strip()
        else None
    )
    forwarded = inline or _attached_forward(walker, max_attachment_bytes, depth, own)
    ours = forwarded is not None and forwarded.from_address in own
    if forwarded is not None and split.nothing_new and (forwarded.text or ours):
        new_text = NO_TEXT_MARKER  # a bare forward: the forwarded mail is all it says
    if ours:
        forwarded = None  # our own mail sent back to us: not the customer's words
    forwarded_text = forwarded.as_text() if forwarded is not None else ""
    # A bare forward is in the language of the mail it forwards.
    said = f"{subject}\n{forwarded_text if new_text == NO_TEXT_MARKER else new_text}"
    if not said.strip() and text != NO_TEXT_MARKER:
        said = text  # only quoted history: ours, in the language we wrote to them in
    said = without_picture_placeholders(said)  # "[image: IMG_2034.JPG]" is no English
    # No words at all (a photo with neither subject nor text) tell no language: "", and the
    # customer's earlier language or the desk's default answers them (the intake's ticket).
    # Pinyin is Chinese written without a Chinese keyboard: its writer reads Chinese
    # (support.core.text.written_in_pinyin; the auto-reply's language, mailrouter.outbound).
    language = ("zh" if written_in_pinyin(said) else detect_language(said)) if said.strip() else ""

    return ParsedMail(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        reply_to=reply_to,
        to=to,
        cc=cc,
        date=date,
        headers=kept_headers,
        date_offset_minutes=sender_utc_offset(headers.first("date")),
        text=text,
        html_sanitized=html_sanitized,
        new_text=new_text,
        quoted_text=quoted_text,
        signature=signature,
        language=language,
        attachments=walker.attachments,
        defects=walker.all_defects()[:_MAX_DEFECTS],
        message_id_generated=generated,
        forwarded_text=forwarded_text,
        from_name_hidden=from_name_hidden,
        hidden_text=hidden_text,
    )


#: Bytes of a message/rfc822 attachment read as a forwarded mail (its text comes first).
_MAX_ATTACHED_FORWARD_BYTES = 1_000_000


def _attached_forward(
    walker: _Walker, max_attachment_bytes: int, depth: int, own: frozenset[str]
) -> Forwarded | None:
    """The first mail attached as message/rfc822 ("forward as attachment"), as read; not in a
    delivery or feedback report, whose attached mail is the one that bounced."""
    if depth + 1 >= MAX_FORWARD_DEPTH or walker.report_texts:
        return None
    for attachment in walker.attachments:
        if attachment.content_type != "message/rfc822" or attachment.data is None:
            continue
        try:
            inner = _parse(
                attachment.data[:_MAX_ATTACHED_FORWARD_BYTES],
                max_attachment_bytes,
                depth + 1,
                own=own,
            )
        except Exception:  # an unreadable attachment is only not read
            logger.info("attached mail could not be read", exc_info=True)
            return None
        words = inner.reading_text().strip()
        return Forwarded(
            subject=inner.subject,
            from_address=inner.from_address.lower(),
            text="" if words == NO_TEXT_MARKER else words,
        )
    return None


def _unique(addresses: Any) -> list[str]:
    """Each address once, in order (a dict: a list search was quadratic on 20k addresses)."""
    return list(dict.fromkeys(addresses))
