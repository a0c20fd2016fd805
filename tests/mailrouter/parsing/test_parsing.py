"""Inbound mail parsing: what staff and the classifier read from real-world messages."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailrouter.parsing import (
    NO_TEXT_MARKER,
    clean_filename,
    decode_header_text,
    parse_message,
    split_quote,
)
from mailrouter.parsing.html import html_to_text
from support.core.text import detect_language

CRLF = b"\r\n"
REALMAIL = Path(__file__).resolve().parents[1] / "fixtures" / "realmail"


def make_mail(*headers: str | bytes, body: bytes = b"Hello", content_type: str = "") -> bytes:
    """Raw message bytes; header lines may be bytes to carry raw 8-bit text."""
    lines = [h.encode("ascii") if isinstance(h, str) else h for h in headers]
    if not any(line.lower().startswith(b"from:") for line in lines):
        lines.insert(0, b"From: Customer <customer@example.net>")
    if not any(line.lower().startswith(b"message-id:") for line in lines):
        lines.append(b"Message-ID: <fixture@example.net>")
    if content_type:
        lines.append(f"Content-Type: {content_type}".encode("ascii"))
    return CRLF.join(lines) + CRLF + CRLF + body


def make_part(content_type: str, body: bytes, *extra: str) -> bytes:
    head = [f"Content-Type: {content_type}", *extra]
    return "\r\n".join(head).encode("ascii") + CRLF + CRLF + body


def make_multipart(subtype: str, *parts: bytes, boundary: str = "b0und4ry") -> tuple[str, bytes]:
    """(Content-Type value, body) of a multipart message made of raw parts."""
    delimiter = f"--{boundary}".encode("ascii")
    body = b"This is a multi-part message in MIME format." + CRLF
    for part in parts:
        body += delimiter + CRLF + part + CRLF
    body += delimiter + b"--" + CRLF
    return f'multipart/{subtype}; boundary="{boundary}"', body


# --------------------------------------------------------------------------------------------
# Charsets
# --------------------------------------------------------------------------------------------

# 镕 and 喆 are in GBK but not in GB2312, which is what Chinese mail clients declare.
CHINESE_GBK = "您好，朱镕基先生和陶喆的订单还没有发货，请查一下。"
# 㗎 is a Hong Kong character in Big5-HKSCS only; mail declares plain Big5.
CHINESE_HK = "請問訂單幾時到㗎？謝謝。"
RUSSIAN = "Здравствуйте! Заказ 15 не пришёл, помогите разобраться."
JAPANESE = "お問い合わせありがとうございます。担当者より折り返しご連絡いたします。"


@pytest.mark.parametrize(
    ("declared", "text", "encoding"),
    [
        ("gb2312", CHINESE_GBK, "gb18030"),
        ("GB2312", CHINESE_GBK, "gbk"),
        ("gbk", CHINESE_GBK, "gbk"),
        ("x-gbk", CHINESE_GBK, "gbk"),
        ("cp936", CHINESE_GBK, "gbk"),
        ("gb18030", CHINESE_GBK, "gb18030"),
        ("big5", CHINESE_HK, "big5hkscs"),
        ("Big5", "您好，請問退貨流程。", "cp950"),
        ("iso-2022-jp", JAPANESE, "iso2022_jp"),
        ("shift_jis", JAPANESE, "cp932"),
        ("koi8-r", RUSSIAN, "koi8_r"),
        ("windows-1251", RUSSIAN, "cp1251"),
        ("windows-1252", "Café – “quoted” price €5", "cp1252"),
        ("iso-8859-1", "Grüße aus Köln, “Team”", "cp1252"),
        ("windows-1250", "Dzień dobry, zamówienie żółć", "cp1250"),
        ("utf-7", f"{RUSSIAN} {CHINESE_GBK}", "utf-7"),
        ("unicode-1-1-utf-7", CHINESE_GBK, "utf-7"),
        ("utf-8", f"{RUSSIAN} {CHINESE_GBK} {JAPANESE}", "utf-8"),
    ],
)
def test_declared_charset_decodes_to_the_right_characters(declared, text, encoding):
    raw = make_mail(
        "Subject: charset test",
        body=text.encode(encoding),
        content_type=f'text/plain; charset="{declared}"',
    )
    parsed = parse_message(raw)
    assert parsed.text == text
    assert "\ufffd" not in parsed.text


def test_quoted_printable_gb2312_body_decodes():
    body = "订单号 A-1024 的发票抬头错了".encode("gbk")
    encoded = "".join(f"={byte:02X}" if byte > 127 else chr(byte) for byte in body)
    raw = make_mail(
        "Content-Transfer-Encoding: quoted-printable",
        body=encoded.encode("ascii"),
        content_type="text/plain; charset=gb2312",
    )
    assert parse_message(raw).text == "订单号 A-1024 的发票抬头错了"


def test_misspelled_charset_name_is_detected():
    raw = make_mail(body=CHINESE_GBK.encode("utf-8"), content_type="text/plain; charset=uft-8")
    parsed = parse_message(raw)
    assert parsed.text == CHINESE_GBK
    assert any("uft-8" in defect for defect in parsed.defects)


def test_unknown_charset_name_falls_back_to_detection():
    text = "您好，我们公司上周订购的三台打印机到现在还没有发货，请帮忙查一下订单状态，谢谢。"
    raw = make_mail(body=text.encode("gbk"), content_type="text/plain; charset=x-chinese-weird")
    assert parse_message(raw).text == text


def test_undeclared_8bit_chinese_body_is_detected():
    text = "您好，我们公司上周订购的三台打印机到现在还没有发货，请帮忙查一下订单状态，谢谢。"
    raw = make_mail("Subject: no charset", body=text.encode("gbk"), content_type="text/plain")
    parsed = parse_message(raw)
    assert parsed.text == text
    assert parsed.language == "zh"


def test_undeclared_8bit_big5_subject_reads_as_the_detected_body():
    # An old Taiwanese client: raw Big5 in the subject and the body, no charset anywhere. Four
    # characters are too few to guess from (they read as Korean); the body's are enough.
    body = "請問退貨運費誰付？我住在香港，地址是太子道西峯景大廈，上週買的吸塵器想退貨。"
    raw = make_mail(b"Subject: " + "退貨運費".encode("big5"), body=body.encode("big5hkscs"))
    parsed = parse_message(raw)
    assert parsed.text == body
    assert parsed.subject == "退貨運費"


def test_mislabelled_utf8_body_is_read_as_utf8():
    raw = make_mail(body=CHINESE_GBK.encode("utf-8"), content_type="text/plain; charset=gb2312")
    assert parse_message(raw).text == CHINESE_GBK


@pytest.mark.parametrize("text", ["谢谢", "[图片]", "图片", "收到,谢谢"])
def test_short_gbk_text_that_is_also_valid_utf8_reads_as_labelled(text):
    """A few GBK characters can be valid UTF-8 bytes too: Foxmail's "谢谢" read as "лл" and QQ
    Mail's "[图片]" as "[ͼƬ]", so a thank-you or a photo-only mail lost its words."""
    raw = make_mail(body=text.encode("gb18030"), content_type="text/plain; charset=gbk")
    assert parse_message(raw).text == text


