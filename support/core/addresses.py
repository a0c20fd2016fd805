"""Mail addresses people type, in every script: the one reading of what mail can deliver to.

A customer may own ``user@bücher.de`` or ``用户@例子.公司``. The domain of such an address is
sent as IDNA (``xn--bcher-kva.de``), which every mail system takes; a non-ASCII local part
needs SMTPUTF8 (RFC 6531), which our sending path uses when the relay offers it and otherwise
fails the mail with a reason staff can read (``mailrouter.outbound.relay``). So both are
accepted, and the address is kept with its domain in the ASCII form (the form Chromium sends
and our composed mail's headers carry), so one customer is one address; people are shown the
domain as they wrote it (`readable_address`).

- `deliverable_address`: the typed address in that stored form, or None when no mail system
  could deliver to it;
- `ascii_domain`: an address with its domain as IDNA (ValueError when it has none);
- `comparable_address`: the form addresses are stored and compared in (lower-cased, the
  domain in IDNA), so user@Bücher.de and user@xn--bcher-kva.de are one customer;
- `readable_address`: an address with an IDNA domain shown in its own script.
"""

from __future__ import annotations

import unicodedata

#: RFC 5321's limits: 64 octets of local part, 255 of domain, 254 of a whole path's address.
MAX_LOCAL_OCTETS = 64
MAX_DOMAIN_CHARS = 253
MAX_LABEL_CHARS = 63

#: Characters a local part may hold only quoted; a typed address never needs quoting.
_LOCAL_SPECIALS = frozenset('<>()[]\\,;:@"')
#: Full-width forms a Chinese input method types for the address's punctuation, and in its
#: full-width mode for every letter and digit (ｃｈｅｎ＠ｅｘａｍｐｌｅ．ｃｏｍ): U+FF01-U+FF5E
#: are ASCII's ! to ~, which nobody means as another mailbox.
_WIDE_PUNCTUATION = str.maketrans(
    {"。": ".", "｡": ".", **{chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}}
)
_LDH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def ascii_domain(address: str) -> str:
    """``address`` with its domain as IDNA; ValueError when the domain cannot be one."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"not an address: {address!r}")
    if domain.isascii():
        return address
    try:
        encoded = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"domain cannot be written in IDNA: {address!r}") from exc
    return f"{local}@{encoded}"


def comparable_address(address: str) -> str:
    """``address`` lower-cased with an international domain in IDNA; only lower-cased when it
    has no domain IDNA can write (the caller's checks refuse it or not, as before)."""
    try:
        return ascii_domain(address).lower()
    except ValueError:
        return address.lower()


def _valid_local(local: str) -> bool:
    return (
        0 < len(local.encode("utf-8")) <= MAX_LOCAL_OCTETS
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and not any(char in _LOCAL_SPECIALS for char in local)
        and not any(char.isspace() or unicodedata.category(char)[0] == "C" for char in local)
    )


def _valid_ascii_domain(domain: str) -> bool:
    labels = domain.lower().split(".")
    return (
        len(domain) <= MAX_DOMAIN_CHARS
        and len(labels) >= 2
        and all(
            0 < len(label) <= MAX_LABEL_CHARS
            and set(label) <= _LDH
            and not label.startswith("-")
            and not label.endswith("-")
            for label in labels
        )
        and not labels[-1].isdigit()
    )


def deliverable_address(typed: str) -> str | None:
    """The address as we keep it (domain in IDNA, ASCII letters' case as typed), or None.

    Accepts what a mail system can deliver to: a dot-atom local part in any script (quoted
    local parts are legal but nobody types one) and a domain of two or more labels that IDNA
    can write. A Chinese input method's full-width ＠, 。 and letters are read as ASCII.
    """
    text = (typed or "").strip().translate(_WIDE_PUNCTUATION)
    local, at, domain = text.rpartition("@")
    if not at or not _valid_local(local) or not domain:
        return None
    try:
        address = ascii_domain(f"{local}@{domain}")
    except ValueError:
        return None
    if not _valid_ascii_domain(address.rpartition("@")[2]):
        return None
    return address


def readable_address(address: str) -> str:
    """``address`` with an IDNA domain (``xn--bcher-kva.de``) in its own script, for people;
    any other address as it is."""
    local, at, domain = (address or "").rpartition("@")
    if not at or "xn--" not in domain.lower():
        return address
    try:
        return f"{local}@{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address
