"""The rewards resource: the store's catalogue, redeeming (points held at once), parents' decisions, history."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import select

from app.api import bp
from app.api.serializers import format_timestamp
from app.api.serializers_daily import format_seconds, parse_uuid, query_int, read_json_object, require_keys, \
    typed_values
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.domain import DomainError, Forbidden, NotFound, ValidationFailed
from app.live.events import publish_event
from app.inputs import parse_input
from app.members.models import Member
from app.members.services import get_member_or_404
from app.rewards.inputs import RedeemInput, RejectInput, RewardInput
from app.policy import acts_for
from app.rewards.models import Redemption, RedemptionStatus, Reward
from app.rewards.services import (
    approve_redemption,
    archive_reward,
    availability_word,
    create_reward,
    fulfil_redemption,
    get_reward_or_404,
    is_available_on,
    list_redemptions,
    list_rewards,
    redemption_counts_all_time,
    reject_redemption,
    request_reward,
    update_reward,
)
from app.uow import after_commit, transactional
from app.web import current_rules, family_today, request_now

# Request keys and their JSON types: the contract's, then ours. Unknown keys are ignored, as before.
REWARD_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "cost_points": int, "category": str, "description": str, "availability": str,
    "stock_remaining": int, "icon": str, "value_in_cents": int, "requires_parent_approval": bool, "active": bool,
    "max_per_week": int, "max_per_month": int, "available_from": str, "available_until": str,
    "available_weekdays": list, "stock_unlimited": bool,
}
# Our keys, where null clears the value (the contract's keys treat null as "leave it").
CLEARABLE = ("max_per_week", "max_per_month", "available_from", "available_until", "available_weekdays")
# Wire names of the reward service's fields, and back (error `fields` name what the client sent).
SERVICE_NAMES = {"cost_points": "cost", "requires_parent_approval": "requires_approval", "stock_remaining": "stock"}
WIRE_NAMES = {service: wire for wire, service in SERVICE_NAMES.items()}
MAX_LISTED = 200
REDEEMED_LIMIT = 100


# --- shapes ------------------------------------------------------------------------------------------------------

def _without(body: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """Drop the contract's `key?` entries that are null (or empty lists)."""
    return {key: value for key, value in body.items()
            if not (key in optional and (value is None or value == []))}


def reward_detail(reward: Reward) -> dict[str, Any]:
    """A reward (POST, PUT): the contract's keys with real timestamps and max_per_week, plus ours."""
    return _without({
        "id": str(reward.id),
        "name": reward.name,
        "description": reward.description,
        "cost_points": reward.cost,
        "category": reward.category,
        "icon": reward.icon,
        "max_per_week": reward.max_per_week,
        "max_per_month": reward.max_per_month,
        "requires_parent_approval": reward.requires_approval,
        "active": reward.active,
        "availability": availability_word(reward),
        "availability_kind": reward.availability,
        "available_from": reward.available_from.isoformat() if reward.available_from else None,
        "available_until": reward.available_until.isoformat() if reward.available_until else None,
        "available_weekdays": list(reward.available_weekdays or []),
        "available_today": is_available_on(reward, family_today()),
        "stock_remaining": reward.stock,
        "value_in_cents": reward.value_in_cents,
        "created_at": format_timestamp(reward.created_at),
        "updated_at": format_timestamp(reward.updated_at),
    }, ("description", "category", "max_per_week", "max_per_month", "available_from", "available_until",
        "available_weekdays", "stock_remaining", "value_in_cents"))


def reward_list_item(reward: Reward, redemption_count: int) -> dict[str, Any]:
    """One row of GET /api/rewards: the reward and the caller's requests for it (not rejected, all time)."""
    return {**reward_detail(reward), "user_redemption_count": redemption_count}


def redemption_item(redemption: Redemption, members: dict[uuid.UUID, Member]) -> dict[str, Any]:
    """A request in our own shape (approval endpoints and GET /api/redemptions)."""
    member = members.get(redemption.member_id)
    return _without({
        "id": str(redemption.id),
        "reward_id": str(redemption.reward_id),
        "reward_name": redemption.reward.name,
        "reward_icon": redemption.reward.icon,
        "user_id": str(redemption.member_id),
        "username": member.username if member else None,
        "display_name": member.display_name if member else None,
        "points_spent": redemption.points_spent,
        "status": redemption.status,
        "requested_at": format_seconds(redemption.requested_at),
        "decided_at": format_seconds(redemption.decided_at),
        "decided_by": str(redemption.decided_by) if redemption.decided_by else None,
        "rejection_reason": redemption.rejection_reason,
        "fulfilled_at": format_seconds(redemption.fulfilled_at),
        "notes": redemption.notes,
    }, ("username", "display_name", "decided_at", "decided_by", "rejection_reason", "fulfilled_at", "notes"))