@pytest.mark.parametrize("text", ["café au lait, s'il vous plaît", "naïve résumé", "Größe 42"])
def test_mislabelled_utf8_european_text_stays_utf8(text):
    """UTF-8 European text labelled GB2312 would also read as GBK: Latin letters next to Chinese
    characters in one word say it is not."""
    raw = make_mail(body=text.encode("utf-8"), content_type="text/plain; charset=gb2312")
    assert parse_message(raw).text == text


def test_double_encoded_big5_is_repaired():
    # A gateway read Big5 bytes as Latin-1 and re-encoded them as UTF-8.
    garbled = "大家說英語".encode("big5").decode("latin-1").encode("utf-8")
    raw = make_mail(body=garbled, content_type="text/plain; charset=big5")
    parsed = parse_message(raw)
    assert parsed.text == "大家說英語"
    assert any("double-encoded" in defect for defect in parsed.defects)


def test_undecodable_body_still_yields_text():
    raw = make_mail(body=b"\xff\xfe\xfd broken \x81\x82", content_type="text/plain; charset=utf-8")
    parsed = parse_message(raw)
    assert "broken" in parsed.text
    assert parsed.defects


# --------------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------------


def _b_word(text: str, charset: str, codec: str | None = None) -> str:
    data = base64.b64encode(text.encode(codec or charset)).decode("ascii")
    return f"=?{charset}?B?{data}?="


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (_b_word("关于朱镕基订单的问题", "gb2312", "gb18030"), "关于朱镕基订单的问题"),
        (_b_word("退貨申請", "big5", "big5hkscs"), "退貨申請"),
        (_b_word("お問い合わせ", "iso-2022-jp", "iso2022_jp"), "お問い合わせ"),
        ("=?koi8-r?Q?=FA=C1=CB=C1=DA?=", "Заказ"),
        ("=?windows-1251?B?" + base64.b64encode("Счёт".encode("cp1251")).decode() + "?=", "Счёт"),
        ("=?utf-8?q?Caf=C3=A9_order?=", "Café order"),
        ("Re: =?utf-8?B?5Lit?= =?utf-8?B?5paH?= test", "Re: 中文 test"),
    ],
)
def test_rfc2047_subjects_decode(encoded, expected):
    raw = make_mail(f"Subject: {encoded}")
    assert parse_message(raw).subject == expected


def test_encoded_word_split_inside_a_character_is_joined():
    data = "退款申请".encode()
    first = base64.b64encode(data[:4]).decode()
    second = base64.b64encode(data[4:]).decode()
    raw = make_mail(f"Subject: =?utf-8?B?{first}?=\r\n =?utf-8?B?{second}?=")
    assert parse_message(raw).subject == "退款申请"


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (0, "订单 LH20261201-0042 的退款"),  # the closing ?= lost
        (3, "订单 LH20261201-0042 的退"),  # cut inside the last character: it is left out
    ],
)
def test_a_subject_cut_inside_its_encoded_word_is_decoded(cut, expected):
    word = base64.b64encode("订单 LH20261201-0042 的退款".encode()).decode()
    parsed = parse_message(make_mail(f"Subject: Re: =?UTF-8?B?{word[: len(word) - cut]}"))
    assert parsed.subject == f"Re: {expected}"


def test_text_that_only_looks_like_the_start_of_an_encoded_word_is_kept():
    assert decode_header_text("Price =?x? and more") == "Price =?x? and more"


def test_big5_q_word_with_unescaped_underscore_in_a_character():
    # A real spam encoder leaves '_' (0x5F) unescaped as the second byte of a Big5 character.
    word = "=?big5?Q?re:=A7=DA=AA=BE=B9D=A7A=BB=DD=ADn=A7=F3=A6h=BE=F7=B7|,=A4@=B0_=A8=D3=A7a!?="
    assert decode_header_text(word) == "re:我知道你需要更多機會,一起來吧!"


