"""The built-in filter: ships trained, explains itself, learns from staff, never crashes on
a bad model file; held spam is purged after its keeping time."""

from __future__ import annotations

import html
from datetime import timedelta
from email.header import Header
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from mailrouter.intake import queue
from mailrouter.models import InboundMail
from mailrouter.parsing import parse_message
from mailrouter.spam import learning, verdict
from mailrouter.spam.features import cold_pitch, mail_tokens, own_text_end
from mailrouter.spam.model import (
    FORMAT_VERSION,
    is_current_format,
    load_model,
    shipped_model_path,
)
from mailrouter.spam.shipped_training import label_of, own_customer_mails, split
from support.core.db import utcnow
from support.core.text import to_traditional
from tests.conftest import SHARED_DIR, shared_path
from tests.factories import make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.support.staff_helpers import login

CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0, "SPAM_FILTER_ENABLED": True}


def _judge(raw: bytes, tmp_path: Path) -> verdict.SpamVerdict:
    return verdict.judge(raw, parse_message(raw), CONFIG, instance_path=tmp_path)


def test_our_own_customer_mail_in_both_languages_is_never_spam(tmp_path) -> None:
    mails = own_customer_mails()
    assert {m.kind for m in mails} == {"own-en", "own-zh"}
    flagged = [m.name for m in mails if _judge(m.raw, tmp_path).is_spam]
    assert flagged == []


def test_our_chinese_customer_mail_written_in_traditional_is_not_spam_either(tmp_path) -> None:
    # The same mails as a customer in Taiwan or Hong Kong would write them: Traditional
    # characters are read as their Simplified forms, so the script alone is no sign.
    mails = [m for m in own_customer_mails() if m.kind == "own-zh"]
    flagged = []
    for mail in mails:
        parsed = parse_message(mail.raw)
        raw = make_mail(subject=to_traditional(parsed.subject), body=to_traditional(parsed.text))
        if _judge(raw, tmp_path).is_spam:
            flagged.append(mail.name)
    assert len(mails) > 100 and flagged == []


def test_the_shipped_model_was_trained_on_the_current_training_mails() -> None:
    # Its ham includes the routing classifier's bootstrap examples (shipped_training): a row
    # added there changes the training mails, and bench/spam_train.py must be run again so
    # that the model shipped is the one its data gives.
    shared_path("corpora", "spamassassin")
    train, _held = split(SHARED_DIR / "corpora")
    model = load_model(shipped_model_path())
    assert model is not None
    wanted = sorted(label_of(mail) for mail in train)
    assert sorted(model.labels) == wanted, "run bench/spam_train.py"


def test_held_out_corpus_spam_is_caught_and_explained(tmp_path) -> None:
    shared_path("corpora", "spamassassin")
    _train, held = split(SHARED_DIR / "corpora")
    spam = [m for m in held if m.is_spam]
    verdicts = [_judge(m.raw, tmp_path) for m in spam]
    caught = sum(v.is_spam for v in verdicts)
    assert caught / len(spam) >= 0.85  # bench/spam_eval.py has the exact figures
    assert all(v.reasons for v in verdicts if v.is_spam)


#: A plain English customer mail of 300-500 characters, the length that format 7's body-length
#: trait weighed +1.3 points (up to 255 characters: -1.6) because our own customer mails were
#: short and the written spam longer.
_LONGER_CUSTOMER_MAIL = (
    "Hello,\n\n"
    "I ordered a standing desk from you on the 3rd (order 60418-2231) and it arrived today, "
    "but one of the two legs is bent near the bottom bracket, so the desk wobbles when I raise "
    "it. The box had a dent in the same corner. I have photos of the box and the leg. Could "
    "you send a replacement leg, or tell me how to return the whole desk?\n\n"
    "Thank you,\nMartha Quinn\n"
)


