"""Tokens that let replies and one-click links find their ticket without trusting the sender.

A customer's reply can be matched to its ticket three ways, strongest first:

* the ``In-Reply-To``/``References`` header names one of our Message-IDs, which carry an HMAC
  signature, so a forged or guessed ID is ignored;
* the subject still holds the ``[#SUP-000123]`` token (weaker: anyone can type it, so the router
  should also check the sender);
* a signed, timed link in the mail (``sign_action``) for actions that need no login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

logger = logging.getLogger(__name__)

#: A ticket reference as it may appear inside a Message-ID and a subject token.
REFERENCE_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})"
_REFERENCE_RE = re.compile(rf"^{REFERENCE_PATTERN}$")
_NONCE_BYTES = 5  # 40 bits, 8 base32 characters: unique per mail, not a secret
_SIGNATURE_CHARS = 16  # 80 bits of HMAC-SHA256: forging one needs ~2**80 tries
_LOCAL_PART_RE = re.compile(
    rf"^(?P<reference>{REFERENCE_PATTERN})\.(?P<nonce>[a-z2-7]{{8}})\."
    rf"(?P<signature>[a-z2-7]{{{_SIGNATURE_CHARS}}})$"
)
_SUBJECT_TOKEN_RE = re.compile(rf"\[#\s*({REFERENCE_PATTERN})\s*\]")
# "Re:", "RE :", "Fwd:", "AW:", "回复：", "答复:", "转发：" as mail clients prepend them.
_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:re|fw|fwd|aw|wg|sv|回复|回覆|答复|答覆|转发|轉寄|转寄)\s*[:：]\s*",
    re.IGNORECASE,
)
_ACTION_SALT_PREFIX = "mailrouter.action."


def _as_bytes(key: bytes | str) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def _check_reference(reference: str) -> None:
    if not _REFERENCE_RE.match(reference):
        raise ValueError(f"ticket reference {reference!r} cannot be used in a Message-ID")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _signature(key: bytes | str, reference: str, nonce: str) -> str:
    digest = hmac.new(
        _as_bytes(key), f"{reference}.{nonce}".encode("ascii"), hashlib.sha256
    ).digest()
    return _b32(digest)[:_SIGNATURE_CHARS]


def make_message_id(ticket_reference: str, *, domain: str, key: bytes) -> str:
    """Return a fresh ``<REF.nonce.signature@domain>`` Message-ID for a mail about the ticket.

    Lower-case base32 keeps the ID valid as an RFC 5322 dot-atom and survives systems that
    change letter case; the nonce makes every mail's ID unique.
    """
    _check_reference(ticket_reference)
    domain = domain.strip().strip(".")
    if not domain or any(c.isspace() or c in "<>@" for c in domain):
        raise ValueError(f"invalid Message-ID domain {domain!r}")
    nonce = _b32(secrets.token_bytes(_NONCE_BYTES))
    signature = _signature(key, ticket_reference, nonce)
    return f"<{ticket_reference}.{nonce}.{signature}@{domain.lower()}>"


def verify_message_id(mid: str, key: bytes) -> str | None:
    """Return the ticket reference of one of our Message-IDs, or None if it is not ours.

    Any domain is accepted: the signature, not the domain, proves the ID came from us, and
    the domain may have been renamed since.
    """
    if not mid:
        return None
    cleaned = mid.strip().strip("<>").strip()
    local, at, domain = cleaned.rpartition("@")
    if not at or not domain:
        return None
    match = _LOCAL_PART_RE.match(local)
    if match is None:
        match = _LOCAL_PART_RE.match(_case_restored(local))
        if match is None:
            return None
    reference = match["reference"]
    for candidate in dict.fromkeys((reference, reference.upper())):
        expected = _signature(key, candidate, match["nonce"])
        if hmac.compare_digest(expected, match["signature"]):
            return candidate
    logger.info("Message-ID %r has a ticket shape but a wrong signature", mid)
    return None


def _case_restored(local: str) -> str:
    """A local part whose letter case a mail system changed, as we wrote it: the nonce and
    signature are lower-case base32 (the reference's case is tried both ways by the caller).
    Some gateways and clients upper- or lower-case the Message-IDs they quote."""
    before_signature, _, signature = local.rpartition(".")
    reference, _, nonce = before_signature.rpartition(".")
    return f"{reference}.{nonce.lower()}.{signature.lower()}" if reference else local


def subject_token(reference: str) -> str:
    """Return the token put in subjects so plain replies thread, e.g. ``[#SUP-000123]``."""
    _check_reference(reference)
    return f"[#{reference}]"


def find_subject_token(subject: str | None) -> str | None:
    """Return the ticket reference named by the first ``[#...]`` token in a subject."""
    if not subject:
        return None
    match = _SUBJECT_TOKEN_RE.search(subject)
    return match.group(1) if match else None


def _split_subject(subject: str | None) -> tuple[str, str]:
    """Return (first reply/forward prefix, topic without prefixes or ticket tokens)."""
    text = " ".join((subject or "").split())  # also removes CR/LF that would break the header
    text = " ".join(_SUBJECT_TOKEN_RE.sub("", text).split())
    first_prefix = ""
    while match := _SUBJECT_PREFIX_RE.match(text):
        first_prefix = first_prefix or match.group(0).strip()
        text = text[match.end() :]
    return first_prefix, text


def strip_subject_prefixes(subject: str | None) -> str:
    """Return the topic of a subject: no ``Re:``/``Fwd:``/``回复：`` prefixes, no ticket tokens."""
    return _split_subject(subject)[1]


def add_subject_token(subject: str | None, reference: str) -> str:
    """Put the ticket's token into a subject exactly once.

    The token goes after a single reply/forward prefix (``Re: [#SUP-1] Printer``) so clients
    still group the thread by subject; piled-up prefixes (``Re: RE: 回复：``) collapse to the
    first one, and a token for another ticket is replaced, because two tokens would make
    threading ambiguous.
    """
    token = subject_token(reference)
    prefix, topic = _split_subject(subject)
    if prefix and not prefix.endswith("："):
        prefix += " "
    return f"{prefix}{token} {topic}".strip()


def _serializer(key: bytes | str, action: str) -> URLSafeTimedSerializer:
    # One salt per action: a "solved" link can never be replayed as, say, a "close" link.
    return URLSafeTimedSerializer(_as_bytes(key), salt=_ACTION_SALT_PREFIX + action)


def sign_action(key: bytes | str, action: str, ticket_reference: str, **extra: Any) -> str:
    """Return a URL-safe token that authorises one action on one ticket without a login.

    ``extra`` values (e.g. ``faq_id=12``) must be JSON-serialisable; they come back from
    ``verify_action`` unchanged.
    """
    if not action:
        raise ValueError("action must not be empty")
    payload = {"action": action, "ticket_reference": ticket_reference, **extra}
    return _serializer(key, action).dumps(payload)


def verify_action(
    key: bytes | str, token: str, action: str, max_age_seconds: int
) -> dict[str, Any] | None:
    """Return the signed payload (``ticket_reference`` plus the extras) or None.

    None covers every failure (tampered, expired, other action, garbage): a one-click page
    should answer all of them with the same "this link is no longer valid" message.
    """
    try:
        payload = _serializer(key, action).loads(token, max_age=max_age_seconds)
    except BadSignature:  # includes SignatureExpired and BadPayload
        return None
    if not isinstance(payload, dict) or payload.get("action") != action:
        return None
    if not isinstance(payload.get("ticket_reference"), str):
        return None
    payload.pop("action")
    return payload
