"""Tags in bulk from the inbox and through the JSON API (support.desk.tags), and the API's
`refers_to`: the same normalisation, limits, history and department boundary as the ticket
page; CSRF on the bulk form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.auth import issue_api_token
from support.desk import tags
from support.desk.models import AuditEvent, Ticket, TicketTag
from tests.factories import make_ticket, make_user
from tests.support.staff.test_tags_views import desk  # noqa: F401 (the same desk)
from tests.support.staff_helpers import login


def _text(response) -> str:
    return response.get_data(as_text=True)


def _tags(session, ticket_id: int) -> list[str]:
    session.expire_all()
    found = sorted(session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id)))
    session.commit()  # SQLite: a read transaction would block the app's next write
    return found


def _history(session, ticket_id: int, action: str) -> list[str]:
    found = [
        (event.data or {}).get("tag", "")
        for event in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.ticket_id == ticket_id, AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    ]
    session.commit()
    return found


def _bulk(client, action: str, tag: str, ids: list[int], lang: str = "en", **extra):
    return client.post(
        f"/staff/inbox/service/bulk?lang={lang}",
        data={"action": action, "tag": tag, "ticket_id": [str(i) for i in ids], **extra},
        follow_redirects=True,
    )


def test_bulk_tag_and_untag_with_the_department_boundary(client, session, desk) -> None:  # noqa: F811
    agent, _colleague, _outsider, kettle, fan, quote = desk
    login(client, agent.email)
    inbox = _text(client.get("/staff/inbox/service?lang=en"))
    assert 'id="bulk-tag" name="tag"' in inbox and 'value="untag"' in inbox

    # The Sales ticket is skipped and counted; the count does not say which id it was.
    done = _text(_bulk(client, "tag", "#Refund", [kettle, fan, quote]))
    references = [session.get(Ticket, i).reference for i in (kettle, fan)]
    session.commit()
    assert f"Tag “refund” added to 2 tickets: {references[0]}, {references[1]}." in done
    assert "1 ticket could not be changed." in done
    assert _tags(session, kettle) == _tags(session, fan) == ["refund"]
    assert _tags(session, quote) == []
    assert _history(session, kettle, "ticket.tagged") == ["refund"]
    assert _history(session, fan, "ticket.tagged") == ["refund"]
    assert _history(session, quote, "ticket.tagged") == []

    # Traditional characters read as Simplified; a ticket that has it already needs no change.
    client.post(f"/staff/tickets/{kettle}/tags", data={"tag-tag": "退货"})
    again = _text(_bulk(client, "tag", "退貨", [kettle, fan]))
    assert f"Tag “退货” added to 1 ticket: {references[1]}." in again
    assert f"1 ticket needed no change: {references[0]}." in again

    removed = _text(_bulk(client, "untag", "REFUND", [kettle, fan, quote], lang="zh"))
    assert "已从 2 个工单移除标签“refund”" in removed
    assert _tags(session, kettle) == _tags(session, fan) == ["退货"]
    assert _history(session, fan, "ticket.untagged") == ["refund"]
    page = _text(client.get(f"/staff/tickets/{fan}?lang=en"))
    assert "Tag “refund” removed by Andy" in page


def test_bulk_refuses_a_text_no_tag_can_be_once_and_touches_nothing(client, session, desk) -> None:  # noqa: F811
    agent, _colleague, _outsider, kettle, fan, _quote = desk
    login(client, agent.email)
    refused = _text(_bulk(client, "tag", "<b>", [kettle, fan]))
    assert "A tag holds letters, digits and - _ . only" in refused
    assert "could not be changed" not in refused
    blank = _text(_bulk(client, "untag", "  ", [kettle]))
    assert "Write a tag first." in blank
    assert _tags(session, kettle) == _tags(session, fan) == []


def test_bulk_tag_keeps_the_limit_per_ticket(client, session, desk) -> None:  # noqa: F811
    agent, _colleague, _outsider, kettle, fan, _quote = desk
    with client.application.test_request_context("/?lang=en"):
        for n in range(tags.MAX_TAGS):
            tags.add_tag(session, session.get(Ticket, kettle), agent, f"t{n}")
    session.commit()
    login(client, agent.email)
    done = _text(_bulk(client, "tag", "one-more", [kettle, fan]))
    assert "Tag “one-more” added to 1 ticket" in done
    assert "1 ticket could not be changed." in done
    assert "one-more" not in _tags(session, kettle) and _tags(session, fan) == ["one-more"]


def test_another_department_cannot_bulk_tag_our_inbox(client, session, desk) -> None:  # noqa: F811
    _agent, _colleague, outsider, kettle, _fan, quote = desk
    login(client, outsider.email)
    response = client.post(
        "/staff/inbox/service/bulk", data={"action": "tag", "tag": "x", "ticket_id": [kettle]}
    )
    assert response.status_code == 404
    # From their own inbox, our ticket's id is skipped like a missing one.
    done = client.post(
        "/staff/inbox/sales/bulk?lang=en",
        data={"action": "tag", "tag": "x", "ticket_id": [str(kettle), str(quote)]},
        follow_redirects=True,
    )
    assert "1 ticket could not be changed." in _text(done)
    assert _tags(session, kettle) == [] and _tags(session, quote) == ["x"]


class TestWithCsrf:
    @pytest.fixture
    def app_settings(self) -> dict:
        return {"WTF_CSRF_ENABLED": True}

    def test_bulk_tagging_needs_the_token(self, client, session, desk) -> None:  # noqa: F811
        agent, _colleague, _outsider, kettle, _fan, _quote = desk
        page = _text(client.get("/staff/login"))
        token = page.split('name="csrf_token"')[1].split('value="')[1].split('"')[0]
        client.post(
            "/staff/login",
            data={"email": agent.email, "password": "correct horse battery", "csrf_token": token},
        )
        data = {"action": "tag", "tag": "refund", "ticket_id": [str(kettle)]}
        assert client.post("/staff/inbox/service/bulk", data=data).status_code == 400
        assert _tags(session, kettle) == []
        session.commit()
        inbox = _text(client.get("/staff/inbox/service"))
        token = inbox.split('id="bulk-form"')[1].split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/staff/inbox/service/bulk", data={**data, "csrf_token": token})
        assert response.status_code == 302
        assert _tags(session, kettle) == ["refund"]
        session.commit()
        data["action"] = "untag"
        assert client.post("/staff/inbox/service/bulk", data=data).status_code == 400
        assert _tags(session, kettle) == ["refund"]


def test_the_api_adds_and_removes_tags(client, session, desk) -> None:  # noqa: F811
    agent, _colleague, outsider, kettle, _fan, quote = desk
    headers = {"Authorization": f"Bearer {issue_api_token(session, agent)}"}
    session.commit()
    url = f"/api/v1/tickets/{kettle}/tags"
    added = client.post(url, json={"tag": "#Refund"}, headers=headers)
    assert added.status_code == 201
    assert added.json == {"tag": "refund", "added": True, "tags": ["refund"]}
    again = client.post(url, json={"tag": "REFUND"}, headers=headers)
    assert again.status_code == 200 and again.json["added"] is False
    traditional = client.post(url, json={"tag": "退貨"}, headers=headers)
    assert traditional.json["tags"] == ["refund", "退货"]
    for bad in ("<b>", "x" * 33, "   "):
        refused = client.post(url, json={"tag": bad}, headers=headers)
        assert refused.status_code == 422 and refused.json["error"] == "tag_refused", bad
    for body in ({}, {"tag": 5}, {"tag": "a", "other": 1}, {"tag": "x" * 201}, {"tag": ""}):
        assert client.post(url, json=body, headers=headers).status_code == 400, body
    assert client.get(f"/api/v1/tickets/{kettle}", headers=headers).json["tags"] == [
        "refund",
        "退货",
    ]
    assert _history(session, kettle, "ticket.tagged") == ["refund", "退货"]

    removed = client.delete(f"{url}/REFUND", headers=headers)
    assert removed.status_code == 200
    assert removed.json == {"tag": "refund", "removed": True, "tags": ["退货"]}
    assert client.delete(f"{url}/refund", headers=headers).status_code == 404
    assert client.delete(f"{url}/%3Cb%3E", headers=headers).status_code == 422
    assert client.delete(f"{url}/退貨", headers=headers).json["tags"] == []
    assert _history(session, kettle, "ticket.untagged") == ["refund", "退货"]

    # Eleven tags are one too many, as on the page.
    for n in range(tags.MAX_TAGS):
        client.post(url, json={"tag": f"t{n}"}, headers=headers)
    eleventh = client.post(url, json={"tag": "one-more"}, headers=headers)
    assert eleventh.status_code == 422 and "10" in eleventh.json["message"]

    # Another department's ticket is a 404 both ways, and nothing changes.
    with client.application.test_request_context("/?lang=en"):
        tags.add_tag(session, session.get(Ticket, quote), outsider, "big-deal")
    session.commit()
    theirs = f"/api/v1/tickets/{quote}/tags"
    assert client.post(theirs, json={"tag": "x"}, headers=headers).status_code == 404
    assert client.delete(f"{theirs}/big-deal", headers=headers).status_code == 404
    assert _tags(session, quote) == ["big-deal"]


def test_the_api_names_the_ticket_referred_to_only_to_who_may_see_it(client, session, desk) -> None:  # noqa: F811
    agent, _colleague, outsider, kettle, fan, quote = desk
    stranger = make_ticket(session, subject="Re: Quote", department_code="sales")
    stranger.refers_to_ticket_id = kettle  # a stranger's mail named our ticket
    other = make_ticket(session, subject="Re: Kettle")
    other.refers_to_ticket_id = quote  # our ticket names a Sales one
    session.commit()
    stranger_id, other_id = stranger.id, other.id
    kettle_ref = session.get(Ticket, kettle).reference
    quote_ref = session.get(Ticket, quote).reference
    ours = {"Authorization": f"Bearer {issue_api_token(session, agent)}"}
    sales = {"Authorization": f"Bearer {issue_api_token(session, outsider)}"}
    admin = make_user(session, email="admin@example.com", role="admin")
    boss = {"Authorization": f"Bearer {issue_api_token(session, admin)}"}
    session.commit()

    assert client.get(f"/api/v1/tickets/{other_id}", headers=ours).json["refers_to"] is None
    assert client.get(f"/api/v1/tickets/{fan}", headers=ours).json["refers_to"] is None
    assert client.get(f"/api/v1/tickets/{stranger_id}", headers=sales).json["refers_to"] is None
    assert client.get(f"/api/v1/tickets/{stranger_id}", headers=boss).json["refers_to"] == (
        kettle_ref
    )
    assert client.get(f"/api/v1/tickets/{other_id}", headers=boss).json["refers_to"] == quote_ref
    listed = client.get("/api/v1/tickets?view=sales", headers=sales).json["tickets"]
    assert {t["id"]: t["refers_to"] for t in listed}[stranger_id] is None
    # The Sales agent who may see both tickets is told.
    session.get(Ticket, other_id).department_id = session.get(Ticket, quote).department_id
    session.commit()
    assert client.get(f"/api/v1/tickets/{other_id}", headers=sales).json["refers_to"] == quote_ref


def test_the_openapi_document_describes_tags_and_refers_to(client) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert "post" in document["paths"]["/tickets/{ticket_id}/tags"]
    assert "delete" in document["paths"]["/tickets/{ticket_id}/tags/{tag}"]
    ticket = document["components"]["schemas"]["Ticket"]["properties"]
    assert ticket["refers_to"]["nullable"] is True
