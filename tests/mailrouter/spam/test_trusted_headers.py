"""Which filter headers and Authentication-Results are believed: only our own hosts'."""

from __future__ import annotations

import time

from mailrouter.spam.header_block import MAX_HEADERS, MAX_VALUE_CHARS, read_header_block
from mailrouter.spam.trusted import Trust, filter_report, sender_check, trusted_headers

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


def test_header_block_is_bounded_for_hostile_mail() -> None:
    many = "".join(f"X-H{i}: {'v' * 10}\r\n" for i in range(50_000))
    long_value = "Subject: " + "x" * 100_000 + "\r\n"
    started = time.perf_counter()
    headers = read_header_block((many + "\r\nbody").encode())
    long_headers = read_header_block((long_value + "\r\nbody").encode())
    assert time.perf_counter() - started < 1.0
    assert len(headers) <= MAX_HEADERS
    assert all(len(h.value) <= MAX_VALUE_CHARS for h in long_headers)
