"""Anyone may search, get suggestions while typing and the contact form's matches, and a unique
query costs the model and the word search real CPU: each client address gets
FAQ_QUERIES_PER_IP_MINUTE of them, counted in the database (every process and host together),
and is told 429 beyond, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest

import faq.portal
from support.app import create_app
from support.core.db import utcnow
from tests import conftest
from tests.faq.conftest import BROWSER_UA

HEADERS = {"User-Agent": BROWSER_UA, "Accept-Language": "en"}
PROXY = "10.0.0.5"


@pytest.fixture
def app_settings() -> dict:
    return {"FAQ_QUERIES_PER_IP_MINUTE": 3, "HTTP_TRUSTED_PROXIES": 1}


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = utcnow()

        def __call__(self):
            return self.now

    fake = Clock()
    monkeypatch.setattr(faq.portal, "utcnow", fake)
    return fake


def _get(client, url: str, client_address: str = "198.51.100.1"):
    return client.get(
        url,
        headers={**HEADERS, "X-Forwarded-For": client_address},
        environ_base={"REMOTE_ADDR": PROXY},
    )


def _matches(client, text: str, client_address: str = "198.51.100.1"):
    """The contact form's matches while typing (app.js POSTs the text)."""
    return client.post(
        "/contact/matches",
        data={"q": text},
        headers={**HEADERS, "X-Forwarded-For": client_address},
        environ_base={"REMOTE_ADDR": PROXY},
    )


def test_searches_suggestions_and_matches_share_one_budget_then_429(app, kb, clock) -> None:
    category = kb.category("returns")
    kb.article(category, "How long does a refund take?", "Five working days.")
    kb.commit()
    client = app.test_client()
    assert _get(client, "/search?q=refund").status_code == 200
    assert _get(client, "/suggest?q=refu").status_code == 200
    assert _matches(client, "refund please").status_code == 200

    page = _get(client, "/search?q=refund+time")
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "60"
    assert "You have searched very often in the last minute" in page.get_data(as_text=True)
    for response, empty in [
        (_get(client, "/suggest?q=refund"), {"suggestions": []}),
        (_matches(client, "refund please now"), {"matches": []}),
    ]:
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "60"
        data = response.get_json()
        assert {k: data[k] for k in empty} == empty
        assert "You have searched very often" in data["error"]
    # Nothing to search costs nothing and is not refused.
    assert _get(client, "/search").status_code == 200
    assert _get(client, "/suggest?q=r").status_code == 200
    # Another client behind the same proxy has its own budget; a minute later, so has this one.
    assert _get(client, "/search?q=refund", "198.51.100.2").status_code == 200
    clock.now += timedelta(seconds=61)
    assert _get(client, "/search?q=refund").status_code == 200


def test_the_check_button_of_the_contact_form_counts_too(app, clock) -> None:
    client = app.test_client()
    form = {"subject": "Refund", "question": "When does my refund arrive?", "action": "check"}
    statuses = []
    for _ in range(4):
        response = client.post(
            "/contact",
            data=form,
            headers={**HEADERS, "X-Forwarded-For": "198.51.100.1"},
            environ_base={"REMOTE_ADDR": PROXY},
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 429]
    html = response.get_data(as_text=True)
    assert "You have searched very often in the last minute" in html
    assert "When does my refund arrive?" in html  # what they typed is kept


def test_the_budget_is_shared_by_every_process_on_the_database(
    app, database_url, tmp_path, clock
) -> None:
    """Two apps on one database stand for two web processes (or hosts): one count."""
    settings = conftest.test_settings(database_url, tmp_path / "other")
    other = create_app(
        {**settings, "FAQ_QUERIES_PER_IP_MINUTE": 3, "HTTP_TRUSTED_PROXIES": 1},
        instance_path=tmp_path / "other",
    )
    try:
        first, second = app.test_client(), other.test_client()
        assert _get(first, "/suggest?q=refund").status_code == 200
        assert _get(second, "/suggest?q=refund").status_code == 200
        assert _get(first, "/suggest?q=refund").status_code == 200
        assert _get(second, "/suggest?q=refund").status_code == 429
    finally:
        other.extensions["support_db"].dispose()
