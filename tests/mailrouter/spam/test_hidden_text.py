"""Text the HTML hides from its reader is a sign of spam, not the mail's words.

HTML adverts (gambling, invoices for sale, loans) hide a line of business mail's words in an
element that is not displayed, or in a 1-pixel or white font, so that a filter reading the
words takes them for a meeting notice or a quote: the parser read that line as text like any
other, and the built-in filter counted those words for the mail. ``ParsedMail.hidden_text``
now holds it apart, ``features.mail_tokens`` leaves it out of the words and marks the mail
``h:hidden-text``, learned from written spam that does it (``bench/spam_data/spam-zh-i``).
"""

from __future__ import annotations

import zlib
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from mailrouter.parsing import parse_message
from mailrouter.spam import verdict
from mailrouter.spam.features import mail_tokens
from mailrouter.spam.model import bucket, load_model, shipped_model_path
from support.core.db import utcnow

CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0, "SPAM_FILTER_ENABLED": True}

_ADVERT = (
    '<html><body><p><a href="https://hk-yule.example/?r=31"><img'
    ' src="https://hk-yule.example/img/top.jpg" width="600" height="380"></a></p>'
    "<p>新会员注册送彩金，真人视讯、体育投注天天返水。</p>"
    '<p><a href="https://hk-yule.example/?r=31">马上注册</a></p>{hidden}</body></html>'
)
_HIDDEN_LINE = "请财务部核对本月供应商对账单 周四下午在二楼会议室开会讨论"


def _html_only(sender: str, subject: str, html: str, *, list_mail: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "info@example.com"
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = sender.rpartition("@")[2].strip(">")
    message["Message-ID"] = f"<h{zlib.crc32(html.encode())}@{domain}>"
    if list_mail:
        message["List-Unsubscribe"] = "<https://news.example.org/unsub>"
    message.set_content(html, subtype="html")
    return message.as_bytes()


def _advert(hidden: str) -> bytes:
    return _html_only("娱乐城 <vip@hk-yule.example>", "会员专享彩金", _ADVERT.format(hidden=hidden))


def test_hidden_words_are_a_trait_and_not_the_mails_words() -> None:
    raw = _advert(f'<div style="display:none">{_HIDDEN_LINE}</div>')
    parsed = parse_message(raw)
    assert _HIDDEN_LINE in parsed.text  # staff still read the mail as it came
    assert parsed.hidden_text == _HIDDEN_LINE
    tokens = mail_tokens(parsed, raw)
    assert "h:hidden-text" in tokens
    assert "会议" not in tokens and "对账" not in tokens
    assert "注册" in tokens and "彩金" in tokens


def test_tiny_and_white_fonts_hide_text_too() -> None:
    for element in (
        f'<p style="font-size:1px">{_HIDDEN_LINE}</p>',
        f'<span style="font-size: 0">{_HIDDEN_LINE}</span>',
        f'<p style="color:#FFFFFF">{_HIDDEN_LINE}</p>',
        f'<font color="white">{_HIDDEN_LINE}</font>',
        f'<div style="visibility:hidden"><p>{_HIDDEN_LINE}</p></div>',
    ):
        raw = _advert(element)
        assert parse_message(raw).hidden_text == _HIDDEN_LINE, element
        assert "h:hidden-text" in mail_tokens(parse_message(raw), raw), element


def test_white_text_on_a_colour_a_style_block_and_a_line_height_are_not_hidden() -> None:
    html = (
        '<html><head><style type="text/css" style="display:none;"> P {margin-top:0;} </style>'
        '</head><body><p style="line-height:0;">报价单已收到，谢谢。</p>'
        '<table><tr><td style="background:#c8102e"><a href="https://expo.example.org/"'
        ' style="color:#ffffff">进入展商服务平台</a></td></tr>'
        '<tr><td bgcolor="#1f4e79"><font color="white">美达家居 采购部</font></td></tr>'
        '</table><p style="font-size:12px;color:#333">孙倩 0757-28836102</p></body></html>'
    )
    raw = _html_only("孙倩 <sunqian@meida-home.example>", "订单确认", html)
    parsed = parse_message(raw)
    assert parsed.hidden_text == ""
    assert "h:hidden-text" not in mail_tokens(parsed, raw)


def test_a_few_hidden_characters_are_no_trait() -> None:
    raw = _advert('<span style="display:none">- -</span>')
    assert "h:hidden-text" not in mail_tokens(parse_message(raw), raw)


def test_the_shipped_model_weighs_hidden_text_toward_spam(tmp_path: Path) -> None:
    model = load_model(shipped_model_path())
    assert model is not None
    assert model.weights[bucket("h:hidden-text")] / verdict.LOG_ODDS_PER_POINT > 2.0
    hidden = _advert(f'<p style="color:#fff;font-size:1px">{_HIDDEN_LINE}</p>')
    judged = verdict.judge(hidden, parse_message(hidden), CONFIG, instance_path=tmp_path)
    assert judged.score is not None and judged.score >= CONFIG["SPAM_SUSPECTED_SCORE"], (
        judged.reasons
    )


def test_a_newsletters_hidden_preview_line_does_not_hold_it(tmp_path: Path) -> None:
    html = (
        '<html><body><div style="display:none;max-height:0;overflow:hidden">本期要点：'
        "除湿机出口回暖，能效新规征求意见</div><p>行业周刊 第 49 期</p>"
        "<p>1. 11 月小家电出口同比增长；2. 除湿机能效新规征求意见稿发布。</p>"
        '<p><a href="https://news.example.org/weekly/49">阅读全文</a></p>'
        '<p>您订阅了本周刊，<a href="https://news.example.org/unsub">退订</a>。</p></body></html>'
    )
    raw = _html_only(
        "行业周刊 <weekly@news.example.org>", "行业周刊 第 49 期", html, list_mail=True
    )
    tokens = mail_tokens(parse_message(raw), raw)
    assert "h:hidden-text" not in tokens  # the newsletters' preview line
    assert "回暖" not in tokens  # its words are still not the mail's
    judged = verdict.judge(raw, parse_message(raw), CONFIG, instance_path=tmp_path)
    assert judged.score is not None and judged.score < CONFIG["SPAM_SUSPECTED_SCORE"], (
        judged.reasons
    )


def test_a_domain_registration_scam_gets_no_auto_reply(tmp_path: Path) -> None:
    """The "someone applied for your name as a domain" letter (``spam-zh-i``, trained on since
    session 22) was answered at -2.4 points: its words (贵司, 确认, 工作日) are a supplier's."""
    message = EmailMessage()
    message["From"] = "审核中心 <shenhe@hk-yuming-center.example>"
    message["To"] = "info@example.com"
    message["Subject"] = "关于贵司名称网络域名注册的确认"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = "<a1b2c3@mail.hk-yuming-center.example>"
    message.set_content(
        "尊敬的负责人：\n我中心近日收到一家公司申请注册与贵司名称相同的域名和网络关键词，"
        "特来函确认是否为贵司授权。如非授权，请于5个工作日内回电，逾期视为放弃。\n"
        "审核部 021-61839025"
    )
    raw = message.as_bytes()
    judged = verdict.judge(raw, parse_message(raw), CONFIG, instance_path=tmp_path)
    assert judged.score is not None and judged.score >= 3.0, judged.reasons
