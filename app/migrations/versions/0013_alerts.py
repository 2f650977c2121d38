"""alerts become incidents: receivers, the payload queue, alert groups, per-rule storm state, alerts

Revision ID: 0013_alerts
Revises: 0012
Create Date: 2026-12-01

`alert_groups` is unique per (rule_key, group_key): the row concurrent processors lock so one
group never opens two incidents. `alerts` is unique per (ticket_id, fingerprint): an alert is
attached to an incident once, repeats update it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alert_receivers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('auth', sa.String(length=8), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_receivers')),
        sa.UniqueConstraint('kind', 'name', name='uq_alert_receivers_kind_name'),
    )
    op.create_table(
        'alert_payloads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('receiver_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('processed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['receiver_id'], ['alert_receivers.id'],
                                name=op.f('fk_alert_payloads_receiver_id_alert_receivers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_payloads')),
    )
    op.create_index('ix_alert_payloads_due', 'alert_payloads', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_alert_payloads_receiver', 'alert_payloads', ['receiver_id', 'received_at'], unique=False)
    op.create_table(
        'alert_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_key', sa.String(length=64), nullable=False),
        sa.Column('group_key', sa.String(length=255), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('storm_parent', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_alert_groups_ticket_id_tickets'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_groups')),
        sa.UniqueConstraint('rule_key', 'group_key', name='uq_alert_groups_rule_group'),
    )
    op.create_index('ix_alert_groups_rule_opened', 'alert_groups', ['rule_key', 'opened_at'], unique=False)
    op.create_index(op.f('ix_alert_groups_ticket_id'), 'alert_groups', ['ticket_id'], unique=False)
    op.create_table(
        'alert_rule_states',
        sa.Column('rule_key', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.Column('window_count', sa.Integer(), nullable=False),
        sa.Column('storm_ticket_id', sa.Integer(), nullable=True),
        sa.Column('storm_started_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['storm_ticket_id'], ['tickets.id'],
                                name=op.f('fk_alert_rule_states_storm_ticket_id_tickets'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('rule_key', name=op.f('pk_alert_rule_states')),
    )
    op.create_table(
        'alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=128), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('labels', sa.JSON(), nullable=False),
        sa.Column('annotations', sa.JSON(), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=True),
        sa.Column('ends_at', sa.DateTime(), nullable=True),
        sa.Column('source_url', sa.Text(), nullable=False),
        sa.Column('received_count', sa.Integer(), nullable=False),
        sa.Column('first_received_at', sa.DateTime(), nullable=False),
        sa.Column('last_received_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['alert_groups.id'], name=op.f('fk_alerts_group_id_alert_groups'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_alerts_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
        sa.UniqueConstraint('ticket_id', 'fingerprint', name='uq_alerts_ticket_fingerprint'),
    )
    op.create_index(op.f('ix_alerts_group_id'), 'alerts', ['group_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_alerts_group_id'), table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('alert_rule_states')
    op.drop_index(op.f('ix_alert_groups_ticket_id'), table_name='alert_groups')
    op.drop_index('ix_alert_groups_rule_opened', table_name='alert_groups')
    op.drop_table('alert_groups')
    op.drop_index('ix_alert_payloads_receiver', table_name='alert_payloads')
    op.drop_index('ix_alert_payloads_due', table_name='alert_payloads')
    op.drop_table('alert_payloads')
    op.drop_table('alert_receivers')
