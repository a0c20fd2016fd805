"""Inboxes: order, filters, keyset paging, counts, and the index the queries use."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, text

from support.core.db import utcnow
from support.desk import sla
from support.desk.models import AuditEvent, Ticket
from support.staff.inbox import (
    Cursor,
    InboxFilters,
    InboxView,
    inbox_page,
    inbox_select,
    nav_counts,
)
from tests.factories import department, make_customer, make_ticket, make_user
from tests.support.staff_helpers import login


def _ticket(session, config, subject: str, urgency: int, created_minutes_ago: int, **fields):
    at = utcnow() - timedelta(minutes=created_minutes_ago)
    ticket = make_ticket(session, subject=subject, urgency=urgency, created_at=at, **fields)
    sla.start_clock(ticket, config, now=at)
    return ticket


def test_most_urgent_first_then_first_in_first_out(app, session, client) -> None:
    user = make_user(session, email="ann@example.com")
    _ticket(session, app.config, "normal old", 2, 300)
    _ticket(session, app.config, "normal new", 2, 10)
    _ticket(session, app.config, "emergency", 5, 5)
    _ticket(session, app.config, "important", 4, 60)
    make_ticket(session, subject="no clock yet", urgency=2)
    _ticket(session, app.config, "sales matter", 5, 5, department_code="sales")
    session.commit()
    view = InboxView("service", "department", department(session, "service"))
    page = inbox_page(session, user, view, InboxFilters(), utcnow())
    assert [t.subject for t in page.tickets] == [
        "emergency",
        "important",
        "normal old",
        "normal new",
        "no clock yet",
    ]
    session.commit()  # SQLite: end the read transaction before the app writes
    login(client, "ann@example.com")
    html = client.get("/staff/inbox/service").get_data(as_text=True)
    positions = [html.index(s) for s in ("emergency", "important", "normal old", "normal new")]
    assert positions == sorted(positions)
    assert "sales matter" not in html


def test_keyset_paging_visits_every_ticket_once(app, session) -> None:
    user = make_user(session)
    for n in range(23):
        _ticket(session, app.config, f"t{n}", 1 + n % 5, 5 * n + 1)
    for n in range(4):
        make_ticket(session, subject=f"unclocked{n}", urgency=3)
    session.commit()
    view = InboxView("service", "department", department(session, "service"))
    seen, cursor = [], None
    while True:
        page = inbox_page(session, user, view, InboxFilters(), utcnow(), cursor, limit=4)
        seen += page.tickets
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    assert len(seen) == 27 and len({t.id for t in seen}) == 27
    keys = [
        (-t.urgency, t.first_response_due_at is None, t.first_response_due_at or 0, t.id)
        for t in seen
    ]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1], k[2] if k[2] else 0, k[3]))


def test_next_page_link(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    for n in range(55):
        _ticket(session, app.config, f"Ticket number {n:02d}", 2, 100 - n)
    session.commit()
    login(client, "ann@example.com")
    first = client.get("/staff/inbox/service").get_data(as_text=True)
    assert "Ticket number 00" in first and "Ticket number 54" not in first
    next_href = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_href).get_data(as_text=True)
    assert "Ticket number 54" in second and "Ticket number 00" not in second
    assert 'rel="next"' not in second


def test_filters(app, session, client) -> None:
    ann = make_user(session, email="ann@example.com")
    acme = make_customer(session, name="Wang Fang", company="ACME Trading")
    _ticket(session, app.config, "Kettle leaks", 4, 30, customer=acme)
    _ticket(session, app.config, "Breached one", 5, 120, assignee=ann)
    _ticket(session, app.config, "Due soon one", 4, 200)
    waiting = _ticket(session, app.config, "Waiting one", 2, 20)
    waiting.status = "waiting"
    closed = _ticket(session, app.config, "Closed one", 2, 20)
    closed.status = "closed"
    session.commit()
    login(client, "ann@example.com")

    def subjects(**args) -> set[str]:
        html = client.get("/staff/inbox/service", query_string=args).get_data(as_text=True)
        names = ("Kettle leaks", "Breached one", "Due soon one", "Waiting one", "Closed one")
        return {s for s in names if s in html}

    assert subjects() == {"Kettle leaks", "Breached one", "Due soon one", "Waiting one"}
    assert subjects(status="closed") == {"Closed one"}
    assert subjects(status="waiting") == {"Waiting one"}
    assert subjects(urgency="5") == {"Breached one"}
    assert subjects(sla="breached") == {"Breached one"}
    assert subjects(sla="due_soon") == {"Due soon one"}
    assert subjects(sla="on_track") == {"Kettle leaks", "Waiting one"}
    assert subjects(assignee="me") == {"Breached one"}
    assert subjects(assignee="none") == {"Kettle leaks", "Due soon one", "Waiting one"}
    assert subjects(q="kettle") == {"Kettle leaks"}
    assert subjects(q="acme") == {"Kettle leaks"}
    assert subjects(q="wang fang") == {"Kettle leaks"}
    assert subjects(q="100%_") == set()
    # The urgency filter names the levels, and keeps the chosen one.
    html = client.get("/staff/inbox/service?urgency=5").get_data(as_text=True)
    urgency = html.split('name="urgency"')[1].split("</select>")[0]
    assert re.search(r'<option selected value="5">5 · Emergency</option>', urgency)
    assert '<option value="1">1 · Suggestion or praise</option>' in urgency
    assert 'title="Urgency 5 · Emergency">5</span>' in html  # the badge's tooltip names it
    breached = session.scalar(select(Ticket.id).where(Ticket.subject == "Breached one"))
    session.commit()
    page = client.get(f"/staff/tickets/{breached}").get_data(as_text=True)
    assert (
        'title="Urgency 5 · Emergency"><span aria-hidden="true">5</span>'
        '<span class="visually-hidden">Urgency 5 · Emergency: </span></span> Breached one</h1>'
    ) in page
    chinese = client.get(f"/staff/tickets/{breached}?lang=zh").get_data(as_text=True)
    assert 'title="级别 5 · 紧急"><span aria-hidden="true">5</span>' in chinese  # not 紧急程度 5


def test_triage_and_mine_inboxes(app, session, client) -> None:
    triager = make_user(session, email="tri@example.com", can_triage=True)
    plain = make_user(session, email="plain@example.com")
    make_ticket(session, subject="Unsure where", department_code=None, needs_triage=True)
    make_ticket(session, subject="Mine indeed", assignee=plain)
    session.commit()
    login(client, "tri@example.com")
    assert "Unsure where" in client.get("/staff/inbox/triage").get_data(as_text=True)
    client.post("/staff/logout")
    login(client, "plain@example.com")
    assert client.get("/staff/inbox/triage").status_code == 404
    assert "Mine indeed" in client.get("/staff/inbox/mine").get_data(as_text=True)
    assert nav_counts(session, plain) == {"service": 1, "mine": 1}
    assert nav_counts(session, triager)["triage"] == 1


def test_navigation_shows_open_counts(app, session, client) -> None:
    make_user(session, email="ann@example.com", departments=("service", "sales"))
    for _ in range(3):
        make_ticket(session)
    make_ticket(session, department_code="sales")
    make_ticket(session, status="resolved")
    session.commit()
    login(client, "ann@example.com")
    html = client.get("/staff/inbox/service").get_data(as_text=True)
    nav = html.split('class="staff-nav"')[1].split("</span>\n{% endif %}")[0]
    assert 'Customer Service</span> <span class="count" aria-label="open tickets">3</span>' in nav
    assert 'Sales</span> <span class="count" aria-label="open tickets">1</span>' in nav


def test_lead_sees_escalated_tickets_first(app, session, client) -> None:
    make_user(session, email="lead@example.com", role="lead")
    _ticket(session, app.config, "Quiet one", 5, 1)
    late = _ticket(session, app.config, "Escalated one", 2, 3000)
    late.escalated_at = utcnow()
    session.commit()
    login(client, "lead@example.com")
    html = client.get("/staff/inbox/service").get_data(as_text=True)
    panel = html.split("Escalated: response target missed")[1].split("</section>")[0]
    assert "Escalated one" in panel and "Quiet one" not in panel


def _plan(session, query) -> str:
    compiled = query.compile(session.bind, compile_kwargs={"literal_binds": True})
    dialect = session.bind.dialect.name
    if dialect == "sqlite":
        rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return "\n".join(str(r[-1]) for r in rows)
    session.execute(text("SET LOCAL enable_seqscan = off"))
    rows = session.execute(text(f"EXPLAIN {compiled}")).all()
    return "\n".join(r[0] for r in rows)


def test_inbox_queries_use_the_queue_index(app, session) -> None:
    user = make_user(session, can_triage=True)
    make_ticket(session)
    session.commit()
    now = utcnow()
    service = InboxView("service", "department", department(session, "service"))
    query = inbox_select(user, service, InboxFilters(), now, Cursor(3, now, 10))
    assert "ix_tickets_queue" in _plan(session, query)
    for_filters = inbox_select(user, service, InboxFilters(sla="breached", q="x"), now)
    assert "ix_tickets_queue" in _plan(session, for_filters)
    triage = inbox_select(user, InboxView("triage", "triage"), InboxFilters(), now)
    assert "ix_tickets_triage" in _plan(session, triage)
    mine = inbox_select(user, InboxView("mine", "mine"), InboxFilters(), now)
    assert "ix_tickets_assignee" in _plan(session, mine)
    session.commit()


def test_bad_cursor_means_first_page(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    make_ticket(session, subject="Only one")
    session.commit()
    login(client, "ann@example.com")
    page = client.get("/staff/inbox/service?after=garbage")
    assert page.status_code == 200 and "Only one" in page.get_data(as_text=True)
    assert Cursor.decode("5.n.12") == Cursor(5, None, 12)
    assert Cursor.decode("x.y") is None
    ticket = Ticket(urgency=4, first_response_due_at=utcnow(), id=9)
    assert Cursor.decode(Cursor.after(ticket).encode()) == Cursor.after(ticket)


def test_the_status_filter_names_each_status_once_and_in_the_page_language(
    app, session, client
) -> None:
    """It listed "open" twice (the group and the status, both value "open") and showed raw
    English status names on Chinese pages."""
    waiting = make_ticket(session, subject="Waiting one", status="waiting")
    only_open = make_ticket(session, subject="Open one", status="open")
    make_user(session, email="agent@example.com", departments=("service",))
    session.commit()
    login(client, "agent@example.com")
    html = client.get("/staff/inbox/service").get_data(as_text=True)
    values = re.findall(
        r'<option[^>]*value="([^"]*)"', html.split('name="status"')[1].split("</select>")[0]
    )
    assert len(values) == len(set(values)) and "only-open" in values
    exact = client.get("/staff/inbox/service?status=only-open").get_data(as_text=True)
    assert only_open.reference in exact and waiting.reference not in exact
    client.set_cookie("lang", "zh")
    chinese = client.get("/staff/inbox/service?lang=zh").get_data(as_text=True)
    select = chinese.split('name="status"')[1].split("</select>")[0]
    assert "等待客户" in select and ">waiting<" not in select and ">resolved<" not in select


def test_breached_and_due_soon_come_first_across_urgencies(app, session) -> None:
    """The issue's complaint: an overdue urgency-2 ticket sorted below on-track 4/5 ones."""
    user = make_user(session)
    _ticket(session, app.config, "emergency on track", 5, 5)
    _ticket(session, app.config, "important on track", 4, 10)
    _ticket(session, app.config, "normal overdue", 2, 60 * 30)  # 24 h target: breached
    _ticket(session, app.config, "normal due soon", 2, 60 * 20)  # past 75% of 24 h
    _ticket(session, app.config, "important overdue", 4, 60 * 5)
    _ticket(session, app.config, "normal fresh", 2, 5)
    session.commit()
    view = InboxView("service", "department", department(session, "service"))
    page = inbox_page(session, user, view, InboxFilters(), utcnow())
    assert [t.subject for t in page.tickets] == [
        "important overdue",
        "normal overdue",
        "normal due soon",
        "emergency on track",
        "important on track",
        "normal fresh",
    ]
    assert page.states[page.tickets[0].id] == "breached"
    # Paging through both groups visits every ticket once, in the same order.
    seen, cursor = [], None
    while True:
        part = inbox_page(session, user, view, InboxFilters(), utcnow(), cursor, limit=2)
        seen += [t.subject for t in part.tickets]
        if part.next_cursor is None:
            break
        cursor = Cursor.decode(part.next_cursor.encode())
    assert seen == [t.subject for t in page.tickets]
    assert Cursor.decode("h4.n.7") == Cursor(4, None, 7, True)


