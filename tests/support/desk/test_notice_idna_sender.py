"""Staff notices show an internationalized sender's domain as the pages do (李雷
<lilei@例子.公司>), never in the xn-- form mail carries it in."""

from __future__ import annotations

import pytest

from support.desk.notifications import (
    notify_customer_reply,
    notify_new_ticket,
    notify_solved_by_customer,
)
from support.desk.search import index_tickets
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login, mail_text, outbound

IDNA = "lilei@xn--fsqu00a.xn--55qx5d"  # lilei@例子.公司, as stored
READABLE = "lilei@例子.公司"


@pytest.fixture
def ticket(app, session):
    customer = make_customer(session, email=IDNA, name="李雷")
    agent = make_user(session, email="zh@example.com", language="zh")
    ticket = make_ticket(session, customer=customer, subject="水壶坏了")
    ticket.assignee = agent
    session.commit()
    return ticket


def _texts(session, ticket) -> list[str]:
    return [mail_text(mail) for mail in outbound(session, ticket, "notification")]


def test_the_new_ticket_notice_shows_the_domain_as_written(app, session, ticket) -> None:
    with app.app_context():
        assert notify_new_ticket(session, ticket, app.config)
    session.commit()
    texts = _texts(session, ticket)
    assert texts and all(f"李雷 <{READABLE}>" in text for text in texts)
    assert not any("xn--" in text for text in texts)


def test_a_reply_notice_from_a_nameless_customer_shows_the_domain(app, session, ticket) -> None:
    ticket.customer.name = ""
    message = ticket.messages[0]
    session.commit()
    with app.app_context():
        assert notify_customer_reply(session, ticket, message, app.config)
        assert notify_solved_by_customer(session, ticket, "", app.config)
    session.commit()
    texts = _texts(session, ticket)
    assert len(texts) == 2 and all(READABLE in text for text in texts)
    assert not any("xn--" in text for text in texts)


def test_inbox_and_search_rows_show_a_nameless_customer_s_domain_as_written(
    app, session, client, ticket
) -> None:
    # The ticket page showed 例子.公司; the inbox row and the search results
    # showed xn--fsqu00a.xn--55qx5d for a customer with no name.
    ticket.customer.name = ""
    make_user(session, email="lead@example.com", role="admin")
    index_tickets(session, [ticket.id])
    session.commit()
    login(client, "lead@example.com")
    for url in ("/staff/inbox/service", "/staff/search?q=水壶"):
        page = client.get(url).get_data(as_text=True)
        assert READABLE in page, url
