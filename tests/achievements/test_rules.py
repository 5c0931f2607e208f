"""Each badge rule, evaluated on a hand-made record: earned exactly at its threshold, once, with its bonus."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.achievements.models import MemberBadge
from app.achievements.rules import BADGE_RULES
from app.achievements.services import award_earned_badges, badge_wall, insert_badges
from app.assignments.services import FamilyRules
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import post_entry, reconcile_balances
from app.rewards.models import Redemption, Reward
from tests.achievements.conftest import NOW
from tests.reports.helpers import add_assignment, add_chore, put_setting

LAST_WEEK = date(2026, 2, 23)  # Monday of the last completed family week before NOW (weeks start on Monday)
LONG_AGO = date(2026, 1, 5)


def verified(count: int, day: date = LONG_AGO) -> Callable[[Session, Member], None]:
    def setup(session: Session, kid: Member) -> None:
        chore = add_chore(session, "Dishes")
        for index in range(count):
            add_assignment(session, chore, kid, day - timedelta(days=index % 30), status="verified")
    return setup


def streak(days: int) -> Callable[[Session, Member], None]:
    def setup(session: Session, kid: Member) -> None:
        session.get(Member, kid.id).streak_days = days
        session.flush()
    return setup


def lifetime(points: int) -> Callable[[Session, Member], None]:
    def setup(session: Session, kid: Member) -> None:
        session.get(Member, kid.id).lifetime_points_earned = points
        session.flush()
    return setup


def week(*statuses: str, first: date = LAST_WEEK) -> Callable[[Session, Member], None]:
    """One assignment per status, on consecutive days from `first`."""
    def setup(session: Session, kid: Member) -> None:
        chore = add_chore(session, "Beds")
        for offset, status in enumerate(statuses):
            add_assignment(session, chore, kid, first + timedelta(days=offset), status=status)
    return setup


def redemption(status: str) -> Callable[[Session, Member], None]:
    def setup(session: Session, kid: Member) -> None:
        reward = Reward(name="Movie night", cost=50)
        session.add(reward)
        session.flush()
        session.add(Redemption(reward_id=reward.id, member_id=kid.id, points_spent=50, status=status))
        session.flush()
    return setup


CASES = [
    ("one verified chore", verified(1), {"first_chore"}),
    ("nine chores", verified(9), {"first_chore"}),
    ("ten chores", verified(10), {"first_chore", "chores_10"}),
    ("fifty chores", verified(50), {"first_chore", "chores_10", "chores_50"}),
    ("a hundred chores", verified(100), {"first_chore", "chores_10", "chores_50", "chores_100"}),
    ("a 2-day streak", streak(2), set()),
    ("a 3-day streak", streak(3), {"streak_3"}),
    ("a 7-day streak", streak(7), {"streak_3", "streak_7"}),
    ("a 30-day streak", streak(30), {"streak_3", "streak_7", "streak_30"}),
    ("99 lifetime points", lifetime(99), set()),
    ("100 lifetime points", lifetime(100), {"points_100"}),
    ("500 lifetime points", lifetime(500), {"points_100", "points_500"}),
    ("1,000 lifetime points", lifetime(1000), {"points_100", "points_500", "points_1000"}),
    ("a full week (one excused)", week("verified", "verified", "skipped", "verified"), {"first_chore", "full_week"}),
    ("a week with a miss", week("verified", "missed", "verified"), {"first_chore"}),
    ("a week with one still to do", week("verified", "pending"), {"first_chore"}),
    ("a week with one waiting for a parent", week("verified", "pending_verification"), {"first_chore"}),
    ("a week where everything was excused", week("skipped", "skipped"), set()),
    ("a full week, but it is this week", week("verified", first=date(2026, 3, 2)), {"first_chore"}),
    ("a full week two weeks ago", week("verified", first=date(2026, 2, 16)), {"first_chore"}),
    ("an approved reward", redemption("approved"), {"first_reward"}),
    ("a fulfilled reward", redemption("fulfilled"), {"first_reward"}),
    ("a reward still waiting", redemption("pending"), set()),
    ("a rejected reward", redemption("rejected"), set()),
]


@pytest.mark.parametrize(("setup", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_rule_awards_at_its_threshold(in_family, family, home, rules: FamilyRules, setup,  # noqa: ANN001
                                           expected: set[str]) -> None:
    with in_family(family) as ctx:
        setup(ctx.session, home.kid)

        awarded = award_earned_badges(ctx.session, home.kid.id, rules, NOW)

        assert {badge.rule.key for badge in awarded} == expected
        stored = set(ctx.session.scalars(select(MemberBadge.badge).where(MemberBadge.member_id == home.kid.id)))
        assert stored == expected


def test_every_rule_has_a_case() -> None:
    earned_somewhere = set().union(*(expected for _name, _setup, expected in CASES))
    assert earned_somewhere == {rule.key for rule in BADGE_RULES}


def test_a_badge_is_awarded_once(in_family, family, home, rules: FamilyRules) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        verified(1)(ctx.session, home.kid)
        first = award_earned_badges(ctx.session, home.kid.id, rules, NOW)
        verified(1, day=LONG_AGO - timedelta(days=40))(ctx.session, home.kid)

        again = award_earned_badges(ctx.session, home.kid.id, rules, NOW)

        assert [b.rule.key for b in first] == ["first_chore"] and again == []
        assert ctx.session.scalars(select(MemberBadge.badge)).all() == ["first_chore"]


def test_the_insert_ignores_a_badge_that_already_exists(in_family, family, home) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        first = insert_badges(ctx.session, home.kid.id, [("streak_3", 0)], NOW)
        second = insert_badges(ctx.session, home.kid.id, [("streak_3", 5), ("streak_7", 0)], NOW)

        assert set(first) == {"streak_3"} and set(second) == {"streak_7"}
        rows = ctx.session.execute(select(MemberBadge.badge, MemberBadge.bonus_points)
                                   .order_by(MemberBadge.badge)).all()
        assert rows == [("streak_3", 0), ("streak_7", 0)]


def test_bonus_points_are_one_achievement_ledger_row_per_badge(in_family, family, home,  # noqa: ANN001
                                                               rules: FamilyRules) -> None:
    with in_family(family) as ctx:
        put_setting(ctx.session, "achievement_bonus", {"streak_3": 15, "streak_7": 0})
        streak(7)(ctx.session, home.kid)

        awarded = award_earned_badges(ctx.session, home.kid.id, rules, NOW)
        award_earned_badges(ctx.session, home.kid.id, rules, NOW)

        assert {(b.rule.key, b.bonus_points) for b in awarded} == {("streak_3", 15), ("streak_7", 0)}
        rows = ctx.session.execute(select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.reference_id)).all()
        badge_id = ctx.session.scalar(select(MemberBadge.id).where(MemberBadge.badge == "streak_3"))
        assert rows == [("achievement", 15, badge_id)]
        kid = ctx.session.get(Member, home.kid.id)
        assert (kid.available_points, kid.total_points, kid.lifetime_points_earned) == (15, 15, 15)
        assert reconcile_balances(ctx.session, rules.clock, NOW) == []


def test_parents_and_inactive_kids_earn_nothing(in_family, family, home, rules: FamilyRules) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        ctx.session.get(Member, home.parent.id).lifetime_points_earned = 5000
        kid = ctx.session.get(Member, home.kid.id)
        kid.lifetime_points_earned, kid.is_active = 5000, False
        ctx.session.flush()

        assert award_earned_badges(ctx.session, home.parent.id, rules, NOW) == []
        assert award_earned_badges(ctx.session, home.kid.id, rules, NOW) == []


def test_the_wall_shows_earned_badges_first_and_progress_for_the_rest(in_family, family, home,  # noqa: ANN001
                                                                      rules: FamilyRules) -> None:
    with in_family(family) as ctx:
        verified(4)(ctx.session, home.kid)
        award_earned_badges(ctx.session, home.kid.id, rules, NOW)
        post_entry(ctx.session, home.kid.id, amount=40, kind="bonus", description="x", clock=rules.clock, now=NOW)

        tiles = badge_wall(ctx.session, ctx.session.get(Member, home.kid.id), rules, NOW)

        assert tiles[0].rule.key == "first_chore" and tiles[0].earned is not None
        by_key = {tile.rule.key: tile for tile in tiles}
        assert (by_key["chores_10"].progress_text.render("en"), by_key["chores_10"].percent) == ("4 of 10 chores", 40)
        assert by_key["points_100"].progress_text.render("en") == "40 of 100 points"
        assert len(tiles) == len(BADGE_RULES)
