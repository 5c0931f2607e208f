"""Badges over the API: the catalogue, and each kid's badges with progress (kids see their own)."""
from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from app.achievements.rules import BADGE_RULES, BadgeRule
from app.achievements.services import BadgeTile, badge_wall, check_wall_access
from app.api import bp
from app.api.serializers import format_timestamp
from app.api.serializers_daily import parse_uuid
from app.auth.decorators import api_auth_required
from app.db import get_session
from app.domain import NotFound
from app.members.services import get_member_or_404
from app.web import current_rules, request_now


def _rule(rule: BadgeRule) -> dict[str, Any]:
    return {"badge": rule.key, "name": rule.name, "icon": rule.icon, "description": rule.description,
            "target": rule.threshold}


def _tile(tile: BadgeTile) -> dict[str, Any]:
    body = {**_rule(tile.rule), "earned": tile.earned is not None, "progress": min(tile.progress, tile.rule.threshold)}
    if tile.earned is not None:
        body.update(progress=tile.rule.threshold, awarded_at=format_timestamp(tile.earned.awarded_at),
                    bonus_points=tile.earned.bonus_points)
    return body


@bp.get("/badges")
@api_auth_required
def badge_catalogue() -> Response:
    """Every badge a kid can earn."""
    return jsonify(badges=[_rule(rule) for rule in BADGE_RULES], count=len(BADGE_RULES))


@bp.get("/users/<user_id>/badges")
@api_auth_required
def member_badge_wall(user_id: str) -> Response:
    """A kid's badges: earned ones with when and the bonus, the rest with progress (kids: their own only)."""
    key = parse_uuid(user_id, "Invalid user ID format")
    kid = get_member_or_404(get_session(), key)
    check_wall_access(g.member, kid)
    if kid.is_parent:
        raise NotFound("User not found")
    tiles = badge_wall(get_session(), kid, current_rules(), request_now())
    return jsonify(user_id=str(kid.id), earned=sum(1 for t in tiles if t.earned is not None),
                   badges=[_tile(tile) for tile in tiles])
