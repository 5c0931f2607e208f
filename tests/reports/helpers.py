"""Helpers shared by the achievements, reports and settings tests: a household, hand-made rows, CSRF and races."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.chores.models import Chore
from app.members.models import FamilySetting, Member
from app.points.models import LedgerEntry
from app.tenancy.registry import FamilyRecord
from tests.concurrency import run_together  # noqa: F401 - the race tests import it from here
from tests.conftest import FamilyClient
from tests.forms import csrf_token as shared_csrf_token
from tests.forms import post_form as shared_post_form

HTMX = {"HX-Request": "true"}


def csrf_token(app: Flask, client: FamilyClient) -> str:
    """A valid CSRF token for this client's session (Flask-WTF's `generate_csrf`, via tests/forms.py)."""
    return shared_csrf_token(client)


def post_form(app: Flask, client: FamilyClient, path: str, data: dict[str, Any] | None = None, *,
              htmx: bool = False, csrf: bool = True):  # noqa: ANN201
    """POST a form as the pages do (with the CSRF token unless told not to), optionally as htmx."""
    return shared_post_form(client, path, data, htmx=htmx, csrf=csrf)


@dataclass
class Household:
    """This test's family: a parent and two kids (Maya, Leo)."""

    family: FamilyRecord
    parent: Member
    kid: Member
    sibling: Member


def make_household(create_member: Callable[..., Member], family: FamilyRecord) -> Household:
    parent = create_member(role="parent", username="mum", display_name="Mum")
    kid = create_member(username="maya", display_name="Maya", color="#aa3366")
    sibling = create_member(username="leo", display_name="Leo", color="#3366aa")
    return Household(family, parent, kid, sibling)


def add_chore(session: Session, name: str = "Dishes", **fields: Any) -> Chore:
    """An active chore without a schedule (assignments are made by hand)."""
    chore = Chore(name=name, **fields)
    session.add(chore)
    session.flush()
    return chore


def add_assignment(session: Session, chore: Chore, member: Member | None, day: date, *, status: str = "pending",
                   points: int | None = None, due: time = time(18, 0), zone: str = "UTC",
                   **fields: Any) -> Assignment:
    """An assignment due on a family-local `day` at `due` in `zone`."""
    due_at = datetime.combine(day, due, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)
    assignment = Assignment(chore_id=chore.id, assigned_to=member.id if member else None, due_date=day,
                            due_at=due_at, status=status,
                            points_offered=points if points is not None else chore.base_points, **fields)
    session.add(assignment)
    session.flush()
    return assignment


def add_ledger(session: Session, member: Member, amount: int, kind: str, at: datetime, *,
               assignment: Assignment | None = None, description: str = "test") -> LedgerEntry:
    """A ledger row written directly (no balance change: for report and export tests only)."""
    entry = LedgerEntry(member_id=member.id, amount=amount, kind=kind, description=description, created_at=at,
                        assignment_id=assignment.id if assignment else None)
    session.add(entry)
    session.flush()
    return entry


def put_setting(session: Session, key: str, value: Any) -> None:
    """Write one family setting row directly."""
    from sqlalchemy import select

    row = session.scalar(select(FamilySetting).where(FamilySetting.key == key))
    if row is None:
        session.add(FamilySetting(key=key, value=value))
    else:
        row.value = value
    session.flush()




def days_before(day: date, count: int) -> date:
    return day - timedelta(days=count)
