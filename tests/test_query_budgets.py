"""Query budgets of the hot routes: the statements each request sends stay at what they cost today.

What is counted: every statement any engine sends during the request (a `before_cursor_execute` listener on the
`Engine` class), i.e. the platform database (tenancy lookups, when the registry misses) and the family's database:
the transaction's `set_config`/move-lock statement, the session or token lookup, the view's reads and writes.
Redis commands are not statements and are not counted.

Each route is measured in its steady state: after a first visit (the day materialised, the family's rules cached
by settings version) and, for the family-versioned views, once as a miss (another write just moved the family's
version on, so the view renders from the database) and once as a hit (served from the cache: only the session or
token lookup reaches the database).

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
from sqlalchemy import Engine, event

from app.assignments.models import Assignment, AssignmentStatus
from app.auth import DEVICE_COOKIE
from app.auth.services import register_device
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule, ScheduleKind
from app.view_cache import bump_family_version
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
# Today's assignments of each kid: two to do, one waiting for a parent, one done, one to do that needs no check,
# one more to do.
DAY = (AssignmentStatus.PENDING, AssignmentStatus.PENDING, AssignmentStatus.PENDING_VERIFICATION,
       AssignmentStatus.VERIFIED, AssignmentStatus.PENDING, AssignmentStatus.PENDING)
AUTO_APPROVED = 4  # the kid's fifth chore needs no check: its tap credits the points at once

# Statements sent by one request (every engine), measured with three kids, four chores each and two open ones
# (run after a first visit, so the day is materialised and the family's rules are cached); for a cached view, its
# miss. The comments give earlier counts (first before relationships were lazy="raise", when every chore query
# also loaded schedules and rotations; the kid view's budget of 3 is the one issue 14 sets).
BUDGETS = {
    "kid view": 3,  # was 9, then 7, then 6 (rules by settings version, streak folded into the day's query)
    "kid chores fragment": 3,  # was 8, then 6
    "tap-done": 5,  # was 11, then 9 (rules by settings version; the lock is the ownership check), now the bell's
    # routing (parents, their channels, the family's defaults, webhooks) is kept by settings version: set_config,
    # the session, the locked row, its UPDATE, the bell's INSERT
    "tap-done auto-approved": 9,  # was 13: the kid's row locked once per transaction (the credit, then the badge
    # check), badges held and the record's counts in one query; the rest: set_config, session, locked row, its
    # UPDATE, the member's lock and UPDATE, the ledger INSERT, the streak
    "tap-done again": 3,  # a second tap on a card that already flipped (the bench's taps after the first 12)
    "family wall": 9,  # was 16, then 14, then 13 (the kids' streaks now share one query)
    "family wall board": 9,  # was 16, then 14
    "parent Today": 6,  # was 10, then 8
    "dashboard approve": 22,  # was 27, then 23
    "/api/chores": 5,
    "/api/assignments": 3,  # was 7, then 5
    "/api/users": 3,  # was 4
    "/api/rewards": 4,  # was 5
    "/api/redemptions": 4,
    "/api/point-presets": 3,
    "/api/users/<kid>/points": 5,  # was 6
    "/api/users/<kid>/transactions": 4,
    "/api/leaderboard/weekly": 6,  # was 9 (one streak query per kid, now one for all)
    "/api/notifications": 4,
    "/api/assignments/my-assignments": 3,  # was 7, then 5
}
# A family-versioned view served from the cache: the transaction's set_config and the session or token lookup.
HIT_BUDGET = 2
CACHED = {"kid view", "kid chores fragment", "family wall", "family wall board", "parent Today", "/api/chores",
          "/api/assignments", "/api/users/<kid>/points", "/api/leaderboard/weekly",
          "/api/assignments/my-assignments"}


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
                made.requires_verification = i != AUTO_APPROVED
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
def statements_sent() -> Iterator[list[str]]:
    """Every statement any engine (platform, pooled or dedicated family database) sends inside the block."""
    sent: list[str] = []

    def note(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(f"[{conn.engine.url.database}] {statement}")

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def _measure(name: str, request: Callable[[], Any], budget: int, ok: int, cache: str | None) -> int:
    with statements_sent() as sent:
        response = request()
    assert response.status_code == ok, (name, response.status_code, response.get_data(as_text=True)[:300])
    if cache is not None:
        assert response.headers.get("X-View-Cache") == cache, (name, cache, response.headers.get("X-View-Cache"))
    listing = "\n".join(f"  {i + 1}. {' '.join(s.split())[:160]}" for i, s in enumerate(sent))
    assert len(sent) <= budget, f"{name} ({cache or 'uncached'}): {len(sent)} statements, budget {budget}:\n{listing}"
    return len(sent)


def within_budget(app: Flask, name: str, request: Callable[[], Any], *, ok: int = 200,
                  family: FamilyRecord | None = None) -> int:
    """Run one request, check its answer and that it sent at most its budget of statements; the count.

    A family-versioned view (`CACHED`) runs twice: as a miss right after the family's version moved on (another
    member's write), then as a hit.
    """
    if name not in CACHED:
        return _measure(name, request, BUDGETS[name], ok, None)
    assert family is not None, name
    with app.test_request_context():
        bump_family_version(family.id, settings=False)  # another write in the family: every cached view is old
    missed = _measure(name, request, BUDGETS[name], ok, "miss")
    _measure(name, request, HIT_BUDGET, ok, "hit")
    return missed


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
    within_budget(app, "kid view", lambda: kid.get("/me"), family=household.family)
    within_budget(app, "kid chores fragment", lambda: kid.get("/me/chores", headers=HTMX), family=household.family)
    first, waiting, auto, after_points = household.todo[maya.id]

    def tap(assignment_id: uuid.UUID) -> Callable[[], Any]:
        return lambda: Poster(app)(kid, f"/me/assignments/{assignment_id}/complete", htmx=True)

    assert tap(first)().status_code == 200  # the family's first bell at this settings version reads the routing
    within_budget(app, "tap-done", tap(waiting))
    within_budget(app, "tap-done again", tap(waiting))
    within_budget(app, "tap-done auto-approved", tap(auto))
    # The credit changed the kid's member row (points, streak): not who the bell tells, so it is still cached.
    within_budget(app, "tap-done", tap(after_points))


def test_family_wall(app: Flask, household: Household, client_for: Callable[..., FamilyClient],
                     in_family: Callable[..., AbstractContextManager[FamilyContext]]) -> None:
    with in_family(household.family) as ctx:
        _device, token = register_device(ctx.session, ctx.session.get(Member, household.parent.id), name="Kitchen",
                                         now=utcnow())
        ctx.session.commit()
    tablet = client_for(household.family)
    tablet.set_cookie(DEVICE_COOKIE, token, domain=tablet.host.split(":")[0])
    assert tablet.get("/wall").status_code == 200
    within_budget(app, "family wall", lambda: tablet.get("/wall"), family=household.family)
    within_budget(app, "family wall board", lambda: tablet.get("/wall/board", headers=HTMX), family=household.family)


def test_parent_today_and_approve(app: Flask, household: Household, signed_in: Callable[[Member], FamilyClient]
                                  ) -> None:
    parent = signed_in(household.parent)
    assert parent.get("/today").status_code == 200  # materialises the day, creates the presets
    within_budget(app, "parent Today", lambda: parent.get("/today"), family=household.family)
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
    within_budget(app, path, lambda: api.get(url, headers=headers), family=household.family)


def test_api_my_assignments_as_a_kid(app: Flask, household: Household, client_for: Callable[..., FamilyClient],
                                     auth: Auth) -> None:
    api = client_for(household.family)
    headers = auth.bearer(household.kids[1], household.family)
    assert api.get("/api/assignments/my-assignments", headers=headers).status_code == 200
    within_budget(app, "/api/assignments/my-assignments",
                  lambda: api.get("/api/assignments/my-assignments", headers=headers), family=household.family)
