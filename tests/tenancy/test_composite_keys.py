"""The schema refuses cross-family links: every family reference is a composite (x_id, family_id) foreign key."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
from flask import Flask
from sqlalchemy import Connection, ForeignKeyConstraint, UniqueConstraint, Uuid, bindparam, text
from sqlalchemy.exc import IntegrityError

import app.models  # noqa: F401  (every family table is on the metadata)
from app.assignments.models import Assignment
from app.chores.models import Chore, ChoreAssignee
from app.db.bases import FamilyBase
from app.db.engines import build_engine
from app.db.scoping import UnscopedReason, unscoped
from app.members.models import Member
from app.rewards.models import Reward
from app.tenancy.context import family_context
from tests.conftest import family_factory

# Uuid columns of family tables that deliberately have no foreign key, and why.
UNKEYED = {
    ("members", "user_id"): "the platform account lives in the platform database",
    ("points_ledger", "reference_id"): "polymorphic: a redemption, a payout or a badge, by the row's kind",
}

# Raw statements a family-A connection may try; `target` names the parameter that gets family B's row instead.
CASES: dict[str, tuple[str, str]] = {
    "notification for B's member": (
        "INSERT INTO notifications (id, family_id, member_id, event, title, data, created_at) "
        "VALUES (:id, :fam, :kid, 'badge_earned', 'hi', '{}', CURRENT_TIMESTAMP)", "kid"),
    "assignment of B's chore": (
        "INSERT INTO assignments (id, family_id, chore_id, assigned_to, due_date, due_at, status, points_offered, "
        "points_earned, created_at, updated_at) VALUES (:id, :fam, :chore, :kid, CURRENT_DATE, CURRENT_TIMESTAMP, "
        "'pending', 5, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", "chore"),
    "assignment given to B's member": (
        "INSERT INTO assignments (id, family_id, chore_id, assigned_to, due_date, due_at, status, points_offered, "
        "points_earned, created_at, updated_at) VALUES (:id, :fam, :chore, :kid, CURRENT_DATE, CURRENT_TIMESTAMP, "
        "'pending', 5, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", "kid"),
    "redemption of B's reward": (
        "INSERT INTO redemptions (id, family_id, reward_id, member_id, points_spent, status, requested_at, "
        "created_at, updated_at) VALUES (:id, :fam, :reward, :kid, 5, 'pending', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", "reward"),
    "chore assignee from B": (
        "INSERT INTO chore_assignees (id, family_id, chore_id, member_id, position) "
        "VALUES (:id, :fam, :chore, :kid, 0)", "kid"),
    "ledger row for B's assignment": (
        "INSERT INTO points_ledger (id, family_id, member_id, amount, kind, description, assignment_id, created_at) "
        "VALUES (:id, :fam, :kid, 5, 'chore', 'done', :assignment, CURRENT_TIMESTAMP)", "assignment"),
    "ledger row caused by B's parent": (
        "INSERT INTO points_ledger (id, family_id, member_id, amount, kind, description, actor_id, created_at) "
        "VALUES (:id, :fam, :kid, 5, 'bonus', 'nice', :parent, CURRENT_TIMESTAMP)", "parent"),
    "session of B's member": (
        "INSERT INTO member_sessions (id, family_id, member_id, token_hash, remember, created_at, last_seen_at, "
        "expires_at) VALUES (:id, :fam, :kid, :id, FALSE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP)", "kid"),
    "assignment moved to B's member": (
        "UPDATE assignments SET assigned_to = :kid WHERE id = :assignment AND family_id = :fam AND :id IS NOT NULL",
        "kid"),
    "assignment verified by B's parent": (
        "UPDATE assignments SET verified_by = :parent WHERE id = :assignment AND family_id = :fam "
        "AND :id IS NOT NULL", "parent"),
}
UUID_PARAMS = ("id", "fam", "kid", "parent", "chore", "reward", "assignment")


def _family_rows(flask_app: Flask, slug: str) -> dict[str, uuid.UUID]:
    """A parent, a kid, a chore, a reward and an assignment in one family, through the app's own session."""
    with flask_app.app_context(), family_context(slug) as ctx:
        parent = Member(username="parent", display_name="Parent", role="parent")
        kid = Member(username="kid", display_name="Kid", role="child")
        chore = Chore(name="Dishes")
        reward = Reward(name="Ice cream", cost=5)
        ctx.session.add_all([parent, kid, chore, reward])
        ctx.session.flush()
        assignment = Assignment(chore_id=chore.id, assigned_to=kid.id, assigned_by=parent.id,
                                due_date=date(2026, 11, 27), due_at=datetime(2026, 11, 27, 18, tzinfo=timezone.utc))
        ctx.session.add(assignment)
        ctx.session.commit()
        return {"fam": ctx.family.id, "kid": kid.id, "parent": parent.id, "chore": chore.id, "reward": reward.id,
                "assignment": assignment.id}