def redeemed_item(redemption: Redemption) -> dict[str, Any]:
    """One row of GET /api/users/:id/redeemed-rewards, in the shape the previous service meant to send."""
    reward = redemption.reward
    return _without({
        "id": str(redemption.id),
        "reward_id": str(redemption.reward_id),
        "user_id": str(redemption.member_id),
        "points_cost": redemption.points_spent,
        "status": redemption.status,
        "redeemed_at": format_seconds(redemption.requested_at) or "",
        "fulfilled_at": format_seconds(redemption.fulfilled_at),
        "notes": redemption.notes,
        "reward_name": reward.name,
        "reward_description": reward.description,
        "reward_icon": reward.icon,
        "reward_category": reward.category,
    }, ("fulfilled_at", "notes", "reward_description"))


# --- reading request bodies --------------------------------------------------------------------------------------

def _reward_values(body: dict[str, Any]) -> dict[str, Any]:
    """The reward keys of a body, JSON-type-checked (the contract's messages) and renamed for the service."""
    values = typed_values(body, REWARD_KEYS, nullable=CLEARABLE)
    if values.pop("stock_unlimited", False):
        values["stock_remaining"] = None
    weekdays = values.get("available_weekdays")
    if weekdays is not None and not all(isinstance(d, int) and not isinstance(d, bool) for d in weekdays):
        raise ValidationFailed("Invalid request body", details="available_weekdays must be whole numbers 0-6",
                               fields={"available_weekdays": "invalid"})
    return {SERVICE_NAMES.get(key, key): value for key, value in values.items()}


def _reward_input(values: dict[str, Any]) -> RewardInput:
    """The service's typed input; its `fields` named as the client named them."""
    try:
        return parse_input(RewardInput, values)
    except DomainError as error:
        raise _wire_fields(error) from None


def _wire_fields(error: DomainError) -> DomainError:
    """The service's error, its `fields` named as the client named them."""
    if error.fields:
        error.fields = {WIRE_NAMES.get(key, key): value for key, value in error.fields.items()}
    return error


def _members_by_id(redemptions: list[Redemption]) -> dict[uuid.UUID, Member]:
    ids = {r.member_id for r in redemptions}
    if not ids:
        return {}
    return {m.id: m for m in get_session().scalars(select(Member).where(Member.id.in_(ids)))}


def _changed(*names: str, **data: Any) -> None:
    """After the commit: tell every open page of the family."""
    for name in names:
        publish_event(g.family.id, name, {key: str(value) for key, value in data.items()})


# --- the catalogue -----------------------------------------------------------------------------------------------

@bp.get("/rewards")
@api_auth_required
def list_family_rewards() -> Response:
    """Active rewards by name; kids see only those they could request today (window open, in stock)."""
    session = get_session()
    rewards = list_rewards(session)
    if not g.member.is_parent:
        today = family_today()
        rewards = [r for r in rewards if is_available_on(r, today) and (r.stock is None or r.stock > 0)]
    counts = redemption_counts_all_time(session, g.member.id)
    return jsonify(count=len(rewards), rewards=[reward_list_item(r, counts.get(r.id, 0)) for r in rewards])


@bp.post("/rewards")
@api_parent_required("Only parents can create rewards")
@transactional
def create_family_reward() -> tuple[Response, int]:
    """A parent adds a reward: active and needing approval unless the body says otherwise."""
    body = read_json_object()
    require_keys(typed_values(body, REWARD_KEYS, nullable=CLEARABLE), "name", "cost_points", "category")
    session = get_session()
    data = _reward_input(_reward_values(body))
    try:
        reward = create_reward(session, actor=g.member, data=data)
    except DomainError as error:
        raise _wire_fields(error) from None
    after_commit(_changed, "rewardChanged", reward_id=reward.id)
    return jsonify(id=str(reward.id), message="Reward created successfully", reward=reward_detail(reward)), 201


@bp.put("/rewards/<reward_id>")
@api_parent_required("Only parents can update rewards")
@transactional
def update_family_reward(reward_id: str) -> Response:
    """A parent changes the keys sent; `"active": true` brings an archived reward back."""
    key = parse_uuid(reward_id, "Invalid reward ID format")
    values = _reward_values(read_json_object())
    session = get_session()
    reward = get_reward_or_404(session, key, include_archived=True)
    if not values:
        raise ValidationFailed("No fields to update")
    data = _reward_input(values)
    try:
        update_reward(session, reward, actor=g.member, data=data)
    except DomainError as error:
        raise _wire_fields(error) from None
    after_commit(_changed, "rewardChanged", reward_id=reward.id)
    return jsonify(message="Reward updated successfully", reward=reward_detail(reward))


@bp.delete("/rewards/<reward_id>")
@api_parent_required("Only parents can delete rewards")
@transactional
def delete_family_reward(reward_id: str) -> Response:
    """A parent archives a reward: it leaves the store; its history and open requests stay."""
    key = parse_uuid(reward_id, "Invalid reward ID format")
    session = get_session()
    reward = get_reward_or_404(session, key, include_archived=True)
    archive_reward(session, reward, actor=g.member)
    after_commit(_changed, "rewardChanged", reward_id=reward.id)
    return jsonify(message="Reward deleted successfully")


