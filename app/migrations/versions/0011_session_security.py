"""users.session_version: logout and a password change end every session and bk_token

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-30

Each session keeps `id:session_version` and each bk_token carries the version; logout and a
password change raise it, so a copied session cookie or token stops working (issue 13, finding 8).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_version')
