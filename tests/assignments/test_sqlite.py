"""The daily loop on the embedded SQLite default (no Redis): insert-or-ignore, UTC round trips, the CLI jobs."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.assignments.models import Assignment
from app.assignments.services import (complete_assignment, load_family_rules, mark_missed, materialise_day,
                                      verify_assignment)
from app.db.bases import utcnow
from app.jobs.tick import tick_family
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import reconcile_balances
from app.tenancy.context import family_context
from tests.assignments.conftest import NOW, make_chore, make_parent
from tests.conftest import family_factory

pytestmark = pytest.mark.sqlite


def test_daily_loop_on_sqlite(sqlite_app) -> None:  # noqa: ANN001
    family = family_factory(sqlite_app)(timezone="Europe/Berlin")
    with sqlite_app.app_context(), family_context(family.slug) as ctx:
        s = ctx.session
        rules = load_family_rules(s, family.timezone)
        parent = make_parent(s)
        ava, ben = (Member(username=n, display_name=n.title(), role="child") for n in ("ava", "ben"))
        s.add_all([ava, ben])
        s.flush()
        make_chore(s, name="Beds", strategy="each", penalty_points=2)
        make_chore(s, name="Dishes", strategy="round_robin", assignees=[ava, ben], base_points=6)
        day = rules.clock.today(NOW)
        assert materialise_day(s, rules, day, NOW) == 3
        assert materialise_day(s, rules, day, NOW) == 0
        assert tick_family(s, timezone=family.timezone, now=NOW).created == 3  # tomorrow only
        s.commit()
        dishes = s.scalar(select(Assignment).join(Assignment.chore).where(Assignment.due_date == day,
                                                                         Assignment.schedule_key.like("%:one"))
                       .options(joinedload(Assignment.assignee)))
        complete_assignment(s, actor=dishes.assignee, assignment_id=dishes.id, rules=rules, now=NOW)
        verify_assignment(s, actor=parent, assignment_id=dishes.id, approved=True, rules=rules, now=NOW)
        s.commit()
        s.expire_all()
        assert s.get(Assignment, dishes.id).due_at.tzinfo is not None  # UTC comes back aware from SQLite
        assert mark_missed(s, rules, NOW + timedelta(days=1)) == 2  # today's two beds
        s.commit()
        assert sorted(s.scalars(select(LedgerEntry.amount))) == [-2, -2, 6]
        assert reconcile_balances(s, rules.clock, NOW + timedelta(days=1)) == []
        assert Counter(s.scalars(select(Assignment.status))) == {"verified": 1, "missed": 2, "pending": 3}


def test_cli_jobs_on_sqlite_without_redis(sqlite_app) -> None:  # noqa: ANN001
    family = family_factory(sqlite_app)()
    with sqlite_app.app_context(), family_context(family.slug) as ctx:
        s = ctx.session
        kid = Member(username="ava", display_name="Ava", role="child")
        s.add(kid)
        s.flush()
        make_chore(s, assignees=[kid])
        s.commit()
    runner = sqlite_app.test_cli_runner()
    first = runner.invoke(args=["jobs", "tick"])
    assert first.exit_code == 0 and "tick: 1 families, 2 assignments created" in first.output, first.output
    assert "0 assignments created" in runner.invoke(args=["jobs", "tick"]).output
    reconcile = runner.invoke(args=["points", "reconcile"])
    assert reconcile.exit_code == 0, reconcile.output
    with sqlite_app.app_context(), family_context(family.slug) as ctx:
        today = load_family_rules(ctx.session, family.timezone).clock.today(utcnow())
        assert sorted(ctx.session.scalars(select(Assignment.due_date))) == [today, today + timedelta(days=1)]
