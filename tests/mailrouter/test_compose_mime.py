"""What a recipient's mail program reads back from our mail, for many kinds of input.

Each message is serialised, checked for 7-bit, CRLF and line-length rules (RFC 5322 2.1.1,
RFC 2045), parsed with the stdlib's standards-following parser (``policy.default``), and every
header's decoded value and every part's decoded content is compared with what we asked for.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from typing import Any

import pytest

from mailrouter.compose import OutgoingFile, compose_message, message_bytes, thread_references

OUTLOOK_ID = (
    "<AM0PR07MB4417D4B7B84B3C3E9A55D0C3E4A50AAAAAAAAAAAAA@AM0PR07MB4417.eurprd07.prod.outlook.com>"
)
SENT_AT = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
AUTO_REPLY_TEXT = (
    "王芳，您好！\n\n感谢您联系示例科技。您的来信已安全送达，现由售后服务部负责跟进。\n\n"
    "工单编号：SUP-000123\n\nDear customer, thank you for contacting Example Technology; "
    "a member of staff will answer you personally before Tuesday 25 November, 18:00.\n\n"
    "查看工单进度：https://help.example.com/t/SUP-000123/abcdefghijklmnopqrstuvwxyz234567\n"
)
BASE: dict[str, Any] = dict(
    from_name="售后服务部 · 示例科技",
    from_address="service@example.com",
    to=["王芳 <wang.fang@example.cn>"],
    subject="[#SUP-000123] 已收到：订单5567货物破损",
    text=AUTO_REPLY_TEXT,
    html="<p>王芳，您好！</p>\n<p>您的来信已安全送达。</p>\n",
    message_id="<SUP-000123.abcdefgh.abcdefghijklmnop@example.com>",
    in_reply_to=OUTLOOK_ID,
    references=["<root.1234@mail.example.cn>", "<second.5678@mail.example.cn>"],
    automatic=True,
    date_at=SENT_AT,
)
LONG_NAME = "张三 (" + "售后服务部 · 示例科技有限公司" * 4 + ")"

CASES: dict[str, dict[str, Any]] = {
    "chinese auto-reply": {},
    "ascii": dict(
        from_name="Support Team",
        to=["Ann Lee <ann@example.org>"],
        subject="[#SUP-000123] Re: printer jams",
        text="Hello Ann,\n\nThanks for writing.\n",
        html="<p>Hello Ann,</p>",
    ),
    "specials in names, several recipients": dict(
        from_name='Jo "JJ" (Sales), Inc.',
        to=['"Lee, Ann" <ann@example.org>', "b@example.org", "王 <c@example.org>"],
    ),
    "long chinese subject": dict(subject="回复：" + "订单货物破损请尽快处理" * 12),
    "long ascii subject": dict(subject="Re: " + "please help with my order " * 12),
    "subject with one very long word": dict(subject="x" * 300 + " tail"),
    "mixed subject": dict(subject="Re: [#SUP-1] Invoice 发票 for order 5567 (urgent!) – thanks"),
    "latin subject": dict(subject="Réponse : café crème"),
    "subject that looks like an encoded word": dict(subject="Hello =?utf-8?q?hi?= there"),
    "subject over several lines": dict(subject="Hello\r\n  world\tagain"),
    "long lines": dict(
        text="word " * 400 + "\n" + "长" * 700 + "\n",
        html="<p>" + "a" * 2000 + "</p>",
    ),
    "long ascii line, text only": dict(text="a " * 600, html=None),
    "html with non-ascii": dict(
        html="<html><body><p>Grüße, 王芳 — ñ € 😀</p>\n<p>" + "x" * 100 + "</p></body></html>"
    ),
    "empty html": dict(html=""),
    "text only": dict(html=None),
    "empty text only": dict(text="", html=None),
    "many references": dict(references=[f"<m{i}.{'z' * i}@mail.example.com>" for i in range(30)]),
    "new conversation": dict(in_reply_to=None, references=[]),
    "staff reply with extra headers": dict(
        automatic=False, extra_headers={"X-Ticket": "SUP-000123", "X-Note": "中文 note"}
    ),
    "lines a mailbox would mangle": dict(text="From here\n.\n..\nFrom: x\n", html=None),
    "mixed line ends": dict(text="a\r\nb\rc\nd\u2028e\x0cf", html="<p>\r\n</p>"),
    "trailing whitespace and equals": dict(text="trailing   \nspaces\t\n=3D = equals\n"),
    "emoji and accents in names": dict(
        from_name="😀 Help Desk 支持", to=["Ünïcödé Nämé <u@example.de>"]
    ),
    "long chinese display name": dict(from_name=LONG_NAME),
    "internationalised domain": dict(to=["Ann <ann@例子.cn>"]),
}


def canonical(text: str) -> str:
    """MIME text as transported (RFC 2046 4.1.1): CRLF line ends, ending with one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return (text if text.endswith("\n") else text + "\n").replace("\n", "\r\n")


