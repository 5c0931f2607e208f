"""Rules for the chore library: what a valid chore is, its schedule and who may be assigned."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chores.models import WITH_SCHEDULE_AND_ASSIGNEES, AssignmentStrategy, Chore, ChoreAssignee, ChoreSchedule, \
    Difficulty
from app.chores.schedules import clean_schedule
from app.domain import Forbidden, NotFound, ValidationFailed
from app.members.models import Member
from app.points.services import clean_points

TEXT_LIMITS = {"name": 100, "description": 2000, "instructions": 4000, "category": 50, "icon": 16}


def list_chores(session: Session, *, include_archived: bool = False) -> list[Chore]:
    """The family's chores by category and name (archived ones hidden unless asked for)."""
    query = select(Chore).order_by(Chore.category, Chore.name).options(*WITH_SCHEDULE_AND_ASSIGNEES)
    if not include_archived:
        query = query.where(Chore.active.is_(True))
    return list(session.scalars(query))


def get_chore_or_404(session: Session, chore_id: uuid.UUID | str, *, include_archived: bool = False) -> Chore:
    """A chore of this family; archived chores are not found unless asked for."""
    try:
        key = chore_id if isinstance(chore_id, uuid.UUID) else uuid.UUID(str(chore_id))
    except ValueError:
        raise NotFound("Chore not found") from None
    chore = session.get(Chore, key, options=WITH_SCHEDULE_AND_ASSIGNEES)
    if chore is None or (not chore.active and not include_archived):
        raise NotFound("Chore not found")
    return chore


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ValidationFailed(f"{key} is required", fields={key: "required"})
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{key} must be text", fields={key: "invalid"})
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"{key} is required", fields={key: "required"})
    if len(value) > TEXT_LIMITS[key]:
        raise ValidationFailed(f"{key} can be at most {TEXT_LIMITS[key]} characters", fields={key: "too long"})
    return value or None


def _time(data: dict[str, Any], key: str) -> time | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return value if isinstance(value, time) else time.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"{key} must be a time like 18:30", fields={key: "invalid"}) from None


def _bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes", "false", "off", "0", "no"):
        return value.lower() in ("true", "on", "1", "yes")
    raise ValidationFailed(f"{key} must be true or false", fields={key: "invalid"})


