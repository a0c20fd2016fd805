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
from tests.support.staff_helpers import fast_passwords, login

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)

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
    overridden = session.scalar(
        select(AuditEvent).where(
            AuditEvent.ticket_id == ticket_id,
            AuditEvent.action == "ticket.reply_warnings_overridden",
        )
    )
    assert overridden is not None and overridden.data["categories"] == ["language"]


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
    token: 0.36 s of CPU for 20,000 letters."""
    import time

    from support.desk.reply_check import reply_in_other_language

    started = time.thread_time()
    reply_in_other_language("a" * 20_000, "zh")
    assert time.thread_time() - started < 0.05
