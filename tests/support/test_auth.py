"""Signing in: lockout, no user enumeration, cookie flags, CSRF, roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk.models import Message
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import PASSWORD, login

WRONG = "Wrong email address or password."
LOCKED = "Too many failed sign-ins"


def test_sign_in_and_out(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    assert client.get("/staff/").status_code == 302  # to the login page
    login(client, "ann@example.com")
    page = client.get("/staff/", follow_redirects=True)
    assert page.status_code == 200 and "Customer Service" in page.get_data(as_text=True)
    assert client.get("/staff/logout").status_code == 405  # signing out needs a POST
    client.post("/staff/logout")
    assert client.get("/staff/inbox/service").status_code == 302


def test_wrong_password_and_unknown_address_look_the_same(app, session, client) -> None:
    client.set_cookie("lang", "en")
    make_user(session, email="ann@example.com")
    session.commit()
    known = client.post("/staff/login", data={"email": "ann@example.com", "password": "nope"})
    unknown = client.post("/staff/login", data={"email": "who@example.com", "password": "nope"})
    assert known.status_code == unknown.status_code == 200
    assert WRONG in known.get_data(as_text=True) and WRONG in unknown.get_data(as_text=True)


class _CountingHasher:
    """The test's argon2 hasher, counting the work each sign-in does."""

    def __init__(self, hasher) -> None:
        self.hasher, self.calls = hasher, []

    def hash(self, password: str) -> str:
        self.calls.append("hash")
        return self.hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        # Only an argon2 hash costs a hashing: anything else is refused at once.
        self.calls.append("verify" if password_hash.startswith("$argon2") else "no work")
        return self.hasher.verify(password_hash, password)

    def check_needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


def test_a_known_and_an_unknown_address_cost_the_same_hashing(
    app, session, client, monkeypatch
) -> None:
    """Even the first attempt a process sees: the stand-in hash for unknown addresses was
    made on first use, so an unknown address's first try hashed once more (about 0.5 s
    against 0.25 s with the production cost) and told which addresses have an account."""
    import support.auth
    import support.core.passwords

    make_user(session, email="ann@example.com")
    session.commit()
    counting = _CountingHasher(support.core.passwords._hasher)
    monkeypatch.setattr(support.core.passwords, "_hasher", counting)
    work = {}
    for address in ("ann@example.com", "who@example.com"):
        support.auth._dummy_hash.cache_clear()  # a fresh process
        counting.calls.clear()
        client.post("/staff/login", data={"email": address, "password": "nope"})
        work[address] = list(counting.calls)
    assert work["ann@example.com"] == work["who@example.com"]
    support.auth._dummy_hash.cache_clear()


def test_an_invited_address_costs_the_same_hashing_as_an_unknown_one(
    app, session, client, monkeypatch
) -> None:
    """An invited member has no password yet (staff_tokens.unusable_password, no argon2 hash):
    checking a password against it took no time, so a sign-in answered some 0.25 s sooner
    for an address just invited than for any other, and told an outsider who was new staff."""
    import support.auth
    import support.core.passwords
    from support.desk.staff_tokens import unusable_password

    make_user(session, email="new@example.com").password_hash = unusable_password()
    session.commit()
    support.auth._dummy_hash()  # made already, as in a process that signed anyone in
    counting = _CountingHasher(support.core.passwords._hasher)
    monkeypatch.setattr(support.core.passwords, "_hasher", counting)
    work = {}
    for address in ("new@example.com", "who@example.com"):
        counting.calls.clear()
        refused = client.post("/staff/login", data={"email": address, "password": "nope"})
        assert refused.status_code == 200
        work[address] = list(counting.calls)
    assert work["new@example.com"] == work["who@example.com"] == ["verify"]


