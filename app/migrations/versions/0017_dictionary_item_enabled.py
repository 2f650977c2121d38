"""dictionary items can be disabled (hidden from new choices, kept for the values that already use them)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dictionary_items') as batch:
        batch.add_column(sa.Column('is_enabled', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table('dictionary_items') as batch:
        batch.drop_column('is_enabled')