def test_a_longer_plain_customer_mail_is_not_held_for_its_length(tmp_path) -> None:
    body = _LONGER_CUSTOMER_MAIL
    assert 300 <= len(body) <= 500
    sender = "Martha Quinn <martha.quinn@example.net>"
    raw = make_mail(sender=sender, subject="Desk arrived with a bent leg", body=body)
    judged = _judge(raw, tmp_path)
    assert not judged.is_spam and judged.score is not None and judged.score < 3.0
    # The same words at half or twice the length: the same traits, and twice them the same
    # tokens and score. Length alone says nothing.
    short = make_mail(sender=sender, subject="Desk arrived with a bent leg", body=body[:200])
    twice = make_mail(sender=sender, subject="Desk arrived with a bent leg", body=body * 2)

    def tokens(mail: bytes) -> set[str]:
        return set(mail_tokens(parse_message(mail), mail))

    def traits(mail: bytes) -> set[str]:
        return {t for t in tokens(mail) if t.startswith(("b:", "h:"))}

    assert traits(short) == traits(raw) == traits(twice)
    assert tokens(twice) == tokens(raw)
    assert _judge(twice, tmp_path).score == judged.score


#: A stranger's SEO pitch from free mail, in the plain words of a person (no link, no price):
#: the words alone put it near 1 point (answered), like the cold outreach of the fresh sets.
_COLD_PITCH = (
    "Hi there,\n\nI came across your online shop yesterday and noticed that your product "
    "pages do not show up on Google for the obvious searches. I help small stores fix that, "
    "usually within a couple of months.\n\nI recorded a short walkthrough of what I found. "
    "Mind if I send it over? No strings attached.\n\nCheers,\nJordan\n"
)


def test_a_cold_pitch_gets_no_auto_reply_and_says_why(tmp_path) -> None:
    sender = "Jordan Blake <jordan.blake.growth@gmail.com>"
    raw = make_mail(sender=sender, subject="Your shop on Google", body=_COLD_PITCH)
    judged = _judge(raw, tmp_path)
    assert judged.score is not None and judged.score >= 3.0  # no auto-reply
    assert judged.reasons[0] == f"{verdict.COLD_PITCH_REASON} +{verdict.COLD_PITCH_POINTS:.1f}"
    # The rule moves only the mail it reads: without the pitch's last lines, the same words
    # score COLD_PITCH_POINTS less.
    plain = _COLD_PITCH.replace("Mind if I send it over? No strings attached.", "")
    plain_mail = make_mail(sender=sender, subject="Your shop on Google", body=plain)
    unpitched = _judge(plain_mail, tmp_path)
    assert unpitched.score is not None
    assert abs(judged.score - unpitched.score - verdict.COLD_PITCH_POINTS) < 1.0


def test_customer_and_partner_mail_is_no_cold_pitch() -> None:
    for subject, body in (
        ("Quick question about sizing", "Quick question: does the coat run small? Order 61522."),
        (
            "Becoming a distributor",
            "We supply 150 restaurants and would welcome a 30-minute call with your sales "
            "manager about pricing. Can you send me your price list?",
        ),
        ("Samples", "Could you send us three samples? Happy to pay for them."),
    ):
        assert not cold_pitch(parse_message(make_mail(subject=subject, body=body)))
    for body in (
        "Are you at your desk? I need you to handle a task for me discreetly.",
        "I hope this email finds you well. We sell do-follow links on DA 70 sites.",
        "I'd be happy to put together a free audit of your site. Would you like me to send it?",
    ):
        assert cold_pitch(parse_message(make_mail(subject="Hello", body=body)))


_WEBMAIL_TEXT = (
    "Hello,",
    "",
    "Our order 53310 arrived today but two of the five boxes are missing (the markers and the "
    "erasers). The packing slip lists all five. Could you check with the carrier or send the "
    "missing items?",
    "",
    "Thanks,",
    "Tanya Brooks",
    "Riverbend Elementary",
)


