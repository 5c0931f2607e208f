"""Fixtures for the daily loop: a family with kids, helpers for scheduled chores, and threads that race for real."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timezone
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.assignments.services import FamilyRules
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from app.family_time import FamilyClock
from app.members.models import Member
from tests.concurrency import run_together  # noqa: F401 - the race tests import it from here

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday
RACERS = 8


@pytest.fixture
def rules() -> FamilyRules:
    return FamilyRules(clock=FamilyClock("UTC"))


def make_chore(session, *, name: str = "Dishes", assignees: list[Member] | None = None,  # noqa: ANN001
               strategy: str = "fixed", schedule: dict[str, Any] | None = None, **fields: Any) -> Chore:
    """A chore with a schedule (daily from 2026-01-01 by default) and its rotation order."""
    chore = Chore(name=name, assignment_type=strategy, **fields)
    spec = {"kind": "daily", "start_date": date(2026, 1, 1), **(schedule or {})}
    chore.schedule = ChoreSchedule(**spec)
    chore.assignees = [ChoreAssignee(member_id=m.id, position=i) for i, m in enumerate(assignees or [])]
    session.add(chore)
    session.flush()
    return chore


def make_parent(session: Session, username: str = "mum") -> Member:
    """A parent in the current family session (flushed, not committed)."""
    parent = Member(username=username, display_name=username.title(), role="parent")
    session.add(parent)
    session.flush()
    return parent


@pytest.fixture
def kids(in_family, family) -> Callable[..., list[Member]]:  # noqa: ANN001
    """Factory: add kids (name → birthdate) to this test's family and return them (in that family's session)."""
    def add(*names: str, birthdate: date | None = date(2015, 1, 1)) -> list[Member]:
        with in_family(family) as ctx:
            members = [Member(username=n.lower(), display_name=n, role="child", birthdate=birthdate) for n in names]
            ctx.session.add_all(members)
            ctx.session.commit()
            return members
    return add


# --- real concurrency (race_app: tests/conftest.py) -------------------------------------------------------------------





__all__ = ["NOW", "RACERS", "make_chore", "make_parent", "run_together", "time"]
