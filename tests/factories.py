"""Rows for tests, straight into a family's session with sensible defaults: `create_chore(session, **overrides)`…"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.chores.models import Chore
from app.family_time import FamilyClock
from app.members.models import Member
from app.rewards.models import Reward


def create_chore(session: Session, **overrides: Any) -> Chore:
    """A chore (no schedule unless given, so nothing else materialises); defaults: 10 points, a fixed kid's chore."""
    values: dict[str, Any] = {"name": "Make your bed", "icon": "🛏️", "base_points": 10}
    values.update(overrides)
    chore = Chore(**values)
    session.add(chore)
    session.flush()
    return chore


def create_assignment(session: Session, chore: Chore, member: Member | None, day: date, **overrides: Any
                      ) -> Assignment:
    """The chore's assignment on `day` (due at the day's end, UTC families): the member's to do, or open to claim."""
    values: dict[str, Any] = {"chore_id": chore.id, "assigned_to": member.id if member else None, "due_date": day,
                              "due_at": FamilyClock("UTC").at(day, None),
                              "status": "pending" if member else "open", "points_offered": chore.base_points}
    values.update(overrides)
    assignment = Assignment(**values)
    session.add(assignment)
    session.flush()
    return assignment


def create_reward(session: Session, **overrides: Any) -> Reward:
    """A reward straight into the table (services are tested separately); defaults: 50 points, unlimited."""
    values: dict[str, Any] = {"name": "Ice cream", "cost": 50, "icon": "🍦", "category": "treat",
                              "requires_approval": True, "availability": "always", "active": True}
    values.update(overrides)
    reward = Reward(**values)
    session.add(reward)
    session.flush()
    return reward
