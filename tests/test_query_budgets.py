"""Query budgets of the hot routes: the statements each sends to the family database stay at what they cost today.

Relationships are lazy="raise", so a route that forgets to name what it loads fails outright; these budgets catch
the quieter regressions (an extra query per request, or per row as the family grows).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from app.assignments.models import Assignment, AssignmentStatus
from app.auth import DEVICE_COOKIE
from app.auth.services import register_device
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule, ScheduleKind
from app.db import engines
from app.db.bases import FamilyBase, PlatformBase, utcnow
from app.family_time import FamilyClock
from app.members.models import Member, MemberRole
from app.points.models import LedgerKind, PointPreset, PresetKind
from app.points.services import post_entry
from app.rewards.models import Redemption, RedemptionStatus, Reward
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from tests.chores.page_helpers import HTMX, Poster
from tests.conftest import Auth, FamilyClient

KIDS = ("Leo", "Maya", "Zoe")
# Today's assignments of each kid: two to do, one waiting for a parent, one done.
DAY = (AssignmentStatus.PENDING, AssignmentStatus.PENDING, AssignmentStatus.PENDING_VERIFICATION,
       AssignmentStatus.VERIFIED)

# Statements sent to the family database by one request, measured with three kids, four chores each and two open
# ones (run after a first visit, so the day is materialised and the family's rules are cached). The comments give
# the count before relationships were lazy="raise" (then every chore query also loaded schedules and rotations).
BUDGETS = {
    "kid view": 6,  # was 9, then 7 (a read no longer commits mid-request)
    "kid chores fragment": 6,  # was 8
    "tap-done": 11,
    "family wall": 13,  # was 16, then 14
    "family wall board": 14,  # was 16
    "parent Today": 8,  # was 10
    "dashboard approve": 23,  # was 27
    "/api/chores": 5,
    "/api/assignments": 5,  # was 7
    "/api/users": 4,
    "/api/rewards": 5,
    "/api/redemptions": 4,
    "/api/point-presets": 3,
    "/api/users/<kid>/points": 6,
    "/api/users/<kid>/transactions": 4,
    "/api/leaderboard/weekly": 9,
    "/api/notifications": 4,
    "/api/assignments/my-assignments": 5,  # was 7
}


@dataclass
class Household:
    """A parent, three kids, each kid's day of chores, open chores, rewards, requests, presets and points."""

    family: FamilyRecord
    parent: Member
    kids: list[Member]
    todo: dict[uuid.UUID, list[uuid.UUID]]  # kid -> their pending assignments
    waiting: dict[uuid.UUID, uuid.UUID]  # kid -> their assignment waiting for a parent


@pytest.fixture
def household(family: FamilyRecord, create_member: Callable[..., Member],
              in_family: Callable[..., AbstractContextManager[FamilyContext]]) -> Household:
    parent = create_member(role=MemberRole.PARENT, username="pat", display_name="Pat")
    kids = [create_member(username=name.lower(), display_name=name, birthdate=date(2015, 5, 1)) for name in KIDS]
    clock, now = FamilyClock("UTC"), utcnow()
    today = clock.today(now)
    todo: dict[uuid.UUID, list[uuid.UUID]] = {}
    waiting: dict[uuid.UUID, uuid.UUID] = {}
    with in_family(family) as ctx:
        session = ctx.session

        def chore(name: str, kid: Member | None) -> Chore:
            # A schedule that first fires in two months: loaded with the chore, never materialised today.
            made = Chore(name=name, base_points=10, schedule=ChoreSchedule(kind=ScheduleKind.ONCE,
                                                                           start_date=today + timedelta(days=60)),
                         assignees=[ChoreAssignee(member_id=kid.id)] if kid else [])
            session.add(made)
            session.flush()
            return made

        for kid in kids:
            for i, status in enumerate(DAY):
                made = chore(f"Chore {i} of {kid.display_name}", kid)
                assignment = Assignment(chore_id=made.id, assigned_to=kid.id, assigned_by=parent.id, due_date=today,
                                        due_at=clock.at(today, None), status=status, points_offered=10)
                session.add(assignment)
                session.flush()
                if status is AssignmentStatus.PENDING:
                    todo.setdefault(kid.id, []).append(assignment.id)
                elif status is AssignmentStatus.PENDING_VERIFICATION:
                    waiting[kid.id] = assignment.id
            post_entry(session, kid.id, amount=30, kind=LedgerKind.BONUS, description="Helped", clock=clock, now=now)
            post_entry(session, kid.id, amount=-5, kind=LedgerKind.DEDUCTION, description="Shouted", clock=clock,
                       now=now)
        for name in ("Wash the car", "Mow the lawn"):
            made = chore(name, None)
            session.add(Assignment(chore_id=made.id, due_date=today, due_at=clock.at(today, None),
                                   status=AssignmentStatus.OPEN, points_offered=20))
        rewards = [Reward(name=f"Treat {i}", cost=5 * (i + 1)) for i in range(3)]
        session.add_all(rewards)
        session.flush()
        for kid, reward in zip(kids, rewards, strict=True):
            session.add(Redemption(reward_id=reward.id, member_id=kid.id, points_spent=reward.cost,
                                   status=RedemptionStatus.PENDING))
        session.add_all([PointPreset(kind=PresetKind.BONUS, label="Extra helpful", amount=5),
                         PointPreset(kind=PresetKind.DEDUCTION, label="Not listening", amount=5, position=1)])
        session.commit()
    return Household(family=family, parent=parent, kids=kids, todo=todo, waiting=waiting)


