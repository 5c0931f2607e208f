"""The first wall: every statement shape is scoped to the current family, and what cannot be scoped never runs.

Two families share one pooled database (PostgreSQL and SQLite). Each shape runs in family A and must give what A
alone would give, leaving B untouched; shapes the ORM cannot scope must be refused by the gate before they run.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import Uuid, bindparam, delete, exists, func, insert, literal, select, text, union_all, update
from sqlalchemy.orm import aliased

from app.chores.models import Chore, ChoreAssignee
from app.db.scoping import FamilyScopeError, UnscopedReason, plan_statement, unscoped
from app.members.models import Member
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from tests.conftest import family_factory


@dataclass
class Pair:
    """Family A (where statements run) and its neighbour B, each with parents, kids and chores."""

    app: Flask
    a: FamilyRecord
    b: FamilyRecord
    kids: dict[str, list[uuid.UUID]]
    chores: dict[str, list[uuid.UUID]]


def _fill(flask_app: Flask, record: FamilyRecord, *, parents: int, kids: int, chores: int) -> tuple[list, list]:
    with flask_app.app_context(), family_context(record.slug) as ctx:
        people = [Member(username=f"p{i}", display_name=f"Parent {i} of {record.slug}", role="parent")
                  for i in range(parents)]
        children = [Member(username=f"k{i}", display_name=f"Kid {i} of {record.slug}", role="child")
                    for i in range(kids)]
        tasks = [Chore(name=f"Chore {i} of {record.slug}", base_points=10 + i) for i in range(chores)]
        ctx.session.add_all(people + children + tasks)
        ctx.session.flush()
        for chore in tasks:
            ctx.session.add(ChoreAssignee(chore_id=chore.id, member_id=children[0].id))
        ctx.session.commit()
        return [kid.id for kid in children], [chore.id for chore in tasks]


@pytest.fixture
def pair(any_app: Flask) -> Pair:
    make = family_factory(any_app)
    a, b = make(name="Scoped A"), make(name="Neighbour B")
    kids_a, chores_a = _fill(any_app, a, parents=1, kids=2, chores=2)
    kids_b, chores_b = _fill(any_app, b, parents=3, kids=4, chores=5)
    return Pair(any_app, a, b, {"a": kids_a, "b": kids_b}, {"a": chores_a, "b": chores_b})


def _in_a(pair: Pair, run: Callable) -> object:  # noqa: ANN001
    with pair.app.app_context(), family_context(pair.a.slug) as ctx:
        result = run(ctx.session)
        ctx.session.commit()
        return result


def _count_in(pair: Pair, record: FamilyRecord, model: type) -> int:
    with pair.app.app_context(), family_context(record.slug) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(model))


KIDS_SUBQUERY = select(Member.id).where(Member.role == "child")

READ_SHAPES: dict[str, tuple[Callable, object]] = {
    "count with select_from": (lambda s: s.scalar(select(func.count()).select_from(Member)
                                                  .where(Member.role == "parent")), 1),
    "aggregate column": (lambda s: s.scalar(select(func.sum(Chore.base_points))), 10 + 11),
    "join": (lambda s: s.scalar(select(func.count()).select_from(ChoreAssignee)
                                .join(Chore, Chore.id == ChoreAssignee.chore_id)), 2),
    "outer join": (lambda s: len(s.execute(select(Member.id, ChoreAssignee.id)
                                           .outerjoin(ChoreAssignee, ChoreAssignee.member_id == Member.id)).all()),
                   1 + 2 + 1),
    "IN subquery": (lambda s: s.scalar(select(func.count()).select_from(Member)
                                       .where(Member.id.in_(KIDS_SUBQUERY))), 2),
    "EXISTS": (lambda s: s.scalar(select(func.count()).select_from(Member)
                                  .where(exists().where(ChoreAssignee.member_id == Member.id))), 1),
    "scalar subquery": (lambda s: s.scalar(select(select(func.count()).select_from(Chore).scalar_subquery())), 2),
    "CTE": (lambda s: s.scalar(select(func.count()).select_from(KIDS_SUBQUERY.cte("kids"))), 2),
    "subquery in FROM": (lambda s: s.scalar(select(func.count()).select_from(KIDS_SUBQUERY.subquery())), 2),
    "union": (lambda s: len(s.execute(union_all(select(Member.id), select(Chore.id))).all()), 3 + 2),
    "aliased entity": (lambda s: s.scalar(select(func.count()).select_from(aliased(Member))), 3),
    "group by": (lambda s: dict(s.execute(select(Member.role, func.count()).group_by(Member.role)).all()),
                 {"parent": 1, "child": 2}),
}


def test_read_shapes_see_only_the_current_family(pair: Pair) -> None:
    got = {shape: _in_a(pair, run) for shape, (run, _) in READ_SHAPES.items()}
    assert got == {shape: expected for shape, (_, expected) in READ_SHAPES.items()}


def test_orm_update_and_delete_stay_in_the_family(pair: Pair) -> None:
    _in_a(pair, lambda s: s.execute(update(Member).values(display_name="renamed")))
    _in_a(pair, lambda s: s.execute(delete(ChoreAssignee)))
    with pair.app.app_context(), family_context(pair.b.slug) as ctx:
        names = set(ctx.session.scalars(select(Member.display_name)))
        assert "renamed" not in names and len(names) == 7
    assert _count_in(pair, pair.b, ChoreAssignee) == 5
    assert _count_in(pair, pair.a, ChoreAssignee) == 0


def test_core_update_and_delete_on_tables_are_pinned(pair: Pair) -> None:
    members, assignees = Member.__table__, ChoreAssignee.__table__
    _in_a(pair, lambda s: s.execute(update(members).values(display_name="core-renamed")))
    _in_a(pair, lambda s: s.execute(delete(assignees)))
    with pair.app.app_context(), family_context(pair.b.slug) as ctx:
        assert "core-renamed" not in set(ctx.session.scalars(select(Member.display_name)))
    assert _count_in(pair, pair.b, ChoreAssignee) == 5


def test_insert_from_select_reads_only_the_family(pair: Pair) -> None:
    """Give every chore to the second kid too: only A's two chores are read, and the copies are A's."""
    second_kid = pair.kids["a"][1]
    # The chore ids double as the new rows' ids: unique, and A's ids only if the SELECT is pinned to A.
    statement = insert(ChoreAssignee).from_select(
        ["id", "family_id", "chore_id", "member_id", "position"],
        select(Chore.id, Chore.family_id, Chore.id, literal(second_kid), literal(1)),
    )
    _in_a(pair, lambda s: s.execute(statement))
    assert _count_in(pair, pair.a, ChoreAssignee) == 4
    assert _count_in(pair, pair.b, ChoreAssignee) == 5


def test_bulk_insert_stamps_and_checks_the_family(pair: Pair) -> None:
    rows = [{"id": uuid.uuid4(), "family_id": pair.a.id, "username": f"bulk{i}", "username_key": f"bulk{i}",
             "display_name": f"Bulk {i}", "role": "child"} for i in range(3)]
    _in_a(pair, lambda s: s.execute(insert(Member), rows))
    assert _count_in(pair, pair.a, Member) == 6
    assert _count_in(pair, pair.b, Member) == 7


# --- what cannot be scoped is refused before it runs ----------------------------------------------------------

REFUSED: dict[str, Callable] = {
    "Core select on a Table": lambda s, b: s.execute(select(Member.__table__.c.id)).all(),
    "raw text without a pin": lambda s, b: s.execute(text("SELECT count(*) FROM members")).all(),
    "raw text pinned to the neighbour": lambda s, b: s.execute(
        text("SELECT count(*) FROM members WHERE members.family_id = :f"), {"f": b.id}).all(),
    "a pin undone by OR": lambda s, b: s.execute(
        text("SELECT count(*) FROM members WHERE family_id = :f OR 1 = 1"), {"f": b.id}).all(),
    "bulk insert into the neighbour": lambda s, b: s.execute(insert(Member), [
        {"id": uuid.uuid4(), "family_id": b.id, "username": "mole", "username_key": "mole",
         "display_name": "Mole", "role": "child"}]),
    "update moving a row to the neighbour": lambda s, b: s.execute(
        text("UPDATE members SET family_id = :b WHERE members.family_id = :a"),
        {"a": s.info["family_id"], "b": b.id}),
}


@pytest.mark.expect_scope_refusals
def test_statements_that_cannot_be_scoped_are_refused(pair: Pair) -> None:
    ran: list[str] = []
    for shape, run in REFUSED.items():
        with pair.app.app_context(), family_context(pair.a.slug) as ctx:
            try:
                run(ctx.session, pair.b)
                ran.append(shape)
            except FamilyScopeError:
                pass
            ctx.session.rollback()
    assert ran == []
    assert _count_in(pair, pair.b, Member) == 7


def test_raw_text_pinned_to_the_current_family_runs(pair: Pair) -> None:
    statement = text("SELECT count(*) FROM members WHERE members.family_id = :f").bindparams(
        bindparam("f", type_=Uuid))
    count = _in_a(pair, lambda s: s.scalar(statement, {"f": pair.a.id}))
    assert count == 3


def test_the_escape_hatch_is_named_and_counted(pair: Pair) -> None:
    from app.db import scoping

    before = scoping.stats.exempt
    count = _in_a(pair, lambda s: s.scalar(text("SELECT count(*) FROM members"),
                                           execution_options=unscoped(UnscopedReason.WALL_TEST)))
    assert scoping.stats.exempt == before + 1
    if pair.app.config["FAMILY_DATABASE_URL"].startswith("postgresql"):
        assert count == 3  # row-level security narrows it to A's three
    else:
        assert count >= 3 + 7  # SQLite has no wall behind this one: every family in the file
    with pytest.raises(ValueError):
        unscoped("because I said so")  # type: ignore[arg-type]


# --- the planner on SQL strings (no database) ------------------------------------------------------------------

@pytest.mark.parametrize(("sql", "pins"), [
    ("SELECT m.id FROM members AS m WHERE m.family_id = ?", 1),
    ("SELECT m.id FROM members m JOIN chores c ON c.family_id = m.family_id WHERE m.family_id = ?", 1),
    ("SELECT m.id FROM members m LEFT OUTER JOIN chores c ON c.id = m.id AND c.family_id = ? "
     "WHERE m.family_id = ?", 2),
    ("SELECT a.id FROM assignments a WHERE a.family_id = ? AND EXISTS "
     "(SELECT 1 FROM chores WHERE chores.family_id = a.family_id)", 1),
    ("SELECT assignments.id FROM assignments WHERE assignments.family_id = ? FOR UPDATE OF assignments", 1),
    ("UPDATE members SET display_name = ? WHERE members.id = ? AND members.family_id = ?", 1),
    ("DELETE FROM members WHERE family_id = ?", 1),
    ("INSERT INTO members (id, family_id) VALUES (?, ?), (?, ?)", 2),
    ("SELECT 1", 0),
])
def test_planner_accepts_pinned_statements(sql: str, pins: int) -> None:
    plan = plan_statement(sql, "sqlite")
    assert plan.violation is None
    assert len(plan.pins) == pins


@pytest.mark.parametrize("sql", [
    "SELECT count(*) FROM members WHERE members.role = ?",
    "SELECT m.id FROM members m WHERE m.family_id = ? OR 1 = 1",
    "SELECT m.id FROM members m LEFT OUTER JOIN chores c ON c.id = m.id AND m.family_id = ?",
    "SELECT m.id FROM members m RIGHT OUTER JOIN chores c ON c.family_id = ? AND m.family_id = ?",
    "SELECT m.id FROM members m WHERE m.family_id IN (?, ?)",
    "SELECT m.id FROM members m WHERE m.family_id = m.family_id",
    "INSERT INTO members (id, username) VALUES (?, ?)",
    "INSERT INTO members (id, family_id) SELECT id, ? FROM chores",
    "TRUNCATE members",
    "DELETE FROM points_ledger",
    "SELECT * FROM members UNION SELECT * FROM members WHERE family_id = ?",
])
def test_planner_refuses_unpinned_statements(sql: str) -> None:
    assert plan_statement(sql, "sqlite").violation is not None
