"""Traits of how a mail was written, read from its raw bytes: what mail programs never do and
bulk-mail software often did, whatever the language.

Parsing hides them (a Date without a time zone is read as UTC, quoted-printable is decoded),
so they are read here, from at most ``MAX_RAW_BYTES`` of the message:

- ``h:date-no-zone``: a Date header without a time zone ("Sat, 7 Sep 2002 17:58:28"): every
  mail client and library writes one (RFC 5322 requires it); in the SpamAssassin corpus only
  spam lacks it (4 % of the spam, none of the 2,000 ham);
- ``h:qp-needless``: quoted-printable that encodes plain letters, digits or HTML brackets
  ("=3Chtml=3E", "V=49AGRA"), which hides words from filters; an encoder escapes only "=",
  spaces at a line's end, characters outside ASCII, and at most a leading "." or "F" or "-"
  (2 % of the corpus spam, no ham).

Checked and left out, because legitimate mail does it too: base64 text parts that are plain
ASCII (Outlook for phones, Python's and PHP's mailers write them), Received chains with
unknown or "may be forged" hosts and HELO names without a dot (as common in the corpus's ham
as in its spam), Message-IDs without a dot or with an IP, X-Priority 1 (customers mark mail
urgent), From equal to To.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailrouter.spam.header_block import Header, read_header_block

#: How much of the message the raw traits read.
MAX_RAW_BYTES = 32 * 1024
#: A time zone as RFC 5322 writes it (+0800) or as older mail did (GMT, EST, UT, Z).
_ZONE_RE = re.compile(r"[+-]\d{4}\b|\b(?:ut|utc|gmt|[ecmp][sd]t|z)\b", re.I)
_QP_RE = re.compile(rb"content-transfer-encoding:[ \t]*quoted-printable", re.I)
#: Letters (but F), digits and < > / : ; ( ) , escaped: no encoder needs to.
_QP_NEEDLESS_RE = re.compile(rb"=(?:2[89C]|2F|3[0-9ABCE]|4[1-57-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A])")
#: So many needless escapes make the trait (one or two can be an encoder's quirk).
QP_NEEDLESS_MIN = 10


def raw_traits(raw: bytes, headers: Sequence[Header] | None = None) -> list[str]:
    """The raw message's traits, as pseudo-words ("h:..."); none for empty ``raw``.
    ``headers``: ``read_header_block(raw)`` when the caller has it; used only for a message
    within MAX_RAW_BYTES, where reading it again would give the same list."""
    if not raw:
        return []
    head = raw[:MAX_RAW_BYTES]
    traits = []
    if headers is None or len(raw) > MAX_RAW_BYTES:
        headers = read_header_block(head)
    dates = [header.value for header in headers if header.name == "date"]
    if dates and dates[0].strip() and not _ZONE_RE.search(dates[0]):
        traits.append("h:date-no-zone")
    # The body only: a header's encoded-words (=?utf-8?Q?...?=) escape what they like.
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    body = head[min(ends, default=0) :]
    if _QP_RE.search(head) and len(_QP_NEEDLESS_RE.findall(body)) >= QP_NEEDLESS_MIN:
        traits.append("h:qp-needless")
    return traits
