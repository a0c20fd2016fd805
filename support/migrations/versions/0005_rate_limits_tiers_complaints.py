"""shared rate limits, customer tiers, complaints

``rate_limits``: failed sign-ins and stored searches are counted in the database, so every web
process and host shares one limit (they were counted per process). ``users.failed_logins`` and
``users.locked_until`` are dropped: the hard account lock they served was replaced by the
throttle, and nothing read them any more. ``customers.tier`` (standard, key, vip) replaces
``customers.is_key_account`` (true becomes "key"). Tickets get the complaint fields: ``kind``,
``complaint_complexity``, ``complaint_steps``, ``complaint_due_at``, ``progress_due_at`` (indexed:
the periodic check looks for reports due) and ``progress_reminded_at``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

import support.core.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_limits',
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('window_started_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', support.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_limits')),
    )
    op.create_index('ix_rate_limits_last_at', 'rate_limits', ['last_at'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.String(length=20), server_default='standard', nullable=False))
    op.execute("UPDATE customers SET tier = 'key' WHERE is_key_account")
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('is_key_account')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('complaint_complexity', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('complaint_steps', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('complaint_due_at', support.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('progress_due_at', support.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('progress_reminded_at', support.core.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_tickets_progress_due', 'tickets', ['progress_due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tickets_progress_due', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        for column in ('progress_reminded_at', 'progress_due_at', 'complaint_due_at',
                       'complaint_steps', 'complaint_complexity', 'kind'):
            batch_op.drop_column(column)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_key_account', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE customers SET is_key_account = (tier <> 'standard')")
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('tier')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', support.core.db.UTCDateTime(timezone=True), nullable=True))
    op.drop_index('ix_rate_limits_last_at', table_name='rate_limits')
    op.drop_table('rate_limits')
