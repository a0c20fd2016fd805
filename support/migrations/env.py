"""Alembic environment: the URL and connection come from support.migrate, never from an ini file."""

from __future__ import annotations

from alembic import context

from support.migrate import target_metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `support db upgrade` (support.migrate)")

context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