def test_a_customer_mail_sent_html_only_by_webmail_is_not_held_for_that(tmp_path) -> None:
    # Outlook on the web sends a mail written in rich text as HTML only; in the training mail
    # only spam is, so the fit weighs it +9.6 points, of which the model keeps half.
    head = (
        "From: Tanya Brooks <tbrooks@riverbend.example.org>\r\nTo: support@example.com\r\n"
        "Subject: Order 53310 missing items\r\nDate: Thu, 03 Dec 2026 09:12:00 -0500\r\n"
        "Message-ID: <DM6PR04MB1234ABCD@DM6PR04MB1234.namprd04.prod.outlook.com>\r\n"
        "MIME-Version: 1.0\r\n"
    )
    html = "".join(f"<div>{line or '<br>'}</div>" for line in _WEBMAIL_TEXT)
    html_only = (
        f'{head}Content-Type: text/html; charset="utf-8"\r\n\r\n'
        f'<html><body dir="ltr">{html}</body></html>\r\n'
    ).encode()
    plain = (
        f'{head}Content-Type: text/plain; charset="utf-8"\r\n\r\n'
        + "\r\n".join(_WEBMAIL_TEXT)
        + "\r\n"
    ).encode()
    assert "h:html-only" in mail_tokens(parse_message(html_only), html_only)
    as_html, as_text = _judge(html_only, tmp_path), _judge(plain, tmp_path)
    assert as_html.score is not None and as_text.score is not None
    assert as_html.score - as_text.score <= 5.0
    assert not as_html.is_spam


def test_a_chinese_finance_mail_sent_html_only_is_not_held(tmp_path) -> None:
    # Alibaba Mail and Outlook on the web send rich text as HTML only. The model of format 9
    # held this one at 5.6 points (HTML-only +4.8 even at half its weight, an amount +2.1):
    # only spam was HTML-only in its training mail. Format 10 learns from written mail of
    # both kinds sent HTML-only (shipped_training.sent_as_rich_text).
    lines = (
        "您好，",
        "",
        "我司本月需向贵司支付货款 36,800 元，请提供贵司的开票资料（公司名称、税号、开户行及"
        "账号），以便财务安排付款。",
        "",
        "谢谢！",
        "恒泰钢材 财务部 陈静",
    )
    html = "".join(f"<div>{line or '<br>'}</div>" for line in lines)
    raw = (
        "From: =?utf-8?b?6ZmI6Z2Z?= <chenjing@hengtai-steel.example>\r\n"
        "To: finance@example.com\r\nSubject: =?utf-8?b?6K+35o+Q5L6b6LS15Y+45byA56Wo6LWE5paZ?=\r\n"
        "Date: Thu, 03 Dec 2026 09:12:00 +0800\r\n"
        "Message-ID: <a1b2c3d4-0001.hengtai-steel.example@hengtai-steel.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"<html><body>{html}</body></html>\r\n"
    ).encode()
    assert "h:html-only" in mail_tokens(parse_message(raw), raw)
    judged = _judge(raw, tmp_path)
    assert judged.score is not None and judged.score < 5.0 and not judged.is_spam


#: Vendor and accounts-payable mail as a company's finance address receives it: a W-9
#: request, a remit-to notice, a supplier onboarding, each with one link to the sender's own
#: portal, an amount and a reference. The shipped model of format 9 held all three (5.4 to 6.5
#: points): one linked site weighed +4.7 points, money +2.2 and the reader-addressing words of
#: the 2002 corpus spam the rest, because almost no ham it learned from had a link.
_VENDOR_MAILS = (
    (
        "Denise Harper <dharper@lakeridgegrocers.com>",
        "W-9 for our vendor file",
        "Hello,\n\nWe are adding your company to our vendor list for the spring orders. Before "
        "our accounts payable team can pay invoice 40712 ($2,380.00) we need a signed W-9. "
        "Please upload it to our supplier portal at https://vendors.lakeridgegrocers.com or "
        "reply to this email with the PDF.\n\nThank you,\nDenise Harper\n"
        "Accounts Payable, Lakeridge Grocers\n",
    ),
    (
        "Glen Forbes <gforbes@prairiesupply.com>",
        "New remit-to address",
        "Hi,\n\nPlease note that from March 1 our remit-to address for check payments is PO "
        "Box 2291, Tulsa OK 74101. Our bank details are not changing. If you receive any "
        "request to change our bank account, please call me at 918-555-0142 before acting on "
        "it. Our updated letter is at https://prairiesupply.com/remit\n\nThanks,\n"
        "Glen Forbes\nPrairie Supply Co.\n",
    ),
    (
        "Maria Lopez <mlopez@hillcresthotels.com>",
        "Supplier onboarding",
        "Good morning,\n\nYou've been approved as a supplier for Hillcrest Hotels. Please "
        "complete our onboarding form at https://hillcresthotels.com/suppliers/onboard and "
        "send a certificate of insurance. Our terms are net 45 and purchase orders over $5,000 "
        "need a signed quote.\n\nBest regards,\nMaria Lopez\nProcurement\n",
    ),
)


