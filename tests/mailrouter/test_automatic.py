"""Automatic-mail recognition: we must never auto-reply to a machine, and bounces find tickets."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from mailrouter.automatic import auto_reply_suppressed, automatic_reason, bounce_info
from mailrouter.parsing import parse_message

OWN = ["support@example.com", "sales@example.com"]
CRLF = b"\r\n"
REALMAIL = Path(__file__).resolve().parent / "fixtures" / "realmail"


def make_mail(*headers: str, body: str = "Hello, my printer is broken.") -> bytes:
    lines = list(headers)
    names = {line.split(":", 1)[0].lower() for line in lines}
    if "from" not in names:
        lines.insert(0, "From: Li Lei <lilei@customer.example>")
    if "subject" not in names:
        lines.append("Subject: Printer problem")
    lines += ["To: support@example.com", "Message-ID: <m1@customer.example>"]
    if "content-type" not in names:
        lines.append("Content-Type: text/plain; charset=utf-8")
    return "\r\n".join(lines).encode() + CRLF + CRLF + body.encode()


def reason_for(*headers: str, body: str = "Hello, my printer is broken.") -> str | None:
    return automatic_reason(parse_message(make_mail(*headers, body=body)), OWN)


def test_a_persons_mail_is_not_automatic():
    assert reason_for() is None


def test_a_chinese_customers_mail_is_not_automatic():
    assert (
        reason_for(
            "From: =?utf-8?B?5byg5LiJ?= <zhangsan@qq.com>",
            "Subject: =?utf-8?B?5omT5Y2w5py65peg5rOV5byA5py6?=",
            body="您好，打印机无法开机，请帮忙。",
        )
        is None
    )


def test_a_customer_complaining_about_delivery_failures_is_not_automatic():
    # The subject reads like a bounce, but a person wrote it: we must answer them.
    assert (
        reason_for(
            "Subject: Mail delivery failed when I write to your sales address",
            body="Every time I write to sales I get an error. Can you check?",
        )
        is None
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Out of office hours support?",
        "=?utf-8?B?6Ieq5Yqo5Zue5aSN5Yqf6IO95Z2P5LqG?=",  # 自动回复功能坏了 (auto-reply is broken)
        "Re: Automatic replies from your system",
    ],
)
def test_subjects_that_merely_mention_autoreplies_are_a_persons(subject):
    assert reason_for(f"Subject: {subject}") is None


def test_auto_submitted_no_is_a_person():
    assert reason_for("Auto-Submitted: no") is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Auto-Submitted: auto-replied", "Auto-Submitted"),
        ("Auto-Submitted: auto-generated (failure)", "Auto-Submitted"),
        ("Precedence: bulk", "Precedence: bulk"),
        ("Precedence: junk", "Precedence: junk"),
        ("Precedence: list", "Precedence: list"),
        ("Precedence: auto_reply", "Precedence: auto_reply"),
        ("List-Id: Users <users.lists.example.org>", "List-Id"),
        ("List-Unsubscribe: <mailto:leave@lists.example.org>", "List-Unsubscribe"),
        ("X-Autoreply: yes", "X-Autoreply"),
        ("X-Autorespond: Out of office", "X-Autorespond"),
        ("X-Loop: helpdesk@customer.example", "X-Loop"),
        ("Return-Path: <>", "empty Return-Path"),
    ],
)
def test_automatic_headers_are_recognised(header, expected):
    reason = reason_for(header)
    assert reason is not None
    assert expected in reason


@pytest.mark.parametrize(
    "value", ["All", "OOF, AutoReply", "DR, OOF, AutoReply", "DR, RN, NRN, OOF, AutoReply"]
)
def test_x_auto_response_suppress_alone_is_a_persons_mail(value):
    # Exchange writes it on people's mail (distribution groups, some clients): it asks our
    # robots not to answer, it does not say a robot wrote the mail.
    assert reason_for(f"X-Auto-Response-Suppress: {value}") is None


@pytest.mark.parametrize(
    ("value", "suppressed"),
    [
        ("All", True),
        ("OOF, AutoReply", True),
        ("DR, OOF, AutoReply", True),
        ("autoreply", True),
        ("OOF", True),
        # Reports only: delivery, non-delivery, read and not-read receipts are not our
        # acknowledgement, which the sender still wants.
        ("DR", False),
        ("DR, NDR, RN, NRN", False),
        ("None", False),
        ("AutoReplyX, Allow", False),
        ("", False),
    ],
)
def test_x_auto_response_suppress_refuses_only_automatic_replies(value, suppressed):
    parsed = parse_message(make_mail(f"X-Auto-Response-Suppress: {value}"))
    assert (auto_reply_suppressed(parsed) is not None) is suppressed


def test_an_exchange_out_of_office_is_known_by_its_inbox_rule():
    # Exchange's out-of-office has no Auto-Submitted; its subject may be in any language.
    reason = reason_for(
        "Subject: Automatische Antwort: Printer problem",
        "X-Auto-Response-Suppress: All",
        "X-MS-Exchange-Inbox-Rules-Loop: lilei@customer.example",
    )
    assert reason is not None and "Exchange inbox-rule reply" in reason


def test_a_customers_mail_redirected_by_an_exchange_rule_is_a_persons():
    # A company's old mailbox passes its customers' mail on by rule: the rule names the
    # mailbox, the sender is still the customer.
    assert reason_for("X-MS-Exchange-Inbox-Rules-Loop: info@our-old-domain.example") is None


def test_normal_precedence_and_return_path_are_not_automatic():
    assert reason_for("Precedence: normal", "Return-Path: <lilei@customer.example>") is None


@pytest.mark.parametrize(
    "sender",
    [
        "MAILER-DAEMON@mx.example.net",
        "Mail Delivery System <MAILER-DAEMON@mx.example.net>",
        "postmaster@example.net",
        "no-reply@shop.example",
        "noreply@shop.example",
        "do-not-reply@bank.example",
        "DoNotReply@bank.example",
        "System Administrator <admin@example.net>",
    ],
)
def test_system_senders_are_automatic(sender):
    assert reason_for(f"From: {sender}") is not None


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Printer problem",
        "Automatic reply: Printer problem",
        "Auto-Reply: Printer problem",
        "=?utf-8?B?6Ieq5Yqo5Zue5aSNOiDmiZPljbDmnLrpl67popg=?=",  # 自动回复: 打印机问题
        "=?utf-8?B?6Ieq5YuV5Zue6KaG77ya?=",  # 自動回覆：
        "Kijitora Cat is out of the office.",
    ],
)
def test_out_of_office_replies_are_automatic(subject):
    reason = reason_for(f"Subject: {subject}")
    assert reason is not None and "automatic reply" in reason


@pytest.mark.parametrize(
    "subject",
    [
        "【自动回复】关于空气炸锅批量采购报价",
        "[自动回复] 订单问题",
        "（自動回覆）保固問題",
        "Automatische Antwort: Printer problem",
        "自动答复: 热水器维修预约",
    ],
)
def test_bracketed_and_more_autoreply_prefixes_are_automatic(subject):
    reason = reason_for(f"Subject: =?utf-8?B?{base64.b64encode(subject.encode()).decode()}?=")
    assert reason is not None and "automatic reply" in reason


@pytest.mark.parametrize(
    "subject", ["[自动回复功能] 怎么关闭", "【售后】自动回复邮件收不到", "Read: manual page 5"]
)
def test_subjects_about_autoreplies_and_reading_are_a_persons(subject):
    encoded = f"=?utf-8?B?{base64.b64encode(subject.encode()).decode()}?="
    assert reason_for(f"Subject: {encoded}", body="我看了说明书，还是不会设置，请帮忙。") is None


@pytest.mark.parametrize(
    "name", ["qq-vacation-reply.eml", "qq-vacation-reply-prefixed.eml", "outlook-ooo-zh.eml"]
)
def test_chinese_out_of_office_replies_are_automatic(name):
    # QQ Mail's vacation reply: HTML only, no Auto-Submitted, the subject of the mail answered.
    reason = automatic_reason(parse_message((REALMAIL / name).read_bytes()), OWN)
    assert reason is not None and "out-of-office" in reason


def test_a_customer_quoting_a_qq_vacation_reply_is_a_person():
    body = "你们的客服发来这个：\n这是来自QQ邮箱的假期自动回复邮件。\n请问到底谁来处理？"
    assert reason_for(body=body) is None


def test_a_webmail_read_receipt_without_a_report_part_is_automatic():
    reason = automatic_reason(
        parse_message((REALMAIL / "webmail-read-receipt-zh.eml").read_bytes()), OWN
    )
    assert reason is not None and "read receipt" in reason


@pytest.mark.parametrize(
    ("sender", "subject", "body"),
    [
        (
            "Mail Delivery System <MAILER-DAEMON@mx.example.net>",
            "Undelivered Mail Returned to Sender",
            "This is the mail system at host mx.example.net.",
        ),
        (
            "postmaster@example.net",
            "Delivery Status Notification (Failure)",
            "Delivery to the following recipient failed permanently.",
        ),
        (
            "Mailer <mailer@mx.example.net>",
            "Mail delivery failed: returning message to sender",
            "A message that you sent could not be delivered to one or more of its recipients.",
        ),
        (
            "Mailer <mailer@mx.example.net>",
            "Returned mail: see transcript for details",
            "550 5.1.1 <nobody@example.org>... User unknown",
        ),
        (
            "=?utf-8?B?57O757uf6YCA5L+h?= <mailer@mx.example.cn>",  # 系统退信
            "=?utf-8?B?6YCA5L+hOiDpgq7ku7bmnKrpgIHovr4=?=",  # 退信: 邮件未送达
            "您发送的邮件无法投递。",
        ),
        (
            "Mailer <mailer@mx.example.net>",
            "failure notice",
            "I'm afraid I wasn't able to deliver your message to the following addresses.",
        ),
    ],
)
def test_non_standard_bounces_are_automatic(sender, subject, body):
    reason = reason_for(f"From: {sender}", f"Subject: {subject}", body=body)
    assert reason is not None
    assert "bounce" in reason or "mail system" in reason


def test_mail_from_our_own_address_is_automatic():
    reason = reason_for("From: Support <Support@Example.com>")
    assert reason is not None and "own address" in reason


# --------------------------------------------------------------------------------------------
# Delivery-status reports and bounce_info
# --------------------------------------------------------------------------------------------

DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>
To: support@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.customer.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BND"

--BND
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--BND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Original-Recipient: rfc822;Wang.Wu@Customer.example
Final-Recipient: rfc822; wangwu@mailhost.customer.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <wangwu@customer.example>: Recipient address
    rejected: User unknown

Final-Recipient: rfc822; <later@customer.example>
Action: delayed
Status: 4.4.7

--BND
Content-Type: {original_type}

Message-ID: <SUP-000123.abcdefgh.sig@support.example.com>
From: support@example.com
To: wangwu@customer.example
Subject: Re: [#SUP-000123] Printer problem

Hello
--BND--
"""


