"""ticket snooze

``tickets.snoozed_until``: staff set a ticket aside until then; it leaves the open queues and
comes back by itself at that time (the periodic ``snooze-wake`` job) or when the customer writes
again (support.desk.snooze). A partial index (snoozed tickets only) serves the job's "due now"
query and leaves the queues to ix_tickets_queue. Existing rows get NULL.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa
import support.core.db


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("snoozed_until", support.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_tickets_snoozed_until",
            ["snoozed_until"],
            unique=False,
            sqlite_where=sa.text("snoozed_until IS NOT NULL"),
            postgresql_where=sa.text("snoozed_until IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_tickets_snoozed_until",
            sqlite_where=sa.text("snoozed_until IS NOT NULL"),
            postgresql_where=sa.text("snoozed_until IS NOT NULL"),
        )
        batch_op.drop_column("snoozed_until")
