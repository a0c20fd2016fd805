import logging
from datetime import UTC, datetime

import pytest
from jinja2 import UndefinedError

from mailrouter.outbound.reply_templates import (
    AutoReplyContext,
    format_expected_by,
    list_template_keys,
    missing_paragraphs,
    render_auto_reply,
    render_template_source,
    shipped_paragraph,
    shipped_template_source,
    template_chain,
    template_variables,
    validate_template,
)

EXPECTED_BY = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai
FAQS = [
    ("How do I reset my password?", "Use the Forgot link.", "https://h.example/faq/1", "S1"),
    ("Where is my invoice?", "Invoices are in your account.", "https://h.example/faq/2", "S2"),
    ("Can I change my order?", "Within 24 hours.", "https://h.example/faq/3", "S3"),
    ("Fourth question?", "Should not be shown.", "https://h.example/faq/4", "S4"),
]


def make_context(**changes) -> AutoReplyContext:
    values = dict(
        customer_name="Li Wei",
        ticket_reference="SUP-000123",
        department_name="Sales",
        department_code="sales",
        urgency=3,
        language="en",
        expected_by=EXPECTED_BY,
        expected_by_text=format_expected_by(EXPECTED_BY, "Asia/Shanghai", "en"),
        follow_url="https://support.example.com/t/SUP-000123?k=abc",
        company_name="Example Ltd",
        original_subject="Re: Order 5567 arrived damaged",
        faq_suggestions=FAQS,
    )
    values.update(changes)
    return AutoReplyContext(**values)


def make_zh_context(**changes) -> AutoReplyContext:
    values = dict(
        customer_name="王芳",
        department_name="销售部",
        language="zh",
        expected_by_text=format_expected_by(EXPECTED_BY, "Asia/Shanghai", "zh"),
        company_name="示例科技",
        original_subject="回复：订单5567货物破损",
    )
    values.update(changes)
    return make_context(**values)


def test_format_expected_by_in_the_customers_zone():
    assert (
        format_expected_by(EXPECTED_BY, "Asia/Shanghai", "en")
        == "Tuesday 24 November 2026, 15:00 (Asia/Shanghai, UTC+8)"
    )
    assert (
        format_expected_by(EXPECTED_BY, "Asia/Shanghai", "zh")
        == "2026年11月24日 星期二 15:00（北京时间）"  # not the programmer's "/Asia/Shanghai"
    )
    assert (
        format_expected_by(EXPECTED_BY, "Europe/London", "en")
        == "Tuesday 24 November 2026, 07:00 (Europe/London, UTC)"
    )
    # The offset too: a customer abroad need not look the zone up.
    assert format_expected_by(EXPECTED_BY, "America/New_York", "en").endswith(
        "02:00 (America/New_York, UTC-5)"
    )
    assert format_expected_by(EXPECTED_BY, "Asia/Kolkata", "en").endswith(
        "12:30 (Asia/Kolkata, UTC+5:30)"
    )
    assert format_expected_by(EXPECTED_BY, "Asia/Kolkata", "zh") == (
        "2026年11月24日 星期二 12:30（Asia/Kolkata，UTC+5:30）"
    )
    # A reader of Traditional characters whose zone we do not know: the offset, not 北京时间.
    assert format_expected_by(EXPECTED_BY, "Asia/Shanghai", "zh", traditional=True) == (
        "2026年11月24日 星期二 15:00（UTC+8）"
    )
    assert format_expected_by(EXPECTED_BY, "Asia/Taipei", "zh", traditional=True) == (
        "2026年11月24日 星期二 15:00（台北时间）"
    )


def test_format_expected_by_falls_back_to_utc_for_unknown_zone():
    assert format_expected_by(EXPECTED_BY, "Mars/Olympus", "en").endswith("07:00 (UTC)")


def test_format_expected_by_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        format_expected_by(datetime(2026, 11, 24, 7, 0), "UTC", "en")


