"""What a filter in front of us said, read only from headers our own hosts wrote.

A sender can write ``X-Spam-Flag: NO`` or a passing ``Authentication-Results`` into his own
mail, so these headers mean something only where a host we trust put them:

* ``SPAM_TRUSTED_RELAYS``: host names of our MTAs (the ``by`` of their Received headers).
  Mail hops prepend their headers, so reading from the top down, the headers above the first
  Received header and between Received headers written by trusted relays were written by our
  hosts; from the first Received header that is not ours (or, when the chain of ours ends,
  from the header after its last Received) on, anything may be the sender's. The topmost
  Received header must be a trusted relay's, or nothing is trusted.
* ``SPAM_TRUSTED_AUTHSERV_IDS``: the authserv-id our MTA writes into Authentication-Results
  (RFC 8601; the MTA must remove incoming ones with its own id, as OpenDMARC, OpenDKIM and
  rspamd do). Only those are read, and with relays configured only inside the trusted part.

With neither configured, nothing here is believed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mailrouter.spam.features import SECOND_LEVELS
from mailrouter.spam.header_block import Header

_BY_RE = re.compile(r"\bby\s+\[?([A-Za-z0-9.\-:_]+)", re.IGNORECASE)
_SA_SCORE_RE = re.compile(r"\b(?:score|hits)=(-?\d{1,4}(?:\.\d{1,3})?)", re.IGNORECASE)
_SA_TESTS_RE = re.compile(r"\btests=([A-Za-z0-9_,\s]{0,2000})", re.IGNORECASE)
_FLOAT_RE = re.compile(r"-?\d{1,4}(?:\.\d{1,3})?")
_METHOD_RE = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_POLICY_RE = re.compile(r"\b(?:p|policy)\s*=\s*(reject|quarantine|none)\b", re.IGNORECASE)
_HEADER_FROM_RE = re.compile(r"\bheader\.from\s*=\s*([A-Za-z0-9.\-]{1,253})", re.IGNORECASE)
#: The signing domain of a DKIM result (``header.d=``, or the domain of ``header.i=@...``).
_HEADER_D_RE = re.compile(
    r"\bheader\.(?:d\s*=\s*|i\s*=\s*[^@\s;]{0,64}@)([A-Za-z0-9.\-]{1,253})", re.IGNORECASE
)
#: rspamd's actions, from harmless to worst.
RSPAMD_SUSPECTED_ACTIONS = ("add header", "rewrite subject", "soft reject")
RSPAMD_CERTAIN_ACTIONS = ("reject",)


@dataclass(frozen=True)
class Trust:
    relays: frozenset[str] = frozenset()
    authserv_ids: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, relays: Iterable[str], authserv_ids: Iterable[str]) -> Trust:
        return cls(
            relays=frozenset(r.strip().lower().rstrip(".") for r in relays if r.strip()),
            authserv_ids=frozenset(a.strip().lower() for a in authserv_ids if a.strip()),
        )

    @property
    def configured(self) -> bool:
        return bool(self.relays or self.authserv_ids)


@dataclass(frozen=True)
class FilterReport:
    """A trusted filter's verdict: ``level`` is "ham", "suspected" or "certain"."""

    source: str
    level: str
    score: float | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class SenderCheck:
    """What a trusted Authentication-Results says of the sender's address."""

    forged: bool = False
    results: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    #: The From address's domain when a trusted result ties the mail to it (DMARC pass for
    #: it, or a DKIM signature of the same registered domain that verified), else "".
    authenticated: str = ""


def _received_by(value: str) -> str:
    match = _BY_RE.search(value)
    return match.group(1).lower().rstrip(".") if match else ""


def trusted_headers(headers: Sequence[Header], trust: Trust) -> list[Header]:
    """The headers our own hosts wrote (see the module's docstring); [] without relays."""
    if not trust.relays:
        return []
    received = [i for i, h in enumerate(headers) if h.name == "received"]
    if not received or _received_by(headers[received[0]].value) not in trust.relays:
        return []
    last_ours = received[0]
    for index in received[1:]:
        if _received_by(headers[index].value) not in trust.relays:
            break
        last_ours = index
    return list(headers[:last_ours])


def _authentication_headers(headers: Sequence[Header], trust: Trust) -> list[Header]:
    if not trust.authserv_ids:
        return []
    scope = trusted_headers(headers, trust) if trust.relays else headers
    found = []
    for header in scope:
        if header.name != "authentication-results":
            continue
        authserv_id = header.value.split(";", 1)[0].strip().split()[0:1]
        if authserv_id and authserv_id[0].lower() in trust.authserv_ids:
            found.append(header)
    return found


def registered_domain(domain: str) -> str:
    """The name a domain was registered under ("ups.com" of "bounce.ups.com", "example.co.uk"
    of "mail.example.co.uk"): DMARC's relaxed alignment compares these. Without the public
    suffix list, a suffix like "co.uk" is recognised by its second-level label only."""
    labels = domain.lower().strip(".").split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in SECOND_LEVELS else 2
    return ".".join(labels[-keep:])


