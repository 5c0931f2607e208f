"""JSON shapes of the daily-loop resources (chores, assignments, points, presence) and strict readers of their input."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timezone
from typing import Any

from flask import request

from app.api.serializers import format_timestamp
from app.assignments.models import Assignment
from app.chores.models import Chore
from app.chores.schedules import describe
from app.domain import ValidationFailed
from app.members.models import Member
from app.points.models import LedgerEntry, PointPreset
from app.presence.models import PresenceException, PresencePattern

# Our ledger kinds under the names the previous service's clients switch on; the rest keep their own names.
WIRE_TRANSACTION_TYPES = {"chore": "chore_completion", "redemption": "reward_redemption"}
LEDGER_KIND_FOR_WIRE = {wire: kind for kind, wire in WIRE_TRANSACTION_TYPES.items()}
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")  # ASCII digits only
JSON_TYPE_NAMES = {str: "a string", bool: "true or false", int: "a whole number", list: "a list", dict: "an object"}


# --- formats -----------------------------------------------------------------------------------------------------

def format_seconds(moment: datetime | None) -> str | None:
    """The contract's `ts`: RFC 3339 in UTC to the second (`2025-10-15T23:59:59Z`)."""
    if moment is None:
        return None
    moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_time(value: time | None) -> str | None:
    """A wall time as `HH:MM:SS` (how the previous service rendered SQL `time`)."""
    return value.strftime("%H:%M:%S") if value is not None else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _without(body: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """Drop the contract's `key?` entries that are null (or empty, for lists)."""
    return {key: value for key, value in body.items()
            if not (key in optional and (value is None or value == []))}


# --- chores ------------------------------------------------------------------------------------------------------

def chore_schedule(chore: Chore) -> dict[str, Any] | None:
    """Our schedule object: the rrule parts a client needs to show or edit it, plus a sentence."""
    schedule = chore.schedule
    if schedule is None:
        return None
    return {
        "kind": schedule.kind, "interval": schedule.interval, "interval_unit": schedule.interval_unit,
        "weekdays": list(schedule.weekdays or []), "month_day": schedule.month_day,
        "week_of_month": schedule.week_of_month, "start_date": _iso(schedule.start_date),
        "end_date": _iso(schedule.end_date), "rolling": schedule.rolling,
        "paused_from": _iso(schedule.paused_from), "paused_until": _iso(schedule.paused_until),
        "description": describe(schedule),
    }


def chore_detail(chore: Chore) -> dict[str, Any]:
    """Chore (POST, GET and PUT /api/chores…): the contract's keys, read back for real, plus ours."""
    return _without({
        "id": str(chore.id),
        "name": chore.name,
        "description": chore.description,
        "instructions": chore.instructions,
        "category": chore.category,
        "base_points": chore.base_points,
        "bonus_eligible": chore.bonus_eligible,
        "penalty_points": chore.penalty_points,
        "estimated_minutes": chore.estimated_minutes,
        "difficulty": chore.difficulty,
        "requires_verification": chore.requires_verification,
        "requires_photo": chore.requires_photo,
        "icon": chore.icon,
        "tags": list(chore.tags or []),
        # The previous service's free text as a client sent it; without one, our schedule's kind.
        "frequency": chore.frequency or (chore.schedule.kind if chore.schedule is not None else None),
        "active": chore.active,
        "created_at": format_timestamp(chore.created_at),
        "updated_at": format_timestamp(chore.updated_at),
        "min_age": chore.min_age,
        "assignment_type": chore.assignment_type,
        "rotation_eligible": chore.rotation_eligible,
        "due_time": format_time(chore.due_time),
        "not_before_time": format_time(chore.not_before_time),
        "open_bonus_points": chore.open_bonus_points,
        "schedule": chore_schedule(chore),
        "assignees": [str(a.member_id) for a in chore.assignees],
    }, ("description", "instructions", "estimated_minutes", "tags", "frequency", "due_time", "not_before_time"))


def chore_list_item(chore: Chore) -> dict[str, Any]:
    """ChoreListItem: one row of GET /api/chores."""
    return _without({
        "id": str(chore.id),
        "name": chore.name,
        "category": chore.category,
        "base_points": chore.base_points,
        "estimated_minutes": chore.estimated_minutes,
        "difficulty": chore.difficulty,
        "icon": chore.icon,
        "active": chore.active,
        "assignment_type": chore.assignment_type,
    }, ("estimated_minutes",))


# --- assignments -------------------------------------------------------------------------------------------------

def _assignment_chore(chore: Chore) -> dict[str, Any]:
    return _without({
        "id": str(chore.id),
        "name": chore.name,
        "description": chore.description,
        "category": chore.category,
        "difficulty": chore.difficulty,
        "estimated_minutes": chore.estimated_minutes,
        "requires_verification": chore.requires_verification,
        "requires_photo": chore.requires_photo,
        "icon": chore.icon,
        "base_points": chore.base_points,
    }, ("description", "estimated_minutes"))


def member_summary(member: Member) -> dict[str, Any]:
    """The four-key member shape inside assignments (`assigned_user`, `assigned_by_user`)."""
    return {"id": str(member.id), "username": member.username, "display_name": member.display_name,
            "color_theme": member.color}


def assignment_list_item(assignment: Assignment) -> dict[str, Any]:
    """AssignmentListItem, plus our claimed_at, verified_by, due_at and rejection_reason (left out when null)."""
    assignee = assignment.assignee
    return _without({
        "id": str(assignment.id),
        "chore_id": str(assignment.chore_id),
        "assigned_to": _id(assignment.assigned_to),
        "assigned_by": _id(assignment.assigned_by),
        "status": assignment.status,
        "points_offered": assignment.points_offered,
        "points_earned": assignment.points_earned or 0,
        "due_date": _iso(assignment.due_date),
        "due_at": format_seconds(assignment.due_at),
        "created_at": format_seconds(assignment.created_at),
        "updated_at": format_seconds(assignment.updated_at),
        "claimed_at": format_seconds(assignment.claimed_at),
        "completed_at": format_seconds(assignment.completed_at),
        "verified_at": format_seconds(assignment.verified_at),
        "verified_by": _id(assignment.verified_by),
        "completion_notes": assignment.completion_notes,
        "verification_notes": assignment.verification_notes,
        "rejection_reason": assignment.rejection_reason,
        "is_bonus": assignment.is_bonus,
        "chore": _assignment_chore(assignment.chore),
        "assigned_user": member_summary(assignee) if assignee is not None else None,
    }, ("assigned_to", "assigned_by", "due_date", "due_at", "updated_at", "claimed_at", "completed_at",
        "verified_at", "verified_by", "completion_notes", "verification_notes", "rejection_reason",
        "assigned_user"))


def assignment_detail(assignment: Assignment, assigned_by: Member | None) -> dict[str, Any]:
    """AssignmentDetail: the list item plus `assigned_by_user` (left out when nobody, or the job, assigned it)."""
    body = assignment_list_item(assignment)
    if assigned_by is not None:
        body["assigned_by_user"] = member_summary(assigned_by)
    return body


# --- points ------------------------------------------------------------------------------------------------------

def transaction_item(entry: LedgerEntry) -> dict[str, Any]:
    """One ledger row as a transaction of GET /api/users/:id/transactions."""
    related_user = entry.actor_id if entry.actor_id not in (None, entry.member_id) else None
    return _without({
        "id": str(entry.id),
        "user_id": str(entry.member_id),
        "points": entry.amount,
        "transaction_type": WIRE_TRANSACTION_TYPES.get(entry.kind, entry.kind),
        "description": entry.description,
        "related_assignment_id": _id(entry.assignment_id),
        "related_user_id": _id(related_user),
        "created_at": format_seconds(entry.created_at),
    }, ("related_assignment_id", "related_user_id"))


def preset_item(preset: PointPreset) -> dict[str, Any]:
    """A one-tap bonus or deduction reason."""
    return {"id": str(preset.id), "kind": preset.kind, "label": preset.label, "points": preset.amount,
            "position": preset.position}


# --- presence ----------------------------------------------------------------------------------------------------

def pattern_item(pattern: PresencePattern) -> dict[str, Any]:
    """A recurring presence rule."""
    return _without({
        "id": str(pattern.id), "user_id": str(pattern.member_id), "kind": pattern.kind,
        "weekdays": list(pattern.weekdays or []), "anchor_date": _iso(pattern.anchor_date),
        "present": pattern.present, "transition_time": format_time(pattern.transition_time),
        "label": pattern.label, "created_at": format_timestamp(pattern.created_at),
        "updated_at": format_timestamp(pattern.updated_at),
    }, ("transition_time", "label"))


def exception_item(exception: PresenceException) -> dict[str, Any]:
    """A date range (or one-day override) of presence."""
    return _without({
        "id": str(exception.id), "user_id": str(exception.member_id),
        "start_date": _iso(exception.start_date), "end_date": _iso(exception.end_date),
        "present": exception.present, "transition_time": format_time(exception.transition_time),
        "note": exception.note, "created_at": format_timestamp(exception.created_at),
        "updated_at": format_timestamp(exception.updated_at),
    }, ("transition_time", "note"))


# --- reading requests --------------------------------------------------------------------------------------------
# The previous service bound bodies strictly (a string for an int, 10.5 for an int: 400) and ignored unknown keys;
# these readers do the same and raise ValidationFailed, which app/errors.py answers as JSON.

def parse_uuid(raw: str, message: str) -> uuid.UUID:
    """An id from the path or query, or a 400 with the contract's message."""
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        raise ValidationFailed(message) from None


def read_json_object(*, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object ({} when optional and absent or unusable)."""
    body = request.get_json(silent=True)
    if isinstance(body, dict):
        return body
    if not required:
        return {}
    raise ValidationFailed("Invalid request body", details="The request body must be a JSON object")


def _json_type_ok(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def typed_values(body: dict[str, Any], spec: dict[str, type | tuple[type, ...]], *,
                 nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """The spec's keys present in `body`, type-checked; null means absent unless the key is in `nullable`."""
    values: dict[str, Any] = {}
    for key, kinds in spec.items():
        if key not in body:
            continue
        value = body[key]
        if value is None:
            if key in nullable:
                values[key] = None
            continue
        choices = kinds if isinstance(kinds, tuple) else (kinds,)
        if not any(_json_type_ok(value, kind) for kind in choices):
            names = " or ".join(JSON_TYPE_NAMES[kind] for kind in choices)
            raise ValidationFailed("Invalid request body", details=f"{key} must be {names}", fields={key: "invalid"})
        if _holds_nul(value):
            # PostgreSQL cannot store NUL in text; refuse it here rather than fail in the database.
            raise ValidationFailed("Invalid request body", details=f"{key} contains a NUL character",
                                   fields={key: "invalid"})
        values[key] = value
    return values


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(item) for item in value.values())
    return False


def require_keys(values: dict[str, Any], *keys: str) -> None:
    """400 "Invalid request body" naming the required keys that are missing or empty."""
    missing = [key for key in keys if values.get(key) in (None, "")]
    if missing:
        raise ValidationFailed("Invalid request body", details=f"{', '.join(missing)} required",
                               fields={key: "required" for key in missing})


def parse_day(raw: str, name: str) -> date:
    """A `YYYY-MM-DD` query value, or 400 "Invalid <name> format. Use YYYY-MM-DD"."""
    text = raw.strip()
    try:
        if not DATE_PATTERN.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"Invalid {name} format. Use YYYY-MM-DD") from None


def query_int(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query value within [low, high], or 400 naming the allowed range."""
    raw = request.args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]{1,12}", text) or not low <= int(text) <= high:  # ASCII digits only
        raise ValidationFailed(f"Invalid {name}. Use a whole number from {low} to {high}")
    return int(text)
