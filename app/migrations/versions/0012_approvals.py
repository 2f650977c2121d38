"""approval nodes: votes on the step row, the last approval's deciders on the ticket; users' department and leader

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-30

An approval step keeps its approvers and every decision in one JSON column
(`ticket_steps.approval`), so a vote writes the step row and never a row per vote;
`tickets.last_approver` names who decided the last approval node (result callbacks).
`users.department` and `users.leader` are the directory that STARTER_LEADER, ASSIGN_LEADER and
ORGANIZATION processors resolve against.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # plain ALTER TABLE (SQLite >= 3.35 drops columns too): a batch copy of `tickets` would cascade-delete its steps
    op.add_column('ticket_steps', sa.Column('approval', sa.JSON(), nullable=True))
    op.add_column('tickets', sa.Column('last_approver', sa.String(length=255), nullable=True))
    op.add_column('users', sa.Column('department', sa.String(length=128), nullable=False, server_default=''))
    op.add_column('users', sa.Column('leader', sa.String(length=64), nullable=False, server_default=''))
    op.create_index(op.f('ix_users_department'), 'users', ['department'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_users_department'), table_name='users')
    op.drop_column('users', 'leader')
    op.drop_column('users', 'department')
    op.drop_column('tickets', 'last_approver')
    op.drop_column('ticket_steps', 'approval')