def test_preview_age_and_unread_marker_until_opened(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    ticket = _ticket(session, app.config, "Heater", 3, 90)
    ticket.last_customer_message_at = ticket.created_at
    session.commit()
    login(client, "ann@example.com")
    html = client.get("/staff/inbox/service").get_data(as_text=True)
    assert 'class="unread"' in html and "My kettle stopped working" in html
    assert re.search(r'class="age"[^>]*>1 h<', html)
    assert client.get(f"/staff/tickets/{ticket.id}").status_code == 200
    html = client.get("/staff/inbox/service").get_data(as_text=True)
    assert 'class="unread"' not in html
    # A new customer message makes it unread again.
    ticket = session.get(Ticket, ticket.id)
    ticket.last_customer_message_at = utcnow() + timedelta(seconds=5)
    session.commit()
    assert 'class="unread"' in client.get("/staff/inbox/service").get_data(as_text=True)
    client.set_cookie("lang", "zh")
    html = client.get("/staff/inbox/service").get_data(as_text=True)
    assert "1 小时" in html and "搜索工单" in html


def test_bulk_actions_check_access_and_write_history(app, session, client) -> None:
    ann = make_user(session, email="ann@example.com")
    mine = _ticket(session, app.config, "Mine to move", 2, 30)
    foreign = _ticket(session, app.config, "Sales only", 2, 30, department_code="sales")
    sales_id = department(session, "sales").id
    session.commit()
    login(client, "ann@example.com")
    response = client.post(
        "/staff/inbox/service/bulk",
        data={"action": "assign", "assignee": str(ann.id), "ticket_id": [mine.id, foreign.id]},
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Ticket, mine.id).assignee_id == ann.id
    assert session.get(Ticket, foreign.id).assignee_id is None  # not hers to see
    session.commit()  # SQLite: end the read transaction before the app writes
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert f"1 ticket assigned: {mine.reference}." in page
    assert "1 ticket could not be changed." in page
    # A ticket that does not exist reads the same as another department's: no existence test.
    client.post(
        "/staff/inbox/service/bulk",
        data={"action": "assign", "assignee": str(ann.id), "ticket_id": [mine.id, 10**6]},
    )
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert "1 ticket could not be changed." in page
    response = client.post(
        "/staff/inbox/service/bulk", data={"action": "assign", "assignee": str(ann.id)}
    )
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert "Select one or more tickets first." in page and "0 tickets" not in page
    client.post("/staff/spam/tickets", data={})  # the bulk "spam" button, nothing ticked
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert "Select one or more tickets first." in page and "0 tickets" not in page
    client.post(
        "/staff/inbox/service/bulk",
        data={"action": "move", "department": str(sales_id), "ticket_id": [mine.id]},
    )
    session.expire_all()
    assert session.get(Ticket, mine.id).department_id == sales_id
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == mine.id)))
    assert {"ticket.assigned", "ticket.department_changed"} <= actions, actions
    session.commit()
    assert client.post("/staff/inbox/service/bulk", data={"action": "explode"}).status_code in (
        302,
        400,
    )
    session.commit()


