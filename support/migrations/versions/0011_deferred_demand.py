"""deferred demand

``faq_demand_events.pending``: a signal the mail worker recorded without touching its article's
row (a popular article's row lock made the workers of every host wait for each other);
`faq.demand.fold_pending_demand` adds it to the article's score and clears the flag. Existing
events are in their scores already (pending false).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 06:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("faq_demand_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            "ix_faq_demand_pending",
            ["id"],
            unique=False,
            sqlite_where=sa.text("pending"),
            postgresql_where=sa.text("pending"),
        )


def downgrade() -> None:
    with op.batch_alter_table("faq_demand_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_faq_demand_pending",
            sqlite_where=sa.text("pending"),
            postgresql_where=sa.text("pending"),
        )
        batch_op.drop_column("pending")
