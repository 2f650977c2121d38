"""approval nodes: votes on the step row, the last approval's deciders on the ticket

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-30

An approval step keeps its approvers and every decision in one JSON column
(`ticket_steps.approval`), so a vote writes the step row and never a row per vote;
`tickets.last_approver` names who decided the last approval node (result callbacks).
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


def downgrade():
    op.drop_column('tickets', 'last_approver')
    op.drop_column('ticket_steps', 'approval')
