"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL or both with
TEST_DATABASE_URL: database_urls), an app per test on a clean database, and factories for common
records."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from faq.evaluate import load_demo_docs
from faq.search import SearchIndex, load_embedder, load_english_model
from faq.search.shared_vectors import FILE_NAME as EMBEDDING_CACHE_FILE
from mailrouter.intake.smtp import SmtpIntakeService
from support.app import create_app
from support.core.db import Database, make_engine
from support.core.i18n import compile_translations
from support.desk.seed import seed_reference_data
from support.migrate import target_metadata, upgrade
from tests.browser_tools import stop_chromium
from tests.shared_sql import reuse_compiled_sql, share_compiled_sql
from tests.support.staff_helpers import fast_passwords  # noqa: F401 - fixture
from tests.template_code import SharedTemplateCode
from tests.url_builders import reuse_url_builders

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"

reuse_url_builders()
reuse_compiled_sql()

# The developer's own SUPPORT_* settings must not leak into tests.
for _key in [k for k in os.environ if k.startswith("SUPPORT_")]:
    del os.environ[_key]


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason when it is absent."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared corpora/recipes live beside the project)")
    return path


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test run's temporary folder: the one every xdist process of the run shares (each
    has its own below it), the process's own without xdist. Never another run's."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def demo_faq_vectors(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The demo FAQ's article texts embedded once per test run, not once per test process.

    Embedding them (e5 and the English model) costs 13-18 s of CPU, and each of the run's
    processes did it at its first demo search: the process's embedders keep what they embed
    for every later app of the process, but the host's file of embedded texts
    (faq.search.shared_vectors) is each app's own. Here the first process embeds them into a
    file of the run (under a lock, the others waiting), as the product's processes share a
    host's file, and every process reads them into its embedders' own caches from there: the
    same vectors, bit for bit, as embedding them itself would keep (test_shared_vectors).
    Request it before anything indexes the demo FAQ; the embedders' file is left as it was.
    """
    embedder = load_embedder()
    english = load_english_model() if embedder is not None else None
    models = [model for model in (embedder, english) if model is not None]
    if not models:
        return
    run = run_folder(tmp_path_factory)
    with open(run / "demo-faq-vectors.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first process embeds, the others then read
        kept = [model.shared for model in models]
        for model in models:
            model.share(run / EMBEDDING_CACHE_FILE)
        folder = tmp_path_factory.mktemp("demo-vectors")
        index = SearchIndex(folder, embedder=embedder, english=english)
        try:
            index.rebuild(load_demo_docs())
        finally:
            index.close()
            for model, shared in zip(models, kept, strict=True):
                if model.shared is not None:
                    model.shared.close()
                model.shared = shared


#: The fixture through which a test reaches the test database: `app`, `db`, `session`, `client`,
#: `intake` and every fixture built on them ask for it, so a test's `fixturenames` (the closure of
#: what it asks for, its module's `usefixtures` included) names it. A test that reaches the
#: database another way (a server of its own on TEST_DATABASE_URL) carries the `database` mark
#: (test_suite_selection checks that every test module reading TEST_DATABASE_URL does).
DATABASE_FIXTURE = "database_url"


#: TEST_DATABASE_URL's word for the run's own SQLite file (one per test process), as when unset.
SQLITE = "sqlite"


def database_urls() -> list[str]:
    """The test databases: TEST_DATABASE_URL, one URL or several (space- or comma-separated);
    `sqlite`, or nothing, is a SQLite file of the run's own. With several, every test that
    reaches the database runs once on each (`[sqlite]`, `[postgresql]`; a browser test once, on
    its module's: browser_database) and the others once:
    the two backends in one run, sharing its processes, their start and its collection."""
    urls = re.split(r"[\s,]+", os.environ.get("TEST_DATABASE_URL", "").strip())
    return [url for url in urls if url] or [SQLITE]


def backend_name(url: str) -> str:
    return SQLITE if url == SQLITE else make_url(url).get_backend_name()


def postgresql_url() -> str:
    """The run's PostgreSQL server's test database, or "" when it has none."""
    return next((url for url in database_urls() if url.startswith("postgresql")), "")


def on_postgresql() -> bool:
    """Whether the run is on PostgreSQL alone: then it leaves out the tests that reach no
    database (a run with SQLite too has them all)."""
    return all(url.startswith("postgresql") for url in database_urls())


def uses_database(item: pytest.Item) -> bool:
    """Whether a test reaches the test database, so that its outcome may differ by backend."""
    fixtures = getattr(item, "fixturenames", ())
    return DATABASE_FIXTURE in fixtures or item.get_closest_marker("database") is not None


_LEFT_OUT = pytest.StashKey[int]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, only the tests that reach the database: the others (text, classifier,
    parsing, MIME...) run the same code with the same result on either backend, and the SQLite
    run, which is complete, ran them. Said at the end of the run (pytest_terminal_summary)."""
    if not on_postgresql():
        return
    left = [item for item in items if not uses_database(item)]
    if left:
        items[:] = [item for item in items if uses_database(item)]
        config.hook.pytest_deselected(items=left)
    config.stash[_LEFT_OUT] = len(left)


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)  # an xdist worker's report
    if workeroutput is not None and _LEFT_OUT in session.config.stash:
        workeroutput["left_out_on_postgresql"] = session.config.stash[_LEFT_OUT]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # xdist's controller: each worker collected all
    left = getattr(node, "workeroutput", {}).get("left_out_on_postgresql")
    if left is not None:
        node.config.stash[_LEFT_OUT] = left


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if _LEFT_OUT in config.stash:
        terminalreporter.write_line(
            f"PostgreSQL: {config.stash[_LEFT_OUT]} tests left out: they reach no database (no"
            f" {DATABASE_FIXTURE} fixture, directly or through app, db, session, client..., and"
            " no database mark), so they run as on SQLite, whose run has them all"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """With several test databases (database_urls), each database test once on each; a browser
    test once, on its module's backend (browser_database)."""
    urls = database_urls()
    if len(urls) > 1 and DATABASE_FIXTURE in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("browser") is not None:
            urls = [browser_database(urls, metafunc.definition.path)]
        ids = [backend_name(url) for url in urls]
        metafunc.parametrize(DATABASE_FIXTURE, urls, indirect=True, ids=ids)


def browser_database(urls: list[str], module: Path) -> str:
    """The one backend of a run's several on which a browser test module runs.

    A browser test checks what Chromium shows and does (scripts, layout, keys, focus); the
    queries behind its pages are the same code as its module's test-client tests and the other
    page tests run on every backend. Run twice, they were about half of a run of both
    backends' browser time (~280 tests, each a live server, a context and page loads). Each
    module keeps one backend, chosen by its name (stable from run to run), so that each backend
    serves some browser modules: their concurrent requests (presence beacons, polling) lock
    differently on SQLite and PostgreSQL."""
    return urls[zlib.crc32(module.name.encode()) % len(urls)]


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_databases: dict[str, TestDatabase],
) -> str:
    """The test's database (its parameter when the run has several), migrated once a process."""
    url = getattr(request, "param", None) or database_urls()[0]
    if url not in migrated_databases:
        migrated_databases[url] = _migrated_database(url, tmp_path_factory)
    return migrated_databases[url].url


