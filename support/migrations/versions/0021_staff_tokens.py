"""one-time password links for staff (invitations and resets)

``staff_tokens``: the SHA-256 of each link's token, its purpose, expiry and use, and a stamp of
the user's password hash when it was made (support.desk.staff_tokens). A new table; nothing
existing changes.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 23:10:00.000000
"""

from alembic import op
import sqlalchemy as sa
import support.core.db


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("password_stamp", sa.String(length=64), nullable=False),
        sa.Column("created_at", support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", support.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_staff_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_tokens_token_hash")),
    )
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_staff_tokens_user_purpose", ["user_id", "purpose"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_tokens_user_purpose")
    op.drop_table("staff_tokens")