def test_bulk_action_returns_to_the_filtered_page_and_names_the_tickets(
    app, session, client
) -> None:
    """Resolving from a filtered inbox (or "Mine", or the home page) lands on that same page
    with its filters, and says which tickets were resolved, so a slip can be undone."""
    make_user(session, email="ann@example.com")
    first = _ticket(session, app.config, "Boiler leaking", 4, 30)
    second = _ticket(session, app.config, "Boiler noisy", 4, 20)
    session.commit()
    login(client, "ann@example.com")
    filtered = "/staff/inbox/service?urgency=4&q=boiler"
    response = client.post(
        "/staff/inbox/service/bulk",
        data={"action": "resolve", "ticket_id": [first.id, second.id], "next": filtered},
    )
    assert response.status_code == 302 and response.headers["Location"] == filtered
    page = client.get(filtered + "&lang=en").get_data(as_text=True)
    assert f"2 tickets resolved: {first.reference}, {second.reference}." in page
    for elsewhere in ("https://evil.example/", "//evil.example/staff/", "/a/some-article"):
        response = client.post(
            "/staff/inbox/service/bulk",
            data={"action": "resolve", "ticket_id": [first.id], "next": elsewhere},
        )
        assert response.headers["Location"] == "/staff/inbox/service"


def test_bulk_action_names_tickets_that_needed_no_change_apart(app, session, client) -> None:
    """Moving a ticket to the department it is in, or resolving one already resolved, said
    "1 ticket moved" although nothing happened."""
    make_user(session, email="ann@example.com")
    first = _ticket(session, app.config, "Boiler leaking", 4, 30)
    second = _ticket(session, app.config, "Boiler noisy", 4, 20)
    third = _ticket(session, app.config, "Boiler cold", 4, 10)
    service_id = department(session, "service").id
    session.commit()
    login(client, "ann@example.com")
    client.post(
        "/staff/inbox/service/bulk",
        data={"action": "move", "department": str(service_id), "ticket_id": [first.id]},
    )
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert f"1 ticket needed no change: {first.reference}." in page
    assert "moved" not in page
    client.post("/staff/inbox/service/bulk", data={"action": "resolve", "ticket_id": [first.id]})
    session.commit()
    client.set_cookie("lang", "zh")
    client.post(
        "/staff/inbox/service/bulk",
        data={"action": "resolve", "ticket_id": [first.id, second.id, third.id]},
    )
    page = client.get("/staff/inbox/service").get_data(as_text=True)
    assert f"已解决 2 个工单：{second.reference}、{third.reference}。" in page
    assert f"1 个工单无需更改（已是所选状态）：{first.reference}。" in page
    changes = session.scalars(
        select(AuditEvent.id).where(
            AuditEvent.ticket_id == first.id, AuditEvent.action == "ticket.status_changed"
        )
    ).all()
    assert len(changes) == 1


