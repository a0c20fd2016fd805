"""The JSON API: token auth, the pages' access rules, replies, updates, FAQ search, OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from faq.models import Article, Category
from support.auth import hash_api_token, issue_api_token
from support.core.db import utcnow
from support.desk.models import TrainingExample, User
from support.desk.sla import start_clock
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login, outbound


@pytest.fixture
def api(app, session):
    """An agent of Customer Service with a token, and request headers carrying it."""
    agent = make_user(session, email="agent@example.com")
    token = issue_api_token(session, agent)
    session.commit()
    return agent, {"Authorization": f"Bearer {token}"}


def test_tokens_are_required_and_stored_hashed(app, session, client, api) -> None:
    agent, headers = api
    assert client.get("/api/v1/me").status_code == 401
    wrong = {"Authorization": "Bearer sup_wrong"}
    assert client.get("/api/v1/me", headers=wrong).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json["email"] == "agent@example.com"
    token = headers["Authorization"].split()[1]
    stored = session.scalar(select(User.api_token_hash).where(User.id == agent.id))
    assert stored == hash_api_token(token) and token not in stored
    session.commit()


def test_session_cookies_do_not_authenticate(app, session, client, api) -> None:
    login(client, "agent@example.com")
    assert client.get("/api/v1/tickets").status_code == 401


def test_deactivated_users_token_stops_working(app, session, client, api) -> None:
    agent, headers = api
    agent.is_active = False
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_list_in_inbox_order_with_cursor(app, session, client, api) -> None:
    _agent, headers = api
    now = utcnow()
    for n, urgency in enumerate((2, 5, 2, 4)):
        ticket = make_ticket(
            session, subject=f"t{n}", urgency=urgency, created_at=now - timedelta(minutes=60 - n)
        )
        start_clock(ticket, app.config, now=ticket.created_at)
    make_ticket(session, department_code="sales", subject="not mine")
    session.commit()
    first = client.get("/api/v1/tickets?view=service&limit=2", headers=headers).json
    assert [t["subject"] for t in first["tickets"]] == ["t1", "t3"]
    second = client.get(
        f"/api/v1/tickets?view=service&limit=2&after={first['next']}", headers=headers
    ).json
    assert [t["subject"] for t in second["tickets"]] == ["t0", "t2"] and second["next"] is None
    assert first["tickets"][0]["sla_state"] == "due_soon"  # 59 of its 60 minutes used
    assert client.get("/api/v1/tickets?after=bad", headers=headers).status_code == 400
    filtered = client.get("/api/v1/tickets?view=service&urgency=4", headers=headers).json
    assert [t["subject"] for t in filtered["tickets"]] == ["t3"]


def test_read_a_ticket_with_its_conversation(app, session, client, api) -> None:
    _agent, headers = api
    ticket = make_ticket(session, subject="Kettle broken")
    session.commit()
    data = client.get(f"/api/v1/tickets/{ticket.id}", headers=headers).json
    assert data["reference"] == ticket.reference and data["department"] == "service"
    assert data["messages"][0]["text"] == "My kettle stopped working after two days."
    assert client.get("/api/v1/tickets/999999", headers=headers).status_code == 404


def test_reply_warns_first_then_sends(app, session, client, api) -> None:
    _agent, headers = api
    ticket = make_ticket(session)
    session.commit()
    url = f"/api/v1/tickets/{ticket.id}/reply"
    warned = client.post(url, json={"text": "Calm down, not my job."}, headers=headers)
    assert warned.status_code == 409
    assert {w["category"] for w in warned.json["warnings"]} >= {"dismissive", "not_my_job"}
    assert outbound(session, ticket) == []
    session.commit()
    sent = client.post(
        url, json={"text": "Calm down, not my job.", "send_anyway": True}, headers=headers
    )
    assert sent.status_code == 201 and sent.json["ticket"]["status"] == "open"
    polite = client.post(
        url, json={"text": "A new kettle is on its way.", "then": "waiting"}, headers=headers
    )
    assert polite.status_code == 201 and polite.json["ticket"]["status"] == "waiting"
    assert len(outbound(session, ticket, "reply")) == 2
    assert client.post(url, json={"text": " "}, headers=headers).status_code == 400
    assert client.post(url, data="text", headers=headers).status_code == 400


def test_update_department_urgency_assignee_status(app, session, client, api) -> None:
    agent, headers = api
    make_user(session, email="lead@example.com", role="lead", departments=("service", "sales"))
    ticket = make_ticket(session)
    session.commit()
    url = f"/api/v1/tickets/{ticket.id}"
    changed = client.patch(
        url, json={"urgency": 4, "assignee": "agent@example.com"}, headers=headers
    )
    assert changed.status_code == 200
    assert changed.json["urgency"] == 4 and changed.json["assignee"]["id"] == agent.id
    assert client.patch(url, json={"status": "waiting"}, headers=headers).json["sla_paused"]
    assert client.patch(url, json={"status": "open"}, headers=headers).json["status"] == "open"
    resolved = client.patch(url, json={"status": "resolved"}, headers=headers)
    assert resolved.json["status"] == "resolved"
    assert client.patch(url, json={"status": "open"}, headers=headers).json["status"] == "open"
    refused = client.patch(url, json={"assignee": "lead@example.com"}, headers=headers)
    assert refused.status_code == 422  # agents only take tickets themselves
    assert client.patch(url, json={"colour": "red"}, headers=headers).status_code == 400
    # Outside the OpenAPI document's schema: a bad request, not a refusal.
    assert client.patch(url, json={"urgency": 9}, headers=headers).status_code == 400
    assert client.patch(url, json={"status": "closed"}, headers=headers).status_code == 400
    moved = client.patch(url, json={"department": "sales"}, headers=headers)
    assert moved.status_code == 200 and moved.json["department"] == "sales"
    assert client.get(url, headers=headers).status_code == 404  # gone from the agent's reach
    sources = session.scalars(select(TrainingExample.source)).all()
    assert sorted(sources) == ["correction", "correction"]
    assert len(outbound(session, ticket, "survey")) == 1


def test_an_unseen_assignee_is_as_unknown_as_a_missing_one(app, session, client, api) -> None:
    # Every id and address the caller may not know of gets the reply of one that does not
    # exist: neither a lead nor an agent learns another department's staff from it.
    _agent, agent_headers = api
    lead = make_user(session, email="lead@example.com", role="lead")
    lead_headers = {"Authorization": f"Bearer {issue_api_token(session, lead)}"}
    seller = make_user(
        session, email="zhao.sales@example.com", name="Zhao Min", departments=("sales",)
    )
    ticket = make_ticket(session)
    session.commit()
    url = f"/api/v1/tickets/{ticket.id}"
    for headers in (agent_headers, lead_headers):
        for hidden, missing in ((seller.email, "nobody@example.com"), (seller.id, 999_999)):
            refused = client.patch(url, json={"assignee": hidden}, headers=headers)
            absent = client.patch(url, json={"assignee": missing}, headers=headers)
            assert refused.status_code == absent.status_code == 422
            assert refused.json["error"] == absent.json["error"] == "unknown_assignee"
            assert (
                refused.json["message"].replace(str(hidden), str(missing)) == absent.json["message"]
            )
    assert client.get(url, headers=lead_headers).json["assignee"] is None


def test_faq_search(app, session, client, api) -> None:
    _agent, headers = api
    category = Category(slug="returns", name_en="Returns")
    session.add_all(
        [
            category,
            Article(
                slug="return-policy",
                category=category,
                language="en",
                question="How do I return a kettle?",
                answer_md="Within **30 days**.",
            ),
        ]
    )
    session.commit()
    found = client.get("/api/v1/faq/search?q=return+kettle", headers=headers).json
    assert found["results"][0]["question"] == "How do I return a kettle?"
    assert found["results"][0]["answer"] == "Within 30 days."
    assert found["results"][0]["url"].endswith("/a/return-policy")
    assert client.get("/api/v1/faq/search", headers=headers).status_code == 400


def test_openapi_description(app, client) -> None:
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert {"/tickets", "/tickets/{ticket_id}", "/tickets/{ticket_id}/reply", "/faq/search"} <= set(
        doc["paths"]
    )
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(doc):
        _hash, section, kind, name = ref.split("/")
        assert name in doc[section][kind], ref


@pytest.mark.parametrize("app_settings", [{"WTF_CSRF_ENABLED": True}])
def test_api_needs_no_csrf_token(app, session, client, api) -> None:
    _agent, headers = api
    ticket = make_ticket(session)
    session.commit()
    response = client.post(
        f"/api/v1/tickets/{ticket.id}/notes", json={"text": "from a bot"}, headers=headers
    )
    assert response.status_code == 201


def test_reply_to_an_unusable_address_is_a_json_4xx_not_500(app, session, client, api) -> None:
    _agent, headers = api
    ticket = make_ticket(session)
    ticket.customer.email = "broken@"
    session.commit()
    url = f"/api/v1/tickets/{ticket.id}/reply"
    response = client.post(url, json={"text": "A new kettle is on its way."}, headers=headers)
    assert response.status_code == 422 and response.json["error"] == "refused"
    assert "broken@" in response.json["message"]
    assert outbound(session, ticket) == []
    session.commit()
    ticket.customer.email = "王芳@例子.cn"  # finding 7: an international address is fine
    session.commit()
    sent = client.post(url, json={"text": "A new kettle is on its way."}, headers=headers)
    assert sent.status_code == 201


BIG_ID = 2**63  # one past the largest database integer


def test_bad_input_is_a_json_400_or_404_never_a_500(app, session, client, api) -> None:
    """Finding 13: huge ids, non-numeric limits, nulls and blanks answered 500 or disagreed
    with the OpenAPI document."""
    _agent, headers = api
    ticket = make_ticket(session)
    session.commit()
    cases = [
        ("get", f"/api/v1/tickets/{BIG_ID}", None, 404),
        ("get", f"/api/v1/tickets/{2**31}", None, 404),  # overflows PostgreSQL's INTEGER
        ("get", f"/api/v1/tickets/{BIG_ID * 1000}", None, 404),
        ("post", f"/api/v1/tickets/{BIG_ID}/notes", {"text": "x"}, 404),
        ("post", f"/api/v1/tickets/{BIG_ID}/reply", {"text": "x"}, 404),
        ("patch", f"/api/v1/tickets/{BIG_ID}", {"urgency": 3}, 404),
        ("get", "/api/v1/tickets/0", None, 404),
        ("get", "/api/v1/tickets?limit=abc", None, 400),
        ("get", "/api/v1/tickets?limit=0", None, 400),
        ("get", "/api/v1/tickets?limit=201", None, 400),
        ("get", "/api/v1/tickets?limit=99999999999999999999999", None, 400),
        ("get", "/api/v1/tickets?urgency=null", None, 400),
        ("get", "/api/v1/tickets?urgency=6", None, 400),
        ("get", "/api/v1/tickets?status=bogus", None, 400),
        ("get", f"/api/v1/tickets?assignee={BIG_ID}", None, 400),
        ("get", "/api/v1/tickets?q=" + "x" * 201, None, 400),
        ("get", "/api/v1/tickets?q=a%00b", None, 400),
        ("get", "/api/v1/faq/search?q=kettle&limit=abc", None, 400),
        ("get", "/api/v1/faq/search?q=kettle&limit=0", None, 400),
        ("get", "/api/v1/faq/search?q=kettle&limit=21", None, 400),
        ("get", "/api/v1/faq/search?q=", None, 400),
        ("get", "/api/v1/faq/search?q=%20%20", None, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"urgency": None}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"urgency": BIG_ID}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"urgency": 9}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"urgency": True}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"department": ""}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"department": None}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"department": "a\x00b"}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"assignee": BIG_ID}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"assignee": 0}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"assignee": []}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"status": None}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"status": "closed"}, 400),
        ("patch", f"/api/v1/tickets/{ticket.id}", {"department": "nowhere"}, 422),
        ("post", f"/api/v1/tickets/{ticket.id}/reply", {"text": "hi", "then": None}, 400),
        ("post", f"/api/v1/tickets/{ticket.id}/reply", {"text": "hi", "then": "x"}, 400),
        ("post", f"/api/v1/tickets/{ticket.id}/reply", {"text": "hi", "send_anyway": 1}, 400),
        ("post", f"/api/v1/tickets/{ticket.id}/reply", {"text": "  "}, 400),
        ("post", f"/api/v1/tickets/{ticket.id}/notes", {"text": ""}, 400),
        ("post", f"/api/v1/tickets/{ticket.id}/notes", {"text": "a\x00b"}, 400),
        ("post", f"/api/v1/tickets/{ticket.id}/notes", {"text": "\ud800"}, 400),
    ]
    for method, url, body, expected in cases:
        kwargs = {"json": body} if body is not None else {}
        response = getattr(client, method)(url, headers=headers, **kwargs)
        assert (response.status_code, method, url[:70], body) == (expected, method, url[:70], body)
        assert response.is_json and "error" in response.json
    ok = client.get("/api/v1/tickets?limit=200&urgency=2&assignee=none", headers=headers)
    assert ok.status_code == 200


def test_openapi_states_the_limits_the_api_enforces(client) -> None:
    doc = client.get("/api/v1/openapi.json").json
    tickets = {p["name"]: p["schema"] for p in doc["paths"]["/tickets"]["get"]["parameters"]}
    assert (tickets["limit"]["minimum"], tickets["limit"]["maximum"]) == (1, 200)
    assert tickets["q"]["maxLength"] == 200
    search = {p["name"]: p["schema"] for p in doc["paths"]["/faq/search"]["get"]["parameters"]}
    assert (search["limit"]["minimum"], search["limit"]["maximum"]) == (1, 20)
    assert search["q"]["minLength"] == 1
    [ticket_id] = doc["paths"]["/tickets/{ticket_id}"]["parameters"]
    assert ticket_id["schema"]["maximum"] == 2**31 - 1  # PostgreSQL INTEGER
    update = doc["components"]["schemas"]["TicketUpdate"]["properties"]
    assert update["department"]["minLength"] == 1
    assert "nullable" not in update["urgency"] and update["assignee"]["nullable"] is True


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,  # the decoder's RecursionError was a 500
        '{"text": ' + "[" * 500 + "]" * 500 + "}",  # decodable, deeper than any body of ours
    ],
)
def test_deeply_nested_json_is_a_400(app, session, client, api, body) -> None:
    _agent, headers = api
    ticket = make_ticket(session)
    session.commit()
    for method, path in (("patch", ""), ("post", "/notes"), ("post", "/reply")):
        response = getattr(client, method)(
            f"/api/v1/tickets/{ticket.id}{path}",
            data=body,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400 and response.is_json


def test_a_note_or_reply_is_no_longer_than_the_pages_allow(app, session, client, api) -> None:
    """The staff pages take 50,000 characters; the API took two million."""
    from support.staff.forms import MAX_REPLY_CHARS

    _agent, headers = api
    ticket = make_ticket(session)
    session.commit()
    text = "x" * (MAX_REPLY_CHARS + 1)
    english = {**headers, "Accept-Language": "en"}
    for path in ("notes", "reply"):
        response = client.post(
            f"/api/v1/tickets/{ticket.id}/{path}", json={"text": text}, headers=english
        )
        assert response.status_code == 400
        assert f"at most {MAX_REPLY_CHARS}" in response.get_json()["message"]


def test_a_400_is_in_the_requests_language_as_a_422_is(app, session, client, api) -> None:
    """The 422s' messages came in the request's language and the 400s' in English alone: both
    now speak it, and a 400's "error" stays "Bad Request" for programs to read."""
    _agent, headers = api
    ticket = make_ticket(session, subject="Kettle")
    session.commit()
    tags = f"/api/v1/tickets/{ticket.id}/tags"
    for language, refused_words, malformed_words in (
        ("zh-CN", "标签只能包含", "请发送"),
        ("en", "A tag holds letters", "Send {"),
    ):
        asked = {**headers, "Accept-Language": language}
        refused = client.post(tags, json={"tag": "a/b"}, headers=asked)
        assert refused.status_code == 422 and refused_words in refused.json["message"]
        malformed = client.post(tags, json={"colour": "red"}, headers=asked)
        assert malformed.status_code == 400 and malformed.json["error"] == "Bad Request"
        assert malformed_words in malformed.json["message"], malformed.json
        urgency = client.patch(f"/api/v1/tickets/{ticket.id}", json={"urgency": 9}, headers=asked)
        assert urgency.status_code == 400 and "urgency" in urgency.json["message"]
        assert ("1" in urgency.json["message"]) and ("5" in urgency.json["message"])
        if language == "en":
            assert "must be a whole number from 1 to 5" in urgency.json["message"]
        else:
            assert "必须是 1 到 5 之间的整数" in urgency.json["message"], urgency.json
        listed = client.get("/api/v1/tickets?limit=0", headers=asked)
        assert listed.status_code == 400
        assert ("whole number" in listed.json["message"]) == (language == "en")


def test_raising_the_urgency_ends_a_snooze(app, session, client, api) -> None:
    """Through the API as on the page: an important or emergency ticket is handled now."""
    from support.desk import snooze

    agent, headers = api
    ticket = make_ticket(session, subject="Cooker smoking")
    start_clock(ticket, app.config, now=ticket.created_at)
    ticket.first_response_at, ticket.status = utcnow(), "open"
    session.commit()
    with app.test_request_context("/"):
        snooze.snooze(session, ticket, agent, utcnow() + timedelta(days=3))
    session.commit()
    url = f"/api/v1/tickets/{ticket.id}"
    assert client.get(url, headers=headers).json["snoozed_until"] is not None
    changed = client.patch(url, json={"urgency": 5}, headers=headers)
    assert changed.status_code == 200 and changed.json["snoozed_until"] is None
