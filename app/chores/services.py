"""Rules for the chore library: what a valid chore is, its schedule and who may be assigned."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chores.inputs import ChoreInput, ChoreUpdate
from app.chores.models import WITH_SCHEDULE_AND_ASSIGNEES, Chore, ChoreAssignee, ChoreSchedule
from app.chores.schedules import clean_schedule
from app.domain import NotFound, ValidationFailed
from app.members.models import Member
from app.policy import SystemActor, require_parent, require_parent_or_system


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


def same_name_chore(session: Session, name: str, *, other_than: uuid.UUID | None = None) -> Chore | None:
    """An active chore already called `name` (ignoring case and spaces around it): worth a warning, not a refusal."""
    wanted = name.strip().casefold()
    if not wanted:
        return None
    for chore in session.scalars(select(Chore).where(Chore.active.is_(True))):
        if chore.name.strip().casefold() == wanted and chore.id != other_than:
            return chore
    return None


# Keys whose null clears the value; for the others null (or a blank form box) leaves the chore as it is.
CLEARABLE = ("description", "instructions", "estimated_minutes", "due_time", "not_before_time")
FLAGS = ("requires_verification", "requires_photo", "bonus_eligible", "rotation_eligible", "active")


def _apply_fields(chore: Chore, data: ChoreUpdate) -> None:
    if data.name is not None:
        chore.name = data.name
    for key in CLEARABLE:
        if data.given(key):
            setattr(chore, key, getattr(data, key) or None)
    if data.category is not None:
        chore.category = data.category or "other"
    if data.icon is not None:
        chore.icon = data.icon or "🧹"
    for key in ("base_points", "penalty_points", "open_bonus_points", "min_age", "difficulty", "assignment_type",
                *FLAGS):
        if getattr(data, key) is not None:
            setattr(chore, key, getattr(data, key))
    if data.tags is not None:
        chore.tags = list(data.tags)
    if data.frequency is not None:
        chore.frequency = data.frequency
    if chore.due_time and chore.not_before_time and chore.not_before_time >= chore.due_time:
        raise ValidationFailed("'Not before' must be earlier than the due time", fields={"not_before_time": "order"})


def _apply_assignees(session: Session, chore: Chore, ids: list[uuid.UUID]) -> None:
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(ids), Member.is_active.is_(True)))}
    if len(members) != len(ids):
        raise ValidationFailed("Unknown member in assignees", fields={"assignees": "invalid"})
    if chore.assignees:
        # Remove the old order first: keeping a member would otherwise collide on (chore, member).
        chore.assignees = []
        session.flush()
    chore.assignees = [ChoreAssignee(member_id=member_id, position=i) for i, member_id in enumerate(ids)]


def create_chore(session: Session, *, actor: Member | SystemActor, data: ChoreInput, today: date) -> Chore:
    """Add a chore (with an optional schedule and assignee order); SYSTEM for the demo seed."""
    require_parent_or_system(actor)
    # No schedule and no assignees yet, as loaded values: a new chore's relationships never need a query (lazy="raise").
    chore = Chore(name="", category="other", base_points=10, difficulty="easy", active=True, assignment_type="fixed",
                  requires_verification=True, requires_photo=False, min_age=0, penalty_points=0, open_bonus_points=0,
                  schedule=None, assignees=[])
    _apply_fields(chore, data)
    if data.schedule is not None:
        spec = clean_schedule(data.schedule, today=today)
        chore.schedule = ChoreSchedule(start_date=spec.start_date)
        spec.apply_to(chore.schedule)
    if data.assignees is not None:
        _apply_assignees(session, chore, data.assignees)
    if chore.assignment_type == "fixed" and chore.schedule is not None and not chore.assignees:
        raise ValidationFailed("Pick who does this chore", fields={"assignees": "required"})
    session.add(chore)
    session.flush()
    return chore


def update_chore(session: Session, chore: Chore, *, actor: Member, data: ChoreUpdate, today: date) -> Chore:
    """Change the keys given; `schedule: null` removes the chore's schedule."""
    require_parent(actor)
    _apply_fields(chore, data)
    if data.given("schedule"):
        if data.schedule is None:
            chore.schedule = None
        else:
            spec = clean_schedule(data.schedule, today=today)
            if chore.schedule is None:
                chore.schedule = ChoreSchedule(start_date=spec.start_date)
            spec.apply_to(chore.schedule)
    if data.assignees is not None:
        _apply_assignees(session, chore, data.assignees)
    session.flush()
    return chore


def archive_chore(session: Session, chore: Chore, *, actor: Member, now: datetime) -> Chore:
    """Soft-delete: archived chores disappear from every list and stop being assigned."""
    require_parent(actor)
    chore.active = False
    session.flush()
    return chore
