"""Cached balances move with each ledger row: kinds, weeks, overspending and bad amounts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from app.domain import Forbidden, ValidationFailed
from app.family_time import FamilyClock
from app.inputs import parse_input
from app.members.models import Member
from app.points.inputs import PointsAward
from app.points.models import LedgerEntry
from app.points.services import MAX_POINTS, clean_points, give_points, ledger_balances, post_entry, reconcile_balances
from tests.assignments.conftest import make_parent

CLOCK = FamilyClock("UTC")
MONDAY = datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc)


def _kid(session, name: str = "ava") -> Member:  # noqa: ANN001
    kid = Member(username=name, display_name=name.title(), role="child")
    session.add(kid)
    session.flush()
    return kid


@pytest.mark.parametrize(("kind", "amount", "balances"), [
    # (available, total, weekly, lifetime)
    ("chore", 10, (10, 10, 10, 10)),
    ("bonus", 5, (5, 5, 5, 5)),
    ("achievement", 7, (7, 7, 7, 7)),
    ("deduction", -4, (-4, -4, -4, 0)),
    ("penalty", -3, (-3, -3, -3, 0)),
    ("adjustment", -2, (-2, -2, -2, 0)),
    ("refund", 6, (6, 0, 0, 0)),
])
def test_each_kind_moves_the_right_balances(in_family, family, kind: str, amount: int,  # noqa: ANN001
                                            balances: tuple[int, int, int, int]) -> None:
    with in_family(family) as ctx:
        s = ctx.session
        kid = _kid(s)
        post_entry(s, kid.id, amount=amount, kind=kind, description="x", clock=CLOCK, now=MONDAY)
        assert (kid.available_points, kid.total_points, kid.weekly_points, kid.lifetime_points_earned) == balances
        assert reconcile_balances(s, CLOCK, MONDAY) == []


def test_spending_more_than_available_is_refused_and_writes_nothing(in_family, family) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        kid = _kid(s)
        post_entry(s, kid.id, amount=10, kind="bonus", description="x", clock=CLOCK, now=MONDAY)
        with pytest.raises(ValidationFailed, match="Not enough points") as caught:
            post_entry(s, kid.id, amount=-11, kind="redemption", description="Ice cream", clock=CLOCK, now=MONDAY)
        assert caught.value.extra == {"points_available": 10, "points_required": 11, "points_short": 1}
        post_entry(s, kid.id, amount=-10, kind="redemption", description="Ice cream", clock=CLOCK, now=MONDAY)
        assert (kid.available_points, kid.total_points) == (0, 10)
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 2


def test_weekly_points_start_again_each_week(in_family, family) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        kid = _kid(s)
        post_entry(s, kid.id, amount=10, kind="bonus", description="x", clock=CLOCK, now=MONDAY - timedelta(days=1))
        post_entry(s, kid.id, amount=4, kind="bonus", description="x", clock=CLOCK, now=MONDAY)
        assert (kid.weekly_points, kid.weekly_points_week, kid.total_points) == (4, MONDAY.date(), 14)
        assert reconcile_balances(s, CLOCK, MONDAY) == []


def test_a_row_stamped_in_the_previous_week_does_not_reset_this_weeks_points(in_family, family) -> None:  # noqa: ANN001
    """A transaction that read the clock on Sunday 23:59:59 may get the member lock after one stamped Monday."""
    with in_family(family) as ctx:
        s = ctx.session
        kid = _kid(s)
        post_entry(s, kid.id, amount=4, kind="bonus", description="x", clock=CLOCK, now=MONDAY)
        post_entry(s, kid.id, amount=10, kind="bonus", description="x", clock=CLOCK,
                   now=MONDAY.replace(hour=0) - timedelta(seconds=1))
        assert (kid.weekly_points, kid.weekly_points_week, kid.total_points) == (4, MONDAY.date(), 14)
        assert reconcile_balances(s, CLOCK, MONDAY) == []
        assert ledger_balances(s, CLOCK, MONDAY)[kid.id]["weekly_points"] == 4


@pytest.mark.parametrize(("value", "options", "result"), [
    (5, {}, 5), ("12", {}, 12), (" 7 ", {}, 7), (MAX_POINTS, {}, MAX_POINTS),
    (MAX_POINTS + 1, {}, "range"), (-1, {}, "negative"), (0, {}, "zero"), (0, {"allow_zero": True}, 0),
    (-MAX_POINTS, {"allow_negative": True}, -MAX_POINTS), (-MAX_POINTS - 1, {"allow_negative": True}, "range"),
    (2.5, {}, "invalid"), ("1e3", {}, "invalid"), ("ten", {}, "invalid"), (None, {}, "invalid"),
    (True, {}, "invalid"), ([5], {}, "invalid"), (10 ** 30, {}, "range"),
])
def test_clean_points(value: Any, options: dict[str, bool], result: int | str) -> None:
    if isinstance(result, int):
        assert clean_points(value, **options) == result
    else:
        with pytest.raises(ValidationFailed) as caught:
            clean_points(value, **options)
        assert caught.value.fields == {"points": result}


GIVE_BAD = [
    ("zero", {"amount": 0}, ValidationFailed),
    ("negative", {"amount": -5}, ValidationFailed),
    ("absurd", {"amount": 10_001}, ValidationFailed),
    ("not a number", {"amount": "lots"}, ValidationFailed),
    ("no reason", {"reason": "  "}, ValidationFailed),
    ("reason too long", {"reason": "x" * 201}, ValidationFailed),
    ("unknown kind", {"kind": "gift"}, ValidationFailed),
    ("to a parent", {"member": "parent"}, ValidationFailed),
    ("to an inactive kid", {"member": "inactive"}, ValidationFailed),
    ("by a kid", {"actor": "kid"}, Forbidden),
]


@pytest.mark.parametrize(("changes", "error"), [g[1:] for g in GIVE_BAD], ids=[g[0] for g in GIVE_BAD])
def test_bad_bonuses_and_deductions_are_refused(in_family, family, changes: dict[str, Any],  # noqa: ANN001
                                                error: type[Exception]) -> None:
    with in_family(family) as ctx:
        s = ctx.session
        parent = make_parent(s)
        kid, other = _kid(s), _kid(s, "ben")
        inactive = _kid(s, "cal")
        inactive.is_active = False
        people = {"parent": parent, "kid": other, "inactive": inactive}
        args: dict[str, Any] = {"actor": parent, "member": kid, "kind": "bonus", "amount": 5, "reason": "Helpful"}
        args.update({k: people.get(v, v) if k in ("actor", "member") else v for k, v in changes.items()})
        with pytest.raises(error):  # the form's or the API's typed input first, then the service's rules
            award = parse_input(PointsAward, {"kind": args["kind"], "points": args["amount"], "reason": args["reason"]})
            give_points(s, actor=args["actor"], member=args["member"], data=award, clock=CLOCK, now=MONDAY)
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 0
        assert (kid.available_points, other.available_points) == (0, 0)