def test_raw_8bit_utf8_subject_and_gbk_display_name():
    name = base64.b64encode("张三".encode("gbk")).decode()
    raw = make_mail(
        b"Subject: x\xe8\xae\xa2\xe5\x8d\x95",
        f'From: "=?GB2312?B?{name}?=" <Zhang.San@Example.COM>',
        "To: Support <Support@Example.com>, sales@example.com",
        "Cc: boss@example.net",
    )
    parsed = parse_message(raw)
    assert parsed.subject == "x订单"
    assert parsed.from_name == "张三"
    assert parsed.from_address == "zhang.san@example.com"
    assert parsed.to == ["support@example.com", "sales@example.com"]
    assert parsed.cc == ["boss@example.net"]


def test_an_international_domain_is_read_in_idna_as_our_own_mail_writes_it():
    # A customer who used the contact form as user@bücher.de (kept as user@xn--bcher-kva.de,
    # the form Chromium sends and our mail's headers carry) and then wrote from their mail
    # program with the domain in UTF-8 became a second customer.
    raw = make_mail(
        "From: Jonas <User@Bücher.de>".encode(),
        "To: service@example.com",
        "Cc: 王芳@例子.公司, li@xn--fsqu00a.xn--55qx5d".encode(),
    )
    parsed = parse_message(raw)
    assert parsed.from_address == "user@xn--bcher-kva.de"
    assert parsed.cc == ["王芳@xn--fsqu00a.xn--55qx5d", "li@xn--fsqu00a.xn--55qx5d"]


def test_sender_without_address_keeps_its_name():
    parsed = parse_message(make_mail("From: MAILER-DAEMON <>"))
    assert parsed.from_address == ""
    assert parsed.from_name == "MAILER-DAEMON"


def test_subject_whitespace_is_normalised():
    raw = make_mail("Subject:   Order\r\n   problem\t\tagain  ")
    assert parse_message(raw).subject == "Order problem again"


def test_threading_headers_are_normalised():
    raw = make_mail(
        "Message-ID:  < abc.123@mail.example.net >",
        "In-Reply-To: <sup-1.x@support.example.com>",
        "References: <root@example.com>\r\n <sup-1.x@support.example.com> <root@example.com>",
        "Reply-To: Other <Other@Example.net>",
    )
    parsed = parse_message(raw)
    assert parsed.message_id == "abc.123@mail.example.net"
    assert parsed.in_reply_to == "sup-1.x@support.example.com"
    assert parsed.references == ["root@example.com", "sup-1.x@support.example.com"]
    assert parsed.reply_to == "other@example.net"
    assert not parsed.message_id_generated


def test_missing_message_id_gets_a_deterministic_one():
    raw = b"From: a@example.net\r\nSubject: hi\r\n\r\nbody"
    first, second = parse_message(raw), parse_message(raw)
    other = parse_message(raw + b"!")
    assert first.message_id == second.message_id
    assert first.message_id != other.message_id
    assert first.message_id.startswith("generated.")
    assert first.message_id.endswith("@support.invalid")
    assert first.message_id_generated


def test_date_is_aware_utc_and_bad_date_is_none():
    parsed = parse_message(make_mail("Date: Mon, 1 Jan 2024 10:00:00 +0800"))
    assert parsed.date == datetime(2024, 1, 1, 2, 0, tzinfo=UTC)
    broken = parse_message(make_mail("Date: yesterday-ish <HR>"))
    assert broken.date is None
    assert any("Date" in defect for defect in broken.defects)


def test_automatic_mail_headers_are_kept_decoded():
    raw = make_mail(
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "List-Id: Users <users.lists.example.org>",
        "X-Auto-Response-Suppress: All",
        "Return-Path: <>",
        "X-Mailer: ignored",
    )
    headers = parse_message(raw).headers
    assert headers["auto-submitted"] == "auto-replied"
    assert headers["precedence"] == "bulk"
    assert headers["list-id"] == "Users <users.lists.example.org>"
    assert headers["return-path"] == "<>"
    assert "x-mailer" not in headers


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def test_html_only_mail_becomes_readable_text():
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>Hello&nbsp;team,</p><p>The <b>printer</b> is broken.<br>Model: X-200</p>"
        "<ul><li>paper jam</li><li>error E5</li></ul>"
        "<script>alert(1)</script><div>Thanks &amp; regards</div></body></html>"
    )
    raw = make_mail(body=html.encode(), content_type="text/html; charset=utf-8")
    parsed = parse_message(raw)
    assert parsed.text.splitlines() == [
        "Hello team,",
        "",
        "The printer is broken.",
        "Model: X-200",
        "",
        "- paper jam",
        "- error E5",
        "",
        "Thanks & regards",
    ]
    assert "alert" not in parsed.text and "color" not in parsed.text


def test_hostile_html_is_sanitized():
    html = (
        '<p onclick="steal()">Hi <b>there</b> <a href="javascript:alert(1)">click</a> '
        '<a href="https://example.com/help">help</a></p>'
        '<img src="x" onerror="alert(2)"><img src="https://tracker.example/pixel.gif" alt="logo">'
        '<img src="cid:logo123" alt="inline"><script>document.cookie</script>'
        "<style>body{background:url(https://evil.example/x)}</style>"
        '<iframe src="https://evil.example"></iframe><form action="/x"><input name="p"></form>'
        '<div style="background:url(https://evil.example/y)">styled</div>'
    )
    raw = make_mail(body=html.encode(), content_type="text/html; charset=utf-8")
    safe = parse_message(raw).html_sanitized
    assert safe is not None
    lowered = safe.lower()
    for forbidden in ("<script", "onerror", "onclick", "javascript:", "<style", "<iframe"):
        assert forbidden not in lowered
    assert "<input" not in lowered and "style=" not in lowered
    assert "tracker.example" not in safe and "evil.example" not in safe
    assert "<b>there</b>" in safe
    assert 'href="https://example.com/help"' in safe
    assert 'src="cid:logo123"' in safe


