"""Schema migrations (Alembic), run programmatically so no alembic.ini is needed."""

from __future__ import annotations

import warnings
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Engine, MetaData, text

from support.core.db import Base
from support.core.fulltext import is_fulltext_object

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def target_metadata() -> MetaData:
    """All tables: importing the model modules registers them on the shared metadata."""

    return Base.metadata


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Back to ``revision`` through each later migration's own downgrade (tests of an upgrade
    from an older release; no command offers it, a release goes forward only)."""
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def make_revision(engine: Engine, message: str) -> None:
    """Developer helper: autogenerate a migration from the models (`support db revision`)."""
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


def pending_model_changes(engine: Engine) -> list:
    """Differences between the migrated schema and the models; empty if migrations are complete."""
    with engine.connect() as connection, warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (lower(column)): SQLAlchemy and Alembic warn
        # and skip them, so they are checked by name below (PostgreSQL compares them fully).
        warnings.filterwarnings("ignore", message=".*expression-based index")
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _not_fulltext}
        )
        changes = compare_metadata(context, target_metadata())
        if connection.dialect.name == "sqlite":
            changes += _missing_expression_indexes(connection)
    return changes


def _not_fulltext(name: str | None, _type: str, _parents: object) -> bool:
    """The full-text index (FTS5 tables, GIN index) is made by its migration, not the models."""
    return not is_fulltext_object(name)


def _missing_expression_indexes(connection: Connection) -> list:
    """("add_index", index) for each expression index of the models that SQLite lacks."""
    present = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'index'")))
    return [
        ("add_index", index)
        for table in target_metadata().tables.values()
        for index in table.indexes
        if index.name not in present
        and any(not isinstance(expr, Column) for expr in index.expressions)
    ]


def later_revisions(engine: Engine) -> list[str]:
    """The database's revisions this release does not know: a later release migrated it (a
    host down during an upgrade, started again on the release it had)."""

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return sorted(current - {revision.revision for revision in script.walk_revisions()})


def pending_heads(engine: Engine) -> bool:
    """True when the database is behind the newest migration."""

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current != set(script.get_heads())
