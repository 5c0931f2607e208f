"""legacy fields: chores.frequency, rewards.value_in_cents and rewards.legacy_availability

Revision ID: 8fcbc02363c4
Revises: d1e2f3a4b5c6
Create Date: 2026-12-06 03:00:00

The previous service's values that old clients send and old data holds (issue 10): a chore's free-text
`frequency` (at most 50 characters), a reward's money value `value_in_cents` (0 to 10,000,000) and the old
availability word (`limited` / `seasonal`) kept beside the availability kind it maps to. All three are nullable
additions, so existing rows keep their meaning. Each column is added with its CHECK inline (one ALTER TABLE that
PostgreSQL and SQLite both accept), so SQLite needs no table rebuild and the ledger's triggers stay untouched.
"""
from __future__ import annotations

from alembic import op

revision = '8fcbc02363c4'
down_revision = 'd1e2f3a4b5c6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE chores ADD COLUMN frequency VARCHAR(50)")
    op.execute("ALTER TABLE rewards ADD COLUMN legacy_availability VARCHAR(20) "
               "CONSTRAINT ck_rewards_legacy_availability CHECK (legacy_availability IN ('limited', 'seasonal'))")
    op.execute("ALTER TABLE rewards ADD COLUMN value_in_cents INTEGER "
               "CONSTRAINT ck_rewards_value_in_cents CHECK (value_in_cents BETWEEN 0 AND 10000000)")


def downgrade() -> None:
    # Dropping a column drops its own CHECK (PostgreSQL) / column constraint (SQLite 3.35+).
    op.execute("ALTER TABLE rewards DROP COLUMN value_in_cents")
    op.execute("ALTER TABLE rewards DROP COLUMN legacy_availability")
    op.execute("ALTER TABLE chores DROP COLUMN frequency")
