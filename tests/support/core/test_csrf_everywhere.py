"""Every form route refuses a write without the CSRF token, whoever is signed in: the test
walks the url map, so a route added later is covered. Only the JSON API is exempt, and it
reads no cookie (a Bearer token only), so a foreign page cannot make a browser call it."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.factories import make_customer, make_ticket, make_user
from tests.support.staff_helpers import login

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def _write_urls(app, values: dict) -> list[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in sorted(set(WRITES) & (rule.methods or set())):
            with app.test_request_context():
                url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
            found.add((method, url))
    return sorted(found)


@pytest.mark.parametrize("signed_in", [True, False])
def test_no_write_without_the_csrf_token(app, session, client, signed_in) -> None:
    admin = make_user(session, role="admin", name="Ada Admin")
    ticket = make_ticket(session, customer=make_customer(session))
    session.commit()
    client.set_cookie("lang", "en")
    if signed_in:
        login(client, admin.email)  # CSRF is off while signing in (tests' default)
    app.config["WTF_CSRF_ENABLED"] = True
    values = {
        "ticket_id": ticket.id,
        "customer_id": ticket.customer_id,
        "user_id": admin.id,
        "department_id": ticket.department_id,
        "article_id": 1,
        "category_id": 1,
        "reply_id": 1,
        "mail_id": 1,
        "message_id": 1,
        "inbound_id": 1,
        "phrasing_id": 1,
        "attachment_id": 1,
        "decision": "approve",
        "key": "service",
        "section": "volume",
        "slug": "x",
        "token": "x",
        "view_id": 1,
        "tag": "x",
    }
    accepted = []
    for method, url in _write_urls(app, values):
        if url.startswith("/api/"):
            continue
        response = client.open(url, method=method, data={"body": "x", "email": admin.email})
        # The CSRF refusal's own words: a view's own 400 (a form it could not read) would
        # hide a route that skips the check.
        refused = "The form has expired" in response.get_data(as_text=True)
        if response.status_code != 400 or not refused:
            accepted.append((method, url, response.status_code))
    assert accepted == []


def test_the_api_ignores_the_session_cookie(app, session, client) -> None:
    admin = make_user(session, role="admin")
    ticket = make_ticket(session)
    session.commit()
    login(client, admin.email)
    for method in ("GET", "PATCH"):
        response = client.open(f"/api/v1/tickets/{ticket.id}", method=method, json={"urgency": 5})
        assert response.status_code == 401