@pytest.mark.parametrize("original_type", ["message/rfc822", "text/rfc822-headers"])
def test_delivery_status_report_is_automatic_and_read(original_type):
    raw = DSN.format(original_type=original_type).replace("\n", "\r\n").encode()
    parsed = parse_message(raw)
    assert "delivery-status" in automatic_reason(parsed, OWN)
    info = bounce_info(parsed, raw)
    assert info is not None
    assert info.kind == "failure"
    assert info.original_message_id == "SUP-000123.abcdefgh.sig@support.example.com"
    assert info.failed_recipients == ["wang.wu@customer.example"]
    assert info.delayed_recipients == ["later@customer.example"]
    assert info.status == "5.1.1"
    assert "User unknown" in info.diagnostic


def test_delay_only_report_flags_nobody():
    raw = (
        DSN.format(original_type="message/rfc822")
        .replace("Action: failed", "Action: delayed")
        .replace("Status: 5.1.1", "Status: 4.4.1")
        .encode()
    )
    info = bounce_info(parse_message(raw), raw)
    assert info.kind == "delay"
    assert info.failed_recipients == []
    assert "wang.wu@customer.example" in info.delayed_recipients


QMAIL_BOUNCE = """\
Return-Path: <>
From: MAILER-DAEMON@mx4.customer.example
To: support@example.com
Subject: failure notice
Date: 24 Apr 2013 00:00:00 +0900

Hi. This is the qmail-send program at mx4.customer.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<kijitora@customer.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <support@example.com>
Message-ID: <SUP-000777.qrstuvwx.sig@support.example.com>
From: Support <support@example.com>
To: kijitora@customer.example
Subject: Your ticket

Hello
"""


