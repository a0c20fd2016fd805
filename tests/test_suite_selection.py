"""The PostgreSQL run keeps every test that reaches the database, and only those.

The SQLite run has every test; the PostgreSQL run (TEST_DATABASE_URL=postgresql...) leaves out
the tests that reach no database (tests/conftest.py, pytest_collection_modifyitems), which run
the same code with the same result there. A test reaches the test database through the
`database_url` fixture (app, db, session, client... ask for it), or, reading TEST_DATABASE_URL
itself, carries the `database` mark: these tests keep both ways true. With both backends in
one run (TEST_DATABASE_URL="sqlite postgresql+psycopg://..."), a test that reaches the database
runs once on each, a browser test once on its module's, and the others once
(pytest_generate_tests).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import make_url

from tests import conftest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("support", "faq", "mailrouter", "bench", "scripts", "tests")
#: Reading the variable: os.environ["TEST_DATABASE_URL"], .get("TEST_DATABASE_URL"), getenv(...).
READS_URL = re.compile(r"""["']TEST_DATABASE_URL["']""")
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def test_every_module_reading_the_test_database_url_itself_carries_the_database_mark() -> None:
    readers = {
        path.relative_to(ROOT).as_posix(): path.read_text("utf-8")
        for folder in FOLDERS
        for path in (ROOT / folder).rglob("*.py")
        if READS_URL.search(path.read_text("utf-8"))
    }
    assert "tests/conftest.py" in readers  # the database_url fixture: the scan does find them
    unmarked = [
        name
        for name, source in readers.items()
        if name != "tests/conftest.py"
        and not (name.startswith("tests/") and "pytest.mark.database" in source)
    ]
    assert unmarked == [], (
        "these read TEST_DATABASE_URL without the database mark, so the PostgreSQL run would"
        " leave their tests out: mark them (pytestmark = pytest.mark.database) or use the"
        " database_url fixture"
    )


def test_a_test_asking_only_for_a_session_is_one_that_reaches_the_database(
    session, request: pytest.FixtureRequest
) -> None:
    assert conftest.uses_database(request.node)  # session -> db -> app -> database_url


def test_a_test_asking_for_no_database_fixture_is_not(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    assert not conftest.uses_database(request.node)


def _item(name: str, fixtures: tuple[str, ...], marks: tuple[str, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(
        name=name,
        fixturenames=fixtures,
        get_closest_marker=lambda mark: mark if mark in marks else None,
    )


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (PG, ["app", "own-server"]),
        ("", ["app", "text", "own-server"]),  # SQLite: every test
        ("sqlite:///elsewhere.db", ["app", "text", "own-server"]),
        # Both in one run (each database test on each): the tests that reach none run once.
        (f"sqlite {PG}", ["app", "text", "own-server"]),
        (f"{PG},sqlite", ["app", "text", "own-server"]),
    ],
)
def test_the_postgresql_run_leaves_out_only_the_tests_that_reach_no_database(
    monkeypatch: pytest.MonkeyPatch, url: str, kept: list[str]
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    items = [
        _item("app", ("request", "app", "database_url", "tmp_path")),
        _item("text", ("request", "tmp_path")),
        _item("own-server", ("tmp_path",), marks=("database",)),
    ]
    deselected: list = []
    config = SimpleNamespace(
        stash=pytest.Stash(),
        hook=SimpleNamespace(pytest_deselected=lambda items: deselected.extend(items)),
    )
    conftest.pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert [item.name for item in items] == kept
    assert [item.name for item in deselected] == (["text"] if len(kept) == 2 else [])


class _Metafunc:
    def __init__(
        self, fixturenames: tuple[str, ...], marks: tuple[str, ...] = (), module: str = "test_x.py"
    ) -> None:
        self.fixturenames = fixturenames
        self.calls: list[tuple] = []
        self.definition = SimpleNamespace(
            path=ROOT / "tests" / module,
            get_closest_marker=lambda name: SimpleNamespace(name=name) if name in marks else None,
        )

    def parametrize(self, name: str, values: list, *, indirect: bool, ids: list[str]) -> None:
        self.calls.append((name, values, indirect, ids))


@pytest.mark.parametrize(
    ("url", "runs"),
    [
        ("", []),  # one database: nothing to parametrize
        (PG, []),
        (f"sqlite {PG}", [["sqlite", PG]]),
        (f" {PG}, sqlite ", [[PG, "sqlite"]]),
    ],
)
def test_with_both_databases_each_database_test_runs_on_each_and_the_others_once(
    monkeypatch: pytest.MonkeyPatch, url: str, runs: list[list[str]]
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    reaching, not_reaching = _Metafunc(("client", "app", "database_url")), _Metafunc(("tmp_path",))
    conftest.pytest_generate_tests(reaching)  # type: ignore[arg-type]
    conftest.pytest_generate_tests(not_reaching)  # type: ignore[arg-type]
    assert not_reaching.calls == []
    assert reaching.calls == [
        ("database_url", urls, True, [conftest.backend_name(u) for u in urls]) for urls in runs
    ]
    if runs:
        assert reaching.calls[0][3] in (["sqlite", "postgresql"], ["postgresql", "sqlite"])
    assert conftest.postgresql_url() == ("" if url == "" else PG)


@pytest.mark.parametrize("url", [f"sqlite {PG}", f"{PG} sqlite"])
def test_with_both_databases_a_browser_test_runs_once_on_its_modules_database(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", url)
    chosen = {}
    for module in ("test_browser.py", "test_portal_browser.py", "test_presence_browser.py"):
        browser = _Metafunc(("page", "app", "database_url"), marks=("browser",), module=module)
        conftest.pytest_generate_tests(browser)  # type: ignore[arg-type]
        [(name, [database], indirect, ids)] = browser.calls
        assert (name, indirect, ids) == ("database_url", True, [conftest.backend_name(database)])
        chosen[module] = database
        again = _Metafunc(("app", "database_url"), marks=("browser",), module=module)
        conftest.pytest_generate_tests(again)  # type: ignore[arg-type]
        assert again.calls[0][1] == [database]  # the same module, the same backend
    # Each backend serves some of them, whichever order TEST_DATABASE_URL names them in.
    assert set(chosen.values()) == {"sqlite", PG}
    monkeypatch.setenv("TEST_DATABASE_URL", PG)
    alone = _Metafunc(("app", "database_url"), marks=("browser",))
    conftest.pytest_generate_tests(alone)  # type: ignore[arg-type]
    assert alone.calls == []  # one database: nothing to parametrize


def test_a_database_test_runs_on_the_database_it_is_named_for(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    callspec = getattr(request.node, "callspec", None)  # [sqlite] / [postgresql] with both
    named = callspec.params["database_url"] if callspec else conftest.database_urls()[0]
    assert conftest.backend_name(named) == make_url(database_url).get_backend_name()
