"""The chores resource: contract shapes read back for real, defaults, archive, today's assignments, bad input."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.assignments.models import Assignment, MaterialisedDay
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from app.db.bases import utcnow
from tests.api.conftest import People
from tests.api.test_daily_access import TIMESTAMP, assert_shape, refused

CHORE_TYPES: dict[str, Any] = {
    "id": str, "name": str, "description": str, "instructions": str, "category": str, "base_points": int,
    "bonus_eligible": bool, "penalty_points": int, "estimated_minutes": int, "difficulty": str,
    "requires_verification": bool, "requires_photo": bool, "icon": str, "tags": list, "frequency": str,
    "active": bool, "created_at": str, "updated_at": str, "min_age": int, "assignment_type": str,
    "rotation_eligible": bool,
    # ours
    "due_time": str, "not_before_time": str, "open_bonus_points": int, "schedule": (dict, type(None)),
    "assignees": list,
}
CHORE_OPTIONAL = {"description", "instructions", "estimated_minutes", "tags", "frequency", "due_time",
                  "not_before_time"}
LIST_ITEM_TYPES: dict[str, Any] = {
    "id": str, "name": str, "category": str, "base_points": int, "estimated_minutes": int, "difficulty": str,
    "icon": str, "active": bool, "assignment_type": str,
}
SCHEDULE_KEYS = {"kind", "interval", "interval_unit", "weekdays", "month_day", "week_of_month", "start_date",
                 "end_date", "rolling", "paused_from", "paused_until", "description"}


def _today() -> date:
    return utcnow().date()  # the test family lives in UTC


def _full_chore(people: People) -> dict[str, Any]:
    return {
        "name": "Feed the cat", "description": "Wet food", "instructions": "Half a tin", "category": "pets",
        "base_points": 12, "bonus_eligible": True, "penalty_points": 3, "estimated_minutes": 5,
        "difficulty": "medium", "requires_verification": True, "requires_photo": False, "icon": "🐱",
        "tags": ["pets", "morning"], "rotation_eligible": True, "min_age": 7, "assignment_type": "round_robin",
        "due_time": "08:30", "not_before_time": "06:00", "open_bonus_points": 2,
        "schedule": {"kind": "weekly", "weekdays": [0, 2, 4], "start_date": _today().isoformat()},
        "assignees": [str(people.sibling.id), str(people.kid.id)],
    }


def _post(api, people: People, body: Any) -> Any:  # noqa: ANN001
    return api.post("/api/chores", json=body, headers=people.headers(people.parent))


# --- shapes --------------------------------------------------------------------------------------------------------

def test_create_reads_every_key_back(api, people: People) -> None:  # noqa: ANN001
    response = _post(api, people, _full_chore(people))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == set(CHORE_TYPES)
    assert_shape(body, CHORE_TYPES, CHORE_OPTIONAL)
    # The previous service answered icon "", assignment_type "" and min_age 0 here; we read them back.
    assert (body["icon"], body["assignment_type"], body["min_age"]) == ("🐱", "round_robin", 7)
    assert (body["due_time"], body["not_before_time"], body["frequency"]) == ("08:30:00", "06:00:00", "weekly")
    assert body["assignees"] == [str(people.sibling.id), str(people.kid.id)]
    assert set(body["schedule"]) == SCHEDULE_KEYS
    assert body["schedule"]["weekdays"] == [0, 2, 4]
    assert body["schedule"]["description"] == "Every week on Mon, Wed, Fri"
    assert body["tags"] == ["pets", "morning"] and body["active"] is True
    assert TIMESTAMP.match(body["created_at"]) and TIMESTAMP.match(body["updated_at"])
    fetched = api.get(f"/api/chores/{body['id']}", headers=people.headers(people.kid))
    assert fetched.status_code == 200 and fetched.get_json() == body


def test_create_defaults_follow_the_contract(api, people: People) -> None:  # noqa: ANN001
    body = _post(api, people, {"name": "Tidy room", "base_points": 0, "category": "", "difficulty": ""}).get_json()
    assert set(body) == set(CHORE_TYPES) - CHORE_OPTIONAL
    assert (body["category"], body["difficulty"], body["base_points"]) == ("other", "easy", 10)
    assert (body["requires_verification"], body["requires_photo"], body["rotation_eligible"],
            body["bonus_eligible"], body["active"]) == (False, False, False, False, True)
    assert (body["penalty_points"], body["min_age"], body["schedule"], body["assignees"]) == (0, 0, None, [])


def test_a_new_chore_is_always_active(api, people: People) -> None:  # noqa: ANN001
    body = _post(api, people, {"name": "Tidy room", "active": False}).get_json()
    assert body["active"] is True


def test_list_shape_order_and_archived_chores_vanish(api, people: People) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    ids = {name: _post(api, people, {"name": name, "category": category, "estimated_minutes": minutes}
                       ).get_json()["id"]
           for name, category, minutes in [("Sweep", "kitchen", 10), ("Bins", "outside", None),
                                           ("Dishes", "kitchen", None)]}
    assert api.delete(f"/api/chores/{ids['Bins']}", headers=headers).status_code == 200
    response = api.get("/api/chores", headers=people.headers(people.kid))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"chores", "count", "family_id", "family_name"}
    assert (body["family_id"], body["family_name"], body["count"]) == (str(people.family.id), people.family.name, 2)
    assert [c["name"] for c in body["chores"]] == ["Dishes", "Sweep"]  # by category, then name
    for item in body["chores"]:
        assert_shape(item, LIST_ITEM_TYPES, {"estimated_minutes"})
    assert "estimated_minutes" not in body["chores"][0] and body["chores"][1]["estimated_minutes"] == 10


# --- update and archive --------------------------------------------------------------------------------------------

def test_update_changes_only_what_is_sent(api, people: People) -> None:  # noqa: ANN001
    created = _post(api, people, _full_chore(people)).get_json()
    response = api.put(f"/api/chores/{created['id']}", headers=people.headers(people.parent),
                       json={"base_points": 20, "description": None, "tags": [], "min_age": 9,
                             "assignees": [str(people.kid.id), str(people.sibling.id)]})
    assert response.status_code == 200
    body = response.get_json()
    assert_shape(body, CHORE_TYPES, CHORE_OPTIONAL)
    assert (body["base_points"], body["min_age"], body["description"]) == (20, 9, "Wet food")  # null: unchanged
    assert "tags" not in body  # emptied
    assert body["assignees"] == [str(people.kid.id), str(people.sibling.id)]  # same members, new order
    assert body["name"] == "Feed the cat" and body["schedule"]["kind"] == "weekly"
    assert body["updated_at"] >= created["updated_at"]


def test_update_can_clear_our_own_keys(api, people: People) -> None:  # noqa: ANN001
    created = _post(api, people, _full_chore(people)).get_json()
    body = api.put(f"/api/chores/{created['id']}", headers=people.headers(people.parent),
                   json={"schedule": None, "due_time": None, "not_before_time": None}).get_json()
    assert body["schedule"] is None and "due_time" not in body and "not_before_time" not in body
    assert "frequency" not in body


def test_archive_hides_the_chore_everywhere_and_active_true_restores_it(api, people: People) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    chore_id = _post(api, people, {"name": "Bins"}).get_json()["id"]
    response = api.delete(f"/api/chores/{chore_id}", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"id": chore_id, "message": "Chore deleted successfully"}
    refused(api.get(f"/api/chores/{chore_id}", headers=headers), 404, "Chore not found")
    refused(api.delete(f"/api/chores/{chore_id}", headers=headers), 404, "Chore not found")
    refused(api.put(f"/api/chores/{chore_id}", json={"base_points": 5}, headers=headers), 404, "Chore not found")
    assert api.get("/api/chores", headers=headers).get_json()["count"] == 0
    restored = api.put(f"/api/chores/{chore_id}", json={"active": True}, headers=headers)
    assert restored.status_code == 200 and restored.get_json()["active"] is True
    assert api.get("/api/chores", headers=headers).get_json()["count"] == 1


# --- today's assignments -------------------------------------------------------------------------------------------

def test_a_scheduled_chore_is_assigned_today_at_once(api, people: People, in_family) -> None:  # noqa: ANN001
    body = _post(api, people, {"name": "Dishes", "base_points": 15, "assignees": [str(people.kid.id)],
                               "schedule": {"kind": "daily", "start_date": _today().isoformat()}}).get_json()
    with in_family(people.family) as ctx:
        rows = list(ctx.session.scalars(select(Assignment).where(Assignment.chore_id == uuid.UUID(body["id"]))))
        assert [(a.assigned_to, a.due_date, a.status, a.points_offered) for a in rows] == [
            (people.kid.id, _today(), "pending", 15)]


def test_creating_a_chore_does_not_hide_the_rest_of_an_unread_day(api, people: People, in_family) -> None:  # noqa: ANN001
    """Materialising one new chore must not mark the day done before the family's other chores were assigned."""
    with in_family(people.family) as ctx:
        existing = Chore(name="Bins", base_points=5, assignment_type="fixed")
        existing.schedule = ChoreSchedule(kind="daily", start_date=_today() - timedelta(days=3))
        existing.assignees = [ChoreAssignee(member_id=people.sibling.id, position=0)]
        ctx.session.add(existing)
        ctx.session.commit()
        existing_id = existing.id
    _post(api, people, {"name": "Dishes", "assignees": [str(people.kid.id)],
                        "schedule": {"kind": "daily", "start_date": _today().isoformat()}})
    listed = api.get("/api/assignments", headers=people.headers(people.parent)).get_json()
    assert sorted(a["chore"]["name"] for a in listed["assignments"]) == ["Bins", "Dishes"]
    with in_family(people.family) as ctx:
        assert ctx.session.scalar(select(Assignment.assigned_to).where(Assignment.chore_id == existing_id)) == \
            people.sibling.id
        assert ctx.session.scalar(select(MaterialisedDay.day)) == _today()