def test_vendor_and_accounts_payable_mail_with_a_link_is_not_held(tmp_path) -> None:
    # The written training ham of bench/spam_data/ham-en-e.jsonl (vendor forms, W-9s,
    # remit-to notices, POs, RFQs, some with a link to the sender's site) beside the fake
    # invoices and payment phishing of spam-en-e.jsonl; these three mails are not in it.
    for sender, subject, body in _VENDOR_MAILS:
        judged = _judge(make_mail(sender=sender, subject=subject, body=body), tmp_path)
        assert judged.score is not None and judged.score < 5.0, subject
        assert not judged.is_spam
    # The same topic sent as phishing (a link to a cheap domain, "sign in to view", a fee
    # on hold) is still held.
    phishing = make_mail(
        sender="Accounts Payable <ap.department.notice@gmail.com>",
        subject="Vendor payment on hold - verify your W-9",
        body="Dear Vendor,\n\nYour payment of $4,820.00 is on hold because your tax form could "
        "not be verified. Confirm your W-9 and banking details within 24 hours to release "
        "it:\n\nhttps://vendor-taxform-verify.top/w9\n\nAccounts Payable\n",
    )
    assert _judge(phishing, tmp_path).is_spam


def test_a_customer_at_a_free_mail_address_with_one_link_gets_an_answer(tmp_path) -> None:
    # One linked site weighed +5.1 points in any mail (format 10): the written spam mostly
    # links, the written ham seldom does. A customer pasting the link that failed him then
    # got no auto-reply (3.6 points). Format 11 weighs links from free-mail addresses apart
    # (features.body_traits), where spam seldom links and customers do.
    raw = make_mail(
        sender="Tom Reyes <tomreyes.tx@gmail.com>",
        subject="Link in your order email is broken",
        body="Hi, the tracking link in your shipping email goes to an error page: "
        "https://www.example-shop.com/track/61402\nCould you send me the carrier and tracking "
        "number instead? Thanks.\n\nTom\n",
    )
    judged = _judge(raw, tmp_path)
    assert judged.score is not None and judged.score < 3.0
    assert "b:sites-free-1" in mail_tokens(parse_message(raw), raw)


#: Chinese suppliers' and partners' mail with one link to their own portal or shared folder
#: (a proof, an invoice to download, drawings, a statement, an exhibitor's fee). The format
#: 11 model of main (b2ea127, 262b724) scored them 1.3 to 3.2 points (one linked site +4.0);
#: the fee notice sent HTML-only by Alibaba Mail got no auto-reply (3.1 points). Retrained
#: (session 15, second round) with bench/spam_data/ham-zh-d.jsonl (Chinese business mail with
#: such links) beside spam-zh-c.jsonl (the same topics as phishing); these mails are in neither.
_CHINESE_LINKED_MAILS = (
    (
        "许静 <xujing@hengfeng-pack.example>",
        "包装盒打样文件",
        "您好，\n\nKT-500 新包装盒的打样文件已上传到共享文件夹，请设计部确认尺寸和颜色：\n"
        "https://pan.hengfeng-pack.example/s/KT500-box\n\n确认后三天内出样。\n恒丰包装 许静",
    ),
    (
        "周洁 <zhoujie@ruitai-fin.example>",
        "电子发票已开具",
        "贵司财务您好：\n\n11 月份货款的电子发票已开具，金额 23,450.00 元，请点击下载核对：\n"
        "https://fp.ruitai-fin.example/download/202611\n\n瑞泰 财务部 周洁",
    ),
    (
        "孙浩 <sunhao@tianyi-mould.example>",
        "模具图纸确认",
        "您好，\n\n水箱盖模具的修改图纸已上传，请工程部登录查看并确认：\n"
        "https://pan.tianyi-mould.example/s/MJ-2612\n\n天翼模具 孙浩",
    ),
    (
        "赵明 <zhaoming@dahe-elec.example>",
        "12月份对账单",
        "您好，\n\n12 月份对账单已生成，共 4 笔，合计 52,300 元，请在供应商平台核对并确认：\n"
        "https://srm.dahe-elec.example/statement/202612\n\n大河电器 财务部 赵明",
    ),
    (
        "郑红 <zhenghong@kaiyue-expo.example>",
        "参展确认及缴费",
        "您好，\n\n贵司展位已确认，展位费 28,000 元，请在截止日前通过以下链接缴费并下载参展手册：\n"
        "https://www.kaiyue-expo.example/exhibitor/pay\n\n凯悦会展 郑红",
    ),
)