@pytest.fixture(scope="session")
def migrated_databases() -> Iterator[dict[str, TestDatabase]]:
    """TEST_DATABASE_URL's URL -> the migrated database this test process uses for it."""
    databases: dict[str, TestDatabase] = {}
    yield databases
    for database in databases.values():
        database.close()


class TestDatabase:
    """A test process's migrated database, and the way back to its start for each test: the
    schema holding only the reference data (seed_reference_data), keys from the start.

    The reference data is seeded once, through the real seed, right after the migrations; what
    it wrote is kept and put back before each test's app is made, instead of emptying every
    table and seeding again through a new engine's ORM (compiling each statement anew: with
    create_app, most of an app's cost). SQLite: the whole seeded file is kept in memory and
    copied over the test's file with SQLite's online backup (every page, the full-text index
    and the schema included: nothing a test wrote is left). PostgreSQL: clean_database on a
    connection kept for the process, then the seeded rows put back as they were read (JSON
    rows of each table the seed wrote) and its sequences set where the seed left them.
    The seeded rows' `created_at` is when the process seeded them, not when the test began.
    """

    __test__ = False  # not a test class

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self._template: sqlite3.Connection | None = None
        self._seed_sql = ""

    def keep_seeded(self) -> None:
        """Seed the migrated database and keep what that wrote, to put back before each test."""
        database = Database(self.url)
        try:
            clean_database(database)  # as before each test: rows a migration wrote go too
            with database.session() as session:
                seed_reference_data(session)
        finally:
            database.dispose()
        if self.dialect == "sqlite":
            self.engine.dispose()
            self._template = sqlite3.connect(":memory:", check_same_thread=False)
            with closing(sqlite3.connect(make_url(self.url).database or "")) as seeded:
                seeded.backup(self._template)
            return
        self._seed_sql = _seed_statements(self.engine)

    def reset(self) -> None:
        """Back to the seeded start, before a test's app is made."""
        if self._template is not None:
            with closing(sqlite3.connect(make_url(self.url).database or "", timeout=30)) as conn:
                conn.execute("PRAGMA synchronous=OFF")  # a test database: no fsync
                self._template.backup(conn, progress=_fail_when_locked)
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            _clean_postgresql(conn, _referring_first())
            conn.exec_driver_sql(self._seed_sql)

    def close(self) -> None:
        if self._template is not None:
            self._template.close()
        self.engine.dispose()


