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


def test_an_unhandled_error_logs_the_path_quoted_on_one_line(app, caplog) -> None:
    """The path is the client's: a %0a in it must not start a forged log line."""

    @app.get("/boom/<rest>")
    def boom(rest: str):
        raise RuntimeError("boom")

    response = app.test_client().get("/boom/x%0a2026-12-04 00:00:00,000 ERROR forged")
    assert response.status_code == 500
    [record] = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    assert "\n" not in record.getMessage()
    assert "\\n2026-12-04" in record.getMessage()
