"""Forwarded mail is read for what it forwards: the fixture set (``tests/mailrouter/
forward_fixtures``), replies that must stay replies, and the bounds on huge or nested forwards."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from mailrouter.parsing import NO_TEXT_MARKER, parse_message, reading_text
from mailrouter.parsing.forwards import MAX_FORWARD_CHARS, MAX_FORWARD_DEPTH, is_short_comment
from tests.mailrouter.client_fixtures import TICKET_REFERENCE, load_cases, normalised
from tests.mailrouter.forward_fixtures import OWN_ADDRESSES, ForwardCase, load_forward_cases
from tests.work import counted, growth

CASES = load_forward_cases()


@pytest.mark.parametrize("case", CASES, ids=[case.file for case in CASES])
def test_a_forward_is_read_for_the_mail_it_sends(case: ForwardCase) -> None:
    parsed = parse_message(case.raw, own_addresses=OWN_ADDRESSES)
    read = parsed.reading_text()
    assert normalised(parsed.new_text) == normalised(case.new_text)
    if case.reads:
        assert case.reads in parsed.forwarded_text
        assert case.reads in read
    else:
        assert parsed.forwarded_text == "" or not is_short_comment(parsed.new_text)
    if case.not_read:
        assert case.not_read not in read
    # The sender's own comment is what staff see as the message; routing reads it too.
    if parsed.new_text != NO_TEXT_MARKER:
        assert normalised(parsed.new_text) in normalised(read)


def test_replies_of_the_client_sets_forward_nothing_and_keep_their_new_text() -> None:
    """Every reply in the client sets quotes our auto-reply (gas-safety words): none of it is
    read as a forwarded mail; and no mail of the sets changes its new text."""
    for case in load_cases():
        parsed = parse_message(case.raw)
        if case.thread == TICKET_REFERENCE:
            assert parsed.forwarded_text == "", f"{case.folder}/{case.file}"
        assert normalised(parsed.new_text) == normalised(case.new_text), case.file


def _mail(subject: str, body: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann@customer.example>"
    message["To"] = "service@example.com"
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def _forward_block(level: int, body: str) -> str:
    return (
        "---------- Forwarded message ---------\n"
        f"From: Person {level} <p{level}@elsewhere.example>\n"
        "Date: Fri, 4 Dec 2026 at 10:00\n"
        f"Subject: Level {level}\n"
        "To: <someone@elsewhere.example>\n\n\n"
        f"{body}"
    )


def test_outlook_original_message_under_a_reply_subject_is_a_quote_not_a_forward() -> None:
    body = (
        "Thanks, Tuesday is fine.\n\n-----Original Message-----\nFrom: Shop <shop@x.example>\n"
        "Sent: Friday, December 4, 2026 10:00 AM\nTo: Ann Lee <ann@customer.example>\n"
        "Subject: Delivery\n\nYour water heater smells of gas, call us.\n"
    )
    assert parse_message(_mail("RE: Delivery", body)).forwarded_text == ""
    forwarded = parse_message(_mail("FW: Delivery", body)).forwarded_text
    assert forwarded == "Delivery\n\nYour water heater smells of gas, call us."


def test_the_forwarded_mail_loses_its_own_quotes_and_signature() -> None:
    inner = (
        "The boiler leaks again.\n\n-- \nSam Green\nFacilities\n\n"
        "On Thu, 3 Dec 2026 at 09:00, Help <help@x.example> wrote:\n> Old answer about a refund\n"
    )
    parsed = parse_message(_mail("Fwd: Leak", "FYI\n\n" + _forward_block(1, inner)))
    assert parsed.forwarded_text == "Level 1\n\nThe boiler leaks again."
    assert parsed.reading_text() == "FYI\n\nLevel 1\n\nThe boiler leaks again."


def test_a_long_comment_is_read_alone() -> None:
    comment = " ".join(["The heater stopped working after the storm and shows error E5."] * 3)
    parsed = parse_message(_mail("Fwd: Order", comment + "\n\n" + _forward_block(1, "Paid.")))
    assert parsed.forwarded_text == "Level 1\n\nPaid."
    assert parsed.reading_text() == parsed.new_text == comment


def test_reading_text_reads_the_comment_and_a_short_comment_s_forward() -> None:
    assert reading_text("FYI", "body", "Broken heater") == "FYI\n\nBroken heater"
    assert reading_text(NO_TEXT_MARKER, "body", "Broken heater") == "Broken heater"
    assert reading_text("", "the whole body", "") == "the whole body"
    assert reading_text(NO_TEXT_MARKER, "body", "") == NO_TEXT_MARKER
    assert is_short_comment("请处理") and is_short_comment("转发给你们看看")
    assert not is_short_comment("热水器" * 20)


def test_nested_inline_forwards_are_followed_only_so_deep() -> None:
    """A bare re-forward of a forward is read for the mail inside it, up to the depth limit."""
    body = "The innermost words."
    for level in range(MAX_FORWARD_DEPTH + 3, 0, -1):
        body = _forward_block(level, body)
    parsed = parse_message(_mail("Fwd: Fwd: Fwd: nested", body))
    assert parsed.new_text == NO_TEXT_MARKER
    assert f"Level {MAX_FORWARD_DEPTH}" in parsed.forwarded_text
    assert "Level 1\n" not in parsed.forwarded_text
    two = _forward_block(1, _forward_block(2, "Inner words."))
    assert parse_message(_mail("Fwd: two", two)).forwarded_text == "Level 2\n\nInner words."


def _attached(inner: bytes, subject: str, comment: str = "") -> bytes:
    outer = EmailMessage()
    outer["From"] = "Ann Lee <ann@customer.example>"
    outer["To"] = "service@example.com"
    outer["Subject"] = subject
    outer.set_content(comment or "")
    outer.add_attachment(message_from_bytes(inner, policy=policy.default))
    return outer.as_bytes()


def test_nested_attached_forwards_are_bounded_and_fast() -> None:
    raw = _mail("Level 0", "The innermost words.")
    for level in range(1, 30):
        raw = _attached(raw, f"Fwd: Level {level}")
    parsed, calls = counted(parse_message, raw)
    assert parsed.subject == "Fwd: Level 29"
    assert parsed.forwarded_text.startswith("Fwd: Level 28")
    assert "innermost" not in parsed.forwarded_text
    # Counted, not timed: the mail and at most MAX_FORWARD_DEPTH - 1 attached ones are read.
    assert calls.of("parsing/message.py:_parse") <= MAX_FORWARD_DEPTH


def test_a_huge_forward_is_read_only_so_far() -> None:
    def huge(repeats: int) -> bytes:
        text = "The water heater leaks. " + "Lorem ipsum dolor sit amet. " * repeats
        return _mail("Fwd: Huge", "FYI\n\n" + _forward_block(1, text))

    parsed = parse_message(huge(200_000))
    assert parsed.forwarded_text.startswith("Level 1\n\nThe water heater leaks.")
    assert len(parsed.forwarded_text) <= MAX_FORWARD_CHARS + 20
    # Counted, not timed: linear in the mail (about 4 times the calls for 4 times the text).
    assert growth(lambda n: parse_message(huge(n)), 50_000) < 5


def test_our_own_mail_forwarded_back_is_not_read() -> None:
    body = "Any news?\n\n" + _forward_block(1, "If you smell gas, leave the house.").replace(
        "p1@elsewhere.example", "Service@Example.com"
    )
    parsed = parse_message(_mail("Fwd: We received your message", body), own_addresses=OWN)
    assert parsed.forwarded_text == ""
    assert parsed.reading_text() == "Any news?"
    bare = parse_message(
        _mail("Fwd: We received your message", body.split("\n\n", 1)[1]), own_addresses=OWN
    )
    assert bare.new_text == NO_TEXT_MARKER and bare.forwarded_text == ""
    # Sent on to us from a mailbox of another domain (an IMAP box, a colleague): still ours.
    relayed = parse_message(
        _mail("Fwd: We received your message", body).replace(
            b"To: service@example.com", b"To: help@ourshop.example.net"
        ),
        own_addresses=OWN,
    )
    assert relayed.forwarded_text == ""


OWN = ["support@example.com", "service@example.com"]


@pytest.mark.parametrize(
    ("sender", "forwarded_from", "cc"),
    [
        # An employee forwards a colleague's mail to a department: same domain, not our address.
        ("tom@example.com", "warehouse@example.com", ""),
        # A customer of a shared provider forwards a friend's mail, copying another friend.
        ("ann@gmail.com", "bo@gmail.com", "cy@gmail.com"),
    ],
)
def test_a_forward_from_a_domain_we_share_is_read(
    sender: str, forwarded_from: str, cc: str
) -> None:
    body = "FYI\n\n" + _forward_block(1, "The kettle base leaks onto the worktop.").replace(
        "p1@elsewhere.example", forwarded_from
    )
    raw = _mail("Fwd: Kettle", body, **({"Cc": cc} if cc else {})).replace(
        b"ann@customer.example", sender.encode()
    )
    parsed = parse_message(raw, own_addresses=OWN)
    assert parsed.from_address == sender
    assert "The kettle base leaks" in parsed.forwarded_text
    assert "The kettle base leaks" in parsed.reading_text()


def test_a_delivery_report_s_attached_mail_is_not_a_forward() -> None:
    bounced = _mail("Gas leak", "Smells of gas.").decode()
    report = (
        "From: MAILER-DAEMON@mx.example\nTo: service@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nDelivery failed.\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        "Final-Recipient: rfc822; x@y.example\nAction: failed\nStatus: 5.1.1\n\n"
        f"--b\nContent-Type: message/rfc822\n\n{bounced}\n--b--\n"
    )
    assert parse_message(report.encode()).forwarded_text == ""


def test_a_quoted_header_block_ends_at_its_last_field() -> None:
    """Apple Mail may quote the forwarded mail with '>': the body is not read as its subject."""
    body = (
        "Begin forwarded message:\n\n> From: Bo <bo@x.example>\n> Date: 4 December 2026\n"
        "> Subject: Heater\n> To: Ann <ann@customer.example>\n>\n> The heater leaks.\n"
    )
    forwarded = parse_message(_mail("Fwd: Heater", body)).forwarded_text
    assert forwarded.startswith("Heater\n\n") and "The heater leaks." in forwarded


def test_an_html_only_outlook_web_forward_is_read() -> None:
    html = (
        '<html><body><div>FYI</div><hr><div id="divRplyFwdMsg" dir="ltr"><font>'
        "<b>From:</b> Sarah Collins &lt;sarah@x.example&gt;<br><b>Sent:</b> Saturday, December"
        " 5, 2026 8:55 AM<br><b>To:</b> John Miller &lt;john@y.example&gt;<br><b>Subject:</b> "
        "Gas smell in flat 4</font><div>&nbsp;</div></div><div><p>There is a strong smell of gas"
        " in the kitchen.</p></div></body></html>"
    )
    raw = (
        "From: John <john@y.example>\nTo: service@example.com\nSubject: FW: Gas smell in flat 4\n"
        f"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n{html}"
    ).encode()
    parsed = parse_message(raw)
    assert parsed.new_text == "FYI"
    assert parsed.forwarded_text == (
        "Gas smell in flat 4\n\nThere is a strong smell of gas in the kitchen."
    )