def test_bulk_assign_offers_oneself_first_and_nobody_last(app, session, client) -> None:
    # "Nobody" came first, so ticking tickets and pressing "Assign" unassigned them. (A lead's
    # list: an agent's bar has "Take" alone, test_take_or_assign.)
    ann = make_user(session, email="ann@example.com", name="Ann", role="lead")
    _ticket(session, app.config, "Boiler leaking", 4, 30)
    session.commit()
    login(client, "ann@example.com")
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    select = page.split('id="bulk-assignee"', 1)[1].split("</select>", 1)[0]
    values = re.findall(r'<option value="(\d*)">', select)
    assert values[0] == str(ann.id) and values[-1] == ""


def test_staff_lists_name_only_the_users_departments(app, session, client) -> None:
    # The filter's and bulk form's people, and the ticket page's assign list, come from the
    # departments the user works: another department's staff are not named anywhere.
    make_user(session, email="lead@example.com", role="lead")
    make_user(session, email="bo@example.com", name="Bo Chen")
    make_user(session, email="zhao@example.com", name="Zhao Min", departments=("sales",))
    ticket = _ticket(session, app.config, "Boiler leaking", 4, 30)
    session.commit()
    login(client, "lead@example.com")
    inbox = client.get("/staff/inbox/service").get_data(as_text=True)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    mine = client.get("/staff/inbox/mine").get_data(as_text=True)
    assert "Bo Chen" in inbox and "Bo Chen" in page
    assert all("Zhao Min" not in html for html in (inbox, page, mine))
    assert client.get("/staff/inbox/sales").status_code == 404


