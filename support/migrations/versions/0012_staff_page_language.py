"""staff page language

``users.page_language``: for a staff member without their own language ("Default"), the
language their staff pages were last shown in; the mail to them follows it, as their pages
follow their browser (the mail came in the desk's default while the pages were English).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 09:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("page_language")
