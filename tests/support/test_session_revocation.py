"""Sessions end on the server: a copied cookie is worthless after sign-out or a password
change, and a session left idle for STAFF_SESSION_IDLE_MINUTES ends by itself."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from support.auth import SESSION_SEEN_KEY
from support.desk.models import User
from tests.factories import make_user
from tests.support.staff_helpers import PASSWORD, login


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_copied_cookie_dies_at_sign_out(app, session, client) -> None:
    user = make_user(session, email="ann@example.com")
    session.commit()
    login(client, "ann@example.com")
    stolen = app.test_client()
    stolen.set_cookie("session", _cookie(client))
    assert stolen.get("/staff/inbox/service").status_code == 200

    client.post("/staff/logout")

    assert stolen.get("/staff/inbox/service").status_code == 302
    session.expire_all()
    assert session.get(User, user.id).session_generation == 1
    session.commit()  # SQLite: a read transaction would block the app's next write
    # Signing in again works, and gives a new session.
    login(client, "ann@example.com")
    assert client.get("/staff/inbox/service").status_code == 200


def test_a_copied_cookie_dies_at_a_password_change(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    login(client, "ann@example.com")
    stolen = app.test_client()
    stolen.set_cookie("session", _cookie(client))
    changed = client.post(
        "/staff/account",
        data={
            "password-current": PASSWORD,
            "password-new": "a much longer new secret",
            "password-submit": "1",
        },
    )
    assert changed.status_code == 302
    assert client.get("/staff/inbox/service").status_code == 200
    assert stolen.get("/staff/inbox/service").status_code == 302


def test_a_token_made_with_a_stolen_session_dies_at_a_password_change(app, session, client) -> None:
    """A session thief's first move is an API token, which no sign-out ends: the owner's
    password change (or an admin's new password for them) does."""
    make_user(session, email="ann@example.com")
    admin = make_user(session, email="boss@example.com", role="admin")
    session.commit()
    login(client, "ann@example.com")
    stolen = app.test_client()
    stolen.set_cookie("session", _cookie(client))
    page = stolen.post("/staff/account", data={"token-submit": "1"}).get_data(as_text=True)
    token = re.search(r"sup_[A-Za-z0-9_-]{20,}", page)
    assert token is not None
    bearer = {"Authorization": f"Bearer {token.group(0)}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    client.post(
        "/staff/account",
        data={
            "password-current": PASSWORD,
            "password-new": "a much longer new secret",
            "password-submit": "1",
        },
    )
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    # An administrator's new password for the account does the same.
    page = client.post("/staff/account", data={"token-submit": "1"}).get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {re.search(r'sup_[A-Za-z0-9_-]{20,}', page).group(0)}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    admin_client = app.test_client()
    login(admin_client, admin.email)
    ann = session.scalar(select(User).where(User.email == "ann@example.com"))
    departments = [str(d.id) for d in ann.departments]
    session.commit()  # SQLite: a read transaction would block the app's next write
    form = admin_client.get(f"/staff/admin/users/{ann.id}").get_data(as_text=True)
    assert "password" in form
    saved = admin_client.post(
        f"/staff/admin/users/{ann.id}",
        data={
            "email": "ann@example.com",
            "name": "Ann",
            "role": "agent",
            "departments": departments,
            "is_active": "y",
            "password": "another long new secret",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[:300]
    assert client.get("/api/v1/me", headers=bearer).status_code == 401


def test_an_idle_session_ends(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    app.config["STAFF_SESSION_IDLE_MINUTES"] = 30
    login(client, "ann@example.com")
    with client.session_transaction() as cookie_session:
        cookie_session[SESSION_SEEN_KEY] = int(time.time()) - 29 * 60
    before = int(time.time())
    assert client.get("/staff/inbox/service").status_code == 200  # and refreshes "last seen"
    with client.session_transaction() as cookie_session:
        assert cookie_session[SESSION_SEEN_KEY] >= before
        cookie_session[SESSION_SEEN_KEY] = int(time.time()) - 31 * 60
    assert client.get("/staff/inbox/service").status_code == 302


def test_the_default_idle_limit_is_eight_hours(app) -> None:
    from support.core.settings import SETTINGS

    [setting] = [s for s in SETTINGS if s.name == "STAFF_SESSION_IDLE_MINUTES"]
    assert setting.default == 480
