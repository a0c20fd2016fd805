"""Each test's app compiles its SQL once per test process, not once per test.

Every test's app makes an engine of its own (support.core.db.make_engine), and SQLAlchemy keeps
the SQL it compiled for a statement in that engine's cache, keyed by the engine's dialect
object; the ORM's flushes keep theirs per mapper, keyed the same way. So every test compiled
each query its pages and workers ran afresh: a fifth of the CPU of a typical page test
(tests/support/desk/test_actions.py, profiled). Production's engine lives as long as its
process and compiles each statement once.

Here the engines a test process makes for one of its test databases (TestDatabase in
tests/conftest.py) use that database's own engine's dialect, which has met the server
(``initialize``: its version and settings), and one compiled-SQL cache for the process: the SQL
a fresh dialect of the same URL would compile, as ``tests/test_shared_sql.py`` checks. Each
engine still has its own pool, connections, events and execution options; the dialect that
made the engine still connects and sets up each connection.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.util import LRUCache

from support.core import db

#: How many compiled statements a test process keeps for a database (a test suite's worth).
CACHE_SIZE = 20_000

_own_make_engine = db.make_engine
_shared: dict[str, tuple[object, LRUCache]] = {}


def share_compiled_sql(engine: Engine, url: str) -> None:
    """Engines later made for `url` compile through `engine`'s dialect, which must have
    connected (met the server), and one cache for them all."""
    assert engine.dialect.server_version_info is not None, "the dialect has not connected yet"
    _shared[url] = (engine.dialect, LRUCache(CACHE_SIZE))


def _make_engine(url: str, **settings) -> Engine:
    engine = _own_make_engine(url, **settings)
    shared = _shared.get(url)
    if shared is not None:
        dialect, cache = shared
        engine.dialect = dialect  # type: ignore[assignment]
        engine._compiled_cache = cache
    return engine


def reuse_compiled_sql() -> None:
    """Make the test process's later engines share (called once, by tests/conftest.py)."""
    db.make_engine = _make_engine  # type: ignore[assignment]


def own_make_engine(url: str, **settings) -> Engine:
    """An engine with a dialect and cache of its own, as support.core.db makes it."""
    return _own_make_engine(url, **settings)
