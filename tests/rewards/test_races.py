"""The overspend races against PostgreSQL: 20 real threads, each in its own family session, released together."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import DomainError, ValidationFailed
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import reconcile_balances
from app.rewards.models import Redemption, Reward
from app.rewards.inputs import RejectInput
from app.rewards.services import approve_redemption, reject_redemption, request_reward
from tests.rewards.conftest import NOW, RACERS, give, make_reward, run_together

# Real threads racing for row locks (SELECT … FOR UPDATE) through a pool of connections: PostgreSQL only.
pytestmark = pytest.mark.postgresql_only("races for row locks")


def _outcomes(results: list[object]) -> tuple[list[object], list[DomainError]]:
    """Successes and clean refusals; anything else (deadlock, duplicate key, pool timeout) fails the test."""
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert not unexpected, unexpected
    return ([r for r in results if not isinstance(r, Exception)],
            [r for r in results if isinstance(r, DomainError)])


def _assert_consistent(in_family, family, rules) -> None:  # noqa: ANN001
    """A fresh session: cached balances equal the ledger, and each request's ledger rows net to what it holds."""
    with in_family(family) as ctx:
        s = ctx.session
        assert reconcile_balances(s, rules.clock, NOW) == []
        held = dict(s.execute(select(LedgerEntry.reference_id, func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.kind.in_(("redemption", "refund")))
                              .group_by(LedgerEntry.reference_id)).all())
        for redemption in s.scalars(select(Redemption)):
            expected = 0 if redemption.status == "rejected" else -redemption.points_spent
            assert held.pop(redemption.id) == expected
        assert held == {}, "ledger rows for requests that do not exist"


def test_twenty_kids_race_for_the_last_item_and_exactly_one_gets_it(race_app, in_family, family,
                                                                     rules_for) -> None:  # noqa: ANN001
    rules = rules_for(family)
    with in_family(family) as ctx:
        s = ctx.session
        kids = [Member(username=f"kid{i}", display_name=f"Kid {i}") for i in range(RACERS)]
        s.add_all(kids)
        s.flush()
        for kid in kids:
            give(s, kid.id, 100, rules)
        reward_id = make_reward(s, name="Last cookie", cost=60, stock=1).id
        kid_ids = [k.id for k in kids]
        s.commit()

    def request_for(kid_id: uuid.UUID):  # noqa: ANN202
        return lambda session: request_reward(session, session.get(Member, kid_id), reward_id, rules, NOW).member_id

    successes, refusals = _outcomes(run_together(race_app, family.slug, [request_for(k) for k in kid_ids]))

    assert len(successes) == 1 and len(refusals) == RACERS - 1
    assert {(type(r), r.message) for r in refusals} == {(ValidationFailed, "Reward is out of stock")}
    with in_family(family) as ctx:
        s = ctx.session
        assert s.get(Reward, reward_id).stock == 0
        assert s.scalars(select(Redemption.member_id)).all() == successes
        balances = Counter(s.scalars(select(Member.available_points)))
        assert balances == Counter({100: RACERS - 1, 40: 1})
    _assert_consistent(in_family, family, rules)


def test_one_kid_taps_twenty_times_with_points_for_exactly_one(race_app, in_family, family,
                                                                rules_for) -> None:  # noqa: ANN001
    rules = rules_for(family)
    with in_family(family) as ctx:
        s = ctx.session
        kid = Member(username="maya", display_name="Maya")
        s.add(kid)
        s.flush()
        give(s, kid.id, 75, rules)
        # Two rewards with unlimited stock, so only the balance (the member lock) decides.
        first, second = make_reward(s, name="Comic", cost=75), make_reward(s, name="Sticker", cost=75)
        kid_id, reward_ids = kid.id, [first.id, second.id]
        s.commit()

    def tap(index: int):  # noqa: ANN202
        return lambda session: request_reward(session, session.get(Member, kid_id), reward_ids[index % 2], rules,
                                              NOW).id

    successes, refusals = _outcomes(run_together(race_app, family.slug, [tap(i) for i in range(RACERS)]))

    assert len(successes) == 1 and len(refusals) == RACERS - 1
    assert all(r.message == "Insufficient points" and r.extra == {"points_available": 0, "points_required": 75,
                                                                 "points_short": 75} for r in refusals), refusals
    with in_family(family) as ctx:
        s = ctx.session
        assert s.get(Member, kid_id).available_points == 0
        assert s.scalar(select(func.count()).select_from(Redemption)) == 1
    _assert_consistent(in_family, family, rules)


def test_parents_deciding_at_once_refund_once(race_app, in_family, family, rules_for) -> None:  # noqa: ANN001
    rules = rules_for(family)
    with in_family(family) as ctx:
        s = ctx.session
        parent, kid = Member(username="mum", display_name="Mum", role="parent"), Member(username="k", display_name="K")
        s.add_all([parent, kid])
        s.flush()
        give(s, kid.id, 50, rules)
        reward = make_reward(s, cost=50, stock=3)
        redemption_id = request_reward(s, kid, reward.id, rules, NOW).id
        parent_id, kid_id, reward_id = parent.id, kid.id, reward.id
        s.commit()

    def decide(index: int):  # noqa: ANN202
        def run(session: Session) -> str:
            me = session.get(Member, parent_id)
            if index % 2:
                return approve_redemption(session, me, redemption_id, NOW).status
            return reject_redemption(session, me, redemption_id, RejectInput(reason="No"), rules, NOW).status
        return run

    successes, refusals = _outcomes(run_together(race_app, family.slug, [decide(i) for i in range(RACERS)]))

    assert len(successes) >= 1 and all(r.message.startswith("Redemption is already") for r in refusals)
    with in_family(family) as ctx:
        s = ctx.session
        refunds = s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "refund"))
        status = s.get(Redemption, redemption_id).status
        assert refunds == (1 if status == "rejected" else 0)
        assert s.get(Member, kid_id).available_points == (50 if status == "rejected" else 0)
        assert s.get(Reward, reward_id).stock == (3 if status == "rejected" else 2)
    _assert_consistent(in_family, family, rules)
