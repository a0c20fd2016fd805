"""spam

The spam check's verdict on inbound_mail (``spam_state``, ``spam_score``, ``spam_detail``, and
an index for the Spam page and the purge), ``sender_unverified`` on messages (a trusted DMARC
or SPF failure), and ``spam_examples``: staff's "spam / not spam" decisions the learned
filter learns from. Tickets staff mark as spam get the status "spam" (a string column: no
schema change).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

import support.core.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spam_state', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('spam_score', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('spam_detail', sa.JSON(), nullable=True))
    op.create_index('ix_inbound_spam_state_received', 'inbound_mail', ['spam_state', 'received_at'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_unverified', sa.String(length=200), nullable=True))
    op.create_table(
        'spam_examples',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=10), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.Column('inbound_mail_id', sa.Integer(), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('spam_examples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spam_examples_inbound_mail_id'), ['inbound_mail_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spam_examples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spam_examples_inbound_mail_id'))
    op.drop_table('spam_examples')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('sender_unverified')
    op.drop_index('ix_inbound_spam_state_received', table_name='inbound_mail')
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_column('spam_detail')
        batch_op.drop_column('spam_score')
        batch_op.drop_column('spam_state')