def _alimail(sender: str, subject: str, body: str) -> bytes:
    """The mail as Alibaba Mail sends rich text: HTML only."""
    inner = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in body.split("\n"))
    return (
        f"From: {sender}\r\nTo: purchasing@example.com\r\n"
        f"Subject: {Header(subject, 'utf-8').encode()}\r\n"
        "Date: Thu, 03 Dec 2026 09:12:00 +0800\r\nMessage-ID: <a1b2c3d4-0002@alimail.example>\r\n"
        "X-Mailer: [Alimail-Mailagent revision 2][W11_167]\r\n"
        'MIME-Version: 1.0\r\nContent-Type: text/html; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"<html><body>{inner}</body></html>\r\n"
    ).encode()


def test_chinese_business_mail_with_a_link_to_its_own_portal_gets_an_answer(tmp_path) -> None:
    for sender, subject, body in _CHINESE_LINKED_MAILS:
        judged = _judge(make_mail(sender=sender, subject=subject, body=body), tmp_path)
        assert judged.score is not None and judged.score < 3.0, subject
        judged = _judge(_alimail(sender, subject, body), tmp_path)
        assert judged.score is not None and judged.score < 3.0, f"{subject} (HTML only)"
    # The same topics as phishing (a file shared "to log in to", a supplier account to be
    # frozen) are still held.
    for sender, subject, body in (
        (
            "网盘通知 <notice@pan-share-file.top>",
            "有人给您分享了文件《年终奖发放名单.xlsx》",
            "您好，同事给您分享了文件《年终奖发放名单.xlsx》，请用邮箱账号和密码登录查看：\n"
            "http://pan-share-file.top/s/nzj2026",
        ),
        (
            "供应商平台 <admin@gys-zhanghu.vip>",
            "供应商收款账户异常",
            "尊敬的供应商：\n您的收款账户信息已过期，将于 24 小时内冻结，请立即登录更新对公账户：\n"
            "http://gys-zhanghu.vip/login",
        ),
    ):
        raw = make_mail(sender=sender, subject=subject, body=body)
        assert _judge(raw, tmp_path).is_spam, subject


#: A customer forwarding a phishing mail to ask whether it is ours: the shipped model of
#: format 9 held such mails (11.8 points for one of bench/spam_dev/ham-en-d.jsonl), judging
#: the forwarded mail's link to a cheap domain, its "verify your account" and its subject.
_FORWARDED_PHISHING = (
    "Hi, I got this today and it has your logo on it. I did order from you in October but "
    "I never opened an account. Is this really from you? I haven't clicked anything.\n\n"
    "Ruth\n\n"
    "---------- Forwarded message ---------\n"
    "From: Billing Team <no-reply@secure-billing-center.top>\n"
    "Date: Mon, Nov 30, 2026 at 7:02 AM\n"
    "Subject: Your account has been suspended\n\n"
    "Dear Customer,\n\nWe could not verify your payment information and your account has "
    "been suspended. Confirm your card details within 24 hours to avoid permanent closure:\n\n"
    "http://secure-billing-center.top/verify/login\n\nBilling Department\n"
)


