"""Tags on tickets (support.desk.tags) and saved inbox views (support.desk.saved_views): what
the pages show in both languages, the inbox's tag filter, the history, the department boundary
(another department's agent sees, tags and counts nothing of ours), other agents' views, and
CSRF on every new POST."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.auth import issue_api_token
from support.core.db import utcnow
from support.desk import saved_views, tags
from support.desk.actions import ActionError
from support.desk.models import AuditEvent, SavedView, Ticket, TicketTag
from support.staff.inbox import InboxFilters, InboxView, inbox_count, inbox_page
from tests.factories import department, make_ticket, make_user
from tests.support.staff_helpers import login


def _text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Refund", "refund"),
        ("  #Refund  ", "refund"),
        ("REFUND", "refund"),
        ("ＲＥＦＵＮＤ", "refund"),  # full-width letters
        ("late delivery", "late-delivery"),
        ("late   delivery", "late-delivery"),
        ("退货", "退货"),
        ("退貨", "退货"),  # Traditional reads as Simplified
        ("K200_v2.1", "k200_v2.1"),
    ],
)
def test_tags_are_normalised(app, typed, expected) -> None:
    with app.test_request_context("/?lang=en"):
        assert tags.normalise(typed) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "Write a tag first"),
        ("   #  ", "Write a tag first"),
        ("x" * 33, "at most 32 characters"),
        ("<script>", "letters, digits"),
        ("a,b", "letters, digits"),
        ("a\nb", None),  # a line break is a space: "a-b"
    ],
)
def test_tags_that_cannot_be(app, typed, reason) -> None:
    with app.test_request_context("/?lang=en"):
        if reason is None:
            assert tags.normalise(typed) == "a-b"
            return
        with pytest.raises(tags.TagRefused, match=reason):
            tags.normalise(typed)


@pytest.fixture
def desk(app, session):
    """An agent of Customer Service with two tickets, and a Sales agent with one."""
    agent = make_user(session, email="agent@example.com", name="Andy")
    colleague = make_user(session, email="colleague@example.com", name="Cleo")
    outsider = make_user(session, email="sales@example.com", name="Sam", departments=("sales",))
    kettle = make_ticket(session, subject="Kettle stopped heating")
    fan = make_ticket(session, subject="Fan is noisy", urgency=4)
    quote = make_ticket(session, subject="Quote for 500 kettles", department_code="sales")
    session.commit()
    return agent, colleague, outsider, kettle.id, fan.id, quote.id


def test_add_remove_shown_filtered_and_in_history(client, session, desk) -> None:
    agent, _colleague, _outsider, kettle, fan, _quote = desk
    login(client, agent.email)
    added = client.post(f"/staff/tickets/{kettle}/tags", data={"tag-tag": "Refund"})
    assert added.status_code == 302 and added.headers["Location"] == f"/staff/tickets/{kettle}"
    client.post(f"/staff/tickets/{kettle}/tags", data={"tag-tag": "退貨"})
    again = client.post(
        f"/staff/tickets/{kettle}/tags?lang=en", data={"tag-tag": "REFUND"}, follow_redirects=True
    )
    assert "The ticket has that tag already." in _text(again)
    refused = client.post(
        f"/staff/tickets/{kettle}/tags?lang=en", data={"tag-tag": "<b>"}, follow_redirects=True
    )
    assert "A tag holds letters, digits and - _ . only" in _text(refused)
    assert "“&lt;”" in _text(refused)  # the refused character, escaped
    stored = session.scalars(
        select(TicketTag.tag).where(TicketTag.ticket_id == kettle).order_by(TicketTag.tag)
    ).all()
    assert stored == ["refund", "退货"]
    session.commit()

    page = _text(client.get(f"/staff/tickets/{kettle}?lang=en"))
    head = page[page.index('data-testid="ticket-tags"') :][:3000]
    assert ">refund</a>" in head and ">退货</a>" in head
    assert 'aria-label="Remove tag refund"' in head
    assert "Tag “refund” added by Andy" in page
    zh = _text(client.get(f"/staff/tickets/{kettle}?lang=zh"))
    assert "添加标签" in zh and "已添加标签“退货”" in zh

    inbox = _text(client.get("/staff/inbox/service?lang=en"))
    assert 'class="tag-chip"><a href="/staff/inbox/service?tag=refund">refund</a>' in inbox
    assert '<option value="refund">' in inbox  # the filter's suggestions
    filtered = _text(client.get("/staff/inbox/service?lang=en&tag=Refund"))
    assert "Kettle stopped heating" in filtered and "Fan is noisy" not in filtered
    by_traditional = _text(client.get("/staff/inbox/service?lang=en&tag=退貨"))
    assert "Kettle stopped heating" in by_traditional and "Fan is noisy" not in by_traditional
    nothing = _text(client.get("/staff/inbox/service?lang=en&tag=nosuchtag"))
    assert "No tickets here." in nothing
    assert "Fan is noisy" in _text(client.get("/staff/inbox/service?lang=en&tag=<>"))  # no filter

    removed = client.post(f"/staff/tickets/{kettle}/tags/remove", data={"tag": "REFUND"})
    assert removed.status_code == 302
    page = _text(client.get(f"/staff/tickets/{kettle}?lang=en"))
    assert "Tag “refund” removed by Andy" in page
    assert session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == kettle)).all() == [
        "退货"
    ]
    events = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.ticket_id == kettle, AuditEvent.action.like("ticket.%tagged")
        )
    ).all()
    assert sorted(events) == ["ticket.tagged", "ticket.tagged", "ticket.untagged"]
    assert fan  # untouched


def test_at_most_ten_tags(app, session, desk) -> None:
    agent, _colleague, _outsider, kettle, _fan, _quote = desk
    ticket = session.get(Ticket, kettle)
    with app.test_request_context("/?lang=en"):
        for n in range(tags.MAX_TAGS):
            tags.add_tag(session, ticket, agent, f"t{n}")
        with pytest.raises(tags.TagRefused, match="at most 10 tags"):
            tags.add_tag(session, ticket, agent, "one-more")
        assert tags.add_tag(session, ticket, agent, "T1") is None  # there already: no error


def test_another_department_sees_tags_and_tickets_of_neither(client, session, desk) -> None:
    agent, _colleague, outsider, kettle, _fan, quote = desk
    with client.application.test_request_context("/?lang=en"):
        tags.add_tag(session, session.get(Ticket, kettle), agent, "secret-recall")
        tags.add_tag(session, session.get(Ticket, quote), outsider, "big-deal")
        session.commit()
        with pytest.raises(ActionError, match="cannot work"):
            tags.add_tag(session, session.get(Ticket, kettle), outsider, "mine-now")
        session.commit()
    assert tags.suggestions(session, outsider) == ["big-deal"]
    assert tags.suggestions(session, agent) == ["secret-recall"]
    session.commit()  # SQLite: a read transaction would block the app's next write

    login(client, outsider.email)
    assert client.post(f"/staff/tickets/{kettle}/tags", data={"tag-tag": "x"}).status_code == 404
    assert (
        client.post(f"/staff/tickets/{kettle}/tags/remove", data={"tag": "secret-recall"})
    ).status_code == 404
    assert client.get("/staff/inbox/service?tag=secret-recall").status_code == 404
    own = _text(client.get("/staff/inbox/sales?lang=en"))
    assert "secret-recall" not in own  # not offered as a suggestion either
    assert "big-deal" in own
    assert "Kettle" not in _text(client.get("/staff/inbox/sales?lang=en&tag=secret-recall"))
    # A saved view on an inbox that is not theirs cannot be made.
    assert (
        client.post("/staff/inbox/service/views", data={"view-name": "Peek", "tag": "refund"})
    ).status_code == 404
    session.expire_all()
    stored = session.scalars(select(TicketTag.tag).order_by(TicketTag.tag)).all()
    assert stored == ["big-deal", "secret-recall"]


def test_tag_filter_in_every_inbox_kind_and_page_order(app, session, desk) -> None:
    agent, _colleague, _outsider, kettle, fan, _quote = desk
    tickets = [session.get(Ticket, kettle), session.get(Ticket, fan)]
    for ticket in tickets:
        ticket.assignee_id = agent.id
    with app.test_request_context("/?lang=en"):
        for ticket in tickets:
            tags.add_tag(session, ticket, agent, "warranty")
    session.commit()
    now = utcnow()
    service = InboxView("service", "department", department(session))
    mine = InboxView("mine", "mine")
    with app.test_request_context("/?lang=en"):
        for view in (service, mine):
            page = inbox_page(session, agent, view, InboxFilters(tag="warranty"), now)
            assert [t.id for t in page.tickets] == [fan, kettle]  # urgency 4 first
            assert page.tags == {fan: ["warranty"], kettle: ["warranty"]}
            assert inbox_count(session, agent, view, InboxFilters(tag="warranty"), now) == 2
            assert inbox_count(session, agent, view, InboxFilters(tag="other"), now) == 0
            filters = InboxFilters(tag="warranty", urgency=4)
            assert inbox_count(session, agent, view, filters, now) == 1


def test_saved_views_are_their_owners_with_counts(client, session, desk) -> None:
    agent, colleague, _outsider, kettle, fan, _quote = desk
    agent_email, colleague_email = agent.email, colleague.email
    with client.application.test_request_context("/?lang=en"):
        tags.add_tag(session, session.get(Ticket, kettle), agent, "refund")
    session.commit()
    login(client, agent_email)
    saved = client.post(
        "/staff/inbox/service/views",
        data={
            "view-name": "  My   refunds ",
            "tag": "refund",
            "status": "open",
            "next": "/staff/inbox/service?tag=refund",
            "after": "5.n.1",  # never kept: a cursor is not a filter
        },
    )
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/staff/inbox/service?tag=refund"
    [view] = session.scalars(select(SavedView)).all()
    view_id = view.id
    assert view.name == "My refunds" and view.filters == {"tag": "refund"}
    assert view.user_id == agent.id and view.inbox_key == "service"
    session.commit()
    client.post("/staff/inbox/service/views", data={"view-name": "紧急", "urgency": "4"})

    page = _text(client.get("/staff/inbox/service?lang=en&tag=refund"))
    nav = page[page.index('data-testid="saved-views"') :].split("</nav>")[0]
    assert 'href="/staff/inbox/service?tag=refund" aria-current="page">My refunds' in nav
    assert '<span class="count" aria-label="tickets">1</span>' in nav
    assert 'href="/staff/inbox/service?urgency=4">紧急 <span class="count"' in nav
    zh = _text(client.get("/staff/inbox/service?lang=zh"))
    assert "我的视图" in zh and "保存视图" in zh

    duplicate = client.post(
        "/staff/inbox/service/views?lang=en",
        data={"view-name": "my refunds"},
        follow_redirects=True,
    )
    assert "You have a view called “my refunds” already." in _text(duplicate)

    # The colleague sees none of them and can touch none.
    client.post("/staff/logout")
    login(client, colleague_email)
    theirs = _text(client.get("/staff/inbox/service?lang=en"))
    assert "My refunds" not in theirs and 'data-testid="saved-views"' not in theirs
    assert client.post(f"/staff/views/{view_id}/delete").status_code == 404
    assert (
        client.post(f"/staff/views/{view_id}/rename", data={f"rename-{view_id}-name": "Mine"})
    ).status_code == 404
    session.expire_all()
    assert session.get(SavedView, view_id).name == "My refunds"
    session.commit()
    session.commit()

    client.post("/staff/logout")
    login(client, agent_email)
    renamed = client.post(
        f"/staff/views/{view_id}/rename",
        data={f"rename-{view_id}-name": "Refunds", "next": "/staff/inbox/service"},
    )
    assert renamed.headers["Location"] == "/staff/inbox/service"
    session.expire_all()
    assert session.get(SavedView, view_id).name == "Refunds"
    session.commit()
    session.commit()
    elsewhere = client.post(
        f"/staff/views/{view_id}/rename",
        data={f"rename-{view_id}-name": "Refunds", "next": "https://evil.example/"},
    )
    assert elsewhere.headers["Location"] == "/staff/"
    client.post(f"/staff/views/{view_id}/delete")
    session.expire_all()
    assert session.get(SavedView, view_id) is None
    assert fan


def test_a_view_on_a_department_the_agent_left_shows_nothing(client, session, desk) -> None:
    agent, _colleague, _outsider, kettle, _fan, _quote = desk
    with client.application.test_request_context("/?lang=en"):
        tags.add_tag(session, session.get(Ticket, kettle), agent, "refund")
        saved_views.save_view(session, agent, "Service refunds", "service", {"tag": "refund"})
    agent.departments = [department(session, "sales")]
    session.commit()
    login(client, agent.email)
    page = _text(client.get("/staff/inbox/sales?lang=en"))
    nav = page[page.index('data-testid="saved-views"') :].split("</nav>")[0]
    assert "Service refunds (unavailable)" in nav
    assert "/staff/inbox/service" not in nav and 'class="count"' not in nav
    assert client.get("/staff/inbox/service?tag=refund").status_code == 404


def test_view_names_and_limits(app, session, desk) -> None:
    agent, colleague, *_rest = desk
    with app.test_request_context("/?lang=en"):
        with pytest.raises(ActionError, match="name"):
            saved_views.save_view(session, agent, "   ", "service", {})
        with pytest.raises(ActionError, match="at most 60"):
            saved_views.save_view(session, agent, "x" * 61, "service", {})
        for n in range(saved_views.MAX_VIEWS):
            saved_views.save_view(session, agent, f"View {n}", "service", {"q": "x" * 500})
        with pytest.raises(ActionError, match="at most 20 views"):
            saved_views.save_view(session, agent, "One more", "service", {})
        # Another agent's names and limit are their own.
        saved_views.save_view(session, colleague, "View 1", "service", {})
    kept = saved_views.views_of(session, agent)[0].filters
    assert kept == {"q": "x" * 200}


class TestWithCsrf:
    @pytest.fixture
    def app_settings(self) -> dict:
        return {"WTF_CSRF_ENABLED": True}

    def test_every_new_post_needs_the_token(self, client, session, desk) -> None:
        agent, _colleague, _outsider, kettle, _fan, _quote = desk
        with client.application.test_request_context("/?lang=en"):
            tags.add_tag(session, session.get(Ticket, kettle), agent, "refund")
            view = saved_views.save_view(session, agent, "Refunds", "service", {"tag": "refund"})
        session.commit()
        page = _text(client.get("/staff/login"))
        token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
        client.post(
            "/staff/login",
            data={"email": agent.email, "password": "correct horse battery", "csrf_token": token},
        )
        assert client.get(f"/staff/tickets/{kettle}").status_code == 200  # signed in
        posts = [
            (f"/staff/tickets/{kettle}/tags", {"tag-tag": "new-tag"}),
            (f"/staff/tickets/{kettle}/tags/remove", {"tag": "refund"}),
            ("/staff/inbox/service/views", {"view-name": "Another"}),
            (f"/staff/views/{view.id}/rename", {f"rename-{view.id}-name": "Renamed"}),
            (f"/staff/views/{view.id}/delete", {}),
        ]
        for url, data in posts:
            response = client.post(url, data=data)
            assert response.status_code == 400, url
        session.expire_all()
        assert session.scalars(select(TicketTag.tag)).all() == ["refund"]
        assert [v.name for v in session.scalars(select(SavedView))] == ["Refunds"]
        session.commit()
        # With the page's token, the same posts work.
        page = _text(client.get(f"/staff/tickets/{kettle}"))
        token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
        added = client.post(
            f"/staff/tickets/{kettle}/tags", data={"tag-tag": "new-tag", "csrf_token": token}
        )
        assert added.status_code == 302
        session.expire_all()
        assert sorted(session.scalars(select(TicketTag.tag)).all()) == ["new-tag", "refund"]


def test_a_traditional_page_shows_and_filters_the_same_tag(client, session, desk) -> None:
    """A Taiwan agent types 退貨 and reads 退貨; the tag is one with the mainland's 退货."""
    agent, _colleague, _outsider, kettle, _fan, _quote = desk
    email = agent.email
    login(client, email)
    client.post("/staff/account", data={"language-language": "zh-Hant", "language-submit": "1"})
    client.post(f"/staff/tickets/{kettle}/tags", data={"tag-tag": "退貨"})
    assert session.scalars(select(TicketTag.tag)).all() == ["退货"]
    session.commit()
    page = _text(client.get(f"/staff/tickets/{kettle}"))
    head = page[page.index('data-testid="ticket-tags"') :][:2000]
    assert "標籤" in head and ">退貨</a>" in head
    filtered = _text(client.get("/staff/inbox/service?tag=退貨"))
    assert "Kettle stopped heating" in filtered and "Fan is noisy" not in filtered


def test_the_api_lists_filters_and_shows_tags(client, session, desk) -> None:
    agent, _colleague, outsider, kettle, fan, quote = desk
    with client.application.test_request_context("/?lang=en"):
        tags.add_tag(session, session.get(Ticket, kettle), agent, "refund")
        tags.add_tag(session, session.get(Ticket, quote), outsider, "refund")
    headers = {"Authorization": f"Bearer {issue_api_token(session, agent)}"}
    session.commit()
    listed = client.get("/api/v1/tickets?view=service&tag=%23Refund", headers=headers).json
    assert [(t["id"], t["tags"]) for t in listed["tickets"]] == [(kettle, ["refund"])]
    everything = client.get("/api/v1/tickets?view=service", headers=headers).json
    assert {t["id"]: t["tags"] for t in everything["tickets"]} == {kettle: ["refund"], fan: []}
    assert client.get(f"/api/v1/tickets/{kettle}", headers=headers).json["tags"] == ["refund"]
    assert client.get(f"/api/v1/tickets/{quote}", headers=headers).status_code == 404
    too_long = client.get("/api/v1/tickets?view=service&tag=" + "x" * 201, headers=headers)
    assert too_long.status_code == 400
