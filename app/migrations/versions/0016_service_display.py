"""services' visibility as upstream has it: display_type and display_role (get_services filters on them)

Revision ID: 0013_service_display
Revises: 0012
Create Date: 2026-11-30

Other BlueKing systems find their own service with get_services(display_type=API, display_role=BK_IAM |
LOG_SEARCH | BK_FTA ...) and take the first one, so the filters must really filter.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('services', sa.Column('display_type', sa.String(length=16), nullable=False, server_default='OPEN'))
    op.add_column('services', sa.Column('display_role', sa.String(length=255), nullable=False, server_default=''))


def downgrade():
    op.drop_column('services', 'display_role')
    op.drop_column('services', 'display_type')
