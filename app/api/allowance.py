"""Allowance and goals over the API: conversions, the money statement, weekly schedules and savings goals."""
from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from app.allowance.inputs import ConversionInput, ScheduleInput
from app.allowance.models import AllowanceSchedule, Payout
from app.allowance.services import (
    conversion_rate,
    get_allowance_schedule,
    list_payouts,
    money_statement,
    record_payout,
    set_allowance_schedule,
)
from app.api import bp
from app.api.serializers_daily import format_seconds, parse_uuid, read_json_object, require_keys, typed_values
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.domain import Forbidden
from app.inputs import parse_input
from app.live.events import publish_event
from app.members.models import Member
from app.members.services import get_member_or_404
from app.policy import acts_for
from app.rewards.inputs import SavingsGoalInput
from app.rewards.services import GoalProgress, clear_savings_goal, goal_progress, set_savings_goal
from app.uow import after_commit, transactional
from app.web import current_rules, request_now

DEFAULT_PAYDAY = 5  # Friday


# --- shapes ------------------------------------------------------------------------------------------------------

def payout_item(payout: Payout) -> dict[str, Any]:
    """A payout: points converted (with their ledger row) or a fixed allowance."""
    body = {
        "id": str(payout.id),
        "user_id": str(payout.member_id),
        "kind": payout.kind,
        "points": payout.points,
        "amount_cents": payout.amount_cents,
        "currency": payout.currency,
        "method": payout.method,
        "note": payout.note,
        "paid_on": payout.paid_on.isoformat(),
        "paid_by": str(payout.paid_by) if payout.paid_by else None,
        "schedule_id": str(payout.schedule_id) if payout.schedule_id else None,
        "transaction_id": str(payout.ledger_entry_id) if payout.ledger_entry_id else None,
        "created_at": format_seconds(payout.created_at),
    }
    return {key: value for key, value in body.items()
            if not (value is None and key in ("note", "paid_by", "schedule_id", "transaction_id"))}


def schedule_item(schedule: AllowanceSchedule | None) -> dict[str, Any] | None:
    """A kid's weekly allowance (null when none is set)."""
    if schedule is None:
        return None
    return {"id": str(schedule.id), "user_id": str(schedule.member_id), "mode": schedule.mode,
            "payday": schedule.payday, "amount_cents": schedule.amount_cents, "active": schedule.active,
            "last_paid_on": schedule.last_paid_on.isoformat() if schedule.last_paid_on else None,
            "updated_at": format_seconds(schedule.updated_at)}


def goal_item(progress: GoalProgress | None) -> dict[str, Any] | None:
    """A savings goal with the progress towards it (null when none)."""
    if progress is None:
        return None
    reward = progress.reward
    return {"user_id": str(progress.goal.member_id), "reward_id": str(reward.id), "reward_name": reward.name,
            "reward_icon": reward.icon, "cost_points": reward.cost, "available_points": progress.points,
            "points_to_go": progress.points_to_go, "percent": progress.percent, "reached": progress.reached,
            "created_at": format_seconds(progress.goal.created_at)}


def _member_for(user_id: str, what: str) -> Member:
    """The member a per-user route is about: kids may only use their own, parents anyone in the family."""
    key = parse_uuid(user_id, "Invalid user ID format")
    if not acts_for(g.member, key):
        raise Forbidden(f"Children can only view their own {what}")
    return get_member_or_404(get_session(), key)


def _rate_keys() -> dict[str, Any]:
    rate = conversion_rate(get_session())
    return {"currency": rate.currency, "points_per_currency_unit": rate.points_per_unit}


# --- conversions and the statement -------------------------------------------------------------------------------

@bp.get("/users/<user_id>/conversions")
@api_auth_required
def user_conversions(user_id: str) -> Response:
    """A kid's points converted to money, newest first, with the family's rate."""
    member = _member_for(user_id, "conversions")
    payouts = list_payouts(get_session(), member.id, kind="conversion")
    return jsonify(count=len(payouts), conversions=[payout_item(p) for p in payouts], **_rate_keys())