def test_english_auto_reply_tells_the_customer_what_happens_next():
    reply = render_auto_reply(make_context())

    assert reply.template_key == "default.en"
    assert reply.subject == "[#SUP-000123] Received: Order 5567 arrived damaged"
    for part in (reply.text, reply.html):
        assert "SUP-000123" in part
        assert "Sales" in part
        assert "Tuesday 24 November 2026, 15:00 (Asia/Shanghai, UTC+8)" in part
        assert "personally" in part
        assert "https://support.example.com/t/SUP-000123?k=abc" in part
        assert "[#SUP-000123]" in part  # how to reply so it joins the ticket
    assert reply.text.startswith("Dear Li Wei,\n\n")


def test_at_most_three_faq_answers_each_with_a_solved_link():
    reply = render_auto_reply(make_context())

    for question, _excerpt, url, solved in FAQS[:3]:
        assert question in reply.text and url in reply.text
        assert f"This answered my question: {solved}" in reply.text
        assert f'href="{solved}"' in reply.html
    assert "Fourth question?" not in reply.text
    assert "Fourth question?" not in reply.html


def test_no_faq_section_without_suggestions():
    reply = render_auto_reply(make_context(faq_suggestions=[]))

    assert "This answered my question" not in reply.text
    assert "This answered my question" not in reply.html


def test_a_single_faq_answer_is_offered_in_the_singular():
    """The matcher mostly offers one answer: "these answers ... if one of them" read wrong."""
    en = render_auto_reply(make_context(faq_suggestions=FAQS[:1]))
    zh = render_auto_reply(make_zh_context(faq_suggestions=FAQS[:1]))

    assert "this answer from our help centre may already solve it" in en.text
    assert "If it answers your question" in en.text
    assert "these answers" not in en.text and "one of them" not in en.text
    assert "this answer may already help" in en.html and "none of them" not in en.html
    assert "以下这条常见问题解答或许已经能帮到您" in zh.text
    assert "其中某条" not in zh.text
    assert "这些解答" not in zh.html and "这条解答" in zh.html
    several = render_auto_reply(make_context())
    assert "these answers from our help centre" in several.text
    assert "If one of them answers" in several.text
    assert "以下常见问题解答或许" in render_auto_reply(make_zh_context()).text


def test_chinese_auto_reply():
    reply = render_auto_reply(make_zh_context())

    assert reply.template_key == "default.zh"
    assert reply.subject == "[#SUP-000123] 已收到：订单5567货物破损"
    assert reply.text.startswith("王芳，您好！")
    assert "工单编号：SUP-000123" in reply.text
    assert "由销售部负责跟进" in reply.text
    assert "2026年11月24日 星期二 15:00（北京时间）之前亲自" in reply.text
    assert "这解决了我的问题：S1" in reply.text
    assert '<html lang="zh-CN">' in reply.html
    assert "王芳，您好！" in reply.html


def test_unknown_customer_name_gets_a_polite_greeting():
    assert render_auto_reply(make_context(customer_name="")).text.startswith("Hello,\n")
    assert render_auto_reply(make_zh_context(customer_name="")).text.startswith("您好！\n")


def test_html_escapes_a_hostile_customer_name():
    hostile = '<script>alert("x")</script><a href="http://evil.example">'
    reply = render_auto_reply(make_context(customer_name=hostile))

    assert "<script>" not in reply.html
    assert '<a href="http://evil.example">' not in reply.html
    # Such a name is not echoed at all (finding 8): the greeting is generic.
    assert "evil" not in reply.html and "script" not in reply.html
    assert reply.text.startswith("Hello,") and "evil" not in reply.text


def test_urgency_one_gets_the_thank_you_version():
    reply = render_auto_reply(make_context(urgency=1, original_subject="Great service!"))

    assert reply.template_key == "thanks.en"
    assert reply.subject == "[#SUP-000123] Thank you: Great service!"
    assert "every suggestion and every kind word" in reply.text
    assert "This answered my question" not in reply.text

    zh = render_auto_reply(make_zh_context(urgency=1, original_subject="建议"))
    assert zh.template_key == "thanks.zh"
    assert zh.subject.endswith("感谢来信：建议")
    assert "每一条建议" in zh.text


