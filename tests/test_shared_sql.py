"""The test apps' engines compile SQL through their database's shared dialect and cache
(tests/shared_sql.py): the SQL a fresh engine of the same URL compiles, compiled once a
process."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import selectinload

from support.core.db import Database, get_db
from support.desk.models import AuditEvent, Department, Ticket, User
from tests.shared_sql import own_make_engine

STATEMENTS = [
    select(Ticket).options(selectinload(Ticket.messages)).where(Ticket.status == "open"),
    select(Department.code, func.count(User.id))
    .join(Department.members)
    .group_by(Department.code)
    .order_by(Department.code),
    insert(AuditEvent).values(action="a", data={"n": 1}).returning(AuditEvent.id),
    update(Department).where(Department.code == "sales").values(name="Sales"),
    delete(AuditEvent).where(AuditEvent.id.in_([1, 2, 3])),
]


def _settings(dialect) -> dict:
    """A dialect's plain settings (what it read from the server included)."""
    plain = (str, int, float, bool, tuple, type(None))
    return {k: v for k, v in vars(dialect).items() if isinstance(v, plain)}


def test_apps_share_their_databases_dialect_and_compiled_sql(app, database_url) -> None:
    engine = get_db(app).engine
    other = Database(database_url)
    try:
        assert other.engine.dialect is engine.dialect
        assert other.engine._compiled_cache is engine._compiled_cache
        assert other.read_sessionmaker.kw["bind"].dialect is engine.dialect
        statement = select(Department.id).where(Department.code == "sales")
        with engine.connect() as conn:
            conn.execute(statement)
        with other.engine.connect() as conn:
            result = conn.execute(statement)
            assert result.context.cache_hit == engine.dialect.CACHE_HIT
            assert result.scalar_one() >= 1
    finally:
        other.dispose()


def test_the_shared_dialect_compiles_as_a_fresh_one_of_the_same_url(app, database_url) -> None:
    shared = get_db(app).engine.dialect
    fresh = own_make_engine(database_url)
    try:
        with fresh.connect() as conn:  # meets the server, as the shared one did
            assert conn.execute(select(func.count()).select_from(Department)).scalar()
        assert fresh.dialect is not shared
        assert type(fresh.dialect) is type(shared)
        for statement in STATEMENTS:
            ours, theirs = (
                statement.compile(dialect=shared),
                statement.compile(dialect=fresh.dialect),
            )
            assert str(ours) == str(theirs)
            assert ours.params == theirs.params
        ours, theirs = _settings(shared), _settings(fresh.dialect)
        both = ours.keys() & theirs.keys()  # less those memoized at first use by one only
        assert {"server_version_info", "paramstyle", "default_schema_name"} <= both
        assert {k: ours[k] for k in both} == {k: theirs[k] for k in both}
    finally:
        fresh.dispose()