@contextmanager
def _raw_connection(flask_app: Flask, family_id: uuid.UUID) -> Iterator[Connection]:
    """A bare connection to the family database with the URL migrations use: no ORM, no scoping, only the schema."""
    engine = build_engine(flask_app.config["FAMILY_DATABASE_URL"], pool_size=1, max_overflow=0)  # SQLite: FKs on
    try:
        with engine.connect() as conn:
            conn.execution_options(**unscoped(UnscopedReason.WALL_TEST))  # the gate would refuse these first
            if conn.dialect.name == "postgresql":  # row-level security must let family A's own rows through
                conn.execute(text("SELECT set_config('app.family_id', :f, false)"), {"f": str(family_id)})
                conn.commit()
            yield conn
    finally:
        engine.dispose()


def _is_foreign_key_violation(error: IntegrityError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    return sqlstate == "23503" or "FOREIGN KEY constraint failed" in str(error.orig)


def _outcome(conn: Connection, sql: str, params: dict[str, uuid.UUID]) -> str:
    statement = text(sql).bindparams(*(bindparam(name, type_=Uuid) for name in UUID_PARAMS if f":{name}" in sql))
    try:
        with conn.begin() as transaction:
            changed = conn.execute(statement, params).rowcount
            transaction.rollback()
    except IntegrityError as error:
        return "refused" if _is_foreign_key_violation(error) else f"refused otherwise: {error.orig}"
    return "accepted" if changed == 1 else f"changed {changed} rows"


def test_database_refuses_rows_pointing_at_another_family(any_app: Flask) -> None:
    make = family_factory(any_app)
    a, b = make(name="Family A"), make(name="Family B")
    ours, theirs = _family_rows(any_app, a.slug), _family_rows(any_app, b.slug)
    outcomes = {}
    with _raw_connection(any_app, ours["fam"]) as conn:
        for name, (sql, target) in CASES.items():
            own = {**ours, "id": uuid.uuid4()}
            crossed = {**own, "id": uuid.uuid4(), target: theirs[target]}
            outcomes[name] = (_outcome(conn, sql, own), _outcome(conn, sql, crossed))
    # The same statement with family A's own row goes through, so the refusal is the composite key, nothing else.
    assert outcomes == {name: ("accepted", "refused") for name in CASES}


def test_app_session_cannot_link_to_another_family(any_app: Flask) -> None:
    """The ORM stamps family_id on the row but never checked the ids it points at; the database now does."""
    make = family_factory(any_app)
    a, b = make(name="Family A"), make(name="Family B")
    ours, theirs = _family_rows(any_app, a.slug), _family_rows(any_app, b.slug)
    with any_app.app_context(), family_context(a.slug) as ctx:
        ctx.session.add(ChoreAssignee(chore_id=ours["chore"], member_id=theirs["kid"]))
        with pytest.raises(IntegrityError):
            ctx.session.flush()
        ctx.session.rollback()
        assignment = ctx.session.get(Assignment, ours["assignment"])
        assignment.assigned_to = theirs["kid"]
        with pytest.raises(IntegrityError):
            ctx.session.flush()
        ctx.session.rollback()
        assert ctx.session.get(Assignment, ours["assignment"]).assigned_to == ours["kid"]


def _family_keys() -> list[ForeignKeyConstraint]:
    return [c for t in FamilyBase.metadata.tables.values() for c in t.constraints
            if isinstance(c, ForeignKeyConstraint)]


def test_every_family_reference_carries_family_id() -> None:
    keys = _family_keys()
    assert keys
    for key in keys:
        pairs = [(e.parent.name, e.column.name) for e in key.elements]
        assert len(pairs) == 2 and ("family_id", "family_id") in pairs, f"{key.table.name}: {pairs}"
        referred = key.referred_table
        assert any(isinstance(c, UniqueConstraint) and {col.name for col in c.columns} == {"family_id", "id"}
                   for c in referred.constraints), f"{referred.name} lacks UNIQUE (family_id, id)"


def test_every_uuid_column_is_a_family_reference_or_explained() -> None:
    keyed = {(key.table.name, e.parent.name) for key in _family_keys() for e in key.elements}
    loose = {(table.name, column.name) for table in FamilyBase.metadata.tables.values() for column in table.columns
             if isinstance(column.type, Uuid) and column.name not in ("id", "family_id")} - keyed
    assert loose == set(UNKEYED)