def test_department_template_for_job_applicants():
    en = render_auto_reply(make_context(department_code="HR", department_name="HR"))
    zh = render_auto_reply(make_zh_context(department_code="hr", department_name="人力资源部"))

    assert en.template_key == "hr.en"
    assert "applied for a position" in en.text and "updated CV" in en.text
    assert zh.template_key == "hr.zh"
    assert "应聘" in zh.text and "简历" in zh.text
    # No hr subject is shipped: the subject falls back along the chain.
    assert zh.subject == "[#SUP-000123] 已收到：订单5567货物破损"


def test_department_template_wins_over_thanks_for_urgency_one():
    assert render_auto_reply(make_context(department_code="hr", urgency=1)).template_key == (
        "hr.en"
    )


def test_fallback_chain_order():
    assert template_chain("sales", 4, "zh") == [
        "sales.4.zh",
        "sales.zh",
        "default.zh",
        "default.en",
    ]
    assert template_chain("sales", 1, "en") == ["sales.1.en", "sales.en", "thanks.en", "default.en"]
    # A department code that could escape the template folder is not used as a name.
    assert template_chain("../etc", 3, "en") == ["default.en"]


def test_unsupported_language_falls_back_to_english():
    reply = render_auto_reply(make_context(language="fr"))

    assert reply.template_key == "default.en"
    assert "Dear Li Wei," in reply.text


def test_override_for_department_and_urgency_wins():
    overrides = {
        "sales.4.zh.txt": "{{ customer_name }}：紧急问题已收到，工单 {{ ticket_reference }}。",
        "sales.4.zh.subject": "紧急：{{ original_subject }}",
    }

    reply = render_auto_reply(make_zh_context(urgency=4), overrides=overrides)

    assert reply.template_key == "sales.4.zh"
    assert reply.text == "王芳：紧急问题已收到，工单 SUP-000123。\n"
    assert reply.html is None  # never mix an edited text with another template's HTML
    assert reply.subject == "[#SUP-000123] 紧急：订单5567货物破损"
    # Other urgencies are untouched.
    assert render_auto_reply(make_zh_context(urgency=3), overrides=overrides).template_key == (
        "default.zh"
    )


def test_override_of_a_shipped_key_replaces_it():
    reply = render_auto_reply(
        make_context(), overrides={"default.en.txt": "Edited by admin for {{ customer_name }}"}
    )

    assert reply.text == "Edited by admin for Li Wei\n"
    assert "Dear Li Wei," in reply.html  # the shipped HTML of the same template


def test_html_only_override_gets_a_derived_text_part():
    overrides = {
        "sales.en.html": '<p>Hi {{ customer_name }}</p><p><a href="{{ follow_url }}">Track</a></p>'
    }

    reply = render_auto_reply(make_context(customer_name="Bob & Co"), overrides=overrides)

    assert reply.template_key == "sales.en"
    assert "Bob &amp; Co" in reply.html
    assert reply.text == "Hi Bob & Co\n\nTrack (https://support.example.com/t/SUP-000123?k=abc)\n"


def test_invalid_override_syntax_falls_back_to_shipped_with_logged_error(caplog):
    overrides = {"default.en.txt": "Dear {{ customer_name ,\n{% if %}"}

    with caplog.at_level(logging.ERROR, logger="mailrouter.outbound.reply_templates"):
        reply = render_auto_reply(make_context(), overrides=overrides)

    assert reply.text.startswith("Dear Li Wei,\n")
    assert "A member of the team will read your message" in reply.text
    assert any("default.en.txt" in record.getMessage() for record in caplog.records)


def test_broken_override_without_shipped_key_falls_down_the_chain(caplog):
    overrides = {"sales.4.en.txt": "Hello {{ customer_nmae }}"}  # typo: undefined variable

    with caplog.at_level(logging.ERROR, logger="mailrouter.outbound.reply_templates"):
        reply = render_auto_reply(make_context(urgency=4), overrides=overrides)

    assert reply.template_key == "default.en"
    assert "sales.4.en.txt" in caplog.text


def test_override_cannot_escape_the_sandbox(caplog):
    overrides = {"default.en.txt": "{{ customer_name.__class__.__mro__ }}"}

    with caplog.at_level(logging.ERROR, logger="mailrouter.outbound.reply_templates"):
        reply = render_auto_reply(make_context(), overrides=overrides)

    assert "object" not in reply.text
    assert reply.text.startswith("Dear Li Wei,")


