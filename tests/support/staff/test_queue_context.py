"""The inbox a ticket was opened from (``?queue=``) stays with it through every action on its
page: adding a tag came back without it, so `j`, "... and next" and the inbox link then went
through the ticket's department instead of "Mine"."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from support.core.db import utcnow
from support.desk.models import Ticket
from support.desk.sla import start_clock
from support.desk.tags import add_tag
from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login


class _Forms(HTMLParser):
    """Each POST form's action and the value of its ``queue`` field (None: none)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[list] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        named = dict(attrs)
        if tag == "form" and (named.get("method") or "").lower() == "post":
            self.forms.append([named.get("action"), None])
            self._open = True
        elif tag == "input" and self._open and named.get("name") == "queue":
            self.forms[-1][1] = named.get("value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False


def _post_forms(html: str) -> list[list]:
    """The POST forms that act on a ticket (not the header's sign-out)."""
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if f[0].startswith(("/staff/tickets/", "/staff/spam/"))]


def _queue(response) -> str | None:
    assert response.status_code == 302, response.status_code
    return parse_qs(urlsplit(response.headers["Location"]).query).get("queue", [None])[0]


@pytest.fixture
def desk(app, session):
    """A lead of Customer Service (every form shows: the customer's tier too), and two open
    tickets of one customer there, the older answered and tagged."""
    lead = make_user(session, email="lead@example.com", name="Lena", role="lead")
    alice = make_customer(session, name="Alice Brown", email="alice@example.org")
    older = make_ticket(session, customer=alice, subject="Kettle stopped heating")
    newer = make_ticket(session, customer=alice, subject="Kettle (again)")
    for ticket in (older, newer):
        start_clock(ticket, app.config, now=ticket.created_at)
    older.first_response_at, older.status = utcnow(), "open"
    with app.test_request_context("/"):
        add_tag(session, older, lead, "refund")
    session.commit()
    return lead, older.id, newer.id


def test_every_form_on_the_ticket_page_sends_the_inbox(client, session, desk) -> None:
    lead, older, newer = desk
    login(client, lead.email)
    page = client.get(f"/staff/tickets/{older}?queue=mine&lang=en").get_data(as_text=True)
    forms = _post_forms(page)
    actions = {action for action, _queue in forms}
    # The forms this test is about are there: tags, merge offer, snooze, tier, complaint.
    for path in ("tags", "tags/remove", "merge", "snooze", "customer-tier", "complaint", "note"):
        assert any(a.endswith(f"/{path}") for a in actions), path
    assert len(forms) >= 15
    assert [f for f in forms if f[1] != "mine"] == []

    # The merge's own page, and the undo on the kept ticket, keep it as well.
    confirm = client.post(
        f"/staff/tickets/{newer}/merge",
        data={"merge-target": str(older), "queue": "mine"},
    ).get_data(as_text=True)
    assert [f for f in _post_forms(confirm) if f[1] != "mine"] == []
    assert f"/staff/tickets/{older}?queue=mine" in confirm
    merged = client.post(
        f"/staff/tickets/{newer}/merge",
        data={"merge-target": str(older), "merge-confirm": "1", "queue": "mine"},
    )
    assert _queue(merged) == "mine"
    page = client.get(f"/staff/tickets/{older}?queue=mine&lang=en").get_data(as_text=True)
    assert 'data-testid="undo-merge"' in page
    assert [f for f in _post_forms(page) if f[1] != "mine"] == []
    undone = client.post(f"/staff/tickets/{newer}/unmerge", data={"queue": "mine"})
    assert _queue(undone) == "mine"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("tags", {"tag-tag": "warranty"}),  # added
        ("tags", {"tag-tag": "refund"}),  # had it already
        ("tags", {"tag-tag": ""}),  # refused: nothing written
        ("tags/remove", {"tag": "refund"}),
        ("tags/remove", {"tag": "nothing"}),
        ("snooze", {"snooze-preset": "tomorrow"}),
        ("snooze", {"snooze-preset": "custom", "snooze-until": "soon"}),  # refused
        ("unsnooze", {}),  # refused: not snoozed
        ("note", {"note-body": ""}),  # refused
        ("urgency", {"urgency-urgency": "5"}),
        ("merge", {"merge-target": "SUP-99999"}),  # refused: no such ticket
        ("customer-tier", {"tier-tier": "key"}),
        ("complaint", {"complaint-complexity": "simple"}),
    ],
)
def test_every_action_comes_back_in_the_same_inbox(client, session, desk, path, data) -> None:
    lead, older, _newer = desk
    login(client, lead.email)
    response = client.post(f"/staff/tickets/{older}/{path}", data={**data, "queue": "mine"})
    assert _queue(response) == "mine"
    assert urlsplit(response.headers["Location"]).path in (
        f"/staff/tickets/{older}",
        "/staff/inbox",  # only where the ticket left the user's sight
    )


def test_spam_comes_back_in_the_same_inbox(client, session, desk) -> None:
    lead, _older, newer = desk
    login(client, lead.email)
    response = client.post(f"/staff/spam/ticket/{newer}", data={"queue": "mine"})
    assert _queue(response) == "mine"
    session.expire_all()
    assert session.get(Ticket, newer).status == "spam"


def test_the_inbox_opens_tickets_in_itself(client, session, desk) -> None:
    lead, older, _newer = desk
    session.get(Ticket, older).assignee_id = lead.id
    session.commit()
    login(client, lead.email)
    page = client.get("/staff/inbox/mine?lang=en").get_data(as_text=True)
    assert f'href="/staff/tickets/{older}?queue=mine"' in page
    assert f'data-ticket-url="/staff/tickets/{older}?queue=mine"' in page
