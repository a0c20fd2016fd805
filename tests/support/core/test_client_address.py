"""Per-IP limits (contact form, sign-in throttling, search log) use the client's address:
X-Forwarded-For is believed only from as many proxies as HTTP_TRUSTED_PROXIES says."""

from __future__ import annotations

import pytest

import support.auth
from support.core.db import utcnow
from tests.factories import make_user
from tests.faq.conftest import BROWSER_UA

CONTACT = {
    "name": "Li Lei",
    "subject": "Broken lamp",
    "question": "The lamp I bought last week flickers and then goes out. What can I do?",
    "department": "",
    "consent": "y",
    "action": "send",
}
PROXY = "10.0.0.5"
WAIT = "Too many failed sign-ins"


@pytest.fixture
def app_settings(request) -> dict:
    return {
        "FAQ_CONTACT_LIMIT_PER_HOUR": 1,
        "LOGIN_MAX_FAILURES": 2,
        "HTTP_TRUSTED_PROXIES": getattr(request, "param", 0),
    }


def _contact(app, browser_headers, forwarded_for: str, email: str) -> int:
    client = app.test_client()
    return client.post(
        "/contact",
        data={**CONTACT, "email": email},
        headers={**browser_headers, "X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY},
    ).status_code


def _login(app, forwarded_for: str) -> str:
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client.post(
        "/staff/login",
        data={"email": "ann@example.com", "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": PROXY},
    ).get_data(as_text=True)


@pytest.fixture
def browser_headers() -> dict[str, str]:
    return {"User-Agent": BROWSER_UA}


@pytest.fixture
def frozen_clock(monkeypatch):
    now = utcnow()
    monkeypatch.setattr(support.auth, "utcnow", lambda: now)


def test_a_forged_forwarded_for_does_not_escape_the_contact_limit(
    app, session, browser_headers
) -> None:
    assert _contact(app, browser_headers, "198.51.100.1", "a@example.org") == 302
    # Same connection address, another forged X-Forwarded-For and e-mail: still the same IP.
    assert _contact(app, browser_headers, "198.51.100.2", "b@example.org") == 429


@pytest.mark.usefixtures("frozen_clock")
def test_a_forged_forwarded_for_does_not_escape_the_login_throttle(app, session) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 100
    _login(app, "198.51.100.1")
    assert WAIT in _login(app, "198.51.100.2")


#: (a client, another client, the first client again): an IPv6 client is its /64, from which
#: it may pick any of 2**64 addresses (each one was a new budget).
CLIENTS = [
    ("198.51.100.1", "198.51.100.2", "198.51.100.1"),
    ("2001:db8:5:6::1", "2001:db8:5:7::1", "2001:db8:5:6:abcd::99"),
]


@pytest.mark.parametrize("app_settings", [1], indirect=True)
@pytest.mark.parametrize(("first", "other", "again"), CLIENTS)
def test_behind_one_proxy_clients_are_limited_separately(
    app, session, browser_headers, first: str, other: str, again: str
) -> None:
    assert _contact(app, browser_headers, first, "a@example.org") == 302
    assert _contact(app, browser_headers, other, "b@example.org") == 302
    # The same client again (another e-mail address) is limited by its own address.
    assert _contact(app, browser_headers, again, "c@example.org") == 429


@pytest.mark.parametrize("app_settings", [1], indirect=True)
@pytest.mark.parametrize(("first", "other", "again"), CLIENTS)
@pytest.mark.usefixtures("frozen_clock")
def test_behind_one_proxy_sign_ins_are_throttled_per_client(
    app, session, first: str, other: str, again: str
) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 100
    _login(app, first)
    assert WAIT in _login(app, again)
    assert WAIT not in _login(app, other)


@pytest.mark.parametrize(
    ("address", "counted"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:5:6:7:8:9:a", "2001:db8:5:6::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("unknown", "unknown"),
    ],
)
def test_what_a_per_client_limit_counts(address: str, counted: str) -> None:
    from support.core.rate_limits import client_network

    assert client_network(address) == counted
