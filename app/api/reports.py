"""Reports over the API, key for key as the previous service sent them, computed from points actually awarded."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, g, jsonify, request

from app.api import bp
from app.api.serializers_daily import parse_uuid, query_int
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.domain import Forbidden, NotFound, ValidationFailed
from app.members.services import get_member_or_404
from app.policy import acts_for
from app.reports.charts import percent
from app.reports.services import (
    TREND_RANGES,
    Period,
    Tally,
    category_breakdown,
    child_performance,
    parse_day,
    parse_period,
    performance_trends,
    week_of,
    weekly_summary,
)
from app.web import current_rules, family_today, request_now

DEFAULT_DAYS = 30
MAX_DAYS = 365


def _days_period() -> Period:
    """`?days=` (1-365, default 30): from that many days ago to today, in family time."""
    days = query_int("days", DEFAULT_DAYS, 1, MAX_DAYS)
    today = family_today()
    return Period(today - timedelta(days=days), today)


def _counts(tally: Tally) -> dict[str, int]:
    return {"total_assignments": tally.total, "completed": tally.completed, "verified": tally.completed}


def _span(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


@bp.get("/reports/weekly-summary")
@api_parent_required("Only parents can view reports")
def weekly_summary_report() -> Response:
    """The family week (or `week_start`..`week_end`): totals and a row per kid, busiest earners first."""
    start_raw, end_raw = request.args.get("week_start"), request.args.get("week_end")
    default = week_of(current_rules().clock, family_today())
    if start_raw and not end_raw:
        start = parse_day(start_raw, "week_start")
        default = Period(start, start + timedelta(days=6))
    elif end_raw and not start_raw:
        end = parse_day(end_raw, "week_end")
        default = Period(end - timedelta(days=6), end)
    period = parse_period(start_raw, end_raw, default=default, names=("week_start", "week_end"))
    summary = weekly_summary(get_session(), period, request_now())
    return jsonify(
        week_start=period.start.isoformat(), week_end=period.end.isoformat(),
        summary={**_counts(summary.tally), "overdue": summary.tally.overdue, "total_points": summary.tally.points,
                 "active_children": summary.active_children, "completion_rate": summary.tally.rate},
        children=[{"id": str(row.kid.id), "username": row.kid.username, "display_name": row.kid.display_name,
                   "color_theme": row.kid.color, **_counts(row.tally), "points_earned": row.tally.points,
                   "completion_rate": row.tally.rate} for row in summary.children])


@bp.get("/reports/child-performance/<child_id>")
@api_auth_required
def child_performance_report(child_id: str) -> Response:
    """One kid over the last `days` days: totals and a row per day with assignments (kids: their own only)."""
    key = parse_uuid(child_id, "Invalid child ID format")
    if not acts_for(g.member, key):
        raise Forbidden("Children can only view their own reports")
    period = _days_period()
    try:
        kid = get_member_or_404(get_session(), key)
    except NotFound:
        raise NotFound("Child not found") from None
    if kid.is_parent:
        raise ValidationFailed("That user is a parent, not a child")
    report = child_performance(get_session(), kid, period, request_now())
    return jsonify(
        child_id=child_id, period=_span(period),
        stats={**_counts(report.tally), "overdue": report.tally.overdue, "total_points": report.tally.points},
        daily_breakdown=[{"date": row.day.isoformat(), "assignments": row.tally.total,
                          "completed": row.tally.completed, "points": row.tally.points} for row in report.days])


@bp.get("/reports/category-breakdown")
@api_parent_required("Only parents can view reports")
def category_breakdown_report() -> Response:
    """Per chore category over the last `days` days: counts, completion rate and points earned."""
    period = _days_period()
    rows = category_breakdown(get_session(), period, request_now())
    return jsonify(period=_span(period), categories=[
        {"category": row.category, "total_assignments": row.tally.total, "completed": row.tally.completed,
         "completion_rate": row.tally.rate, "points_earned": row.tally.points} for row in rows])


def _trend_range() -> int:
    raw = request.args.get("range")
    if raw in (None, ""):
        return 30
    if raw.strip() not in {str(days) for days in TREND_RANGES}:
        raise ValidationFailed("Invalid range. Use 7, 30 or 90")
    return int(raw)


def _kid_trend(row: Any) -> dict[str, Any]:
    return {"id": str(row.kid.id), "name": row.kid.display_name, "completion": percent(row.tally.rate),
            "avgPointsPerDay": row.average_points_per_day, "streak": f"{row.streak} days", "trend": row.trend}


@bp.get("/reports/performance-trends")
@api_parent_required("Only parents can view reports")
def performance_trends_report() -> Response:
    """Per day over the last 7, 30 or 90 days, and per kid with a real streak and their completion."""
    days = _trend_range()
    today = family_today()
    trends = performance_trends(get_session(), Period(today - timedelta(days=days), today), today, request_now())
    return jsonify(
        trends=[{"date": row.day.isoformat(), "completed": row.tally.completed, "points": row.tally.points,
                 "verified": row.tally.completed} for row in trends.days],
        childPerformance=[_kid_trend(row) for row in trends.kids])
