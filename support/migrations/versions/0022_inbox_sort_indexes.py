"""indexes an inbox sorted by received or due time walks in order

``ix_tickets_sort_created`` (department, status, created_at, id) and
``ix_tickets_sort_due`` (department, status, first_response_due_at, id): the sorted inbox
reads a page of a department's tickets from one of them per status, in order
(support.staff.inbox._sorted_ids), where it read every matching ticket and sorted them
(PostgreSQL: a sequential scan of tickets with "all statuses"). New indexes; nothing existing
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

INDEXES = {
    "ix_tickets_sort_created": ["department_id", "status", "created_at", "id"],
    "ix_tickets_sort_due": ["department_id", "status", "first_response_due_at", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
