"""clusters, moves and deletion: families.cluster, families.moving_since, families.purged_at, users.deleted_at

Revision ID: 3c7a9e52b1d4
Revises: e2f3a4b5c6d7
Create Date: 2026-12-06 03:00:00

`cluster` names a configured database cluster (never a URL); every existing family lives on `default`, the cluster
FAMILY_DATABASE_URL / DEDICATED_DATABASE_URL_TEMPLATE describe. Adding nullable columns (and one with a server
default) needs no table rebuild on SQLite.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import app.db.bases

revision = '3c7a9e52b1d4'
down_revision = 'e2f3a4b5c6d7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('families', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cluster', sa.String(length=64), server_default='default', nullable=False))
        batch_op.add_column(sa.Column('moving_since', app.db.bases.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('purged_at', app.db.bases.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', app.db.bases.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
    with op.batch_alter_table('families', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('moving_since')
        batch_op.drop_column('cluster')
