"""Where a mail program's plain text had a picture ("[image: screenshot.png]", Gmail's; "[图片]"),
the placeholder is no word of the customer's: routing, urgency, language and FAQ matching
(``reading_text``, ``ParsedMail.language``) read around it, while staff still see it in the
message where the picture was."""

from __future__ import annotations

import pytest

from mailrouter.parsing import NO_TEXT_MARKER, parse_message, reading_text
from mailrouter.parsing.forwards import without_picture_placeholders
from mailrouter.routing.contentless import says_nothing
from tests.mailrouter.conftest import make_mail
from tests.work import cpu_seconds


@pytest.mark.parametrize(
    "placeholder",
    [
        "[image: screenshot.png]",
        "[image: Inline image 1]",
        "[Image]",
        "[image: IMG_2034.JPG]",
        "[图片]",
        "[圖片: 截圖 2026-12-01.png]",
        "[画像: photo.jpg]",
        "[image001.png]",
    ],
)
def test_a_placeholder_is_read_as_no_word(placeholder: str) -> None:
    text = f"My kettle leaks.\n\n{placeholder}\n\nThanks"
    assert placeholder not in reading_text(text, text)
    assert "My kettle leaks." in reading_text(text, text)


@pytest.mark.parametrize(
    "text",
    [
        "The [Image Gallery] page is blank",  # a page's name in brackets, not a picture's
        "Set [image_quality] to high, then [photo] mode",
    ],
)
def test_words_in_brackets_that_name_no_picture_stay(text: str) -> None:
    assert without_picture_placeholders(text) == text


def test_staff_still_see_the_placeholder_where_the_picture_was() -> None:
    parsed = parse_message(
        make_mail(subject="Charged twice", body="I was charged twice.\n\n[image: bank.png]\n")
    )
    assert "[image: bank.png]" in parsed.text
    assert "[image: bank.png]" in parsed.new_text
    assert "[image: bank.png]" not in parsed.reading_text()


def test_a_chinese_mail_with_pictures_is_chinese() -> None:
    """Gmail's placeholders are Latin letters: two photos under "退货" made the mail English
    (2 Chinese characters beside 22 letters), so the customer got an English auto-reply."""
    parsed = parse_message(
        make_mail(
            sender="李明 <li.ming@example.net>",
            subject="退货",
            body="[image: IMG_2034.JPG]\n[image: IMG_2035.JPG]\n",
        )
    )
    assert parsed.language == "zh"


def test_a_photo_with_only_a_greeting_says_nothing() -> None:
    """A photo pasted under "Hi," with no words is routed as a photo alone (triage), not on
    the words "image" and "screenshot"."""
    parsed = parse_message(
        make_mail(
            sender="Tom Baker <tom@example.net>",
            subject="",
            body="Hi,\n\n[image: Screenshot 2026-12-01 at 10.14.32.png]\n\nThanks,\nTom\n",
        )
    )
    assert says_nothing(parsed.subject, parsed.reading_text(), "Tom Baker")
    assert parsed.language == "en"


def test_a_reply_of_a_picture_alone_reads_as_no_text() -> None:
    """Only a placeholder of new text over quoted history: no words, not the history."""
    assert reading_text("[image: IMG_0001.jpg]", "[image: IMG_0001.jpg]\n\n> our text") == (
        NO_TEXT_MARKER
    )


def test_hostile_brackets_cost_linear_time() -> None:
    # One regular expression's work (uncountable from Python): 5 ms of CPU at load 17, a
    # backtracking pattern's tens of seconds; the bound is 200 times the first.
    text = "[image: " * 20_000 + "[图片" * 20_000
    assert cpu_seconds(without_picture_placeholders, text) < 1.0
