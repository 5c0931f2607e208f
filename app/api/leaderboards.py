"""The leaderboards: this family week and all time, kids only, points from the ledger."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from app.api import bp
from app.auth.decorators import api_auth_required
from app.db import get_session
from app.reports.leaderboards import LeaderboardRow, leaderboard
from app.web import current_rules, request_now
from app.view_cache import cached_view


def _row(row: LeaderboardRow) -> dict[str, Any]:
    member = row.member
    body: dict[str, Any] = {
        "rank": row.rank, "user_id": str(member.id), "username": member.username,
        "display_name": member.display_name, "avatar_url": member.avatar, "color_theme": member.color,
        "points": row.points, "weekly_points": row.weekly_points, "total_points": row.total_points,
        "lifetime_points_earned": row.lifetime_points_earned, "level": member.level,
        "chores_completed": row.chores_completed, "streak_days": row.streak_days,
    }
    if body["avatar_url"] is None:
        del body["avatar_url"]
    return body


def _board(period: str) -> Response:
    rows = leaderboard(get_session(), period, clock=current_rules().clock, now=request_now())
    return jsonify(period=period, leaderboard=[_row(row) for row in rows], total_users=len(rows))


@bp.get("/leaderboard/weekly")
@api_auth_required
@cached_view
def weekly_leaderboard() -> Response:
    """Kids ranked by this family week's points."""
    return _board("week")


@bp.get("/leaderboard/alltime")
@api_auth_required
def alltime_leaderboard() -> Response:
    """Kids ranked by all the points they have earned."""
    return _board("alltime")
