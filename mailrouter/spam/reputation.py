"""Sender reputation: which authenticated senders the built-in filter's suspicion gives way to.

Authentication alone earns nothing (a spammer signs his own domain at no cost, see
``verdict.FORGED_SENDER_POINTS``); what earns trust is who the sender is:

* ``SPAM_AUTHENTICATED_SENDERS`` (as SpamAssassin's ``whitelist_auth``): addresses and domains
  the admin lists; their mail is never held when a trusted Authentication-Results ties it to
  the From domain (``trusted.SenderCheck.authenticated``). A domain entry covers its subdomains.
* a domain staff have written to (``intake.pipeline._known_correspondent``): a suspected mail
  from another address of that domain becomes a ticket without an auto-reply, when the
  domain's signature held. Free-mail domains never count: anyone gets an address there.

Both read only the From domain a trusted result vouched for, never what the sender wrote.
"""

from __future__ import annotations

from collections.abc import Iterable

from mailrouter.spam.features import is_free_mail

LISTED_REASON = "authenticated sender listed"


def listed_sender(address: str, authenticated: str, listed: Iterable[str]) -> bool:
    """Whether ``address`` (its domain ``authenticated`` by a trusted result) is in ``listed``:
    an entry with "@" is one address, any other a domain and its subdomains."""
    address = address.strip().lower()
    domain = authenticated.strip().lower().rstrip(".")
    if not domain or address.rpartition("@")[2] != domain:
        return False
    for entry in listed:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        if "@" in entry:
            if entry == address:
                return True
        elif domain == entry.lstrip("@") or domain.endswith("." + entry.lstrip("@")):
            return True
    return False


def correspondent_domain(authenticated: str) -> str:
    """The domain whose history with staff may vouch for a mail: the From domain a trusted
    result authenticated, unless anyone can get an address there (free mail); else ""."""
    domain = authenticated.strip().lower().rstrip(".")
    return "" if not domain or is_free_mail(domain) else domain