def test_failures_throttle_further_attempts(app, session, client) -> None:
    """The hard lock is gone (tests/support/test_login_throttle.py): attempts wait instead."""
    client.set_cookie("lang", "en")
    make_user(session, email="ann@example.com")
    session.commit()
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(2):
        page = client.post("/staff/login", data={"email": "ann@example.com", "password": "x"})
        assert WRONG in page.get_data(as_text=True)
    page = client.post("/staff/login", data={"email": "ann@example.com", "password": "x"})
    assert LOCKED in page.get_data(as_text=True)
    # Even the right password is not checked during the wait.
    page = client.post("/staff/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert page.status_code == 200 and LOCKED in page.get_data(as_text=True)


def test_unknown_addresses_lock_too(app, client) -> None:
    client.set_cookie("lang", "en")
    app.config["LOGIN_MAX_FAILURES"] = 2
    client.post("/staff/login", data={"email": "ghost@example.com", "password": "x"})
    page = client.post("/staff/login", data={"email": "ghost@example.com", "password": "x"})
    assert LOCKED in page.get_data(as_text=True)


def test_deactivated_user_is_signed_out(app, session, client) -> None:
    user = make_user(session, email="ann@example.com")
    session.commit()
    login(client, "ann@example.com")
    user.is_active = False
    session.commit()
    assert client.get("/staff/inbox/service").status_code == 302


def test_login_redirects_only_to_local_paths(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    data = {"email": "ann@example.com", "password": PASSWORD}
    evil = client.post("/staff/login?next=//evil.example/x", data=data)
    assert evil.headers["Location"] == "/staff/"
    client.post("/staff/logout")
    good = client.post("/staff/login?next=/staff/inbox/mine", data=data)
    assert good.headers["Location"] == "/staff/inbox/mine"


@pytest.mark.parametrize("target", ["/staff/%0d%0aX-Evil:%201", "/%09/evil.example"])
def test_a_next_path_with_control_characters_goes_to_the_inbox(app, session, client, target):
    """A newline in a Location header was a 500; browsers drop tabs, making /<tab>/x //x."""
    make_user(session, email="ann@example.com")
    session.commit()
    data = {"email": "ann@example.com", "password": PASSWORD}
    response = client.post(f"/staff/login?next={target}", data=data)
    assert (response.status_code, response.headers["Location"]) == (302, "/staff/")


def test_a_next_path_with_a_nul_is_refused_like_every_nul(app, session, client):
    """A NUL in any query value is a 400 (support.core.web), before sign-in reads `next`."""
    make_user(session, email="ann@example.com")
    session.commit()
    data = {"email": "ann@example.com", "password": PASSWORD}
    response = client.post("/staff/login?next=/staff/%00", data=data)
    assert response.status_code == 400 and "Location" not in response.headers


def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_flags(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    response = client.post("/staff/login", data={"email": "ann@example.com", "password": PASSWORD})
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.mark.parametrize("app_settings", [{"SESSION_COOKIE_SECURE": True}])
def test_session_cookie_secure_when_configured(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    response = client.post("/staff/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert "Secure" in _session_cookie(response)


@pytest.mark.parametrize("app_settings", [{"WTF_CSRF_ENABLED": True}])
def test_forms_reject_a_missing_csrf_token(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    ticket = make_ticket(session)
    session.commit()
    refused = client.post("/staff/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert refused.status_code == 400
    # With the token from the form, signing in works.
    page = client.get("/staff/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = client.post(
        "/staff/login", data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    reply = client.post(
        f"/staff/tickets/{ticket.id}/reply", data={"reply-body": "Hello", "reply-send": "1"}
    )
    assert reply.status_code == 400
    note = client.post(f"/staff/tickets/{ticket.id}/note", data={"note-body": "hm"})
    assert note.status_code == 400
    assert session.scalars(select(Message).where(Message.direction != "in")).all() == []


def test_roles_gate_reports_and_administration(app, session, client) -> None:
    make_user(session, email="agent@example.com")
    make_user(session, email="lead@example.com", role="lead")
    make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "agent@example.com")
    assert client.get("/staff/reports").status_code == 403
    assert client.get("/staff/admin/users").status_code == 403
    client.post("/staff/logout")
    login(client, "lead@example.com")
    assert client.get("/staff/reports").status_code == 200
    assert client.get("/staff/admin/users").status_code == 403
    client.post("/staff/logout")
    login(client, "admin@example.com")
    assert client.get("/staff/reports").status_code == 200
    assert client.get("/staff/admin/users").status_code == 200


def test_password_change_signs_out_other_sessions(app, session) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, "ann@example.com")
    login(second, "ann@example.com")
    changed = first.post(
        "/staff/account",
        data={
            "password-current": PASSWORD,
            "password-new": "a much longer new secret",
            "password-submit": "1",
        },
    )
    assert changed.status_code == 302
    assert first.get("/staff/inbox/service").status_code == 200
    assert second.get("/staff/inbox/service").status_code == 302


def test_the_sign_in_page_is_headed_with_the_staff_side_not_the_portal(client) -> None:
    """Signed out, the staff pages' header names the staff desk (the customers' portal is
    the "Help centre", still linked beside it for a customer who came here by mistake), in
    both languages."""
    for lang, name in (("en", "Staff desk"), ("zh", "员工工作台")):
        html = client.get(f"/staff/login?lang={lang}").get_data(as_text=True)
        assert f'<a class="brand" href="/staff/login">Lumen Home · {name}</a>' in html, lang
