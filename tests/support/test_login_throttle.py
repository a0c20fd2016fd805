"""Failed sign-ins slow down the address and the account they come from, with a growing wait;
nobody can lock another person's account, and the owner signs in from their own address."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import support.auth
from support.app import create_app
from support.core import rate_limits
from support.core.db import utcnow
from support.desk.models import AuditEvent
from tests import conftest
from tests.factories import make_user
from tests.support.staff_helpers import PASSWORD

WRONG = "Wrong email address or password."
WAIT = "Too many failed sign-ins"
ATTACKER, OWNER = "203.0.113.7", "198.51.100.20"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(support.auth, "utcnow", fake)
    return fake


@pytest.fixture
def ann(app, session, client):
    client.set_cookie("lang", "en")
    user = make_user(session, email="ann@example.com")
    session.commit()
    return user


def _try(client, ip: str, password: str, email: str = "ann@example.com"):
    return client.post(
        "/staff/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_an_attacker_cannot_lock_the_owner_out(app, client, ann, clock) -> None:
    app.config["LOGIN_MAX_FAILURES"] = 3
    for _ in range(10):
        _try(client, ATTACKER, "guess")
        clock.advance(1)
    # The attacker's address waits, even with the right password...
    page = _try(client, ATTACKER, PASSWORD)
    assert page.status_code == 200 and WAIT in page.get_data(as_text=True)
    # ...but the owner, from their own address, signs in at once.
    response = _try(client, OWNER, PASSWORD)
    assert response.status_code == 302


def test_the_wait_grows_with_each_further_failure(app, client, ann, clock) -> None:
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_THROTTLE_SECONDS=2, LOGIN_LOCKOUT_MINUTES=1)
    for _ in range(2):
        assert WRONG in _try(client, ATTACKER, "guess").get_data(as_text=True)
    page = _try(client, ATTACKER, "guess").get_data(as_text=True)
    assert "Wait 2 seconds" in page
    clock.advance(1)
    assert "Wait 1 seconds" in _try(client, ATTACKER, PASSWORD).get_data(as_text=True)
    clock.advance(1)
    assert "Wait 4 seconds" in _try(client, ATTACKER, "guess").get_data(as_text=True)
    clock.advance(4)
    assert "Wait 8 seconds" in _try(client, ATTACKER, "guess").get_data(as_text=True)
    for _ in range(6):  # the wait stops growing at LOGIN_LOCKOUT_MINUTES
        clock.advance(60)
        page = _try(client, ATTACKER, "guess").get_data(as_text=True)
    assert "Wait 60 seconds" in page
    # Once the wait is over the right password works: there is no hard lock.
    clock.advance(60)
    assert _try(client, ATTACKER, PASSWORD).status_code == 302


def test_guessing_one_account_from_many_addresses_slows_the_account(
    app, session, client, ann, clock
) -> None:
    app.config.update(LOGIN_MAX_FAILURES=3, LOGIN_ACCOUNT_MAX_FAILURES=4)
    for n in range(4):
        assert _try(client, f"192.0.2.{n}", "guess").status_code == 200
    page = _try(client, OWNER, PASSWORD)
    assert page.status_code == 200 and WAIT in page.get_data(as_text=True)
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login_throttled"))
    session.commit()
    clock.advance(2)
    assert _try(client, OWNER, PASSWORD).status_code == 302
    # A successful sign-in clears the account's count.
    assert WRONG in _try(client, "192.0.2.99", "typo").get_data(as_text=True)


def test_unknown_addresses_are_throttled_alike(app, client, clock) -> None:
    client.set_cookie("lang", "en")
    app.config.update(LOGIN_MAX_FAILURES=50, LOGIN_ACCOUNT_MAX_FAILURES=2)
    _try(client, "192.0.2.1", "x", email="ghost@example.com")
    page = _try(client, "192.0.2.2", "x", email="ghost@example.com")
    assert "Wait 2 seconds" in page.get_data(as_text=True)


def test_the_counts_are_shared_by_every_process(app, session, client, ann, clock) -> None:
    """Two web processes (two apps on one database) count the same failures: an attacker
    cannot multiply the allowance by the number of processes or hosts."""
    app.config["LOGIN_MAX_FAILURES"] = 4
    instance = Path(app.instance_path).parent / "other-instance"
    other = create_app(
        conftest.test_settings(app.config["DATABASE_URL"], instance), instance_path=instance
    )
    other.config.update(LOGIN_MAX_FAILURES=4, WTF_CSRF_ENABLED=app.config["WTF_CSRF_ENABLED"])
    second = other.test_client()
    second.set_cookie("lang", "en")
    try:
        for n in range(3):
            browser = client if n % 2 == 0 else second
            assert WAIT not in _try(browser, ATTACKER, "guess").get_data(as_text=True)
        assert WAIT in _try(second, ATTACKER, "guess").get_data(as_text=True)  # the 4th in all
        page = _try(second, ATTACKER, PASSWORD)
        assert page.status_code == 200 and WAIT in page.get_data(as_text=True)
        assert WAIT in _try(client, ATTACKER, PASSWORD).get_data(as_text=True)
    finally:
        other.extensions["support_db"].dispose()


def test_quiet_counters_are_purged_and_waits_kept(app, session) -> None:
    now = utcnow()
    base, cap = timedelta(seconds=2), timedelta(minutes=1)
    for n in range(3):
        rate_limits.record_failure(session, f"ip:{n}", now, limit=1, base=base, cap=cap)
    long = timedelta(days=3)
    rate_limits.record_failure(session, "ip:long", now, limit=1, base=long, cap=long)
    later = now + timedelta(days=2)
    assert rate_limits.purge(session, later) == 3
    assert rate_limits.purge(session, later) == 0
    assert rate_limits.blocked_until(session, "ip:long", later) is not None


def test_long_keys_are_bounded() -> None:
    key = rate_limits.limit_key("login-account", "x" * 5000 + "@example.com")
    assert len(key) <= rate_limits.KEY_LENGTH and key.startswith("login-account:sha256:")


def test_the_account_pages_password_check_is_throttled_like_a_sign_in(
    app, client, ann, clock
) -> None:
    """A stolen session must not be a free password oracle: wrong "current password" guesses
    count towards the same limits, and past them even the right one waits. (The clock stands
    still: on a loaded machine the wait ran out before the last try and it got through.)"""
    client.post(
        "/staff/login",
        data={"email": "ann@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": ATTACKER},
    )

    def change(current: str):
        return client.post(
            "/staff/account",
            data={
                "password-current": current,
                "password-new": "a much longer new secret",
                "password-submit": "1",
            },
            environ_base={"REMOTE_ADDR": ATTACKER},
        )

    answers = [change(f"guess {n}").get_data(as_text=True) for n in range(12)]
    assert "That is not your current password." in answers[0]
    assert WAIT in answers[-1]
    refused = change(PASSWORD)
    assert refused.status_code == 200 and WAIT in refused.get_data(as_text=True)
