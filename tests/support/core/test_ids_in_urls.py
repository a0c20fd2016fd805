"""A number in a URL that no id column can hold is a 404 on every page, never a database error.

PostgreSQL's INTEGER stops at 2**31 - 1 and answers a larger value with an overflow error (a 500);
SQLite would accept it. A URL value preprocessor stops such numbers before any view runs.
"""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.support.staff_helpers import login

TOO_BIG = 2**31


@pytest.mark.parametrize(
    "path",
    [
        f"/staff/tickets/{TOO_BIG}",
        f"/staff/admin/users/{TOO_BIG}",
        f"/staff/admin/departments/{TOO_BIG}",
        f"/staff/quarantine/{TOO_BIG}",
        f"/staff/tickets/{10**30}",
    ],
)
def test_a_number_beyond_any_id_is_a_404(app, session, client, path) -> None:
    make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    assert client.get(path).status_code == 404


def test_the_largest_id_still_reaches_the_page(app, session, client) -> None:
    make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    assert client.get(f"/staff/tickets/{TOO_BIG - 1}").status_code == 404  # no such ticket


# -- ids and page numbers in query strings and form fields --------------------------------------

#: "²" passes str.isdigit() and int() refuses it; 10**20 overflows SQLite's and PostgreSQL's ids.
NOT_IDS = ["²", "١٢", str(10**20), "-1", "0", " ", "1e3", "x" * 5000]


@pytest.mark.parametrize("text", NOT_IDS)
def test_what_is_no_id_reads_as_none(text) -> None:
    from support.core.web import id_or_none, page_number

    assert id_or_none(text) is None
    assert page_number(text, 50) == 1


def test_ids_and_pages_in_range_are_read() -> None:
    from support.core.web import id_or_none, page_number

    assert id_or_none(" 42 ") == 42
    assert id_or_none(str(TOO_BIG - 1)) == TOO_BIG - 1
    assert id_or_none(None) is None
    assert page_number("7", 50) == 7
    assert page_number("999", 50) == 50


@pytest.mark.parametrize("value", ["²", str(10**20)])
@pytest.mark.parametrize(
    "path",
    [
        "/staff/inbox/triage?urgency={v}&assignee={v}",
        "/staff/inbox/triage?after=h5.n.{v}",
        "/staff/inbox/triage?after={v}.n.1",
        "/staff/search?q=kettle&page={v}",
        "/staff/faq/?category={v}",
        "/staff/faq/articles/new?translation_of={v}",
        "/staff/mail?page={v}",
    ],
)
def test_odd_numbers_in_a_query_string_are_ignored(app, session, client, path, value) -> None:
    from faq.knowledge import create_category

    make_user(session, email="admin@example.com", role="admin")
    with app.app_context():
        create_category(session, slug="orders", name_en="Orders", name_zh="订单")
        session.commit()
    login(client, "admin@example.com")
    assert client.get(path.format(v=value)).status_code == 200


@pytest.mark.parametrize("value", ["²", str(10**20)])
def test_odd_numbers_in_forms_are_ignored(app, session, client, value) -> None:
    from tests.factories import make_ticket

    make_user(session, email="admin@example.com", role="admin")
    ticket = make_ticket(session)
    session.commit()
    login(client, "admin@example.com")
    bulk = client.post(
        "/staff/inbox/triage/bulk",
        data={"action": "assign", "ticket_id": [value, str(ticket.id)], "assignee": value},
    )
    assert bulk.status_code in (200, 302)
    move = client.post(
        "/staff/inbox/triage/bulk",
        data={"action": "move", "ticket_id": [str(ticket.id)], "department": value},
    )
    assert move.status_code in (200, 302)
    spam = client.post("/staff/spam/tickets", data={"ticket_id": [value]})
    assert spam.status_code in (200, 302)
    decide = client.post("/staff/spam/decide", data={"inbound_id": [value], "decision": "spam"})
    assert decide.status_code in (200, 302, 400)
    page = f"/staff/tickets/{ticket.id}"
    merge = client.post(f"{page}/merge", data={"merge-target": value})
    assert merge.status_code in (200, 302)
    for field in ("insert_article", "saved_reply"):
        reply = client.post(
            f"{page}/reply", data={"reply-body": "Hello", field: value, "insert_saved": "1"}
        )
        assert reply.status_code in (200, 302)