@pytest.mark.parametrize(
    "bomb",
    [
        "{{ 'x' * 10**9 }}",
        "{{ [1] * 10**8 }}",
        "{{ 2 ** 100000000 }}",
        "{% for i in range(100000) %}{{ 'xxxxxxxxxx' * 10 }}{% endfor %}",
    ],
)
def test_an_edited_template_cannot_make_a_huge_reply(bomb: str, caplog) -> None:
    # Each would take gigabytes (or for ever) at every auto-reply: refused, the shipped one used.
    assert validate_template(bomb)
    with caplog.at_level(logging.ERROR, logger="mailrouter.outbound.reply_templates"):
        reply = render_auto_reply(make_context(), overrides={"default.en.txt": bomb})
    assert reply.text.startswith("Dear Li Wei,")


def test_strict_undefined_raises_on_a_missing_variable():
    variables = template_variables(make_context())

    with pytest.raises(UndefinedError):
        render_template_source("Dear {{ customer_nmae }}", variables, html=False)
    with pytest.raises(UndefinedError):
        render_template_source("{{ faq_suggestions[0].answer }}", variables, html=True)


def test_validate_template_reports_problems_for_the_admin_editor():
    assert validate_template(shipped_template_source("default.zh.html")) == []
    assert validate_template("Hello {{ customer_name }}") == []

    syntax = validate_template("Hello\n{% if customer_name %}unterminated")
    assert len(syntax) == 1 and syntax[0].startswith("line ")

    unknown = validate_template("Hello\n{{ customer_nmae }}")
    assert unknown == ["line 2: unknown variable 'customer_nmae'"]

    assert validate_template("{{ customer_name | no_such_filter }}")
    assert validate_template("{{ urgency + 'x' }}")


def test_every_shipped_template_is_valid_and_listed():
    keys = list_template_keys()

    for name in ("default", "thanks", "hr"):
        for language in ("en", "zh"):
            assert f"{name}.{language}.txt" in keys
            assert f"{name}.{language}.html" in keys
    assert "default.en.subject" in keys and "default.zh.subject" in keys
    for key in keys:
        assert validate_template(shipped_template_source(key)) == [], key


def test_shipped_template_source_for_reset_to_default():
    assert "{{ ticket_reference }}" in shipped_template_source("default.en.txt")
    assert shipped_template_source("sales.4.zh.txt") is None
    assert shipped_template_source("../../etc/passwd") is None


def test_context_rejects_impossible_values():
    with pytest.raises(ValueError):
        make_context(urgency=6)
    with pytest.raises(ValueError):
        make_context(expected_by=datetime(2026, 11, 24, 7, 0))


SPAM_NAMES = [
    "Win 1000 USD now at cheap-pills.example",
    "Visit www example for free money",
    "Claim prize: http://evil.example/x",
    "contact boss@evil.example today",
    "cheap pills evil . com",
    "点击 evil。cn 领奖",
    "A" * 200,
]


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("spam", SPAM_NAMES)
def test_auto_reply_echoes_no_attacker_text(language: str, spam: str) -> None:
    # Finding 8: a forged sender's display name (up to 200 characters) and subject were mailed
    # back in full, with our brand, to whatever address was forged.
    reply = render_auto_reply(
        make_context(customer_name=spam, original_subject=spam, language=language)
    )
    for part in (reply.subject, reply.text, reply.html):
        assert (
            "evil" not in part
            and "www" not in part
            and "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" not in part
        )
        assert "cheap" not in part
    assert "SUP-000123" in reply.subject


@pytest.mark.parametrize("language", ["en", "zh"])
def test_auto_reply_echoes_a_short_plain_subject_and_name(language: str) -> None:
    long_subject = "My kettle stopped working after only two days of light use"
    reply = render_auto_reply(
        make_context(customer_name="Wang Fang", original_subject=long_subject, language=language)
    )
    assert "Wang Fang" in reply.text
    topic = reply.subject.split("[#SUP-000123]", 1)[1]
    assert "My kettle stopped working" in topic and "light use" not in topic
    assert len(topic) < 60


