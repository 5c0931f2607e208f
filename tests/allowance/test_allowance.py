"""Allowance rules against PostgreSQL: conversion math, never below zero, weekly paydays once, the money statement."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from app.allowance.inputs import ConversionInput, PaymentInput, ScheduleInput
from app.allowance.models import AllowanceSchedule, Payout
from app.allowance.services import (
    conversion_rate,
    format_money,
    money_statement,
    parse_amount_cents,
    pay_due_allowances,
    record_allowance,
    record_payout,
    set_allowance_schedule,
)
from app.assignments.services import FamilyRules, load_family_rules
from app.domain import Forbidden, ValidationFailed
from app.inputs import parse_input
from app.members.models import FamilySetting, Member
from app.points.models import LedgerEntry
from app.points.services import post_entry, reconcile_balances
from app.tenancy.registry import FamilyRecord

FRIDAY = datetime(2026, 3, 6, 18, 0, tzinfo=timezone.utc)  # a Friday evening (payday 4)


@dataclass
class Family:
    record: FamilyRecord
    rules: FamilyRules
    parent_id: Any
    kid_id: Any


@pytest.fixture
def home(in_family: Callable[..., Any], family: FamilyRecord) -> Family:
    """A parent and a kid with 300 points (earned on Monday of FRIDAY's week)."""
    with in_family(family) as ctx:
        s = ctx.session
        rules = load_family_rules(s, family.timezone)
        parent, kid = Member(username="dad", display_name="Dad", role="parent"), Member(username="ava",
                                                                                        display_name="Ava")
        s.add_all([parent, kid])
        s.flush()
        post_entry(s, kid.id, amount=300, kind="chore", description="Chores", clock=rules.clock,
                   now=FRIDAY - timedelta(days=4))
        s.commit()
        return Family(family, rules, parent.id, kid.id)


def _set(session: Any, key: str, value: Any) -> None:
    setting = session.scalar(select(FamilySetting).where(FamilySetting.key == key))
    if setting is None:
        session.add(FamilySetting(key=key, value=value))
    else:
        setting.value = value
    session.flush()


@pytest.mark.parametrize("points, per_unit, cents", [(250, 100, 250), (100, 100, 100), (1, 1, 100),
                                                      (333, 200, 166), (7, 3, 233), (10_000, 100, 10_000)])
def test_conversion_math_is_integer_and_rounds_down(in_family, home: Family, points: int, per_unit: int,
                                                     cents: int) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        _set(s, "points_per_currency_unit", per_unit)
        post_entry(s, home.kid_id, amount=10_000, kind="bonus", description="More", clock=home.rules.clock,
                   now=FRIDAY)
        payout = record_payout(s, s.get(Member, home.parent_id), s.get(Member, home.kid_id),
                               parse_input(ConversionInput, {"points": points, "method": "cash", "note": None}),
                               home.rules, FRIDAY)
        assert (payout.points, payout.amount_cents, payout.currency, payout.kind) == (points, cents, "USD",
                                                                                      "conversion")


def test_a_conversion_is_a_ledger_row_and_a_payout(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        _set(s, "currency", "EUR")
        kid = s.get(Member, home.kid_id)
        payout = record_payout(s, s.get(Member, home.parent_id), kid,
                               ConversionInput(points="250", method=" bank transfer ", note=" birthday "), home.rules,
                               FRIDAY)
        s.commit()
        entry = s.get(LedgerEntry, payout.ledger_entry_id)
        assert (entry.kind, entry.amount, entry.reference_id, entry.actor_id) == (
            "conversion", -250, payout.id, home.parent_id)
        assert entry.description == "Converted to €2.50"
        assert (payout.method, payout.note, payout.paid_on, payout.paid_by) == (
            "bank transfer", "birthday", FRIDAY.date(), home.parent_id)
        assert s.get(Member, home.kid_id).available_points == 50
        assert reconcile_balances(s, home.rules.clock, FRIDAY) == []


def test_cannot_convert_more_than_available(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        with pytest.raises(ValidationFailed) as refused:
            record_payout(s, s.get(Member, home.parent_id), s.get(Member, home.kid_id), ConversionInput(points=301),
                          home.rules, FRIDAY)
        assert refused.value.message == "Insufficient points"
        assert refused.value.extra == {"points_available": 300, "points_required": 301, "points_short": 1}
        s.rollback()
        assert s.scalar(select(func.count()).select_from(Payout)) == 0
        assert s.get(Member, home.kid_id).available_points == 300


@pytest.mark.parametrize("points, method, note, field", [
    (0, None, None, "points"), (-5, None, None, "points"), ("ten", None, None, "points"),
    (10, "x" * 41, None, "method"), (10, None, "x" * 301, "note"),
])
def test_bad_conversions_are_refused(in_family, home: Family, points: Any, method: Any, note: Any,
                                     field: str) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        with pytest.raises(ValidationFailed) as refused:
            record_payout(s, s.get(Member, home.parent_id), s.get(Member, home.kid_id),
                          parse_input(ConversionInput, {"points": points, "method": method, "note": note}), home.rules,
                          FRIDAY)
        assert field in refused.value.fields


def test_only_parents_pay_and_only_kids_are_paid(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        parent, kid = s.get(Member, home.parent_id), s.get(Member, home.kid_id)
        with pytest.raises(Forbidden):
            record_payout(s, kid, kid, ConversionInput(points=10), home.rules, FRIDAY)
        with pytest.raises(Forbidden):
            record_allowance(s, kid, kid, PaymentInput(amount_cents=500), home.rules, FRIDAY)
        with pytest.raises(ValidationFailed, match="active kids"):
            record_allowance(s, parent, parent, PaymentInput(amount_cents=500), home.rules, FRIDAY)
        with pytest.raises(ValidationFailed):
            record_allowance(s, parent, kid, PaymentInput(amount_cents=0), home.rules, FRIDAY)


def test_a_fixed_allowance_moves_no_points(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        payout = record_allowance(s, s.get(Member, home.parent_id), s.get(Member, home.kid_id),
                                  PaymentInput(amount_cents=500, method="cash", note="Pocket money"), home.rules,
                                  FRIDAY)
        assert (payout.kind, payout.amount_cents, payout.points, payout.ledger_entry_id) == ("allowance", 500, 0,
                                                                                            None)
        assert s.get(Member, home.kid_id).available_points == 300


@pytest.mark.parametrize("typed, cents", [("2.50", 250), ("2", 200), ("2,5", 250), ("$0.05", 5), (" 10.1 ", 1010)])
def test_amounts_typed_by_people(typed: str, cents: int) -> None:
    assert parse_amount_cents(typed) == cents


@pytest.mark.parametrize("typed", ["", "abc", "1.234", "-2", "1e3"])
def test_bad_amounts_typed_by_people(typed: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_amount_cents(typed)


def test_money_is_formatted_per_currency() -> None:
    assert (format_money(250, "USD"), format_money(123456, "EUR"), format_money(5, "CHF"), format_money(-99, "GBP")) \
        == ("$2.50", "€1,234.56", "CHF 0.05", "-£0.99")


def test_a_broken_rate_setting_falls_back_to_the_default(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        _set(s, "points_per_currency_unit", 0)
        _set(s, "currency", "dollars")
        assert conversion_rate(s).describe() == "100 points = $1.00"


# --- weekly paydays -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field", [
    ({"mode": "monthly"}, "mode"), ({"payday": 7}, "payday"), ({"payday": True}, "payday"),
    ({"amount_cents": -1}, "amount_cents"), ({"mode": "fixed_amount", "amount_cents": 0}, "amount_cents"),
])
def test_bad_schedules_are_refused(in_family, home: Family, changes: dict[str, Any],  # noqa: ANN001
                                   field: str) -> None:
    values = {"mode": "fixed_amount", "payday": 4, "amount_cents": 500, **changes}
    with in_family(home.record) as ctx:
        s = ctx.session
        with pytest.raises(ValidationFailed) as refused:
            set_allowance_schedule(s, s.get(Member, home.parent_id), s.get(Member, home.kid_id),
                                   parse_input(ScheduleInput, values))
        assert field in refused.value.fields


def test_pay_due_allowances_pays_on_the_family_payday_once(make_family, in_family) -> None:  # noqa: ANN001
    """Sydney: Friday 08:00 local is Thursday in UTC; the payday is the family's Friday."""
    family = make_family(timezone="Australia/Sydney")
    with in_family(family) as ctx:
        s = ctx.session
        rules = load_family_rules(s, family.timezone)
        parent, kid = Member(username="mum", display_name="Mum", role="parent"), Member(username="kid",
                                                                                        display_name="Kid")
        s.add_all([parent, kid])
        s.flush()
        set_allowance_schedule(s, parent, kid, ScheduleInput(mode="fixed_amount", payday=4, amount_cents=700))
        s.commit()
    thursday_local = rules.clock.at(date(2026, 3, 5), time(20, 0))
    friday_local = rules.clock.at(date(2026, 3, 6), time(8, 0))
    assert friday_local.weekday() == 3  # Thursday in UTC

    with in_family(family) as ctx:
        assert pay_due_allowances(ctx.session, rules, thursday_local) == []
        paid = pay_due_allowances(ctx.session, rules, friday_local)
        assert [(p.kind, p.amount_cents, p.paid_on) for p in paid] == [("allowance", 700, date(2026, 3, 6))]
        ctx.session.commit()
    with in_family(family) as ctx:
        assert pay_due_allowances(ctx.session, rules, friday_local + timedelta(hours=3)) == []
        ctx.session.commit()
        assert ctx.session.scalar(select(func.count()).select_from(Payout)) == 1
        assert ctx.session.scalar(select(AllowanceSchedule.last_paid_on)) == date(2026, 3, 6)
    with in_family(family) as ctx:  # next week's payday pays again
        assert len(pay_due_allowances(ctx.session, rules, friday_local + timedelta(days=7))) == 1


def test_concurrent_ticks_pay_once(race_app, in_family, home: Family) -> None:  # noqa: ANN001
    from tests.rewards.conftest import run_together

    with in_family(home.record) as ctx:
        s = ctx.session
        set_allowance_schedule(s, s.get(Member, home.parent_id), s.get(Member, home.kid_id),
                               ScheduleInput(mode="convert_week", payday=4, amount_cents=0))
        s.commit()

    results = run_together(race_app, home.record.slug,
                           [lambda session: len(pay_due_allowances(session, home.rules, FRIDAY))] * 8)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(results) == [0] * 7 + [1]
    with in_family(home.record) as ctx:
        s = ctx.session
        assert s.scalars(select(Payout.points)).all() == [300]
        assert s.get(Member, home.kid_id).available_points == 0
        assert reconcile_balances(s, home.rules.clock, FRIDAY) == []


def test_convert_week_converts_only_this_weeks_points_still_available(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        parent, kid = s.get(Member, home.parent_id), s.get(Member, home.kid_id)
        # Last week's points are not this week's; a deduction this week lowers what was earned.
        post_entry(s, kid.id, amount=500, kind="bonus", description="Old", clock=home.rules.clock,
                   now=FRIDAY - timedelta(days=9))
        post_entry(s, kid.id, amount=-40, kind="deduction", description="Rude", clock=home.rules.clock,
                   now=FRIDAY - timedelta(days=1))
        set_allowance_schedule(s, parent, kid, ScheduleInput(mode="convert_week", payday=4, amount_cents=0))
        [payout] = pay_due_allowances(s, home.rules, FRIDAY)
        assert (payout.points, payout.amount_cents, payout.kind) == (260, 260, "conversion")
        assert s.get(Member, kid.id).available_points == 500
        assert reconcile_balances(s, home.rules.clock, FRIDAY) == []


def test_convert_week_never_takes_more_than_is_available(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        parent, kid = s.get(Member, home.parent_id), s.get(Member, home.kid_id)
        record_payout(s, parent, kid, ConversionInput(points=250), home.rules, FRIDAY - timedelta(days=1))
        set_allowance_schedule(s, parent, kid, ScheduleInput(mode="convert_week", payday=4, amount_cents=0))
        [payout] = pay_due_allowances(s, home.rules, FRIDAY)
        assert payout.points == 50 and s.get(Member, kid.id).available_points == 0


def test_inactive_schedules_and_kids_are_not_paid(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        parent, kid = s.get(Member, home.parent_id), s.get(Member, home.kid_id)
        set_allowance_schedule(s, parent, kid,
                               ScheduleInput(mode="fixed_amount", payday=4, amount_cents=500, active=False))
        assert pay_due_allowances(s, home.rules, FRIDAY) == []


# --- the statement ------------------------------------------------------------------------------------------------

def test_the_money_statement_has_running_totals(in_family, home: Family) -> None:  # noqa: ANN001
    with in_family(home.record) as ctx:
        s = ctx.session
        parent, kid = s.get(Member, home.parent_id), s.get(Member, home.kid_id)
        record_payout(s, parent, kid, ConversionInput(points=100, method="cash"), home.rules, FRIDAY)
        record_allowance(s, parent, kid, PaymentInput(amount_cents=500, method="cash", note="Weekly"), home.rules,
                         FRIDAY + timedelta(minutes=1))
        record_payout(s, parent, kid, ConversionInput(points=150, method="cash"), home.rules,
                      FRIDAY + timedelta(minutes=2))
        statement = money_statement(s, kid)
        assert [(line.payout.kind, line.payout.amount_cents, line.running_cents, line.running_points)
                for line in statement.lines] == [("conversion", 100, 100, 100), ("allowance", 500, 600, 100),
                                                 ("conversion", 150, 750, 250)]
        assert (statement.total_cents, statement.total_points_converted) == ({"USD": 750}, 250)
