"""A "next" parameter never sends anyone to another site, however it is written: the ways
browsers read a Location header (backslashes, tabs and newlines dropped, schemes in any case,
percent-encoded slashes decoded by the query string) all stay on this site."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from support.core.web import local_path
from tests.factories import make_user
from tests.support.staff_helpers import PASSWORD

HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    " //evil.example",
    "https://evil.example",
    "HTTPS://evil.example/staff/",
    "javascript:alert(1)",
    "/%2F/evil.example",
    "/\u3000/evil.example",
    "/\u2028/evil.example",
    "/\x00/evil.example",
    "http:/evil.example",
    "https:evil.example",
    "/" * 3000,
]


def _lands_on_site(location: str) -> bool:
    """Where a browser goes from https://desk.example/staff/login with this Location."""
    # Browsers drop tabs and newlines anywhere in a URL and read "\" as "/".
    cleaned = "".join(c for c in location if c not in "\t\r\n").replace("\\", "/")
    return urlsplit(urljoin("https://desk.example/staff/login", cleaned)).netloc == "desk.example"


@pytest.mark.parametrize("target", HOSTILE)
def test_sign_in_never_goes_on_to_another_site(app, session, client, target) -> None:
    user = make_user(session)
    session.commit()
    response = client.post(
        "/staff/login",
        query_string={"next": target},
        data={"email": user.email, "password": PASSWORD},
    )
    location = response.headers.get("Location", "")
    assert response.status_code in (302, 400) and _lands_on_site(location), location


@pytest.mark.parametrize("target", HOSTILE)
def test_local_path_refuses_whatever_a_browser_reads_as_another_site(target) -> None:
    kept = local_path(target)
    assert kept is None or _lands_on_site(kept)


def test_local_path_keeps_a_path_with_its_query() -> None:
    assert local_path("/staff/inbox/service?status=open&q=a%20b") == (
        "/staff/inbox/service?status=open&q=a%20b"
    )