def test_bulk_move_starts_on_a_placeholder_the_server_refuses(app, session, client) -> None:
    # The first department was preselected, so ticking tickets and pressing "Move" moved them.
    make_user(session, email="ann@example.com")
    ticket = _ticket(session, app.config, "Boiler leaking", 4, 30)
    service_id = department(session, "service").id
    session.commit()
    login(client, "ann@example.com")
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    menu = page.split('id="bulk-department"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="(\d*)"', menu)[0] == ""
    assert "Choose a department" in menu
    response = client.post(
        "/staff/inbox/service/bulk",
        data={"action": "move", "department": "", "ticket_id": [ticket.id]},
    )
    assert response.status_code == 302
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert "Choose a department." in page and "could not be changed" not in page
    session.expire_all()
    assert session.get(Ticket, ticket.id).department_id == service_id
    assert not session.scalars(select(AuditEvent.id).where(AuditEvent.ticket_id == ticket.id)).all()


def test_a_due_soon_badge_says_how_much_time_is_left(app, session, client) -> None:
    """ "Due soon" alone left the agent to work out the rest from the due column, which after a
    first answer shows the first response's time, not the resolution's the badge means."""
    make_user(session, email="ann@example.com")
    ticket = _ticket(session, app.config, "Due soon one", 4, 200)  # 4 h target: 40 min left
    _ticket(session, app.config, "On track one", 4, 10)
    session.commit()
    ticket_id = ticket.id
    assert sla.sla_state(ticket, utcnow()) == "due_soon"
    login(client, "ann@example.com")
    html = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert re.findall(r'data-testid="due-in">([^<]*)<', html) in (
        ["39 min left"],
        ["40 min left"],
    )
    page = client.get(f"/staff/tickets/{ticket_id}?lang=en").get_data(as_text=True)
    assert re.search(r'data-testid="head-due-in"> \((39|40) min left\)<', page)
    chinese = client.get("/staff/inbox/service?lang=zh").get_data(as_text=True)
    assert re.search(r'data-testid="due-in">还剩 (39|40) 分钟<', chinese)


