"""decided SLA clocks as a rollup for the attainment statistics (issue 20)

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30

`sla_outcomes` holds one row per decided clock (met or breached) of a ticket, with the ticket's
service, service type, priority, creation time and local month. Operations and the SLA scan write it
in their own transaction; on an existing database fill it once with `flask --app wsgi itsm sla
rebuild-outcomes` (docs/sla.md).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sla_outcomes',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('clock', sa.String(length=16), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('service_type', sa.String(length=16), nullable=False),
        sa.Column('priority', sa.String(length=8), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('met', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_sla_outcomes_service_id_services')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_outcomes_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id', 'clock', name=op.f('pk_sla_outcomes')),
    )
    op.create_index('ix_sla_outcomes_created', 'sla_outcomes', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_sla_outcomes_created', table_name='sla_outcomes')
    op.drop_table('sla_outcomes')