def _fail_when_locked(status: int, _remaining: int, _total: int) -> None:
    """Fail as emptying the tables failed when another connection kept a lock past the busy
    timeout (30 s), instead of sqlite3's backup trying again for ever."""
    if status not in (sqlite3.SQLITE_OK, sqlite3.SQLITE_DONE):
        raise sqlite3.OperationalError(f"the test database stayed locked (status {status})")


def _seed_statements(engine: Engine) -> str:
    """SQL putting back every row the seed wrote (each table's rows as JSON, read back into the
    table's own columns and types) and every sequence it drew from where it left it."""
    names = [table.name for table in target_metadata().sorted_tables]
    statements = ["BEGIN"]
    with engine.connect() as conn:
        for name in names:  # referred tables first
            rows = conn.execute(text(f'SELECT json_agg(t)::text FROM "{name}" t')).scalar()
            if rows is not None:
                statements.append(
                    f'INSERT INTO "{name}" SELECT * FROM'
                    f' json_populate_recordset(NULL::"{name}", {_sql_string(rows)})'
                )
        drawn = conn.execute(
            text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value"
                " FROM pg_sequences WHERE schemaname = current_schema()"
                " AND last_value IS NOT NULL"
            )
        ).all()
    statements += [f"SELECT setval({_sql_string(name)}, {value})" for name, value in drawn]
    return ";\n".join([*statements, "COMMIT"])


def _sql_string(value: str) -> str:
    """A PostgreSQL string literal (standard_conforming_strings: only the quote is doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _referring_first() -> list[str]:
    return [table.name for table in reversed(target_metadata().sorted_tables)]


def _migrated_database(url: str, tmp_path_factory: pytest.TempPathFactory) -> TestDatabase:
    """Migrate a fresh database once per test process, through the real migrations, and seed
    it (TestDatabase)."""
    if url == SQLITE:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    elif os.environ.get("PYTEST_XDIST_WORKER"):
        url = _database_of_this_worker(url, os.environ["PYTEST_XDIST_WORKER"])
    database = TestDatabase(url)
    if database.dialect == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(database.engine)
    database.keep_seeded()
    share_compiled_sql(database.engine, database.url)  # the test apps' engines compile once
    _TEST_DATABASES[database.url] = database
    return database


#: The migrated database of each URL the `database_url` fixture gave out (make_app resets it).
_TEST_DATABASES: dict[str, TestDatabase] = {}


def _database_of_this_worker(url: str, worker: str) -> str:
    """`test` becomes `test_gw0`, `test_gw1`...: parallel test workers must not truncate each
    other's tables. Created on the same server, fresh each run."""
    server = make_url(url)
    name = f"{server.database}_{worker}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


