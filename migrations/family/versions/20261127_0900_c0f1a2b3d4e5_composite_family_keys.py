"""composite family keys: every family reference is (x_id, family_id) -> (id, family_id)

Revision ID: c0f1a2b3d4e5
Revises: a1e0c0ffee01
Create Date: 2026-11-27 09:00:00

A row of one family can no longer point at another family's row: each referenced family table gets
UNIQUE (family_id, id) and each reference a composite foreign key that repeats the row's own family_id.
On SQLite every touched table is rebuilt (batch "recreate"), which drops its triggers, so the ledger's
append-only triggers are created again; PostgreSQL alters in place, so its policies and triggers stay.
"""
from __future__ import annotations

from alembic import op

revision = 'c0f1a2b3d4e5'
down_revision = 'a1e0c0ffee01'
branch_labels = None
depends_on = None

# Every table altered, in order: the tables a table points at come before it.
TABLES = (
    "members", "chores", "tablet_devices", "rewards", "webhooks", "allowance_schedules", "assignments",
    "points_ledger", "chore_schedules", "chore_assignees", "member_sessions", "login_failures", "presence_patterns",
    "presence_exceptions", "redemptions", "savings_goals", "notifications", "notification_preferences", "deliveries",
    "calendar_feeds", "payouts", "member_badges",
)
UNIQUE = {"members", "chores", "tablet_devices", "rewards", "webhooks", "allowance_schedules", "assignments",
          "points_ledger"}

# (table, column, referred table, ON DELETE now, ON DELETE of the single-column key it replaces or "" when new).
# No action where the app never deletes the target (members are deactivated, history is kept): SET NULL would
# null family_id too on a composite key.
REFERENCES = (
    ("members", "created_by", "members", None, ""),
    ("members", "updated_by", "members", None, ""),
    ("tablet_devices", "registered_by", "members", None, "SET NULL"),
    ("webhooks", "created_by", "members", None, ""),
    ("allowance_schedules", "member_id", "members", "CASCADE", "CASCADE"),
    ("assignments", "chore_id", "chores", "CASCADE", "CASCADE"),
    ("assignments", "assigned_to", "members", None, "SET NULL"),
    ("assignments", "assigned_by", "members", None, ""),
    ("assignments", "completed_by", "members", None, ""),
    ("assignments", "verified_by", "members", None, ""),
    ("assignments", "skipped_by", "members", None, ""),
    ("points_ledger", "member_id", "members", "CASCADE", "CASCADE"),
    ("points_ledger", "assignment_id", "assignments", None, ""),
    ("points_ledger", "actor_id", "members", None, ""),
    ("chore_schedules", "chore_id", "chores", "CASCADE", "CASCADE"),
    ("chore_assignees", "chore_id", "chores", "CASCADE", "CASCADE"),
    ("chore_assignees", "member_id", "members", "CASCADE", "CASCADE"),
    ("member_sessions", "member_id", "members", "CASCADE", "CASCADE"),
    ("member_sessions", "device_id", "tablet_devices", "CASCADE", "CASCADE"),
    ("login_failures", "member_id", "members", "CASCADE", "CASCADE"),
    ("presence_patterns", "member_id", "members", "CASCADE", "CASCADE"),
    ("presence_exceptions", "member_id", "members", "CASCADE", "CASCADE"),
    ("redemptions", "reward_id", "rewards", "CASCADE", "CASCADE"),
    ("redemptions", "member_id", "members", "CASCADE", "CASCADE"),
    ("redemptions", "decided_by", "members", None, ""),
    ("savings_goals", "member_id", "members", "CASCADE", "CASCADE"),
    ("savings_goals", "reward_id", "rewards", "CASCADE", "CASCADE"),
    ("notifications", "member_id", "members", "CASCADE", "CASCADE"),
    ("notification_preferences", "member_id", "members", "CASCADE", "CASCADE"),
    ("deliveries", "webhook_id", "webhooks", "CASCADE", "CASCADE"),
    ("calendar_feeds", "member_id", "members", "CASCADE", "CASCADE"),
    ("payouts", "member_id", "members", "CASCADE", "CASCADE"),
    ("payouts", "ledger_entry_id", "points_ledger", None, ""),
    ("payouts", "paid_by", "members", None, ""),
    ("payouts", "schedule_id", "allowance_schedules", None, ""),
    ("member_badges", "member_id", "members", "CASCADE", "CASCADE"),
)


def _fk_name(table: str, column: str, referred: str) -> str:
    # The naming convention's fk name (column_0 is the reference column, family_id comes second).
    return f"fk_{table}_{column}_{referred}"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _batch(table: str):  # noqa: ANN202
    # SQLite cannot add or drop constraints in place: rebuild the table. PostgreSQL alters it in place.
    return op.batch_alter_table(table, recreate="always" if _sqlite() else "never")


def _refuse_rebuild_with_foreign_keys_on() -> None:
    # With PRAGMA foreign_keys=ON, dropping a rebuilt table deletes its rows first and cascades into the children.
    bind = op.get_bind()
    if not bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        return
    for table in TABLES:
        if bind.exec_driver_sql(f'SELECT 1 FROM "{table}" LIMIT 1').first() is not None:
            raise RuntimeError("run this migration with PRAGMA foreign_keys=OFF (as upgrade_family_database does): "
                               "rebuilding tables with foreign keys on would cascade-delete rows")


def _ledger_triggers() -> None:
    # A SQLite rebuild drops the table's triggers; the ledger must stay append-only (a1e0c0ffee01).
    op.execute("CREATE TRIGGER IF NOT EXISTS points_ledger_no_update BEFORE UPDATE ON points_ledger "
               "BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END")
    op.execute("CREATE TRIGGER IF NOT EXISTS points_ledger_no_delete BEFORE DELETE ON points_ledger "
               "BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END")


def _check_sqlite_references() -> None:
    # PostgreSQL validates existing rows when a key is added; SQLite does not, so check them here.
    bad = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if bad:
        raise RuntimeError(f"rows point at another family's (or a missing) row: {bad[:5]}")


def upgrade():
    if _sqlite():
        _refuse_rebuild_with_foreign_keys_on()
    for table in TABLES:
        with _batch(table) as batch_op:
            for _, column, referred, _, old in (r for r in REFERENCES if r[0] == table):
                if old:
                    batch_op.drop_constraint(_fk_name(table, column, referred), type_="foreignkey")
            if table in UNIQUE:
                batch_op.create_unique_constraint(f"uq_{table}_family_id_id", ["family_id", "id"])
            for _, column, referred, ondelete, _ in (r for r in REFERENCES if r[0] == table):
                batch_op.create_foreign_key(_fk_name(table, column, referred), referred, [column, "family_id"],
                                            ["id", "family_id"], ondelete=ondelete)
    if _sqlite():
        _ledger_triggers()
        _check_sqlite_references()


def downgrade():
    if _sqlite():
        _refuse_rebuild_with_foreign_keys_on()
    for table in reversed(TABLES):
        with _batch(table) as batch_op:
            for _, column, referred, _, _ in (r for r in REFERENCES if r[0] == table):
                batch_op.drop_constraint(_fk_name(table, column, referred), type_="foreignkey")
            if table in UNIQUE:
                batch_op.drop_constraint(f"uq_{table}_family_id_id", type_="unique")
            for _, column, referred, _, old in (r for r in REFERENCES if r[0] == table):
                if old:
                    batch_op.create_foreign_key(_fk_name(table, column, referred), referred, [column], ["id"],
                                                ondelete=old)
    if _sqlite():
        _ledger_triggers()