@contextmanager
def family_statements(app: Flask) -> Iterator[list[str]]:
    """Every statement sent to the family database inside the block (before_cursor_execute on its engine)."""
    with app.app_context():
        engine = engines().get(app.config["FAMILY_DATABASE_URL"])
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)


def within_budget(app: Flask, name: str, request: Callable[[], Any], *, ok: int = 200) -> int:
    """Run one request, check its answer and that it sent at most its budget of statements; the count."""
    with family_statements(app) as sent:
        response = request()
    assert response.status_code == ok, (name, response.status_code, response.get_data(as_text=True)[:300])
    listing = "\n".join(f"  {i + 1}. {' '.join(s.split())[:160]}" for i, s in enumerate(sent))
    assert len(sent) <= BUDGETS[name], f"{name}: {len(sent)} statements, budget {BUDGETS[name]}:\n{listing}"
    return len(sent)


@pytest.fixture
def signed_in(auth: Auth, client_for: Callable[..., FamilyClient], household: Household
              ) -> Callable[[Member], FamilyClient]:
    def make(member: Member) -> FamilyClient:
        client = client_for(household.family)
        auth.sign_in(client, member, household.family)
        return client
    return make


def test_every_relationship_refuses_to_load_itself() -> None:
    """lazy="raise" everywhere: a query that forgets to name what it loads fails in tests, never N+1 in production."""
    for base in (PlatformBase, FamilyBase):
        for mapper in base.registry.mappers:
            for relationship in mapper.relationships:
                assert relationship.lazy == "raise", f"{mapper.class_.__name__}.{relationship.key}: {relationship.lazy}"


def test_kid_view_and_tap_done(app: Flask, household: Household, signed_in: Callable[[Member], FamilyClient]
                               ) -> None:
    maya = household.kids[1]
    kid = signed_in(maya)
    assert kid.get("/me").status_code == 200  # the first read of the day
    within_budget(app, "kid view", lambda: kid.get("/me"))
    within_budget(app, "kid chores fragment", lambda: kid.get("/me/chores", headers=HTMX))
    assignment_id = household.todo[maya.id][0]
    within_budget(app, "tap-done", lambda: Poster(app)(kid, f"/me/assignments/{assignment_id}/complete", htmx=True))


def test_family_wall(app: Flask, household: Household, client_for: Callable[..., FamilyClient],
                     in_family: Callable[..., AbstractContextManager[FamilyContext]]) -> None:
    with in_family(household.family) as ctx:
        _device, token = register_device(ctx.session, ctx.session.get(Member, household.parent.id), name="Kitchen",
                                         now=utcnow())
        ctx.session.commit()
    tablet = client_for(household.family)
    tablet.set_cookie(DEVICE_COOKIE, token, domain=tablet.host.split(":")[0])
    assert tablet.get("/wall").status_code == 200
    within_budget(app, "family wall", lambda: tablet.get("/wall"))
    within_budget(app, "family wall board", lambda: tablet.get("/wall/board", headers=HTMX))


def test_parent_today_and_approve(app: Flask, household: Household, signed_in: Callable[[Member], FamilyClient]
                                  ) -> None:
    parent = signed_in(household.parent)
    assert parent.get("/today").status_code == 200  # materialises the day, creates the presets
    within_budget(app, "parent Today", lambda: parent.get("/today"))
    waiting = household.waiting[household.kids[0].id]
    within_budget(app, "dashboard approve",
                  lambda: Poster(app)(parent, f"/today/assignments/{waiting}/approve", htmx=True))


@pytest.mark.parametrize("path", ["/api/chores", "/api/assignments", "/api/users", "/api/rewards", "/api/redemptions",
                                  "/api/point-presets", "/api/users/<kid>/points", "/api/users/<kid>/transactions",
                                  "/api/leaderboard/weekly", "/api/notifications"])
def test_api_lists_as_a_parent(app: Flask, household: Household, client_for: Callable[..., FamilyClient],
                               auth: Auth, path: str) -> None:
    api = client_for(household.family)
    headers = auth.bearer(household.parent, household.family)
    url = path.replace("<kid>", str(household.kids[1].id))
    assert api.get(url, headers=headers).status_code == 200  # the first read of the day
    within_budget(app, path, lambda: api.get(url, headers=headers))


def test_api_my_assignments_as_a_kid(app: Flask, household: Household, client_for: Callable[..., FamilyClient],
                                     auth: Auth) -> None:
    api = client_for(household.family)
    headers = auth.bearer(household.kids[1], household.family)
    assert api.get("/api/assignments/my-assignments", headers=headers).status_code == 200
    within_budget(app, "/api/assignments/my-assignments",
                  lambda: api.get("/api/assignments/my-assignments", headers=headers))
