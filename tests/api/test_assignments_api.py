"""Assignments over the API: the whole lifecycle, auto-approval, claims, filters and scoping, and every bad input."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments.models import Assignment
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import reconcile_balances
from tests.api.conftest import People
from tests.api.test_daily_access import (
    DATE,
    SECONDS,
    World,
    add_assignment,
    assert_shape,
    refused,
    set_setting,
    world,  # noqa: F401 - the shared fixture
)

CHORE_SUMMARY_TYPES: dict[str, Any] = {
    "id": str, "name": str, "description": str, "category": str, "difficulty": str, "estimated_minutes": int,
    "requires_verification": bool, "requires_photo": bool, "icon": str, "base_points": int,
}
MEMBER_SUMMARY_KEYS = {"id", "username", "display_name", "color_theme"}
ITEM_TYPES: dict[str, Any] = {
    "id": str, "chore_id": str, "assigned_to": str, "assigned_by": str, "status": str, "points_offered": int,
    "points_earned": int, "due_date": str, "created_at": str, "updated_at": str, "completed_at": str,
    "verified_at": str, "completion_notes": str, "verification_notes": str, "is_bonus": bool, "chore": dict,
    "assigned_user": dict,
    # ours
    "due_at": str, "claimed_at": str, "verified_by": str, "rejection_reason": str,
}
ITEM_OPTIONAL = {"assigned_to", "assigned_by", "due_date", "updated_at", "completed_at", "verified_at",
                 "completion_notes", "verification_notes", "assigned_user", "due_at", "claimed_at", "verified_by",
                 "rejection_reason"}
DETAIL_TYPES = {**ITEM_TYPES, "assigned_by_user": dict}
CREATED_KEYS = {"id", "chore_id", "assigned_to", "assigned_by", "status", "points_offered", "due_date", "message"}


def _today() -> date:
    return utcnow().date()


def _h(people: People, member: Member | None) -> dict[str, str]:
    return people.headers(member)


def _assert_item(item: dict[str, Any], types: dict[str, Any] = ITEM_TYPES) -> None:
    assert_shape(item, types, ITEM_OPTIONAL | {"assigned_by_user"})
    assert_shape(item["chore"], CHORE_SUMMARY_TYPES, {"description", "estimated_minutes"})
    if "assigned_user" in item:
        assert set(item["assigned_user"]) == MEMBER_SUMMARY_KEYS
    for key in ("created_at", "updated_at", "completed_at", "verified_at", "claimed_at", "due_at"):
        if key in item:
            assert SECONDS.match(item[key]), (key, item[key])
    assert DATE.match(item["due_date"])


def _ledger(in_family, people: People) -> list[tuple[uuid.UUID, int, str]]:  # noqa: ANN001
    with in_family(people.family) as ctx:
        return [(e.member_id, e.amount, e.kind) for e in ctx.session.scalars(
            select(LedgerEntry).order_by(LedgerEntry.created_at))]


def _scheduled_chore(api, people: People, **fields: Any) -> dict[str, Any]:  # noqa: ANN001
    body = {"name": "Dishes", "base_points": 15, "requires_verification": True, "assignees": [str(people.kid.id)],
            "schedule": {"kind": "daily", "start_date": _today().isoformat()}, **fields}
    response = api.post("/api/chores", json=body, headers=_h(people, people.parent))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _todays(api, people: People, member: Member) -> dict[str, Any]:  # noqa: ANN001
    listed = api.get(f"/api/assignments?user_id={member.id}", headers=_h(people, people.parent)).get_json()
    assert listed["count"] == 1, listed
    return listed["assignments"][0]


# --- the lifecycle -------------------------------------------------------------------------------------------------

def test_lifecycle_chore_to_points_exactly_once(api, people: People, in_family) -> None:  # noqa: ANN001
    chore = _scheduled_chore(api, people)
    kid_h, parent_h = _h(people, people.kid), _h(people, people.parent)

    # Today's assignment exists and the kid sees it.
    mine = api.get("/api/assignments/my-assignments", headers=kid_h).get_json()
    assert set(mine) == {"assignments", "count"} and mine["count"] == 1
    item = mine["assignments"][0]
    _assert_item(item)
    assert (item["chore_id"], item["assigned_to"], item["status"], item["points_offered"], item["points_earned"],
            item["due_date"], item["is_bonus"]) == (chore["id"], str(people.kid.id), "pending", 15, 0,
                                                     _today().isoformat(), False)
    assert item["assigned_user"] == {"id": str(people.kid.id), "username": "maya", "display_name": "Maya",
                                     "color_theme": "#3498db"}
    assert "assigned_by" not in item  # materialised by the schedule, not handed out by someone

    # The kid completes it: waiting for a parent, no points yet.
    done = api.post(f"/api/assignments/{item['id']}/complete", json={"notes": "All clean"}, headers=kid_h)
    assert done.status_code == 200
    assert done.get_json() == {"assignment_id": item["id"], "message": "Assignment completed successfully",
                               "points_earned": 0, "requires_verification": True, "status": "pending_verification"}
    assert _ledger(in_family, people) == []

    # The parent approves: the points land once.
    verified = api.post(f"/api/assignments/{item['id']}/verify", json={"approved": True, "verification_notes": "Nice"},
                        headers=parent_h)
    assert verified.status_code == 200
    assert verified.get_json() == {"assignment_id": item["id"], "message": "Assignment verified successfully",
                                   "points_awarded": 15, "status": "verified"}
    again = api.post(f"/api/assignments/{item['id']}/verify", json={"approved": True}, headers=parent_h)
    refused(again, 400, "Cannot verify assignment with status: verified")
    refused(api.post(f"/api/assignments/{item['id']}/complete", headers=kid_h), 400,
            "Cannot complete assignment with status: verified")
    assert _ledger(in_family, people) == [(people.kid.id, 15, "chore")]

    # The detail shows who verified it, when, and the notes.
    detail = api.get(f"/api/assignments/{item['id']}", headers=kid_h).get_json()
    _assert_item(detail, DETAIL_TYPES)
    assert (detail["status"], detail["points_earned"], detail["verified_by"], detail["completion_notes"],
            detail["verification_notes"]) == ("verified", 15, str(people.parent.id), "All clean", "Nice")
    assert "assigned_by_user" not in detail and detail["completed_at"] <= detail["verified_at"]

    # Points, transactions, stats and the leaderboard all say 15, once.
    points = api.get(f"/api/users/{people.kid.id}/points", headers=kid_h).get_json()
    assert (points["total_points"], points["available_points"], points["weekly_points"],
            points["lifetime_points_earned"]) == (15, 15, 15, 15)
    assert points["streak_days"] == 1  # everything assigned today is done
    history = api.get(f"/api/users/{people.kid.id}/transactions", headers=kid_h).get_json()
    assert history["count"] == 1
    assert (history["transactions"][0]["points"], history["transactions"][0]["transaction_type"],
            history["transactions"][0]["related_assignment_id"]) == (15, "chore_completion", item["id"])
    stats = api.get(f"/api/users/{people.kid.id}/stats", headers=kid_h).get_json()
    assert (stats["completed_this_week"], stats["total_completed_chores"], stats["pending_assignments"],
            stats["weekly_points"]) == (1, 1, 0, 15)
    board = api.get("/api/leaderboard/weekly", headers=kid_h).get_json()
    maya = next(row for row in board["leaderboard"] if row["username"] == "maya")
    assert (maya["rank"], maya["points"], maya["chores_completed"]) == (1, 15, 1)
    # The active list no longer shows it; status=verified does.
    assert api.get("/api/assignments", headers=parent_h).get_json()["count"] == 0
    assert api.get("/api/assignments?status=verified", headers=parent_h).get_json()["count"] == 1
    with in_family(people.family) as ctx:
        assert reconcile_balances(ctx.session, FamilyClock("UTC"), utcnow()) == []


def test_reject_sends_it_back_with_the_reason(api, people: People, in_family) -> None:  # noqa: ANN001
    _scheduled_chore(api, people)
    item = _todays(api, people, people.kid)
    api.post(f"/api/assignments/{item['id']}/complete", headers=_h(people, people.kid))
    response = api.post(f"/api/assignments/{item['id']}/verify", headers=_h(people, people.parent),
                        json={"approved": False, "verification_notes": "Still crumbs on the table"})
    assert response.status_code == 200
    assert response.get_json() == {"assignment_id": item["id"], "message": "Assignment rejected - reset to pending",
                                   "status": "pending"}
    back = api.get(f"/api/assignments/{item['id']}", headers=_h(people, people.kid)).get_json()
    assert (back["status"], back["rejection_reason"], back["verification_notes"], back["points_earned"]) == (
        "pending", "Still crumbs on the table", "Still crumbs on the table", 0)
    assert _ledger(in_family, people) == []
    # The kid can try again.
    again = api.post(f"/api/assignments/{item['id']}/complete", headers=_h(people, people.kid))
    assert again.status_code == 200 and again.get_json()["status"] == "pending_verification"


@pytest.mark.parametrize("case", ["chore without verification", "member auto_approve_work", "family setting",
                                  "parent completes for the kid"])
def test_auto_approve(api, people: People, in_family, case: str) -> None:  # noqa: ANN001
    _scheduled_chore(api, people, requires_verification=case != "chore without verification")
    if case == "member auto_approve_work":
        with in_family(people.family) as ctx:
            ctx.session.get(Member, people.kid.id).auto_approve_work = True
            ctx.session.commit()
    if case == "family setting":
        set_setting(in_family, people.family, "auto_approve", True)
    actor = people.parent if case == "parent completes for the kid" else people.kid
    item = _todays(api, people, people.kid)
    response = api.post(f"/api/assignments/{item['id']}/complete", headers=_h(people, actor))
    assert response.status_code == 200
    assert response.get_json() == {"assignment_id": item["id"], "message": "Assignment completed successfully",
                                   "points_earned": 15, "requires_verification": False, "status": "verified"}
    assert _ledger(in_family, people) == [(people.kid.id, 15, "chore")]
    detail = api.get(f"/api/assignments/{item['id']}", headers=_h(people, people.parent)).get_json()
    assert "verified_at" in detail
    assert detail.get("verified_by") == (str(people.parent.id) if actor is people.parent else None)
    refused(api.post(f"/api/assignments/{item['id']}/verify", json={"approved": True},
                     headers=_h(people, people.parent)), 400, "Cannot verify assignment with status: verified")


def test_a_parents_own_chore_is_auto_approved(api, people: People, in_family) -> None:  # noqa: ANN001
    chore = _scheduled_chore(api, people, assignment_type="open", assignees=[])
    open_item = api.get("/api/assignments?status=open", headers=_h(people, people.parent)).get_json()["assignments"]
    assert [a["chore_id"] for a in open_item] == [chore["id"]] and open_item[0]["is_bonus"] is True
    assignment_id = open_item[0]["id"]
    assert api.post(f"/api/assignments/{assignment_id}/claim", headers=_h(people, people.parent)).status_code == 200
    done = api.post(f"/api/assignments/{assignment_id}/complete", headers=_h(people, people.parent)).get_json()
    assert (done["status"], done["points_earned"]) == ("verified", 15)
    assert _ledger(in_family, people) == [(people.parent.id, 15, "chore")]


# --- claims --------------------------------------------------------------------------------------------------------

def test_claim_then_a_second_claim_is_refused(api, people: People, world: World) -> None:  # noqa: ANN001
    open_id = world.open_assignment
    response = api.post(f"/api/assignments/{open_id}/claim", headers=_h(people, people.kid))
    assert response.status_code == 200
    assert response.get_json() == {"assignment_id": str(open_id), "message": "Assignment claimed successfully",
                                   "status": "pending"}
    refused(api.post(f"/api/assignments/{open_id}/claim", headers=_h(people, people.sibling)), 400,
            "Assignment is not available to claim")
    detail = api.get(f"/api/assignments/{open_id}", headers=_h(people, people.kid)).get_json()
    assert (detail["assigned_to"], detail["status"], detail["is_bonus"]) == (str(people.kid.id), "pending", False)
    assert SECONDS.match(detail["claimed_at"])
    # Now it is the kid's: the sibling can neither see nor complete it.
    refused(api.get(f"/api/assignments/{open_id}", headers=_h(people, people.sibling)), 403)
    refused(api.post(f"/api/assignments/{open_id}/complete", headers=_h(people, people.sibling)), 403,
            "Not authorized to complete this assignment")


def test_claiming_a_pending_assignment_is_refused(api, people: People, world: World) -> None:  # noqa: ANN001
    refused(api.post(f"/api/assignments/{world.sibling_assignment}/claim", headers=_h(people, people.kid)), 400,
            "Assignment is not available to claim")


# --- create --------------------------------------------------------------------------------------------------------

def test_create_assignment_shape_and_detail(api, people: People, world: World) -> None:  # noqa: ANN001
    due = (_today() + timedelta(days=2)).isoformat()
    response = api.post("/api/assignments", headers=_h(people, people.parent),
                        json={"chore_id": str(world.chore), "assigned_to": str(people.sibling.id),
                              "points_offered": 25, "due_date": due})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == CREATED_KEYS
    assert (body["assigned_to"], body["assigned_by"], body["status"], body["points_offered"], body["message"]) == (
        str(people.sibling.id), str(people.parent.id), "pending", 25, "Assignment created successfully")
    assert body["due_date"] == f"{due}T23:59:59Z"  # the end of that family-local day (UTC family)
    detail = api.get(f"/api/assignments/{body['id']}", headers=_h(people, people.parent)).get_json()
    _assert_item(detail, DETAIL_TYPES)
    assert detail["assigned_by_user"] == {"id": str(people.parent.id), "username": "Mom", "display_name": "Mom",
                                          "color_theme": "#aa0000"}
    assert detail["due_date"] == due


def test_create_open_assignment_defaults(api, people: People, world: World) -> None:  # noqa: ANN001
    body = api.post("/api/assignments", json={"chore_id": str(world.chore), "points_offered": 0},
                    headers=_h(people, people.parent)).get_json()
    assert (body["assigned_to"], body["status"], body["points_offered"]) == (None, "open", 15)  # the chore's points
    assert body["due_date"] == f"{_today().isoformat()}T23:59:59Z"


@pytest.mark.parametrize("body, status, error", [
    ({}, 400, "Invalid request body"),
    ({"chore_id": ""}, 400, "Invalid request body"),
    ({"chore_id": "nope"}, 400, "Invalid chore_id format"),
    ({"chore_id": 5}, 400, "Invalid request body"),
    ({"chore_id": str(uuid.uuid4())}, 404, "Chore not found"),
    ({"chore_id": "{chore}", "assigned_to": str(uuid.uuid4())}, 404, "Assigned user not found"),
    ({"chore_id": "{chore}", "assigned_to": "nope"}, 400, "Invalid assigned_to format"),
    ({"chore_id": "{chore}", "points_offered": -5}, 400, "points_offered cannot be negative"),
    ({"chore_id": "{chore}", "points_offered": 10_001}, 400, "points_offered must be between -10000 and 10000"),
    ({"chore_id": "{chore}", "points_offered": "5"}, 400, "Invalid request body"),
    ({"chore_id": "{chore}", "due_date": "tomorrow"}, 400, "Invalid due_date format. Use YYYY-MM-DD or RFC3339"),
    ({"chore_id": "{chore}", "due_date": "2026-02-30"}, 400, "Invalid due_date format. Use YYYY-MM-DD or RFC3339"),
    ({"chore_id": "{chore}", "due_date": "2026-03-01T10:00:00"}, 400,
     "Invalid due_date format. Use YYYY-MM-DD or RFC3339"),
    ({"chore_id": "{chore}", "due_date": "{far_future}"}, 400, "due_date must be within a year of today"),
    ({"chore_id": "{chore}", "due_date": "{far_past}"}, 400, "due_date must be within a year of today"),
    ({"chore_id": "{chore}", "due_date": "9999-12-31"}, 400, "due_date must be within a year of today"),
])
def test_create_assignment_refusals(api, people: People, world: World, in_family, body: dict,  # noqa: ANN001
                                    status: int, error: str) -> None:
    values = {"chore": str(world.chore), "far_future": (_today() + timedelta(days=400)).isoformat(),
              "far_past": (_today() - timedelta(days=400)).isoformat()}
    filled = {key: value.format(**values) if isinstance(value, str) else value for key, value in body.items()}
    with in_family(people.family) as ctx:
        before = ctx.session.scalar(select(func.count()).select_from(Assignment))
    refused(api.post("/api/assignments", json=filled, headers=_h(people, people.parent)), status, error)
    with in_family(people.family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Assignment)) == before


def test_an_archived_chore_cannot_be_handed_out(api, people: People, world: World) -> None:  # noqa: ANN001
    api.delete(f"/api/chores/{world.chore}", headers=_h(people, people.parent))
    refused(api.post("/api/assignments", json={"chore_id": str(world.chore)}, headers=_h(people, people.parent)),
            404, "Chore not found")


# --- verify, complete, undo, skip, re-open: the rules --------------------------------------------------------------

@pytest.mark.parametrize("body, error", [
    (None, "Invalid request body"),
    ({}, "Invalid request body"),
    ({"points_awarded": 5}, "Invalid request body"),
    ({"approved": "yes"}, "Invalid request body"),
    ({"approved": True, "points_awarded": -1}, "points_awarded cannot be negative"),
    ({"approved": True, "points_awarded": 50_000}, "points_awarded must be between -10000 and 10000"),
    ({"approved": True, "points_awarded": "5"}, "Invalid request body"),
])
def test_verify_needs_a_clear_decision(api, people: People, world: World, in_family, body: Any,  # noqa: ANN001
                                       error: str) -> None:
    response = api.post(f"/api/assignments/{world.kid_done}/verify", json=body, headers=_h(people, people.parent))
    refused(response, 400, error)
    with in_family(people.family) as ctx:
        assert ctx.session.get(Assignment, world.kid_done).status == "pending_verification"
    assert _ledger(in_family, people) == []


def test_verify_with_points_awarded(api, people: People, world: World, in_family) -> None:  # noqa: ANN001
    response = api.post(f"/api/assignments/{world.kid_done}/verify", json={"approved": True, "points_awarded": 0},
                        headers=_h(people, people.parent))
    assert response.get_json()["points_awarded"] == 0
    assert _ledger(in_family, people) == []  # nothing to credit


@pytest.mark.parametrize("which", ["kid_assignment", "open_assignment", "missed"])
def test_verifying_what_is_not_done_is_refused(api, people: People, world: World, which: str) -> None:  # noqa: ANN001
    status = {"kid_assignment": "pending", "open_assignment": "open", "missed": "missed"}[which]
    refused(api.post(f"/api/assignments/{getattr(world, which)}/verify", json={"approved": True},
                     headers=_h(people, people.parent)), 400, f"Cannot verify assignment with status: {status}")


def test_a_kid_cannot_complete_another_kids_chore(api, people: People, world: World, in_family) -> None:  # noqa: ANN001
    refused(api.post(f"/api/assignments/{world.sibling_assignment}/complete", headers=_h(people, people.kid)), 403,
            "Not authorized to complete this assignment")
    with in_family(people.family) as ctx:
        assert ctx.session.get(Assignment, world.sibling_assignment).status == "pending"


def test_complete_body_is_optional_but_typed(api, people: People, world: World) -> None:  # noqa: ANN001
    refused(api.post(f"/api/assignments/{world.kid_assignment}/complete", json={"notes": 5},
                     headers=_h(people, people.kid)), 400, "Invalid request body")
    response = api.post(f"/api/assignments/{world.kid_assignment}/complete", data="not json",
                        headers=_h(people, people.kid))
    assert response.status_code == 200 and response.get_json()["status"] == "pending_verification"


def test_undo_reverses_the_points(api, people: People, world: World, in_family) -> None:  # noqa: ANN001
    parent_h = _h(people, people.parent)
    api.post(f"/api/assignments/{world.kid_done}/verify", json={"approved": True}, headers=parent_h)
    response = api.post(f"/api/assignments/{world.kid_done}/undo", headers=parent_h)
    assert response.status_code == 200
    assert response.get_json() == {"assignment_id": str(world.kid_done), "message": "Assignment completion undone",
                                   "points_reversed": 15, "status": "pending"}
    assert _ledger(in_family, people) == [(people.kid.id, 15, "chore"), (people.kid.id, -15, "chore")]
    points = api.get(f"/api/users/{people.kid.id}/points", headers=parent_h).get_json()
    assert (points["total_points"], points["available_points"]) == (0, 0)
    refused(api.post(f"/api/assignments/{world.kid_done}/undo", headers=parent_h), 400,
            "Cannot undo assignment with status: pending")


def test_skip_and_reopen(api, people: People, world: World, in_family) -> None:  # noqa: ANN001
    parent_h = _h(people, people.parent)
    skipped = api.post(f"/api/assignments/{world.kid_assignment}/skip", headers=parent_h)
    assert skipped.get_json() == {"assignment_id": str(world.kid_assignment), "message": "Assignment skipped",
                                  "status": "skipped"}
    refused(api.post(f"/api/assignments/{world.kid_assignment}/skip", headers=parent_h), 400,
            "Cannot skip assignment with status: skipped")
    reopened = api.post(f"/api/assignments/{world.missed}/reopen", headers=parent_h)
    assert reopened.get_json() == {"assignment_id": str(world.missed), "message": "Assignment re-opened",
                                   "status": "pending"}
    refused(api.post(f"/api/assignments/{world.missed}/reopen", headers=parent_h), 400,
            "Cannot re-open assignment with status: pending")
    assert _ledger(in_family, people) == []


@pytest.mark.parametrize("action", ["claim", "complete", "verify", "undo", "skip", "reopen", ""])
@pytest.mark.parametrize("assignment_id, status, error", [
    ("not-a-uuid", 400, "Invalid assignment ID format"),
    (str(uuid.uuid4()), 404, "Assignment not found"),
])
def test_bad_and_unknown_assignment_ids(api, people: People, action: str, assignment_id: str,  # noqa: ANN001
                                        status: int, error: str) -> None:
    path = f"/api/assignments/{assignment_id}" + (f"/{action}" if action else "")
    method = "POST" if action else "GET"
    body = {"approved": True} if action == "verify" else None
    refused(api.open(path, method=method, json=body, headers=_h(people, people.parent)), status, error)


# --- lists ---------------------------------------------------------------------------------------------------------

def _spread(in_family, people: People) -> dict[str, uuid.UUID]:  # noqa: ANN001
    """Assignments on several days and in several states."""
    today = _today()
    with in_family(people.family) as ctx:
        s = ctx.session
        chore = Chore(name="Dishes", base_points=5)
        archived = Chore(name="Old chore", base_points=5, active=False)
        s.add_all([chore, archived])
        s.flush()
        kid, sibling = s.get(Member, people.kid.id), s.get(Member, people.sibling.id)
        made = {
            "kid_yesterday": add_assignment(s, chore, kid, day=today - timedelta(days=1)),
            "kid_today": add_assignment(s, chore, kid),
            "kid_tomorrow": add_assignment(s, chore, kid, day=today + timedelta(days=1)),
            "kid_verified": add_assignment(s, chore, kid, status="verified"),
            "sibling_today": add_assignment(s, chore, sibling),
            "open_today": add_assignment(s, chore, None, status="open"),
            "archived_today": add_assignment(s, archived, kid),
        }
        s.commit()
        return {name: a.id for name, a in made.items()}


def _names(body: dict[str, Any], made: dict[str, uuid.UUID]) -> list[str]:
    by_id = {str(v): k for k, v in made.items()}
    return [by_id[item["id"]] for item in body["assignments"]]


@pytest.mark.parametrize("query, who, expected", [
    # Soonest due first; within a day the newest first (as the previous service sorted).
    ("", "parent", ["kid_yesterday", "open_today", "sibling_today", "kid_today", "kid_tomorrow"]),
    ("", "kid", ["kid_yesterday", "open_today", "kid_today", "kid_tomorrow"]),
    ("?user_id={kid}", "parent", ["kid_yesterday", "kid_today", "kid_tomorrow"]),
    ("?user_id={kid}", "kid", ["kid_yesterday", "kid_today", "kid_tomorrow"]),
    ("?status=verified", "parent", ["kid_verified"]),
    ("?status=open", "kid", ["open_today"]),
    ("?status=completed", "parent", []),
    ("?start_date={today}&end_date={today}", "parent", ["open_today", "sibling_today", "kid_today"]),
    ("?end_date={today}", "kid", ["kid_yesterday", "open_today", "kid_today"]),
    ("?start_date={tomorrow}", "parent", ["kid_tomorrow"]),
    ("?start_date={today}T00:00:00Z&end_date={today}T00:00:00Z", "parent", ["open_today", "sibling_today",
                                                                              "kid_today"]),
    ("?limit=2", "parent", ["kid_yesterday", "open_today"]),
    ("?limit=2&offset=4", "parent", ["kid_tomorrow"]),
    ("?offset=50", "parent", []),
])
def test_list_filters_and_scoping(api, people: People, in_family, query: str, who: str,  # noqa: ANN001
                                  expected: list[str]) -> None:
    made = _spread(in_family, people)
    today = _today()
    url = "/api/assignments" + query.format(kid=people.kid.id, today=today, tomorrow=today + timedelta(days=1))
    response = api.get(url, headers=_h(people, getattr(people, who)))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert _names(body, made) == expected and body["count"] == len(expected)
    for item in body["assignments"]:
        _assert_item(item)


def test_my_assignments_is_mine_and_open(api, people: People, in_family) -> None:  # noqa: ANN001
    made = _spread(in_family, people)
    body = api.get("/api/assignments/my-assignments", headers=_h(people, people.sibling)).get_json()
    assert _names(body, made) == ["open_today", "sibling_today"]
    body = api.get("/api/assignments/my-assignments?status=verified", headers=_h(people, people.kid)).get_json()
    assert _names(body, made) == ["kid_verified"]


BAD_QUERIES = [
    ("status=done", "Invalid status. Use one of: open, pending, pending_verification, verified, missed, skipped"),
    ("start_date=2026-13-01", "Invalid start_date format. Use YYYY-MM-DD"),
    ("start_date=yesterday", "Invalid start_date format. Use YYYY-MM-DD"),
    ("end_date=2026-02-30", "Invalid end_date format. Use YYYY-MM-DD"),
    ("end_date=2026-03-01T10:00:00", "Invalid end_date format. Use YYYY-MM-DD"),
    ("end_date=", "Invalid end_date format. Use YYYY-MM-DD"),
    ("start_date=2026-03-05&end_date=2026-03-01", "end_date is before start_date"),
    ("limit=0", "Invalid limit. Use a whole number from 1 to 500"),
    ("limit=501", "Invalid limit. Use a whole number from 1 to 500"),
    ("limit=abc", "Invalid limit. Use a whole number from 1 to 500"),
    ("limit=1.5", "Invalid limit. Use a whole number from 1 to 500"),
    ("limit=99999999999999999999999", "Invalid limit. Use a whole number from 1 to 500"),
    ("offset=-1", "Invalid offset. Use a whole number from 0 to 1000000"),
    ("offset=", "Invalid offset. Use a whole number from 0 to 1000000"),
]


@pytest.mark.parametrize("path, query, error", [
    *[("/api/assignments", query, error) for query, error in BAD_QUERIES],
    ("/api/assignments", "user_id=nope", "Invalid user_id format"),
    *[("/api/assignments/my-assignments", query, error) for query, error in BAD_QUERIES],
])
def test_bad_list_queries(api, people: People, path: str, query: str, error: str) -> None:  # noqa: ANN001
    refused(api.get(f"{path}?{query}", headers=_h(people, people.parent)), 400, error)


def test_lists_materialise_today_on_first_read(api, people: People, in_family) -> None:  # noqa: ANN001
    with in_family(people.family) as ctx:
        chore = Chore(name="Bins", base_points=5, assignment_type="fixed")
        chore.schedule = ChoreSchedule(kind="daily", start_date=_today() - timedelta(days=10))
        chore.assignees = [ChoreAssignee(member_id=people.kid.id, position=0)]
        ctx.session.add(chore)
        ctx.session.commit()
    body = api.get("/api/assignments/my-assignments", headers=_h(people, people.kid)).get_json()
    assert [(a["chore"]["name"], a["due_date"]) for a in body["assignments"]] == [("Bins", _today().isoformat())]
    assert api.get("/api/assignments", headers=_h(people, people.kid)).get_json()["count"] == 1  # not twice


def test_a_family_local_day_decides_what_today_is(api, make_family, client_for, create_member, auth,  # noqa: ANN001
                                                  in_family) -> None:
    """In a family far east of UTC, "today" (and the day filter) follow the family's calendar."""
    family = make_family(timezone="Pacific/Kiritimati")  # UTC+14
    parent = create_member(family_record=family, username="pa", display_name="Pa", role="parent")
    kid = create_member(family_record=family, username="ki", display_name="Ki")
    local_today = datetime.now(timezone(timedelta(hours=14))).date()
    with in_family(family) as ctx:
        chore = Chore(name="Bins", base_points=5, assignment_type="fixed")
        chore.schedule = ChoreSchedule(kind="daily", start_date=local_today - timedelta(days=3))
        chore.assignees = [ChoreAssignee(member_id=kid.id, position=0)]
        ctx.session.add(chore)
        ctx.session.commit()
    client = client_for(family)
    body = client.get(f"/api/assignments?start_date={local_today}&end_date={local_today}",
                      headers=auth.bearer(parent, family)).get_json()
    assert [a["due_date"] for a in body["assignments"]] == [local_today.isoformat()]
