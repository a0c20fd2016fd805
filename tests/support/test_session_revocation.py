"""Sessions end on the server: a copied cookie is worthless after sign-out or a password
change, and a session left idle for STAFF_SESSION_IDLE_MINUTES ends by itself."""

from __future__ import annotations

import time

import pytest

from support.auth import SESSION_SEEN_KEY
from support.desk.models import User
from tests.factories import make_user
from tests.support.staff_helpers import PASSWORD, fast_passwords, login

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


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


def test_an_idle_session_ends(app, session, client) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    app.config["STAFF_SESSION_IDLE_MINUTES"] = 30
    login(client, "ann@example.com")
    with client.session_transaction() as cookie_session:
        cookie_session[SESSION_SEEN_KEY] = int(time.time()) - 29 * 60
    assert client.get("/staff/inbox/service").status_code == 200  # and refreshes "last seen"
    with client.session_transaction() as cookie_session:
        assert cookie_session[SESSION_SEEN_KEY] >= int(time.time()) - 5
        cookie_session[SESSION_SEEN_KEY] = int(time.time()) - 31 * 60
    assert client.get("/staff/inbox/service").status_code == 302


def test_the_default_idle_limit_is_eight_hours(app) -> None:
    from support.core.settings import SETTINGS

    [setting] = [s for s in SETTINGS if s.name == "STAFF_SESSION_IDLE_MINUTES"]
    assert setting.default == 480