def test_alternative_keeps_plain_text_and_sanitized_html():
    content_type, body = make_multipart(
        "alternative",
        make_part("text/plain; charset=utf-8", "纯文本版本".encode()),
        make_part("text/html; charset=utf-8", "<p>HTML <i>版本</i></p>".encode()),
    )
    parsed = parse_message(make_mail(body=body, content_type=content_type))
    assert parsed.text == "纯文本版本"
    assert parsed.html_sanitized == "<p>HTML <i>版本</i></p>"


def test_a_stub_plain_version_gives_way_to_the_html_that_holds_the_words():
    """A newsletter-style tool's "view this in an HTML client" plain part is no text to read:
    staff, the classifier and the FAQ offers read the HTML's words instead."""
    paragraph = "<p>We bought our whole kitchen from you last month and love the hob.</p>"
    html = (
        paragraph * 4 + "<p>The extractor hood LX-600 rattles loudly on speed 3. Order"
        " LH-2026-109876. Could someone look at it?</p><p>Olivia</p>"
    )
    content_type, body = make_multipart(
        "alternative",
        make_part(
            "text/plain; charset=utf-8", b"Please view this email in an HTML-capable client."
        ),
        make_part("text/html; charset=utf-8", html.encode()),
    )
    parsed = parse_message(make_mail(body=body, content_type=content_type))
    assert "HTML-capable" not in parsed.text
    assert "rattles loudly on speed 3" in parsed.text
    assert "rattles loudly on speed 3" in parsed.new_text


def test_a_short_plain_version_that_the_html_holds_is_kept():
    """A short real plain version beside HTML padded with a signature stays the text."""
    html = "<p>Thanks, that fixed it!</p>" + "<p>ACME Ltd, 1 Long Road, Springfield</p>" * 8
    content_type, body = make_multipart(
        "alternative",
        make_part("text/plain; charset=utf-8", b"Thanks, that fixed it!"),
        make_part("text/html; charset=utf-8", html.encode()),
    )
    parsed = parse_message(make_mail(body=body, content_type=content_type))
    assert parsed.text == "Thanks, that fixed it!"


def test_html_blockquote_becomes_quoted_history():
    html = (
        "<div>Yes, it still happens.</div><div class='gmail_quote'>"
        "<div>On Mon, Jan 1, 2024 at 10:00 AM Support &lt;support@example.com&gt; wrote:<br></div>"
        "<blockquote>Does the error still happen?</blockquote></div>"
    )
    parsed = parse_message(make_mail(body=html.encode(), content_type="text/html; charset=utf-8"))
    assert parsed.new_text == "Yes, it still happens."
    assert "> Does the error still happen?" in parsed.quoted_text


def test_outlook_word_paragraphs_are_lines_and_an_empty_one_is_a_blank_line():
    html = (
        "<p class=MsoNormal>Hi,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal>See attached photo.<o:p></o:p></p><p class=MsoNormal>John</p>"
        "<p>A paragraph.</p><p>Another.</p>"
    )
    assert html_to_text(html) == "Hi,\n\nSee attached photo.\nJohn\n\nA paragraph.\n\nAnother."


def test_xhtml_and_url_only_html_are_read_as_html():
    xhtml = '<?xml version="1.0" encoding="utf-8"?><html><body><p>Hi</p><p>there</p></body></html>'
    parsed = parse_message(make_mail(body=xhtml.encode(), content_type="text/html"))
    assert parsed.text == "Hi\n\nthere"
    link_only = parse_message(make_mail(body=b"https://example.com/x", content_type="text/html"))
    assert link_only.text == "https://example.com/x"


def test_deeply_nested_html_is_shown_as_escaped_text():
    # Thousands of unclosed tags make sanitizers slow; such HTML is shown as plain text.
    html = "<div>" * 2000 + "<script>alert(1)</script>Order 42 <b>late</b>"
    parsed = parse_message(make_mail(body=html.encode(), content_type="text/html; charset=utf-8"))
    assert parsed.text == "Order 42 late"
    assert parsed.html_sanitized == "<pre>Order 42 late</pre>"
    assert any("nested deeper" in defect for defect in parsed.defects)


# --------------------------------------------------------------------------------------------
# Attachments
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\bob\\Desktop\\invoice.pdf", "invoice.pdf"),
        ("report\x00.pdf", "report.pdf"),
        ("bad\x07na\x1bme.txt", "badname.txt"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ('a<b>:c"|?*.doc', "a_b__c____.doc"),
        ("..", "attachment-3.pdf"),
        ("", "attachment-3.pdf"),
        (None, "attachment-3.pdf"),
        ("CON.txt", "_CON.txt"),
    ],
)
def test_clean_filename(name, expected):
    assert clean_filename(name, "application/pdf", 3) == expected


def test_clean_filename_limits_length_and_keeps_extension():
    cleaned = clean_filename("报价单" * 100 + ".xlsx", "application/octet-stream", 1)
    assert len(cleaned) <= 120
    assert cleaned.endswith(".xlsx")
    assert cleaned.startswith("报价单")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
PDF = b"%PDF-1.4\n" + b"x" * 40


