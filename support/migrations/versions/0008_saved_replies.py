"""saved replies

``saved_replies``: reply texts with placeholders, personal (``owner_id``) or for a team (one
department, or everyone); staff insert them into the reply box on the ticket page.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 13:20:00.000000
"""
from alembic import op
import sqlalchemy as sa

import support.core.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'saved_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=20), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_saved_replies_department_id_departments')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_saved_replies_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_replies')),
    )
    op.create_index(op.f('ix_saved_replies_owner_id'), 'saved_replies', ['owner_id'], unique=False)
    op.create_index('ix_saved_replies_scope', 'saved_replies', ['scope', 'department_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_saved_replies_scope', table_name='saved_replies')
    op.drop_index(op.f('ix_saved_replies_owner_id'), table_name='saved_replies')
    op.drop_table('saved_replies')