def one_line(value: str) -> str:
    return " ".join(value.split())


def check_lines(raw: bytes) -> None:
    assert raw.isascii()  # survives relays without 8BITMIME/SMTPUTF8
    assert raw.count(b"\n") == raw.count(b"\r\n") and raw.count(b"\r") == raw.count(b"\r\n")
    for line in raw.split(b"\r\n"):
        # 78 everywhere (RFC 5322 2.1.1 "should"); only a single Message-ID may not fit.
        if len(line) > 78:
            *name, word = line.split()
            assert len(name) <= 1 and word.startswith(b"<") and word.endswith(b">"), line
            assert len(line) <= 998


def expected_headers(values: dict[str, Any]) -> dict[str, str]:
    headers = {"subject": one_line(values["subject"]), "message-id": values["message_id"]}
    if values["in_reply_to"]:
        headers["in-reply-to"] = values["in_reply_to"]
    thread = thread_references(values["references"], values["in_reply_to"])
    if thread:
        headers["references"] = " ".join(thread)
    if values["automatic"]:
        headers["auto-submitted"] = "auto-replied"
        headers["x-auto-response-suppress"] = "All"
    headers.update({k.lower(): v for k, v in (values.get("extra_headers") or {}).items()})
    return headers


@pytest.mark.parametrize("changes", CASES.values(), ids=CASES.keys())
def test_recipient_reads_what_we_composed(changes: dict[str, Any]) -> None:
    values = {**BASE, **changes}
    raw = message_bytes(compose_message(**values))

    check_lines(raw)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert not parsed.defects
    for name, value in parsed.items():
        assert not getattr(value, "defects", ()), (name, value.defects)

    structure = {"from", "to", "date", "mime-version", "content-type"}
    if not parsed.is_multipart():
        structure.add("content-transfer-encoding")
    headers = expected_headers(values)
    assert {name.lower() for name in parsed.keys()} == structure | set(headers)
    assert len(parsed.keys()) == len(set(parsed.keys()))  # none twice
    for name, value in headers.items():
        assert str(parsed[name]) == value, name
    assert parsed["Date"].datetime == SENT_AT
    assert parsed["MIME-Version"] == "1.0"

    [sender] = parsed["From"].addresses
    assert sender.addr_spec == values["from_address"]
    name = one_line(values["from_name"])
    if name == LONG_NAME:
        # Too long for one encoded word (75 characters, RFC 2047 2). The stdlib's address
        # parser keeps the space between adjacent encoded words (CPython gh-128110), which
        # RFC 2047 6.2 says to drop; the RFC-following decoder reads the exact name.
        assert "".join(sender.display_name.split()) == "".join(name.split())
        compat_from = email.message_from_bytes(raw)["From"]
        assert str(make_header(decode_header(compat_from))).startswith(name + " <")
    else:
        assert sender.display_name == name
    recipients = [(a.display_name, a.addr_spec) for a in parsed["To"].addresses]
    expected_to = [email.utils.parseaddr(r) for r in values["to"]]
    expected_to = [(n, a.replace("例子.cn", "xn--fsqu00a.cn")) for n, a in expected_to]  # IDNA
    assert recipients == expected_to

    parts = [parsed] if values["html"] is None else parsed.iter_parts()
    expected_parts = [("text/plain", values["text"])]
    if values["html"] is not None:
        assert parsed.get_content_type() == "multipart/alternative"
        expected_parts.append(("text/html", values["html"]))
    assert [
        (part.get_content_type(), part.get_content_charset(), part.get_content()) for part in parts
    ] == [(kind, "utf-8", canonical(content)) for kind, content in expected_parts]

    # Stored bytes parsed back and serialised again (the outbox, the relay) stay intact.
    assert message_bytes(parsed) == raw


