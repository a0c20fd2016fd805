"""From the ticket page back to the inbox as it was left ("‹ inbox": its filters and page)
and on to the next ticket of that same filtered list ("Next ticket ›", `j`, "... and next")."""

from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from support.desk.sla import start_clock
from support.desk.tags import add_tag
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login


@pytest.fixture
def desk(app, session):
    """Three open tickets in queue order (urgency 5, 4, 3); the first and last tagged."""
    lead = make_user(session, email="lead@example.com", name="Lena", role="lead")
    tickets = [
        make_ticket(session, subject=f"Kettle {level}", urgency=level) for level in (5, 4, 3)
    ]
    for ticket in tickets:
        start_clock(ticket, app.config, now=ticket.created_at)
    with app.test_request_context("/"):
        add_tag(session, tickets[0], lead, "refund")
        add_tag(session, tickets[2], lead, "refund")
    session.commit()
    return lead, [t.id for t in tickets]


def _link(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    tag_start = html.rindex("<a ", 0, start)
    href = html[tag_start:].split('href="', 1)[1].split('"', 1)[0]
    return unescape(href)


def test_back_and_next_keep_the_inbox_filters(client, desk) -> None:
    lead, (first, second, third) = desk
    login(client, lead.email)
    assert client.get("/staff/inbox/service?tag=refund&urgency=").status_code == 200
    page = client.get(f"/staff/tickets/{first}?queue=service").get_data(as_text=True)
    back = _link(page, "back-to-inbox")
    assert urlsplit(back).path == "/staff/inbox/service"
    assert parse_qs(urlsplit(back).query) == {"tag": ["refund"]}
    assert "Customer Service" in page.split('data-testid="back-to-inbox"', 1)[1][:200]
    following = client.get(_link(page, "next-ticket"))
    assert urlsplit(following.headers["Location"]).path == f"/staff/tickets/{third}"
    # "Resolve and next" goes through the same filtered list.
    resolved = client.post(
        f"/staff/tickets/{first}/resolve", data={"queue": "service", "next": "1"}
    )
    assert urlsplit(resolved.headers["Location"]).path == f"/staff/tickets/{third}"


def test_without_filters_next_is_the_queue_order(client, desk) -> None:
    lead, (first, second, _third) = desk
    login(client, lead.email)
    client.get("/staff/inbox/service")
    page = client.get(f"/staff/tickets/{first}?queue=service").get_data(as_text=True)
    assert _link(page, "back-to-inbox") == "/staff/inbox/service"
    following = client.get(_link(page, "next-ticket"))
    assert urlsplit(following.headers["Location"]).path == f"/staff/tickets/{second}"


def test_the_inbox_page_is_kept_and_words_are_escaped(client, desk) -> None:
    lead, (first, _second, _third) = desk
    login(client, lead.email)
    words = '"><script>alert(1)</script>'
    client.get("/staff/inbox/service", query_string={"q": words, "status": "all"})
    page = client.get(f"/staff/tickets/{first}?queue=service").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    back = parse_qs(urlsplit(_link(page, "back-to-inbox")).query)
    assert back == {"q": [words], "status": ["all"]}
