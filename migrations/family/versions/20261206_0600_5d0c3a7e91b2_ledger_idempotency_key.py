"""ledger idempotency key: a retried bonus or deduction finds its first row instead of posting twice

Revision ID: 5d0c3a7e91b2
Revises: 6744555ae686
Create Date: 2026-12-06 06:00:00

A client that loses the answer to `POST /api/users/:id/bonus` may retry it with the same `Idempotency-Key` header;
the key is kept on the ledger row, unique per family (NULLs, every row posted without a key, never collide). A
nullable column and a plain index: one statement each that PostgreSQL and SQLite both accept, no table rebuild.
"""
from __future__ import annotations

from alembic import op

revision = '5d0c3a7e91b2'
down_revision = '6744555ae686'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE points_ledger ADD COLUMN idempotency_key VARCHAR(100)")
    op.create_index("uq_points_ledger_family_idempotency_key", "points_ledger", ["family_id", "idempotency_key"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("uq_points_ledger_family_idempotency_key", table_name="points_ledger")
    op.execute("ALTER TABLE points_ledger DROP COLUMN idempotency_key")
