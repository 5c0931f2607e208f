"""Recurrence as a table: every schedule kind, start/end, pauses, fixed vs rolling, and rules that never fire."""
from __future__ import annotations

import time as stopwatch
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from app.assignments.models import Assignment
from app.assignments.services import complete_assignment, materialise_day
from app.chores.inputs import ScheduleInput
from app.chores.schedules import ScheduleSpec, clean_schedule, next_occurrences, occurs_on
from app.domain import ValidationFailed
from app.inputs import parse_input
from app.members.models import Member
from tests.assignments.conftest import make_chore


def _clean(data: dict[str, Any], *, today: date) -> ScheduleSpec:
    """A schedule as the form and the API give it: parsed into its typed input, then checked as a whole."""
    return clean_schedule(parse_input(ScheduleInput, data), today=today)

D = date.fromisoformat


def _days(first: str, last: str) -> list[date]:
    start, end = D(first), D(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# (id, schedule fields, the day the parent edits it, window, every day in the window the chore happens)
CASES: list[tuple[str, dict[str, Any], str, tuple[str, str], list[str]]] = [
    ("daily", {"kind": "daily", "start_date": "2026-03-04"}, "2026-03-04", ("2026-03-01", "2026-03-07"),
     ["2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07"]),
    ("daily with an end date", {"kind": "daily", "start_date": "2026-03-04", "end_date": "2026-03-06"}, "2026-03-04",
     ("2026-03-01", "2026-03-10"), ["2026-03-04", "2026-03-05", "2026-03-06"]),
    ("weekly on Mon and Thu", {"kind": "weekly", "weekdays": [0, 3], "start_date": "2026-03-04"}, "2026-03-04",
     ("2026-03-01", "2026-03-16"), ["2026-03-05", "2026-03-09", "2026-03-12", "2026-03-16"]),
    ("weekends until the 15th", {"kind": "weekly", "weekdays": "5,6", "start_date": "2026-03-01",
                                 "end_date": "2026-03-15"}, "2026-03-01", ("2026-03-01", "2026-03-31"),
     ["2026-03-01", "2026-03-07", "2026-03-08", "2026-03-14", "2026-03-15"]),
    ("every 3 days", {"kind": "interval", "interval": 3, "interval_unit": "days", "start_date": "2026-03-04"},
     "2026-03-04", ("2026-03-01", "2026-03-14"), ["2026-03-04", "2026-03-07", "2026-03-10", "2026-03-13"]),
    ("every 2 weeks", {"kind": "interval", "interval": 2, "interval_unit": "weeks", "start_date": "2026-03-04"},
     "2026-03-04", ("2026-03-01", "2026-04-05"), ["2026-03-04", "2026-03-18", "2026-04-01"]),
    ("every 2 weeks on Mon and Fri", {"kind": "interval", "interval": 2, "interval_unit": "weeks",
                                      "weekdays": [0, 4], "start_date": "2026-03-04"}, "2026-03-04",
     ("2026-03-01", "2026-03-31"), ["2026-03-06", "2026-03-16", "2026-03-20", "2026-03-30"]),
    ("every 3 months", {"kind": "interval", "interval": 3, "interval_unit": "months", "start_date": "2026-01-15"},
     "2026-01-10", ("2026-01-01", "2026-12-31"), ["2026-01-15", "2026-04-15", "2026-07-15", "2026-10-15"]),
    ("every month from the 31st", {"kind": "interval", "interval": 1, "interval_unit": "months",
                                   "start_date": "2026-01-31"}, "2026-01-10", ("2026-01-01", "2026-06-30"),
     ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30"]),
    ("monthly on the 15th", {"kind": "monthly_day", "month_day": 15, "start_date": "2026-01-01"}, "2026-01-01",
     ("2026-01-01", "2026-04-30"), ["2026-01-15", "2026-02-15", "2026-03-15", "2026-04-15"]),
    ("monthly on the 31st, short months", {"kind": "monthly_day", "month_day": 31, "start_date": "2026-01-01"},
     "2026-01-01", ("2026-01-01", "2026-04-30"), ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]),
    ("monthly on the 29th, no 29 Feb", {"kind": "monthly_day", "month_day": 29, "start_date": "2026-01-01"},
     "2026-01-01", ("2026-01-01", "2026-03-31"), ["2026-01-29", "2026-02-28", "2026-03-29"]),
    ("monthly on the 29th, leap year", {"kind": "monthly_day", "month_day": 29, "start_date": "2027-12-01"},
     "2027-12-01", ("2027-12-01", "2028-04-30"),
     ["2027-12-29", "2028-01-29", "2028-02-29", "2028-03-29", "2028-04-29"]),
    ("every 2 months on the 30th", {"kind": "monthly_day", "month_day": 30, "interval": 2,
                                    "start_date": "2026-01-01"}, "2026-01-01", ("2026-01-01", "2026-06-30"),
     ["2026-01-30", "2026-03-30", "2026-05-30"]),
    ("2nd Sunday", {"kind": "monthly_weekday", "week_of_month": 2, "weekdays": [6], "start_date": "2026-01-01"},
     "2026-01-01", ("2026-01-01", "2026-04-30"), ["2026-01-11", "2026-02-08", "2026-03-08", "2026-04-12"]),
    ("last Friday", {"kind": "monthly_weekday", "week_of_month": -1, "weekdays": [4], "start_date": "2026-01-01"},
     "2026-01-01", ("2026-01-01", "2026-04-30"), ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24"]),
    ("yearly", {"kind": "yearly", "start_date": "2026-03-04"}, "2026-03-04", ("2026-01-01", "2028-12-31"),
     ["2026-03-04", "2027-03-04", "2028-03-04"]),
    ("yearly from 29 Feb", {"kind": "yearly", "start_date": "2028-02-29"}, "2027-06-01", ("2028-01-01", "2031-12-31"),
     ["2028-02-29", "2029-02-28", "2030-02-28", "2031-02-28"]),
    ("once", {"kind": "once", "start_date": "2026-03-10"}, "2026-03-04", ("2026-03-01", "2026-03-31"),
     ["2026-03-10"]),
    ("daily with a vacation pause", {"kind": "daily", "start_date": "2026-03-04", "paused_from": "2026-03-06",
                                     "paused_until": "2026-03-08"}, "2026-03-04", ("2026-03-04", "2026-03-10"),
     ["2026-03-04", "2026-03-05", "2026-03-09", "2026-03-10"]),
    ("weekly with a vacation pause", {"kind": "weekly", "weekdays": [2], "start_date": "2026-03-04",
                                      "paused_from": "2026-03-10", "paused_until": "2026-03-20"}, "2026-03-04",
     ("2026-03-01", "2026-03-31"), ["2026-03-04", "2026-03-25"]),
    ("rolling changes nothing before a completion", {"kind": "interval", "interval": 3, "rolling": True,
                                                     "start_date": "2026-03-04"}, "2026-03-04",
     ("2026-03-01", "2026-03-10"), ["2026-03-04", "2026-03-07", "2026-03-10"]),
]


@pytest.mark.parametrize(("data", "today", "window", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_schedule_table(data: dict[str, Any], today: str, window: tuple[str, str], expected: list[str]) -> None:
    spec = _clean(data, today=D(today))
    days = _days(*window)
    assert [d.isoformat() for d in days if occurs_on(spec, d)] == expected
    upcoming = next_occurrences(spec, after=days[0] - timedelta(days=1), count=len(expected))
    assert [d.isoformat() for d in upcoming] == expected


NEVER = [
    ("weekday outside the dates", {"kind": "weekly", "weekdays": [0], "start_date": "2026-03-03",
                                   "end_date": "2026-03-07"}),
    ("once, paused that day", {"kind": "once", "start_date": "2026-03-10", "paused_from": "2026-03-09",
                               "paused_until": "2026-03-11"}),
    ("paused for its whole life", {"kind": "daily", "start_date": "2026-03-04", "end_date": "2026-03-06",
                                   "paused_from": "2026-03-01", "paused_until": "2026-03-31"}),
    ("1st Monday after it", {"kind": "monthly_weekday", "week_of_month": 1, "weekdays": [0],
                             "start_date": "2026-03-03", "end_date": "2026-03-31"}),
    ("the 15th after it", {"kind": "monthly_day", "month_day": 15, "start_date": "2026-03-16",
                           "end_date": "2026-04-14"}),
    ("paused past the five-year horizon", {"kind": "daily", "start_date": "2026-03-04", "paused_from": "2026-03-04",
                                           "paused_until": "2031-12-31"}),
]


@pytest.mark.parametrize("data", [c[1] for c in NEVER], ids=[c[0] for c in NEVER])
def test_rules_that_never_fire_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed, match="never happens") as caught:
        _clean(data, today=D("2026-03-04"))
    assert caught.value.fields == {"kind": "never fires"}


def test_a_long_pause_is_answered_quickly() -> None:
    """A vacation pause covering years must not make the "next 5" preview walk the rule day by day, again and again."""
    started = stopwatch.perf_counter()
    spec = _clean({"kind": "daily", "start_date": "2026-03-04", "paused_from": "2026-03-04",
                           "paused_until": "2030-12-31"}, today=D("2026-03-04"))
    assert next_occurrences(spec, after=D("2026-03-03"), count=5)[0] == D("2031-01-01")
    # Generous: the linear walk takes milliseconds, the quadratic one took seconds.
    assert stopwatch.perf_counter() - started < 1.5


BAD = [
    ({"kind": "hourly"}, "kind"),
    ({"kind": "interval", "interval_unit": "years"}, "interval_unit"),
    ({"kind": "weekly", "weekdays": [7]}, "weekdays"),
    ({"kind": "weekly", "weekdays": ["mon"]}, "weekdays"),
    ({"kind": "weekly", "weekdays": []}, "weekdays"),
    ({"kind": "monthly_day", "month_day": 32}, "month_day"),
    ({"kind": "monthly_day", "month_day": 0}, "month_day"),
    ({"kind": "monthly_day"}, "month_day"),
    ({"kind": "interval", "interval": 0}, "interval"),
    ({"kind": "interval", "interval": 366}, "interval"),
    ({"kind": "interval", "interval": "often"}, "interval"),
    ({"kind": "monthly_weekday", "week_of_month": 5, "weekdays": [6]}, "week_of_month"),
    ({"kind": "monthly_weekday", "week_of_month": 0, "weekdays": [6]}, "week_of_month"),
    ({"kind": "monthly_weekday", "week_of_month": 2, "weekdays": [5, 6]}, "week_of_month"),
    ({"kind": "daily", "start_date": "2026-03-10", "end_date": "2026-03-09"}, "end_date"),
    ({"kind": "daily", "start_date": "2024-03-04"}, "start_date"),
    ({"kind": "daily", "start_date": "2032-03-04"}, "start_date"),
    ({"kind": "daily", "start_date": "2026-02-30"}, "start_date"),
    ({"kind": "daily", "paused_from": "2026-03-10"}, "paused_until"),
    ({"kind": "daily", "paused_from": "2026-03-10", "paused_until": "2026-03-09"}, "paused_until"),
]


@pytest.mark.parametrize(("data", "field"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_schedules_are_refused_by_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _clean(data, today=D("2026-03-04"))
    assert field in caught.value.fields


# --- fixed vs rolling, through materialisation ---------------------------------------------------------------------

def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


@pytest.mark.parametrize(("rolling", "unit", "expected"), [
    (False, "days", ["2026-03-01", "2026-03-04", "2026-03-07", "2026-03-10"]),
    # Done a day late on the 2nd: the next one counts from the 2nd (the 5th), then on time (the 8th).
    (True, "days", ["2026-03-01", "2026-03-05", "2026-03-08"]),
    (False, "weeks", ["2026-03-01", "2026-03-08"]),
    (True, "weeks", ["2026-03-01", "2026-03-09"]),
])
def test_rolling_counts_from_the_last_completion(in_family, family, kids, rules,  # noqa: ANN001
                                                 rolling: bool, unit: str, expected: list[str]) -> None:
    (ava,) = kids("Ava")
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, assignees=[ava], requires_verification=False,
                   schedule={"kind": "interval", "interval": 3 if unit == "days" else 1, "interval_unit": unit,
                             "rolling": rolling, "start_date": D("2026-03-01")})
        kid = s.get(Member, ava.id)
        for day in _days("2026-03-01", "2026-03-10"):
            materialise_day(s, rules, day, _at(day, 6))
            for assignment in s.scalars(select(Assignment).where(Assignment.status == "pending")):
                late = assignment.due_date == D("2026-03-01")
                if (late and day == D("2026-03-02")) or (not late and assignment.due_date == day):
                    complete_assignment(s, actor=kid, assignment_id=assignment.id, rules=rules, now=_at(day, 12))
            s.commit()
        due = [a.due_date.isoformat() for a in s.scalars(select(Assignment).order_by(Assignment.due_date))]
        assert due == expected


def test_rolling_waits_while_the_last_one_is_open(in_family, family, kids, rules) -> None:  # noqa: ANN001
    """A rolling chore never piles up: while one is still to do, no new copy appears."""
    (ava,) = kids("Ava")
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, assignees=[ava], schedule={"kind": "interval", "interval": 1, "rolling": True,
                                                 "start_date": D("2026-03-01")})
        for day in _days("2026-03-01", "2026-03-05"):
            materialise_day(s, rules, day, _at(day, 6))
        assert [a.due_date for a in s.scalars(select(Assignment))] == [D("2026-03-01")]


def test_a_paused_chore_is_not_materialised(in_family, family, kids, rules) -> None:  # noqa: ANN001
    (ava,) = kids("Ava")
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, assignees=[ava], schedule={"kind": "daily", "start_date": D("2026-03-01"),
                                                 "paused_from": D("2026-03-05"), "paused_until": D("2026-03-07")})
        for day in _days("2026-03-04", "2026-03-08"):
            materialise_day(s, rules, day, _at(day, 6))
        due = sorted(a.due_date.isoformat() for a in s.scalars(select(Assignment)))
        assert due == ["2026-03-04", "2026-03-08"]
