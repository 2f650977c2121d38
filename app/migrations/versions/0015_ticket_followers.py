"""ticket_followers: who follows a ticket (add_follower, get_tickets_by_user view_type=my_attention)

Revision ID: 0013_followers
Revises: 0012
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ticket_followers',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('ticket_created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_followers_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id', 'username', name=op.f('pk_ticket_followers')),
    )
    op.create_index('ix_ticket_followers_user_created', 'ticket_followers',
                    ['username', 'ticket_created_at', 'ticket_id'], unique=False)


def downgrade():
    op.drop_index('ix_ticket_followers_user_created', table_name='ticket_followers')
    op.drop_table('ticket_followers')
