# ruff: noqa: E501  (the mail below is data: one mail per line reads best)
"""Thirty-fourth session: a thank-you or a suggestion stays praise (1) when its problem word
names no problem left: a feeling conceded and turned to praise ("Of course I'm disappointed,
but the interview was the most friendly one"), a contrast that turns to praise ("but first
impressions are great"), a problem solved in Cantonese ("教我點樣整返好"), an idiom of praise
("which never happens"). Seven praise mails of sets 3, 10, 14, 15 and 16 were made 2 by such
words. A problem named beside them is still one. Mails written for these tests."""

from __future__ import annotations

import pytest

from mailrouter.routing.urgency_rules import match_problem


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for letting me know. Of course I'm disappointed, but the interview was the most friendly one I have had this year.",
        "Thanks for calling me. Naturally I am disappointed, but the feedback you gave was genuinely useful.",
        "谢谢通知。当然有点失望，不过面试过程是我今年遇到最专业的一次。",
        "謝謝通知。當然有點失望，不過面試過程真的很專業。",  # Traditional
        "The review unit arrived safely. I'll run it for a month before writing, but first impressions are great.",
        "样机收到了，要先用一个月再写测评，不过第一印象很好。",
        "Your engineer was early, which never happens, and explained everything he did.",
        "上個禮拜我部淨化機出咗問題，客服小姐好有耐性，一步步教我點樣整返好。多謝！",  # Cantonese
    ],
)
def test_a_problem_word_that_names_no_problem_left_keeps_praise(text) -> None:
    assert match_problem(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "The kettle is broken again, but your engineer was great.",
        "Of course I'm disappointed, but I still want my money back.",
        "I'm disappointed, the kettle leaks.",
        "I am disappointed, but the staff were great.",  # no concession: the feeling stands
        "当然很失望，洗衣机还是漏水。",
        "The engineer never came.",
        "上個禮拜部淨化機出咗問題，到而家都未整返好。",
    ],
)
def test_a_problem_beside_them_is_still_one(text) -> None:
    assert match_problem(text) is not None