def test_a_customer_forwarding_a_phishing_mail_to_ask_about_it_is_not_held(tmp_path) -> None:
    sender = "Ruth Adler <ruth.adler@example.net>"
    subject = "Fwd: Your account has been suspended"
    raw = make_mail(sender=sender, subject=subject, body=_FORWARDED_PHISHING)
    judged = _judge(raw, tmp_path)
    assert judged.score is not None and judged.score < 5.0 and not judged.is_spam
    tokens = set(mail_tokens(parse_message(raw), raw))
    assert "b:forwards" in tokens and "h:cheap-tld-link" not in tokens
    assert "s:suspended" not in tokens and "verify" not in tokens
    # The same phishing sent as itself is held; and a bare forward with no words of the
    # sender's own above it is read whole, so a forged separator hides nothing.
    phishing = _FORWARDED_PHISHING.partition("Subject: Your account has been suspended\n\n")[2]
    alone = make_mail(
        sender="Billing Team <no-reply@secure-billing-center.top>",
        subject="Your account has been suspended",
        body=phishing,
    )
    assert _judge(alone, tmp_path).is_spam
    bare = _FORWARDED_PHISHING.partition("Ruth\n\n")[2]
    bare_mail = make_mail(sender=sender, subject=subject, body=bare)
    bare_tokens = set(mail_tokens(parse_message(bare_mail), bare_mail))
    assert "b:forwards" not in bare_tokens and "h:cheap-tld-link" in bare_tokens


def test_the_sender_s_own_text_ends_where_a_forwarded_or_quoted_mail_starts() -> None:
    own = "Is this really from you? I have not clicked the link.\n\n"
    for separator in (
        "---------- Forwarded message ---------\nFrom: a@b.example\n",
        "-----Original Message-----\nFrom: a@b.example\n",
        "Begin forwarded message:\n\nFrom: a@b.example\n",
        "From: Billing <a@b.example>\nSent: Monday, November 30, 2026 4:51 PM\n",
        "-------- 原始邮件 --------\n发件人：a@b.example\n",
        "---------- 已轉寄郵件 ----------\n寄件者：a@b.example\n",
    ):
        assert own_text_end(own + separator + "Pay now.") == len(own), separator
    assert (
        own_text_end("你好，这封邮件是你们发的吗？\n-------- 原始邮件 --------\n点击") is not None
    )
    assert own_text_end("FYI\n---------- Forwarded message ---------\nPay now.") is None
    assert own_text_end("No forward here, the mail from our side was fine.") is None


@pytest.mark.parametrize(
    "start",
    [
        "开始转发的邮件：",  # Apple Mail, Simplified Chinese
        "开始转发的邮件:",
        "開始轉寄的郵件：",  # Apple Mail, Traditional Chinese
        "轉寄的郵件：",
        "以下是转发的邮件：",  # older Apple Mail
    ],
)
def test_apple_mail_s_chinese_forward_start_ends_the_sender_s_own_text(start) -> None:
    """The spam features knew Apple Mail's English "Begin forwarded message:" only; the
    Chinese starts, which threading reads since the thirty-second session, are the same
    definition now (`mailrouter.parsing.quotes`)."""
    own = "你好，这封邮件说我的账户被冻结了，真的是你们发的吗？我还没有点里面的链接。\n\n"
    forwarded = f"{start}\n\n发件人: 客服中心 <service@lumen-vip.top>\n主题: 账户冻结通知\n\n请点击"
    assert own_text_end(own + forwarded) == len(own)


#: A customer forwarding a phishing mail with Apple Mail in Chinese (iPhone), to ask about it;
#: Apple's header block puts the subject between sender and date.
_FORWARDED_PHISHING_ZH = (
    "你好，我今天收到这封邮件，说我的会员账户异常要冻结，上面有你们的标志。"
    "这真的是你们发的吗？我没有点里面的链接。\n\n"
    "陈静\n\n发自我的 iPhone\n\n"
    "开始转发的邮件：\n\n"
    "发件人: 流明家居会员中心 <vip@lumen-member-center.top>\n"
    "主题: 【重要】您的会员账户异常，24小时内将被冻结\n"
    "日期: 2026年12月6日 GMT+8 上午9:12:30\n"
    "收件人: chen.jing@example.net\n\n"
    "尊敬的会员：\n\n系统检测到您的账户存在异常登录，为保障资金安全，请在24小时内点击下方链接"
    "完成身份验证并重新绑定银行卡，否则账户将被永久冻结，积分清零。\n\n"
    "http://lumen-member-center.top/verify/login\n\n"
    "客服热线：400-800-1234\n流明家居会员中心\n"
)


