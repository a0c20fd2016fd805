"""Which authenticated senders count as listed or as a correspondent's domain."""

from __future__ import annotations

from mailrouter.spam.reputation import correspondent_domain, listed_sender

LISTED = ["ups.com", " Billing@Stripe.com ", ""]


def test_a_listed_domain_covers_its_subdomains_but_not_look_alikes() -> None:
    assert listed_sender("pkginfo@ups.com", "ups.com", LISTED)
    assert listed_sender("mcinfo@em.ups.com", "em.ups.com", LISTED)
    assert not listed_sender("pkginfo@ups.com.example", "ups.com.example", LISTED)
    assert not listed_sender("pkginfo@fakeups.com", "fakeups.com", LISTED)


def test_a_listed_address_is_that_address_only() -> None:
    assert listed_sender("billing@stripe.com", "stripe.com", LISTED)
    assert not listed_sender("support@stripe.com", "stripe.com", LISTED)


def test_nothing_is_listed_without_an_authenticated_from_domain() -> None:
    assert not listed_sender("pkginfo@ups.com", "", LISTED)
    # Authenticated for another domain than the From address's: not this sender.
    assert not listed_sender("pkginfo@ups.com", "spammer.example", LISTED)


def test_free_mail_is_nobody_s_correspondent_domain() -> None:
    assert correspondent_domain("Shenghua.example.") == "shenghua.example"
    assert correspondent_domain("gmail.com") == ""
    assert correspondent_domain("qq.com") == ""
    assert correspondent_domain("") == ""
