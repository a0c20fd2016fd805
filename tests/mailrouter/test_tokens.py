import time

import pytest

from mailrouter.tokens import (
    add_subject_token,
    find_subject_token,
    make_message_id,
    sign_action,
    strip_subject_prefixes,
    subject_token,
    verify_action,
    verify_message_id,
)

KEY = b"test-key-0123456789"


def test_message_id_is_valid_and_carries_the_reference():
    mid = make_message_id("SUP-000123", domain="support.example.com", key=KEY)

    assert mid.startswith("<SUP-000123.") and mid.endswith("@support.example.com>")
    assert mid.count("<") == 1 and mid.count(">") == 1 and mid.count("@") == 1
    assert not any(c.isspace() for c in mid)
    assert verify_message_id(mid, KEY) == "SUP-000123"


def test_every_message_id_is_unique():
    ids = {make_message_id("SUP-1", domain="example.com", key=KEY) for _ in range(200)}
    assert len(ids) == 200


def test_verify_tolerates_brackets_whitespace_and_domain_case():
    mid = make_message_id("SUP-000123", domain="support.example.com", key=KEY)
    core = mid.strip("<>")
    local, domain = core.split("@")

    assert verify_message_id(core, KEY) == "SUP-000123"
    assert verify_message_id(f"  {mid}\r\n", KEY) == "SUP-000123"
    assert verify_message_id(f"<{local}@{domain.upper()}>", KEY) == "SUP-000123"


def test_forged_or_foreign_message_ids_are_rejected():
    mid = make_message_id("SUP-000123", domain="example.com", key=KEY)
    local, domain = mid.strip("<>").split("@")
    reference, nonce, signature = local.split(".")

    assert verify_message_id(mid, b"another-key") is None
    # Pointing a genuine signature at another ticket must not work.
    assert verify_message_id(f"<SUP-000124.{nonce}.{signature}@{domain}>", KEY) is None
    flipped = ("b" if signature[0] == "a" else "a") + signature[1:]
    assert verify_message_id(f"<{reference}.{nonce}.{flipped}@{domain}>", KEY) is None
    assert verify_message_id("<CAF=abc123@mail.gmail.com>", KEY) is None
    assert verify_message_id("", KEY) is None
    assert verify_message_id("<no-at-sign>", KEY) is None


def test_verify_accepts_our_message_id_after_a_mail_system_changed_its_case():
    mid = make_message_id("SUP-000123", domain="example.com", key=KEY)

    assert verify_message_id(mid.lower(), KEY) == "SUP-000123"
    assert verify_message_id(mid.upper(), KEY) == "SUP-000123"
    # ... but the signature still has to match: another ticket's reference in any case fails.
    local, domain = mid.strip("<>").split("@")
    _reference, nonce, signature = local.split(".")
    assert verify_message_id(f"<sup-000124.{nonce}.{signature}@{domain}>", KEY) is None
    assert verify_message_id(f"<SUP-000124.{nonce.upper()}.{signature.upper()}@x>", KEY) is None


def test_message_id_refuses_references_that_would_break_it():
    with pytest.raises(ValueError):
        make_message_id("SUP 1", domain="example.com", key=KEY)
    with pytest.raises(ValueError):
        make_message_id("SUP-1@evil", domain="example.com", key=KEY)
    with pytest.raises(ValueError):
        make_message_id("SUP-1", domain="exa mple.com", key=KEY)


def test_subject_token_round_trip():
    assert subject_token("SUP-000123") == "[#SUP-000123]"
    assert find_subject_token("Re: [#SUP-000123] Printer broken") == "SUP-000123"
    assert find_subject_token("回复：打印机坏了 [# SUP-000123 ]") == "SUP-000123"
    assert find_subject_token("Printer broken [SUP-000123]") is None
    assert find_subject_token(None) is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Printer broken", "[#SUP-7] Printer broken"),
        ("Re: Printer broken", "Re: [#SUP-7] Printer broken"),
        ("Re: [#SUP-7] Printer broken", "Re: [#SUP-7] Printer broken"),
        ("RE: Re: Fwd: [#SUP-7] Printer broken", "RE: [#SUP-7] Printer broken"),
        ("Printer broken [#SUP-7]", "[#SUP-7] Printer broken"),
        ("回复：打印机坏了", "回复：[#SUP-7] 打印机坏了"),
        ("回复: Re: 打印机坏了", "回复: [#SUP-7] 打印机坏了"),
        ("Re: [#SUP-3] old ticket", "Re: [#SUP-7] old ticket"),
        ("", "[#SUP-7]"),
        (None, "[#SUP-7]"),
        ("Line\r\nBcc: victim@example.com", "[#SUP-7] Line Bcc: victim@example.com"),
    ],
)
def test_add_subject_token_adds_exactly_one_token(subject, expected):
    result = add_subject_token(subject, "SUP-7")

    assert result == expected
    assert result.count("[#") == 1
    assert add_subject_token(result, "SUP-7") == result


def test_strip_subject_prefixes_leaves_the_topic():
    assert strip_subject_prefixes("Re: RE: [#SUP-7] Printer broken") == "Printer broken"
    assert strip_subject_prefixes("转发：回复：发票") == "发票"
    assert strip_subject_prefixes("Regarding invoices") == "Regarding invoices"


def test_signed_action_round_trip_with_extras():
    token = sign_action(KEY, "faq-solved", "SUP-000123", faq_id=42)

    assert verify_action(KEY, token, "faq-solved", max_age_seconds=3600) == {
        "ticket_reference": "SUP-000123",
        "faq_id": 42,
    }


def test_signed_action_cannot_be_reused_for_another_action_or_key():
    token = sign_action(KEY, "faq-solved", "SUP-000123")

    assert verify_action(KEY, token, "close", max_age_seconds=3600) is None
    assert verify_action(b"other", token, "faq-solved", max_age_seconds=3600) is None
    assert verify_action(KEY, token[:-2] + "xx", "faq-solved", max_age_seconds=3600) is None
    assert verify_action(KEY, "garbage", "faq-solved", max_age_seconds=3600) is None


def test_signed_action_expires(monkeypatch):
    token = sign_action(KEY, "faq-solved", "SUP-000123")
    signed_at = time.time()
    # itsdangerous reads the wall clock; move it two hours ahead.
    monkeypatch.setattr(time, "time", lambda: signed_at + 7200)

    assert verify_action(KEY, token, "faq-solved", max_age_seconds=3600) is None
    assert verify_action(KEY, token, "faq-solved", max_age_seconds=3 * 3600) is not None
