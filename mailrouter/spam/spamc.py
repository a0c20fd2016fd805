"""A client for a running ``spamd`` (SpamAssassin), speaking SPAMC/1.5 over TCP.

The protocol (spamassassin's ``spamd/PROTOCOL``): one request per connection,
``SYMBOLS SPAMC/1.5``, a ``Content-length`` header, a blank line and the message; the answer
is ``SPAMD/1.x 0 EX_OK``, a ``Spam: True|False ; score / threshold`` header, a blank line and
the comma-separated names of the rules that fired. About forty lines, so no library: the
maintained Python clients wrap the same exchange and would be one more dependency.
Any failure raises ``SpamdError``; the caller falls back to the built-in filter.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

#: spamd refuses larger messages by default too (spamc -s); only the start is checked.
MAX_CHECK_BYTES = 512 * 1024
MAX_ANSWER_BYTES = 64 * 1024
_SPAM_HEADER_RE = re.compile(
    r"^Spam:\s*(True|False|Yes|No)\s*;\s*(-?\d+(?:\.\d+)?)\s*/\s*(-?\d+(?:\.\d+)?)",
    re.IGNORECASE | re.MULTILINE,
)


class SpamdError(Exception):
    """spamd could not be asked, or answered something we cannot read."""


@dataclass(frozen=True)
class SpamdAnswer:
    is_spam: bool
    score: float
    threshold: float
    rules: tuple[str, ...]


def parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    if not host or not port.isdigit():
        raise SpamdError(f"SPAMD_ADDRESS must be host:port, not {address!r}")
    return host.strip("[]"), int(port)


def check(raw: bytes, address: str, *, timeout: float) -> SpamdAnswer:
    """Ask spamd at ``host:port`` for its verdict and the rules that fired."""
    host, port = parse_address(address)
    body = raw[:MAX_CHECK_BYTES]
    request = b"SYMBOLS SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(body) + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            chunks: list[bytes] = []
            size = 0
            while size < MAX_ANSWER_BYTES:
                chunk = sock.recv(8192)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except OSError as exc:
        raise SpamdError(f"spamd at {address}: {exc}") from exc
    answer = b"".join(chunks).decode("utf-8", "replace")
    head, _, rules = answer.replace("\r\n", "\n").partition("\n\n")
    status = head.split("\n", 1)[0].split()
    if len(status) < 2 or not status[0].startswith("SPAMD/") or status[1] != "0":
        raise SpamdError(f"spamd at {address} answered {head[:200]!r}")
    match = _SPAM_HEADER_RE.search(head)
    if not match:
        raise SpamdError(f"spamd at {address} sent no Spam header: {head[:200]!r}")
    names = tuple(r.strip() for r in rules.split(",") if r.strip())[:50]
    return SpamdAnswer(
        is_spam=match.group(1).lower() in ("true", "yes"),
        score=float(match.group(2)),
        threshold=float(match.group(3)),
        rules=names,
    )