# --- redeeming and deciding --------------------------------------------------------------------------------------

@bp.post("/rewards/<reward_id>/redeem")
@api_auth_required
@transactional
def redeem_reward(reward_id: str) -> Response:
    """The caller spends points on a reward (held at once); it waits for a parent unless it needs no approval."""
    key = parse_uuid(reward_id, "Invalid reward ID format")
    notes = read_json_object(required=False).get("notes")
    # A non-text note was ignored before the input layer; old clients keep that.
    data = parse_input(RedeemInput, {"notes": notes if isinstance(notes, str) else None})
    session = get_session()
    redemption = request_reward(session, g.member, key, current_rules(), request_now(), data=data)
    reward = redemption.reward
    body = {"message": "Reward redeemed successfully", "points_spent": redemption.points_spent,
            "redemption_id": str(redemption.id), "requires_parent_approval": reward.requires_approval,
            "reward_name": reward.name, "status": redemption.status,
            "available_points": g.member.available_points}
    after_commit(_changed, "rewardChanged", "pointsChanged", member_id=g.member.id, redemption_id=redemption.id)
    return jsonify(body)


def _decide(redemption_id: str, decide: Any, message: str, *events: str) -> Response:
    key = parse_uuid(redemption_id, "Invalid redemption ID format")
    session = get_session()
    redemption = decide(session, key)
    body = {"message": message, "redemption": redemption_item(redemption, _members_by_id([redemption]))}
    after_commit(_changed, "rewardChanged", *events, member_id=redemption.member_id, redemption_id=redemption.id)
    return jsonify(body)


@bp.post("/redemptions/<redemption_id>/approve")
@api_parent_required("Only parents can approve rewards")
@transactional
def approve_family_redemption(redemption_id: str) -> Response:
    """A parent approves a waiting request (once; a second approve is a 400)."""
    return _decide(redemption_id, lambda s, key: approve_redemption(s, g.member, key, request_now()),
                   "Redemption approved")


@bp.post("/redemptions/<redemption_id>/reject")
@api_parent_required("Only parents can reject rewards")
@transactional
def reject_family_redemption(redemption_id: str) -> Response:
    """A parent rejects a request with a reason: the points are refunded and the stock restored."""
    values = typed_values(read_json_object(), {"reason": str})
    require_keys(values, "reason")
    data = parse_input(RejectInput, values)
    return _decide(redemption_id, lambda s, key: reject_redemption(s, g.member, key, data,
                                                                   current_rules(), request_now()),
                   "Redemption rejected and points refunded", "pointsChanged")


@bp.post("/redemptions/<redemption_id>/fulfill")
@api_parent_required("Only parents can fulfil rewards")
@transactional
def fulfil_family_redemption(redemption_id: str) -> Response:
    """A parent marks an approved request as handed over."""
    return _decide(redemption_id, lambda s, key: fulfil_redemption(s, g.member, key, request_now()),
                   "Redemption fulfilled")


# --- history -----------------------------------------------------------------------------------------------------

def _statuses() -> tuple[str, ...]:
    raw = (request.args.get("status") or "").strip()
    if not raw:
        return ()
    statuses = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not statuses or set(statuses) - set(RedemptionStatus):
        raise ValidationFailed(f"Invalid status. Use one of: {', '.join(RedemptionStatus)}")
    return statuses


@bp.get("/redemptions")
@api_auth_required
def list_family_redemptions() -> Response:
    """Requests newest first (`status` filters, comma-separated); kids see only their own."""
    statuses = _statuses()
    limit = query_int("limit", 100, 1, MAX_LISTED)
    member_id = None
    if request.args.get("user_id"):
        member_id = parse_uuid(request.args["user_id"], "Invalid user_id format")
    if not g.member.is_parent:
        if member_id is not None and member_id != g.member.id:
            raise Forbidden("Children can only view their own redemptions")
        member_id = g.member.id
    redemptions = list_redemptions(get_session(), member_id=member_id, statuses=statuses, limit=limit)
    members = _members_by_id(redemptions)
    return jsonify(count=len(redemptions), redemptions=[redemption_item(r, members) for r in redemptions])


@bp.get("/users/<user_id>/redeemed-rewards")
@api_auth_required
def user_redeemed_rewards(user_id: str) -> Response:
    """A member's requests, newest first (100 at most); kids may only read their own."""
    key = parse_uuid(user_id, "Invalid user ID format")
    if not acts_for(g.member, key):
        raise Forbidden("Children can only view their own redemptions")
    session = get_session()
    try:
        member = get_member_or_404(session, key, include_inactive=True)
    except NotFound:
        raise NotFound("User not found") from None
    redemptions = list_redemptions(session, member_id=member.id, limit=REDEEMED_LIMIT)
    return jsonify(count=len(redemptions), redemptions=[redeemed_item(r) for r in redemptions])