@pytest.mark.parametrize(
    ("subject", "language", "echoed"),
    [
        # A customer's emoji made the whole subject "" (and the reply generic), as a link would.
        ("冰箱不制冷 😢", "zh", "已收到：冰箱不制冷"),
        ("🔥🔥 Kettle leaking!! 👍🏽", "en", "Received: Kettle leaking!!"),
        ("Help ❤️ my order #12", "en", "Received: Help my order #12"),
        # So did a full stop: the contact form makes a missing subject from the question's
        # first line, which usually ends with one.
        ("The dock stopped charging.", "en", "Received: The dock stopped charging."),
        ("订单没收到。", "zh", "已收到：订单没收到。"),
        ("Order no. 123 is late", "en", "Received: Order no. 123 is late"),
        ("空调不制冷；退款 50% 吗", "zh", "已收到：空调不制冷；退款 50% 吗"),
    ],
)
def test_a_plain_subject_is_echoed_without_its_emoji(
    subject: str, language: str, echoed: str
) -> None:
    reply = render_auto_reply(make_context(original_subject=subject, language=language))
    assert reply.subject.endswith(echoed), reply.subject


def test_a_subject_of_emoji_alone_gets_the_generic_line() -> None:
    reply = render_auto_reply(make_context(original_subject="😀🎉", language="en"))
    assert reply.subject.endswith("We have received your message"), reply.subject


def test_a_thank_you_is_not_thanked_for_in_its_own_words():
    # "Thank you: Thank you!" reads as an echo: a subject that thanks is answered as a reply.
    reply = render_auto_reply(make_context(urgency=1, original_subject="Thank you!"))
    assert reply.subject == "Re: [#SUP-000123] Thank you!"
    zh = render_auto_reply(make_zh_context(urgency=1, original_subject="谢谢你们的帮助"))
    assert zh.subject == "回复：[#SUP-000123] 谢谢你们的帮助"
    assert "感谢来信" not in zh.subject
    traditional = render_auto_reply(make_zh_context(urgency=1, original_subject="感謝"))
    assert traditional.subject == "回复：[#SUP-000123] 感謝"


def test_a_custom_text_that_never_reads_says_nothing_is_told_what_it_leaves_out():
    """A custom template without `{% if says_nothing %}` sends a mail that said only "hi" an
    auto-reply that never asks for the question (the shipped default's paragraph)."""
    plain = "Dear {{ customer_name }}, ref {{ ticket_reference }}"
    assert missing_paragraphs("sales.en.txt", plain) == ["danger", "says_nothing"]
    assert missing_paragraphs("sales.2.en.txt", plain) == ["says_nothing"]  # never level 5
    assert missing_paragraphs("sales.5.zh.html", plain) == ["danger"]  # never says nothing
    assert missing_paragraphs("sales.4.en.txt", plain) == []
    assert missing_paragraphs("thanks.en.txt", plain) == []  # urgency 1 only
    assert missing_paragraphs("default.en.subject", plain) == []
    both = plain + "{% if danger %}Call 112.{% endif %}{% if says_nothing %}Ask.{% endif %}"
    assert missing_paragraphs("sales.en.html", both) == []
    assert missing_paragraphs("sales.en.txt", "{% if %}") == []  # validate_template says why

    asked = shipped_paragraph("says_nothing", "zh-tw", "txt")
    assert asked.startswith("{% if says_nothing %}") and asked.endswith("{% endif %}")
    assert "您的来信中没有写明需要什么帮助" in asked  # Chinese for a zh-* key
    assert "<p>" in shipped_paragraph("says_nothing", "en", "html")
    assert "emergency services" in shipped_paragraph("danger", "fr", "txt")  # English otherwise


@pytest.mark.parametrize("key", [k for k in list_template_keys() if not k.endswith(".subject")])
def test_every_shipped_text_has_the_paragraphs_its_mails_may_need(key: str) -> None:
    """The shipped HR texts answered a "hi" to jobs@ (which stays with HR) without asking for the
    question, and a level-5 danger mail there without the safety advice."""
    assert missing_paragraphs(key, shipped_template_source(key)) == []
