"""tagged tickets' search rows written again

Ticket search reads a ticket's tags since after migration 0018 made them: a ticket tagged
before then kept a ``ticket_search`` row without its tags, so searching "fridge" missed the
tickets tagged ``fridge`` until something rewrote their row. This drops the rows of tagged
tickets (the FTS5 triggers on SQLite drop their words too); ``support db upgrade`` and
``support init`` then index every ticket without a row (``support.desk.search.reindex_all``,
500 at a time), with their tags. A migration must not load jieba and every message, hence the
two steps. Nothing else changes; running the upgrade again finds no ticket without a row.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 22:40:00.000000
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "DELETE FROM ticket_search WHERE ticket_id IN (SELECT ticket_id FROM ticket_tags)"
    )


def downgrade() -> None:
    """Nothing to undo: the rows written again hold the same words and more."""
