"""The learned filter judges what a mail says, not its language: each script's words have
their own part of the table, the traits it reads mean the same in every language, and the
written mails of other languages held out of training are judged right."""

from __future__ import annotations

import json
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

import numpy as np
import pytest

from mailrouter.parsing import parse_message
from mailrouter.spam import verdict
from mailrouter.spam.features import mail_tokens
from mailrouter.spam.model import (
    CUSTOMER,
    FORMAT_VERSION,
    SPAM,
    TRAIT,
    SpamModel,
    bucket,
    load_model,
    script_of,
)
from mailrouter.spam.shipped_training import HELD_OUT_EVERY, written_mails
from support.core.db import utcnow
from tests.mailrouter.conftest import make_mail

CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0, "SPAM_FILTER_ENABLED": True}


def _tokens(**kwargs) -> list[str]:
    return mail_tokens(parse_message(make_mail(**kwargs)))


def test_a_chinese_mail_is_judged_by_what_it_says_whatever_the_share_of_chinese() -> None:
    # 2 of 20 spam mails are Chinese, 10 of 20 customer mails: "我们", which every Chinese
    # mail has, weighs less than the words that tell the classes apart, and a Chinese spam
    # mail is spam although most Chinese mail was ham.
    model = SpamModel.empty()
    for number in range(20):
        chinese = number < 2
        model.add(["我们", "发票"] if chinese else ["cheap", "pills"], label=SPAM)
    for number in range(20):
        chinese = number < 10
        model.add(["我们", "订单"] if chinese else ["order", "invoice"], label=CUSTOMER)
    model.refresh()
    shared = abs(model.weights[bucket("我们")])
    assert shared < model.weights[bucket("发票")] and shared < -model.weights[bucket("订单")]
    assert model.log_odds(["我们", "发票"])[0] > 0 > model.log_odds(["我们", "订单"])[0]
    assert [script_of(t) for t in ("我们", "광고", "メー", "günstig", "h:no-date", "50%")] == [
        1,
        2,
        3,
        4,
        TRAIT,
        0,
    ]


@pytest.mark.parametrize(
    "body",
    [
        "你好，电水壶按开关没反应。请回复到我的QQ邮箱，谢谢。",
        "发票能发到我 qq 郵箱吗？",
        "这是来自QQ邮箱的假期自动回复邮件。",
        "I use QQ Mail, please answer there.",
    ],
)
def test_a_customer_naming_qq_mail_gives_no_chat_account(body) -> None:
    # The mail service a customer names is no "QQ: 2837465910" advert (it was +4.8 points).
    assert "b:chat-id" not in _tokens(subject="电水壶", body=body)


@pytest.mark.parametrize("charset", ["iso-2022-jp", "shift_jis", "utf-8"])
def test_polite_japanese_customer_mail_is_not_held(charset) -> None:
    # Reported as held (session 27): not so with the shipped model. Japanese business mail's
    # forms, 【】 in the subject, a signature with a phone number, ません, in the charsets
    # Japanese mail programs send, each stay well below the held score.
    model = verdict.shipped_model()
    signature = "\n\n━━━━━━━━━━\n株式会社サンプル商事\n田中 太郎\nTEL：03-1234-5678\n"
    mails = [
        (
            "電気ケトルの故障について",
            "お世話になっております。\n先月購入した電気ケトルの電源が入りません。\n"
            "修理または交換は可能でしょうか。\nよろしくお願いいたします。",
        ),
        (
            "【至急】商品が届きません",
            "ご担当者様\n\n突然のご連絡失礼いたします。\n11月20日に注文した商品"
            "（注文番号：A-20261120-0042）がまだ届いておりません。\n"
            "お手数ですが、至急ご確認いただけますと幸いです。" + signature,
        ),
        (
            "返金について",
            "先日注文をキャンセルしましたが、まだ返金されていません。"
            "お忙しいところ恐れ入りますが、ご確認をお願いいたします。",
        ),
        (
            "パスワード",
            "ログインできません。パスワードを忘れてしまいました。どうすればいいですか。",
        ),
    ]
    for subject, body in mails:
        message = MIMEText(body, "plain", charset)
        message["Subject"] = Header(subject, charset)
        message["From"] = "tanaka@sample-shoji.co.jp"
        message["To"] = "support@example.com"
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain="sample-shoji.co.jp")
        raw = message.as_bytes()
        judged = verdict.builtin_verdict(parse_message(raw), CONFIG, model, raw)
        assert judged.level == verdict.HAM and judged.score < 3.0, (subject, judged)


