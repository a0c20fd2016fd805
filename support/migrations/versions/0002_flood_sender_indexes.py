"""sender indexes for flood counting

Expression indexes on lower(sender) for mailrouter.flood.recent_message_count, which counts a
sender's recent mail for every auto-reply; without them both counts scan the whole table.
The expressions must stay identical to the ones in the query (lower() of the bare column).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:02:38.797280
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_inbound_sender_received', 'inbound_mail', [sa.literal_column('lower(envelope_from)'), 'received_at'], unique=False)
    op.create_index('ix_messages_sender_direction_created', 'messages', [sa.literal_column('lower(from_address)'), 'direction', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_messages_sender_direction_created', table_name='messages')
    op.drop_index('ix_inbound_sender_received', table_name='inbound_mail')
