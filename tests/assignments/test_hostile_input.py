"""Hostile input to the assignment writes over the API (hand out, complete, verify): a clear 4xx, never a 500,
nothing written."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments.models import Assignment
from app.points.models import LedgerEntry
from tests.chores.page_helpers import People, people  # noqa: F401 - pytest fixtures
from tests.conftest import Auth, FamilyClient

MEGA = "x" * 1_000_000  # a 1 MB string

# (action, changes) to a good body; None removes the key.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("create", {"chore_id": None}), ("create", {"chore_id": "\ud800"}), ("create", {"chore_id": "x\x00"}),
    ("create", {"chore_id": MEGA}), ("create", {"chore_id": 5}), ("create", {"assigned_to": "not-a-uuid"}),
    ("create", {"assigned_to": ["x"]}), ("create", {"points_offered": "5"}), ("create", {"points_offered": -1}),
    ("create", {"points_offered": 10 ** 30}), ("create", {"points_offered": 2.5}),
    ("create", {"due_date": "2027-02-29"}), ("create", {"due_date": "2027-03-01T10:00:00"}),
    ("create", {"due_date": "٢٠٢٧-٠٣-٠١"}), ("create", {"due_date": "0001-01-01T00:00:00Z"}),
    ("create", {"due_date": 20270301}),
    ("complete", {"notes": "Done\x00"}), ("complete", {"notes": "Done\udc00"}), ("complete", {"notes": MEGA}),
    ("complete", {"notes": 5}), ("complete", {"notes": "Done\x1b[2J"}),
    ("verify", {"approved": None}), ("verify", {"approved": "yes"}), ("verify", {"points_awarded": -1}),
    ("verify", {"points_awarded": "12"}), ("verify", {"points_awarded": 10_001}),
    ("verify", {"verification_notes": MEGA}), ("verify", {"verification_notes": "Redo\ud83d"}),
    ("verify", {"verification_notes": "Redo\x00"}), ("verify", {"verification_notes": ["Redo"]}),
]
GOOD = {"create": {"points_offered": 4, "due_date": None}, "complete": {"notes": "Done"},
        "verify": {"approved": True, "points_awarded": 6, "verification_notes": "Great"}}


def _written(in_family: Callable[..., Any], people: People) -> tuple[Any, ...]:
    with in_family(people.family) as ctx:
        s = ctx.session
        rows = sorted((a.id, a.status, a.updated_at, a.points_earned, a.completion_notes, a.verification_notes)
                      for a in s.scalars(select(Assignment)))
        return rows, s.scalar(select(func.count()).select_from(LedgerEntry))


@pytest.mark.parametrize(("action", "changes"), CASES, ids=[f"{a}-{i}" for i, (a, _) in enumerate(CASES)])
def test_hostile_assignment_input_is_a_clear_4xx_and_writes_nothing(people: People, auth: Auth,
                                                                      client_for: Callable[..., FamilyClient],
                                                                      in_family: Callable[..., Any], action: str,
                                                                      changes: dict[str, Any]) -> None:
    api = client_for(people.family)
    parent, kid = auth.bearer(people.parent, people.family), auth.bearer(people.maya, people.family)
    chore = api.post("/api/chores", json={"name": "Dishes", "requires_verification": True}, headers=parent)
    handed = api.post("/api/assignments", json={"chore_id": chore.get_json()["id"],
                                                "assigned_to": str(people.maya.id)}, headers=parent)
    assignment_id = handed.get_json()["id"]
    if action == "verify":
        assert api.post(f"/api/assignments/{assignment_id}/complete", json={}, headers=kid).status_code == 200
    before = _written(in_family, people)

    good = {**GOOD[action], "chore_id": chore.get_json()["id"], "assigned_to": str(people.maya.id)} \
        if action == "create" else GOOD[action]
    body = {key: value for key, value in {**good, **changes}.items() if value is not None}
    path = "/api/assignments" if action == "create" else f"/api/assignments/{assignment_id}/{action}"
    response = api.post(path, data=json.dumps(body), content_type="application/json",
                        headers=kid if action == "complete" else parent)

    assert response.status_code in (400, 413, 422), (response.status_code, response.get_data(as_text=True)[:300])
    assert response.get_json()["error"]
    assert _written(in_family, people) == before