def test_an_updated_schedule_assigns_today(api, people: People, in_family) -> None:  # noqa: ANN001
    chore_id = _post(api, people, {"name": "Dishes"}).get_json()["id"]
    with in_family(people.family) as ctx:
        assert ctx.session.scalar(select(Assignment).where(Assignment.chore_id == uuid.UUID(chore_id))) is None
    api.put(f"/api/chores/{chore_id}", headers=people.headers(people.parent),
            json={"assignment_type": "open", "schedule": {"kind": "daily", "start_date": _today().isoformat()}})
    with in_family(people.family) as ctx:
        row = ctx.session.scalar(select(Assignment).where(Assignment.chore_id == uuid.UUID(chore_id)))
        assert row is not None and row.status == "open" and row.assigned_to is None


# --- bad input -----------------------------------------------------------------------------------------------------

def _far(days: int) -> str:
    return (_today() + timedelta(days=days)).isoformat()


BAD_CREATES = [
    ({}, "Invalid request body"),
    ({"name": ""}, "Invalid request body"),
    ({"name": "   "}, "Invalid request body"),
    ({"name": 5}, "Invalid request body"),
    ({"name": "x" * 101}, "name can be at most 100 characters"),
    ({"name": "Dishes", "base_points": -5}, "base_points cannot be negative"),
    ({"name": "Dishes", "base_points": 10_001}, "base_points must be between -10000 and 10000"),
    ({"name": "Dishes", "base_points": 10 ** 30}, None),
    ({"name": "Dishes", "base_points": "10"}, "Invalid request body"),
    ({"name": "Dishes", "base_points": 10.5}, "Invalid request body"),
    ({"name": "Dishes", "base_points": True}, "Invalid request body"),
    ({"name": "Dishes", "penalty_points": -1}, None),
    ({"name": "Dishes", "estimated_minutes": 0}, None),
    ({"name": "Dishes", "estimated_minutes": 100_000}, None),
    ({"name": "Dishes", "min_age": 99}, None),
    ({"name": "Dishes", "difficulty": "impossible"}, None),
    ({"name": "Dishes", "assignment_type": "both"}, None),
    ({"name": "Dishes", "requires_verification": "yes"}, "Invalid request body"),
    ({"name": "Dishes", "tags": "chores"}, "Invalid request body"),
    ({"name": "Dishes", "tags": [1, 2]}, None),
    ({"name": "Dishes", "icon": "x" * 17}, None),
    ({"name": "Dishes", "due_time": "25:00"}, None),
    ({"name": "Dishes", "due_time": "08:00", "not_before_time": "09:00"}, None),
    ({"name": "Dish\x00es"}, "Invalid request body"),
    ({"name": "Dishes", "assignees": ["not-a-uuid"]}, "Unknown member in assignees"),
    ({"name": "Dishes", "assignees": [str(uuid.uuid4())]}, "Unknown member in assignees"),
    ({"name": "Dishes", "assignees": [7]}, "Invalid request body"),
    ({"name": "Dishes", "schedule": "daily"}, "Invalid request body"),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "hourly"}}, None),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "weekly"}}, "Pick at least one weekday"),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "weekly", "weekdays": 3}},
     "Invalid request body"),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "weekly", "weekdays": ["x"]}},
     "Invalid request body"),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "weekly", "weekdays": [9]}}, None),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "daily", "start_date": _far(365 * 6)}},
     None),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "daily", "start_date": _far(-400)}}, None),
    ({"name": "Dishes", "assignment_type": "open", "schedule": {"kind": "daily", "start_date": "2026-02-30"}},
     None),
    ({"name": "Dishes", "assignment_type": "open",
      "schedule": {"kind": "once", "start_date": _far(3), "paused_from": _far(0), "paused_until": _far(10)}},
     "This schedule never happens: check the dates, weekdays and pauses"),
    ({"name": "Dishes", "assignment_type": "open",
      "schedule": {"kind": "daily", "start_date": _far(5), "end_date": _far(1)}}, None),
    ({"name": "Dishes", "schedule": {"kind": "daily"}}, "Pick who does this chore"),
]


