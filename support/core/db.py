"""Database access: one engine per app, explicit sessions, SQLite tuned for a single host.

Plain SQLAlchemy (no Flask extension) because the SMTP intake, the worker and the CLI use the
same sessions outside any request.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Executable,
    MetaData,
    Result,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from support.core import round_trips
from support.core.atomic_files import sync_folder

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The largest id our integer id columns hold on every database (PostgreSQL INTEGER).
MAX_ID = 2**31 - 1


def like_contains(text: str) -> str:
    """A LIKE pattern (with ``escape="\\"``) matching `text` anywhere, its %, _ and \\ taken
    literally: typed wildcards would widen a search and can make it slow."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the only kind of timestamp stored)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware.

    SQLite has no time zones, so without this a value read back would be naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


#: Execution option naming how a SQLite transaction begins: "IMMEDIATE" (the default: a write
#: session) or "DEFERRED" (a read session). Other databases ignore it.
SQLITE_BEGIN = "sqlite_begin"
#: Session.info key marking a read session (see ``_warn_on_read_session_write``).
READ_ONLY = "read_only"
#: Session.info key set when the ORM flushed a write into a read session: it is rolled back.
READ_SESSION_WROTE = "read_session_wrote"


def make_engine(url: str, *, echo: bool = False, durable: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and IMMEDIATE transactions.

    IMMEDIATE transactions make a writer wait for the lock (busy_timeout) instead of failing with
    "database is locked" when a read transaction later tries to write. A read session's
    connections carry the execution option ``sqlite_begin="DEFERRED"`` (its session is bound to
    ``engine.execution_options(...)``, which shares the pool and these events), so its plain
    BEGIN takes no lock until it writes. The choice belongs to the session's bind, fixed when the
    session is made: no flag to set or reset per checkout, and a pooled connection keeps no trace.

    ``durable``: every SQLite commit is fsynced (synchronous=FULL, not WAL's NORMAL), for an
    acknowledgement that promises the data survives a power cut. PostgreSQL always is.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below take over
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            mode = conn.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
            conn.exec_driver_sql("BEGIN" if mode == "DEFERRED" else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
    round_trips.install(engine)
    return engine


class Database:
    """An engine and its session factories, shared by the web app, worker and intake.

    ``sessionmaker`` makes write sessions (IMMEDIATE on SQLite), ``read_sessionmaker`` read
    sessions (a deferred BEGIN on SQLite: no write lock; the same as a write session elsewhere).
    """

    def __init__(self, url: str, *, echo: bool = False, durable: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, durable=durable)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessionmaker = sessionmaker(
            self.engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"}),
            expire_on_commit=False,
            info={READ_ONLY: True},
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, *, connection: Connection | None = None) -> Iterator[Session]:
        """A unit of work that writes: commits on success, rolls back on any error.

        ``connection``: one the caller checked out, for several units of work in a row (each
        checkout from the pool costs PostgreSQL a round trip: its ping)."""
        session = self.sessionmaker() if connection is None else self.sessionmaker(bind=connection)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A unit of work that only reads (takes no write lock on SQLite).

        It ends with a COMMIT, which for a transaction that only read is the same as a ROLLBACK
        but keeps the connection's prepared statements: psycopg 3 forgets them all on ROLLBACK
        (DEALLOCATE ALL), so the worker's next transaction on that pooled connection planned
        every statement afresh (on PostgreSQL a third of its write time). It is rolled back on an
        error, or when the ORM flushed a write into it (see ``_warn_on_read_session_write``).

        Writing in it works but on SQLite upgrades the lock mid-transaction, which can fail with
        "database is locked" while another writer holds it: write in ``session()`` instead.
        """
        session = self.read_sessionmaker()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        else:
            if session.info.get(READ_SESSION_WROTE):
                session.rollback()
            else:
                session.commit()
        finally:
            session.close()

    def backup_sqlite(self, target: str | Path) -> None:
        """Copy a SQLite database to ``target`` while others read and write it.

        SQLite's online backup gives a consistent copy; copying the file by hand while the desk
        runs may miss what its write-ahead log (support.db-wal) still holds. Written aside and
        renamed, so ``target`` is the old copy or the whole new one; readable by its owner only
        (it holds every customer's mail and the staff's password hashes).
        """
        if self.dialect != "sqlite":
            raise ValueError(f"not a SQLite database: {self.dialect}")
        folder = Path(target).parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{Path(target).name}.", dir=folder)
        os.close(fd)
        try:
            copy = sqlite3.connect(temporary)
            source = self.engine.raw_connection()
            try:
                source.driver_connection.backup(copy)  # type: ignore[union-attr]
            finally:
                source.close()
                copy.close()
            with open(temporary, "rb") as written:
                os.fsync(written.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        sync_folder(folder)

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


@event.listens_for(Session, "after_flush")
def _warn_on_read_session_write(session: Session, _context: Any) -> None:
    """Writes in a read session work, but on SQLite upgrade its lock mid-transaction, which can
    fail with "database is locked" under load: say so, so the write moves to a write session."""
    if session.info.get(READ_ONLY):
        session.info[READ_SESSION_WROTE] = True
        log.warning("a read session wrote (%s): write in a write session", _request_label())


def _request_label() -> str:
    return f"{request.method} {request.path}" if has_request_context() else "outside a request"


def execute_core(session: Session, statement: Executable, parameters: Any = None) -> Result[Any]:
    """``session.execute`` of a Core statement (on tables, not ORM entities) through the
    session's connection: the same transaction and the same statement, without the session's
    per-statement bookkeeping (ORM plugin lookup, bind resolution, options merged), which a
    Core statement does not use. For the worker's writes, 9 to 11 of them a message: measured
    15-20 us of CPU less each on PostgreSQL (docs/measurements.md, twenty-second session).
    An ORM statement (autoflush, loading objects) is refused: it needs ``session.execute``."""
    if statement._propagate_attrs.get("compile_state_plugin") == "orm":
        raise ValueError("an ORM statement goes through session.execute")
    return session.connection().execute(statement, parameters)


T = TypeVar("T")


def once_per_transaction(session: Session, key: str, load: Callable[[], T]) -> T:
    """``load()`` computed once per transaction of ``session``, then reused until it ends.

    For reference data (departments, our addresses, templates, triage staff) that the worker
    reads for every message of a batch, and that an admin may change between transactions.
    """
    transaction = session.get_transaction()
    if transaction is None:  # begin it now: a value kept before it began would outlive it
        session.connection()
        transaction = session.get_transaction()
    owner, values = session.info.get("once_per_transaction", (None, {}))
    if owner is not transaction:
        values = {}
        session.info["once_per_transaction"] = (transaction, values)
    if key not in values:
        with session.no_autoflush:  # reference data never depends on the caller's pending rows
            values[key] = load()
    return values[key]


def get_db(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["support_db"]


#: Request methods that only read: their request session takes no write lock.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def db_session() -> Session:
    """The request's session, opened on first use; one commit at the end of the request.

    GET, HEAD and OPTIONS requests get a read session, the other methods a write session
    (IMMEDIATE on SQLite). Views do not commit: ``_commit_request_session`` commits once after
    the view returned a response below 400, so a failing commit becomes an error page; anything
    else (an error response, an exception) is rolled back at teardown. A view that needs a new
    row's id before then calls ``session.flush()``. A GET view that must write uses a short
    write session of its own (``get_db().session()``). Outside a request (CLI, shell) this is a
    write session the caller commits.
    """
    if "db_session" not in g:
        database = get_db()
        reading = has_request_context() and request.method in READ_METHODS
        g.db_session = (database.read_sessionmaker if reading else database.sessionmaker)()
    return g.db_session


def _commit_request_session(response: Response) -> Response:
    """Commit the request's session if the response is not an error (runs after every other
    after_request hook, being registered first). A failing commit propagates, so Flask answers
    with its 500 error page; the session is gone from ``g`` by then, so that error page's own
    pass through the hooks does not commit again."""
    if response.status_code >= 400:
        return response
    session = g.get("db_session")
    if session is not None:
        try:
            session.commit()
        except BaseException:
            g.pop("db_session", None)
            session.rollback()
            session.close()
            raise
    return response


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def init_app(app: Flask) -> None:
    app.extensions["support_db"] = Database(app.config["DATABASE_URL"])
    app.after_request(_commit_request_session)
    app.teardown_appcontext(_close_request_session)
