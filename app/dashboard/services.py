"""The Today page's reads: a day's assignments as plain columns, from a statement built once per process."""
from __future__ import annotations

import functools
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.assignments.services import DAY_COLUMNS, DayAssignment, day_assignment
from app.chores.models import Chore


@functools.cache
def _day_statement(for_member: bool) -> Select[*tuple[Any, ...]]:
    """The day's assignments of active chores, by due time then name (one member's plus the open ones when
    `for_member`); built once per process, only the parameters change."""
    query = (select(*DAY_COLUMNS)
             .join(Assignment.chore)
             .where(Assignment.due_date == bindparam("day"), Chore.active.is_(True)))
    if for_member:
        query = query.where(or_(Assignment.assigned_to == bindparam("member_id"),
                                Assignment.status == "open"))
    return query.order_by(Assignment.due_at, Chore.name)


def list_day_assignments(session: Session, day: date, *, member_id: uuid.UUID | None = None
                         ) -> list[DayAssignment]:
    """A day's assignments (one member's, plus the open ones to claim, when member_id is given)."""
    params: dict[str, Any] = {"day": day} if member_id is None else {"day": day, "member_id": member_id}
    return [day_assignment(row) for row in session.execute(_day_statement(member_id is not None), params)]