def test_a_chinese_apple_mail_forward_is_judged_by_the_sender_s_own_words(tmp_path) -> None:
    raw = make_mail(
        sender="陈静 <chen.jing@example.net>",
        subject="转发：【重要】您的会员账户异常，24小时内将被冻结",
        body=_FORWARDED_PHISHING_ZH,
    )
    tokens = set(mail_tokens(parse_message(raw), raw))
    assert "b:forwards" in tokens and "u:lumen-member-center" not in tokens
    assert "b:hotline" not in tokens
    judged = _judge(raw, tmp_path)
    assert judged.score is not None and not judged.is_spam


def test_a_broken_model_file_means_the_shipped_model(tmp_path, caplog) -> None:
    (tmp_path / verdict.DEFAULT_MODEL_FILENAME).write_bytes(b"not a model at all")
    verdict.forget_model()
    model = verdict.current_model(CONFIG, tmp_path)
    assert model is not None and model is verdict.shipped_model()
    assert "cannot be read" in caplog.text
    assert load_model(shipped_model_path()) is not None


def test_staff_decisions_teach_the_filter(app, db, session) -> None:
    raw = make_mail(
        subject="Exclusive offer: wholesale price list, order now",
        body="Dear buyer, our best price for bulk orders. Click here to order now, free shipping!",
    )
    before = verdict.judge(raw, parse_message(raw), app.config, instance_path=app.instance_path)
    for _ in range(5):
        learning.record_decision(session, raw=raw, label=learning.HAM_LABEL)
    session.commit()
    assert learning.retrain(db, app.config, app.instance_path).trained
    assert not learning.retrain(db, app.config, app.instance_path).trained  # nothing new
    after = verdict.judge(raw, parse_message(raw), app.config, instance_path=app.instance_path)
    assert after.score is not None and before.score is not None
    assert after.score < before.score - 1.0
    # The worker (which judges outside any app context) reads the install's new model too.
    inbound = queue.store_inbound(session, channel="smtp", raw=raw, department_code="sales")
    session.commit()
    process_all(app)
    session.expire_all()
    assert session.get(InboundMail, inbound.id).spam_score == after.score
    session.commit()


def _held(session, *, state: str, days_old: float, department_code: str = "sales") -> int:
    inbound = queue.store_inbound(
        session, channel="smtp", raw=make_mail(), department_code=department_code
    )
    inbound.state = "processed"
    inbound.spam_state = state
    inbound.spam_score = 9.0
    inbound.spam_detail = {"source": "builtin", "reasons": ["x +1.0"], "subject": "Offer"}
    inbound.received_at = utcnow() - timedelta(days=days_old)
    session.flush()
    return inbound.id


def test_purge_keeps_suspected_longer_than_certain(app, session) -> None:
    ids = {
        "suspected_new": _held(session, state="suspected", days_old=8),
        "suspected_old": _held(session, state="suspected", days_old=31),
        "certain_new": _held(session, state="certain", days_old=6),
        "certain_old": _held(session, state="certain", days_old=8),
    }
    session.commit()
    assert learning.purge_held_spam(session, app.config) == 2
    session.commit()
    left = set(session.scalars(select(InboundMail.id)))
    assert left == {ids["suspected_new"], ids["certain_new"]}


@pytest.fixture
def held_sales(app, session) -> int:
    held = _held(session, state="suspected", days_old=0)
    session.commit()
    return held