def _attachment_mail(*parts: bytes, max_bytes: int = 10 * 1024 * 1024):
    content_type, body = make_multipart(
        "mixed", make_part("text/plain; charset=utf-8", b"See attached."), *parts
    )
    return parse_message(
        make_mail(body=body, content_type=content_type), max_attachment_bytes=max_bytes
    )


def _b64_part(content_type: str, data: bytes, *extra: str) -> bytes:
    return make_part(
        content_type,
        base64.encodebytes(data),
        "Content-Transfer-Encoding: base64",
        *extra,
    )


def test_attachments_are_listed_with_clean_names_and_sniffed_types():
    parsed = _attachment_mail(
        _b64_part(
            "application/pdf", PDF, 'Content-Disposition: attachment; filename="../../x.pdf"'
        ),
        _b64_part(
            "application/octet-stream",
            PDF,
            "Content-Disposition: attachment; filename*=UTF-8''%E6%8A%A5%E4%BB%B7.pdf",
        ),
        _b64_part(
            "application/pdf",
            PDF,
            f'Content-Disposition: attachment; filename="{_b_word("合同", "gb2312")}.pdf"',
        ),
        _b64_part("image/png", PNG, "Content-ID: <logo@example>", "Content-Disposition: inline"),
    )
    assert parsed.text == "See attached."
    names = [attachment.filename for attachment in parsed.attachments]
    assert names == ["x.pdf", "报价.pdf", "合同.pdf", "image-4.png"]
    first, second, _third, image = parsed.attachments
    assert first.data == PDF and first.size == len(PDF) and first.skipped_reason is None
    assert second.content_type == "application/octet-stream"
    assert second.sniffed_type == "application/pdf" and not second.type_mismatch
    assert image.is_inline and image.content_id == "logo@example"


@pytest.mark.parametrize(
    ("name", "charset", "body_charset"),
    [
        ("发票-嘉和商贸.pdf", "gbk", "utf-8"),
        ("合同 (1).pdf", "utf-8", "gb2312"),
        ("報價單（含稅）.pdf", "big5", "big5"),
    ],
)
def test_raw_8bit_file_names_are_read_in_their_charset(name, charset, body_charset):
    # Foxmail and many Chinese systems write the name as raw bytes, not RFC 2231 or 2047:
    # read as UTF-8 if it is, else in the body's charset, else as its bytes suggest.
    raw_name = name.encode(charset)
    part = (
        b'Content-Type: application/pdf; name="' + raw_name + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="'
        + raw_name
        + b'"\r\n\r\n'
        + base64.encodebytes(PDF)
    )
    text = "附件是文件。".encode(body_charset)
    content_type, body = make_multipart(
        "mixed", make_part(f"text/plain; charset={body_charset}", text), part
    )
    parsed = parse_message(make_mail(body=body, content_type=content_type))
    (attachment,) = parsed.attachments
    assert attachment.filename == name
    assert attachment.data == PDF


def test_outlooks_cid_placeholders_are_not_text():
    parsed = parse_message((REALMAIL / "outlook-inline-image-signature.eml").read_bytes())
    assert "leaking from the bottom, see the photo below." in parsed.text
    assert "cid:" not in parsed.text and "Greenleaf Café" in parsed.text
    assert [a.filename for a in parsed.attachments] == ["image001.png", "image002.jpg"]
    assert all(a.is_inline and a.content_id for a in parsed.attachments)


def test_declared_type_that_contradicts_the_bytes_is_flagged():
    parsed = _attachment_mail(
        _b64_part(
            "image/jpeg",
            b"MZ\x90\x00" + b"\x00" * 60,
            'Content-Disposition: attachment; filename="cute.jpg"',
        )
    )
    (attachment,) = parsed.attachments
    assert attachment.content_type == "image/jpeg"
    assert attachment.sniffed_type == "application/x-msdownload"
    assert attachment.type_mismatch
    assert any("cute.jpg" in defect for defect in parsed.defects)


def test_oversize_attachment_is_listed_but_not_kept():
    big = b"%PDF-1.4\n" + bytes(range(256)) * 20
    parsed = _attachment_mail(
        _b64_part("application/pdf", big, 'Content-Disposition: attachment; filename="big.pdf"'),
        _b64_part("application/pdf", PDF, 'Content-Disposition: attachment; filename="ok.pdf"'),
        max_bytes=1000,
    )
    big_part, small_part = parsed.attachments
    assert big_part.data is None
    assert big_part.size == len(big)
    assert "1000" in big_part.skipped_reason and "limit" in big_part.skipped_reason
    assert small_part.data == PDF and small_part.skipped_reason is None


def test_tnef_and_embedded_message_are_kept_as_attachments():
    tnef = b"\x78\x9f\x3e\x22" + b"\x01\x06\x90\x08\x00" * 30
    inner = make_mail("Subject: Original question", body=b"What is the price?")
    parsed = _attachment_mail(
        _b64_part(
            "application/ms-tnef", tnef, 'Content-Disposition: attachment; filename="winmail.dat"'
        ),
        make_part("message/rfc822", inner, "Content-Disposition: attachment"),
    )
    tnef_part, message_part = parsed.attachments
    assert tnef_part.filename == "winmail.dat" and tnef_part.data == tnef
    assert message_part.filename == "Original question.eml"
    assert b"What is the price?" in message_part.data
    assert parsed.text == "See attached."


