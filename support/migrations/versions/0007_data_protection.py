"""data protection

``consent_records``: what a customer agreed to on the contact form, when and in which language.
``customers.erased_at`` and ``tickets.anonymised_at`` mark erased customers and tickets whose
personal data was removed (on request or by retention); ``inbound_mail.raw_dropped_at`` marks
mail whose raw bytes retention dropped (the parsed message stays). ``ix_audit_subject`` serves
the audit events about one customer (export and erasure).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

import support.core.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'consent_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('purpose', sa.String(length=40), nullable=False),
        sa.Column('version', sa.String(length=40), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('given_at', support.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consent_records_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records')),
    )
    op.create_index(op.f('ix_consent_records_customer_id'), 'consent_records', ['customer_id'], unique=False)
    op.create_index(op.f('ix_consent_records_email'), 'consent_records', ['email'], unique=False)
    op.create_index('ix_audit_subject', 'audit_events', ['subject_type', 'subject_id'], unique=False)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', support.core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', support.core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raw_dropped_at', support.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_column('raw_dropped_at')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    op.drop_index('ix_audit_subject', table_name='audit_events')
    op.drop_index(op.f('ix_consent_records_email'), table_name='consent_records')
    op.drop_index(op.f('ix_consent_records_customer_id'), table_name='consent_records')
    op.drop_table('consent_records')
