"""Sorting an inbox by a column (received, due, customer, status): the order is kept in the
URL, read from a fixed list (an unknown key is the queue order, never an error nor SQL), and
paged by keyset like the queue order (support.staff.inbox)."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from support.core.db import utcnow
from support.desk import sla
from support.desk.models import OPEN_STATUSES, TICKET_STATUSES
from support.staff.inbox import SORTS, Cursor, InboxFilters, InboxView, inbox_page
from tests.factories import department, make_customer, make_ticket, make_user
from tests.support.staff_helpers import login

STATUS_ORDER = ("new", "open", "waiting", "resolved", "closed")


def _queue(app, session) -> dict[str, int]:
    """Five tickets whose orders by each column all differ; subject -> id."""
    now = utcnow()
    rows = [
        # subject, customer, status, minutes ago, with a response clock
        ("Kettle leaks", "Zhou Min", "open", 300, True),
        ("Invoice wrong", "alice brown", "waiting", 30, True),
        ("Toaster smoke", "Bob Chen", "new", 120, True),
        ("Lid broken", "Carla Diaz", "resolved", 600, False),
        ("Where is it", "Ann Archer", "new", 5, True),
    ]
    made = {}
    for n, (subject, name, status, minutes, clocked) in enumerate(rows):
        at = now - timedelta(minutes=minutes)
        customer = make_customer(session, name=name, email=f"c{n}@example.net")
        ticket = make_ticket(
            session,
            subject=subject,
            customer=customer,
            status=status,
            created_at=at,
            urgency=1 + n % 5,
        )
        if clocked:
            sla.start_clock(ticket, app.config, now=at - timedelta(minutes=7 * n))
        made[subject] = ticket.id
    session.commit()
    return made


def _subjects(page_html: str, made: dict[str, int]) -> list[str]:
    found = [(page_html.find(f">{s}</a>"), s) for s in made]
    return [s for at, s in sorted(found) if at >= 0]


def test_each_column_sorts_both_ways_and_the_order_stays_in_the_url(app, session, client):
    user = make_user(session, email="ann@example.com")
    made = _queue(app, session)
    view = InboxView("service", "department", department(session, "service"))
    tickets = {
        t.subject: t
        for t in inbox_page(session, user, view, InboxFilters(status="all"), utcnow()).tickets
    }
    expected = {
        "received": sorted(tickets, key=lambda s: tickets[s].created_at),
        "due": sorted(
            tickets,
            key=lambda s: (
                tickets[s].first_response_due_at is None,
                tickets[s].first_response_due_at or utcnow(),
                tickets[s].id,
            ),
        ),
        "customer": sorted(tickets, key=lambda s: tickets[s].customer.name.casefold()),
        "status": sorted(
            tickets, key=lambda s: (STATUS_ORDER.index(tickets[s].status), tickets[s].id)
        ),
    }
    session.commit()
    login(client, "ann@example.com")
    for key, order in expected.items():
        page = client.get(f"/staff/inbox/service?status=all&sort={key}").get_data(as_text=True)
        assert _subjects(page, made) == order, key
        # The sorted column says so, and its link turns the order round (filters kept).
        head = page[page.index("<thead>") : page.index("</thead>")]
        assert head.count('aria-sort="ascending"') == 1 and 'aria-sort="descending"' not in head
        assert html.escape(f"?status=all&sort=-{key}") in head, key
        if key != "due":  # no clock: the due time is unknown, last both ways
            reverse = client.get(f"/staff/inbox/service?status=all&sort=-{key}")
            assert _subjects(reverse.get_data(as_text=True), made) == order[::-1], key
    reverse = client.get("/staff/inbox/service?status=all&sort=-due").get_data(as_text=True)
    assert _subjects(reverse, made) == [*expected["due"][:-1][::-1], "Lid broken"]
    # The queue order is the urgency column's, without a sort key.
    page = client.get("/staff/inbox/service?status=all&sort=customer").get_data(as_text=True)
    assert 'href="?status=all"' in page[page.index("<thead>") : page.index("</thead>")]


@pytest.mark.parametrize(
    "sort", ["urgency; drop table tickets", "x" * 10_000, "-", "--received", "id", "%00", ""]
)
def test_an_unknown_sort_key_is_the_queue_order(app, session, client, sort) -> None:
    make_user(session, email="ann@example.com")
    made = _queue(app, session)
    login(client, "ann@example.com")
    default = client.get("/staff/inbox/service?status=all").get_data(as_text=True)
    response = client.get("/staff/inbox/service", query_string={"status": "all", "sort": sort})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _subjects(page, made) == _subjects(default, made)
    head = page[page.index("<thead>") : page.index("</thead>")]
    assert "drop table" not in head and "xxxxxxxxxx" not in head  # not carried on
    assert 'aria-sort="descending"' in head  # the urgency column: the queue order


@pytest.mark.parametrize("sort", ["customer", "-customer", "due", "-due", "status", "-received"])
def test_sorted_paging_visits_every_ticket_once_in_order(app, session, sort) -> None:
    user = make_user(session)
    now = utcnow()
    for n in range(17):
        customer = make_customer(session, name=f"Name {n % 4}", email=f"p{n}@example.net")
        at = now - timedelta(minutes=n * 13 % 50)
        ticket = make_ticket(
            session,
            subject=f"t{n}",
            customer=customer,
            created_at=at,
            status=STATUS_ORDER[n % 3],
        )
        if n % 3:
            sla.start_clock(ticket, app.config, now=at)
    session.commit()
    view = InboxView("service", "department", department(session, "service"))
    filters = InboxFilters(status="all", sort=sort)
    whole = inbox_page(session, user, view, filters, utcnow(), limit=100).tickets
    seen, cursor = [], None
    while True:
        page = inbox_page(session, user, view, filters, utcnow(), cursor, limit=3)
        seen += page.tickets
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    assert [t.id for t in seen] == [t.id for t in whole] and len(seen) == 17


def test_the_phones_order_list_offers_only_sorts_the_inbox_knows(app) -> None:
    from support.staff.forms import InboxFilterForm

    with app.test_request_context("/"):
        values = [choice.value for choice in InboxFilterForm().sort.choices]
    assert values[0] == "" and len(set(values)) == len(values) == 1 + 2 * len(SORTS)
    assert all(InboxFilters.from_args({"sort": v}).sort == v for v in values[1:])


def _python_order(tickets, sort: str) -> list[int]:
    """The sorted inbox's order computed here: by the column then the id, both reversed for
    "-"; a ticket without a due time last either way (its own ids reversed too)."""
    name, descending = sort.removeprefix("-"), sort.startswith("-")
    attribute = {"received": "created_at", "due": "first_response_due_at"}[name]
    valued = [t for t in tickets if getattr(t, attribute) is not None]
    empty = [t for t in tickets if getattr(t, attribute) is None]
    valued.sort(key=lambda t: (getattr(t, attribute), t.id), reverse=descending)
    empty.sort(key=lambda t: t.id, reverse=descending)
    return [t.id for t in valued + empty]


@pytest.mark.parametrize("status", ["all", "open"])
@pytest.mark.parametrize("sort", ["received", "-received", "due", "-due"])
def test_sorted_pages_with_ties_and_no_due_times_match_a_python_sort(
    app, session, sort, status
) -> None:
    """Pages of 2 through tickets whose received and due times tie in threes, a third without
    a due time, other departments' and other statuses' tickets among them: each ticket once,
    in the order Python's sort gives, whichever index the database walks."""
    user = make_user(session)
    now = utcnow()
    made = []
    for n in range(23):
        at = now - timedelta(minutes=10 * (n // 3))  # three tickets share each time
        ticket = make_ticket(
            session,
            subject=f"t{n}",
            created_at=at,
            status=TICKET_STATUSES[n % 5],
            urgency=1 + n % 5,
            department_code="sales" if n % 7 == 6 else "service",
        )
        if n % 3:  # a third without a response clock: no due time
            ticket.first_response_due_at = now + timedelta(hours=(n * 5) % 4)
        made.append(ticket)
    session.commit()
    statuses = OPEN_STATUSES if status == "open" else TICKET_STATUSES[:5]
    matching = [t for t in made if t.department.code == "service" and t.status in statuses]
    assert any(t.first_response_due_at is None for t in matching)
    view = InboxView("service", "department", department(session, "service"))
    filters = InboxFilters(status=status, sort=sort)
    seen, cursor = [], None
    while True:
        page = inbox_page(session, user, view, filters, utcnow(), cursor, limit=2)
        seen += [t.id for t in page.tickets]
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    assert seen == _python_order(matching, sort)
