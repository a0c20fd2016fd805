"""A mail of no words: a photo sent from a phone with neither subject nor text.

Seen from a fresh start.sh: a qq.com customer's photo was answered in English ("Received: (no
subject)") by a Chinese desk, staff read "(no subject)" in English on Chinese pages and in their
notices, the ticket's FAQ search box was filled with "(no subject)", and a reader of 繁體 was
mailed "（无正文）" in Simplified characters.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import select

from mailrouter.intake import queue
from support.desk.models import OutboundMail, Ticket
from tests.factories import make_customer, make_user
from tests.mailrouter.conftest import make_mail, process_all
from tests.support.staff_helpers import login

PHOTO = ("IMG_2034.png", "image/png", b"\x89PNG\r\n\x1a\n photo")


def _queue_photo(session, sender: str, **words: str) -> None:
    """A photo with no words (or, given `subject` and `body`, a mail with words)."""
    words = {"subject": "", "body": "", **words}
    queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(sender=sender, to="service@example.com", attachment=PHOTO, **words),
        envelope_from=parseaddr(sender)[1],
        envelope_to=["service@example.com"],
        department_code="service",
    )
    session.commit()


def _mails(session, kind: str) -> dict[str, tuple[str, str]]:
    found = {}
    for mail in session.scalars(select(OutboundMail).where(OutboundMail.kind == kind)):
        parsed = message_from_bytes(mail.raw, policy=policy.default)
        found[mail.recipients[0]] = (
            str(parsed["Subject"]),
            parsed.get_body(("plain",)).get_content(),
        )
    session.commit()
    return found


def test_a_photo_without_words_is_answered_and_shown_in_the_desks_language(
    app, session, client
) -> None:
    assert app.config["DEFAULT_LANGUAGE"] == "zh"
    make_user(session, email="tw@example.com", language="zh-Hant")
    make_user(session, email="en@example.com", language="en")
    _queue_photo(session, "li.ming@qq.com")
    process_all(app)
    ticket = session.scalar(select(Ticket))
    assert ticket.language == "zh"
    session.commit()

    [(subject, text)] = _mails(session, "auto_reply").values()
    assert subject.endswith("我们已收到您的来信") and "(no subject)" not in subject
    assert "感谢您联系" in text

    notices = _mails(session, "notification")
    subject, text = notices["tw@example.com"]
    assert "（無主題）" in subject and "主題：（無主題）" in text
    assert "（無正文）" in text and "无" not in text and "(no" not in text
    subject, text = notices["en@example.com"]
    assert "(no subject)" in subject and "(no text)" in text

    login(client, "en@example.com")
    for path in (f"/staff/tickets/{ticket.id}", "/staff/inbox/service"):
        page = client.get(f"{path}?lang=zh").get_data(as_text=True)
        assert "（无主题）" in page and "（无正文）" in page and "(no subject)" not in page, path
        # On 繁體 pages our markers are converted with the page, not kept as the customer's.
        page = client.get(f"{path}?lang=zh&script=hant").get_data(as_text=True)
        assert "（無主題）" in page and "（無正文）" in page, path
        assert "无主题" not in page and "无正文" not in page, path
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "<title>SUP-" in page and "(no subject)" in page
    # The answer picker starts empty, not searching the FAQ for "(no subject)".
    assert 'name="reply-faq_query" type="search" value=""' in page


def _answered_in_english(app, session, sender: str) -> None:
    _queue_photo(session, sender)
    process_all(app)
    assert session.scalar(select(Ticket)).language == "en"
    session.commit()
    [(subject, _text)] = _mails(session, "auto_reply").values()
    assert subject.endswith("We have received your message")


def test_a_returning_customers_photo_is_answered_in_their_language(app, session) -> None:
    make_customer(session, email="tom@example.org", name="Tom", language="en")
    _answered_in_english(app, session, "tom@example.org")


def test_a_photo_from_a_latin_name_is_answered_in_english_by_a_chinese_desk(app, session) -> None:
    # "John Smith" sent a photo with no subject and was answered in Chinese: the desk's
    # DEFAULT_LANGUAGE (zh) was the only hint taken. His name's script is the next best one.
    assert app.config["DEFAULT_LANGUAGE"] == "zh"
    _answered_in_english(app, session, "John Smith <john@example.org>")


def test_a_photo_from_a_pinyin_name_is_answered_in_the_desks_language(app, session) -> None:
    # "Zhang Wei" sent a photo to a Chinese desk and was answered in English, as "John Smith"
    # is: a name in pinyin is how many mail clients show a Chinese customer's name.
    assert app.config["DEFAULT_LANGUAGE"] == "zh"
    _queue_photo(session, "Zhang Wei <zhang.wei@example.cn>")
    process_all(app)
    assert session.scalar(select(Ticket)).language == "zh"
    session.commit()
    [(subject, _text)] = _mails(session, "auto_reply").values()
    assert subject.endswith("我们已收到您的来信")


def test_a_photo_from_a_pinyin_name_to_an_english_desk_is_answered_in_english(app, session) -> None:
    app.config["DEFAULT_LANGUAGE"] = "en"
    _answered_in_english(app, session, "Wei Zhang <wei.zhang@example.org>")


def test_a_customers_earlier_mail_outweighs_the_script_of_their_name(app, session) -> None:
    # Wrote in Chinese before under a Latin name, to a desk whose default is English: the
    # photo is answered in Chinese (it was in the desk's English: the customer row had no
    # language, only imported customers had one).
    app.config["DEFAULT_LANGUAGE"] = "en"
    _queue_photo(session, "Amy Chen <amy@example.org>", subject="保修", body="我的水壶坏了。")
    process_all(app)
    session.commit()
    _queue_photo(session, "Amy Chen <amy@example.org>")
    process_all(app)
    languages = session.scalars(select(Ticket.language).order_by(Ticket.id)).all()
    session.commit()
    assert languages == ["zh", "zh"]


def test_the_script_of_a_display_name() -> None:
    from support.core.text import language_of_name

    assert language_of_name("John Smith") == "en" and language_of_name("José Łukasz") == "en"
    assert language_of_name("李明") == "zh" and language_of_name("Li 明") == "zh"
    for none in ("", None, "john@example.com", "13800138000", "Иван", "J"):
        assert language_of_name(none) is None, none
    # A Chinese name in pinyin hints at neither: the desk's language decides.
    for pinyin in ("Zhang Wei", "Wei Zhang", "Chen Xiaoming", "LIU Yang", "Ouyang Xiu"):
        assert language_of_name(pinyin) is None, pinyin
    for english in ("Kevin Zhang", "Amy Chen", "Jane Wu", "Emma Clarke", "Tom"):
        assert language_of_name(english) == "en", english


REALMAIL = Path(__file__).resolve().parents[1] / "fixtures" / "realmail"


def _queue_file(session, name: str, sender: str) -> None:
    queue.store_inbound(
        session,
        channel="smtp",
        raw=(REALMAIL / name).read_bytes(),
        envelope_from=sender,
        envelope_to=["service@example.com"],
        department_code="service",
    )
    session.commit()


def test_a_photo_alone_is_answered_with_word_of_the_photo_and_no_faq(app, session) -> None:
    """An iPhone's new mail of one photo ("Sent from my iPhone", no subject): the reply says
    the photo arrived and a person will look at it, offers no FAQ article (there is no
    question to match) and does not tell the customer their mail said nothing."""
    _queue_file(session, "iphone-photo-only-new.eml", "tom.baker@gmail.com")
    process_all(app)
    [(subject, text)] = _mails(session, "auto_reply").values()
    assert subject.endswith("We have received your message")
    assert "We have received the photo you sent" in text
    assert "look at it" in text
    assert "did not say what you need" not in text
    assert "answers from our help centre" not in text


def test_a_qq_photo_with_only_its_placeholder_is_answered_so_in_chinese(app, session) -> None:
    """QQ Mail writes "[图片]" in the plain text where the picture was, subject "照片"."""
    _queue_file(session, "qq-photo-placeholder-only.eml", "2843917562@qq.com")
    process_all(app)
    [(subject, text)] = _mails(session, "auto_reply").values()
    assert subject.endswith("已收到：照片"), subject
    assert "我们已收到您发来的照片" in text and "工作人员会查看" in text
    assert "没有写明需要什么帮助" not in text
    assert "常见问题解答" not in text


def test_a_mail_with_words_and_a_photo_is_answered_as_before(app, session) -> None:
    _queue_photo(session, "li.ming@qq.com", subject="水壶漏水", body="水壶底部漏水，照片见附件。")
    process_all(app)
    [(_subject, text)] = _mails(session, "auto_reply").values()
    assert "发来的照片" not in text
