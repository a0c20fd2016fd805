"""Each test's app starts on the seeded start of its process's database (TestDatabase.reset in
tests/conftest.py): the reference data as the real seed writes it and nothing a test wrote
before, keys from the start, on SQLite and PostgreSQL. Written rows of every kind (a ticket with
its message and full-text entry, a user, a changed and an added department, an audit event)
are gone for the next test."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert, select, text, update

from support.core.db import Database, get_db, utcnow
from support.desk.models import AuditEvent, Department, Ticket
from support.desk.seed import seed_reference_data
from support.migrate import target_metadata
from tests.conftest import clean_database, make_app
from tests.factories import make_ticket, make_user

#: Set by the writing test for its backend, checked by the one after it (same module, in order).
_WROTE: dict[str, int] = {}


def _state(engine: Engine) -> dict[str, object]:
    """Every table's rows (by key; a row's created_at left out: when it was seeded), the
    SQLite full-text index's entries and, on PostgreSQL, each sequence's position."""
    state: dict[str, object] = {}
    with engine.connect() as conn:
        for table in target_metadata().sorted_tables:
            columns = [c for c in table.columns if c.name != "created_at"]
            keys = list(table.primary_key.columns)
            state[table.name] = conn.execute(select(*columns).order_by(*keys)).all()
        if engine.dialect.name == "sqlite":
            state["fts"] = conn.exec_driver_sql("SELECT count(*) FROM ticket_search_fts").scalar()
        else:
            state["sequences"] = conn.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences"
                " WHERE schemaname = current_schema() ORDER BY sequencename"
            ).all()
    return state


def _write_everywhere(db: Database) -> int:
    """Rows in many tables; returns the ticket's id."""
    with db.session() as session:
        ticket = make_ticket(session, body="A kettle that boils dry")
        make_user(session)
        session.execute(update(Department).where(Department.code == "service").values(name="X"))
        session.add(
            Department(
                code="extra", name="Extra", email_address="extra@example.com", display_name="E"
            )
        )
        session.execute(insert(AuditEvent), [{"action": "leftover"}])
        words = {"ticket_id": ticket.id, "document": "kettle boils dry", "indexed_at": utcnow()}
        session.execute(insert(target_metadata().tables["ticket_search"]), [words])
        ticket_id = ticket.id
    return ticket_id


def _seeded_afresh(database_url: str) -> dict[str, object]:
    """The state the fixture made before: every table emptied, then the real seed."""
    database = Database(database_url)
    try:
        clean_database(database)
        with database.session() as session:
            seed_reference_data(session)
        return _state(database.engine)
    finally:
        database.dispose()


def test_a_next_app_starts_where_the_real_seed_leaves_a_clean_database(
    app, database_url, tmp_path, compiled_translations, compiled_templates
) -> None:
    db = get_db(app)
    at_start = _state(db.engine)
    assert at_start == _seeded_afresh(database_url)  # what the old fixture made
    db.dispose()
    next_app = make_app(
        database_url, tmp_path / "i1", {}, compiled_translations, compiled_templates
    )
    try:
        assert _state(get_db(next_app).engine) == at_start
        _write_everywhere(get_db(next_app))
        assert _state(get_db(next_app).engine) != at_start
    finally:
        get_db(next_app).dispose()
    again = make_app(database_url, tmp_path / "i2", {}, compiled_translations, compiled_templates)
    try:
        assert _state(get_db(again).engine) == at_start
        with get_db(again).session() as session:  # keys start again where the seed left them
            assert make_ticket(session).id == 1
    finally:
        get_db(again).dispose()


def test_writes_rows_of_every_kind(db, database_url) -> None:
    _WROTE[database_url] = _write_everywhere(db)
    with db.engine.connect() as conn:
        assert conn.scalar(select(Ticket.id)) == _WROTE[database_url]
        if db.dialect == "sqlite":
            assert conn.execute(text("SELECT count(*) FROM ticket_search_fts")).scalar()


def test_the_next_test_sees_none_of_them(db, database_url, session) -> None:
    if database_url not in _WROTE:
        pytest.skip("runs after test_writes_rows_of_every_kind (run the module)")
    assert session.scalars(select(Ticket)).all() == []
    assert session.scalars(select(AuditEvent)).all() == []
    codes = set(session.scalars(select(Department.code)))
    assert "extra" not in codes and "service" in codes
    assert session.scalar(select(Department.name).where(Department.code == "service")) != "X"
    if db.dialect == "sqlite":
        assert session.execute(text("SELECT count(*) FROM ticket_search_fts")).scalar() == 0
    assert make_ticket(session).id == 1
