"""A reply in another language than the customer's is held once, as a risky phrase is ("Check
and send"): working a mixed queue by keyboard, an agent answered 李强's Chinese mail about a
smoking heater in English. The customer's language is their latest mail's; "Send anyway"
sends it as written (a customer who asked for English gets English)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk.models import AuditEvent, Message, Ticket
from support.desk.reply_check import reply_in_other_language
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login

ENGLISH = "Hello, please unplug the heater and do not use it again; we will send a new one."
CHINESE = "您好，请立即拔掉电暖器的插头，不要再使用，我们会给您寄一台新的。"


@pytest.mark.parametrize(
    ("text", "customer", "expected"),
    [
        (ENGLISH, "zh", "en"),
        (CHINESE, "en", "zh"),
        (CHINESE, "zh", None),
        (ENGLISH, "en", None),
        ("OK, 谢谢", "zh", None),
        ("OK, thanks!", "zh", None),  # too short to call it English prose
        ("您好，E21 错误代码表示排水泵堵塞，请清理过滤网后再试一次。", "zh", None),
        ("您好，请看 https://help.example.com/a/kettle-heating-problems", "zh", None),
        (ENGLISH, None, None),  # a customer of no known language: nothing to compare
        ("謝謝您的耐心，新的電暖器明天寄出。", "zh", None),  # Traditional is Chinese
    ],
)
def test_the_language_of_a_reply_against_the_customers(
    text: str, customer: str | None, expected: str | None
) -> None:
    assert reply_in_other_language(text, customer) == expected


def _chinese_ticket(session) -> Ticket:
    li = make_customer(session, name="李强", email="liqiang@example.cn")
    ticket = make_ticket(
        session,
        customer=li,
        subject="紧急：电暖器冒烟",
        body="刚买的电暖器使用半小时后插头位置冒烟，已经断电了。请尽快联系我！",
    )
    ticket.messages[0].language = "zh"
    ticket.language = "zh"
    return ticket


def _replies(session, ticket_id: int) -> list[Message]:
    found = list(
        session.scalars(
            select(Message).where(Message.ticket_id == ticket_id, Message.direction == "out")
        )
    )
    session.commit()
    return found


def _overridden(session, ticket_id: int) -> list[str] | None:
    """The warnings the reply was sent despite, as its history records them."""
    overridden = session.scalar(
        select(AuditEvent).where(
            AuditEvent.ticket_id == ticket_id,
            AuditEvent.action == "ticket.reply_warnings_overridden",
        )
    )
    return overridden.data["categories"] if overridden is not None else None


def test_an_english_reply_to_a_chinese_mail_is_held_once(client, session) -> None:
    agent = make_user(session, email="andy@example.com", name="Andy")
    ticket = _chinese_ticket(session)
    session.commit()
    ticket_id = ticket.id
    login(client, agent.email)

    page = client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={"reply-body": ENGLISH, "reply-then": "open", "reply-send": "1"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The customer writes in Chinese and your reply is in English." in html
    assert 'data-testid="reply-language"' in html
    assert ENGLISH.split(";")[0] in html  # the text is kept in the box
    assert 'name="reply-send_anyway"' in html
    assert _replies(session, ticket_id) == []

    sent = client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={"reply-body": ENGLISH, "reply-then": "open", "reply-send_anyway": "1"},
    )
    assert sent.status_code == 302
    assert [m.new_text for m in _replies(session, ticket_id)] == [ENGLISH]
    assert _overridden(session, ticket_id) == ["language"]


def test_a_reply_in_the_customers_language_goes_at_once(client, session) -> None:
    agent = make_user(session, email="andy@example.com", name="Andy")
    ticket = _chinese_ticket(session)
    session.commit()
    ticket_id = ticket.id
    login(client, agent.email)
    sent = client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={"reply-body": CHINESE, "reply-then": "open", "reply-send": "1"},
    )
    assert sent.status_code == 302
    assert len(_replies(session, ticket_id)) == 1


def test_the_customers_latest_mail_decides(client, session) -> None:
    """Wang first wrote in Chinese, then asked for English: English goes at once."""
    agent = make_user(session, email="andy@example.com", name="Andy")
    ticket = _chinese_ticket(session)
    session.add(
        Message(
            ticket=ticket,
            direction="in",
            from_address=ticket.customer.email,
            body_text="Could you answer in English please? My colleague will read it.",
            new_text="Could you answer in English please? My colleague will read it.",
            language="en",
        )
    )
    session.commit()
    ticket_id = ticket.id
    login(client, agent.email)
    sent = client.post(
        f"/staff/tickets/{ticket_id}/reply",
        data={"reply-body": ENGLISH, "reply-then": "open", "reply-send": "1"},
    )
    assert sent.status_code == 302


def test_a_long_token_costs_linear_time() -> None:
    """A web-address pattern with ``\\S+@\\S+`` backed off at every character of one long
    token: 0.36 s of CPU for 20,000 letters, so some 6 s for these 80,000.

    The work is a regular expression's (uncountable from Python): under a millisecond of CPU
    at load 17; the bound of 0.3 s is hundreds of times that and 20 times below the old path."""
    from support.desk.reply_check import reply_in_other_language
    from tests.work import cpu_seconds

    assert cpu_seconds(reply_in_other_language, "a" * 80_000, "zh") < 0.3


def _api_headers(session, agent) -> dict[str, str]:
    from support.auth import issue_api_token

    token = issue_api_token(session, agent)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_refuses_a_reply_in_another_language_until_told_it_is_meant(
    client, session
) -> None:
    # The web form held an English reply to 李强's Chinese mail; the same reply through the
    # JSON API went out at once.
    agent = make_user(session, email="andy@example.com", name="Andy")
    ticket = _chinese_ticket(session)
    session.commit()
    ticket_id = ticket.id
    headers = _api_headers(session, agent)
    url = f"/api/v1/tickets/{ticket_id}/reply"

    refused = client.post(url, json={"text": ENGLISH}, headers=headers)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "reply_language"
    assert body["reply_language"] == {"written": "en", "customer": "zh"}
    assert "language_checked" in body["message"]
    assert _replies(session, ticket_id) == []
    # send_anyway answers the phrase warnings, not this: a client that always sets it still
    # hears of the language.
    still = client.post(url, json={"text": ENGLISH, "send_anyway": True}, headers=headers)
    assert still.status_code == 409 and still.get_json()["error"] == "reply_language"
    chinese = client.post(url + "?lang=zh", json={"text": ENGLISH}, headers=headers)
    assert "language_checked" in chinese.get_json()["message"]
    assert "英文" in chinese.get_json()["message"]

    bad = client.post(url, json={"text": ENGLISH, "language_checked": "yes"}, headers=headers)
    assert bad.status_code == 400

    sent = client.post(url, json={"text": ENGLISH, "language_checked": True}, headers=headers)
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert [m.new_text for m in _replies(session, ticket_id)] == [ENGLISH]
    assert _overridden(session, ticket_id) == ["language"]


def test_the_api_sends_a_reply_in_the_customers_language_at_once(client, session) -> None:
    agent = make_user(session, email="andy@example.com", name="Andy")
    ticket = _chinese_ticket(session)
    session.commit()
    ticket_id = ticket.id
    headers = _api_headers(session, agent)
    sent = client.post(
        f"/api/v1/tickets/{ticket_id}/reply", json={"text": CHINESE}, headers=headers
    )
    assert sent.status_code == 201
    assert len(_replies(session, ticket_id)) == 1


def test_the_api_names_both_phrase_warnings_and_the_language_in_one_answer(client, session) -> None:
    agent = make_user(session, email="andy@example.com", name="Andy")
    ticket = _chinese_ticket(session)
    session.commit()
    headers = _api_headers(session, agent)
    text = "As I already told you, please unplug the heater; we will send a new one soon."
    refused = client.post(
        f"/api/v1/tickets/{ticket.id}/reply", json={"text": text}, headers=headers
    )
    body = refused.get_json()
    assert refused.status_code == 409
    assert body["error"] == "warnings" and body["warnings"]  # as before, for existing clients
    assert body["reply_language"] == {"written": "en", "customer": "zh"}
    both = {"text": text, "send_anyway": True, "language_checked": True}
    assert (
        client.post(f"/api/v1/tickets/{ticket.id}/reply", json=both, headers=headers).status_code
        == 201
    )
