"""ticket presence

``ticket_presence``: who has a ticket open right now and whether they are writing a reply,
renewed by the ticket page's heartbeat and gone a minute after it stops (support.desk.presence).
In the database because the web processes of several hosts serve the same desk.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 09:23:46.056000
"""

from alembic import op
import sqlalchemy as sa
import support.core.db


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_presence",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("expires_at", support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_presence_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ticket_presence_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name=op.f("pk_ticket_presence")),
    )
    with op.batch_alter_table("ticket_presence", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_presence_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_presence", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_presence_expires_at")
    op.drop_table("ticket_presence")
