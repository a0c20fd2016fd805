"""The header block of raw mail, read with hard bounds: spam filters' verdicts and the
receiving MTA's Authentication-Results are read from here, before and apart from parsing.

Every input is hostile: at most ``MAX_HEADER_BYTES`` of the message are looked at, at most
``MAX_HEADERS`` headers are kept, and each value is cut to ``MAX_VALUE_CHARS``.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 300
MAX_VALUE_CHARS = 4000


@dataclass(frozen=True)
class Header:
    """One header as written: lower-cased name, unfolded value (ASCII, undecodable replaced)."""

    name: str
    value: str


def read_header_block(raw: bytes) -> list[Header]:
    """The message's headers from the top down (as prepended by each hop), bounded."""
    head = raw[:MAX_HEADER_BYTES]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    if ends:
        head = head[: min(ends)]
    if head.startswith(b"From "):  # an mbox separator line, not a header
        head = head.partition(b"\n")[2]
    headers: list[Header] = []
    name: str | None = None
    parts: list[str] = []
    for line in head.decode("ascii", "replace").splitlines():
        if line[:1] in (" ", "\t"):
            if name is not None and sum(map(len, parts)) < MAX_VALUE_CHARS:
                parts.append(line.strip())
            continue
        if name is not None:
            headers.append(Header(name, " ".join(parts)[:MAX_VALUE_CHARS]))
            if len(headers) >= MAX_HEADERS:
                return headers
        field, colon, value = line.partition(":")
        if not colon or not field.strip() or " " in field.strip():
            name = None
            continue
        name = field.strip().lower()
        parts = [value.strip()]
    if name is not None and len(headers) < MAX_HEADERS:
        headers.append(Header(name, " ".join(parts)[:MAX_VALUE_CHARS]))
    return headers