def test_traits_read_the_same_in_every_language() -> None:
    korean = _tokens(
        subject="(광고) 무직자 소액대출", body="당일 승인!\n무료 수신거부: 080-870-2241"
    )
    assert "b:ad-mark" in korean and "s:광고" in korean
    chinese = _tokens(
        subject="代开发票",
        body="税点优惠，手机：13926718845，QQ：2837465910\n如不需要请回复退订。",
    )
    assert {"b:phone", "b:chat-id", "b:opt-out-not-list", "s:代开", "税点"} <= set(chinese)
    # The same footer in list mail the customer subscribed to is no sign.
    newsletter = _tokens(
        subject="财新周刊",
        body="本周要闻。\n如需退订，请点击链接。",
        headers={"List-Id": "<news.example>"},
    )
    assert "b:opt-out-not-list" not in newsletter
    german = _tokens(subject="Günstig!", body="Nur heute: 39,90 € statt 119 €, günstig bestellen.")
    assert "günstig" in german and "b:money-2" in german
    obfuscated = _tokens(subject="V1agra", body="Cheap v1agra and c1alis, F R E E shipping")
    assert "h:obfuscated" in obfuscated


def test_traits_that_tell_a_customer_from_a_cold_advert() -> None:
    # Both give a phone number and a price; the customer names his order and quotes the
    # shop's mail, the advert gives a hotline, apologises for writing and promises too much.
    customer = _tokens(
        subject="回复：退款问题",
        body="订单号 JD-88231047 的退款 1,299 元还没到账，电话 18602113345。\n\n"
        "> 您好，您的退款申请已受理。",
    )
    assert {"b:reference", "b:quoted", "b:phone"} <= set(customer)
    assert not {"b:hotline", "b:apology", "b:promise"} & set(customer)
    advert = _tokens(
        subject="无抵押贷款 当天放款",
        body="月息低至0.6%，不成功不收费！咨询热线：400-998-6613\n如有打扰，敬请谅解。",
    )
    assert {"b:hotline", "b:apology", "b:promise"} <= set(advert)
    assert not {"b:reference", "b:quoted"} & set(advert)
    english = _tokens(
        subject="Re: Invoice query", body="On Monday, Anna wrote:\n> invoice #INV-20931"
    )
    assert {"b:reference", "b:quoted"} <= set(english)


def test_traditional_characters_are_read_as_their_simplified_forms() -> None:
    # 貸款 and 贷款 are one word, so Traditional mail learns from the Simplified mails too.
    traditional = _tokens(subject="免抵押貸款", body="當天撥款，歡迎詢價。")
    simplified = _tokens(subject="免抵押贷款", body="当天拨款，欢迎询价。")
    assert {"s:贷款", "拨款", "询价"} <= set(traditional)
    assert [t for t in traditional if script_of(t) == 1] == [
        t for t in simplified if script_of(t) == 1
    ]


