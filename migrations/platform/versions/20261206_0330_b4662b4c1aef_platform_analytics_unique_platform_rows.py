"""platform_analytics: one platform-wide row per metric and day (a partial unique index, since NULLs never collide)

Revision ID: b4662b4c1aef
Revises: 3c7a9e52b1d4
Create Date: 2026-12-06 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b4662b4c1aef'
down_revision = '3c7a9e52b1d4'
branch_labels = None
depends_on = None

PLATFORM_ROWS = sa.text("family_id IS NULL")


def upgrade():
    op.create_index('uq_platform_analytics_platform_metric_recorded_on', 'platform_analytics',
                    ['metric', 'recorded_on'], unique=True, postgresql_where=PLATFORM_ROWS, sqlite_where=PLATFORM_ROWS)


def downgrade():
    op.drop_index('uq_platform_analytics_platform_metric_recorded_on', table_name='platform_analytics')
