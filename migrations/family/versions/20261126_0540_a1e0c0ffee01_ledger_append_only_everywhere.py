"""ledger append-only everywhere: refuse TRUNCATE on PostgreSQL, UPDATE/DELETE on SQLite

Revision ID: a1e0c0ffee01
Revises: cf67f75cd768
Create Date: 2026-11-26 05:40:00
"""
from alembic import op

revision = 'a1e0c0ffee01'
down_revision = 'cf67f75cd768'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # TRUNCATE skips row triggers (and row-level security): refuse it too.
        op.execute("CREATE TRIGGER points_ledger_no_truncate BEFORE TRUNCATE ON points_ledger "
                   "FOR EACH STATEMENT EXECUTE FUNCTION points_ledger_append_only()")
    else:
        op.execute("CREATE TRIGGER points_ledger_no_update BEFORE UPDATE ON points_ledger "
                   "BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END")
        op.execute("CREATE TRIGGER points_ledger_no_delete BEFORE DELETE ON points_ledger "
                   "BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS points_ledger_no_truncate ON points_ledger")
    else:
        op.execute("DROP TRIGGER IF EXISTS points_ledger_no_update")
        op.execute("DROP TRIGGER IF EXISTS points_ledger_no_delete")
