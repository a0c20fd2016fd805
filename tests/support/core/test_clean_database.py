"""The cleanup between PostgreSQL tests leaves every table as TRUNCATE does: no page, keys from 1.

A table emptied by DELETE alone keeps its pages, and once (auto)vacuum has noted their free
space the next test's rows fill it out of insertion order, which a query without ORDER BY then
shows (CI, twenty-third session)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from support.desk.models import AuditEvent
from support.migrate import target_metadata
from tests.conftest import clean_database

PAGES = text(
    "SELECT relname, pg_relation_size(oid) FROM pg_class"
    " WHERE relnamespace = current_schema()::regnamespace AND relname = ANY(:names)"
    " AND pg_relation_size(oid) > 0"
)


@pytest.fixture
def pg(db):
    if db.dialect != "postgresql":
        pytest.skip("SQLite's files have no free-space map; the cleanup there is DELETE")
    return db


def _pages(db) -> dict[str, int]:
    names = [t.name for t in target_metadata().sorted_tables]
    with db.engine.connect() as conn:
        return {name: size for name, size in conn.execute(PAGES, {"names": names})}


def _write_pages_with_free_space(db) -> None:
    """Rows on many pages, half of them deleted and vacuumed: free space the map knows of."""
    rows = [{"action": "test_row", "data": {"n": n, "pad": "x" * 200}} for n in range(3000)]
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEvent), rows)
        conn.execute(text("DELETE FROM audit_events WHERE id % 2 = 0"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM audit_events")


def _assert_fresh(db) -> None:
    assert _pages(db) == {}
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEvent), [{"action": f"after {n}"} for n in range(500)])
    with db.engine.connect() as conn:
        ids = conn.scalars(select(AuditEvent.id)).all()  # no ORDER BY: the file's order
        assert ids == list(range(1, 501))
        assert conn.scalar(select(func.count()).select_from(AuditEvent)) == 500


def test_every_table_is_left_without_a_page_and_keys_restart(pg) -> None:
    _write_pages_with_free_space(pg)
    assert _pages(pg)["audit_events"] > 8192 * 10
    clean_database(pg)
    _assert_fresh(pg)


def test_a_table_another_session_still_sees_is_truncated(pg) -> None:
    """An open snapshot keeps the deleted rows, so VACUUM cannot give their pages back:
    TRUNCATE does it instead."""
    _write_pages_with_free_space(pg)
    other = create_engine(pg.engine.url)
    try:
        with other.connect() as conn:
            conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
            conn.exec_driver_sql("SELECT 1").scalar()  # takes the snapshot, touches no table
            clean_database(pg)
            conn.rollback()
    finally:
        other.dispose()
    _assert_fresh(pg)