#: Every sequence of the schema back to its start, as TRUNCATE ... RESTART IDENTITY leaves them
#: (each belongs to a table's key column); one that was never drawn from is left alone.
_RESTART_SEQUENCES = (
    "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value,"
    " false) FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)

#: The tables (of those named) that have a page: every table a row was ever written to since it
#: was last emptied to no page at all. One that has none is as TRUNCATE leaves it.
_TABLES_WITH_PAGES = text(
    "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
    " AND relkind = 'r' AND relname = ANY(:names) AND pg_relation_size(oid) > 0"
)


def clean_database(database: Database) -> None:
    """Empty every table and restart the keys at 1 (on PostgreSQL, TestDatabase.reset does it
    before each test, then puts the reference data back).

    On PostgreSQL every table left as TRUNCATE leaves it, a file with no page, so the next
    test's rows are read back in insertion order by a query without ORDER BY (rows written into
    freed space came back out of order after the twenty-third session's DELETE alone: CI,
    test_decisions). TRUNCATE itself swaps a file for each of the 35 tables and their indexes
    and TOAST tables (155 files, 0.4 s a test on a quiet machine, over 1 s at load): instead the
    tables a test wrote to (those with a page) are emptied by DELETE and then VACUUM, which gives
    the emptied pages back to the file system down to none; a table VACUUM could not shrink to
    no page (another session still holding it) is TRUNCATEd as before.
    """
    tables = target_metadata().sorted_tables
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            _clean_postgresql(conn, [t.name for t in reversed(tables)])
        return
    with database.engine.begin() as conn:
        # tickets and faq_articles refer to each other: break the cycle first.
        conn.execute(text("UPDATE faq_articles SET source_ticket_id = NULL"))
        for table in reversed(tables):  # plain SQL: each app's new engine compiles anew
            conn.exec_driver_sql(f'DELETE FROM "{table.name}"')


def _clean_postgresql(conn: Connection, names: list[str]) -> None:
    """`names` referring tables first; `conn` in autocommit. Three round trips, 0.03-0.1 s for
    a typical test."""
    written = set(conn.execute(_TABLES_WITH_PAGES, {"names": names}).scalars())
    statements = ["BEGIN"]
    if "faq_articles" in written:  # tickets and faq_articles refer to each other
        statements.append("UPDATE faq_articles SET source_ticket_id = NULL")
    statements += [f'DELETE FROM "{name}"' for name in names if name in written]
    conn.exec_driver_sql(";\n".join([*statements, _RESTART_SEQUENCES, "COMMIT"]))
    if written:
        conn.exec_driver_sql("VACUUM " + ", ".join(f'"{n}"' for n in names if n in written))
        left = conn.execute(_TABLES_WITH_PAGES, {"names": names}).scalars().all()
        if left:
            listed = ", ".join(f'"{name}"' for name in left)
            conn.exec_driver_sql(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")


def test_settings(database_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WTF_CSRF_ENABLED": False,
        "HTTP_PORT": 0,
        "SMTP_PORT": 0,
        "MAIL_DOMAINS": ["example.com"],
        "MAIL_GENERAL_ADDRESS": "support@example.com",
        "FAQ_INDEX_DIR": str(instance / "faq-index"),
        "CLASSIFIER_MODEL_PATH": str(instance / "classifier.pkl"),
        "PUBLIC_BASE_URL": "http://127.0.0.1:8080",
        # A child process per test worker costs seconds; its own tests turn it on.
        "WORKER_PREPARE_PROCESS": False,
        # Replies go to the outbox at once, as most tests expect; undo send's tests hold them.
        "REPLY_UNDO_SECONDS": 0,
    }


@pytest.fixture(scope="session", autouse=True)
def _stop_chromium_at_the_end() -> Iterator[None]:
    """The browser tests share one Chromium per test process (tests/browser_tools.py)."""
    yield
    stop_chromium()


#: The mark of a test about the production password hashing (its cost, its parameters, the
#: rehash at sign-in): it hashes at the full cost; every other test at a test-sized one.
REAL_PASSWORD_COST = "real_password_cost"


@pytest.fixture(autouse=True)
def _test_sized_password_cost(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test hashes and checks passwords with argon2id at a test-sized cost
    (`fast_passwords`): the production cost is ~0.5 s of CPU a hash or a check, and tests
    make users and sign in by the hundred. A test marked `real_password_cost`
    (tests/support/test_passwords.py) keeps the production hasher, and the stand-in hash of
    unknown addresses is made afresh around it, so neither cost leaks into the other's tests."""
    if request.node.get_closest_marker(REAL_PASSWORD_COST) is None:
        request.getfixturevalue("fast_passwords")
        yield
        return
    import support.auth

    support.auth._dummy_hash.cache_clear()
    yield
    support.auth._dummy_hash.cache_clear()


@pytest.fixture
def app_settings() -> dict:
    """Override in a test module (or parametrize) to change settings for the `app` fixture."""
    return {}


@pytest.fixture(scope="session")
def compiled_translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .mo files compiled once per test process; each test's instance gets a copy, as
    newer than the .po files as an instance's own (compiling them: 20 ms of CPU an app)."""
    return compile_translations(tmp_path_factory.mktemp("translations"))


@pytest.fixture(scope="session")
def compiled_templates() -> SharedTemplateCode:
    """The page templates' compiled code, shared by the test process's apps (template_code)."""
    return SharedTemplateCode()


@pytest.fixture
def app(
    database_url: str,
    tmp_path: Path,
    app_settings: dict,
    compiled_translations: Path,
    compiled_templates: SharedTemplateCode,
) -> Iterator[Flask]:
    app = make_app(
        database_url, tmp_path / "instance", app_settings, compiled_translations, compiled_templates
    )
    yield app
    app.extensions["support_db"].dispose()


def make_app(
    database_url: str,
    instance: Path,
    app_settings: dict,
    compiled_translations: Path,
    compiled_templates: SharedTemplateCode,
) -> Flask:
    """A test's app (the `app` fixture's) on a clean database holding the reference data
    (TestDatabase.reset); the caller disposes of its database."""
    _TEST_DATABASES[database_url].reset()
    shutil.copytree(compiled_translations, instance / "translations")
    app = create_app(
        {**test_settings(database_url, instance), **app_settings}, instance_path=instance
    )
    app.jinja_env.bytecode_cache = compiled_templates
    return app


@pytest.fixture
def intake(app: Flask) -> Iterator[SmtpIntakeService]:
    """The real SMTP intake of the test's app, listening on a free loopback port."""
    service = SmtpIntakeService.for_app(app)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["support_db"]


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session for arranging and checking data; commit to make rows visible to the app."""
    with db.sessionmaker() as s:
        yield s


@pytest.fixture
def client(app: Flask):
    return app.test_client()
