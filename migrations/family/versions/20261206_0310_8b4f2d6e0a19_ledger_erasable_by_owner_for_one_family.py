"""ledger erasable by the owner for one family: moving a family away and purging it must remove its history

Revision ID: 8b4f2d6e0a19
Revises: d1e2f3a4b5c6
Create Date: 2026-12-06 03:10:00

The append-only trigger keeps refusing UPDATE, TRUNCATE and DELETE, except a row DELETE of the family named by the
transaction-local setting `app.erase_family` (app/tenancy/erasure.py sets it). The app role holds no DELETE on
points_ledger at all, so only the owner role (moves and purges) can use this door, one family at a time.
SQLite has no settings: there the eraser drops and re-creates the trigger inside its own transaction.
"""
from __future__ import annotations

from alembic import op

revision = '8b4f2d6e0a19'
down_revision = 'd1e2f3a4b5c6'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND TG_LEVEL = 'ROW'
                    AND OLD.family_id::text = current_setting('app.erase_family', true) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'points_ledger is append-only (% refused)', TG_OP;
        END $$
    """)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'points_ledger is append-only (% refused)', TG_OP;
        END $$
    """)
