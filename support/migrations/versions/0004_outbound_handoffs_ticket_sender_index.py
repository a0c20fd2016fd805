"""outbound relay handoffs

``handed_at`` and ``relay_handoffs`` on outbound_mail: the sender records each handoff to the
relay, so a row claimed again after its sender stopped mid-delivery is recognised (warning and
audit event "mail_resent"), and staff can see a mail that may have gone out twice.
An index on tickets (customer_id, created_at) for the per-sender notification limit.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

import support.core.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handed_at', support.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('relay_handoffs', sa.Integer(), server_default='0', nullable=False))
    op.create_index('ix_tickets_customer_created', 'tickets', ['customer_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_customer_created', table_name='tickets')
    with op.batch_alter_table('outbound_mail', schema=None) as batch_op:
        batch_op.drop_column('relay_handoffs')
        batch_op.drop_column('handed_at')
