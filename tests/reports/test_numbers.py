"""Report numbers on a seeded family, worked out by hand: points actually awarded, rates, family-time weeks."""
from __future__ import annotations

from datetime import date

import pytest

from app.db.bases import utcnow
from app.domain import ValidationFailed
from app.family_time import FamilyClock
from app.reports.services import (
    Period,
    category_breakdown,
    completion_rate,
    family_report,
    parse_period,
    weekly_summary,
    weeks_of,
)
from tests.reports.seed import WEEK, ZONE, seed

CLOCK = FamilyClock(ZONE, week_start=6)  # weeks start on Sunday


@pytest.fixture
def seeded(make_family, in_family, create_member):  # noqa: ANN001, ANN201
    family = make_family(timezone=ZONE)
    return seed(in_family, family, lambda **fields: create_member(family_record=family, **fields))


@pytest.mark.parametrize(("completed", "total", "rate"), [
    (0, 0, 0.0), (0, 5, 0.0), (2, 3, 66.7), (1, 3, 33.3), (5, 6, 83.3), (1, 8, 12.5),
    (1, 16, 6.3),  # 6.25: half-up, where float rounding would say 6.2
    (3, 16, 18.8), (1, 40, 2.5), (7, 7, 100.0),
])
def test_rates_round_half_up_to_one_decimal(completed: int, total: int, rate: float) -> None:
    assert completion_rate(completed, total) == rate


def test_the_weekly_summary_counts_points_actually_awarded(seeded, in_family) -> None:  # noqa: ANN001
    with in_family(seeded.family) as ctx:
        summary = weekly_summary(ctx.session, Period(*WEEK), utcnow())

    totals = summary.tally
    assert (totals.total, totals.completed, totals.overdue, totals.points, totals.rate) == (8, 4, 2, 30, 50.0)
    assert summary.active_children == 2
    rows = [(row.kid.username, row.tally.total, row.tally.completed, row.tally.points, row.tally.rate,
             row.tally.overdue) for row in summary.children]
    assert rows == [("maya", 5, 2, 20, 40.0, 2), ("leo", 3, 2, 10, 66.7, 0), ("zoe", 0, 0, 0, 0.0, 0)]


def test_family_weeks_follow_the_family_timezone_and_week_start(seeded, in_family) -> None:  # noqa: ANN001
    period = Period(date(2026, 2, 22), date(2026, 3, 14))
    with in_family(seeded.family) as ctx:
        report = family_report(ctx.session, CLOCK, period, date(2026, 3, 14), utcnow())

    assert report.weeks == [date(2026, 2, 22), date(2026, 3, 1), date(2026, 3, 8)]
    maya = [(t.total, t.completed, t.missed, t.points) for t in report.kid_weeks[seeded.maya.id]]
    assert maya == [(1, 1, 0, 10), (5, 2, 1, 20), (1, 1, 0, 10)]
    leo = [(t.total, t.completed) for t in report.kid_weeks[seeded.leo.id]]
    assert leo == [(0, 0), (3, 2), (0, 0)]
    # Earned: 12 + 8 - 2 (penalty) + 5 + 5 + 3 (Saturday 23:30 in LA, already Sunday in UTC) = 31.
    # Spent: a 30-point redemption refunded, and a 7-point conversion = 7.
    flows = [(flow.week, flow.earned, flow.spent) for flow in report.flows]
    assert flows == [(date(2026, 2, 22), 10, 0), (date(2026, 3, 1), 31, 7), (date(2026, 3, 8), 14, 0)]
    categories = [(row.category, row.tally.total, row.tally.completed, row.tally.points)
                  for row in report.categories]
    assert categories == [("kitchen", 6, 4, 40), ("bedroom", 4, 2, 10)]


def test_the_category_breakdown_lists_active_chores_without_assignments(seeded, in_family) -> None:  # noqa: ANN001
    with in_family(seeded.family) as ctx:
        rows = category_breakdown(ctx.session, Period(*WEEK), utcnow())

    assert [(r.category, r.tally.total, r.tally.completed, r.tally.rate, r.tally.points) for r in rows] == [
        ("kitchen", 4, 2, 50.0, 20), ("bedroom", 4, 2, 50.0, 10), ("outdoor", 0, 0, 0.0, 0)]


def test_weeks_cover_every_family_week_the_range_touches() -> None:
    assert weeks_of(CLOCK, Period(date(2026, 3, 7), date(2026, 3, 8))) == [date(2026, 3, 1), date(2026, 3, 8)]
    monday_clock = FamilyClock(ZONE)
    assert weeks_of(monday_clock, Period(date(2026, 3, 7), date(2026, 3, 8))) == [date(2026, 3, 2)]


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2026-02-30", None, "Invalid start format. Use YYYY-MM-DD"),
    ("03/01/2026", None, "Invalid start format. Use YYYY-MM-DD"),
    (None, "tomorrow", "Invalid end format. Use YYYY-MM-DD"),
    ("2026-03-08", "2026-03-01", "end must not be before start"),
    ("2025-01-01", "2026-03-01", "The range can be at most 366 days"),
])
def test_bad_ranges_are_refused(start: str | None, end: str | None, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_period(start, end, default=Period(date(2026, 3, 1), date(2026, 3, 7)))
    assert refused.value.message == message
