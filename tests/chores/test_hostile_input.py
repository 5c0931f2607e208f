"""Hostile input to every chore write, page and API: a clear 4xx, never a 500, and nothing written."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments.models import Assignment
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from tests.chores.page_helpers import People, Poster
from tests.chores.test_pages import chore_form
from tests.conftest import Auth, FamilyClient

MEGA = "x" * 1_000_000  # a 1 MB string
NUL, SURROGATE, CONTROL = "Dish\x00es", "Dish\ud800es", "Dish\x1bes"

# (channel, changes): "page" posts the new-chore form with these changes; "create" POSTs and "update" PUTs the API
# with them. A value of None removes the key.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("page", {"name": NUL}), ("page", {"name": CONTROL}), ("page", {"description": MEGA}),
    ("page", {"name": None}), ("page", {"base_points": "1e3"}), ("page", {"base_points": "١٥"}),
    ("page", {"base_points": "99999999999999999999"}), ("page", {"min_age": "-1"}),
    ("page", {"estimated_minutes": "1441"}), ("page", {"due_time": "7pm"}), ("page", {"due_time": "24:00"}),
    ("page", {"start_date": "2026-02-30"}), ("page", {"end_date": "31/12/2026"}), ("page", {"kind": "hourly"}),
    ("page", {"kind": "interval", "interval": "0"}), ("page", {"kind": "weekly", "weekdays": ["9"]}),
    ("page", {"assignees": ["not-a-uuid"], "order": []}),
    ("create", {"name": SURROGATE}), ("create", {"name": NUL}), ("create", {"name": CONTROL}),
    ("create", {"description": MEGA}), ("create", {"name": None}), ("create", {"base_points": "5"}),
    ("create", {"base_points": 10 ** 20}), ("create", {"base_points": 1.5}), ("create", {"penalty_points": -1}),
    ("create", {"min_age": 99}), ("create", {"estimated_minutes": -5}), ("create", {"difficulty": ["easy"]}),
    ("create", {"icon": "x" * 17}), ("create", {"tags": "chores"}), ("create", {"tags": ["x" * 41]}),
    ("create", {"requires_photo": "yes"}), ("create", {"due_time": "25:00"}), ("create", {"due_time": 1900}),
    ("create", {"schedule": "daily"}), ("create", {"schedule": {"kind": "weekly", "weekdays": [9]}}),
    ("create", {"schedule": {"kind": "daily", "start_date": "31/12/2026"}}), ("create", {"assignees": [5]}),
    ("update", {"name": "\udfff"}), ("update", {"category": MEGA}), ("update", {"base_points": -1}),
    ("update", {"due_time": "noon"}), ("update", {"active": "true"}),
    ("update", {"schedule": {"kind": "monthly_day", "month_day": 32}}), ("update", {"assignees": ["nope"]}),
]


def _written(in_family: Callable[..., Any], people: People) -> list[Any]:
    """Every chore-side row of the family, with the stamps a write would move."""
    with in_family(people.family) as ctx:
        s = ctx.session
        return [sorted((c.id, c.name, c.base_points, c.updated_at) for c in s.scalars(select(Chore))),
                s.scalar(select(func.count()).select_from(ChoreSchedule)),
                s.scalar(select(func.count()).select_from(ChoreAssignee)),
                s.scalar(select(func.count()).select_from(Assignment))]


def _without_none(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**data, **changes}
    return {key: value for key, value in merged.items() if value is not None}


@pytest.mark.parametrize(("channel", "changes"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_hostile_chore_input_is_a_clear_4xx_and_writes_nothing(people: People, parent_client: FamilyClient,
                                                                 post: Poster, auth: Auth,
                                                                 client_for: Callable[..., FamilyClient],
                                                                 in_family: Callable[..., Any], channel: str,
                                                                 changes: dict[str, Any]) -> None:
    api = client_for(people.family)
    headers = auth.bearer(people.parent, people.family)
    made = api.post("/api/chores", json={"name": "Existing", "assignment_type": "open"}, headers=headers)
    assert made.status_code == 201
    before = _written(in_family, people)

    if channel == "page":
        response = post(parent_client, "/chores/new", _without_none(chore_form(people), changes))
    else:
        body = _without_none({"name": "Dishes", "assignment_type": "open"} if channel == "create" else {}, changes)
        path = "/api/chores" if channel == "create" else f"/api/chores/{made.get_json()['id']}"
        response = api.open(path, method="POST" if channel == "create" else "PUT", data=json.dumps(body),
                            content_type="application/json", headers=headers)

    assert response.status_code in (400, 413, 422), (response.status_code, response.get_data(as_text=True)[:300])
    if channel != "page" and response.status_code != 413:
        assert response.get_json()["error"]  # a message a client can show
    assert _written(in_family, people) == before
