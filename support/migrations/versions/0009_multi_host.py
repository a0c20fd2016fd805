"""multi host

Several hosts on one database: ``leases`` (each periodic job runs in one process at a time,
and when it last ran), ``stored_files`` (the classifier and spam models every host takes its
copy from), ``faq_generation`` and ``faq_changes`` (the knowledge base's version and which
articles changed in each, from which every host's search index catches up).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:45:00.000000
"""
from alembic import op
import sqlalchemy as sa

import support.core.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'leases',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('holder', sa.String(length=120), nullable=False),
        sa.Column('expires_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', support.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_leases')),
    )
    op.create_table(
        'stored_files',
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('version', sa.String(length=80), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('stored_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_stored_files')),
    )
    op.create_table(
        'faq_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_generation')),
    )
    op.create_table(
        'faq_changes',
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('generation', 'article_id', name=op.f('pk_faq_changes')),
    )


def downgrade() -> None:
    op.drop_table('faq_changes')
    op.drop_table('faq_generation')
    op.drop_table('stored_files')
    op.drop_table('leases')
