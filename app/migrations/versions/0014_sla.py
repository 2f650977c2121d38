"""service levels: tickets' priority, clocks (JSON) and derived due/check times; warnings and breaches recorded once

Revision ID: 0013_sla
Revises: 0012
Create Date: 2026-11-30

`tickets.sla` holds the agreement a ticket started with and its clocks' events; `sla_due_at` and
`sla_check_at` are derived from them (rebuilt by `itsm sla rebuild`) and indexed, so lists sort by
time to breach and the scheduler finds the next threshold without scanning. `sla_notices` records
each warning and breach once (unique ticket, clock, kind).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # plain ALTER TABLE: a batch copy of `tickets` would cascade-delete its steps
    op.add_column('tickets', sa.Column('priority', sa.String(length=8), nullable=True))
    op.add_column('tickets', sa.Column('sla', sa.JSON(), nullable=True))
    op.add_column('tickets', sa.Column('sla_due_at', sa.DateTime(), nullable=True))
    op.add_column('tickets', sa.Column('sla_check_at', sa.DateTime(), nullable=True))
    op.create_index('ix_tickets_sla_due', 'tickets', ['sla_due_at'], unique=False)
    op.create_index('ix_tickets_sla_check', 'tickets', ['sla_check_at'], unique=False)
    op.create_table(
        'sla_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('clock', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('crossed_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_notices_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_notices')),
        sa.UniqueConstraint('ticket_id', 'clock', 'kind', name='uq_sla_notices_once'),
    )


def downgrade():
    op.drop_table('sla_notices')
    op.drop_index('ix_tickets_sla_check', table_name='tickets')
    op.drop_index('ix_tickets_sla_due', table_name='tickets')
    op.drop_column('tickets', 'sla_check_at')
    op.drop_column('tickets', 'sla_due_at')
    op.drop_column('tickets', 'sla')
    op.drop_column('tickets', 'priority')
