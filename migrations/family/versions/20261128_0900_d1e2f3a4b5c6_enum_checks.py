"""enum checks: every status, kind, role, strategy and difficulty column refuses strings outside its enum

Revision ID: d1e2f3a4b5c6
Revises: c0f1a2b3d4e5
Create Date: 2026-11-28 09:00:00

Each column keeps its VARCHAR and its stored strings; a CHECK constraint ck_<table>_<column> now lists the values
its StrEnum allows (app/*/models.py). The values are written out here, not imported, so this revision keeps meaning
what it meant when the enums change. On SQLite every touched table is rebuilt (batch "recreate"), which drops its
triggers, so the ledger's append-only triggers are created again (as c0f1a2b3d4e5 does); PostgreSQL adds the
constraints in place (validating existing rows), so its policies and triggers stay.
"""
from __future__ import annotations

from alembic import op

revision = 'd1e2f3a4b5c6'
down_revision = 'c0f1a2b3d4e5'
branch_labels = None
depends_on = None

# table -> {column: allowed values}, in the order c0f1a2b3d4e5 rebuilt them (a table's targets first).
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "members": {"role": ("parent", "child")},
    "chores": {
        "difficulty": ("easy", "medium", "hard"),
        "assignment_type": ("fixed", "each", "round_robin", "fair_share", "random", "open"),
    },
    "allowance_schedules": {"mode": ("fixed_amount", "convert_week")},
    "assignments": {"status": ("open", "pending", "pending_verification", "verified", "missed", "skipped")},
    "points_ledger": {"kind": ("chore", "bonus", "deduction", "penalty", "redemption", "refund", "conversion",
                               "adjustment", "achievement")},
    "chore_schedules": {
        "kind": ("once", "daily", "weekly", "interval", "monthly_day", "monthly_weekday", "yearly"),
        "interval_unit": ("days", "weeks", "months"),
    },
    "login_failures": {"kind": ("password", "pin")},
    "presence_patterns": {"kind": ("weekly", "alternate_weeks")},
    "rewards": {"availability": ("always", "date_range", "weekdays")},
    "redemptions": {"status": ("pending", "approved", "rejected", "fulfilled")},
    "notification_preferences": {"channel": ("in_app", "email", "webhook")},
    "deliveries": {"channel": ("in_app", "email", "webhook"), "status": ("queued", "delivered", "retrying", "dead")},
    "payouts": {"kind": ("conversion", "allowance")},
    "point_presets": {"kind": ("bonus", "deduction")},
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _batch(table: str):  # noqa: ANN202
    # SQLite cannot add or drop constraints in place: rebuild the table. PostgreSQL alters it in place.
    return op.batch_alter_table(table, recreate="always" if _sqlite() else "never")


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _refuse_rebuild_with_foreign_keys_on() -> None:
    # With PRAGMA foreign_keys=ON, dropping a rebuilt table deletes its rows first and cascades into the children.
    bind = op.get_bind()
    if not bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        return
    for table in CHECKS:
        if bind.exec_driver_sql(f'SELECT 1 FROM "{table}" LIMIT 1').first() is not None:
            raise RuntimeError("run this migration with PRAGMA foreign_keys=OFF (as upgrade_family_database does): "
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


def _ledger_triggers() -> None:
    # A SQLite rebuild drops the table's triggers; the ledger must stay append-only (a1e0c0ffee01).
    op.execute("CREATE TRIGGER IF NOT EXISTS points_ledger_no_update BEFORE UPDATE ON points_ledger "
               "BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END")
    op.execute("CREATE TRIGGER IF NOT EXISTS points_ledger_no_delete BEFORE DELETE ON points_ledger "
               "BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END")


def upgrade():
    if _sqlite():
        _refuse_rebuild_with_foreign_keys_on()
        _refuse_unknown_values()
    for table, columns in CHECKS.items():
        with _batch(table) as batch_op:
            for column, values in columns.items():
                batch_op.create_check_constraint(column, _condition(column, values))
    if _sqlite():
        _ledger_triggers()


def downgrade():
    if _sqlite():
        _refuse_rebuild_with_foreign_keys_on()
    for table, columns in reversed(CHECKS.items()):
        with _batch(table) as batch_op:
            for column in columns:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
    if _sqlite():
        _ledger_triggers()