def test_due_soon_and_on_track_rows_say_the_time_left_alike(app, session, client) -> None:
    """A "due soon" row said 還剩 13 分鐘 while an on-track row said 23 小時 14 分鐘後: one
    phrasing for every due time, in each language (the ticket page's due time too)."""
    make_user(session, email="ann@example.com")
    soon = _ticket(session, app.config, "Due soon one", 4, 200)  # 40 min of 4 h left
    on_track = _ticket(session, app.config, "On track one", 2, 60)  # 23 h of 24 h left
    session.commit()
    soon_id, on_track_id = soon.id, on_track.id
    login(client, "ann@example.com")

    def due_cells(html: str) -> list[str]:
        cells = re.findall(r'<td class="due">.*?<div class="muted">([^<]*)</div>', html, re.S)
        return [" ".join(c.split()) for c in cells]

    english = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert [re.sub(r"\d+", "N", c) for c in due_cells(english)] == [
        "N min left",
        "N h N min left",
    ]
    chinese = client.get("/staff/inbox/service?lang=zh").get_data(as_text=True)
    assert [re.sub(r"\d+", "N", c) for c in due_cells(chinese)] == [
        "还剩 N 分钟",
        "还剩 N 小时 N 分钟",
    ]
    traditional = client.get("/staff/inbox/service", headers={"Accept-Language": "zh-TW"}).get_data(
        as_text=True
    )
    assert [re.sub(r"\d+", "N", c) for c in due_cells(traditional)] == [
        "還剩 N 分鐘",
        "還剩 N 小時 N 分鐘",
    ]
    assert "後" not in "".join(due_cells(traditional))
    for ticket_id in (soon_id, on_track_id):
        page = client.get(f"/staff/tickets/{ticket_id}?lang=zh").get_data(as_text=True)
        due = page.split('data-testid="due-time"', 1)[1].split("</p>", 1)[0]
        assert "还剩" in due and "后" not in due


