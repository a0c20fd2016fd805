"""Every page, error page and download of the url map says: no framing, no sniffing, scripts
only from this site; the session cookie is HttpOnly and SameSite. A route added later is
covered without touching this file."""

from __future__ import annotations

import pytest
from flask import url_for

from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import login


@pytest.mark.parametrize("signed_in", [True, False])
def test_every_get_route_sends_the_protective_headers(app, session, client, signed_in) -> None:
    admin = make_user(session, role="admin")
    ticket = make_ticket(session)
    session.commit()
    if signed_in:
        login(client, admin.email)
    values = {
        "ticket_id": ticket.id,
        "customer_id": ticket.customer_id,
        "user_id": admin.id,
        "department_id": ticket.department_id,
        "filename": "app.js",
        "key": "service",
        "section": "volume",
        "slug": "x",
        "token": "x",
    }
    missing = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: values.get(k, 1) for k in rule.arguments})
        response = client.get(url)
        response.close()
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        if not (
            headers.get("X-Content-Type-Options") == "nosniff"
            and (headers.get("X-Frame-Options") == "DENY" or "frame-ancestors 'none'" in csp)
            and ("script-src 'self'" in csp or "default-src 'none'" in csp)
        ):
            missing.append((url, response.status_code))
    assert missing == []


def test_the_session_cookie_is_http_only_and_same_site(app, session, client) -> None:
    user = make_user(session)
    session.commit()
    login(client, user.email)
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