def test_envelope_traits_of_fake_replies_and_borrowed_names() -> None:
    # "Re:" answering no mail: no In-Reply-To or References, as a fake reply is written.
    fake = _tokens(subject="Re: 询价", sender="Li <li.sales@163.example>")
    assert "h:reply-to-nothing" in fake
    real = _tokens(subject="回复：询价", in_reply_to="<q-1@example.com>")
    assert "h:reply-to-nothing" not in real
    # A client that drops the header still quotes the mail it answers.
    quoting = _tokens(subject="RE: Q3 volumes", body="Fine.\n\n-----Original Message-----\nHi")
    assert "h:reply-to-nothing" not in quoting
    assert "h:reply-to-nothing" not in _tokens(subject="Reply needed: order 88231047")
    # A Reply-To at a free-mail provider other than the sender's domain, and a sender's
    # name that gives another site than his address.
    borrowed = _tokens(
        sender='"service@paypal.com" <alert@account-review.example>',
        headers={"Reply-To": "claims.desk@gmail.com"},
    )
    assert {"h:reply-to-elsewhere", "h:reply-to-free-mail", "h:name-other-address"} <= set(borrowed)
    own_desk = _tokens(
        sender='"PayPal" <service@paypal.com>', headers={"Reply-To": "help@paypal-team.com"}
    )
    assert "h:reply-to-elsewhere" in own_desk
    assert not {"h:reply-to-free-mail", "h:name-other-address"} & set(own_desk)


def test_shortened_links_and_stock_tips_are_marked() -> None:
    pump = _tokens(
        subject="This tiny company is about to explode (OTC: GRVX)",
        body="Short-term target: $1.40. STRONG BUY. Details: https://bit.ly/3xyz",
    )
    assert {"h:url-shortener", "b:stock-tip", "b:ticker"} <= set(pump)
    chinese = _tokens(subject="明日涨停牛股", body="股票代码：600123，目标价38元")
    assert {"b:stock-tip", "b:ticker"} <= set(chinese)
    plain = _tokens(body="Our status page: https://status.example.com/ (order 88231047)")
    assert not {"h:url-shortener", "b:stock-tip", "b:ticker"} & set(plain)
    product = _tokens(subject="询价", body="贵司的主力产品 X-20 单价多少？我们要 500 台。")
    assert "b:stock-tip" not in product


def test_money_asked_for_the_way_fraud_asks_is_marked() -> None:
    boss = _tokens(subject="quick favour", body="I need you to buy some Apple gift cards today.")
    customs = _tokens(subject="回复：您的货物", body="需要先支付清关保证金3,000元才能放行。")
    friend = _tokens(subject="在嗎", body="我換了新的LINE，你加一下。")
    assert all("b:payment-trick" in tokens for tokens in (boss, customs, friend))
    # A customer asking about a gift card he has, or a supplier's real invoice, is not.
    card = _tokens(subject="Gift card", body="My $25 gift card shows a $0 balance.")
    invoice = _tokens(subject="发票", body="货款 12,600 元已支付，请开发票。")
    assert "b:payment-trick" not in card and "b:payment-trick" not in invoice


def test_html_links_are_read_and_a_link_naming_another_site_is_marked() -> None:
    message = EmailMessage()
    message["From"] = "PayPal <service@paypal-resolution.example>"
    message["To"] = "support@example.com"
    message["Subject"] = "Your account has been limited"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="paypal-resolution.example")
    message.set_content(
        '<p>Log in: <a href="http://paypal-resolution.example/confirm">www.paypal.com</a></p>'
        '<p><img src="http://paypal-resolution.example/logo.png"></p>',
        subtype="html",
    )
    tokens = mail_tokens(parse_message(message.as_bytes()))
    assert {"h:link-text-other-site", "u:paypal-resolution", "h:images-1"} <= set(tokens)
    honest = _tokens(body="Our status page: https://status.example.com/")
    assert "h:link-text-other-site" not in honest and "u:example" in honest


def test_a_link_showing_its_own_host_is_not_marked_as_naming_another_site() -> None:
    # Outlook on the web and Alibaba Mail link every URL written in rich text, the URL as its
    # text. A host with a hyphen after its first dot was read as "fp.huaxin", another site
    # than "huaxin-elec", so a supplier's invoice link looked like a disguised one.
    message = EmailMessage()
    message["From"] = "Zhang Wei <zhangwei@huaxin-elec.example>"
    message["To"] = "finance@example.com"
    message["Subject"] = "November statement"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="huaxin-elec.example")
    url = "https://fp.huaxin-elec.example/download?no=2026120100317"
    message.set_content(
        f'<div>The invoice is at <a href="{url}">{url}</a></div>'
        '<div>and our price list at <a href="https://www.shop.north-star.co.uk/prices">'
        "shop.north-star.co.uk/prices</a></div>",
        subtype="html",
    )
    tokens = mail_tokens(parse_message(message.as_bytes()))
    assert "u:huaxin-elec" in tokens and "h:link-text-other-site" not in tokens


