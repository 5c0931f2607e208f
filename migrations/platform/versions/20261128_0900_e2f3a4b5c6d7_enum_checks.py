"""enum checks: family plan, status and placement, membership and invitation roles, subscription plan and status

Revision ID: e2f3a4b5c6d7
Revises: 1604fdca2062
Create Date: 2026-11-28 09:00:00

Each column keeps its VARCHAR and its stored strings; a CHECK constraint ck_<table>_<column> now lists the values
its StrEnum allows (app/platform/models.py), written out here so this revision keeps its meaning. SQLite rebuilds
each table (batch "recreate"); env.py turns its foreign keys off first, so dropping the old `families` does not
cascade into memberships and subscriptions. PostgreSQL adds the constraints in place, validating existing rows.
"""
from __future__ import annotations

from alembic import op

revision = 'e2f3a4b5c6d7'
down_revision = '1604fdca2062'
branch_labels = None
depends_on = None

STATUSES = ("trial", "active", "suspended", "cancelled")
PLANS = ("free", "premium")
ROLES = ("owner", "admin", "member")

# table -> {column: allowed values}; a table's targets first.
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "families": {"plan": PLANS, "status": STATUSES, "placement": ("pooled", "dedicated")},
    "family_memberships": {"role": ROLES},
    "subscriptions": {"plan": PLANS, "status": STATUSES},
    "invitations": {"role": ROLES},
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _batch(table: str):  # noqa: ANN202
    # SQLite cannot add or drop constraints in place: rebuild the table. PostgreSQL alters it in place.
    return op.batch_alter_table(table, recreate="always" if _sqlite() else "never")


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _refuse_rebuild_with_foreign_keys_on() -> None:
    # With PRAGMA foreign_keys=ON, dropping the old `families` deletes its rows and cascades into the children.
    bind = op.get_bind()
    if not bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        return
    for table in CHECKS:
        if bind.exec_driver_sql(f'SELECT 1 FROM "{table}" LIMIT 1').first() is not None:
            raise RuntimeError("run this migration with PRAGMA foreign_keys=OFF (as the platform env.py does): "
                               "rebuilding tables with foreign keys on would cascade-delete rows")


def _refuse_unknown_values() -> None:
    # PostgreSQL validates existing rows when a CHECK is added; SQLite's rebuild copies them unchecked, so look first.
    bind = op.get_bind()
    for table, columns in CHECKS.items():
        for column, values in columns.items():
            bad = bind.exec_driver_sql(f'SELECT DISTINCT "{column}" FROM "{table}" '
                                       f"WHERE NOT ({_condition(column, values)})").scalars().all()
            if bad:
                raise RuntimeError(f"{table}.{column} holds values outside its enum: {bad[:5]}")


def upgrade():
    if _sqlite():
        _refuse_rebuild_with_foreign_keys_on()
        _refuse_unknown_values()
    for table, columns in CHECKS.items():
        with _batch(table) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(column, _condition(column, values))


def downgrade():
    if _sqlite():
        _refuse_rebuild_with_foreign_keys_on()
    for table, columns in reversed(CHECKS.items()):
        with _batch(table) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
