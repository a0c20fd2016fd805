"""the intake queue's own index

``ix_inbound_mail_queued``: a partial index on ``inbound_mail.id`` of the rows a worker may
claim (state "received" or "processing"). The claim asks for the oldest 20 due rows, locked and
skipping locked ones; without it PostgreSQL either walked the primary key from the first mail
ever received past every processed row (1,160 of them for 20 in the bench's queue: the history
grows without end) or read every queued row and sorted them all (its plan with no statistics
yet), and SQLite sorted every queued row. Processed and quarantined rows leave the index.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 16:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

QUEUED = "state IN ('received', 'processing')"


def upgrade() -> None:
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbound_mail_queued",
            ["id"],
            unique=False,
            sqlite_where=sa.text(QUEUED),
            postgresql_where=sa.text(QUEUED),
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_inbound_mail_queued",
            sqlite_where=sa.text(QUEUED),
            postgresql_where=sa.text(QUEUED),
        )
