"""Which filter headers and Authentication-Results are believed: only our own hosts'."""

from __future__ import annotations

from mailrouter.spam.header_block import MAX_HEADERS, MAX_VALUE_CHARS, read_header_block
from mailrouter.spam.trusted import (
    Trust,
    filter_report,
    registered_domain,
    sender_check,
    trusted_headers,
)
from tests.work import growth

TRUST = Trust.from_settings(["mx.example.com", "filter.example.com"], ["mx.example.com"])
SENDER_PART = (
    "Received: from laptop by smtp.sender.example; Thu, 3 Dec 2026 09:59:00 +0000\r\n"
    "From: a@sender.example\r\nSubject: hi\r\n\r\nbody\r\n"
)


def _report(raw: str, trust: Trust = TRUST):
    return filter_report(
        read_header_block(raw.encode()), trust, suspected_score=5.0, certain_score=12.0
    )


def test_headers_above_our_received_are_believed() -> None:
    raw = (
        "X-Spam-Status: Yes, score=13.1 required=5.0 tests=BAYES_99,HTML_ONLY\r\n"
        "Received: from mx.example.com by filter.example.com; Thu, 3 Dec 2026 10:00:01 +0000\r\n"
        "X-Spam-Flag: YES\r\n"  # between two of our hops: ours too
        "Received: from smtp.sender.example by mx.example.com; Thu, 3 Dec 2026 10:00:00 +0000\r\n"
        + SENDER_PART
    )
    report = _report(raw)
    assert report is not None
    assert (report.source, report.level, report.score) == ("spamassassin", "certain", 13.1)
    assert report.reasons == ("BAYES_99", "HTML_ONLY")


def test_a_sender_header_below_our_last_received_is_not() -> None:
    raw = (
        "Received: from smtp.sender.example by mx.example.com; Thu, 3 Dec 2026 10:00:00 +0000\r\n"
        "X-Spam-Flag: NO\r\nX-Spam-Status: No, score=-9.0\r\n" + SENDER_PART
    )
    assert _report(raw) is None


def test_nothing_is_believed_when_the_top_hop_is_not_ours_or_no_trust_is_configured() -> None:
    forged = "X-Spam-Flag: NO\r\nReceived: from x by mx.example.com; now\r\n" + SENDER_PART
    assert _report(SENDER_PART.replace("Received", "X-Spam-Flag: YES\r\nReceived", 1)) is None
    assert _report(forged, Trust()) is None
    assert trusted_headers(read_header_block(forged.encode()), Trust()) == []


def test_rspamd_action() -> None:
    raw = (
        "X-Spam-Action: reject\r\nX-Rspamd-Score: 16.20\r\n"
        "X-Rspamd-Symbols: BAYES_SPAM, R_SPF_FAIL\r\n"
        "Received: from smtp.sender.example by mx.example.com; Thu, 3 Dec 2026 10:00:00 +0000\r\n"
        + SENDER_PART
    )
    report = _report(raw)
    assert report is not None
    assert (report.source, report.level, report.score) == ("rspamd", "certain", 16.2)
    assert "BAYES_SPAM" in report.reasons


def test_dmarc_failure_counts_only_under_a_reject_or_quarantine_policy() -> None:
    def check(results: str, trust: Trust = TRUST):
        raw = f"Authentication-Results: {results}\r\n" + SENDER_PART.replace(
            "by smtp.sender.example", "by mx.example.com"
        )
        return sender_check(read_header_block(raw.encode()), trust)

    forged = check("mx.example.com; dmarc=fail (p=quarantine) header.from=bank.example")
    assert forged.forged and forged.reason == "DMARC fail (p=quarantine) for bank.example"
    assert not check("mx.example.com; dmarc=fail (p=none) header.from=bank.example").forged
    assert check("mx.example.com; spf=fail smtp.mailfrom=bank.example").reason == "SPF fail"
    assert not check("mx.example.com; spf=softfail; dkim=pass; dmarc=pass").forged
    # Another server's authserv-id, or no trust configured: not believed.
    assert not check("evil.example; dmarc=fail (p=reject) header.from=bank.example").forged
    assert not check("mx.example.com; spf=fail", Trust()).forged


def _checked(results: str, from_address: str):
    raw = f"Authentication-Results: {results}\r\n" + SENDER_PART.replace(
        "by smtp.sender.example", "by mx.example.com"
    )
    return sender_check(read_header_block(raw.encode()), TRUST, from_address)


def test_a_signature_of_the_from_domain_authenticates_the_sender() -> None:
    dkim = "mx.example.com; dkim=pass (2048-bit key) header.d={} header.s=s1"
    # Relaxed alignment: a subdomain's signature is the registered domain's.
    assert _checked(dkim.format("bounce.ups.com"), "pkginfo@ups.com").authenticated == "ups.com"
    assert _checked(dkim.format("mail.shop.co.uk"), "a@shop.co.uk").authenticated == "shop.co.uk"
    dmarc = "mx.example.com; dmarc=pass (p=reject) header.from=stripe.com"
    assert _checked(dmarc, "receipts@stripe.com").authenticated == "stripe.com"
    # A look-alike domain's own signature vouches for the look-alike, not for the brand.
    lookalike = dkim.format("ups-parcelservice.com")
    assert _checked(lookalike, "pkginfo@ups.com").authenticated == ""
    assert _checked(lookalike, "n@ups-parcelservice.com").authenticated == "ups-parcelservice.com"
    # A failed signature, SPF alone, or a DMARC pass for another domain: nothing.
    assert _checked("mx.example.com; dkim=fail header.d=ups.com", "a@ups.com").authenticated == ""
    assert (
        _checked("mx.example.com; spf=pass smtp.mailfrom=ups.com", "a@ups.com").authenticated == ""
    )
    assert _checked(dmarc, "a@stripe-billing.com").authenticated == ""
    assert registered_domain("Mail.Example.COM.") == "example.com"


def test_spf_failing_after_a_forward_is_not_forged_when_the_from_domain_signed() -> None:
    forwarded = (
        "mx.example.com; spf=fail smtp.mailfrom=shop.example; dkim=pass header.d=shop.example"
    )
    check = _checked(forwarded, "orders@shop.example")
    assert not check.forged and check.reason == "" and check.authenticated == "shop.example"
    assert _checked(forwarded, "orders@other.example").forged  # signed by someone else


def test_header_block_is_bounded_for_hostile_mail() -> None:
    many = "".join(f"X-H{i}: {'v' * 10}\r\n" for i in range(50_000))
    long_value = "Subject: " + "x" * 100_000 + "\r\n"
    headers = read_header_block((many + "\r\nbody").encode())
    long_headers = read_header_block((long_value + "\r\nbody").encode())
    assert len(headers) <= MAX_HEADERS
    assert all(len(h.value) <= MAX_VALUE_CHARS for h in long_headers)

    # Counted, not timed: the work grows linearly with the headers (about 3.4 times the calls
    # for 4 times the headers) and not at all with one header's length.
    def many_headers(count: int) -> bytes:
        return ("".join(f"X-H{i}: {'v' * 10}\r\n" for i in range(count)) + "\r\nbody").encode()

    def one_long_header(chars: int) -> bytes:
        return f"Subject: {'x' * chars}\r\n\r\nbody".encode()

    assert growth(lambda n: read_header_block(many_headers(n)), 12_500) < 5
    assert growth(lambda n: read_header_block(one_long_header(n)), 25_000) < 1.5