def test_spam_page_follows_the_quarantine_access_rule(app, session, client, held_sales) -> None:
    agent = make_user(session, role="agent", departments=("sales",)).email
    hr_lead = make_user(session, role="lead", departments=("hr",)).email
    sales_lead = make_user(session, role="lead", departments=("sales",)).email
    session.commit()
    login(client, agent)
    assert client.get("/staff/spam/").status_code == 403
    client.post("/staff/logout")
    login(client, hr_lead)
    assert f'value="{held_sales}"' not in client.get("/staff/spam/").get_data(as_text=True)
    decided = client.post(
        "/staff/spam/decide", data={"inbound_id": [str(held_sales)], "decision": "spam"}
    )
    assert decided.status_code == 404
    client.post("/staff/logout")
    login(client, sales_lead)
    assert f'value="{held_sales}"' in client.get("/staff/spam/").get_data(as_text=True)
    confirmed = client.post(
        "/staff/spam/decide", data={"inbound_id": [str(held_sales)], "decision": "spam"}
    )
    assert confirmed.status_code == 302
    assert session.get(InboundMail, held_sales).spam_state == "certain"
    session.commit()
    # Certain spam is hidden unless asked for.
    assert f'value="{held_sales}"' not in client.get("/staff/spam/").get_data(as_text=True)
    page = client.get("/staff/spam/?certain=1").get_data(as_text=True)
    assert f'value="{held_sales}"' in page


def test_spam_page_in_chinese(app, session, client) -> None:
    lead = make_user(session, role="lead", departments=("sales",)).email
    session.commit()
    login(client, lead)
    client.set_cookie("lang", "zh")
    page = client.get("/staff/spam/").get_data(as_text=True)
    assert "没有被拦下的垃圾邮件。" in page and ">垃圾邮件<" in page


def test_spam_check_command_explains_a_verdict(app, tmp_path) -> None:
    from tests.mailrouter.conftest import run_cli

    mail = tmp_path / "offer.eml"
    mail.write_bytes(
        make_mail(
            subject="FREE $$$ MAKE MONEY FAST!!!",
            body="Click here to remove yourself. Limited time offer, order now, "
            "100% guaranteed, no risk! http://cheap-offers.example/buy",
        )
    )
    output = run_cli(app, "spam", "check", str(mail))
    level, *reasons = output.splitlines()
    assert level.startswith(("suspected", "certain")) and "builtin" in level
    assert reasons  # the words that decided, with their weights
    assert "held spam mails deleted" in run_cli(app, "spam", "purge")


def test_an_install_model_is_rebuilt_when_a_release_ships_a_retrained_model(
    app, db, session, tmp_path, monkeypatch
):
    # A release retrains the shipped model on new training mails in the same format (as
    # bench/spam_train.py does): the install's model, built on the old one's mails, must be
    # rebuilt on the new ones without waiting for the next staff decision.
    raw = make_mail(subject="Wholesale offer", body="Best price for bulk orders, order now!")
    learning.record_decision(session, raw=raw, label=learning.SPAM_LABEL)
    session.commit()
    assert learning.retrain(db, app.config, app.instance_path).trained
    assert not learning.retrain(db, app.config, app.instance_path).trained
    released = load_model(shipped_model_path())
    assert released is not None
    released.add(["a new training mail"], label="customer")
    released.refresh()
    released.save(tmp_path / "shipped_model.npz")
    monkeypatch.setattr(learning, "shipped_model_path", lambda: tmp_path / "shipped_model.npz")
    assert learning.retrain(db, app.config, app.instance_path).trained
    install = load_model(verdict.model_path(app.config, app.instance_path))
    assert install is not None and len(install.rows) == len(released.rows) + 1
    assert not learning.retrain(db, app.config, app.instance_path).trained


def test_an_install_model_of_an_older_format_is_rebuilt_from_the_decisions(app, db, session):
    raw = make_mail(subject="Wholesale offer", body="Best price for bulk orders, order now!")
    learning.record_decision(session, raw=raw, label=learning.SPAM_LABEL)
    session.commit()
    assert learning.retrain(db, app.config, app.instance_path).trained
    path = verdict.model_path(app.config, app.instance_path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["format_version"] = np.array([FORMAT_VERSION - 1, 20], dtype=np.int64)
    np.savez_compressed(path, **arrays)
    assert not is_current_format(path)
    # No new decision since, but the file left by the older version is rebuilt.
    assert learning.retrain(db, app.config, app.instance_path).trained
    assert is_current_format(path)
    assert not learning.retrain(db, app.config, app.instance_path).trained