def test_a_passed_due_time_says_how_long_overdue(app) -> None:
    from support.staff.inbox import time_left_text

    with app.test_request_context("/?lang=en"):
        assert time_left_text(2 * 3600 + 600) == "2 h 10 min left"
        assert time_left_text(-35 * 60) == "35 min overdue"
    with app.test_request_context("/?lang=zh"):
        assert time_left_text(-35 * 60) == "已超时 35 分钟"


def test_time_left_stands_still_while_the_clock_is_paused(app, session) -> None:
    """The time left is the SLA code's own: a paused clock (waiting for the customer) keeps
    what was left when the pause began."""
    ticket = _ticket(session, app.config, "Paused", 4, 200)
    now = utcnow()
    sla.pause_clock(ticket, now=now)
    left = sla.time_left(ticket, now)
    assert left is not None and timedelta(minutes=39) < left <= timedelta(minutes=40)
    assert sla.time_left(ticket, now + timedelta(hours=5)) == left


def test_bulk_take_assigns_to_oneself_whatever_the_assign_list_says(app, session, client) -> None:
    """The inbox's `a` (take the selected tickets): a lead's "Assign to" list may name a
    colleague, but taking is always to oneself; another department's ticket is refused as
    any bulk action refuses it."""
    lead = make_user(session, email="lena@example.com", role="lead", name="Lena")
    ann = make_user(session, email="ann@example.com", name="Ann")
    first = _ticket(session, app.config, "Boiler leaking", 4, 30)
    second = _ticket(session, app.config, "Boiler noisy", 4, 20)
    foreign = _ticket(session, app.config, "Sales only", 2, 30, department_code="sales")
    second.assignee_id = ann.id
    session.commit()
    login(client, lead.email)
    response = client.post(
        "/staff/inbox/service/bulk",
        data={
            "action": "take",
            "assignee": str(ann.id),
            "ticket_id": [first.id, second.id, foreign.id],
        },
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Ticket, first.id).assignee_id == lead.id
    assert session.get(Ticket, second.id).assignee_id == lead.id
    assert session.get(Ticket, foreign.id).assignee_id is None
    session.commit()
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert f"2 tickets assigned to you: {first.reference}, {second.reference}." in page
    assert "1 ticket could not be changed." in page
    client.post("/staff/inbox/service/bulk", data={"action": "take", "ticket_id": [first.id]})
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    assert f"1 ticket needed no change: {first.reference}." in page


def test_bulk_take_says_so_in_chinese(app, session, client) -> None:
    agent = make_user(session, email="ann@example.com")
    ticket = _ticket(session, app.config, "Boiler leaking", 4, 30)
    session.commit()
    login(client, agent.email)
    client.set_cookie("lang", "zh")
    client.post("/staff/inbox/service/bulk", data={"action": "take", "ticket_id": [ticket.id]})
    page = client.get("/staff/inbox/service").get_data(as_text=True)
    assert f"已分配给您 1 个工单：{ticket.reference}。" in page
    assert "由我处理选中的工单（未选中时为当前工单）" in page  # the shortcut help


def test_mine_has_no_assignee_filter_and_its_empty_state_says_how_tickets_become_yours(
    app, session, client
) -> None:
    """Every ticket in "Mine" is the user's: an Assignee filter there only confuses, and an
    empty "Mine" says how a ticket gets there."""
    make_user(session, email="new@example.com")
    session.commit()
    login(client, "new@example.com")
    mine = client.get("/staff/inbox/mine").get_data(as_text=True)
    assert 'id="assignee"' not in mine
    assert 'data-testid="empty-inbox"' in mine and "press a" in mine and "lead" in mine
    department_page = client.get("/staff/inbox/service").get_data(as_text=True)
    assert 'id="assignee"' in department_page  # the other inboxes keep it
    assert "press a" not in department_page
    client.set_cookie("lang", "zh")
    chinese = client.get("/staff/inbox/mine").get_data(as_text=True)
    assert "主管" in chinese
