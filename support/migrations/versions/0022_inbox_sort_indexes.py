"""the index an inbox sorted by received time walks in order

``ix_tickets_sort_created`` (department, status, created_at, id): the inbox sorted by received
time reads a page of a department's tickets from it, one range per status in order
(support.staff.inbox._sorted_ids), where it read every matching ticket and sorted them
(PostgreSQL: a sequential scan of tickets with "all statuses"). A new index; nothing existing
changes.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:40:00.000000
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_sort_created",
            ["department_id", "status", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_sort_created")