def sender_check(headers: Sequence[Header], trust: Trust, from_address: str = "") -> SenderCheck:
    """Forged when a trusted result says DMARC failed under a reject/quarantine policy, or
    SPF failed hard; anything else (no result, softfail, none) is not called forged.
    Authenticated when a trusted result ties the mail to ``from_address``'s domain: DMARC
    passed for that domain, or a DKIM signature of the same registered domain verified. A
    mail both (SPF failed after a forward, the From domain's DKIM signature held) is not forged."""
    results: dict[str, str] = {}
    dmarc_reason = spf_reason = ""
    from_domain = from_address.rpartition("@")[2].lower().strip().rstrip(".")
    authenticated = ""
    for header in _authentication_headers(headers, trust):
        for clause in header.value.split(";")[1:40]:
            method = _METHOD_RE.search(clause)
            if not method:
                continue
            name, result = method.group(1).lower(), method.group(2).lower()
            results.setdefault(name, result)
            if from_domain and result == "pass" and _ties_to(name, clause, from_domain):
                authenticated = from_domain
            if name == "dmarc" and result == "fail" and not dmarc_reason:
                policy = _POLICY_RE.search(clause)
                domain = _HEADER_FROM_RE.search(clause)
                if policy and policy.group(1).lower() in ("reject", "quarantine"):
                    dmarc_reason = f"DMARC fail (p={policy.group(1).lower()})" + (
                        f" for {domain.group(1).lower()}" if domain else ""
                    )
            if name == "spf" and result == "fail":
                spf_reason = "SPF fail"
    reason = dmarc_reason or spf_reason
    if authenticated:
        reason = ""  # SPF fails for mail forwarded on; the From domain's signature held
    return SenderCheck(
        forged=bool(reason), results=results, reason=reason, authenticated=authenticated
    )


def _ties_to(method: str, clause: str, from_domain: str) -> bool:
    """Whether a passing ``dmarc`` or ``dkim`` clause vouches for ``from_domain``."""
    if method == "dmarc":
        named = _HEADER_FROM_RE.search(clause)
        return named is not None and named.group(1).lower().rstrip(".") == from_domain
    if method == "dkim":
        signer = _HEADER_D_RE.search(clause)
        return signer is not None and registered_domain(signer.group(1)) == registered_domain(
            from_domain
        )
    return False


def filter_report(
    headers: Sequence[Header], trust: Trust, *, suspected_score: float, certain_score: float
) -> FilterReport | None:
    """SpamAssassin's or rspamd's verdict, when one of our hosts wrote it; None otherwise."""
    scope = trusted_headers(headers, trust)
    if not scope:
        return None
    by_name: dict[str, str] = {}
    for header in scope:
        by_name.setdefault(header.name, header.value)
    action = by_name.get("x-spam-action") or by_name.get("x-rspamd-action")
    if action is not None:
        return _rspamd_report(action, by_name)
    if "x-spam-status" in by_name or "x-spam-flag" in by_name:
        return _spamassassin_report(by_name, suspected_score, certain_score)
    return None


def _rspamd_report(action: str, by_name: dict[str, str]) -> FilterReport:
    action = action.strip().lower()
    score_match = _FLOAT_RE.search(by_name.get("x-rspamd-score", "") or "")
    score = float(score_match.group(0)) if score_match else None
    if action in RSPAMD_CERTAIN_ACTIONS:
        level = "certain"
    elif action in RSPAMD_SUSPECTED_ACTIONS:
        level = "suspected"
    else:
        level = "ham"
    symbols = [s.strip() for s in (by_name.get("x-rspamd-symbols") or "").split(",") if s.strip()]
    return FilterReport("rspamd", level, score, (f"action: {action}", *symbols[:20]))


def _spamassassin_report(
    by_name: dict[str, str], suspected_score: float, certain_score: float
) -> FilterReport:
    status = by_name.get("x-spam-status", "")
    flag = (by_name.get("x-spam-flag") or status.split(",", 1)[0]).strip().lower()
    in_status = _SA_SCORE_RE.search(status)
    alone = _FLOAT_RE.search(by_name.get("x-spam-score", ""))
    score = float(in_status.group(1)) if in_status else float(alone.group(0)) if alone else None
    tests_match = _SA_TESTS_RE.search(status)
    tests = [t.strip() for t in tests_match.group(1).split(",") if t.strip()] if tests_match else []
    return FilterReport(
        "spamassassin",
        sa_level(flag == "yes", score, suspected_score, certain_score),
        score,
        tuple(tests[:20]),
    )


def sa_level(flagged: bool, score: float | None, suspected: float, certain: float) -> str:
    """A SpamAssassin verdict on our scale: its own flag or our threshold, certain above."""
    if score is not None and score >= certain:
        return "certain"
    if flagged or (score is not None and score >= suspected):
        return "suspected"
    return "ham"
