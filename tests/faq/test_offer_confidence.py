"""The auto-reply's confidence in a fused search's hits (faq.matching.confidences)."""

from __future__ import annotations

from dataclasses import dataclass

from faq.matching import OFFER_CONFIDENCE, confidences, offered_hits


@dataclass(frozen=True)
class Hit:
    similarity: float
    lexical_rank: int | None = 1
    semantic_rank: int | None = 1
    language: str = "en"


def test_only_a_first_hit_both_rankings_agree_on_can_be_offered() -> None:
    sure = confidences([Hit(0.09), Hit(0.02, 2, 2)])
    assert sure[0] >= OFFER_CONFIDENCE and sure[1] == 0.0
    assert confidences([Hit(0.09, semantic_rank=2), Hit(0.02)])[0] == 0.0
    assert confidences([Hit(0.09, lexical_rank=4), Hit(0.02)])[0] == 0.0
    assert confidences([Hit(0.09, lexical_rank=None), Hit(0.02)])[0] == 0.0
    assert confidences([]) == []


def test_confidence_grows_with_similarity_and_margin() -> None:
    low, high = confidences([Hit(0.03), Hit(0.02)])[0], confidences([Hit(0.06), Hit(0.02)])[0]
    assert 0.0 < low < high < 1.0
    close = confidences([Hit(0.06), Hit(0.058)])[0]  # a runner-up nearly as close
    assert close < high
    assert [h.similarity for h in offered_hits([Hit(0.08), Hit(0.02)])] == [0.08]
    assert offered_hits([Hit(0.03), Hit(0.029)]) == []  # vague and not ahead: not offered


def test_a_mail_is_no_surer_than_the_same_figures_for_a_typed_question() -> None:
    # Calibrated on hand-written mails: those no article answers sit as close to an article as
    # answerable ones (faq.matching.CONFIDENCE_MAIL).
    hits = [Hit(0.04), Hit(0.03)]
    typed, mail = confidences(hits)[0], confidences(hits, mail=True)[0]
    assert 0.0 < mail <= typed < 1.0
    assert confidences([Hit(0.09, semantic_rank=2), Hit(0.02)], mail=True)[0] == 0.0