def test_plain_text_bounce_without_dsn_part():
    raw = QMAIL_BOUNCE.encode()
    parsed = parse_message(raw)
    assert automatic_reason(parsed, OWN) is not None
    info = bounce_info(parsed, raw)
    assert info.kind == "failure"
    assert info.failed_recipients == ["kijitora@customer.example"]
    assert info.original_message_id == "SUP-000777.qrstuvwx.sig@support.example.com"
    assert info.status == "5.1.1"


def test_exim_failed_recipients_header_and_in_reply_to():
    raw = make_mail(
        "From: Mail Delivery System <Mailer-Daemon@mx.customer.example>",
        "Subject: Mail delivery failed: returning message to sender",
        "X-Failed-Recipients: gone@customer.example",
        "In-Reply-To: <SUP-000555.abcdefgh.sig@support.example.com>",
        body="This message was created automatically by mail delivery software.\n"
        "A message that you sent could not be delivered to one or more of its recipients.",
    )
    info = bounce_info(parse_message(raw), raw)
    assert info.failed_recipients == ["gone@customer.example"]
    assert info.original_message_id == "SUP-000555.abcdefgh.sig@support.example.com"


ARF = """\
From: Abuse Desk <abuse@isp.example>
To: support@example.com
Subject: FW: Printer newsletter
Message-ID: <arf-1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Rcpt-To: <Reader@ISP.example>

--ARF
Content-Type: message/rfc822

Message-ID: <SUP-000999.abcdefgh.sig@support.example.com>
From: support@example.com
To: reader@isp.example
Subject: Printer newsletter

Hi
--ARF--
"""