@pytest.mark.parametrize("body, error", BAD_CREATES, ids=[str(i) for i in range(len(BAD_CREATES))])
def test_bad_creates_are_400_and_store_nothing(api, people: People, in_family, body: Any,  # noqa: ANN001
                                               error: str | None) -> None:
    refused(_post(api, people, body), 400, error)
    with in_family(people.family) as ctx:
        assert ctx.session.scalar(select(Chore)) is None


@pytest.mark.parametrize("data", ["not json", "[1, 2]", "", "null"])
def test_create_needs_a_json_object(api, people: People, data: str) -> None:  # noqa: ANN001
    response = api.post("/api/chores", data=data, content_type="application/json",
                        headers=people.headers(people.parent))
    refused(response, 400, "Invalid request body")


def test_a_kid_is_refused_before_the_body_is_read(api, people: People) -> None:  # noqa: ANN001
    response = api.post("/api/chores", data="garbage", headers=people.headers(people.kid))
    assert response.status_code == 403 and response.get_json() == {"error": "Only parents can create chores"}


def test_another_familys_member_cannot_be_an_assignee(api, people: People) -> None:  # noqa: ANN001
    refused(_post(api, people, {"name": "Dishes", "assignees": [str(people.stranger_kid.id)]}), 400,
            "Unknown member in assignees")


