"""Read a legacy HousePoints database: named, non-secret columns only, in one read-only transaction.

Secrets never leave the old database: OAuth tokens inside `users.preferences` stay behind (only listed keys are
selected, by the database), `system_settings` is read for listed keys only (integration tokens, calendar links and
SMTP passwords are never selected), and tables of devices, tokens and integrations are not queried at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

# The chore-domain tables an importer needs; a database lacking any of them is not a legacy HousePoints database.
REQUIRED_TABLES = (
    "users", "chores", "assignments", "open_chores", "scheduled_chores", "point_transactions", "points_history",
    "point_deductions", "point_conversions", "rewards", "reward_redemptions", "notifications", "family_settings",
    "system_settings", "common_deductions", "rotation_presence_overrides", "user_achievements",
)
# Counted for the report, never read: what HousePoints replaces (roles, devices, gamification it does differently).
COUNTED_ONLY = {
    "roles": "HousePoints has two roles, parent and child (from users.is_parent)",
    "user_roles": "HousePoints has two roles, parent and child (from users.is_parent)",
    "user_devices": "devices register again on the family tablet",
    "achievements": "HousePoints badges are its own rules; legacy achievements have no counterpart",
    "user_achievements": "HousePoints badges are its own rules (these rows credited no points)",
    "leaderboard_rewards": "leaderboard prizes were paid as bonus transactions, which are imported",
    "rotation_groups": "rotations become each chore's assignment strategy, set by a parent",
    "notification_templates": "HousePoints writes its own notification texts",
}
PREFERENCE_KEYS = ("account_type", "theme", "language", "locale", "dark_mode", "sound", "font_size")
SYSTEM_SETTING_KEYS = ("exchange_rate", "timezone", "week_starts_on", "auto_approve_chores", "weekly_point_goal",
                       "default_chore_points", "verification_required", "require_chore_verification",
                       "early_completion_bonus", "late_penalty_points", "system_name", "deduction_categories")
# family_settings keys are read unless they look like credentials (the database filters; the values never arrive).
SECRET_KEY_PATTERN = "(token|secret|password|passwd|oauth|api[_-]?key|credential|smtp|ical|webhook|private)"

QUERIES: dict[str, str] = {
    "users": """
        SELECT id, username, display_name, age, color_theme, avatar_url, total_points, weekly_points, level, xp,
               streak_days, last_active, created_at, updated_at, is_parent, birthdate, availability_notifications,
               auto_approve_work, email, phone_number, school, notes, login_enabled, daily_goal,
               usually_eats_dinner, total_points_converted, lifetime_points_earned, available_points,
               lifetime_points, created_by, updated_by, is_active,
               (SELECT jsonb_object_agg(key, value) FROM jsonb_each(COALESCE(preferences, '{}'::jsonb))
                 WHERE key = ANY(:preference_keys)) AS preferences,
               (SELECT count(*) FROM jsonb_each(COALESCE(preferences, '{}'::jsonb))
                 WHERE NOT key = ANY(:preference_keys)) AS preference_keys_left
        FROM users ORDER BY created_at, id""",
    "chores": """
        SELECT id, name, description, instructions, category, base_points, estimated_minutes, difficulty,
               requires_verification, verification_required, requires_photo, photo_required, icon, tags, frequency,
               active, is_active, created_at, updated_at, bonus_eligible, penalty_points, min_age,
               rotation_eligible, open_points, assignment_type, overdue_time, created_by, updated_by
        FROM chores ORDER BY created_at, id""",
    "scheduled_chores": """
        SELECT id, chore_id, next_post_date, frequency, days_of_week, day_of_month, created_at
        FROM scheduled_chores ORDER BY created_at, id""",
    "assignments": """
        SELECT id, chore_id, assigned_to, assigned_by, status, points_offered, points_earned, due_date, claimed_at,
               started_at, completed_at, verified_at, verified_by, completion_notes, verification_notes, notes,
               created_at, updated_at, completed_by_parent
        FROM assignments ORDER BY created_at, id""",
    "open_chores": """
        SELECT id, chore_id, points, expires_at, status, claimed_by, claimed_at, created_at, updated_at
        FROM open_chores ORDER BY created_at, id""",
    "point_transactions": """
        SELECT id, user_id, points, transaction_type, description, related_assignment_id, created_at
        FROM point_transactions ORDER BY created_at, id""",
    "points_history": """
        SELECT id, user_id, points_change, reason, reference, reference_type, created_at
        FROM points_history ORDER BY created_at, id""",
    "point_deductions": """
        SELECT id, user_id, deducted_by, points, reason, category, created_at
        FROM point_deductions ORDER BY created_at, id""",
    "point_conversions": """
        SELECT id, user_id, points_converted, dollar_amount, payment_method, notes, converted_by,
               created_at AT TIME ZONE :tz AS created_at
        FROM point_conversions ORDER BY created_at, id""",
    "rewards": """
        SELECT id, name, description, cost_points, category, icon, max_per_week, requires_parent_approval, active,
               created_at, availability, stock_remaining, value_in_cents, updated_at
        FROM rewards ORDER BY created_at, id""",
    "reward_redemptions": """
        SELECT id, user_id, reward_id, points_spent, status, notes, parent_notes,
               created_at AT TIME ZONE :tz AS created_at, processed_at AT TIME ZONE :tz AS processed_at, processed_by
        FROM reward_redemptions ORDER BY created_at, id""",
    "notifications": """
        SELECT id, user_id, title, message, type, read, action_url, metadata, created_at, updated_at
        FROM notifications ORDER BY created_at, id""",
    "common_deductions": """
        SELECT id, name, default_amount, is_active FROM common_deductions ORDER BY id""",
    "rotation_presence_overrides": """
        SELECT id, child_id, date, is_available, reason, created_at
        FROM rotation_presence_overrides ORDER BY created_at, id""",
    "family_settings": f"""
        SELECT key, value FROM family_settings WHERE key !~* '{SECRET_KEY_PATTERN}' ORDER BY key""",
    "system_settings": """
        SELECT setting_key, setting_value, setting_type FROM system_settings
        WHERE setting_key = ANY(:system_keys) ORDER BY setting_key""",
}
COUNTS: dict[str, str] = {
    "family_settings": f"SELECT count(*) FROM family_settings WHERE key ~* '{SECRET_KEY_PATTERN}'",
    "system_settings": "SELECT count(*) FROM system_settings WHERE NOT setting_key = ANY(:system_keys)",
}


class LegacySourceError(ValueError):
    """The source cannot be read as a legacy HousePoints database; the message says why."""


@dataclass
class LegacyData:
    """The rows read from a legacy database, per table, plus what was deliberately left unread."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unread: dict[str, int] = field(default_factory=dict)  # table → rows counted but not read (secrets, replaced)
    timezone: str = "UTC"


