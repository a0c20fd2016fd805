"""Parsed MIME headers are cached across messages: the cache must never change a result."""

from __future__ import annotations

import base64
import dataclasses
from email import policy

import pytest

from mailrouter.parsing import parse_message
from mailrouter.parsing.message import _CachingPolicy

CRLF = b"\r\n"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def attachment_mail(disposition: str, subject: str = "Invoice") -> bytes:
    """A text part and a base64 PDF part with the given Content-Disposition value."""
    boundary = "cache-b0und4ry"
    parts = [
        b"Content-Type: text/plain; charset=utf-8" + CRLF + CRLF + b"See attached.",
        b"Content-Type: application/pdf"
        + CRLF
        + b"Content-Transfer-Encoding: base64"
        + CRLF
        + f"Content-Disposition: {disposition}".encode("ascii")
        + CRLF
        + CRLF
        + base64.encodebytes(PDF),
    ]
    head = [
        "From: Customer <customer@example.net>",
        f"Subject: {subject}",
        "Message-ID: <cache@example.net>",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
    ]
    body = b""
    for part in parts:
        body += f"--{boundary}".encode("ascii") + CRLF + part + CRLF
    body += f"--{boundary}--".encode("ascii") + CRLF
    return CRLF.join(line.encode("ascii") for line in head) + CRLF + CRLF + body


def test_a_header_policy_default_cannot_parse_is_noted_in_every_mail():
    # policy.default raises IndexError on this value; a cache must not hide the second failure.
    raw = attachment_mail('attachment; filename*="utf-8\'"')
    first, second = parse_message(raw), parse_message(raw)
    assert any("policy.default" in defect for defect in first.defects)
    assert second == first


def test_a_header_value_seen_before_reads_the_same_in_a_later_mail():
    disposition = "attachment; filename*=UTF-8''%E6%8A%A5%E4%BB%B7.pdf"
    first = parse_message(attachment_mail(disposition, subject="First"))
    second = parse_message(attachment_mail(disposition, subject="Second"))
    assert [a.filename for a in first.attachments] == ["报价.pdf"]
    assert second.attachments == first.attachments
    assert dataclasses.replace(second, subject="First") == first


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Type", "text/plain;charset=utf-8"),
        ("Content-Type", 'text/plain; charset="=?utf-8?q?gbk?="'),
        ("Content-Type", 'multipart/mixed; boundary="unterminated'),
        ("Content-Type", "text/plain (comment); charset=us-ascii (more)"),
        ("Content-Type", "text/plain; name*0*=utf-8''%E6%8A; name*1*=%A5.txt"),
        ("content-type", "TEXT/HTML; CHARSET=\udce9"),
        ("Content-Disposition", 'attachment; filename="a\\"b.pdf"'),
        ("Content-Transfer-Encoding", " Base64 (encoded)"),
    ],
)
def test_cached_headers_are_what_policy_default_reads(name, value):
    cached = _CachingPolicy().header_fetch_parse(name, value)
    fresh = policy.default.header_fetch_parse(name, value)
    assert str(cached) == str(fresh)
    assert type(cached).__mro__[1:] == type(fresh).__mro__[1:]
    assert dict(getattr(cached, "params", {})) == dict(getattr(fresh, "params", {}))
    assert [repr(d) for d in cached.defects] == [repr(d) for d in fresh.defects]
    assert _CachingPolicy().header_fetch_parse(name, value) is cached
