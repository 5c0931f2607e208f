"""The Today page's reads: a day's assignments as plain columns, from a statement built once per process."""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.chores.models import Chore


@dataclass(frozen=True, slots=True)
class TodayChore:
    """The chore columns an item on the page shows."""

    name: str
    icon: str


@dataclass(frozen=True, slots=True)
class TodayAssignment:
    """One assignment of the day as the page shows it (plain values: no ORM object to build for a read)."""

    id: uuid.UUID
    status: str
    assigned_to: uuid.UUID | None
    due_at: datetime
    points_offered: int
    points_earned: int | None
    rejection_reason: str | None
    completion_notes: str | None
    photo_name: str | None
    chore: TodayChore


@functools.cache
def _day_statement(for_member: bool) -> Select[*tuple[Any, ...]]:
    """The day's assignments of active chores, by due time then name (one member's plus the open ones when
    `for_member`); built once per process, only the parameters change."""
    query = (select(Assignment.id, Assignment.status, Assignment.assigned_to, Assignment.due_at,
                    Assignment.points_offered, Assignment.points_earned, Assignment.rejection_reason,
                    Assignment.completion_notes, Assignment.photo_name, Chore.name, Chore.icon)
             .join(Assignment.chore)
             .where(Assignment.due_date == bindparam("day"), Chore.active.is_(True)))
    if for_member:
        query = query.where(or_(Assignment.assigned_to == bindparam("member_id"),
                                Assignment.status == "open"))
    return query.order_by(Assignment.due_at, Chore.name)


def list_day_assignments(session: Session, day: date, *, member_id: uuid.UUID | None = None
                         ) -> list[TodayAssignment]:
    """A day's assignments (one member's, plus the open ones to claim, when member_id is given)."""
    params: dict[str, Any] = {"day": day} if member_id is None else {"day": day, "member_id": member_id}
    return [TodayAssignment(id=row.id, status=row.status, assigned_to=row.assigned_to, due_at=row.due_at,
                            points_offered=row.points_offered, points_earned=row.points_earned,
                            rejection_reason=row.rejection_reason, completion_notes=row.completion_notes,
                            photo_name=row.photo_name, chore=TodayChore(name=row.name, icon=row.icon))
            for row in session.execute(_day_statement(member_id is not None), params)]
