"""Statuses, kinds, roles and plans are StrEnums, and the database refuses any other string (CHECK constraints)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
from flask import Flask
from sqlalchemy import Connection, Enum, Uuid, bindparam, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError

import app.models  # noqa: F401  (every table is on its metadata)
from app.assignments.models import Assignment, AssignmentStatus
from app.chores.models import Chore
from app.db import engines, platform_engine
from app.db.bases import FamilyBase, PlatformBase
from app.db.engines import build_engine
from app.db.scoping import UnscopedReason, unscoped
from app.members.models import Member, MemberRole
from app.tenancy.context import family_context
from tests.conftest import family_factory

# Every column stored as an enum; a new one must be added here and get its CHECK in a migration.
ENUM_COLUMNS = {
    "families": {"plan", "status", "placement"}, "family_memberships": {"role"}, "subscriptions": {"plan", "status"},
    "invitations": {"role"}, "members": {"role"}, "login_failures": {"kind"},
    "chores": {"difficulty", "assignment_type"}, "chore_schedules": {"kind", "interval_unit"},
    "assignments": {"status"}, "points_ledger": {"kind"}, "point_presets": {"kind"}, "payouts": {"kind"},
    "allowance_schedules": {"mode"}, "presence_patterns": {"kind"}, "rewards": {"availability", "legacy_availability"},
    "redemptions": {"status"}, "notification_preferences": {"channel"}, "deliveries": {"channel", "status"},
}

# Raw statements a family connection may try, each with a known value and one the enum lacks.
CASES: dict[str, tuple[str, str, str]] = {
    "assignment status": (
        "INSERT INTO assignments (id, family_id, chore_id, assigned_to, due_date, due_at, status, points_offered, "
        "points_earned, created_at, updated_at) VALUES (:id, :fam, :chore, :kid, CURRENT_DATE, CURRENT_TIMESTAMP, "
        ":value, 5, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", "pending", "done"),
    "assignment status changed": (
        "UPDATE assignments SET status = :value WHERE id = :assignment AND family_id = :fam AND :id IS NOT NULL",
        "verified", "Verified"),
    "ledger kind": (
        "INSERT INTO points_ledger (id, family_id, member_id, amount, kind, description, created_at) "
        "VALUES (:id, :fam, :kid, 5, :value, 'nice', CURRENT_TIMESTAMP)", "bonus", "gift"),
    "member role": (
        "UPDATE members SET role = :value WHERE id = :kid AND family_id = :fam AND :id IS NOT NULL", "parent", "admin"),
    "chore strategy": (
        "UPDATE chores SET assignment_type = :value WHERE id = :chore AND family_id = :fam AND :id IS NOT NULL",
        "round_robin", "round-robin"),
}
UUID_PARAMS = ("id", "fam", "kid", "chore", "assignment")


def _enum_columns(metadata) -> dict[str, set[str]]:  # noqa: ANN001
    return {table.name: {c.name for c in table.columns if isinstance(c.type, Enum)}
            for table in metadata.tables.values() if any(isinstance(c.type, Enum) for c in table.columns)}


def test_the_enum_columns_are_the_listed_ones() -> None:
    assert {**_enum_columns(PlatformBase.metadata), **_enum_columns(FamilyBase.metadata)} == ENUM_COLUMNS


def test_each_enum_column_stores_its_values_as_the_strings_of_today() -> None:
    for metadata in (PlatformBase.metadata, FamilyBase.metadata):
        for table in metadata.tables.values():
            for column in table.columns:
                if isinstance(column.type, Enum):
                    enum = column.type.enum_class
                    assert enum is not None and column.type.enums == [member.value for member in enum]


def _checks(url: str) -> dict[tuple[str, str], str]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {(table, check["name"]): check["sqltext"] for table in inspector.get_table_names()
                for check in inspector.get_check_constraints(table)}
    finally:
        engine.dispose()


def test_the_migrated_databases_check_every_enum_column(any_app: Flask) -> None:
    """Autogenerate does not compare CHECK constraints, so the drift test cannot see a missing one: look here."""
    with any_app.app_context():
        urls = {PlatformBase: platform_engine().url.render_as_string(hide_password=False),
                FamilyBase: engines().get(any_app.config["FAMILY_DATABASE_URL"]).url.render_as_string(False)}
    for base, url in urls.items():
        checks = _checks(url)
        for table in base.metadata.tables.values():
            for column in table.columns:
                if isinstance(column.type, Enum):
                    sqltext = checks.get((table.name, f"ck_{table.name}_{column.name}"))
                    assert sqltext is not None, f"{table.name}.{column.name} has no CHECK"
                    assert all(f"'{value}'" in sqltext for value in column.type.enums), sqltext


def _family_rows(flask_app: Flask, slug: str) -> dict[str, uuid.UUID]:
    with flask_app.app_context(), family_context(slug) as ctx:
        kid = Member(username="kid", display_name="Kid", role=MemberRole.CHILD)
        chore = Chore(name="Dishes")
        ctx.session.add_all([kid, chore])
        ctx.session.flush()
        assignment = Assignment(chore_id=chore.id, assigned_to=kid.id, due_date=date(2026, 11, 27),
                                due_at=datetime(2026, 11, 27, 18, tzinfo=timezone.utc))
        ctx.session.add(assignment)
        ctx.session.commit()
        return {"fam": ctx.family.id, "kid": kid.id, "chore": chore.id, "assignment": assignment.id}


@contextmanager
def _raw_connection(flask_app: Flask, family_id: uuid.UUID) -> Iterator[Connection]:
    """A bare connection to the family database, through the gate's hatch: only the schema stands in the way."""
    engine = build_engine(flask_app.config["FAMILY_DATABASE_URL"], pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(**unscoped(UnscopedReason.WALL_TEST))
            if conn.dialect.name == "postgresql":  # row-level security must let the family's own rows through
                conn.execute(text("SELECT set_config('app.family_id', :f, false)"), {"f": str(family_id)})
                conn.commit()
            yield conn
    finally:
        engine.dispose()


def _outcome(conn: Connection, sql: str, params: dict[str, object]) -> str:
    statement = text(sql).bindparams(*(bindparam(name, type_=Uuid) for name in UUID_PARAMS if f":{name}" in sql))
    try:
        with conn.begin() as transaction:
            changed = conn.execute(statement, params).rowcount
            transaction.rollback()
    except IntegrityError as error:
        checked = getattr(error.orig, "sqlstate", None) == "23514" or "CHECK constraint failed" in str(error.orig)
        return "refused" if checked else f"refused otherwise: {error.orig}"
    return "accepted" if changed == 1 else f"changed {changed} rows"


def test_database_refuses_a_string_outside_the_enum(any_app: Flask) -> None:
    family = family_factory(any_app)()
    rows = _family_rows(any_app, family.slug)
    outcomes = {}
    with _raw_connection(any_app, rows["fam"]) as conn:
        for name, (sql, known, unknown) in CASES.items():
            outcomes[name] = (_outcome(conn, sql, {**rows, "id": uuid.uuid4(), "value": known}),
                              _outcome(conn, sql, {**rows, "id": uuid.uuid4(), "value": unknown}))
    # The same statement with a known value goes through, so the refusal is the CHECK, nothing else.
    assert outcomes == {name: ("accepted", "refused") for name in CASES}


def test_platform_database_refuses_an_unknown_plan(any_app: Flask) -> None:
    family = family_factory(any_app)()
    with any_app.app_context(), platform_engine().connect() as conn:
        sql = text("UPDATE families SET plan = :plan WHERE id = :id").bindparams(bindparam("id", type_=Uuid))
        with conn.begin() as transaction:
            assert conn.execute(sql, {"plan": "premium", "id": family.id}).rowcount == 1
            transaction.rollback()
        with pytest.raises(IntegrityError), conn.begin():
            conn.execute(sql, {"plan": "gold", "id": family.id})


def test_orm_refuses_an_unknown_status_before_sending_it(any_app: Flask) -> None:
    family = family_factory(any_app)()
    rows = _family_rows(any_app, family.slug)
    with any_app.app_context(), family_context(family.slug) as ctx:
        assignment = ctx.session.get(Assignment, rows["assignment"])
        assert assignment is not None and assignment.status is AssignmentStatus.PENDING
        assignment.status = "done"  # type: ignore[assignment]  # what a caller with a bare string could do
        with pytest.raises(StatementError, match="not among the defined enum values"):
            ctx.session.flush()
        ctx.session.rollback()
        assignment.status = "verified"  # type: ignore[assignment]  # a known value as a plain string is fine
        ctx.session.commit()
        ctx.session.expire_all()
        assert ctx.session.get(Assignment, rows["assignment"]).status is AssignmentStatus.VERIFIED
