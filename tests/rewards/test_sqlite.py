"""The store and allowance on the embedded SQLite default (`make run`): requests, decisions, limits, paydays."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.allowance.inputs import ConversionInput, ScheduleInput
from app.allowance.services import money_statement, pay_due_allowances, record_payout, set_allowance_schedule
from app.assignments.services import load_family_rules
from app.domain import Conflict
from app.members.models import Member
from app.points.services import reconcile_balances
from app.rewards.models import Reward
from app.rewards.inputs import RejectInput
from app.rewards.services import reject_redemption, request_reward
from app.tenancy.context import family_context
from tests.conftest import family_factory
from tests.rewards.conftest import NOW, give, make_reward

pytestmark = pytest.mark.sqlite


def test_rewards_and_allowance_on_sqlite(sqlite_app) -> None:  # noqa: ANN001
    family = family_factory(sqlite_app)(timezone="Europe/Berlin")
    with sqlite_app.app_context(), family_context(family.slug) as ctx:
        s = ctx.session
        rules = load_family_rules(s, family.timezone)
        parent, kid = Member(username="mum", display_name="Mum", role="parent"), Member(username="k", display_name="K")
        s.add_all([parent, kid])
        s.flush()
        give(s, kid.id, 200, rules)
        reward = make_reward(s, cost=60, stock=2, max_per_week=1)
        first = request_reward(s, kid, reward.id, rules, NOW)
        with pytest.raises(Conflict):
            request_reward(s, kid, reward.id, rules, NOW + timedelta(minutes=1))
        reject_redemption(s, parent, first.id, RejectInput(reason="Not today"), rules, NOW)
        request_reward(s, kid, reward.id, rules, NOW + timedelta(minutes=2))
        s.commit()
        s.expire_all()
        assert s.get(Reward, reward.id).stock == 1 and s.get(Member, kid.id).available_points == 140

        record_payout(s, parent, kid, ConversionInput(points=40, method="cash"), rules, NOW)
        set_allowance_schedule(s, parent, kid,
                               ScheduleInput(mode="fixed_amount", payday=NOW.weekday(), amount_cents=250))
        later = NOW + timedelta(minutes=1)  # the statement orders by time; equal times would make the order arbitrary
        assert len(pay_due_allowances(s, rules, later)) == 1
        assert pay_due_allowances(s, rules, later) == []
        s.commit()
        assert [line.running_cents for line in money_statement(s, s.get(Member, kid.id)).lines] == [40, 290]
        assert s.scalar(select(Reward.name)) == "Ice cream"
        assert reconcile_balances(s, rules.clock, NOW) == []
