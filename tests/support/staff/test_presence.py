"""The ticket page's heartbeat (support.staff.presence): who else has the ticket open, whether
they are replying, and what came in since the page was shown; stored in the database so the web
processes of every host see the same (support.desk.presence)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from support.app import periodic_services
from support.core.db import utcnow
from support.desk import actions, notifications, presence
from support.desk.models import Message, TicketPresence
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login


def _beat(client, ticket, state: str = "viewing", seen: str | None = "1"):
    data = {"state": state}
    if seen is not None:
        data["seen"] = seen
    return client.post(f"/staff/tickets/{ticket.id}/presence", data=data)


def _rows(session) -> int:
    count = session.scalar(select(func.count()).select_from(TicketPresence))
    session.commit()
    return int(count or 0)


def test_a_colleague_replying_appears_and_leaving_takes_them_off(app, client, session) -> None:
    agent = make_user(session, name="Mei Chen")
    colleague = make_user(session, name="Li Lei")
    ticket = make_ticket(session)
    session.commit()
    other = app.test_client()
    login(client, agent.email)
    login(other, colleague.email)

    assert _beat(client, ticket).get_json()["people"] == []  # nobody else yet
    assert _beat(other, ticket, "replying").status_code == 200
    answer = _beat(client, ticket).get_json()
    assert answer["people"] == [
        {"name": "Li Lei", "state": "replying", "text": "Li Lei is replying"}
    ]
    assert answer["notice"] == ""  # the page showed the customer's one message

    # The colleague's own answer names the agent, as viewing; one row each, renewed in place.
    assert _beat(other, ticket, "replying").get_json()["people"][0]["text"] == "Mei Chen is viewing"
    assert _rows(session) == 2

    # Whoever is replying comes first, before those only viewing.
    third = make_user(session, name="Ah Viewing")
    session.commit()
    watcher = app.test_client()
    login(watcher, third.email)
    assert [p["name"] for p in _beat(watcher, ticket).get_json()["people"]] == [
        "Li Lei",
        "Mei Chen",
    ]
    assert _beat(watcher, ticket, "gone").status_code == 200

    assert _beat(other, ticket, "gone").status_code == 200  # the page was closed
    assert _beat(client, ticket).get_json()["people"] == []
    assert _rows(session) == 1


def test_an_expired_heartbeat_no_longer_counts_and_is_purged(app, client, session) -> None:
    agent = make_user(session)
    colleague = make_user(session, name="Li Lei")
    ticket = make_ticket(session)
    elsewhere = make_ticket(session)
    session.commit()
    long_ago = utcnow() - timedelta(seconds=presence.EXPIRES_SECONDS + 5)
    session.add_all(
        [
            TicketPresence(
                ticket_id=ticket.id, user_id=colleague.id, state="replying", expires_at=long_ago
            ),
            TicketPresence(
                ticket_id=elsewhere.id, user_id=colleague.id, state="viewing", expires_at=long_ago
            ),
        ]
    )
    session.commit()
    login(client, agent.email)
    # Not shown even before anything deleted it (another host's clock may purge later).
    assert presence.colleagues(session, ticket.id, agent.id, utcnow()) == []
    session.commit()

    assert _beat(client, ticket).get_json()["people"] == []
    assert _rows(session) == 2  # the ticket's expired row went with the heartbeat, not others'
    with app.app_context():
        removed = presence.purge(session, utcnow())
    session.commit()
    assert removed == 1
    assert _rows(session) == 1  # the agent's own live row stays


def test_what_came_in_since_the_page_was_shown_is_told(client, session) -> None:
    agent = make_user(session)
    colleague = make_user(session, name="Li Lei")
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    assert _beat(client, ticket, seen="1").get_json()["arrived"] == 0

    actions.add_note(session, ticket, agent, "My own note is not news to me.")
    session.commit()
    assert _beat(client, ticket, seen="1").get_json()["notice"] == ""

    session.add(
        Message(
            ticket=ticket,
            direction="in",
            from_address=ticket.customer.email,
            body_text="Any news?",
            new_text="Any news?",
            created_at=utcnow(),
        )
    )
    session.commit()
    answer = _beat(client, ticket, seen="1").get_json()
    assert answer["notice"] == "New message from the customer"
    assert answer["show"] == "show it"

    actions.add_note(session, ticket, colleague, "She called: refund instead.")
    session.commit()
    assert _beat(client, ticket, seen="2").get_json()["notice"] == ("New internal note from Li Lei")
    assert _beat(client, ticket, seen="1").get_json()["notice"] == "2 new messages"
    # A page that did not say what it showed hears of nothing (and still counts as present).
    assert _beat(client, ticket, seen=None).get_json()["arrived"] == 0


def test_the_count_matches_the_pages_own(app, client, session) -> None:
    """The page's hidden count and the heartbeat's query agree: a fresh page hears of nothing."""
    agent = make_user(session)
    colleague = make_user(session, name="Li Lei")
    ticket = make_ticket(session)
    actions.add_note(session, ticket, colleague, "Checked the stock.")
    actions.add_note(session, ticket, agent, "Thanks.")
    with app.test_request_context():  # our mail to staff is recorded, not shown
        assert notifications.notify_assigned(session, ticket, agent, colleague, app.config)
    session.add(  # our auto-reply is nobody's news
        Message(
            ticket=ticket,
            direction="auto",
            is_automatic=True,
            from_address="service@example.com",
            body_text="We received your mail.",
            new_text="We received your mail.",
            created_at=utcnow(),
        )
    )
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    seen = page.split('name="reply-seen"')[1].split('value="')[1].split('"')[0]
    assert seen == "2"
    assert _beat(client, ticket, seen=seen).get_json()["arrived"] == 0


def test_an_agent_of_another_department_gets_404_and_leaves_no_trace(client, session) -> None:
    outsider = make_user(session, departments=("finance",))
    ticket = make_ticket(session)  # in "service"
    session.commit()
    login(client, outsider.email)
    assert client.get(f"/staff/tickets/{ticket.id}").status_code == 404  # as the page
    assert _beat(client, ticket, "replying").status_code == 404
    assert _rows(session) == 0


def test_signed_out_the_heartbeat_is_refused(client, session) -> None:
    ticket = make_ticket(session)
    session.commit()
    assert _beat(client, ticket).status_code in (302, 401)
    assert _rows(session) == 0


class TestWithCsrf:
    @pytest.fixture
    def app_settings(self) -> dict:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_heartbeat_without_the_token_writes_nothing(self, client, session) -> None:
        agent = make_user(session)
        ticket = make_ticket(session)
        session.commit()
        client.set_cookie("lang", "en")
        page = client.get("/staff/login").get_data(as_text=True)
        token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
        signed_in = client.post(
            "/staff/login",
            data={"email": agent.email, "password": "correct horse battery", "csrf_token": token},
        )
        assert signed_in.status_code == 302
        assert _beat(client, ticket).status_code == 400
        assert _rows(session) == 0
        page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
        token = page.split('name="reply-csrf_token"')[1].split('value="')[1].split('"')[0]
        sent = client.post(
            f"/staff/tickets/{ticket.id}/presence",
            data={"state": "viewing"},
            headers={"X-CSRFToken": token},
        )
        assert sent.status_code == 200
        assert _rows(session) == 1


def test_the_words_come_in_the_agents_language(app, client, session) -> None:
    agent = make_user(session)
    colleague = make_user(session, name="李雷")
    ticket = make_ticket(session)
    session.commit()
    other = app.test_client()
    login(client, agent.email)
    login(other, colleague.email)
    client.set_cookie("lang", "zh")
    assert _beat(other, ticket, "replying").status_code == 200
    session.add(
        Message(
            ticket=ticket,
            direction="in",
            from_address=ticket.customer.email,
            body_text="有进展吗？",
            new_text="有进展吗？",
            created_at=utcnow(),
        )
    )
    session.commit()
    answer = _beat(client, ticket).get_json()
    assert answer["notice"] == "客户发来了新消息"
    assert answer["people"][0]["text"] == "李雷 正在回复"


def test_the_hourly_purge_runs_once_across_hosts(app, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.add(
        TicketPresence(
            ticket_id=ticket.id,
            user_id=agent.id,
            state="viewing",
            expires_at=utcnow() - timedelta(hours=2),
        )
    )
    session.commit()
    task = next(s for s in periodic_services(app) if s.name == "presence-purge")
    assert task.lease is not None  # one host runs it (support.core.leases)
    task.function()
    assert _rows(session) == 0


def _statements(db, client, ticket) -> int:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert _beat(client, ticket, seen="0").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(seen)


def test_a_heartbeat_costs_the_same_few_statements_on_a_busy_ticket(
    app, db, client, session
) -> None:
    agent = make_user(session)
    quiet = make_ticket(session)
    busy = make_ticket(session)
    for n in range(30):
        actions.add_note(session, busy, agent if n % 2 else make_user(session), f"Note {n}")
    session.commit()
    for colleague in [make_user(session) for _ in range(8)]:
        presence.beat(session, busy.id, colleague.id, "replying", utcnow())
    session.commit()
    login(client, agent.email)
    _beat(client, quiet)  # the session's first request loads the user once

    counted = _statements(db, client, busy), _statements(db, client, quiet)
    print("statements per heartbeat (busy, quiet):", counted)
    assert counted[0] == counted[1] <= 12


def test_the_inbox_names_who_has_each_ticket_open(app, client, session) -> None:
    # Two agents working down one shared queue both opened the top ticket: the ticket page
    # tells them only once both are in it. The inbox row says so before the second one clicks.
    agent = make_user(session, name="Mei Chen")
    replying = make_user(session, name="<i>Li Lei</i>")
    viewing = make_user(session, name="Wang Fang")
    gone = make_user(session, name="Zhou Tao", is_active=False)
    busy = make_ticket(session, subject="Kettle")
    stale = make_ticket(session, subject="Toaster")
    sales = make_ticket(session, department_code="sales", subject="Quote")
    quiet = make_ticket(session, subject="Fan")
    session.commit()
    now = utcnow()
    presence.beat(session, busy.id, viewing.id, "viewing", now)
    presence.beat(session, busy.id, replying.id, "replying", now)
    presence.beat(session, busy.id, gone.id, "replying", now)  # a deactivated account
    presence.beat(session, busy.id, agent.id, "viewing", now)  # the agent's own tab
    presence.beat(session, sales.id, viewing.id, "viewing", now)
    session.add(
        TicketPresence(
            ticket_id=stale.id,
            user_id=viewing.id,
            state="viewing",
            expires_at=now - timedelta(seconds=1),
        )
    )
    session.commit()
    found = presence.open_by_others(session, [busy.id, stale.id, quiet.id], agent.id, now)
    session.commit()
    assert found == {
        busy.id: [
            presence.Colleague("<i>Li Lei</i>", "replying"),
            presence.Colleague("Wang Fang", "viewing"),
        ]
    }

    login(client, agent.email)
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    rows = {
        ref: page[page.index(f">{ref}") :][:1500]
        for ref in (busy.reference, stale.reference, quiet.reference)
    }
    row = rows[busy.reference][: rows[busy.reference].index("</td>")]
    words = re.sub(r"<[^>]+>", "", row)  # each name in its own element (app.js expires it)
    assert "&lt;i&gt;Li Lei&lt;/i&gt; is replying · Wang Fang is viewing" in words
    assert "Zhou Tao" not in page and "Mei Chen is" not in page
    assert 'data-testid="busy"' not in rows[stale.reference].split("</td>")[0]
    assert 'data-testid="busy"' not in rows[quiet.reference].split("</td>")[0]
    assert sales.reference not in page
    zh = client.get("/staff/inbox/service?lang=zh").get_data(as_text=True)
    assert "Wang Fang 正在查看" in zh


def test_the_inbox_says_how_long_each_name_holds(app, client, session) -> None:
    """The inbox is drawn once and may stay open for an hour: each name carries the seconds
    its heartbeat still counts, and app.js takes it off then (a closed browser sends no
    "gone"). Time is controlled: the heartbeat is dated 50 s ago."""
    agent = make_user(session, name="Mei Chen")
    viewing = make_user(session, name="Wang Fang")
    ticket = make_ticket(session, subject="Kettle")
    session.commit()
    presence.beat(session, ticket.id, viewing.id, "viewing", utcnow() - timedelta(seconds=50))
    session.commit()
    login(client, agent.email)
    page = client.get("/staff/inbox/service?lang=en").get_data(as_text=True)
    row = page[page.index('data-testid="busy"') :].split("</div>", 1)[0]
    [left] = re.findall(r'data-expires-in="(\d+)"', row)
    assert 1 <= int(left) <= presence.EXPIRES_SECONDS - 50 and "Wang Fang is viewing" in row


def test_the_heartbeat_says_how_long_its_names_hold(client, session) -> None:
    agent = make_user(session, name="Mei Chen")
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    answer = client.post(f"/staff/tickets/{ticket.id}/presence", data={"state": "viewing"})
    assert answer.get_json()["expires"] == presence.EXPIRES_SECONDS
