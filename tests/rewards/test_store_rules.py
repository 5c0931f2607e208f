"""The store's rules against PostgreSQL: valid rewards, held points, limits and windows in family time, decisions."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from app.domain import Conflict, Forbidden, NotFound, ValidationFailed
from app.inputs import parse_input
from app.members.models import Member
from app.notifications.models import Notification
from app.points.models import LedgerEntry
from app.points.services import reconcile_balances
from app.rewards.models import Redemption, Reward, SavingsGoal
from app.rewards.inputs import RedeemInput, RejectInput, RewardInput, SavingsGoalInput
from app.rewards.services import (
    approve_redemption,
    archive_reward,
    clear_savings_goal,
    create_reward,
    fulfil_redemption,
    goal_progress,
    list_store,
    reject_redemption,
    request_reward,
    set_savings_goal,
    update_reward,
)
from tests.rewards.conftest import NOW, Household, give, make_reward


# --- what a valid reward is ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, field", [
    ({"name": "Treat", "cost": 0}, "cost"),
    ({"name": "Treat", "cost": -5}, "cost"),
    ({"name": "Treat", "cost": 10_001}, "cost"),
    ({"name": "Treat", "cost": "lots"}, "cost"),
    ({"name": "Treat", "cost": 2.5}, "cost"),
    ({"name": "Treat"}, "cost"),
    ({"name": "", "cost": 5}, "name"),
    ({"name": "x" * 101, "cost": 5}, "name"),
    ({"name": "Treat", "cost": 5, "icon": "x" * 17}, "icon"),
    ({"name": "Treat", "cost": 5, "stock": -1}, "stock"),
    ({"name": "Treat", "cost": 5, "max_per_week": 0}, "max_per_week"),
    ({"name": "Treat", "cost": 5, "max_per_month": -2}, "max_per_month"),
    ({"name": "Treat", "cost": 5, "availability": "sometimes"}, "availability"),
    ({"name": "Treat", "cost": 5, "value_in_cents": -1}, "value_in_cents"),
    ({"name": "Treat", "cost": 5, "value_in_cents": 10_000_001}, "value_in_cents"),
    ({"name": "Treat", "cost": 5, "availability": "date_range"}, "available_from"),
    ({"name": "Treat", "cost": 5, "availability": "date_range", "available_from": "2026-06-02",
      "available_until": "2026-06-01"}, "available_until"),
    ({"name": "Treat", "cost": 5, "availability": "date_range", "available_from": "June"}, "available_from"),
    ({"name": "Treat", "cost": 5, "availability": "weekdays", "available_weekdays": []}, "available_weekdays"),
    ({"name": "Treat", "cost": 5, "availability": "weekdays", "available_weekdays": [7]}, "available_weekdays"),
    ({"name": "Treat", "cost": 5, "requires_approval": "maybe"}, "requires_approval"),
])
def test_bad_rewards_are_refused_and_nothing_is_stored(in_family, household: Household, data: dict[str, Any],
                                                       field: str) -> None:  # noqa: ANN001
    with in_family(household.family) as ctx:
        s = ctx.session
        with pytest.raises(ValidationFailed) as refused:
            create_reward(s, actor=s.get(Member, household.parent_id), data=parse_input(RewardInput, data))
        assert field in refused.value.fields, refused.value.fields
        s.rollback()
        assert s.scalars(select(Reward)).all() == []


def test_a_new_reward_is_active_needs_approval_and_keeps_only_its_window(in_family,  # noqa: ANN001
                                                                         household: Household) -> None:
    with in_family(household.family) as ctx:
        s = ctx.session
        parent = s.get(Member, household.parent_id)
        reward = create_reward(s, actor=parent, data=parse_input(RewardInput, {
            "name": "  Movie night ", "cost": "120", "stock": "", "availability": "weekdays",
            "available_weekdays": ["6", 5, 6], "available_from": "2026-01-01"}))
        assert (reward.name, reward.cost, reward.active, reward.requires_approval, reward.stock) == (
            "Movie night", 120, True, True, None)
        assert reward.available_weekdays == [5, 6] and reward.available_from is None
        update_reward(s, reward, actor=parent, data=RewardInput(availability="always", stock=3, max_per_week=2))
        assert (reward.available_weekdays, reward.stock, reward.max_per_week) == (None, 3, 2)
        with pytest.raises(Forbidden):
            create_reward(s, actor=s.get(Member, household.kid_id), data=RewardInput(name="Mine", cost=1))


# --- requesting ---------------------------------------------------------------------------------------------------

def test_a_request_holds_the_points_at_once_and_waits_for_a_parent(in_family, household: Household,
                                                                     rules_for) -> None:  # noqa: ANN001
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        reward = make_reward(s, cost=30, stock=2)
        redemption = request_reward(s, s.get(Member, household.kid_id), reward.id, rules, NOW,
                                    data=RedeemInput(notes=" please "))
        s.commit()
        kid = s.get(Member, household.kid_id)
        assert (redemption.status, redemption.points_spent, redemption.notes) == ("pending", 30, "please")
        assert kid.available_points == 70 and reward.stock == 1
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.kind == "redemption"))
        assert (entry.amount, entry.reference_id, entry.member_id) == (-30, redemption.id, kid.id)
        notes = s.scalars(select(Notification).where(Notification.event == "reward_requested")).all()
        assert [n.member_id for n in notes] == [household.parent_id]
        assert "Maya asked for Ice cream" in notes[0].title
        assert reconcile_balances(s, rules.clock, NOW) == []


def test_a_reward_without_approval_is_approved_at_once(in_family, household: Household,  # noqa: ANN001
                                                       rules_for) -> None:
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        reward = make_reward(s, requires_approval=False)
        redemption = request_reward(s, s.get(Member, household.kid_id), reward.id, rules, NOW)
        assert redemption.status == "approved" and redemption.decided_at == NOW
        with pytest.raises(ValidationFailed, match="Redemption is already approved"):
            approve_redemption(s, s.get(Member, household.parent_id), redemption.id, NOW)


def test_a_request_beyond_the_balance_gives_the_three_keys_and_changes_nothing(in_family, household: Household,
                                                                               rules_for) -> None:  # noqa: ANN001
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        reward = make_reward(s, cost=130, stock=5)
        s.commit()
        with pytest.raises(ValidationFailed) as refused:
            request_reward(s, s.get(Member, household.kid_id), reward.id, rules, NOW)
        assert refused.value.message == "Insufficient points"
        assert refused.value.extra == {"points_available": 100, "points_required": 130, "points_short": 30}
        s.rollback()
        assert s.scalars(select(Redemption)).all() == [] and s.get(Reward, reward.id).stock == 5
        assert s.get(Member, household.kid_id).available_points == 100


@pytest.mark.parametrize("fields, message", [
    ({"active": False}, "Reward is not active"),
    ({"stock": 0}, "Reward is out of stock"),
])
def test_inactive_and_sold_out_rewards_cannot_be_requested(in_family, household: Household, rules_for,  # noqa: ANN001
                                                           fields: dict[str, Any], message: str) -> None:
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        reward = make_reward(s, **fields)
        with pytest.raises(ValidationFailed, match=message):
            request_reward(s, s.get(Member, household.kid_id), reward.id, rules, NOW)
        with pytest.raises(NotFound):
            request_reward(s, s.get(Member, household.kid_id), "not-an-id", rules, NOW)


@pytest.mark.parametrize("local, open_", [
    (datetime(2026, 6, 1, 0, 30), True),     # the first local minutes of the window's first day
    (datetime(2026, 5, 31, 23, 30), False),  # the evening before (already June 1st in UTC)
    (datetime(2026, 6, 30, 23, 30), True),   # the last evening (July 1st in UTC)
    (datetime(2026, 7, 1, 0, 30), False),
])
def test_date_windows_follow_the_family_calendar(make_family, in_family, rules_for, local: datetime,
                                                 open_: bool) -> None:  # noqa: ANN001
    family = make_family(timezone="America/Los_Angeles")
    rules = rules_for(family)
    now = rules.clock.at(local.date(), local.time())
    with in_family(family) as ctx:
        s = ctx.session
        kid = Member(username="kid", display_name="Kid")
        s.add(kid)
        s.flush()
        give(s, kid.id, 100, rules, now)
        reward = make_reward(s, availability="date_range", available_from=date(2026, 6, 1),
                             available_until=date(2026, 6, 30))
        assert next(i for i in list_store(s, kid, rules, now) if i.reward.id == reward.id).available is open_
        if open_:
            assert request_reward(s, kid, reward.id, rules, now).status == "pending"
        else:
            with pytest.raises(ValidationFailed, match="not available today"):
                request_reward(s, kid, reward.id, rules, now)


def test_weekday_windows_follow_the_family_calendar(make_family, in_family, rules_for) -> None:  # noqa: ANN001
    family = make_family(timezone="Asia/Tokyo")
    rules = rules_for(family)
    saturday_morning_tokyo = datetime(2026, 3, 6, 15, 30, tzinfo=timezone.utc)  # Friday in UTC
    with in_family(family) as ctx:
        s = ctx.session
        kid = Member(username="kid", display_name="Kid")
        s.add(kid)
        s.flush()
        give(s, kid.id, 100, rules, saturday_morning_tokyo)
        weekend = make_reward(s, name="Weekend TV", availability="weekdays", available_weekdays=[5, 6])
        weekdays = make_reward(s, name="School-night TV", availability="weekdays", available_weekdays=[0, 1, 2, 3, 4])
        assert request_reward(s, kid, weekend.id, rules, saturday_morning_tokyo).status == "pending"
        with pytest.raises(ValidationFailed, match=r"School-night TV is not available today \(on Mondays"):
            request_reward(s, kid, weekdays.id, rules, saturday_morning_tokyo)


def test_the_weekly_limit_counts_in_the_family_week(make_family, in_family, rules_for) -> None:  # noqa: ANN001
    """New York, weeks start Monday: Sunday 23:30 and Monday 00:30 local are different weeks (same UTC day)."""
    family = make_family(timezone="America/New_York")
    rules = rules_for(family)
    sunday_night = rules.clock.at(date(2026, 3, 1), datetime(2026, 3, 1, 23, 30).time())
    monday_early = rules.clock.at(date(2026, 3, 2), datetime(2026, 3, 2, 0, 30).time())
    assert sunday_night.date() == monday_early.date() == date(2026, 3, 2)  # both Monday in UTC
    with in_family(family) as ctx:
        s = ctx.session
        kid = Member(username="kid", display_name="Kid")
        s.add(kid)
        s.flush()
        give(s, kid.id, 500, rules, sunday_night - timedelta(days=1))
        reward = make_reward(s, max_per_week=1)
        request_reward(s, kid, reward.id, rules, sunday_night)
        request_reward(s, kid, reward.id, rules, monday_early)
        with pytest.raises(Conflict, match="Weekly limit reached: Ice cream can be requested once a week"):
            request_reward(s, kid, reward.id, rules, monday_early + timedelta(hours=1))
        s.commit()


def test_rejected_requests_do_not_count_and_the_monthly_limit_holds(in_family, household: Household,
                                                                     rules_for) -> None:  # noqa: ANN001
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        kid, parent = s.get(Member, household.kid_id), s.get(Member, household.parent_id)
        reward = make_reward(s, cost=10, max_per_week=2, max_per_month=2)
        first = request_reward(s, kid, reward.id, rules, NOW)
        reject_redemption(s, parent, first.id, RejectInput(reason="Not today"), rules, NOW)
        request_reward(s, kid, reward.id, rules, NOW)
        request_reward(s, kid, reward.id, rules, NOW + timedelta(days=7))  # next week, same month
        with pytest.raises(Conflict, match="Monthly limit reached"):
            request_reward(s, kid, reward.id, rules, NOW + timedelta(days=8))
        item = next(i for i in list_store(s, kid, rules, NOW + timedelta(days=8)) if i.reward.id == reward.id)
        assert (item.remaining_this_week, item.remaining_this_month, item.can_request) == (1, 0, False)


# --- deciding -----------------------------------------------------------------------------------------------------

def test_reject_refunds_the_points_restores_the_stock_and_tells_the_kid(in_family, household: Household,
                                                                        rules_for) -> None:  # noqa: ANN001
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        kid, parent = s.get(Member, household.kid_id), s.get(Member, household.parent_id)
        reward = make_reward(s, cost=40, stock=1)
        redemption = request_reward(s, kid, reward.id, rules, NOW)
        assert (kid.available_points, reward.stock) == (60, 0)
        with pytest.raises(ValidationFailed, match="reason"):
            reject_redemption(s, parent, redemption.id, RejectInput(reason="   "), rules, NOW)
        reject_redemption(s, parent, redemption.id, RejectInput(reason="Not on a school night"), rules,
                          NOW + timedelta(minutes=5))
        s.commit()
        assert (s.get(Member, kid.id).available_points, s.get(Reward, reward.id).stock) == (100, 1)
        assert (redemption.status, redemption.rejection_reason, redemption.decided_by) == (
            "rejected", "Not on a school night", parent.id)
        rows = s.execute(select(LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.reference_id)
                         .where(LedgerEntry.kind.in_(("redemption", "refund"))).order_by(LedgerEntry.created_at)).all()
        assert rows == [("redemption", -40, redemption.id), ("refund", 40, redemption.id)]
        told = s.scalar(select(Notification).where(Notification.event == "reward_rejected"))
        assert told.member_id == kid.id and "Not on a school night" in told.body
        assert reconcile_balances(s, rules.clock, NOW) == []
        with pytest.raises(ValidationFailed, match="Redemption is already rejected"):
            reject_redemption(s, parent, redemption.id, RejectInput(reason="Again"), rules, NOW)


def test_pending_then_approved_then_fulfilled_each_once_with_a_notification(in_family, household: Household,
                                                                            rules_for) -> None:  # noqa: ANN001
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        kid, parent = s.get(Member, household.kid_id), s.get(Member, household.parent_id)
        redemption = request_reward(s, kid, make_reward(s).id, rules, NOW)
        with pytest.raises(ValidationFailed, match="Approve this request before"):
            fulfil_redemption(s, parent, redemption.id, NOW)
        with pytest.raises(Forbidden):
            approve_redemption(s, kid, redemption.id, NOW)
        approve_redemption(s, parent, redemption.id, NOW)
        with pytest.raises(ValidationFailed, match="^Redemption is already approved$"):
            approve_redemption(s, parent, redemption.id, NOW)
        fulfil_redemption(s, parent, redemption.id, NOW + timedelta(hours=1))
        with pytest.raises(ValidationFailed, match="Redemption is already fulfilled"):
            fulfil_redemption(s, parent, redemption.id, NOW)
        with pytest.raises(ValidationFailed, match="Redemption is already fulfilled"):
            reject_redemption(s, parent, redemption.id, RejectInput(reason="Too late"), rules, NOW)
        assert (redemption.status, redemption.fulfilled_at, redemption.decided_by) == (
            "fulfilled", NOW + timedelta(hours=1), parent.id)
        s.commit()  # the notifications are the commit's reactions to the recorded events
        events = s.execute(select(Notification.event, Notification.member_id)
                           .where(Notification.event.like("reward_%"))).all()
        assert sorted(events) == sorted([("reward_requested", parent.id), ("reward_approved", kid.id),
                                         ("reward_fulfilled", kid.id)])
        assert s.get(Member, kid.id).available_points == 50  # fulfilment moves no points


def test_an_approved_request_can_still_be_rejected_and_refunded(in_family, household: Household,
                                                               rules_for) -> None:  # noqa: ANN001
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        kid, parent = s.get(Member, household.kid_id), s.get(Member, household.parent_id)
        redemption = request_reward(s, kid, make_reward(s, requires_approval=False).id, rules, NOW)
        reject_redemption(s, parent, redemption.id, RejectInput(reason="Sold out at the shop"), rules, NOW)
        assert (redemption.status, s.get(Member, kid.id).available_points) == ("rejected", 100)


# --- goals and the store ------------------------------------------------------------------------------------------

def test_a_savings_goal_shows_progress_and_one_goal_per_kid(in_family, household: Household,  # noqa: ANN001
                                                            rules_for) -> None:
    rules = rules_for(household.family)
    with in_family(household.family) as ctx:
        s = ctx.session
        kid, sibling = s.get(Member, household.kid_id), s.get(Member, household.sibling_id)
        bike, lego = make_reward(s, name="Bike", cost=400), make_reward(s, name="Lego", cost=250)
        set_savings_goal(s, kid, kid, SavingsGoalInput(reward_id=bike.id))
        set_savings_goal(s, kid, kid, SavingsGoalInput(reward_id=lego.id))
        s.commit()
        assert s.scalars(select(SavingsGoal.reward_id)).all() == [lego.id]
        progress = goal_progress(s, kid)
        assert (progress.percent, progress.points_to_go, progress.reached) == (40, 150, False)
        store = {i.reward.name: i for i in list_store(s, kid, rules, NOW)}
        assert store["Lego"].is_goal and not store["Bike"].is_goal
        assert (store["Bike"].affordable, store["Bike"].points_short, store["Bike"].percent) == (False, 300, 25)
        with pytest.raises(Forbidden):
            set_savings_goal(s, sibling, kid, SavingsGoalInput(reward_id=bike.id))
        archive_reward(s, lego, actor=s.get(Member, household.parent_id))
        assert goal_progress(s, kid) is None and clear_savings_goal(s, kid, kid) is False
