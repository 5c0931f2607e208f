"""Daylight saving: family-local due times, day and week bounds, materialising and "missed" on the switch days.

Spring forward / fall back in 2026: America/New_York on 8 March and 1 November, Europe/Berlin on 29 March and
25 October.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select, update

from app.assignments.models import Assignment
from app.assignments.services import load_family_rules, mark_missed, materialise_day
from app.family_time import FamilyClock
from app.jobs.tick import tick_family
from app.members.models import FamilySetting, Member
from app.points.models import LedgerEntry
from app.points.services import ledger_balances, post_entry, reconcile_balances
from tests.assignments.conftest import make_chore

NY, BERLIN = "America/New_York", "Europe/Berlin"
D = date.fromisoformat


def Z(text: str) -> datetime:  # noqa: N802
    """A UTC instant from '2026-03-08T07:30:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# (zone, day, wall time or None for end of day, the UTC instant it means)
DUE_TIMES = [
    (NY, "2026-03-08", "01:59", "2026-03-08T06:59:00"),
    (NY, "2026-03-08", "02:30", "2026-03-08T07:30:00"),  # skipped hour: moves forward to 03:30 EDT
    (NY, "2026-03-08", "03:00", "2026-03-08T07:00:00"),
    (NY, "2026-03-08", None, "2026-03-09T03:59:59"),
    (NY, "2026-11-01", "01:30", "2026-11-01T05:30:00"),  # happens twice: the first (EDT) one
    (NY, "2026-11-01", "02:30", "2026-11-01T07:30:00"),
    (NY, "2026-11-01", None, "2026-11-02T04:59:59"),
    (BERLIN, "2026-03-29", "02:00", "2026-03-29T01:00:00"),  # skipped: 03:00 CEST
    (BERLIN, "2026-03-29", "02:30", "2026-03-29T01:30:00"),
    (BERLIN, "2026-03-29", None, "2026-03-29T21:59:59"),
    (BERLIN, "2026-10-25", "02:30", "2026-10-25T00:30:00"),  # happens twice: the first (CEST) one
    (BERLIN, "2026-10-25", "03:00", "2026-10-25T02:00:00"),
    (BERLIN, "2026-10-25", None, "2026-10-25T22:59:59"),
]


@pytest.mark.parametrize(("zone", "day", "wall", "instant"), DUE_TIMES)
def test_family_clock_at(zone: str, day: str, wall: str | None, instant: str) -> None:
    clock = FamilyClock(zone)
    at = clock.at(D(day), time.fromisoformat(wall) if wall else None)
    assert at == Z(instant)
    assert clock.today(at) == D(day)
    if wall is not None:
        assert clock.local(at).time() >= time.fromisoformat(wall), "a due time never moves earlier"


@pytest.mark.parametrize(("zone", "day", "hours"), [
    (NY, "2026-03-07", 24), (NY, "2026-03-08", 23), (NY, "2026-11-01", 25),
    (BERLIN, "2026-03-29", 23), (BERLIN, "2026-10-25", 25), (BERLIN, "2026-10-26", 24),
])
def test_day_bounds_are_23_or_25_hours_on_switch_days(zone: str, day: str, hours: int) -> None:
    start, end = FamilyClock(zone).day_bounds(D(day))
    assert end - start == timedelta(hours=hours)
    assert FamilyClock(zone).today(start) == D(day) and FamilyClock(zone).today(end) == D(day) + timedelta(days=1)


@pytest.mark.parametrize(("zone", "instant", "today"), [
    (NY, "2026-03-08T04:59:59", "2026-03-07"), (NY, "2026-03-08T05:00:00", "2026-03-08"),  # midnight EST
    (NY, "2026-03-09T03:59:59", "2026-03-08"), (NY, "2026-03-09T04:00:00", "2026-03-09"),  # midnight EDT
    (NY, "2026-11-02T04:59:59", "2026-11-01"), (NY, "2026-11-02T05:00:00", "2026-11-02"),
    (BERLIN, "2026-03-28T22:59:59", "2026-03-28"), (BERLIN, "2026-03-28T23:00:00", "2026-03-29"),
    (BERLIN, "2026-03-29T21:59:59", "2026-03-29"), (BERLIN, "2026-03-29T22:00:00", "2026-03-30"),
    (BERLIN, "2026-10-25T22:59:59", "2026-10-25"), (BERLIN, "2026-10-25T23:00:00", "2026-10-26"),
])
def test_today_turns_over_at_local_midnight(zone: str, instant: str, today: str) -> None:
    assert FamilyClock(zone).today(Z(instant)) == D(today)


@pytest.mark.parametrize(("zone", "week_start", "now", "bounds"), [
    (NY, 0, "2026-03-08T12:00:00", ("2026-03-02T05:00:00", "2026-03-09T04:00:00")),
    (NY, 6, "2026-03-08T12:00:00", ("2026-03-08T05:00:00", "2026-03-15T04:00:00")),
    (NY, 6, "2026-03-08T04:30:00", ("2026-03-01T05:00:00", "2026-03-08T05:00:00")),  # Sat 23:30 EST: last week
    (BERLIN, 0, "2026-10-25T12:00:00", ("2026-10-18T22:00:00", "2026-10-25T23:00:00")),
    (BERLIN, 6, "2026-10-25T12:00:00", ("2026-10-24T22:00:00", "2026-10-31T23:00:00")),
    (BERLIN, 0, "2026-03-29T22:30:00", ("2026-03-29T22:00:00", "2026-04-05T22:00:00")),  # Mon 00:30 CEST
])
def test_week_bounds_follow_the_family_week_start(zone: str, week_start: int, now: str,
                                                 bounds: tuple[str, str]) -> None:
    assert FamilyClock(zone, week_start).week_bounds(Z(now)) == (Z(bounds[0]), Z(bounds[1]))