def test_links_from_a_free_mail_address_are_their_own_trait() -> None:
    # A customer at Gmail pasting a tracking page or a product link is not a business's or an
    # advert's linked site: the fit weighs the two apart (format 11).
    body = "The tracking link goes to an error page: https://www.example-shop.com/track/61402"
    customer = _tokens(sender="Tom Reyes <tomreyes.tx@gmail.com>", body=body)
    company = _tokens(sender="Tom Reyes <treyes@reyesplumbing.example>", body=body)
    assert "b:sites-free-1" in customer and "b:sites-1" not in customer
    assert "b:sites-1" in company and "b:sites-free-1" not in company


def test_how_a_mail_was_written_is_read_from_its_raw_bytes() -> None:
    spamware = (
        b"From: offers@example.org\r\nTo: you@example.com\r\nSubject: hello\r\n"
        b"Date: Sat, 7 Sep 2002 17:58:28\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b'=3Chtml=3E=3Cbody=3E=3Cp=3EV=49AGRA =3Ca href=3D"http://203.0.113.9/buy"=3Ebuy'
        b'=3C/a=3E=3Cimg src=3D"cid:x" width=3D"1" height=3D"1"=3E=3C/p=3E=3C/body=3E'
    )
    tokens = set(mail_tokens(parse_message(spamware), spamware))
    assert {"h:date-no-zone", "h:qp-needless", "h:raw-host-link", "h:tracking-pixel"} <= tokens
    # A mail program writes a time zone and escapes only what it must; a customer's link to
    # his own router is not a hidden link, and the same mail read without its bytes has no
    # raw traits.
    plain = make_mail(body="路由器 http://192.168.1.1/ 打不开，见 https://shop.example.xyz/a")
    tokens = set(mail_tokens(parse_message(plain), plain))
    assert not {"h:date-no-zone", "h:qp-needless", "h:raw-host-link"} & tokens
    assert "h:cheap-tld-link" in tokens
    assert "h:date-no-zone" not in mail_tokens(parse_message(spamware))


def test_traits_of_how_a_mail_was_written_are_learned_at_their_scale() -> None:
    model = SpamModel.empty()
    for number in range(10):
        model.add(["h:html-only", f"w{number}"], label=SPAM)
        model.add([f"x{number}"], label=CUSTOMER)
    model.refresh()
    # The saved weight is the fitted weight times the trait's value: a verdict is a sum.
    assert script_of("h:html-only") == TRAIT and script_of("b:money-1") == 0
    assert model.weights[bucket("h:html-only")] > 2 * abs(model.weights[bucket("w1")])


def test_held_out_written_mail_in_every_language() -> None:
    groups = dict(written_mails())
    assert {kind.rpartition("-")[2] for kind in groups} >= {"zh", "hant", "ko", "ja", "de", "en"}

    def held(kind_prefix: str) -> list:
        return [
            mail
            for kind, mails in groups.items()
            if kind.startswith(kind_prefix)
            for i, mail in enumerate(mails)
            if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
        ]

    def level(raw: bytes) -> str:
        return verdict.judge(
            raw, parse_message(raw), CONFIG, instance_path=Path("/nonexistent"), ask_spamd=False
        ).level

    # Formats 5 to 7 suspected one of them (ham-en-024, a supplier's "updated banking details",
    # near the fraud it resembles); format 8 none of the 129, and cross-validation flags 6 of
    # 861 own and written ham (bench/spam_cv.py). Format 9 retrained with the vendor batch
    # (*-en-e.jsonl: its fake bank-detail changes beside real remit-to notices) suspects two of
    # 136 just over 5 points (ham-en-024 at 5.6 and ham-zh-054 at 5.05; 4.7 and 4.9 before):
    # the price of not holding the development sets' vendor mail (bench/spam_fresh*, 3 of 199
    # English customer mails held before, 1 after), still within bench/spam_eval.py's 0.5 %.
    # The HTML business batch (*-h.jsonl, session 19) is counted apart: of its 10 held-out
    # ham, the model of before it held 3 (a supplier's quote with two sums, 13.9 points; a
    # trade newsletter, 7.7; an importer's enquiry, 5.1) and the retrained one 2 (6.8, 5.7).
    flagged_ham = [
        m.name
        for m in held("written-ham")
        if not m.kind.endswith("-h") and level(m.raw) != verdict.HAM
    ]
    assert len(flagged_ham) <= 2, flagged_ham
    html_batch = [m for m in held("written-ham") if m.kind.endswith("-h")]
    flagged_html = [m.name for m in html_batch if level(m.raw) != verdict.HAM]
    assert len(html_batch) == 10 and len(flagged_html) <= 2, flagged_html
    spam = held("written-spam")
    caught = sum(level(m.raw) != verdict.HAM for m in spam)
    assert caught / len(spam) >= 0.6  # bench/spam_eval.py has the figures per language


