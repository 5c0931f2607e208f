"""Points over the API: balances, ledger history, stats in the family week, bonuses, deductions and presets."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.chores.models import Chore
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.models import LedgerEntry, PointPreset
from app.points.services import post_entry, reconcile_balances
from tests.api.conftest import People
from tests.api.test_daily_access import SECONDS, add_assignment, assert_shape, refused, set_setting

POINTS_TYPES: dict[str, Any] = {
    "user_id": str, "username": str, "display_name": str, "total_points": int, "available_points": int,
    "weekly_points": int, "lifetime_points_earned": int, "total_points_converted": int, "level": int, "xp": int,
    "streak_days": int,
}
TRANSACTION_TYPES: dict[str, Any] = {
    "id": str, "user_id": str, "points": int, "transaction_type": str, "description": str,
    "related_assignment_id": str, "related_user_id": str, "created_at": str,
}
STATS_TYPES: dict[str, Any] = {
    "id": str, "username": str, "display_name": str, "total_points": int, "weekly_points": int, "level": int,
    "xp": int, "streak_days": int, "available_points": int, "lifetime_points_earned": int,
    "completed_this_week": int, "pending_assignments": int, "total_completed_chores": int,
}
GIVEN_TYPES: dict[str, Any] = {
    "message": str, "transaction": dict, "user_id": str, "total_points": int, "available_points": int,
    "weekly_points": int, "lifetime_points_earned": int,
}
PRESET_TYPES: dict[str, Any] = {"id": str, "kind": str, "label": str, "points": int, "position": int}


def _post_entries(in_family, people: People, member: Member, entries: list[tuple[int, str, Any]],  # noqa: ANN001
                  clock: FamilyClock | None = None) -> None:
    """Append ledger rows through the ledger service (amount, kind, when), oldest first."""
    clock = clock or FamilyClock("UTC")
    with in_family(people.family) as ctx:
        for amount, kind, when in entries:
            post_entry(ctx.session, member.id, amount=amount, kind=kind, description=f"{kind} {amount}",
                       clock=clock, now=when, actor_id=people.parent.id)
        ctx.session.commit()


# --- balances ------------------------------------------------------------------------------------------------------

def test_points_shape_and_values(api, people: People, in_family) -> None:  # noqa: ANN001
    now = utcnow()
    _post_entries(in_family, people, people.kid, [(40, "bonus", now - timedelta(seconds=3)),
                                                  (-10, "conversion", now - timedelta(seconds=2)),
                                                  (-5, "deduction", now - timedelta(seconds=1))])
    response = api.get(f"/api/users/{people.kid.id}/points", headers=people.headers(people.kid))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == set(POINTS_TYPES)
    assert_shape(body, POINTS_TYPES)
    assert body == {"user_id": str(people.kid.id), "username": "maya", "display_name": "Maya", "total_points": 35,
                    "available_points": 25, "weekly_points": 35, "lifetime_points_earned": 40,
                    "total_points_converted": 10, "level": 1, "xp": 40, "streak_days": 0}


def test_points_of_unknown_or_removed_members(api, people: People, in_family) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    refused(api.get("/api/users/nope/points", headers=headers), 400, "Invalid user ID format")
    refused(api.get(f"/api/users/{uuid.uuid4()}/points", headers=headers), 404, "User not found")
    with in_family(people.family) as ctx:
        ctx.session.get(Member, people.sibling.id).is_active = False
        ctx.session.commit()
    for what in ("points", "transactions", "stats"):
        refused(api.get(f"/api/users/{people.sibling.id}/{what}", headers=headers), 404, "User not found")


def test_a_kid_may_read_only_their_own(api, people: People) -> None:  # noqa: ANN001
    for what in ("points", "transactions", "stats"):
        refused(api.get(f"/api/users/{people.sibling.id}/{what}", headers=people.headers(people.kid)), 403,
                f"Children can only view their own {what}")


# --- transactions --------------------------------------------------------------------------------------------------

def test_transactions_newest_first_with_wire_types(api, people: People, in_family) -> None:  # noqa: ANN001
    now = utcnow()
    with in_family(people.family) as ctx:
        chore = Chore(name="Dishes", base_points=15)
        ctx.session.add(chore)
        ctx.session.flush()
        assignment = add_assignment(ctx.session, chore, ctx.session.get(Member, people.kid.id), status="verified")
        post_entry(ctx.session, people.kid.id, amount=15, kind="chore", description="Completed: Dishes",
                   clock=FamilyClock("UTC"), now=now - timedelta(seconds=5), actor_id=people.kid.id,
                   assignment_id=assignment.id)
        ctx.session.commit()
        assignment_id = assignment.id
    _post_entries(in_family, people, people.kid, [(5, "bonus", now - timedelta(seconds=4)),
                                                  (-3, "deduction", now - timedelta(seconds=3)),
                                                  (-7, "redemption", now - timedelta(seconds=2))])
    body = api.get(f"/api/users/{people.kid.id}/transactions", headers=people.headers(people.kid)).get_json()
    assert set(body) == {"count", "transactions"} and body["count"] == 4
    for item in body["transactions"]:
        assert_shape(item, TRANSACTION_TYPES, {"related_assignment_id", "related_user_id"})
        assert SECONDS.match(item["created_at"]) and item["user_id"] == str(people.kid.id)
    assert [(t["points"], t["transaction_type"]) for t in body["transactions"]] == [
        (-7, "reward_redemption"), (-3, "deduction"), (5, "bonus"), (15, "chore_completion")]
    chore_row = body["transactions"][-1]
    # The kid's own completion names no other member; a parent's bonus names the parent.
    assert chore_row["related_assignment_id"] == str(assignment_id) and "related_user_id" not in chore_row
    assert body["transactions"][2]["related_user_id"] == str(people.parent.id)
    assert chore_row["description"] == "Completed: Dishes"


@pytest.mark.parametrize("query, expected", [
    ("type=chore_completion", [15]),
    ("type=chore", [15]),
    ("type=bonus", [5, 5]),
    ("type=reward_redemption", []),
    ("limit=2", [5, -3]),
    ("limit=2&offset=2", [5, 15]),
    ("offset=10", []),
    ("type=", [5, -3, 5, 15]),  # an empty filter is no filter
])
def test_transaction_filters(api, people: People, in_family, query: str, expected: list[int]) -> None:  # noqa: ANN001
    now = utcnow()
    _post_entries(in_family, people, people.kid, [(15, "chore", now - timedelta(seconds=4)),
                                                  (5, "bonus", now - timedelta(seconds=3)),
                                                  (-3, "deduction", now - timedelta(seconds=2)),
                                                  (5, "bonus", now - timedelta(seconds=1))])
    body = api.get(f"/api/users/{people.kid.id}/transactions?{query}", headers=people.headers(people.parent)
                   ).get_json()
    assert [t["points"] for t in body["transactions"]] == expected
    assert body["count"] == len(expected)


def test_transactions_default_limit_is_50(api, people: People, in_family) -> None:  # noqa: ANN001
    start = utcnow() - timedelta(minutes=10)
    _post_entries(in_family, people, people.kid, [(1, "bonus", start + timedelta(seconds=i)) for i in range(55)])
    body = api.get(f"/api/users/{people.kid.id}/transactions", headers=people.headers(people.kid)).get_json()
    assert body["count"] == 50
    assert len(api.get(f"/api/users/{people.kid.id}/transactions?limit=200",
                       headers=people.headers(people.kid)).get_json()["transactions"]) == 55


@pytest.mark.parametrize("query, error", [
    ("limit=0", "Invalid limit. Use a whole number from 1 to 200"),
    ("limit=201", "Invalid limit. Use a whole number from 1 to 200"),
    ("limit=-5", "Invalid limit. Use a whole number from 1 to 200"),
    ("limit=ten", "Invalid limit. Use a whole number from 1 to 200"),
    ("limit=", "Invalid limit. Use a whole number from 1 to 200"),
    ("offset=-1", "Invalid offset. Use a whole number from 0 to 1000000"),
    ("offset=1e3", "Invalid offset. Use a whole number from 0 to 1000000"),
    ("type=earned", None),
    ("type=%00", "Invalid query parameter"),  # refused at the door: no field stores a NUL
])
def test_bad_transaction_queries(api, people: People, query: str, error: str | None) -> None:  # noqa: ANN001
    body = refused(api.get(f"/api/users/{people.kid.id}/transactions?{query}", headers=people.headers(people.kid)),
                   400, error)
    if error is None:
        assert body["error"].startswith("Invalid type. Use one of: ") and "chore_completion" in body["error"]


# --- stats ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("timezone, week_start, index", [
    ("UTC", "monday", 0), ("America/Los_Angeles", "monday", 0), ("Asia/Tokyo", "sunday", 6),
])
def test_stats_count_the_family_week(api, make_family, client_for, create_member, auth, in_family,  # noqa: ANN001
                                     timezone: str, week_start: str, index: int) -> None:
    family = make_family(timezone=timezone)
    set_setting(in_family, family, "week_start", week_start)
    kid = create_member(family_record=family, username="ki", display_name="Ki")
    clock = FamilyClock(timezone, index)
    week_start_at, _ = clock.week_bounds(utcnow())
    with in_family(family) as ctx:
        s = ctx.session
        chore, archived = Chore(name="Dishes", base_points=5), Chore(name="Old", base_points=5, active=False)
        s.add_all([chore, archived])
        s.flush()
        member = s.get(Member, kid.id)
        # Credited a minute before and a minute after the family's week began (and once long ago).
        for moment in (week_start_at - timedelta(days=30), week_start_at - timedelta(minutes=1),
                       week_start_at + timedelta(minutes=1)):
            add_assignment(s, chore, member, status="verified", verified_at=moment, completed_at=moment)
        add_assignment(s, chore, member, status="pending")
        add_assignment(s, chore, member, status="pending_verification")
        add_assignment(s, chore, None, status="open")
        add_assignment(s, chore, member, status="missed")
        add_assignment(s, archived, member, status="pending")  # archived chores vanish from every read
        s.commit()
    response = client_for(family).get(f"/api/users/{kid.id}/stats", headers=auth.bearer(kid, family))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == set(STATS_TYPES)
    assert_shape(body, STATS_TYPES)
    assert (body["completed_this_week"], body["total_completed_chores"], body["pending_assignments"]) == (1, 3, 2)


def test_stats_balances_and_weekly_points(api, people: People, in_family) -> None:  # noqa: ANN001
    now = utcnow()
    week_start_at, _ = FamilyClock("UTC").week_bounds(now)
    _post_entries(in_family, people, people.kid, [(30, "bonus", week_start_at - timedelta(days=2)),
                                                  (12, "bonus", week_start_at + timedelta(seconds=1))])
    body = api.get(f"/api/users/{people.kid.id}/stats", headers=people.headers(people.parent)).get_json()
    assert (body["total_points"], body["weekly_points"], body["available_points"], body["xp"]) == (42, 12, 42, 42)
    assert body == {**body, "id": str(people.kid.id), "username": "maya", "display_name": "Maya", "level": 1}


# --- bonuses and deductions ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("route, kind, signed, message", [
    ("bonus", "bonus", 7, "Bonus given"), ("deductions", "deduction", -7, "Deduction recorded"),
])
def test_give_points(api, people: People, in_family, route: str, kind: str, signed: int,  # noqa: ANN001
                     message: str) -> None:
    _post_entries(in_family, people, people.kid, [(20, "bonus", utcnow() - timedelta(seconds=1))])
    response = api.post(f"/api/users/{people.kid.id}/{route}", json={"points": 7, "reason": "  Helped with bags "},
                        headers=people.headers(people.parent))
    assert response.status_code == 201
    body = response.get_json()
    assert_shape(body, GIVEN_TYPES)
    assert_shape(body["transaction"], TRANSACTION_TYPES, {"related_assignment_id"})
    assert (body["message"], body["user_id"], body["total_points"], body["available_points"],
            body["weekly_points"]) == (message, str(people.kid.id), 20 + signed, 20 + signed, 20 + signed)
    assert (body["transaction"]["points"], body["transaction"]["transaction_type"],
            body["transaction"]["description"], body["transaction"]["related_user_id"]) == (
        signed, kind, "Helped with bags", str(people.parent.id))
    history = api.get(f"/api/users/{people.kid.id}/transactions", headers=people.headers(people.kid)).get_json()
    assert history["transactions"][0] == body["transaction"]
    with in_family(people.family) as ctx:
        assert reconcile_balances(ctx.session, FamilyClock("UTC"), utcnow()) == []


def test_a_deduction_never_takes_a_balance_below_zero(api, people: People, in_family) -> None:  # noqa: ANN001
    _post_entries(in_family, people, people.kid, [(5, "bonus", utcnow() - timedelta(seconds=1))])
    response = api.post(f"/api/users/{people.kid.id}/deductions", json={"points": 6, "reason": "Rude"},
                        headers=people.headers(people.parent))
    assert response.status_code == 400 and response.get_json()["error"] == "Not enough points"
    assert response.get_json()["points_available"] == 5
    body = api.get(f"/api/users/{people.kid.id}/points", headers=people.headers(people.parent)).get_json()
    assert body["available_points"] == 5
    allowed = api.post(f"/api/users/{people.kid.id}/deductions", json={"points": 5, "reason": "Rude"},
                       headers=people.headers(people.parent))
    assert allowed.status_code == 201 and allowed.get_json()["available_points"] == 0


@pytest.mark.parametrize("target, body, status, error", [
    ("kid", {"points": 0, "reason": "x"}, 400, "points must not be zero"),
    ("kid", {"points": -5, "reason": "x"}, 400, "points cannot be negative"),
    ("kid", {"points": 10_001, "reason": "x"}, 400, "points must be between -10000 and 10000"),
    ("kid", {"points": 10 ** 40, "reason": "x"}, 400, "points must be between -10000 and 10000"),
    ("kid", {"points": "5", "reason": "x"}, 400, "Invalid request body"),
    ("kid", {"points": 2.5, "reason": "x"}, 400, "Invalid request body"),
    ("kid", {"points": 5}, 400, "Invalid request body"),
    ("kid", {"points": 5, "reason": ""}, 400, "Invalid request body"),
    ("kid", {"points": 5, "reason": "   "}, 400, "Please give a reason (up to 200 characters)"),
    ("kid", {"points": 5, "reason": "x" * 201}, 400, "Please give a reason (up to 200 characters)"),
    ("kid", {"reason": "x"}, 400, "Invalid request body"),
    ("kid", None, 400, "Invalid request body"),
    ("parent", {"points": 5, "reason": "x"}, 400, "Bonuses and deductions are for active kids"),
    ("unknown", {"points": 5, "reason": "x"}, 404, "User not found"),
    ("bad", {"points": 5, "reason": "x"}, 400, "Invalid user ID format"),
])
@pytest.mark.parametrize("route", ["bonus", "deductions"])
def test_give_points_refusals(api, people: People, in_family, route: str, target: str, body: Any,  # noqa: ANN001
                              status: int, error: str) -> None:
    user_id = {"kid": people.kid.id, "parent": people.parent.id, "unknown": uuid.uuid4(), "bad": "x"}[target]
    refused(api.post(f"/api/users/{user_id}/{route}", json=body, headers=people.headers(people.parent)), status,
            error)
    with in_family(people.family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


# --- presets -------------------------------------------------------------------------------------------------------

def test_presets_defaults_and_adding_one(api, people: People) -> None:  # noqa: ANN001
    body = api.get("/api/point-presets", headers=people.headers(people.kid)).get_json()
    assert set(body) == {"presets", "count"} and body["count"] == 6
    for preset in body["presets"]:
        assert_shape(preset, PRESET_TYPES)
    assert {(p["kind"], p["label"], p["points"]) for p in body["presets"]} >= {("deduction", "Not listening", 5)}
    response = api.post("/api/point-presets", json={"kind": "bonus", "label": "Kind words", "points": 3},
                        headers=people.headers(people.parent))
    assert response.status_code == 201
    created = response.get_json()
    assert_shape(created, PRESET_TYPES)
    assert (created["kind"], created["label"], created["points"], created["position"]) == ("bonus", "Kind words", 3,
                                                                                          6)
    assert api.get("/api/point-presets", headers=people.headers(people.parent)).get_json()["count"] == 7


@pytest.mark.parametrize("body, error", [
    ({"kind": "gift", "label": "x", "points": 3}, "kind must be bonus or deduction"),
    ({"kind": "bonus", "label": "", "points": 3}, "Invalid request body"),
    ({"kind": "bonus", "label": "x" * 81, "points": 3}, "Labels are 1-80 characters"),
    ({"kind": "bonus", "label": "x", "points": 0}, "points must not be zero"),
    ({"kind": "bonus", "label": "x", "points": -3}, "points cannot be negative"),
    ({"kind": "bonus", "label": "x", "points": 20_000}, "points must be between -10000 and 10000"),
    ({"kind": "bonus", "label": "x", "points": "3"}, "Invalid request body"),
    ({"kind": "bonus", "label": "x"}, "Invalid request body"),
    ([], "Invalid request body"),
])
def test_bad_presets(api, people: People, in_family, body: Any, error: str) -> None:  # noqa: ANN001
    refused(api.post("/api/point-presets", json=body, headers=people.headers(people.parent)), 400, error)
    with in_family(people.family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(PointPreset)) == 0
