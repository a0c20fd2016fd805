"""Apple Mail's Chinese forwards, sent through the real SMTP intake.

Apple Mail (macOS and iOS) in Simplified Chinese opens a forward with "开始转发的邮件：", in
Traditional Chinese with "開始轉寄的郵件：", then the forwarded mail's header block ("发件人:",
"主题:", "日期:", "收件人:"). The line is a forward's start like "Begin forwarded message:":
it is no word of the customer's own, and the forwarded mail is what routing and the FAQ
offers read, whatever the subject (a customer may write over Apple's "转发：").
"""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import select

from support.desk.models import Message
from tests.mailrouter.conftest import make_mail, send_over_smtp

SIMPLIFIED = (
    "麻烦看一下\n\n开始转发的邮件：\n\n"
    "发件人: 张伟 <zhangwei@family.example>\n主题: 空气净化器坏了\n"
    "日期: 2026年12月5日 GMT+8 下午3:12:45\n收件人: 李娜 <lina@customer.example>\n\n"
    "我家的空气净化器开机后滤芯报警灯一直亮，换了新滤芯还是亮，怎么办？\n\n张伟\n"
)
TRADITIONAL = (
    "請幫忙處理\n\n開始轉寄的郵件：\n\n"
    "寄件者: 吳太太 <wu.meiling@family.example>\n主旨: 除濕機不會排水\n"
    "日期: 2026年12月5日 GMT+8 下午4:40:55\n收件者: 吳建宏 <lina@customer.example>\n\n"
    "除濕機水箱滿了也不會停，排水管接上後還是不排水，請問怎麼辦？\n\n從我的 iPhone 傳送\n"
)


@pytest.mark.parametrize(
    ("subject", "body", "comment", "forwarded"),
    [
        ("转发：空气净化器坏了", SIMPLIFIED, "麻烦看一下", "滤芯报警灯一直亮"),
        ("空气净化器的问题", SIMPLIFIED, "麻烦看一下", "滤芯报警灯一直亮"),
        ("轉寄：除濕機不會排水", TRADITIONAL, "請幫忙處理", "排水管接上後還是不排水"),
        ("除濕機", TRADITIONAL, "請幫忙處理", "排水管接上後還是不排水"),
    ],
    ids=["simplified-fwd-subject", "simplified-own-subject", "traditional", "traditional-own"],
)
def test_apple_mail_chinese_forward_start_is_read_as_a_forward(
    app, session, intake, subject: str, body: str, comment: str, forwarded: str
) -> None:
    sender = "李娜 <lina@customer.example>"
    raw = make_mail(sender=sender, to="service@example.com", subject=subject, body=body)
    send_over_smtp(app, session, intake, "lina@customer.example", raw)
    stored = session.scalar(select(Message).where(Message.direction == "in"))
    assert stored is not None
    # The customer's own words are the comment, not Apple's forward line nor the forwarded mail.
    assert stored.new_text.strip() == comment
    assert forwarded in stored.forwarded_text


def _html_only(intro: str, fields: tuple[str, str, str, str], words: str) -> str:
    """Apple Mail's HTML of a forward: the forwarded mail inside <blockquote type="cite">."""
    rows = "".join(
        f'<div style="margin:0"><span><b>{name}: </b></span><span>{value}</span></div>'
        for name, value in zip(fields, ("Bo &lt;bo@family.example&gt;", "Heater", "5 Dec 2026",
                                        "Ann &lt;ann@customer.example&gt;"), strict=True)
    )  # fmt: skip
    return (
        '<html><body dir="auto"><div>Please have a look</div><div><br>'
        f'<blockquote type="cite"><div>{intro}</div><br class="Apple-interchange-newline">'
        f"{rows}<br><div><div>{words}</div></div></blockquote></div></body></html>"
    )


@pytest.mark.parametrize(
    ("intro", "fields", "words"),
    [
        ("Begin forwarded message:", ("From", "Subject", "Date", "To"), "The heater leaks water."),
        ("开始转发的邮件：", ("发件人", "主题", "日期", "收件人"), "热水器一直漏水，怎么办？"),
    ],
    ids=["english", "simplified"],
)
def test_an_html_only_apple_mail_forward_in_a_blockquote_is_read(
    app, session, intake, intro: str, fields: tuple[str, str, str, str], words: str
) -> None:
    """The whole forward inside a cite blockquote reads as '>' lines: its start was not found
    under the '>', and the ticket was routed by "Please have a look" alone."""
    message = EmailMessage()
    message["From"] = "Ann <ann@customer.example>"
    message["To"] = "service@example.com"
    message["Subject"] = "Fwd: Heater"
    message.set_content(_html_only(intro, fields, words), subtype="html")
    send_over_smtp(app, session, intake, "ann@customer.example", message.as_bytes())
    stored = session.scalar(select(Message).where(Message.direction == "in"))
    assert stored is not None
    assert stored.new_text.strip() == "Please have a look"
    assert stored.forwarded_text == f"Heater\n\n{words}"
