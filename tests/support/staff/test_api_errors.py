"""Every JSON API error has one shape: `error` a stable code (the same in every language, never
the client's text), `message` in the request's language, details beside them; not cached.

401, 403 and 404 answered in English alone, and some 422s put localized free text (with the
client's value, unbounded) in `error`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from support.auth import issue_api_token
from support.core.json_errors import ECHO_MAX_CHARS
from support.desk.models import Ticket
from tests.factories import make_ticket, make_user

CJK = re.compile(r"[\u4e00-\u9fff]")
LANGUAGES = ("zh-CN", "en")
Call = Callable[[FlaskClient, dict[str, str]], TestResponse]


@pytest.fixture
def token(app, session) -> str:
    """An agent of Customer Service (not a lead: a customer's tier is not theirs to set)."""
    agent = make_user(session, email="agent@example.com")
    make_user(session, email="lead@example.com", role="lead")
    value = issue_api_token(session, agent)
    session.commit()
    return value


@pytest.fixture
def auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def ticket(app, session, token) -> Ticket:
    made = make_ticket(session)
    session.commit()
    return made


def assert_error(response: TestResponse, status: int, error: str, language: str) -> str:
    """The one shape, in `language`; returns the message."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.is_json
    body: dict[str, Any] = response.get_json()
    assert body["error"] == error
    message = body["message"]
    assert isinstance(message, str) and message.strip()
    if language == "en":
        assert not CJK.search(message), message
    else:
        assert CJK.search(message), message
    assert {"private", "no-store"} <= {
        part.strip() for part in response.headers["Cache-Control"].split(",")
    }
    return message


def both_languages(client: FlaskClient, headers: dict[str, str], call: Call) -> dict[str, str]:
    """The call in Chinese and in English: language → response."""
    return {lang: call(client, {**headers, "Accept-Language": lang}) for lang in LANGUAGES}


def test_400_bad_request(client, ticket, auth) -> None:
    for language, response in both_languages(
        client, auth, lambda c, h: c.patch(f"/api/v1/tickets/{ticket.id}", json=[1], headers=h)
    ).items():
        assert_error(response, 400, "Bad Request", language)


def test_401_unauthorized(client) -> None:
    for language, response in both_languages(
        client, {"Authorization": "Bearer sup_wrong"}, lambda c, h: c.get("/api/v1/me", headers=h)
    ).items():
        message = assert_error(response, 401, "Unauthorized", language)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
        assert ("Bearer" in message) and (("令牌" in message) == (language == "zh-CN"))


def test_403_forbidden(client, ticket, auth) -> None:
    url = f"/api/v1/customers/{ticket.customer.id}"
    for language, response in both_languages(
        client, auth, lambda c, h: c.patch(url, json={"tier": "vip"}, headers=h)
    ).items():
        assert_error(response, 403, "Forbidden", language)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/999999",  # Werkzeug's own 404, raised by the access rule
        "/api/v1/tickets/abc",  # no route at all
        "/api/v1/tickets?view=nowhere",
        "/api/v1/tickets/{ticket}/tags/never-put",
        "/api/v1/customers/999999",
    ],
)
def test_404_not_found(session, client, ticket, auth, path) -> None:
    if "customers" in path:  # a customer's tier is a lead's to set
        lead = make_user(session, email="l2@example.com", role="lead")
        auth = {"Authorization": f"Bearer {issue_api_token(session, lead)}"}
        session.commit()
    url = path.format(ticket=ticket.id)
    method = "delete" if "/tags/" in url else "patch" if "customers" in url else "get"
    body = {"json": {"tier": "vip"}} if method == "patch" else {}
    for language, response in both_languages(
        client, auth, lambda c, h: getattr(c, method)(url, headers=h, **body)
    ).items():
        assert_error(response, 404, "Not Found", language)


def test_405_method_not_allowed(client, auth) -> None:
    for language, response in both_languages(
        client, auth, lambda c, h: c.put("/api/v1/me", headers=h)
    ).items():
        assert_error(response, 405, "Method Not Allowed", language)
        assert "GET" in response.headers["Allow"]


def test_409_warnings_keep_their_details(client, ticket, auth) -> None:
    url = f"/api/v1/tickets/{ticket.id}/reply"
    for language, response in both_languages(
        client, auth, lambda c, h: c.post(url, json={"text": "Calm down."}, headers=h)
    ).items():
        message = assert_error(response, 409, "warnings", language)
        assert "send_anyway=true" in message
        assert response.json["warnings"][0]["category"] == "dismissive"


def test_413_request_entity_too_large(app, client, ticket, auth) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    url = f"/api/v1/tickets/{ticket.id}/notes"
    for language, response in both_languages(
        client, auth, lambda c, h: c.post(url, json={"text": "x" * 5000}, headers=h)
    ).items():
        message = assert_error(response, 413, "Request Entity Too Large", language)
        assert "MB" in message


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"assignee": "lead@example.com"}, "refused"),  # an agent assigns nobody else
        ({"department": "nowhere"}, "unknown_department"),
        ({"assignee": "nobody@example.com"}, "unknown_assignee"),
    ],
)
def test_422_refused_has_a_stable_code(client, ticket, auth, body, code) -> None:
    url = f"/api/v1/tickets/{ticket.id}"
    responses = both_languages(client, auth, lambda c, h: c.patch(url, json=body, headers=h))
    for language, response in responses.items():
        assert_error(response, 422, code, language)
    assert responses["zh-CN"].json["message"] != responses["en"].json["message"]


def test_422_tag_and_cc_refusals_keep_their_codes(client, ticket, auth) -> None:
    tags, reply = f"/api/v1/tickets/{ticket.id}/tags", f"/api/v1/tickets/{ticket.id}/reply"
    for language, response in both_languages(
        client, auth, lambda c, h: c.post(tags, json={"tag": "a/b"}, headers=h)
    ).items():
        assert_error(response, 422, "tag_refused", language)
    stranger = {"text": "Thanks.", "cc": ["stranger@example.org"]}
    for language, response in both_languages(
        client, auth, lambda c, h: c.post(reply, json=stranger, headers=h)
    ).items():
        assert "stranger@example.org" in assert_error(response, 422, "cc_refused", language)


HOSTILE = '<script>alert("x")</script>\n' + "y" * 5000


def test_the_clients_values_in_a_message_are_bounded_and_escaped(client, ticket, auth) -> None:
    auth = {**auth, "Accept-Language": "en"}
    url = f"/api/v1/tickets/{ticket.id}"
    long_address = "a" * 60 + "@" + "b" * 180 + ".example"
    long_cc = "c" * 60 + "@" + ".".join(["d" * 60] * 4) + ".example"
    cases = [
        (client.get("/api/v1/tickets", query_string={"view": HOSTILE}, headers=auth), 404, HOSTILE),
        (client.patch(url, json={HOSTILE: 1}, headers=auth), 400, HOSTILE),
        (client.patch(url, json={"assignee": long_address}, headers=auth), 422, long_address),
        (
            client.post(f"{url}/reply", json={"text": "Hi.", "cc": [long_cc]}, headers=auth),
            422,
            long_cc,
        ),
    ]
    for response, status, value in cases:
        assert response.status_code == status, response.json
        message = response.json["message"]
        assert value[: ECHO_MAX_CHARS - 1] + "…" in message, message
        assert value[:ECHO_MAX_CHARS] not in message and len(message) < 300, message
        raw = response.get_data(as_text=True)
        assert "\n" not in raw.strip() and response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_openapi_documents_the_one_shape(client) -> None:
    doc = client.get("/api/v1/openapi.json").json
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message"}
    assert "unknown_assignee" in error["properties"]["error"]["description"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method == "parameters" or path == "/openapi.json":
                continue
            assert "default" in operation["responses"], (path, method)


@pytest.mark.parametrize(("own", "chinese"), [("en", False), ("zh", True), ("zh-Hant", True)])
def test_a_request_naming_no_language_gets_the_token_owners_own(
    app, session, client, own, chinese
) -> None:
    """A script sends no Accept-Language: the owner's own choice decides, as on their pages;
    a request that names a language still decides."""
    user = make_user(session, email=f"own-{own.lower()}@example.com")
    user.language = own
    headers = {"Authorization": f"Bearer {issue_api_token(session, user)}"}
    session.commit()
    response = client.get("/api/v1/tickets/999999", headers=headers)
    assert response.status_code == 404
    assert bool(CJK.search(response.get_json()["message"])) is chinese
    named = client.get(
        "/api/v1/tickets/999999",
        headers={**headers, "Accept-Language": "zh-CN" if not chinese else "en"},
    )
    assert bool(CJK.search(named.get_json()["message"])) is not chinese


def _vary(response: TestResponse) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("Vary", "").split(",")}


def test_answers_vary_with_the_language_and_the_token(client, ticket, auth) -> None:
    """The language comes from Accept-Language, the cookies and the token's owner: a cache
    that kept one answer for all would give a Chinese message to an English client."""
    for path in (f"/api/v1/tickets/{ticket.id}", "/api/v1/tickets/999999", "/api/v1/me"):
        response = client.get(path, headers={**auth, "Accept-Language": "zh-CN"})
        assert {"accept-language", "cookie", "authorization"} <= _vary(response), path
    refused = client.get("/api/v1/me", headers={"Authorization": "Bearer sup_wrong"})
    assert refused.status_code == 401
    assert {"accept-language", "cookie", "authorization"} <= _vary(refused)
    no_route = client.get("/api/v1/nowhere", headers={"Accept-Language": "zh-CN"})
    assert no_route.status_code == 404 and {"accept-language", "cookie"} <= _vary(no_route)
    document = client.get("/api/v1/openapi.json")  # the same for every token
    assert "authorization" not in _vary(document)


TRADITIONAL_404 = "此處沒有內容，或沒有您有權查看的內容。"
SIMPLIFIED_404 = "此处没有内容，或没有您有权查看的内容。"


@pytest.mark.parametrize("language", ["zh-TW", "zh-Hant", "zh-HK", "zh-TW,zh;q=0.9,en;q=0.8"])
def test_a_traditional_chinese_client_reads_traditional_characters(
    client, ticket, auth, language
) -> None:
    """As the pages do for Taiwan, Hong Kong and Macau readers: Traditional characters in
    Taiwan's words (權杖, 「」 around a value), the client's own value as it sent it."""
    headers = {**auth, "Accept-Language": language}
    missing = client.get("/api/v1/tickets/999999", headers=headers)
    assert assert_error(missing, 404, "Not Found", language) == TRADITIONAL_404
    token = client.get("/api/v1/me", headers={**headers, "Authorization": "Bearer sup_wrong"})
    assert "權杖" in assert_error(token, 401, "Unauthorized", language)
    inbox = client.get("/api/v1/tickets", query_string={"view": "发票"}, headers=headers)
    # Ours converted (沒有, 「」), the client's 发票 left as written.
    assert assert_error(inbox, 404, "Not Found", language) == "您沒有收件箱「发票」。"
    mainland = client.get("/api/v1/tickets/999999", headers={**auth, "Accept-Language": "zh-CN"})
    assert assert_error(mainland, 404, "Not Found", "zh-CN") == SIMPLIFIED_404


def test_a_token_owner_who_reads_traditional_is_answered_so(app, session, client) -> None:
    """The owner's own 繁體 (their account page's choice) when the request names no language;
    a request's Accept-Language still decides."""
    user = make_user(session, email="taipei@example.com")
    user.language = "zh-Hant"
    headers = {"Authorization": f"Bearer {issue_api_token(session, user)}"}
    session.commit()
    own = client.get("/api/v1/tickets/999999", headers=headers)
    assert own.json["message"] == TRADITIONAL_404
    assert client.get("/api/v1/tickets/999999?lang=zh", headers=headers).json["message"] == (
        TRADITIONAL_404
    )
    asked = client.get("/api/v1/tickets/999999", headers={**headers, "Accept-Language": "zh-CN"})
    assert asked.json["message"] == SIMPLIFIED_404
