"""The kid view's streak, computed in SQL inside the day's query, agrees with `compute_streak` day pattern by day
pattern (today done or not, gaps with nothing assigned, skipped chores, a sibling's days, the window's edge)."""
from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.assignments.services import compute_streak, kid_day_rows, streak_column
from app.family_time import FamilyClock
from app.members.models import Member
from app.tenancy.context import FamilyContext, family_context
from app.tenancy.registry import FamilyRecord
from tests.assignments.conftest import make_chore
from tests.conftest import family_factory

TODAY = date(2026, 3, 4)
# Each pattern: day offset back from today -> statuses that day ("v" verified, "p" pending, "s" skipped, ...).
PATTERNS: list[dict[int, str]] = [
    {},
    {0: "v"},
    {0: "p"},
    {0: "p", 1: "v", 2: "v", 3: "p", 4: "v"},
    {0: "vv", 1: "v", 3: "v", 4: "vs", 5: "pv"},
    {1: "v", 2: "s", 3: "v"},
    {0: "vp", 1: "vv", 2: "v"},
    {365: "v", 366: "v", 367: "v", 1: "v"},
    {0: "m", 1: "v"},
    {2: "v", 5: "v", 9: "v"},
]
STATUS = {"v": "verified", "p": "pending", "s": "skipped", "m": "missed", "w": "pending_verification"}


def _random_patterns(count: int) -> list[dict[int, str]]:
    rng = random.Random(14)
    return [{day: "".join(rng.choice("vvvvpsmw") for _ in range(rng.randint(1, 3)))
             for day in rng.sample(range(0, 20), rng.randint(0, 12))} for _ in range(count)]


def _compare(session: Session, kid: Member, sibling: Member) -> None:
    clock = FamilyClock("UTC")
    chore = make_chore(session, name="Feed the fish")
    for pattern in PATTERNS + _random_patterns(25):
        session.execute(delete(Assignment))
        for back, statuses in pattern.items():
            day = TODAY - timedelta(days=back)
            for status in statuses:
                session.add(Assignment(chore_id=chore.id, assigned_to=kid.id, due_date=day,
                                       due_at=clock.at(day, None), status=STATUS[status], points_offered=1))
            # The sibling's unfinished days must not break the kid's streak.
            session.add(Assignment(chore_id=chore.id, assigned_to=sibling.id, due_date=day,
                                   due_at=clock.at(day, None), status="pending", points_offered=1))
        session.flush()
        expected = compute_streak(session, kid.id, TODAY)
        assert session.scalar(select(streak_column(kid.id, TODAY))) == expected, pattern
        rows, streak = kid_day_rows(session, kid.id, TODAY)
        assert streak == expected, pattern
        assert len(rows) == len(pattern.get(0, "")), pattern  # today's own rows (the sibling's are not the kid's)


def test_sql_streak_matches_python(family: FamilyRecord, create_member: Callable[..., Member],
                                   in_family: Callable[..., AbstractContextManager[FamilyContext]]) -> None:
    kid = create_member(username="leo", display_name="Leo")
    sibling = create_member(username="mia", display_name="Mia")
    with in_family(family) as ctx:
        _compare(ctx.session, kid, sibling)
        ctx.session.rollback()


@pytest.mark.sqlite
def test_sql_streak_matches_python_on_sqlite(sqlite_app: Flask) -> None:
    family = family_factory(sqlite_app)()
    with sqlite_app.app_context(), family_context(family.slug) as ctx:
        kid, sibling = (Member(username=n, display_name=n.title(), role="child") for n in ("leo", "mia"))
        ctx.session.add_all([kid, sibling])
        ctx.session.flush()
        _compare(ctx.session, kid, sibling)
        ctx.session.rollback()
