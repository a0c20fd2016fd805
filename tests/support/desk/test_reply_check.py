"""Risky-phrase warnings for staff replies, in English, Simplified and Traditional Chinese."""

import pytest

from support.desk.reply_check import SUGGESTIONS, PhraseWarning, check_reply


def categories(text: str) -> list[str]:
    return [warning.category for warning in check_reply(text)]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Honestly, that's the billing department's problem.", "blames_colleagues"),
        ("It is the warehouse team's fault.", "blames_colleagues"),
        ("Sorry, that's not my job.", "not_my_job"),
        ("This isn't part of my responsibility.", "not_my_job"),
        ("You will have to contact another department.", "not_my_job"),
        ("I can't find it.", "dead_end"),
        ("We couldn't find anything.", "dead_end"),
        ("That's not our problem.", "not_our_problem"),
        ("You should have read the manual.", "blames_customer"),
        ("You should've told us.", "blames_customer"),
        ("Please calm down.", "dismissive"),
        ("There's nothing I can do.", "helpless"),
        ("Unfortunately there is nothing more we can do.", "helpless"),
        ("No refunds, it's company policy.", "policy_refusal"),
        ("We can't, it is against company policy.", "policy_refusal"),
        ("As I already said, the parcel left on Monday.", "condescending"),
        ("Per my last email, the invoice is attached.", "condescending"),
        ("I don't know.", "dont_know"),
    ],
)
def test_english_phrases(text: str, category: str) -> None:
    assert categories(text) == [category]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("这个不归我管。", "not_my_job"),
        ("这不是我的工作。", "not_my_job"),
        ("您去找别的部门吧。", "not_my_job"),
        ("我们找不到。", "dead_end"),
        ("系统里查不到。", "dead_end"),
        ("这不关我们的事。", "not_our_problem"),
        ("这跟我们没关系。", "not_our_problem"),
        ("那是财务部门的问题。", "blames_colleagues"),
        ("那是物流那边的问题。", "blames_colleagues"),
        ("你应该早点告诉我们。", "blames_customer"),
        ("谁让您不看说明书。", "blames_customer"),
        ("请您冷静一下。", "dismissive"),
        ("我也没办法。", "helpless"),
        ("这是公司规定。", "policy_refusal"),
        ("我已经说过很多遍了。", "condescending"),
        ("我不知道。", "dont_know"),
    ],
)
def test_chinese_phrases(text: str, category: str) -> None:
    assert categories(text) == [category]


def test_warning_points_at_the_words_and_suggests_in_the_same_language() -> None:
    text = "Thanks for waiting. Please CALM DOWN, we are on it."
    [warning] = check_reply(text)
    assert warning == PhraseWarning(
        phrase="CALM DOWN",
        category="dismissive",
        suggestion=SUGGESTIONS["dismissive"]["en"],
        start=text.index("CALM"),
        end=text.index("CALM") + len("CALM DOWN"),
    )
    text = "您好，那是财务部门的问题。"
    [warning] = check_reply(text)
    assert text[warning.start : warning.end] == warning.phrase == "那是财务部门的问题"
    assert warning.suggestion == SUGGESTIONS["blames_colleagues"]["zh"]


def test_traditional_chinese_is_found_with_offsets_into_the_original() -> None:
    text = "您好！這不是我的工作，那是財務部門的問題，我也沒辦法。"
    warnings = check_reply(text)
    assert [w.category for w in warnings] == ["not_my_job", "blames_colleagues", "helpless"]
    assert [text[w.start : w.end] for w in warnings] == [w.phrase for w in warnings]
    assert warnings[1].phrase == "那是財務部門的問題"
    assert "負責" in warnings[0].suggestion  # answered in Traditional characters, too


def test_curly_apostrophes_and_line_breaks() -> None:
    assert categories("That’s not my\njob.") == ["not_my_job"]
    assert categories("There’s nothing I can do.") == ["helpless"]


def test_english_matches_whole_words_only() -> None:
    assert categories("The recalm download finished.") == []
    assert categories("Your shipment is not our problematic one.") == []


def test_several_phrases_come_back_in_reading_order_without_overlap() -> None:
    text = "Calm down. You should have called. There is nothing I can do."
    warnings = check_reply(text)
    assert [w.category for w in warnings] == ["dismissive", "blames_customer", "helpless"]
    assert warnings[2].phrase == "There is nothing I can do"
    assert all(a.end <= b.start for a, b in zip(warnings, warnings[1:], strict=False))


@pytest.mark.parametrize(
    "text",
    [
        "I found your order and it ships today.",
        "If you can't find the invoice, please check your spam folder.",
        "Under our refund policy you can return it within 30 days.",
        "Our billing team will email you the corrected invoice today.",
        "It is our team's responsibility to fix this, and we will.",
        "I don't know whether the courier has picked it up yet, so I have asked them.",
        "我们已经找到您的订单，今天就会发货。",
        "如果您在收件箱里找不到邮件，请查看垃圾邮件。",
        "这是我们部门的问题，我们会负责解决。",
        "根据公司规定，您可以在30天内申请退货。",
        "您应该会在两个工作日内收到退款。",
        "七天无理由退货冷静期内可以申请退款。",
        "请您不要着急，我们正在处理。",
        "不管多晚我们都会回复您。",
        "關於您的問題，我們已經處理好了。",
        "",
    ],
)
def test_ordinary_replies_raise_no_warning(text: str) -> None:
    assert check_reply(text) == []


def test_every_category_has_a_suggestion_in_both_languages() -> None:
    for category, by_language in SUGGESTIONS.items():
        assert by_language["en"].isascii(), category
        assert not by_language["zh"].isascii(), category
