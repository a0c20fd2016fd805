import email
from datetime import UTC, datetime
from email import policy
from email.utils import parsedate_to_datetime

import pytest

from mailrouter.compose import compose_message, message_bytes, thread_references

OUTLOOK_ID = (
    "<AM0PR07MB4417D4B7B84B3C3E9A55D0C3E4A50AAAAAAAAAAAAA@AM0PR07MB4417.eurprd07.prod.outlook.com>"
)


def compose(**changes):
    values = dict(
        from_name="客服部 · 示例科技",
        from_address="service@example.com",
        to=["王芳 <wang.fang@example.cn>"],
        subject="[#SUP-000123] 已收到：订单5567货物破损",
        text="王芳，您好！\n\n您的来信已安全送达。\n",
        html="<p>王芳，您好！</p><p>您的来信已安全送达。</p>",
        message_id="<SUP-000123.abcdefgh.abcdefghijklmnop@example.com>",
        in_reply_to=OUTLOOK_ID,
        references=["<root@mail.example.cn>"],
        automatic=True,
    )
    values.update(changes)
    return compose_message(**values)


def reparse(msg):
    return email.message_from_bytes(message_bytes(msg), policy=policy.default)


def test_chinese_subject_and_display_names_round_trip():
    parsed = reparse(compose())

    assert parsed["Subject"] == "[#SUP-000123] 已收到：订单5567货物破损"
    assert parsed["From"].addresses[0].display_name == "客服部 · 示例科技"
    assert parsed["From"].addresses[0].addr_spec == "service@example.com"
    assert parsed["To"].addresses[0].display_name == "王芳"
    assert parsed["To"].addresses[0].addr_spec == "wang.fang@example.cn"


def test_raw_message_is_seven_bit_clean():
    raw = message_bytes(compose())

    assert raw.isascii()  # survives relays without 8BITMIME/SMTPUTF8
    assert b"\r\n" in raw


def test_text_and_html_alternatives():
    parsed = reparse(compose())

    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    # MIME text is canonically CRLF; clients show the same lines.
    assert plain.get_content().splitlines() == ["王芳，您好！", "", "您的来信已安全送达。"]
    assert "<p>王芳，您好！</p>" in html.get_content()


def test_text_only_message_without_html():
    parsed = reparse(compose(html=None))

    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content().startswith("王芳，您好！")


def test_auto_reply_headers():
    parsed = reparse(compose(automatic=True))

    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Precedence"] is None
    assert parsed["List-Id"] is None and parsed["List-Unsubscribe"] is None


def test_a_notification_answering_no_message_is_auto_generated():
    """RFC 3834 section 5: auto-replied is for responses to a message; anything else is
    auto-generated (staff notifications, surveys, forwarded copies)."""
    parsed = reparse(compose(automatic=True, auto_submitted="auto-generated", in_reply_to=None))

    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    with pytest.raises(ValueError, match="Auto-Submitted"):
        compose(automatic=True, auto_submitted="auto-notified")  # RFC 3834 lists no such value


def test_staff_reply_is_not_marked_automatic():
    parsed = reparse(compose(automatic=False))

    assert parsed["Auto-Submitted"] is None
    assert parsed["X-Auto-Response-Suppress"] is None


def test_date_and_message_id():
    sent_at = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    parsed = reparse(compose(date_at=sent_at, message_id="SUP-1.aaaaaaaa.bbbb@example.com"))

    assert parsedate_to_datetime(parsed["Date"]) == sent_at
    assert parsed["Message-ID"] == "<SUP-1.aaaaaaaa.bbbb@example.com>"


def test_date_defaults_to_now():
    parsed = reparse(compose())

    age = datetime.now(UTC) - parsedate_to_datetime(parsed["Date"])
    assert abs(age.total_seconds()) < 5


def test_long_message_ids_are_folded_without_encoded_words():
    msg = compose(references=["<root@mail.example.cn>", OUTLOOK_ID.replace("A", "B")])
    raw = message_bytes(msg)

    header_block = raw.split(b"\r\n\r\n")[0].decode("ascii")
    threading = header_block[header_block.index("In-Reply-To:") : header_block.index("Auto-")]
    assert threading.startswith("In-Reply-To: <AM0PR07MB") and "References: <root@" in threading
    assert "=?" not in threading
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["In-Reply-To"] == OUTLOOK_ID
    assert parsed["References"].split() == [
        "<root@mail.example.cn>",
        OUTLOOK_ID.replace("A", "B"),
        OUTLOOK_ID,
    ]
    # Stored bytes parsed back and serialised again stay intact.
    assert message_bytes(parsed) == raw


