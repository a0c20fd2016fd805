"""Turn the raw bytes of an inbound mail into a ParsedMail that staff can always read.

Real mailboxes receive spam with broken headers, mis-declared charsets, truncated MIME and
hostile HTML, and the intake must never stop on one of them: every step here falls back to a
weaker reading and records what it repaired in ``ParsedMail.defects`` instead of raising.
``parse_message`` is the only entry point the router needs; the helpers it is built from
(``decode_bytes``, ``decode_header_text``, ``html_to_text``, ``clean_filename``,
``sniff_content_type``, ``types_agree``, ``split_quote``, ``reading_text``) are public because
the outbound side and the staff view need the same rules (``is_contact_card``: the spam
features tell a typed contact card from other signatures; ``FORWARD_INTRO_NAMES`` and the
separator names: where a forwarded or quoted mail starts, for them too).

The parts, each importing only those before it: ``charsets``, ``headers``, ``html``,
``attachments``, ``mime`` (the MIME walk), ``quotes`` (quoted history and signatures),
``forwards`` (the mail a forward sends) and ``message`` (ParsedMail, parse_message and its
header cache). This package re-exports the names the rest of the code imports.
"""

from mailrouter.parsing.attachments import clean_filename, sniff_content_type, types_agree
from mailrouter.parsing.charsets import decode_bytes
from mailrouter.parsing.forwards import reading_text
from mailrouter.parsing.headers import (
    MAX_MESSAGE_IDS,
    OTHER_LIST_HEADERS,
    decode_header_text,
    is_readable_address,
    listed_headers,
    normalise_message_id,
)
from mailrouter.parsing.message import (
    GENERATED_ID_DOMAIN,
    NO_TEXT_MARKER,
    ParsedMail,
    is_generated_message_id,
    parse_message,
)
from mailrouter.parsing.quotes import (
    FORWARD_INTRO_NAMES,
    FORWARD_SEPARATOR_NAMES,
    REPLY_SEPARATOR_NAMES,
    is_contact_card,
    is_sent_from_line,
    split_quote,
)

__all__ = [
    "FORWARD_INTRO_NAMES",
    "FORWARD_SEPARATOR_NAMES",
    "GENERATED_ID_DOMAIN",
    "MAX_MESSAGE_IDS",
    "NO_TEXT_MARKER",
    "OTHER_LIST_HEADERS",
    "REPLY_SEPARATOR_NAMES",
    "ParsedMail",
    "clean_filename",
    "decode_bytes",
    "decode_header_text",
    "is_contact_card",
    "is_generated_message_id",
    "is_readable_address",
    "is_sent_from_line",
    "listed_headers",
    "normalise_message_id",
    "parse_message",
    "reading_text",
    "sniff_content_type",
    "split_quote",
    "types_agree",
]