def safe_url(url: str) -> str:
    """The URL without its password, for messages and reports."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def read_legacy(url: str) -> LegacyData:
    """Every table the import needs, read in one REPEATABLE READ, READ ONLY transaction (a consistent snapshot)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise LegacySourceError("The source is not a database URL (expected postgresql://…).") from None
    if parsed.get_backend_name() != "postgresql":
        raise LegacySourceError("The source must be a PostgreSQL database URL (postgresql://…).")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, isolation_level="REPEATABLE READ")
    except NoSuchModuleError:
        raise LegacySourceError(f"No driver for {parsed.drivername}.") from None
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            present = set(connection.scalars(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")))
            missing = [name for name in REQUIRED_TABLES if name not in present]
            if missing:
                raise LegacySourceError("This is not a legacy HousePoints database: it lacks the tables "
                                        f"{', '.join(missing)}.")
            data = LegacyData(timezone=_family_timezone(connection))
            params = {"tz": data.timezone, "preference_keys": list(PREFERENCE_KEYS),
                      "system_keys": list(SYSTEM_SETTING_KEYS)}
            for table, query in QUERIES.items():
                data.rows[table] = [dict(row) for row in connection.execute(text(query), params).mappings()]
            for table, query in COUNTS.items():
                data.unread[table] = int(connection.scalar(text(query), params) or 0)
            for table in COUNTED_ONLY:
                if table in present:
                    data.unread[table] = int(connection.scalar(text(f'SELECT count(*) FROM "{table}"')) or 0)
            return data
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
        raise LegacySourceError(f"Cannot read the legacy database at {safe_url(url)}: {reason}") from None
    finally:
        engine.dispose()


def _family_timezone(connection: Any) -> str:
    """The family's timezone: family_settings.timezone, else system_settings.timezone, else UTC."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = connection.scalar(text("SELECT value #>> '{}' FROM family_settings WHERE key = 'timezone'")) \
        or connection.scalar(text("SELECT setting_value FROM system_settings WHERE setting_key = 'timezone'"))
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return str(value)
