"""Request sessions: GET reads without the write lock; one commit at the end of a request."""

from __future__ import annotations

import time

import pytest
from flask import Flask, abort
from sqlalchemy import event, select, text

from support.core.db import Database, db_session
from support.desk.models import AuditEvent

ACTION = "test.request_session"


@pytest.fixture
def routes(app: Flask) -> dict[str, int]:
    """Views that write an audit row, then answer in different ways; counts their commits."""
    commits = {"count": 0}

    def count(_session) -> None:
        commits["count"] += 1

    def write() -> None:
        session = db_session()
        if not event.contains(session, "after_commit", count):
            event.listen(session, "after_commit", count)
        session.add(AuditEvent(action=ACTION))
        session.flush()

    def ok():
        write()
        write()
        return "written"

    def raises():
        write()
        raise RuntimeError("the view failed after writing")

    def refuses():
        write()
        abort(409)

    def bad_commit():
        session = db_session()
        session.add(AuditEvent(action=ACTION, actor_id=987654))  # no such user: the FK fails
        return "looks fine until the commit"

    for name, view in [("ok", ok), ("raises", raises), ("refuses", refuses)]:
        app.add_url_rule(f"/_test/{name}", name, view, methods=["POST"])
    app.add_url_rule("/_test/bad_commit", "bad_commit", bad_commit, methods=["POST"])
    return commits


def _written(db) -> int:
    with db.read_session() as session:
        return len(session.scalars(select(AuditEvent).where(AuditEvent.action == ACTION)).all())


def test_a_views_changes_are_committed_once_at_the_end(app, db, client, routes) -> None:
    response = client.post("/_test/ok")

    assert response.status_code == 200
    assert routes["count"] == 1  # two flushes, one commit
    assert _written(db) == 2


def test_a_view_that_raises_is_rolled_back(app, db, client, routes) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post("/_test/raises")

    assert response.status_code == 500
    assert routes["count"] == 0 and _written(db) == 0


def test_an_error_response_is_rolled_back(app, db, client, routes) -> None:
    response = client.post("/_test/refuses")

    assert response.status_code == 409
    assert routes["count"] == 0 and _written(db) == 0


def test_a_failing_commit_is_a_500_error_page_not_a_lost_write(app, db, client, routes) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post("/_test/bad_commit")

    assert response.status_code == 500
    assert b"looks fine" not in response.data
    assert response.headers["X-Frame-Options"] == "DENY"  # the error page went through the hooks
    assert _written(db) == 0


def test_get_requests_read_and_other_methods_write(app) -> None:
    with app.test_request_context("/", method="GET"):
        assert db_session().get_bind().get_execution_options().get("sqlite_begin") == "DEFERRED"
    with app.test_request_context("/", method="POST"):
        assert "sqlite_begin" not in db_session().get_bind().get_execution_options()


def test_a_get_page_renders_while_another_writer_holds_the_lock(app, db, client) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    client.get("/")  # warm up: templates, search index
    with db.engine.connect() as writer:
        writer.begin()  # BEGIN IMMEDIATE: holds the write lock until it ends
        started = time.monotonic()
        home = client.get("/")
        search = client.get("/search")  # a query would be logged: that write waits
        elapsed = time.monotonic() - started
        writer.rollback()

    assert home.status_code == 200 and search.status_code == 200
    # Waiting for the lock means waiting busy_timeout (30 s) and more; two pages on a loaded
    # machine take seconds.
    assert elapsed < 20


def test_a_write_in_a_get_requests_session_is_flagged(app, db, client, caplog) -> None:
    def sneaky():
        db_session().add(AuditEvent(action=ACTION))
        db_session().flush()
        return "wrote on GET"

    app.add_url_rule("/_test/sneaky", "sneaky", sneaky)
    with caplog.at_level("WARNING", logger="support.core.db"):
        assert client.get("/_test/sneaky").status_code == 200

    assert "GET /_test/sneaky" in caplog.text  # it still works (and commits), but is named
    assert _written(db) == 1


def test_a_read_session_that_wrote_keeps_nothing(db, caplog) -> None:
    with caplog.at_level("WARNING", logger="support.core.db"), db.read_session() as session:
        session.add(AuditEvent(action=ACTION))
        session.flush()

    assert "a read session wrote" in caplog.text
    assert _written(db) == 0


def test_a_read_session_keeps_the_connections_prepared_statements(database_url) -> None:
    """psycopg 3 forgets a connection's prepared statements on ROLLBACK: a read session ends
    with a COMMIT, so the worker's statements stay prepared on the pooled connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's (psycopg's prepare_threshold)")
    database = Database(database_url)  # its own pool: one connection, reused
    try:
        for _ in range(2):
            with database.read_session() as session:
                for _ in range(6):  # prepared from the fifth run on
                    session.scalars(select(AuditEvent.id).where(AuditEvent.action == ACTION))
        with database.read_session() as session:
            prepared = session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    finally:
        database.dispose()
    assert prepared and prepared >= 1
