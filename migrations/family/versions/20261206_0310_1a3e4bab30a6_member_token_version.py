"""member token version: API tokens carry it, and a password change, deactivation or "sign out everywhere" bumps it

Revision ID: 1a3e4bab30a6
Revises: 8fcbc02363c4
Create Date: 2026-12-06 03:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '1a3e4bab30a6'
down_revision = '8fcbc02363c4'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('members', sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('members') as batch_op:
        batch_op.drop_column('token_version')