def test_broken_content_disposition_falls_back_to_raw_reading():
    # policy.default raises IndexError on this header; the part must still come through.
    parsed = _attachment_mail(
        _b64_part("application/pdf", PDF, 'Content-Disposition: attachment; filename*="utf-8\'"'),
    )
    (attachment,) = parsed.attachments
    assert attachment.data == PDF
    assert attachment.filename
    assert any("policy.default" in defect for defect in parsed.defects)


# --------------------------------------------------------------------------------------------
# Garbage never stops parsing
# --------------------------------------------------------------------------------------------


def test_random_bytes_yield_a_result():
    noise = random.Random(7).randbytes(20000)
    parsed = parse_message(noise)
    assert parsed.text.strip()
    assert parsed.message_id.endswith("@support.invalid")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n\r\n",
        b"Subject: only headers",
        b"From: <>\r\nTo: ,,,;;\r\nCc: undisclosed-recipients:;\r\nDate: 99 Foo 99999\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\nno parts at all",
        b"Content-Type: multipart/mixed\r\n\r\n--\r\n\r\n--",
        b"Content-Type: text/plain; charset=\x80\xff\r\nSubject: \xff\xfe=?bad?Q?=ZZ?=\r\n\r\n\xff",
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        b"Content-Type: message/rfc822\r\n\r\nnot a message",
        b"From \r\nFrom: a\x00b@example.com\r\n\r\nNUL\x00in body",
    ],
)
def test_broken_messages_yield_readable_text(raw):
    parsed = parse_message(raw)
    assert parsed.text.strip()
    assert "\x00" not in parsed.text and "\x00" not in parsed.from_address
    parsed.text.encode("utf-8")  # no lone surrogates: storable and showable


def test_empty_body_shows_the_no_text_marker():
    parsed = parse_message(make_mail("Subject: nothing", body=b""))
    assert parsed.text == NO_TEXT_MARKER


def test_deeply_nested_multipart_does_not_crash():
    body = b""
    depth = 300
    for level in range(depth):
        body += f"Content-Type: multipart/mixed; boundary=b{level}\r\n\r\n--b{level}\r\n".encode()
    body += b"Content-Type: text/plain\r\n\r\ndeep text\r\n"
    raw = b"From: a@example.com\r\n" + body
    parsed = parse_message(raw)
    assert parsed.text == NO_TEXT_MARKER  # the text is below the depth we read
    assert any("MIME nesting deeper" in defect for defect in parsed.defects)


# --------------------------------------------------------------------------------------------
# Quoted history and signatures
# --------------------------------------------------------------------------------------------


def test_gmail_english_reply():
    text = (
        "Thanks, the new driver fixed it.\n\n"
        "On Mon, Jan 1, 2024 at 10:00 AM Support Team <support@example.com>\n"
        "wrote:\n\n"
        "> Please install driver 2.1.\n> Regards\n"
    )
    new, quoted, _signature = split_quote(text)
    assert new == "Thanks, the new driver fixed it."
    assert quoted.startswith("On Mon, Jan 1, 2024")
    assert "> Please install driver 2.1." in quoted


def test_outlook_english_reply_with_signature():
    text = (
        "Hi,\nThe invoice is attached.\n\n--\nJohn Smith\nACME Ltd.\n\n"
        "________________________________\n"
        "From: Support <support@example.com>\n"
        "Sent: Monday, January 1, 2024 10:00 AM\n"
        "To: John Smith <john@acme.example>\n"
        "Subject: RE: Invoice\n\nPlease send the invoice.\n"
    )
    new, quoted, signature = split_quote(text)
    assert new == "Hi,\nThe invoice is attached."
    assert signature == "John Smith\nACME Ltd."
    assert quoted.startswith("____") and "Please send the invoice." in quoted


def test_original_message_separator():
    text = "Still broken.\n\n-----Original Message-----\nFrom: a@b.c\nSubject: x\n\nold text"
    new, quoted, _ = split_quote(text)
    assert new == "Still broken."
    assert quoted.startswith("-----Original Message-----")


def test_qq_mail_reply():
    text = (
        "好的，我明天再试一下。\n\n"
        "------------------ 原始邮件 ------------------\n"
        '发件人: "客服"<support@example.com>;\n'
        "发送时间: 2024年1月1日(星期一) 上午10:00\n"
        '收件人: "张三"<zhangsan@qq.com>;\n'
        "主题: 回复：打印机故障\n\n请重启打印机。\n"
    )
    new, quoted, _ = split_quote(text)
    assert new == "好的，我明天再试一下。"
    assert "请重启打印机。" in quoted


@pytest.mark.parametrize("words", ["原始邮件", "Original"])
def test_qq_mail_plain_text_with_its_html_spaces_left_as_entities(words):
    """QQ Mail's plain part writes its separator's spaces as "&nbsp;": the line stayed in the
    customer's new words, above the folded history, on the ticket and in what the model read."""
    text = (
        "快递单号是SF1234567890，麻烦帮我催一下，谢谢！\n\n\n"
        f"------------------&nbsp;{words}&nbsp;------------------\n"
        '发件人:&nbsp;"客户服务部"<service@example.com&gt;;\n'
        "发送时间:&nbsp;2026年12月7日(星期一) 上午6:06\n"
        "主题:&nbsp;[#SUP-00011] 已收到：包裹到哪里了？\n\n王小明，您好！\n"
    )
    new, quoted, _ = split_quote(text)
    assert new == "快递单号是SF1234567890，麻烦帮我催一下，谢谢！"
    assert quoted.startswith("------------------&nbsp;")


