"""Row-level security for family tables on PostgreSQL: the database's own guard behind the ORM filter."""
from __future__ import annotations

from alembic.operations import Operations

# current_setting(..., true) is NULL when unset, so a connection that never entered a family sees nothing.
FAMILY_PREDICATE = "family_id = NULLIF(current_setting('app.family_id', true), '')::uuid"


def enable_row_level_security(op: Operations, table: str) -> None:
    """FORCE RLS on `table` so even its owner (the app role) only sees the current family's rows."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY family_isolation ON "{table}" USING ({FAMILY_PREDICATE}) WITH CHECK ({FAMILY_PREDICATE})'
    )


def disable_row_level_security(op: Operations, table: str) -> None:
    """Undo `enable_row_level_security` (downgrades)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'DROP POLICY IF EXISTS family_isolation ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
