"""Points over the API: balances, ledger history and stats per member, bonuses and deductions, one-tap presets."""
from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request

from app.api import bp
from app.api.serializers_daily import (
    LEDGER_KIND_FOR_WIRE,
    WIRE_TRANSACTION_TYPES,
    parse_uuid,
    preset_item,
    query_int,
    read_json_object,
    require_keys,
    transaction_item,
    typed_values,
)
from app.assignments.services import compute_streak
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.domain import Forbidden, ValidationFailed
from app.inputs import clean_idempotency_key, parse_action
from app.live.events import publish_event
from app.members.models import Member
from app.members.services import get_member_or_404
from app.points.inputs import PointsAward, PresetInput
from app.reports.leaderboards import member_stats, points_converted
from app.points.models import LedgerKind
from app.points.services import give_points, list_presets, list_transactions, save_preset, weekly_points_now
from app.policy import acts_for
from app.uow import after_commit, transactional
from app.web import current_rules, request_now
from app.view_cache import cached_view

DEFAULT_TRANSACTIONS = 50
MAX_TRANSACTIONS = 200
MAX_OFFSET = 1_000_000


def _member_for(user_id: str, what: str) -> Member:
    """The member a per-user read is about: kids may only read themselves, parents anyone in the family."""
    key = parse_uuid(user_id, "Invalid user ID format")
    if not acts_for(g.member, key):
        raise Forbidden(f"Children can only view their own {what}")
    return get_member_or_404(get_session(), key)


def _balances(member: Member) -> dict[str, int]:
    return {"total_points": member.total_points, "available_points": member.available_points,
            "weekly_points": weekly_points_now(member, current_rules().clock, request_now()),
            "lifetime_points_earned": member.lifetime_points_earned}


# --- reading -------------------------------------------------------------------------------------------------------

@bp.get("/users/<user_id>/points")
@api_auth_required
@cached_view
def user_points(user_id: str) -> Response:
    """A member's balances, level and streak."""
    member = _member_for(user_id, "points")
    session, clock = get_session(), current_rules().clock
    return jsonify(user_id=str(member.id), username=member.username, display_name=member.display_name,
                   **_balances(member), total_points_converted=points_converted(session, member.id),
                   level=member.level, xp=member.xp,
                   streak_days=compute_streak(session, member.id, clock.today(request_now())))


@bp.get("/users/<user_id>/transactions")
@api_auth_required
def user_transactions(user_id: str) -> Response:
    """A member's ledger rows, newest first (`type` filters by kind; limit 1-200, default 50)."""
    member = _member_for(user_id, "transactions")
    wire_type = request.args.get("type")
    kind = None
    if wire_type:
        kind = LEDGER_KIND_FOR_WIRE.get(wire_type, wire_type)
        if kind not in tuple(LedgerKind):
            names = sorted(WIRE_TRANSACTION_TYPES.get(k, k) for k in LedgerKind)
            raise ValidationFailed(f"Invalid type. Use one of: {', '.join(names)}")
    limit = query_int("limit", DEFAULT_TRANSACTIONS, 1, MAX_TRANSACTIONS)
    offset = query_int("offset", 0, 0, MAX_OFFSET)
    entries = list_transactions(get_session(), member.id, kind=kind, limit=limit, offset=offset)
    return jsonify(count=len(entries), transactions=[transaction_item(entry) for entry in entries])


@bp.get("/users/<user_id>/stats")
@api_auth_required
def user_stats(user_id: str) -> Response:
    """A member's balances and chore counts: this family week, waiting, all time, and the current streak."""
    member = _member_for(user_id, "stats")
    stats = member_stats(get_session(), member, clock=current_rules().clock, now=request_now())
    balances = _balances(member)
    return jsonify(id=str(member.id), username=member.username, display_name=member.display_name,
                   total_points=balances["total_points"], weekly_points=balances["weekly_points"],
                   level=member.level, xp=member.xp, streak_days=stats.streak_days,
                   available_points=balances["available_points"],
                   lifetime_points_earned=balances["lifetime_points_earned"],
                   completed_this_week=stats.completed_this_week, pending_assignments=stats.pending_assignments,
                   total_completed_chores=stats.total_completed_chores)


# --- bonuses and deductions ----------------------------------------------------------------------------------------

def _give(user_id: str, kind: str) -> tuple[Response, int]:
    key = parse_uuid(user_id, "Invalid user ID format")
    retry_key = clean_idempotency_key(request.headers.get("Idempotency-Key"))
    values = typed_values(read_json_object(), {"points": int, "reason": str})
    require_keys(values, "points", "reason")
    session = get_session()
    member = get_member_or_404(session, key)
    data = parse_action(PointsAward, {**values, "kind": kind})
    award = give_points(session, actor=g.member, member=member, data=data, clock=current_rules().clock,
                        now=request_now(), idempotency_key=retry_key)
    body: dict[str, Any] = {"message": "Bonus given" if kind == "bonus" else "Deduction recorded",
                            "transaction": transaction_item(award.entry), "user_id": str(member.id),
                            **_balances(member)}
    response = jsonify(body)
    if award.replayed:
        response.headers["Idempotent-Replayed"] = "true"  # the first request's row; nothing was posted again
    else:
        after_commit(publish_event, g.family.id, "pointsChanged", {"member_id": str(member.id)})
    return response, 201


@bp.post("/users/<user_id>/bonus")
@api_parent_required("Only parents can give bonuses or deductions")
@transactional
def give_bonus(user_id: str) -> tuple[Response, int]:
    """A parent adds points to a kid, with a reason the kid sees."""
    return _give(user_id, "bonus")


@bp.post("/users/<user_id>/deductions")
@api_parent_required("Only parents can give bonuses or deductions")
@transactional
def give_deduction(user_id: str) -> tuple[Response, int]:
    """A parent takes points from a kid, with a reason the kid sees."""
    return _give(user_id, "deduction")


# --- presets -------------------------------------------------------------------------------------------------------

@bp.get("/point-presets")
@api_auth_required
@transactional
def point_presets() -> Response:
    """The family's one-tap bonus and deduction reasons (the defaults are created on first read)."""
    session = get_session()
    presets = list_presets(session)
    body = [preset_item(preset) for preset in presets]
    return jsonify(presets=body, count=len(body))


@bp.post("/point-presets")
@api_parent_required("Only parents can edit presets")
@transactional
def add_point_preset() -> tuple[Response, int]:
    """A parent adds a one-tap reason."""
    values = typed_values(read_json_object(), {"kind": str, "label": str, "points": int})
    require_keys(values, "kind", "label", "points")
    data = parse_action(PresetInput, values)
    session = get_session()
    preset = save_preset(session, actor=g.member, data=data)
    body = preset_item(preset)
    return jsonify(body), 201