def test_references_end_with_the_message_we_answer_without_duplicates():
    refs = thread_references(["<a@x> <b@x>", "<a@x>", "not-an-id"], "<c@x>")
    assert refs == ["<b@x>", "<a@x>", "<c@x>"]
    assert thread_references([], "c@x") == ["<c@x>"]
    assert thread_references([], None) == []


def test_long_threads_keep_root_and_newest_references():
    refs = thread_references([f"<m{i}@x>" for i in range(40)], "<last@x>")

    assert len(refs) == 20
    assert refs[0] == "<m0@x>"
    assert refs[-2:] == ["<m39@x>", "<last@x>"]


def test_new_conversation_has_no_threading_headers():
    parsed = reparse(compose(in_reply_to=None, references=[]))

    assert parsed["In-Reply-To"] is None
    assert parsed["References"] is None


@pytest.mark.parametrize("name", ["From", "sender", "Cc", "References"])
def test_extra_headers_cannot_change_sender_recipients_or_threading(name):
    with pytest.raises(ValueError):
        compose(extra_headers={name: "Zhang San <zhang.san@example.com>"})


def test_extra_headers_are_added():
    parsed = reparse(compose(extra_headers={"X-Ticket": "SUP-000123"}))
    assert parsed["X-Ticket"] == "SUP-000123"


def test_header_injection_in_subject_is_neutralised():
    parsed = reparse(compose(subject="Hello\r\nBcc: victim@example.com"))

    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hello Bcc: victim@example.com"


def test_several_recipients():
    parsed = reparse(compose(to=["a@example.com", '"Lee, Ann" <ann@example.org>']))

    assert [a.addr_spec for a in parsed["To"].addresses] == ["a@example.com", "ann@example.org"]
    assert parsed["To"].addresses[1].display_name == "Lee, Ann"


def test_refuses_a_message_without_recipients():
    with pytest.raises(ValueError):
        compose(to=[])


def _header_values():
    """Values around the line limit: words, runs of spaces, punctuation, empty."""
    import random

    shapes = ["", "a", "a b", "a  b", " a", "a ", "  ", "x" * 90, "auto-replied", "All"]
    chunks = ["word", " ", "  ", "=?", ";", "<id@x>", '"q"', "(c)", "x" * 20, ",", ":"]
    rng = random.Random(18)
    for _ in range(3000):
        value = "".join(rng.choice(chunks) for _ in range(rng.randint(1, 30)))
        shapes.append(value[: rng.randint(0, 100)])
    return shapes


@pytest.mark.parametrize("name", ["To", "Date", "Content-Type", "X-Auto-Response-Suppress"])
def test_headers_that_fit_their_line_are_written_as_compat32_writes_them(name):
    # Such headers skip compat32's Header folding (outbox mail costs a tenth less of the
    # worker's write phase); the bytes must be those compat32 writes.
    from email.policy import Compat32

    from mailrouter.compose import OUTGOING_POLICY

    compat32 = Compat32(linesep="\r\n", mangle_from_=False)
    for value in _header_values():
        assert OUTGOING_POLICY.fold_binary(name, value) == compat32.fold_binary(name, value), value


def test_a_mail_of_short_ascii_headers_folds_none_of_them(monkeypatch):
    from email import header

    msg = compose(from_name="Support", to=["ann@example.org"], subject="Re: order", html=None)
    msg.replace_header("Subject", "Re: order")  # a str, as every other header here
    del msg["References"], msg["In-Reply-To"]

    def refused(*_args, **_kwargs):
        raise AssertionError("folded a header that fits its line")

    monkeypatch.setattr(header, "Header", refused)
    raw = message_bytes(msg)
    assert b"\r\nX-Auto-Response-Suppress: All\r\n" in raw
    assert b"\r\nTo: ann@example.org\r\n" in raw