@pytest.mark.parametrize("method, body", [("GET", None), ("PUT", {"base_points": 5}), ("DELETE", None)])
@pytest.mark.parametrize("chore_id, status, error", [
    ("not-a-uuid", 400, "Invalid chore ID"),
    ("12345", 400, "Invalid chore ID"),
    (str(uuid.uuid4()), 404, "Chore not found"),
])
def test_bad_and_unknown_ids(api, people: People, method: str, body: Any, chore_id: str, status: int,  # noqa: ANN001
                             error: str) -> None:
    response = api.open(f"/api/chores/{chore_id}", method=method, json=body, headers=people.headers(people.parent))
    refused(response, status, error)


@pytest.mark.parametrize("body, status, error", [
    ({}, 400, "No fields to update"),
    ({"frequency": "d" * 51}, 400, "frequency can be at most 50 characters"),
    ({"base_points": 0}, 400, "base_points must not be zero"),
    ({"base_points": -1}, 400, "base_points cannot be negative"),
    ({"name": ""}, 400, "name cannot be empty"),
    ({"assignees": ["nope"]}, 400, "Unknown member in assignees"),
    ({"schedule": {"kind": "weekly", "weekdays": []}}, 400, "Pick at least one weekday"),
])
def test_bad_updates_change_nothing(api, people: People, body: Any, status: int, error: str) -> None:  # noqa: ANN001
    created = _post(api, people, {"name": "Dishes", "base_points": 7, "assignees": [str(people.kid.id)]}).get_json()
    refused(api.put(f"/api/chores/{created['id']}", json=body, headers=people.headers(people.parent)), status, error)
    after = api.get(f"/api/chores/{created['id']}", headers=people.headers(people.parent)).get_json()
    assert after == created