def test_foxmail_chinese_reply_with_mobile_signature():
    text = (
        "附件是发票。\n\n发自我的iPhone\n\n"
        "发件人： 客服中心\n发送时间： 2024-01-01 10:00\n收件人： 张三\n主题： 发票\n\n请提供发票。"
    )
    new, quoted, signature = split_quote(text)
    assert new == "附件是发票。"
    assert signature == "发自我的iPhone"
    assert quoted.startswith("发件人： 客服中心")


def test_163_mail_reply():
    text = (
        "问题已经解决了，谢谢！\n\n"
        '在 2024-01-01 10:00:00，"客服" <support@example.com> 写道：\n'
        ">请更新固件。\n"
    )
    new, quoted, _ = split_quote(text)
    assert new == "问题已经解决了，谢谢！"
    assert quoted.startswith("在 2024-01-01")


def test_gmail_chinese_reply_without_quote_markers():
    text = "收到。\n\n张三 <zhangsan@gmail.com> 于2024年1月1日周一 10:00写道：\n\n以前的内容\n"
    new, quoted, _ = split_quote(text)
    assert new == "收到。"
    assert "以前的内容" in quoted


def test_traditional_chinese_outlook_reply():
    text = (
        "已付款。\n\n寄件者: 客服 <support@example.com>\n寄件日期: 2024年1月1日\n"
        "收件者: 陳小姐\n主旨: 付款"
    )
    new, quoted, _ = split_quote(text)
    assert new == "已付款。"
    assert quoted.startswith("寄件者")


@pytest.mark.parametrize(
    "separator",
    [
        "---- 回复的原邮件 ----",  # NetEase Mail Master, Chinese UI
        "---- Replied Message ----",  # NetEase Mail Master, English UI
        "-------- 转发邮件信息 --------",  # 163/126 webmail forward
        "-------- Forwarding messages --------",
        "---------- Forwarded message ---------",  # Gmail forward
        "-------- Forwarded Message --------",  # Thunderbird forward
    ],
)
def test_mail_master_and_forward_separators_open_the_history(separator):
    text = f"已经修好了。\n\n{separator}\n| 发件人 | 客服<support@example.com> |\n旧的内容\n"
    new, quoted, _ = split_quote(text)
    assert new == "已经修好了。"
    assert quoted.startswith(separator) and "旧的内容" in quoted


def test_163_forward_header_block_with_send_date_is_history():
    text = (
        '请帮忙登记保修。\n\n发件人："天猫" <service@tmall.example.com>\n'
        "发送日期：2026-11-28 15:20:11\n收件人：zhangwei@163.com\n主题：订单已发货\n\n已发货。"
    )
    new, quoted, _ = split_quote(text)
    assert new == "请帮忙登记保修。"
    assert quoted.startswith("发件人：") and "已发货。" in quoted


def test_aliyun_mail_reply_with_a_dash_rule_and_spaced_field_names():
    text = (
        "好的，明天上午可以。\n\n"
        "------------------------------------------------------------------\n"
        "发件人：客服 <support@example.com>\n发件时间：2026年12月5日(星期六) 10:15\n"
        "收件人：张伟 <zhangwei@company.cn>\n主\u3000题：Re: 热水器\n\n请问您哪天在家？"
    )
    new, quoted, _ = split_quote(text)
    assert new == "好的，明天上午可以。"
    assert quoted.startswith("-----") and "请问您哪天在家？" in quoted


@pytest.mark.parametrize("intro", ["Begin forwarded message:", "以下是转发的邮件："])
def test_apple_mail_forward_introduction_opens_the_history(intro):
    text = f"安装费不是免费的吗？\n\n{intro}\n\n发件人: 安装 <i@example.com>\n主题: 收据\n\n200 元"
    new, quoted, _ = split_quote(text)
    assert new == "安装费不是免费的吗？"
    assert quoted.startswith(intro)


def test_a_forward_introduction_without_header_fields_is_the_customers_text():
    text = "Please read on.\n\nBegin forwarded message:\n\nthe heater is broken"
    new, _quoted, _ = split_quote(text)
    assert new == text


@pytest.mark.parametrize(
    "signature", ["获取 Outlook for iOS", "发送自 Windows 版邮件", "签名由 网易邮箱大师 定制"]
)
def test_chinese_mobile_client_signatures(signature):
    new, _quoted, found = split_quote(f"明天上午可以。\n\n{signature}")
    assert new == "明天上午可以。"
    assert found == signature


def test_the_senders_own_address_alone_on_the_last_line_is_a_signature():
    text = "收到，谢谢！\n\n\nzhangwei@foxmail.com"
    new, _quoted, signature = split_quote(text, sender_address="ZhangWei@Foxmail.com")
    assert (new, signature) == ("收到，谢谢！", "zhangwei@foxmail.com")
    # Someone else's address is what the customer wrote; so is an address that is all there is.
    assert split_quote(text, sender_address="li@example.com")[0] == text
    assert split_quote("zhangwei@foxmail.com", sender_address="zhangwei@foxmail.com")[0] == (
        "zhangwei@foxmail.com"
    )


def test_mail_master_name_card_is_a_signature():
    text = "点火针坏了，要等配件。\n\n| |\n张伟\n|\n|\nzhangwei@126.com\n|"
    new, _quoted, signature = split_quote(text)
    assert new == "点火针坏了，要等配件。"
    assert signature.startswith("| |") and "zhangwei@126.com" in signature


