"""ticket refers to

``tickets.refers_to_ticket_id``: a mail that names a ticket (our Message-ID in In-Reply-To or
References, its subject token) from a sender who takes no part in that ticket opens a ticket of
its own, which points there for staff (mailrouter.intake.conversations). Indexed: the named
ticket's page lists the tickets that refer to it. Existing rows get NULL.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 12:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refers_to_ticket_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_tickets_refers_to_ticket_id", ["refers_to_ticket_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_tickets_refers_to_ticket_id_tickets", "tickets", ["refers_to_ticket_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint("fk_tickets_refers_to_ticket_id_tickets", type_="foreignkey")
        batch_op.drop_index("ix_tickets_refers_to_ticket_id")
        batch_op.drop_column("refers_to_ticket_id")
