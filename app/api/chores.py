"""The chores resource: the family's chore library (archived chores vanish from every read)."""
from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from app.api import bp
from app.api.serializers_daily import chore_detail, chore_list_item, parse_uuid, read_json_object, typed_values
from app.assignments.services import ensure_day, materialise_day
from app.auth.decorators import api_auth_required, api_parent_required
from app.chores.inputs import ChoreInput, ChoreUpdate
from app.chores.models import Chore
from app.chores.services import archive_chore, create_chore, get_chore_or_404, list_chores, update_chore
from app.db import get_session
from app.domain import ValidationFailed
from app.inputs import parse_action
from app.live.events import publish_event
from app.uow import after_commit, transactional
from app.web import current_rules, family_today, request_now
from app.view_cache import cached_view

# Request keys and their JSON types: the contract's, then ours. Unknown keys are ignored, as before.
CHORE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "description": str, "instructions": str, "category": str, "base_points": int,
    "bonus_eligible": bool, "penalty_points": int, "estimated_minutes": int, "difficulty": str, "frequency": str,
    "tags": list, "rotation_eligible": bool, "requires_photo": bool, "requires_verification": bool, "active": bool,
    "icon": str, "min_age": int, "assignment_type": str, "due_time": str, "not_before_time": str,
    "open_bonus_points": int, "schedule": dict, "assignees": list,
}
# For the contract's keys null means "leave as it is"; for these of ours it clears the value.
CLEARABLE = ("schedule", "due_time", "not_before_time")
SCHEDULE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str, "interval": int, "interval_unit": str, "weekdays": list, "month_day": int, "week_of_month": int,
    "start_date": str, "end_date": str, "rolling": bool, "paused_from": str, "paused_until": str,
}
# The previous service defaulted these flags to false when a new chore left them out. The strategy is spelled out
# because create_chore checks "fixed needs an assignee" before the column default would fill it in.
CREATE_DEFAULTS = {"requires_verification": False, "requires_photo": False, "rotation_eligible": False,
                   "bonus_eligible": False, "assignment_type": "fixed"}


def _chore_values(body: dict[str, Any]) -> dict[str, Any]:
    """The chore keys of a request body, type-checked (the schedule's parts too)."""
    values = typed_values(body, CHORE_FIELDS, nullable=CLEARABLE)
    schedule = values.get("schedule")
    if schedule is not None:
        values["schedule"] = typed_values(schedule, SCHEDULE_FIELDS)
        weekdays = values["schedule"].get("weekdays") or []
        if not all(isinstance(day, int) and not isinstance(day, bool) for day in weekdays):
            raise ValidationFailed("Invalid request body", details="schedule.weekdays must be whole numbers 0-6",
                                   fields={"weekdays": "invalid"})
    if not all(isinstance(member_id, str) for member_id in values.get("assignees") or []):
        raise ValidationFailed("Invalid request body", details="assignees must be a list of user ids",
                               fields={"assignees": "invalid"})
    return values


def _materialise_today(chore: Chore) -> None:
    """Today's assignments for this chore exist at once (its page and the kid's list show it)."""
    session, rules, today, now = get_session(), current_rules(), family_today(), request_now()
    # materialise_day(chores=[…]) also marks the whole day as done; settling the day first keeps the other
    # chores of a day nobody has read yet from being skipped.
    ensure_day(session, rules, today, now)
    materialise_day(session, rules, today, now, chores=[chore])


@bp.get("/chores")
@api_auth_required
@cached_view
def list_family_chores() -> Response:
    """The family's active chores by category and name."""
    chores = list_chores(get_session())
    return jsonify(chores=[chore_list_item(chore) for chore in chores], count=len(chores),
                   family_id=str(g.family.id), family_name=g.family.name)


@bp.post("/chores")
@api_parent_required("Only parents can create chores")
@transactional
def create_family_chore() -> tuple[Response, int]:
    """A parent adds a chore (with an optional schedule and rotation); today's assignments appear at once."""
    values = _chore_values(read_json_object())
    if not isinstance(values.get("name"), str) or not values["name"].strip():
        raise ValidationFailed("Invalid request body", details="name required", fields={"name": "required"})
    if values.get("base_points") == 0:
        values.pop("base_points")  # the contract's default: 0 or absent means 10
    values.pop("active", None)  # a new chore is always active
    data = parse_action(ChoreInput, {**CREATE_DEFAULTS, **values})
    session = get_session()
    chore = create_chore(session, actor=g.member, data=data, today=family_today())
    _materialise_today(chore)
    after_commit(publish_event, g.family.id, "assignmentChanged", {"chore_id": str(chore.id)})
    return jsonify(chore_detail(chore)), 201


@bp.get("/chores/<chore_id>")
@api_auth_required
def get_family_chore(chore_id: str) -> Response:
    """One active chore in full."""
    key = parse_uuid(chore_id, "Invalid chore ID")
    return jsonify(chore_detail(get_chore_or_404(get_session(), key)))


@bp.put("/chores/<chore_id>")
@api_parent_required("Only parents can update chores")
@transactional
def update_family_chore(chore_id: str) -> Response:
    """A parent changes the keys sent; `{"active": true}` brings an archived chore back."""
    key = parse_uuid(chore_id, "Invalid chore ID")
    values = _chore_values(read_json_object())
    session = get_session()
    chore = get_chore_or_404(session, key, include_archived=values.get("active") is True)
    if not values:
        raise ValidationFailed("No fields to update")
    if "name" in values and not values["name"].strip():
        raise ValidationFailed("name cannot be empty", fields={"name": "required"})
    data = parse_action(ChoreUpdate, values)
    if values.get("assignees") is not None:
        # update_chore swaps in new assignee rows, and the unit of work inserts before it deletes, so keeping a
        # member would hit the (chore, member) unique key: remove the old rows first.
        chore.assignees = []
        session.flush()
    update_chore(session, chore, actor=g.member, data=data, today=family_today())
    _materialise_today(chore)
    after_commit(publish_event, g.family.id, "assignmentChanged", {"chore_id": str(chore.id)})
    return jsonify(chore_detail(chore))


@bp.delete("/chores/<chore_id>")
@api_parent_required("Only parents can delete chores")
@transactional
def delete_family_chore(chore_id: str) -> Response:
    """A parent archives a chore: it leaves every list and is no longer assigned (its history stays)."""
    key = parse_uuid(chore_id, "Invalid chore ID")
    session = get_session()
    chore = get_chore_or_404(session, key)
    archive_chore(session, chore, actor=g.member, now=request_now())
    after_commit(publish_event, g.family.id, "assignmentChanged", {"chore_id": str(chore.id)})
    return jsonify(id=str(chore.id), message="Chore deleted successfully")
