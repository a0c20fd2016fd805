"""message date offset

``messages.date_offset_minutes``: the sender's UTC offset from their mail's Date header, kept so
the follow page tells the answer time on the customer's own clock, as the auto-reply does.
Existing rows get NULL (the company's zone, as before).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("date_offset_minutes", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("date_offset_minutes")
