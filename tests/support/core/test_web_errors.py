"""Error answers keep what HTTP says they carry: a 405 names the methods that are allowed."""

from __future__ import annotations


def test_a_wrong_method_on_a_page_names_the_allowed_ones(client) -> None:
    response = client.delete("/contact")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_a_wrong_method_in_the_api_names_the_allowed_ones(client) -> None:
    response = client.open("/api/v1/me", method="TRACE")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.is_json
