"""login lockouts: one failure counter per account, shared by every way in (apex, family page, API, tablet)

Revision ID: 65540daa2abd
Revises: e2f3a4b5c6d7
Create Date: 2026-12-06 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.db.bases


revision = '65540daa2abd'
down_revision = 'e2f3a4b5c6d7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_lockouts',
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', app.db.bases.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', app.db.bases.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('account', name=op.f('pk_login_lockouts'))
    )


def downgrade():
    op.drop_table('login_lockouts')