def test_a_model_file_of_another_format_is_not_used(tmp_path, caplog) -> None:
    model = SpamModel.empty()
    model.add(["cheap"], label=SPAM)
    model.refresh()
    path = tmp_path / "model.npz"
    model.save(path)
    again = load_model(path)
    assert again is not None and again.labels == [SPAM] and again.times == [1]
    assert [row.tolist() for row in again.rows] == [[bucket("cheap")]]
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["format_version"] = np.array([FORMAT_VERSION - 1, 20], dtype=np.int64)
    np.savez_compressed(path, **arrays)
    assert load_model(path) is None
    assert "not used" in caplog.text


def test_a_model_file_with_buckets_out_of_range_is_not_used(tmp_path, caplog) -> None:
    model = SpamModel.empty()
    model.add(["cheap", "pills"], label=SPAM)
    model.add(["order"], label=CUSTOMER)
    model.refresh()
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path) as data:
        good = {name: data[name] for name in data.files}
    for name, value in (
        ("row_steps", np.array([5, -10, 10], dtype=np.int32)),  # a negative bucket inside
        ("row_steps", np.array([1, 1 << 20, 1], dtype=np.int32)),
        ("weight_idx", np.full_like(good["weight_idx"], -1)),
        ("labels", np.array([0, 7], dtype=np.int8)),
    ):
        np.savez_compressed(path, **{**good, name: value})
        assert load_model(path) is None, name
    assert "cannot be read" in caplog.text
    np.savez_compressed(path, **good)
    assert load_model(path) is not None


def test_reasons_say_first_what_pushed_toward_the_verdict() -> None:
    def judged(raw: bytes) -> verdict.SpamVerdict:
        return verdict.judge(
            raw, parse_message(raw), CONFIG, instance_path=Path("/nonexistent"), ask_spamd=False
        )

    spam = judged(
        make_mail(
            sender="zhang8831@163.example",
            subject="代开发票",
            body="您好！本公司有部分增值税发票、普通发票可优惠代开，点数低，可先验票后付款。\n"
            "联系人：张经理 手机：13926718845 QQ：2837465910\n如有打扰，敬请谅解！",
        )
    )
    customer = judged(make_mail())

    def weights(result: verdict.SpamVerdict) -> list[float]:
        return [float(reason.rpartition(" ")[2]) for reason in result.reasons]

    assert spam.is_spam and weights(spam)[0] > 0
    assert not customer.is_spam and weights(customer)[0] < 0
    assert len(spam.reasons) == verdict.REASONS


def test_the_fresh_evaluation_mails_are_never_trained_on() -> None:
    # bench/spam_fresh holds mail written to judge the model after it was made; the shipped
    # training reads bench/spam_data only, so none of it (nor its senders) reaches the fit.
    fresh = Path(__file__).resolve().parents[3] / "bench" / "spam_fresh"
    senders = set()
    for path in fresh.glob("*.txt"):
        senders |= {
            line.partition(":")[2].strip()
            for line in path.read_text("utf-8").splitlines()
            if line.startswith("from:")
        }
    assert len(senders) > 200
    trained = {
        str(parse_message(mail.raw).from_address)
        for _kind, mails in written_mails()
        for mail in mails
    }
    assert all(kind.startswith("written-") for kind, _mails in written_mails())
    assert not {s.rpartition("<")[2].strip(">") for s in senders} & trained


