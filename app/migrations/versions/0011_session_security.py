"""users.session_version: logout and a password change end every session and bk_token;
login_failures: the login throttle's counts, shared by every worker

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-30

Each session keeps `id:session_version` and each bk_token carries the version; logout and a
password change raise it, so a copied session cookie or token stops working (issue 13, finding 8).
Failed logins are rows counted per account and per client address (finding 9).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_username', 'login_failures', ['username', 'failed_at'])
    op.create_index('ix_login_failures_address', 'login_failures', ['address', 'failed_at'])
    op.create_index('ix_login_failures_failed_at', 'login_failures', ['failed_at'])


def downgrade():
    op.drop_table('login_failures')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_version')
