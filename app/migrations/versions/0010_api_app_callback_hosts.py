"""api_apps.callback_hosts, callback_private: where an app's result callbacks may go

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

meta.callback_url is chosen by the API caller; the scheduler POSTs there. Each app now has an
admin-kept allow-list of callback hosts (empty: callbacks refused) and a switch that allows
private/loopback addresses (off by default) (issue 13).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_apps') as batch_op:
        batch_op.add_column(sa.Column('callback_hosts', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('callback_private', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('api_apps') as batch_op:
        batch_op.drop_column('callback_private')
        batch_op.drop_column('callback_hosts')
