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


def test_an_unreachable_database_is_a_503_so_the_proxy_tries_another_host(app) -> None:
    """docs/deploy.md: nginx moves to the next host on 502 and 503, and /healthz says 503 when
    the database is unreachable; a page that meets the same database answered 500, which nginx
    hands to the browser."""
    from sqlalchemy.exc import OperationalError

    @app.get("/search-without-database")
    @app.get("/api/v1/search-without-database")
    def unreachable():
        refused = ConnectionRefusedError("connection to server at 10.0.0.5 failed")
        raise OperationalError("SELECT 1", {}, refused)

    client = app.test_client()
    page = client.get("/search-without-database")
    assert page.status_code == 503
    assert "503" in page.get_data(as_text=True)
    api = client.get("/api/v1/search-without-database", headers={"Accept-Language": "en"})
    assert api.status_code == 503
    assert api.get_json()["error"] == "Service Unavailable"
    assert "unavailable" in api.get_json()["message"]
    chinese = client.get("/api/v1/search-without-database", headers={"Accept-Language": "zh-CN"})
    assert chinese.get_json()["error"] == "Service Unavailable"
    assert "暂时不可用" in chinese.get_json()["message"]
    assert "no-store" in chinese.headers["Cache-Control"]


def test_a_nul_character_in_a_query_or_form_is_a_400_not_a_database_error(
    app, client, session
) -> None:
    """PostgreSQL cannot store NUL: every page that writes or searches text would fail at the
    database. One check in front of all of them (also on SQLite, where it would be stored)."""
    from sqlalchemy import func, select

    from support.desk.models import Message
    from tests.factories import make_ticket, make_user
    from tests.support.staff_helpers import login

    make_user(session, email="ann@example.com")
    ticket = make_ticket(session)
    session.commit()
    login(client, "ann@example.com")
    notes = select(func.count()).select_from(Message).where(Message.direction == "note")
    refused = client.post(f"/staff/tickets/{ticket.id}/note", data={"note-body": "a\x00b"})
    assert refused.status_code == 400 and "NUL" in refused.get_data(as_text=True)
    assert session.scalar(notes) == 0
    session.commit()
    assert client.get("/search?q=a%00b").status_code == 400
    assert client.get("/staff/search?q=a%00b").status_code == 400
    assert client.get("/api/v1/tickets?q=a%00b").status_code in (400, 401)
    kept = client.post(f"/staff/tickets/{ticket.id}/note", data={"note-body": "a b"})
    assert kept.status_code == 302


def test_a_nul_character_in_a_multipart_form_is_a_400_too(app, client, session) -> None:
    """The ticket page's note and reply forms are multipart (they carry files), and anyone may
    send any form so: the check skipped multipart, so on PostgreSQL a note holding a NUL, and an
    anonymous sign-in or "Forgot your password?" with one in the address, were 500s."""
    from sqlalchemy import func, select

    from support.desk.models import Message
    from tests.factories import make_ticket, make_user
    from tests.support.staff_helpers import login

    make_user(session, email="ann@example.com")
    ticket = make_ticket(session)
    session.commit()
    multipart = {"content_type": "multipart/form-data"}
    anonymous = app.test_client()
    for path in ("/staff/login", "/staff/forgot-password"):
        sent = {"email": "ann\x00@example.com", "password": "x"}
        refused = anonymous.post(path, data=sent, **multipart)
        assert refused.status_code == 400, path
    login(client, "ann@example.com")
    notes = select(func.count()).select_from(Message).where(Message.direction == "note")
    refused = client.post(
        f"/staff/tickets/{ticket.id}/note", data={"note-body": "a\x00b"}, **multipart
    )
    assert refused.status_code == 400 and "NUL" in refused.get_data(as_text=True)
    assert session.scalar(notes) == 0
    session.commit()
    kept = client.post(f"/staff/tickets/{ticket.id}/note", data={"note-body": "a b"}, **multipart)
    assert kept.status_code == 302
    assert session.scalar(notes) == 1


def test_a_label_ending_in_a_full_width_bracket_takes_the_full_width_colon() -> None:
    # The FAQ editor's error list read "问题：必须填写问题。" but "答案（Markdown）: 必须填写答案。"
    # (a half-width colon and a space after Chinese).
    from support.core.web import before_value

    assert before_value("答案（Markdown）") == "答案（Markdown）："
    assert before_value("链接名（slug）") == "链接名（slug）："
    assert before_value("问题") == "问题："
    assert before_value("Answer (Markdown)") == "Answer (Markdown): "
