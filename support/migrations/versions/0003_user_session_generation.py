"""user session generation

A per-user counter that is part of the session's auth stamp: signing out or changing the
password moves it on, which ends every other session of the user on the server side.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:12:41.318204
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