def test_plain_ascii_text_stays_readable() -> None:
    raw = message_bytes(compose_message(**{**BASE, **CASES["ascii"]}))

    assert b"Content-Transfer-Encoding: 7bit" in raw and b"Thanks for writing." in raw


def test_non_ascii_local_part_goes_out_as_utf8_for_smtputf8() -> None:
    # Finding 7: replying to an internationalised address crashed with a ValueError.
    raw = message_bytes(compose_message(**{**BASE, "to": ["王芳 <王芳@例子.cn>", "b@example.org"]}))

    (to_line,) = [line for line in raw.split(b"\r\n") if line.startswith(b"To:")]
    assert (
        to_line.decode("utf-8") == "To: =?utf-8?b?546L6Iqz?= <王芳@xn--fsqu00a.cn>, b@example.org"
    )
    parsed = email.message_from_string(raw.decode("utf-8"), policy=email.policy.SMTPUTF8)
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        "王芳@xn--fsqu00a.cn",
        "b@example.org",
    ]


INJECTIONS = [
    "Eve\r\nBcc: x@evil.test",
    "Eve\nIn-Reply-To: <a@evil.test>",
    "Eve\rSubject: spam",
    "Eve\x00\x1b[31m\x85Bcc: x@evil.test",
    "Eve\u2028Bcc: x@evil.test\u202e",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_no_control_character_reaches_a_header(value: str) -> None:
    # Finding 4: a decoded CR/LF (or other control character) from customer input must never
    # start a header of its own or reach the wire raw.
    msg = compose_message(
        **{
            **BASE,
            "from_name": value,
            "to": [email.utils.formataddr((value, "eve@example.org"))],
            "subject": value,
            "extra_headers": {"X-Customer": value},
        }
    )
    raw = message_bytes(msg)
    head = raw.split(b"\r\n\r\n", 1)[0]
    names = [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n") if line[:1] != b" "]
    assert b"bcc" not in names and names.count(b"subject") == 1
    assert not any(byte < 32 and byte not in (9,) for byte in head.replace(b"\r\n", b""))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    for header in ("From", "To", "Subject", "X-Customer"):
        assert all(c.isprintable() for c in str(parsed[header])), header
    assert parsed["To"].addresses[0].addr_spec == "eve@example.org"


@pytest.mark.parametrize("name", ["X-A\r\nBcc", "X A", "X:A", ""])
def test_unusable_extra_header_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        compose_message(**{**BASE, "extra_headers": {name: "v"}})


@pytest.mark.parametrize("address", ["service@example.com\r\nBcc: x@example.com", "service"])
def test_unusable_sender_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError):
        compose_message(**{**BASE, "from_address": address})


#: Without the Outlook ID, which is longer than a line and cannot be folded.
SHORT_IDS: dict[str, Any] = dict(in_reply_to="<short.1@mail.example.cn>", references=[])


@pytest.mark.parametrize(
    "filename",
    ["a.pdf", 'we"ird; name.pdf', "发票.txt", "报价单" * 40 + ".xlsx", "x" * 118 + ".pdf"],
)
def test_attached_files_keep_their_names_in_short_lines(filename: str) -> None:
    # compat32 folds no parameter: a long name went out on one line a relay refuses (> 998).
    files = [OutgoingFile(filename, "text/plain", "发票 12345\n".encode())]
    raw = message_bytes(compose_message(**{**BASE, **SHORT_IDS, "html": None, "files": files}))
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    for parsed in (
        email.message_from_bytes(raw, policy=policy.default),
        email.message_from_bytes(raw),  # the compat32 reading some programs use
    ):
        [part] = [p for p in parsed.walk() if p.get_filename()]
        assert part.get_filename() == filename
        assert part.get_payload(decode=True).decode(part.get_content_charset()) == "发票 12345\n"
    assert (
        email.message_from_bytes(raw, policy=policy.default)
        .get_body(preferencelist=("plain",))
        .get_content()
        .startswith("王芳")
    )
