"""api_defs.follow_redirects: outbound calls follow redirects only where an API says so

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29

Every outbound call (API nodes, API-sourced options, callbacks, notices) now has a total
deadline, a response-size cap and does not follow redirects; an admin may allow redirects
for one configured API (issue 12).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_defs') as batch_op:
        batch_op.add_column(sa.Column('follow_redirects', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('api_defs') as batch_op:
        batch_op.drop_column('follow_redirects')