def _int(data: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{key} must be a whole number", fields={key: "invalid"}) from None
    if not low <= number <= high:
        raise ValidationFailed(f"{key} must be between {low} and {high}", fields={key: "range"})
    return number


def _apply_fields(chore: Chore, data: dict[str, Any], *, creating: bool) -> None:
    name = _text(data, "name", required=creating or "name" in data)
    if name is not None:
        chore.name = name
    for key in ("description", "instructions"):
        if key in data:
            setattr(chore, key, _text(data, key))
    if data.get("category") is not None:
        chore.category = _text(data, "category") or "other"
    if data.get("icon") is not None:
        chore.icon = _text(data, "icon") or "🧹"
    if data.get("base_points") not in (None, ""):
        chore.base_points = clean_points(data["base_points"], field="base_points")
    if data.get("penalty_points") not in (None, ""):
        chore.penalty_points = clean_points(data["penalty_points"], field="penalty_points", allow_zero=True)
    if data.get("open_bonus_points") not in (None, ""):
        chore.open_bonus_points = clean_points(data["open_bonus_points"], field="open_bonus_points", allow_zero=True)
    if "estimated_minutes" in data:
        chore.estimated_minutes = _int(data, "estimated_minutes", 1, 24 * 60)
    if data.get("min_age") not in (None, ""):
        chore.min_age = _int(data, "min_age", 0, 18) or 0
    if data.get("difficulty") not in (None, ""):
        if data["difficulty"] not in tuple(Difficulty):
            raise ValidationFailed(f"difficulty must be one of {', '.join(Difficulty)}",
                                   fields={"difficulty": "invalid"})
        chore.difficulty = data["difficulty"]
    for key in ("requires_verification", "requires_photo", "bonus_eligible", "rotation_eligible", "active"):
        flag = _bool(data, key)
        if flag is not None:
            setattr(chore, key, flag)
    if "tags" in data and data["tags"] is not None:
        tags = data["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 40 for t in tags) or len(tags) > 20:
            raise ValidationFailed("tags must be a list of up to 20 short words", fields={"tags": "invalid"})
        chore.tags = [t.strip() for t in tags if t.strip()]
    if data.get("assignment_type") not in (None, ""):
        if data["assignment_type"] not in tuple(AssignmentStrategy):
            raise ValidationFailed(f"assignment_type must be one of {', '.join(AssignmentStrategy)}",
                                   fields={"assignment_type": "invalid"})
        chore.assignment_type = data["assignment_type"]
    if "due_time" in data:
        chore.due_time = _time(data, "due_time")
    if "not_before_time" in data:
        chore.not_before_time = _time(data, "not_before_time")
    if chore.due_time and chore.not_before_time and chore.not_before_time >= chore.due_time:
        raise ValidationFailed("'Not before' must be earlier than the due time", fields={"not_before_time": "order"})


def _apply_assignees(session: Session, chore: Chore, member_ids: list[Any]) -> None:
    ids: list[uuid.UUID] = []
    for raw in member_ids:
        try:
            ids.append(raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw)))
        except ValueError:
            raise ValidationFailed("Unknown member in assignees", fields={"assignees": "invalid"}) from None
    ids = list(dict.fromkeys(ids))
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(ids), Member.is_active.is_(True)))}
    if len(members) != len(ids):
        raise ValidationFailed("Unknown member in assignees", fields={"assignees": "invalid"})
    if chore.assignees:
        # Remove the old order first: keeping a member would otherwise collide on (chore, member).
        chore.assignees = []
        session.flush()
    chore.assignees = [ChoreAssignee(member_id=member_id, position=i) for i, member_id in enumerate(ids)]


def create_chore(session: Session, *, actor: Member, data: dict[str, Any], today: date) -> Chore:
    """Add a chore (with an optional schedule and assignee order)."""
    if not actor.is_parent:
        raise Forbidden("Only parents can create chores")
    # No schedule and no assignees yet, as loaded values: a new chore's relationships never need a query (lazy="raise").
    chore = Chore(name="", category="other", base_points=10, difficulty="easy", active=True, assignment_type="fixed",
                  requires_verification=True, requires_photo=False, min_age=0, penalty_points=0, open_bonus_points=0,
                  schedule=None, assignees=[])
    _apply_fields(chore, data, creating=True)
    if data.get("schedule") is not None:
        spec = clean_schedule(data["schedule"], today=today)
        chore.schedule = ChoreSchedule(start_date=spec.start_date)
        spec.apply_to(chore.schedule)
    if data.get("assignees") is not None:
        _apply_assignees(session, chore, data["assignees"])
    if chore.assignment_type == "fixed" and chore.schedule is not None and not chore.assignees:
        raise ValidationFailed("Pick who does this chore", fields={"assignees": "required"})
    session.add(chore)
    session.flush()
    return chore


def update_chore(session: Session, chore: Chore, *, actor: Member, data: dict[str, Any], today: date) -> Chore:
    """Change a chore; `schedule: null` removes its schedule."""
    if not actor.is_parent:
        raise Forbidden("Only parents can update chores")
    _apply_fields(chore, data, creating=False)
    if "schedule" in data:
        if data["schedule"] is None:
            chore.schedule = None
        else:
            spec = clean_schedule(data["schedule"], today=today)
            if chore.schedule is None:
                chore.schedule = ChoreSchedule(start_date=spec.start_date)
            spec.apply_to(chore.schedule)
    if data.get("assignees") is not None:
        _apply_assignees(session, chore, data["assignees"])
    session.flush()
    return chore


def archive_chore(session: Session, chore: Chore, *, actor: Member, now: datetime) -> Chore:
    """Soft-delete: archived chores disappear from every list and stop being assigned."""
    if not actor.is_parent:
        raise Forbidden("Only parents can delete chores")
    chore.active = False
    session.flush()
    return chore
