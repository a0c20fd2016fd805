"""The staff search says where each ticket matched: the words searched for, marked in an excerpt
of the message that holds them, with who wrote it and when (as Zendesk, Help Scout and Front
show them). Two tickets of the same customer with the same subject are told apart by it."""

from __future__ import annotations

import re
from datetime import timedelta

from support.core.db import utcnow
from support.desk import search
from support.desk.models import Message, Ticket
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login

LONG_OPENING = "My washing machine has been acting up for a while now. " * 30


def _add(session, ticket: Ticket, direction: str, text: str, minutes_ago: int, **fields) -> None:
    session.add(
        Message(
            ticket=ticket,
            direction=direction,
            body_text=text,
            new_text=text,
            created_at=utcnow() - timedelta(minutes=minutes_ago),
            **fields,
        )
    )
    session.flush()


def _results(html: str) -> list[str]:
    return re.findall(r'<li class="card">(.*?)</li>', html, flags=re.S)


def test_the_words_are_marked_in_the_message_that_holds_them(client, session) -> None:
    agent = make_user(session, email="andy@example.com", name="Andy Agent")
    anna = make_customer(session, name="Anna Schmidt", email="anna@example.org")
    first = make_ticket(session, customer=anna, subject="Washing machine", body="It is broken.")
    second = make_ticket(
        session,
        customer=anna,
        subject="Washing machine",
        body=LONG_OPENING + "Now it shows the error E21 and will not drain <script>x</script>.",
    )
    _add(session, first, "note", "Asked the depot about order 5512.", 5, author=agent)
    search.index_tickets(session, [first.id, second.id])
    session.commit()
    login(client, agent.email)

    html = client.get("/staff/search", query_string={"q": "e21 drain"}).get_data(as_text=True)
    [only] = _results(html)
    assert second.reference in only
    excerpt = re.search(r'<p class="search-excerpt"[^>]*>(.*?)</p>', only, flags=re.S)
    assert excerpt, only
    text = excerpt.group(1)
    # Deep in a long mail: the excerpt is cut around the words, not the mail's opening.
    assert "<mark>E21</mark>" in text and "<mark>drain</mark>" in text
    assert text.startswith("…") and len(re.sub(r"<[^>]+>", "", text)) < 260
    assert "&lt;script&gt;" in text and "<script>" not in text  # customers' words, escaped
    assert "Anna Schmidt" in only  # who wrote it

    html = client.get("/staff/search", query_string={"q": "5512"}).get_data(as_text=True)
    [only] = _results(html)
    assert first.reference in only
    assert "Internal note" in only and "Andy Agent" in only
    assert "order <mark>5512</mark>" in only


def test_chinese_words_and_traditional_characters_are_marked(client, session) -> None:
    agent = make_user(session, email="andy@example.com")
    ticket = make_ticket(
        session,
        subject="发票抬头错了",
        body="您好，我收到的發票抬头写错了，应该是上海明辉科技有限公司，请帮忙重开。",
    )
    search.index_tickets(session, [ticket.id])
    session.commit()
    login(client, agent.email)

    html = client.get("/staff/search", query_string={"q": "上海明辉"}).get_data(as_text=True)
    [only] = _results(html)
    assert re.search(r"<mark>上海(</mark><mark>)?明辉</mark>", only), only
    # Searched in Simplified, written in Traditional: the customer's own characters are marked.
    html = client.get("/staff/search", query_string={"q": "发票"}).get_data(as_text=True)
    [only] = _results(html)
    assert "<mark>發票</mark>" in only


def test_a_match_outside_the_messages_shows_no_excerpt(client, session) -> None:
    agent = make_user(session, email="andy@example.com")
    ticket = make_ticket(
        session,
        customer=make_customer(session, name="Zhou Min", email="zhou@example.org"),
        subject="Toaster",
    )
    search.index_tickets(session, [ticket.id])
    session.commit()
    login(client, agent.email)
    html = client.get("/staff/search", query_string={"q": "zhou"}).get_data(as_text=True)
    [only] = _results(html)
    assert ticket.reference in only and "search-excerpt" not in only


def test_the_excerpts_of_a_full_page_read_a_bounded_number_of_messages(client, session) -> None:
    """A ticket of thousands of messages costs no more than one of a few: the newest are read."""
    agent = make_user(session, email="andy@example.com")
    ticket = make_ticket(session, subject="Dishwasher", body="The dishwasher beeps.")
    for n in range(search.EXCERPT_MESSAGES + 30):
        _add(session, ticket, "in", f"Still beeping, day {n}.", 10_000 - n)
    _add(session, ticket, "out", "Please try the reset in section 4.", 1)
    search.index_tickets(session, [ticket.id])
    session.commit()
    login(client, agent.email)
    html = client.get("/staff/search", query_string={"q": "reset"}).get_data(as_text=True)
    [only] = _results(html)
    assert "the <mark>reset</mark> in section 4" in only
    assert "Reply" in only