@pytest.mark.parametrize(
    "footer",
    [
        "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential. If you are "
        "not the intended recipient, please delete it.",
        "This email and any files transmitted with it are confidential and intended solely "
        "for the use of the addressee.",
        "本邮件及其附件含有保密信息，仅限于发送给上面地址中列出的个人或群组。",
    ],
)
def test_a_legal_footer_after_the_customers_text_is_a_signature(footer):
    text = f"The heater clicks but does not ignite.\n\nJohn\n\n{footer}"
    new, _quoted, signature = split_quote(text)
    assert new == "The heater clicks but does not ignite.\n\nJohn"
    assert signature == footer


@pytest.mark.parametrize(
    "text",
    [
        "This message is confidential: please do not share my address.",
        "The heater is broken.\n\nThis message is confidential: please do not share my address.",
    ],
)
def test_a_customers_own_confidentiality_remark_stays(text):
    assert split_quote(text)[0] == text


def test_bottom_posted_reply_keeps_the_new_text_after_the_quote():
    text = "Bob wrote:\n> Is the order shipped?\n\nYes, it left today.\n\nSent from my iPhone"
    new, quoted, signature = split_quote(text)
    assert new == "Yes, it left today."
    assert quoted == "Bob wrote:\n> Is the order shipped?"
    assert signature == "Sent from my iPhone"


def test_fully_quoted_mail_falls_back_to_full_text():
    text = "> only a quote\n> nothing new"
    new, quoted, _ = split_quote(text)
    assert new == text
    assert quoted == text


_QUOTED_AUTO_REPLY = (
    "\n\n发自我的iPhone\n\n> 在 2026年12月5日，10:15，客服 <support@example.com> 写道：\n"
    "> \n> 如闻到燃气味，请立即开窗通风并离开。\n"
)


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("回复：已收到：热水器点不着火", ()),
        ("Re: We received your message", ()),
        ("[EXTERNAL] RE: We received your message", ()),
        ("热水器", ("In-Reply-To: <ours@example.com>",)),
    ],
)
def test_a_reply_that_adds_nothing_to_its_quote_has_no_new_text(subject, headers):
    raw = make_mail(f"Subject: {subject}".encode(), *headers, body=_QUOTED_AUTO_REPLY.encode())
    parsed = parse_message(raw)
    assert parsed.new_text == NO_TEXT_MARKER
    assert "燃气味" in parsed.quoted_text


_HISTORY_ON_TOP = (
    "-----Original Message-----\r\nFrom: Support <support@example.com>\r\n"
    "Sent: Saturday, December 5, 2026 10:15 AM\r\nTo: Li <li@example.net>\r\n"
    "Subject: Kettle\r\n\r\nIf you smell gas, leave.\r\n\r\nMy answer: it is electric.\r\n"
)


def test_a_reply_under_unmarked_history_on_top_keeps_its_whole_text():
    """Bottom-posted under a separator: the answer may follow the history, so keep it all."""
    raw = make_mail("Subject: Re: Kettle", body=_HISTORY_ON_TOP.encode())
    assert "My answer: it is electric." in parse_message(raw).new_text


def test_a_reply_with_only_a_file_under_history_on_top_has_no_new_text():
    """QQ Mail's photo-only reply: nothing above its '原始邮件' block but a file."""
    boundary = "b1"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{_HISTORY_ON_TOP}"
        f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; "
        f'filename="a.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n'
        f"--{boundary}--\r\n"
    )
    raw = make_mail(
        "Subject: Re: Kettle",
        "MIME-Version: 1.0",
        body=body.encode(),
        content_type=f'multipart/mixed; boundary="{boundary}"',
    )
    parsed = parse_message(raw)
    assert parsed.new_text == NO_TEXT_MARKER and [a.filename for a in parsed.attachments] == [
        "a.jpg"
    ]


@pytest.mark.parametrize("subject", ["Fwd: 安装费收据", "转发：安装费收据", "安装费收据"])
def test_a_forward_or_new_mail_that_is_all_quote_keeps_its_whole_text(subject):
    parsed = parse_message(
        make_mail(f"Subject: {subject}".encode(), body=_QUOTED_AUTO_REPLY.encode())
    )
    assert "燃气味" in parsed.new_text


def test_parse_message_splits_quote_and_detects_language():
    body = (
        "我的订单还没到。\n\n在 2024年1月1日，上午10:00，Support <s@example.com> 写道：\n"
        "> Your order shipped."
    )
    raw = make_mail(
        "Subject: Re: Order",
        body=body.encode("gbk"),
        content_type="text/plain; charset=gb2312",
    )
    parsed = parse_message(raw)
    assert parsed.new_text == "我的订单还没到。"
    assert "Your order shipped." in parsed.quoted_text
    assert parsed.language == "zh"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("打印机无法开机", "zh"),
        ("我的ThinkPad X1 Carbon无法开机，怎么办？", "zh"),
        ("The printer does not start.", "en"),
        ("Dear Mr. 王, the printer in our Shanghai office does not start after the update.", "en"),
        ("", "en"),
    ],
)
def test_language_from_share_of_cjk(text, language):
    assert detect_language(text) == language


def test_a_from_encoded_whole_with_its_address_inside_is_read():
    # Python's legacy email API (and scripts built on it, such as shop plugins) writes
    # msg["From"] = "张伟 <zhangwei@163.com>" as ONE encoded-word, address included. The
    # encoded-word itself became the customer's "address", so no reply could reach them.
    from email.header import Header

    for written in ("张伟 <zhangwei@163.com>", "zhangwei@163.com"):
        encoded = Header(written, "utf-8").encode()
        parsed = parse_message(make_mail(f"From: {encoded}"))
        assert parsed.from_address == "zhangwei@163.com"
        assert parsed.from_name == ("张伟" if "<" in written else "")