def test_no_mail_of_a_fresh_or_development_set_is_trained_on() -> None:
    # Every later fresh set (bench/spam_fresh_2 ... _6) and bench/spam_dev judge the model
    # too: no training mail may open with the words of one of their mails. (A sender address
    # may recur: scams reuse them, "renewals@domain-registry-services.net".)
    bench = Path(__file__).resolve().parents[3] / "bench"

    def opening(text: str) -> str:
        return " ".join(text.split())[:120]

    judged = set()
    for path in bench.glob("spam_*/*.jsonl"):
        if path.parent.name == "spam_data":
            continue
        judged |= {
            opening(json.loads(line)["body"]) for line in path.read_text("utf-8").splitlines()
        }
    assert len(judged) > 900
    trained = {
        opening(json.loads(line)["body"])
        for path in (bench / "spam_data").glob("*.jsonl")
        for line in path.read_text("utf-8").splitlines()
    }
    assert not judged & trained


def test_a_mails_script_is_learned_then_dropped_so_chinese_is_no_sign_of_spam() -> None:
    # Most Chinese training mail is spam here: the fit puts that on the mark "l:han", which
    # the model drops, so a Chinese mail that says nothing else scores as any such mail.
    assert _tokens(subject="订单", body="你好，我的订单还没发货。").count("l:han") == 1
    assert "l:han" not in _tokens(subject="Order", body="Where is my order?")
    model = SpamModel.empty()
    for number in range(10):
        model.add(["l:han", f"ad{number}", "b:chat-id"], label=SPAM)
        model.add(["l:han", f"order{number}"] if number < 2 else [f"note{number}"], label=CUSTOMER)
    model.refresh()
    assert model.weights[bucket("l:han")] == 0.0
    assert model.weights[bucket("b:chat-id")] > 0.0
    chinese, _chosen, _weights = model.log_odds(["l:han", "unseen"])
    latin, _chosen, _weights = model.log_odds(["unseen"])
    assert chinese == latin


def test_training_mail_is_sent_with_an_html_copy_but_the_held_out_mail_is_not() -> None:
    from mailrouter.spam.shipped_training import sent_with_html

    names = [f"ham-zh-{number:03d}" for number in range(60)]
    trained = [sent_with_html(n, i) for i, n in enumerate(names) if i % HELD_OUT_EVERY != 4]
    held = [sent_with_html(n, i) for i, n in enumerate(names) if i % HELD_OUT_EVERY == 4]
    assert not any(held)
    assert 0.4 < sum(trained) / len(trained) < 0.9


def test_some_written_training_mail_is_sent_html_only_as_webmail_sends_rich_text() -> None:
    # Spam and ham alike, so that HTML-only is no sign of spam in mail a person writes; the
    # held-out mail stays text only.
    from mailrouter.spam.shipped_training import sent_as_rich_text, sent_with_html, written_mails

    names = [f"ham-zh-{number:03d}" for number in range(120)]
    trained = [(n, i) for i, n in enumerate(names) if i % HELD_OUT_EVERY != 4]
    rich = [sent_as_rich_text(n, i) for n, i in trained]
    assert not any(sent_as_rich_text(n, i) for i, n in enumerate(names) if i % 5 == 4)
    assert not any(r and sent_with_html(n, i) for r, (n, i) in zip(rich, trained, strict=True))
    assert 0.08 < sum(rich) / len(rich) < 0.3
    kinds = {"spam": 0, "ham": 0}
    for _kind, mails in written_mails():
        for mail in mails:
            if b"Content-Type: text/html" in mail.raw.split(b"\n\n", 1)[0]:
                kinds["spam" if mail.is_spam else "ham"] += 1
    assert kinds["spam"] > 20 and kinds["ham"] > 20
