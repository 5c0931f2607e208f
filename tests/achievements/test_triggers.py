"""Badges arrive on their own when a chore is verified, a reward approved or points land; once, even in a race."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.achievements.models import MemberBadge
from app.achievements.services import award_earned_badges
from app.assignments.models import Assignment
from app.assignments.services import FamilyRules, complete_assignment, mark_missed, verify_assignment
from app.domain import DomainError
from app.members.models import Member
from app.notifications.models import Notification
from app.points.inputs import PointsAward
from app.points.models import LedgerEntry
from app.points.services import give_points, reconcile_balances
from app.rewards.models import Redemption
from app.rewards.inputs import RewardInput
from app.rewards.services import approve_redemption, create_reward, request_reward
from tests.achievements.conftest import NOW, RACERS
from tests.reports.helpers import add_assignment, add_chore, put_setting, run_together


def _badges(session: Session, member_id: uuid.UUID) -> list[str]:
    return sorted(session.scalars(select(MemberBadge.badge).where(MemberBadge.member_id == member_id)))


def _pending_chore(in_family, family, kid: Member, *, requires_verification: bool = False,  # noqa: ANN001
                   points: int = 10, day: date = NOW.date()) -> uuid.UUID:  # noqa: B008 - NOW is a constant
    with in_family(family) as ctx:
        chore = add_chore(ctx.session, "Dishes", requires_verification=requires_verification, base_points=points)
        assignment = add_assignment(ctx.session, chore, kid, day)
        ctx.session.commit()
        return assignment.id


def test_an_auto_approved_chore_earns_the_first_badge_on_commit(in_family, family, home,  # noqa: ANN001
                                                                rules: FamilyRules) -> None:
    assignment_id = _pending_chore(in_family, family, home.kid)
    with in_family(family) as ctx:
        complete_assignment(ctx.session, actor=ctx.session.get(Member, home.kid.id), assignment_id=assignment_id,
                            rules=rules, now=NOW)
        assert _badges(ctx.session, home.kid.id) == []  # nothing until the transaction commits
        ctx.session.commit()
    with in_family(family) as ctx:
        badge = ctx.session.scalar(select(MemberBadge))
        assert (badge.badge, badge.member_id, badge.awarded_at, badge.seen_at) == ("first_chore", home.kid.id, NOW,
                                                                                   None)


def test_a_parents_approval_earns_it_and_tells_the_kid_and_the_parents(in_family, family, home,  # noqa: ANN001
                                                                       rules: FamilyRules) -> None:
    assignment_id = _pending_chore(in_family, family, home.kid, requires_verification=True)
    with in_family(family) as ctx:
        s = ctx.session
        complete_assignment(s, actor=s.get(Member, home.kid.id), assignment_id=assignment_id, rules=rules, now=NOW)
        s.commit()
        assert _badges(s, home.kid.id) == []  # waiting for a parent is not done yet
        verify_assignment(s, actor=s.get(Member, home.parent.id), assignment_id=assignment_id, approved=True,
                          rules=rules, now=NOW)
        s.commit()
    with in_family(family) as ctx:
        assert _badges(ctx.session, home.kid.id) == ["first_chore"]
        notes = ctx.session.execute(select(Notification.member_id, Notification.title)
                                    .where(Notification.event == "badge_earned")).all()
        assert sorted(notes) == sorted([(home.kid.id, "New badge: First chore"),
                                        (home.parent.id, "Maya earned a badge: First chore")])


def test_the_bonus_is_posted_once_and_can_earn_the_next_badge(in_family, family, home,  # noqa: ANN001
                                                              rules: FamilyRules) -> None:
    with in_family(family) as ctx:
        put_setting(ctx.session, "achievement_bonus", {"first_chore": 95, "points_100": 5})
        ctx.session.commit()
    assignment_id = _pending_chore(in_family, family, home.kid, points=10)
    with in_family(family) as ctx:
        complete_assignment(ctx.session, actor=ctx.session.get(Member, home.kid.id), assignment_id=assignment_id,
                            rules=rules, now=NOW)
        ctx.session.commit()
    with in_family(family) as ctx:
        s = ctx.session
        # 10 for the chore + 95 for the first badge = 105 lifetime points: the 100-points badge (+5) follows.
        assert _badges(s, home.kid.id) == ["first_chore", "points_100"]
        assert sorted(s.execute(select(LedgerEntry.kind, LedgerEntry.amount)).all()) == [
            ("achievement", 5), ("achievement", 95), ("chore", 10)]
        assert s.get(Member, home.kid.id).available_points == 110
        assert reconcile_balances(s, rules.clock, NOW) == []


def test_an_approved_reward_earns_the_first_reward_badge(in_family, family, home,  # noqa: ANN001
                                                         rules: FamilyRules) -> None:
    with in_family(family) as ctx:
        s = ctx.session
        give_points(s, actor=s.get(Member, home.parent.id), member=s.get(Member, home.kid.id),
                    data=PointsAward(kind="bonus", points=50, reason="Helping"), clock=rules.clock, now=NOW)
        reward = create_reward(s, actor=s.get(Member, home.parent.id), data=RewardInput(name="Ice cream", cost=20))
        s.commit()
        redemption = request_reward(s, s.get(Member, home.kid.id), reward.id, rules, NOW)
        s.commit()
        assert "first_reward" not in _badges(s, home.kid.id)  # requested, not yet approved
        approve_redemption(s, s.get(Member, home.parent.id), redemption.id, NOW)
        s.commit()
    with in_family(family) as ctx:
        assert "first_reward" in _badges(ctx.session, home.kid.id)
        assert ctx.session.get(Redemption, redemption.id).status == "approved"


def test_a_missed_chore_or_a_rollback_earns_nothing(in_family, family, home,  # noqa: ANN001
                                                    rules: FamilyRules) -> None:
    with in_family(family) as ctx:
        chore = add_chore(ctx.session, "Bins", penalty_points=2)
        add_assignment(ctx.session, chore, home.kid, NOW.date() - timedelta(days=1))
        ctx.session.get(Member, home.kid.id).streak_days = 3  # would earn streak_3 if evaluated
        ctx.session.commit()
    with in_family(family) as ctx:
        mark_missed(ctx.session, rules, NOW)
        ctx.session.commit()
    assignment_id = _pending_chore(in_family, family, home.sibling)
    with in_family(family) as ctx:
        complete_assignment(ctx.session, actor=ctx.session.get(Member, home.sibling.id),
                            assignment_id=assignment_id, rules=rules, now=NOW)
        ctx.session.rollback()
        ctx.session.commit()
    with in_family(family) as ctx:
        # The penalty row re-evaluated Maya (streak 3 earns its badge); Leo's rolled-back chore earned nothing.
        assert _badges(ctx.session, home.kid.id) == ["streak_3"]
        assert _badges(ctx.session, home.sibling.id) == []
        assert ctx.session.get(Assignment, assignment_id).status == "pending"


def test_concurrent_completions_award_the_badge_and_its_bonus_once(race_app, in_family, family, home,  # noqa: ANN001
                                                                   rules: FamilyRules) -> None:
    with in_family(family) as ctx:
        put_setting(ctx.session, "achievement_bonus", {"first_chore": 7})
        chore = add_chore(ctx.session, "Dishes", requires_verification=False, base_points=10)
        # All on one day: no streak or full-week badge joins in, only the first-chore one.
        ids = [add_assignment(ctx.session, chore, home.kid, NOW.date()).id for _ in range(RACERS)]
        ctx.session.commit()

    def complete(assignment_id: uuid.UUID):  # noqa: ANN202
        def run(s: Session) -> str:
            return complete_assignment(s, actor=s.get(Member, home.kid.id), assignment_id=assignment_id,
                                       rules=rules, now=NOW).status
        return run

    results = run_together(race_app, family.slug, [complete(i) for i in ids])

    assert results == ["verified"] * RACERS, [r for r in results if isinstance(r, Exception)]
    with in_family(family) as ctx:
        s = ctx.session
        assert _badges(s, home.kid.id) == ["first_chore"]
        assert s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "achievement")) == 1
        assert s.get(Member, home.kid.id).available_points == RACERS * 10 + 7
        assert reconcile_balances(s, rules.clock, NOW) == []
        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.event == "badge_earned", Notification.member_id == home.kid.id)) == 1


def test_concurrent_evaluations_of_one_kid_insert_once(race_app, in_family, family, home,  # noqa: ANN001
                                                       rules: FamilyRules) -> None:
    with in_family(family) as ctx:
        put_setting(ctx.session, "achievement_bonus", {"streak_3": 4, "streak_7": 6})
        ctx.session.get(Member, home.kid.id).streak_days = 7  # a member change alone triggers nothing
        ctx.session.commit()

    def evaluate(s: Session) -> list[str]:
        return [badge.rule.key for badge in award_earned_badges(s, home.kid.id, rules, NOW)]

    results = run_together(race_app, family.slug, [evaluate] * RACERS)

    unexpected = [r for r in results if isinstance(r, Exception)]
    assert not unexpected, unexpected
    assert sorted(key for keys in results for key in keys) == ["streak_3", "streak_7"]
    with in_family(family) as ctx:
        s = ctx.session
        assert _badges(s, home.kid.id) == ["streak_3", "streak_7"]
        assert sorted(s.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "achievement"))) == [4, 6]
        assert s.get(Member, home.kid.id).available_points == 10
        assert reconcile_balances(s, rules.clock, NOW) == []


def test_a_refused_completion_changes_nothing(in_family, family, home, rules: FamilyRules) -> None:  # noqa: ANN001
    assignment_id = _pending_chore(in_family, family, home.kid)
    with in_family(family) as ctx:
        try:
            complete_assignment(ctx.session, actor=ctx.session.get(Member, home.sibling.id),
                                assignment_id=assignment_id, rules=rules, now=NOW)
        except DomainError:
            ctx.session.rollback()
        ctx.session.commit()
        assert _badges(ctx.session, home.kid.id) == [] and _badges(ctx.session, home.sibling.id) == []
