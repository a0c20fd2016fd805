"""forwarded text

``messages.forwarded_text``: the mail a forward sends (its subject and own words, without its
quotes and signature), which routing, urgency and FAQ answers read when the sender's comment
is short ("FYI", "请处理") and the ticket page shows under the comment. Existing rows get "".

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 18:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("forwarded_text", sa.Text(), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("forwarded_text")
