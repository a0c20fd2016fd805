"""A person's signature links (LinkedIn, a blog, a shop) are not the mail's links.

A one-line question from a free-mail address whose signature links somewhere was read as a
mail of one site: "b:sites-free-1" weighs +3.4 points, and with a WeChat id beside it a 163.com
customer's question was held as spam (5.7) and a Gmail one got no auto-reply (4.9). Links in
the recognised signature are one trait of their own; an advert's link list is read as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailrouter.parsing import parse_message
from mailrouter.spam import verdict
from mailrouter.spam.features import mail_tokens

REALMAIL = Path(__file__).resolve().parents[1] / "fixtures" / "realmail"
CONFIG = {"SPAM_SUSPECTED_SCORE": 5.0, "SPAM_CERTAIN_SCORE": 12.0, "SPAM_FILTER_ENABLED": True}
#: The score from which a ticket gets no auto-reply (SPAM_NO_AUTOREPLY_SCORE's default).
NO_AUTOREPLY_SCORE = 3.0


def _verdict(raw: bytes) -> verdict.SpamVerdict:
    return verdict.builtin_verdict(parse_message(raw), CONFIG, verdict.shipped_model(), raw)


@pytest.mark.parametrize(
    "name", ["163-short-question-signature-links.eml", "gmail-short-question-signature-links.eml"]
)
def test_a_short_question_signed_with_links_is_answered(name: str) -> None:
    raw = (REALMAIL / name).read_bytes()
    found = _verdict(raw)
    assert found.level == verdict.HAM and found.score < NO_AUTOREPLY_SCORE, found
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:signature-links" in tokens
    assert not [t for t in tokens if t.startswith(("b:sites", "u:"))], tokens


def _mail(body: str, sender: str = "li.na@163.com") -> bytes:
    return (
        f"From: {sender}\r\nTo: service@example.com\r\nSubject: hello\r\n"
        "Message-ID: <s1@163.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body
    ).encode()


def test_a_link_in_the_own_words_still_counts() -> None:
    raw = _mail(
        "Is this your site? https://lumen-deals.example/win\r\n\r\n-- \r\nLi Na\r\n"
        "https://www.linkedin.com/in/lina\r\n"
    )
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:sites-free-1" in tokens and "u:lumen-deals" in tokens
    assert "u:linkedin" not in tokens


def test_an_adverts_link_list_after_a_delimiter_is_read_as_before() -> None:
    links = "\r\n".join(f"https://shop{i}.example/sale" for i in range(5))
    raw = _mail(f"Big sale today.\r\n\r\n-- \r\n{links}\r\n", sender="deals2026@163.com")
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:signature-links" not in tokens and "b:sites-free-3" in tokens


@pytest.mark.parametrize("sender", ["Li Na <li.na@lumen-partner.example>", "Li Na <li.na@163.com>"])
def test_a_company_senders_or_a_lists_footer_links_count_as_before(sender: str) -> None:
    """A company's signature links count as "b:sites" as they did; a list's "-- " footer
    (ILUG's, under the corpus spam it passed on) is no person's signature."""
    body = "Where can I buy a filter?\r\n\r\n-- \r\nLi Na\r\nhttps://lumen-partner.example\r\n"
    if sender.endswith("163.com>"):
        body = body.replace("Li Na\r\n", "To unsubscribe: ")
    tokens = mail_tokens(parse_message(_mail(body, sender=sender)), b"")
    assert "b:signature-links" not in tokens
    assert [t for t in tokens if t.startswith("b:sites")], tokens


def test_a_signature_without_links_changes_nothing() -> None:
    raw = _mail("Where can I buy a filter?\r\n\r\n-- \r\nLi Na\r\nTel 021-6234 5678\r\n")
    tokens = mail_tokens(parse_message(raw), raw)
    assert "b:signature-links" not in tokens