def test_arf_complaint_is_automatic_and_names_the_complainant():
    raw = ARF.encode()
    parsed = parse_message(raw)
    assert "complaint" in automatic_reason(parsed, OWN)
    info = bounce_info(parsed, raw)
    assert info.kind == "complaint"
    assert info.failed_recipients == ["reader@isp.example"]
    assert info.original_message_id == "SUP-000999.abcdefgh.sig@support.example.com"


def test_amazon_ses_bounce_notification():
    notification = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [
                {"emailAddress": "Gone@Customer.example", "status": "5.1.1", "diagnosticCode": "x"}
            ],
        },
        "mail": {"headers": [{"name": "Message-ID", "value": "<SUP-000321.a.b@support.example>"}]},
    }
    raw = make_mail(
        "From: AWS Notifications <no-reply@sns.amazonaws.com>",
        "Subject: AWS Notification Message",
        body=json.dumps(notification),
    )
    info = bounce_info(parse_message(raw), raw)
    assert info.kind == "failure"
    assert info.failed_recipients == ["gone@customer.example"]
    assert info.original_message_id == "SUP-000321.a.b@support.example"


def test_a_persons_mail_has_no_bounce_info():
    raw = make_mail(body="My mailbox is full, please resend the invoice. Error 550 5.2.2 maybe?")
    assert bounce_info(parse_message(raw), raw) is None


def test_out_of_office_has_no_bounce_info():
    raw = make_mail("Auto-Submitted: auto-replied", "Subject: Out of Office: Printer problem")
    assert bounce_info(parse_message(raw), raw) is None


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("google-calendar-invitation.eml", "calendar invitation (iMIP METHOD:REQUEST)"),
        ("outlook-calendar-accepted.eml", "calendar answer (iMIP METHOD:REPLY)"),
    ],
)
def test_calendar_invitations_and_answers_are_automatic(name, kind):
    reason = automatic_reason(parse_message((REALMAIL / name).read_bytes()), OWN)
    assert reason == kind


def test_a_person_attaching_an_event_file_is_a_person():
    # An .ics a person attaches to share an event says PUBLISH, not an iMIP method.
    event = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\n"
        b"BEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    raw = (
        b"From: Li Lei <lilei@customer.example>\r\nTo: support@example.com\r\n"
        b"Subject: Technician visit\r\nMessage-ID: <ics1@customer.example>\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nThe technician may come at this time, see the file.\r\n"
        b'--b\r\nContent-Type: text/calendar; name="visit.ics"\r\n'
        b'Content-Disposition: attachment; filename="visit.ics"\r\n\r\n' + event + b"--b--\r\n"
    )
    assert automatic_reason(parse_message(raw), OWN) is None