@bp.post("/users/<user_id>/conversions")
@api_parent_required("Only parents can convert points")
@transactional
def convert_user_points(user_id: str) -> tuple[Response, int]:
    """A parent converts a kid's points into money (never more than the kid has)."""
    member = _member_for(user_id, "conversions")
    values = typed_values(read_json_object(), {"points": int, "method": str, "note": str})
    require_keys(values, "points")
    session = get_session()
    payout = record_payout(session, g.member, member, parse_input(ConversionInput, values), current_rules(),
                           request_now())
    body = {"message": "Points converted", "conversion": payout_item(payout),
            "available_points": member.available_points}
    after_commit(publish_event, g.family.id, "pointsChanged", {"member_id": str(member.id)})
    return jsonify(body), 201


@bp.get("/users/<user_id>/money-statement")
@api_auth_required
def user_money_statement(user_id: str) -> Response:
    """Every payout and conversion of a kid, newest first, with running totals (in cents)."""
    member = _member_for(user_id, "money statement")
    statement = money_statement(get_session(), member)
    rate = _rate_keys()
    entries = [{**payout_item(line.payout), "running_total_cents": line.running_cents,
                "running_points_converted": line.running_points} for line in reversed(statement.lines)]
    return jsonify(user_id=str(member.id), count=len(entries), entries=entries,
                   total_cents=statement.total_cents.get(rate["currency"], 0), totals_cents=statement.total_cents,
                   total_points_converted=statement.total_points_converted,
                   available_points=member.available_points, **rate)


# --- weekly schedule ---------------------------------------------------------------------------------------------

@bp.get("/users/<user_id>/allowance-schedule")
@api_auth_required
def user_allowance_schedule(user_id: str) -> Response:
    """A kid's weekly allowance, or null."""
    member = _member_for(user_id, "allowance")
    return jsonify(schedule=schedule_item(get_allowance_schedule(get_session(), member.id)))


@bp.put("/users/<user_id>/allowance-schedule")
@api_parent_required("Only parents can set allowances")
@transactional
def set_user_allowance_schedule(user_id: str) -> Response:
    """A parent sets a kid's weekly allowance; keys left out keep their current (or default) values."""
    member = _member_for(user_id, "allowance")
    values = typed_values(read_json_object(), {"mode": str, "payday": int, "amount_cents": int, "active": bool})
    session = get_session()
    current = get_allowance_schedule(session, member.id)
    schedule = set_allowance_schedule(session, g.member, member, parse_input(ScheduleInput, {
        "mode": values.get("mode", current.mode if current else "fixed_amount"),
        "payday": values.get("payday", current.payday if current else DEFAULT_PAYDAY),
        "amount_cents": values.get("amount_cents", current.amount_cents if current else 0),
        "active": values.get("active", current.active if current else True)}))
    body = {"message": "Allowance schedule saved", "schedule": schedule_item(schedule)}
    return jsonify(body)


# --- savings goals -----------------------------------------------------------------------------------------------

@bp.get("/goals/me")
@api_auth_required
def my_goal() -> Response:
    """The caller's savings goal and progress, or null."""
    return jsonify(goal=goal_item(goal_progress(get_session(), g.member)))


@bp.put("/users/<user_id>/goal")
@api_auth_required
@transactional
def set_user_goal(user_id: str) -> Response:
    """Pin a reward as a kid's savings goal (the kid themselves, or a parent)."""
    member = _member_for(user_id, "savings goal")
    values = typed_values(read_json_object(), {"reward_id": str})
    require_keys(values, "reward_id")
    reward_id = parse_uuid(values["reward_id"], "Invalid reward ID format")
    session = get_session()
    set_savings_goal(session, g.member, member, SavingsGoalInput(reward_id=reward_id))
    body = {"message": "Savings goal set", "goal": goal_item(goal_progress(session, member))}
    after_commit(publish_event, g.family.id, "rewardChanged", {"member_id": str(member.id)})
    return jsonify(body)


@bp.delete("/users/<user_id>/goal")
@api_auth_required
@transactional
def clear_user_goal(user_id: str) -> Response:
    """Unpin a kid's savings goal (200 also when there was none)."""
    member = _member_for(user_id, "savings goal")
    session = get_session()
    cleared = clear_savings_goal(session, g.member, member)
    if cleared:
        after_commit(publish_event, g.family.id, "rewardChanged", {"member_id": str(member.id)})
    return jsonify(message="Savings goal cleared" if cleared else "No savings goal to clear", cleared=cleared)
