"""ticket search and per-user last-seen

``ticket_search``: one row of normalised, segmented words per ticket, with a full-text index
(SQLite: the FTS5 table ``ticket_search_fts`` kept in step by triggers; PostgreSQL: a GIN index
over the words) for the staff's global search; ``ix_tickets_queue`` also covers the columns of
the SLA state (the inbox sorts breached and due-soon tickets first). ``ticket_seen``: when a staff member last opened
a ticket (the inbox's unread marker). Existing tickets are indexed by `support search reindex`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

import support.core.db
from support.core.fulltext import create_index_ddl, drop_index_ddl


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ticket_search',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('indexed_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_search_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_search')),
    )
    op.create_table(
        'ticket_seen',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('seen_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_seen_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_seen_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'ticket_id', name=op.f('pk_ticket_seen')),
    )
    # The queue index also covers the SLA state's columns: the inbox puts breached and
    # due-soon tickets first and reads their state from the index alone.
    op.drop_index('ix_tickets_queue', table_name='tickets')
    op.create_index('ix_tickets_queue', 'tickets', ['department_id', 'status', 'urgency', 'first_response_due_at', 'first_response_at', 'resolution_due_at', 'sla_warn_at', 'sla_paused_at'], unique=False)
    bind = op.get_bind()
    for statement in create_index_ddl(bind.dialect.name, 'ticket_search', 'ticket_id'):
        op.execute(statement)
    # Existing tickets: indexed by `support search reindex` (a migration must not load jieba
    # and every message); until then the search finds new and changed tickets only.


def downgrade() -> None:
    for statement in drop_index_ddl(op.get_bind().dialect.name, 'ticket_search'):
        op.execute(statement)
    op.drop_index('ix_tickets_queue', table_name='tickets')
    op.create_index('ix_tickets_queue', 'tickets', ['department_id', 'status', 'urgency', 'first_response_due_at'], unique=False)
    op.drop_table('ticket_seen')
    op.drop_table('ticket_search')