# --- materialising and "missed" on the switch days ------------------------------------------------------------------

@pytest.mark.parametrize(("zone", "day", "wall", "instant"),
                         [case for case in DUE_TIMES if case[1] in ("2026-03-08", "2026-11-01", "2026-03-29",
                                                                    "2026-10-25")])
def test_switch_day_chores_are_due_and_missed_at_the_right_instant(make_family, in_family,  # noqa: ANN001
                                                                   zone: str, day: str, wall: str | None,
                                                                   instant: str) -> None:
    family = make_family(timezone=zone)
    with in_family(family) as ctx:
        s = ctx.session
        rules = load_family_rules(s, family.timezone)
        kid = Member(username="ava", display_name="Ava", role="child")
        s.add(kid)
        s.flush()
        make_chore(s, assignees=[kid], penalty_points=3, due_time=time.fromisoformat(wall) if wall else None)
        start_of_day = rules.clock.day_bounds(D(day))[0]
        assert materialise_day(s, rules, D(day), start_of_day) == 1
        assignment = s.scalar(select(Assignment))
        assert assignment.due_at == Z(instant)
        assert mark_missed(s, rules, Z(instant) - timedelta(seconds=1)) == 0
        assert mark_missed(s, rules, Z(instant) + timedelta(seconds=1)) == 1
        assert mark_missed(s, rules, Z(instant) + timedelta(hours=2)) == 0
        assert assignment.status == "missed"
        assert s.scalars(select(LedgerEntry.amount)).all() == [-3]
        assert reconcile_balances(s, rules.clock, Z(instant) + timedelta(hours=2)) == []


@pytest.mark.parametrize(("zone", "instant", "days"), [
    (NY, "2026-03-08T04:59:30", ["2026-03-07", "2026-03-08"]),  # 23:59:30 on Saturday, EST
    (NY, "2026-03-08T05:00:30", ["2026-03-08", "2026-03-09"]),  # 00:00:30 on the 23-hour Sunday
    (NY, "2026-11-02T04:59:30", ["2026-11-01", "2026-11-02"]),  # the last seconds of the 25-hour Sunday
    (BERLIN, "2026-03-28T23:00:30", ["2026-03-29", "2026-03-30"]),
    (BERLIN, "2026-10-25T22:59:30", ["2026-10-25", "2026-10-26"]),
])
def test_tick_materialises_the_family_local_today_and_tomorrow(make_family, in_family, zone: str,  # noqa: ANN001
                                                                instant: str, days: list[str]) -> None:
    family = make_family(timezone=zone)
    with in_family(family) as ctx:
        s = ctx.session
        kid = Member(username="ava", display_name="Ava", role="child")
        s.add(kid)
        s.flush()
        make_chore(s, assignees=[kid])
        result = tick_family(s, timezone=family.timezone, now=Z(instant))
        assert (result.created, result.missed) == (2, 0)
        assert sorted(a.due_date.isoformat() for a in s.scalars(select(Assignment))) == days


# --- weekly points reset at the family's week start, in local time --------------------------------------------------

@pytest.mark.parametrize(("zone", "week_start", "first", "second", "weekly"), [
    # Sunday 23:30 EDT is already Monday in UTC, but still last week for a Monday family.
    (NY, "monday", "2026-03-09T03:30:00", "2026-03-09T04:30:00", 7),
    (NY, "sunday", "2026-03-09T03:30:00", "2026-03-09T04:30:00", 12),
    # Saturday 23:30 EST → Sunday 00:30 EST (the spring-forward Sunday) for a Sunday family.
    (NY, "sunday", "2026-03-08T04:30:00", "2026-03-08T05:30:00", 7),
    (NY, "monday", "2026-03-08T04:30:00", "2026-03-08T05:30:00", 12),
    # Berlin: the 25-hour Sunday ends at 23:00 UTC.
    (BERLIN, "monday", "2026-10-25T22:30:00", "2026-10-25T23:30:00", 7),
    (BERLIN, "sunday", "2026-10-25T22:30:00", "2026-10-25T23:30:00", 12),
])
def test_weekly_points_reset_at_the_local_week_start(make_family, in_family, zone: str, week_start: str,  # noqa: ANN001
                                                     first: str, second: str, weekly: int) -> None:
    family = make_family(timezone=zone)
    with in_family(family) as ctx:
        s = ctx.session
        s.execute(update(FamilySetting).where(FamilySetting.key == "week_start").values(value=week_start))
        rules = load_family_rules(s, family.timezone)
        assert rules.clock.week_start == (0 if week_start == "monday" else 6)
        kid = Member(username="ava", display_name="Ava", role="child")
        s.add(kid)
        s.flush()
        post_entry(s, kid.id, amount=5, kind="bonus", description="Helpful", clock=rules.clock, now=Z(first))
        post_entry(s, kid.id, amount=7, kind="bonus", description="Helpful", clock=rules.clock, now=Z(second))
        s.commit()
        later = Z(second) + timedelta(minutes=10)
        assert (kid.weekly_points, kid.available_points) == (weekly, 12)
        assert ledger_balances(s, rules.clock, later)[kid.id]["weekly_points"] == weekly
        assert reconcile_balances(s, rules.clock, later) == []
