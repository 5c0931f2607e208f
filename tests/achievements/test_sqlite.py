"""Badges and report numbers on the embedded SQLite default (insert-or-ignore, grouping, no Redis)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.achievements.models import MemberBadge
from app.achievements.services import award_earned_badges, insert_badges
from app.assignments.services import complete_assignment, load_family_rules
from app.members.models import Member
from app.points.models import LedgerEntry
from app.reports.services import Period, family_report, weekly_summary
from app.tenancy.context import family_context
from tests.achievements.conftest import NOW
from tests.conftest import family_factory
from tests.reports.helpers import add_assignment, add_chore, put_setting

pytestmark = pytest.mark.sqlite


def test_badges_and_reports_on_sqlite(sqlite_app) -> None:  # noqa: ANN001
    family = family_factory(sqlite_app)(timezone="Europe/Berlin")
    with sqlite_app.app_context(), family_context(family.slug) as ctx:
        s = ctx.session
        rules = load_family_rules(s, family.timezone)
        kid = Member(username="ava", display_name="Ava", role="child")
        s.add(kid)
        put_setting(s, "achievement_bonus", {"first_chore": 3})
        chore = add_chore(s, "Dishes", requires_verification=False, category="kitchen")
        assignment = add_assignment(s, chore, kid, NOW.date(), zone=family.timezone)
        s.commit()
        complete_assignment(s, actor=kid, assignment_id=assignment.id, rules=rules, now=NOW)
        s.commit()

        assert s.scalars(select(MemberBadge.badge)).all() == ["first_chore"]
        assert sorted(s.scalars(select(LedgerEntry.amount))) == [3, 10]
        assert insert_badges(s, kid.id, [("first_chore", 0)], NOW) == {}
        assert award_earned_badges(s, kid.id, rules, NOW) == []
        summary = weekly_summary(s, Period(date(2026, 3, 2), date(2026, 3, 8)), NOW)
        assert (summary.tally.total, summary.tally.completed, summary.tally.points) == (1, 1, 10)
        report = family_report(s, rules.clock, Period(date(2026, 3, 2), date(2026, 3, 8)), NOW.date(), NOW)
        assert [(flow.earned, flow.spent) for flow in report.flows] == [(13, 0)]
