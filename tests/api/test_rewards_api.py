"""The rewards resource: contract shapes and defaults, redeeming, approve/reject/fulfil, history, access."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.allowance.models import AllowanceSchedule, Payout
from app.assignments.services import load_family_rules
from app.db.bases import utcnow
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import post_entry, reconcile_balances
from app.rewards.models import Redemption, Reward, SavingsGoal
from app.rewards.services import approve_redemption, request_reward
from tests.api.conftest import People

TSN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REWARD_TYPES: dict[str, Any] = {
    "id": str, "name": str, "description": str, "cost_points": int, "category": str, "icon": str,
    "max_per_week": int, "requires_parent_approval": bool, "active": bool, "availability": str,
    "stock_remaining": int, "created_at": str, "updated_at": str,
    # ours
    "max_per_month": int, "available_from": str, "available_until": str, "available_weekdays": list,
    "available_today": bool, "availability_kind": str, "value_in_cents": int,
}
REWARD_OPTIONAL = {"description", "category", "max_per_week", "stock_remaining", "max_per_month", "available_from",
                   "available_until", "available_weekdays", "value_in_cents"}
REDEEMED_TYPES: dict[str, Any] = {
    "id": str, "reward_id": str, "user_id": str, "points_cost": int, "status": str, "redeemed_at": str,
    "fulfilled_at": str, "notes": str, "reward_name": str, "reward_description": str, "reward_icon": str,
    "reward_category": str,
}
REDEMPTION_TYPES: dict[str, Any] = {
    "id": str, "reward_id": str, "reward_name": str, "reward_icon": str, "user_id": str, "username": str,
    "display_name": str, "points_spent": int, "status": str, "requested_at": str, "decided_at": str,
    "decided_by": str, "rejection_reason": str, "fulfilled_at": str, "notes": str,
}


# --- helpers (the allowance tests use them too) ------------------------------------------------------------------

def assert_shape(body: dict[str, Any], types: dict[str, Any], optional: set[str] | frozenset[str] = frozenset()
                 ) -> None:
    """Every required key present, no unknown key, each value of its JSON type (an int is never a bool)."""
    assert set(body) <= set(types), f"unexpected keys {set(body) - set(types)}"
    assert set(types) - set(body) <= set(optional), f"missing keys {set(types) - set(body) - set(optional)}"
    for key, value in body.items():
        assert isinstance(value, types[key]), f"{key}={value!r}"
        if types[key] is int:
            assert not isinstance(value, bool), key


def refused(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    """Assert a JSON error answer (with the message, when given) and return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    if error is not None:
        assert body["error"] == error, body
    return body


def give_points(in_family: Callable[..., Any], family: Any, member: Member, points: int) -> None:
    """Credit a member through the ledger."""
    with in_family(family) as ctx:
        rules = load_family_rules(ctx.session, family.timezone)
        post_entry(ctx.session, member.id, amount=points, kind="bonus", description="Test", clock=rules.clock,
                   now=utcnow())
        ctx.session.commit()


def add_reward(in_family: Callable[..., Any], family: Any, **fields: Any) -> uuid.UUID:
    """A reward in the family's table; 50 points, unlimited, always open unless told otherwise."""
    values: dict[str, Any] = {"name": "Ice cream", "cost": 50, "icon": "🍦", "category": "treat"}
    values.update(fields)
    with in_family(family) as ctx:
        reward = Reward(**values)
        ctx.session.add(reward)
        ctx.session.commit()
        return reward.id


def fingerprint(in_family: Callable[..., Any], family: Any) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    with in_family(family) as ctx:
        s = ctx.session
        return {
            "rewards": sorted(s.execute(select(Reward.id, Reward.name, Reward.cost, Reward.active,
                                               Reward.stock)).all()),
            "redemptions": sorted(s.execute(select(Redemption.id, Redemption.status)).all()),
            "ledger": s.scalar(select(func.count()).select_from(LedgerEntry)),
            "payouts": s.scalar(select(func.count()).select_from(Payout)),
            "goals": sorted(s.execute(select(SavingsGoal.member_id, SavingsGoal.reward_id)).all()),
            "schedules": sorted(s.execute(select(AllowanceSchedule.member_id, AllowanceSchedule.amount_cents)).all()),
            "balances": sorted(s.execute(select(Member.id, Member.available_points)).all()),
        }


def _post_reward(api, people: People, body: dict[str, Any]) -> Any:  # noqa: ANN001
    return api.post("/api/rewards", json=body, headers=people.headers(people.parent))


# --- the catalogue -----------------------------------------------------------------------------------------------

def test_create_defaults_active_and_approval_and_keeps_description_null(api, people: People,
                                                                        in_family) -> None:  # noqa: ANN001
    response = _post_reward(api, people, {"name": "Movie night", "cost_points": 120, "category": "screen time"})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["message"] == "Reward created successfully" and body["id"] == body["reward"]["id"]
    reward = body["reward"]
    assert_shape(reward, REWARD_TYPES, REWARD_OPTIONAL)
    assert (reward["active"], reward["requires_parent_approval"], reward["availability"], reward["icon"]) == (
        True, True, "always", "🎁")
    assert "description" not in reward and "stock_remaining" not in reward and "max_per_week" not in reward
    assert TSN.match(reward["created_at"]) and TSN.match(reward["updated_at"])
    with in_family(people.family) as ctx:
        stored = ctx.session.get(Reward, uuid.UUID(body["id"]))
        assert (stored.description, stored.active, stored.requires_approval) == (None, True, True)

    listed = api.get("/api/rewards", headers=people.headers(people.kid)).get_json()
    assert listed["count"] == 1 and listed["rewards"][0]["user_redemption_count"] == 0


def test_create_reads_every_key_back(api, people: People) -> None:  # noqa: ANN001
    body = {"name": "Zoo trip", "cost_points": 900, "category": "outing", "description": "With grandma",
            "icon": "🦒", "stock_remaining": 2, "requires_parent_approval": False, "active": True,
            "availability": "date_range", "available_from": "2026-06-01", "available_until": "2026-08-31",
            "max_per_week": 1, "max_per_month": 2, "value_in_cents": 500}
    reward = _post_reward(api, people, body).get_json()["reward"]

    for key in ("name", "category", "description", "icon", "stock_remaining", "requires_parent_approval", "active",
                "availability", "available_from", "available_until", "max_per_week", "max_per_month"):
        assert reward[key] == body[key], key
    assert reward["cost_points"] == 900 and reward["value_in_cents"] == 500


@pytest.mark.parametrize("body, error, field", [
    ({"cost_points": 10, "category": "treat"}, "Invalid request body", "name"),
    ({"name": "Treat", "category": "treat"}, "Invalid request body", "cost_points"),
    ({"name": "Treat", "cost_points": 10}, "Invalid request body", "category"),
    ({"name": "Treat", "cost_points": 0, "category": "treat"}, "Cost must be between 1 and 10,000 points",
     "cost_points"),
    ({"name": "Treat", "cost_points": -5, "category": "treat"}, "Cost must be between 1 and 10,000 points",
     "cost_points"),
    ({"name": "Treat", "cost_points": "10", "category": "treat"}, "Invalid request body", "cost_points"),
    ({"name": "Treat", "cost_points": 10, "category": "treat", "stock_remaining": -1},
     "Stock cannot be negative (leave it empty for unlimited)", "stock_remaining"),
    ({"name": "Treat", "cost_points": 10, "category": "treat", "availability": "sometimes"},
     "availability must be one of always, date_range, weekdays, limited, seasonal", "availability"),
    ({"name": "Treat", "cost_points": 10, "category": "treat", "availability": "weekdays",
      "available_weekdays": ["sat"]}, "Invalid request body", "available_weekdays"),
])
def test_bad_rewards_are_400_and_nothing_is_created(api, people: People, in_family, body: dict[str, Any],
                                                    error: str, field: str) -> None:  # noqa: ANN001
    before = fingerprint(in_family, people.family)
    answer = refused(_post_reward(api, people, body), 400, error)
    assert field in answer.get("fields", {}), answer
    assert fingerprint(in_family, people.family) == before


def test_update_answers_the_whole_reward_with_real_timestamps(api, people: People, in_family) -> None:  # noqa: ANN001
    reward_id = add_reward(in_family, people.family, max_per_week=3)
    headers = people.headers(people.parent)

    response = api.put(f"/api/rewards/{reward_id}", json={"cost_points": 75, "stock_remaining": 4}, headers=headers)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["message"] == "Reward updated successfully"
    assert_shape(body["reward"], REWARD_TYPES, REWARD_OPTIONAL)
    assert (body["reward"]["cost_points"], body["reward"]["stock_remaining"], body["reward"]["max_per_week"]) == (
        75, 4, 3)
    assert not body["reward"]["created_at"].startswith("0001") and TSN.match(body["reward"]["updated_at"])
    unlimited = api.put(f"/api/rewards/{reward_id}", json={"stock_unlimited": True, "max_per_week": None},
                        headers=headers).get_json()["reward"]
    assert "stock_remaining" not in unlimited and "max_per_week" not in unlimited

    refused(api.put(f"/api/rewards/{reward_id}", json={}, headers=headers), 400, "No fields to update")
    refused(api.put("/api/rewards/nope", json={"cost_points": 5}, headers=headers), 400, "Invalid reward ID format")
    refused(api.put(f"/api/rewards/{uuid.uuid4()}", json={"cost_points": 5}, headers=headers), 404, "Reward not found")
    refused(api.put(f"/api/rewards/{reward_id}", json={"cost_points": 0}, headers=headers), 400)


def test_delete_archives_and_an_archived_reward_cannot_be_redeemed(api, people: People,  # noqa: ANN001
                                                                   in_family) -> None:
    reward_id = add_reward(in_family, people.family)
    give_points(in_family, people.family, people.kid, 100)

    deleted = api.delete(f"/api/rewards/{reward_id}", headers=people.headers(people.parent))

    assert deleted.status_code == 200 and deleted.get_json() == {"message": "Reward deleted successfully"}
    assert api.get("/api/rewards", headers=people.headers(people.parent)).get_json()["count"] == 0
    refused(api.post(f"/api/rewards/{reward_id}/redeem", headers=people.headers(people.kid)), 400,
            "Reward is not active")
    restored = api.put(f"/api/rewards/{reward_id}", json={"active": True}, headers=people.headers(people.parent))
    assert restored.get_json()["reward"]["active"] is True
    refused(api.delete(f"/api/rewards/{uuid.uuid4()}", headers=people.headers(people.parent)), 404)


def test_kids_see_only_what_they_could_request_today_parents_see_every_active_reward(api, people: People,
                                                                                   in_family) -> None:  # noqa: ANN001
    today = utcnow().date()  # the test family lives in UTC
    add_reward(in_family, people.family, name="Open")
    add_reward(in_family, people.family, name="Sold out", stock=0)
    add_reward(in_family, people.family, name="Next month", availability="date_range",
               available_from=today + timedelta(days=40))
    add_reward(in_family, people.family, name="Not today", availability="weekdays",
               available_weekdays=[(today.weekday() + 1) % 7])
    add_reward(in_family, people.family, name="Archived", active=False)

    kid = api.get("/api/rewards", headers=people.headers(people.kid)).get_json()
    parent = api.get("/api/rewards", headers=people.headers(people.parent)).get_json()

    assert [r["name"] for r in kid["rewards"]] == ["Open"]
    assert [r["name"] for r in parent["rewards"]] == ["Next month", "Not today", "Open", "Sold out"]
    assert {r["name"]: r["available_today"] for r in parent["rewards"]}["Next month"] is False


# --- redeeming ---------------------------------------------------------------------------------------------------

def test_redeem_holds_the_points_and_answers_the_contract_keys(api, people: People, in_family) -> None:  # noqa: ANN001
    reward_id = add_reward(in_family, people.family, cost=30, stock=2)
    give_points(in_family, people.family, people.kid, 100)

    response = api.post(f"/api/rewards/{reward_id}/redeem", json={"notes": "after homework"},
                        headers=people.headers(people.kid))

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"message", "points_spent", "redemption_id", "requires_parent_approval", "reward_name",
                         "status", "available_points"}
    assert (body["message"], body["points_spent"], body["status"], body["requires_parent_approval"],
            body["reward_name"], body["available_points"]) == (
        "Reward redeemed successfully", 30, "pending", True, "Ice cream", 70)
    with in_family(people.family) as ctx:
        redemption = ctx.session.get(Redemption, uuid.UUID(body["redemption_id"]),
                                     options=[joinedload(Redemption.reward)])
        assert (redemption.member_id, redemption.notes, redemption.reward.stock) == (people.kid.id, "after homework", 1)
    listed = api.get("/api/rewards", headers=people.headers(people.kid)).get_json()
    assert listed["rewards"][0]["user_redemption_count"] == 1


def test_redeem_without_enough_points_is_400_with_the_three_keys(api, people: People,  # noqa: ANN001
                                                                 in_family) -> None:
    reward_id = add_reward(in_family, people.family, cost=130)
    give_points(in_family, people.family, people.kid, 100)
    before = fingerprint(in_family, people.family)

    body = refused(api.post(f"/api/rewards/{reward_id}/redeem", headers=people.headers(people.kid)), 400,
                   "Insufficient points")

    assert body == {"error": "Insufficient points", "points_available": 100, "points_required": 130,
                    "points_short": 30}
    assert fingerprint(in_family, people.family) == before


def test_redeem_refusals_are_clear(api, people: People, in_family) -> None:  # noqa: ANN001
    give_points(in_family, people.family, people.kid, 500)
    headers = people.headers(people.kid)
    sold_out = add_reward(in_family, people.family, stock=0)
    closed = add_reward(in_family, people.family, name="Summer treat", availability="date_range",
                        available_from=date(2020, 6, 1), available_until=date(2020, 8, 31))
    weekly = add_reward(in_family, people.family, name="Pizza", cost=10, max_per_week=1)

    refused(api.post("/api/rewards/not-a-uuid/redeem", headers=headers), 400, "Invalid reward ID format")
    refused(api.post(f"/api/rewards/{uuid.uuid4()}/redeem", headers=headers), 404, "Reward not found")
    refused(api.post(f"/api/rewards/{sold_out}/redeem", headers=headers), 400, "Reward is out of stock")
    refused(api.post(f"/api/rewards/{closed}/redeem", headers=headers), 400,
            "Summer treat is not available today (from 1 Jun 2020 to 31 Aug 2020)")
    assert api.post(f"/api/rewards/{weekly}/redeem", data="not json", headers=headers).status_code == 200
    refused(api.post(f"/api/rewards/{weekly}/redeem", headers=headers), 409,
            "Weekly limit reached: Pizza can be requested once a week")


def test_approve_reject_and_fulfil(api, people: People, in_family) -> None:  # noqa: ANN001
    give_points(in_family, people.family, people.kid, 100)
    reward_id = add_reward(in_family, people.family, cost=40, stock=5)
    parent, kid = people.headers(people.parent), people.headers(people.kid)
    first = api.post(f"/api/rewards/{reward_id}/redeem", headers=kid).get_json()["redemption_id"]
    second = api.post(f"/api/rewards/{reward_id}/redeem", headers=kid).get_json()["redemption_id"]

    approved = api.post(f"/api/redemptions/{first}/approve", headers=parent)
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["message"] == "Redemption approved"
    assert_shape(approved.get_json()["redemption"], REDEMPTION_TYPES,
                 {"rejection_reason", "fulfilled_at", "notes"})
    refused(api.post(f"/api/redemptions/{first}/approve", headers=parent), 400, "Redemption is already approved")
    refused(api.post(f"/api/redemptions/{second}/fulfill", headers=parent), 400,
            "Approve this request before marking it fulfilled")
    fulfilled = api.post(f"/api/redemptions/{first}/fulfill", headers=parent).get_json()["redemption"]
    assert fulfilled["status"] == "fulfilled" and TS.match(fulfilled["fulfilled_at"])

    refused(api.post(f"/api/redemptions/{second}/reject", json={}, headers=parent), 400, "Invalid request body")
    rejected = api.post(f"/api/redemptions/{second}/reject", json={"reason": "Too much sugar"}, headers=parent)
    assert rejected.status_code == 200
    assert rejected.get_json()["redemption"]["rejection_reason"] == "Too much sugar"
    refused(api.post(f"/api/redemptions/{second}/reject", json={"reason": "again"}, headers=parent), 400,
            "Redemption is already rejected")
    refused(api.post("/api/redemptions/nope/approve", headers=parent), 400, "Invalid redemption ID format")
    refused(api.post(f"/api/redemptions/{uuid.uuid4()}/approve", headers=parent), 404, "Redemption not found")

    points = api.get(f"/api/users/{people.kid.id}/points", headers=kid).get_json()
    assert points["available_points"] == 60  # 100 − 40 − 40 + 40 refunded
    with in_family(people.family) as ctx:
        assert ctx.session.get(Reward, reward_id).stock == 4
        rules = load_family_rules(ctx.session, people.family.timezone)
        assert reconcile_balances(ctx.session, rules.clock, utcnow()) == []

    pending_only = api.get("/api/redemptions?status=fulfilled,rejected", headers=parent).get_json()
    assert pending_only["count"] == 2
    refused(api.get("/api/redemptions?status=done", headers=parent), 400,
            "Invalid status. Use one of: pending, approved, rejected, fulfilled")


def test_redeemed_rewards_has_its_intended_shape(api, people: People, in_family) -> None:  # noqa: ANN001
    give_points(in_family, people.family, people.kid, 100)
    reward_id = add_reward(in_family, people.family, description="A big scoop", cost=10)
    kid = people.headers(people.kid)
    first = api.post(f"/api/rewards/{reward_id}/redeem", json={"notes": "chocolate"}, headers=kid)
    api.post(f"/api/redemptions/{first.get_json()['redemption_id']}/approve", headers=people.headers(people.parent))
    api.post(f"/api/redemptions/{first.get_json()['redemption_id']}/fulfill", headers=people.headers(people.parent))
    api.post(f"/api/rewards/{reward_id}/redeem", headers=kid)

    response = api.get(f"/api/users/{people.kid.id}/redeemed-rewards", headers=kid)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"count", "redemptions"} and body["count"] == 2
    newest, oldest = body["redemptions"]
    assert_shape(newest, REDEEMED_TYPES, {"fulfilled_at", "notes", "reward_description"})
    assert (newest["status"], oldest["status"], oldest["notes"], oldest["points_cost"]) == (
        "pending", "fulfilled", "chocolate", 10)
    assert "fulfilled_at" not in newest and TS.match(oldest["fulfilled_at"]) and TS.match(oldest["redeemed_at"])
    assert (oldest["reward_name"], oldest["reward_description"], oldest["reward_icon"], oldest["reward_category"]) == (
        "Ice cream", "A big scoop", "🍦", "treat")
    refused(api.get("/api/users/nope/redeemed-rewards", headers=people.headers(people.parent)), 400,
            "Invalid user ID format")
    refused(api.get(f"/api/users/{uuid.uuid4()}/redeemed-rewards", headers=people.headers(people.parent)), 404)


def test_another_familys_ids_are_not_found(api, people: People, in_family, client_for) -> None:  # noqa: ANN001
    other = people.other_family
    give_points(in_family, other, people.stranger_kid, 100)
    reward_id = add_reward(in_family, other)
    theirs = client_for(other)
    redemption_id = theirs.post(f"/api/rewards/{reward_id}/redeem",
                                headers=people.headers(people.stranger_kid)).get_json()["redemption_id"]
    parent = people.headers(people.parent)

    refused(api.put(f"/api/rewards/{reward_id}", json={"cost_points": 1}, headers=parent), 404)
    refused(api.delete(f"/api/rewards/{reward_id}", headers=parent), 404)
    refused(api.post(f"/api/redemptions/{redemption_id}/approve", headers=parent), 404)
    refused(api.get(f"/api/users/{people.stranger_kid.id}/redeemed-rewards", headers=parent), 404)
    assert api.get("/api/redemptions", headers=parent).get_json()["count"] == 0


# --- who may do what ---------------------------------------------------------------------------------------------

ROLES = ("anonymous", "kid", "other_kid", "parent", "stranger")


@dataclass
class Scene:
    """A reward and two of the kid's requests (one waiting, one approved), for the access matrix."""

    reward: uuid.UUID
    pending: uuid.UUID
    approved: uuid.UUID


@pytest.fixture
def scene(people: People, in_family) -> Scene:  # noqa: ANN001
    give_points(in_family, people.family, people.kid, 200)
    with in_family(people.family) as ctx:
        s = ctx.session
        rules, now = load_family_rules(s, people.family.timezone), utcnow()
        reward = Reward(name="Ice cream", cost=50, icon="🍦", category="treat")
        s.add(reward)
        s.flush()
        kid, parent = s.get(Member, people.kid.id), s.get(Member, people.parent.id)
        pending = request_reward(s, kid, reward.id, rules, now)
        approved = approve_redemption(s, parent, request_reward(s, kid, reward.id, rules, now).id, now)
        s.commit()
        return Scene(reward=reward.id, pending=pending.id, approved=approved.id)


# (method, path, body, expected for anonymous, kid, other kid, parent, stranger). The other kid has no points.
ROUTES: list[tuple[str, str, Any, tuple[int, int, int, int, int]]] = [
    ("GET", "/api/rewards", None, (401, 200, 200, 200, 403)),
    ("POST", "/api/rewards", {"name": "New", "cost_points": 5, "category": "treat"}, (401, 403, 403, 201, 403)),
    ("PUT", "/api/rewards/{reward}", {"cost_points": 20}, (401, 403, 403, 200, 403)),
    ("DELETE", "/api/rewards/{reward}", None, (401, 403, 403, 200, 403)),
    ("POST", "/api/rewards/{reward}/redeem", None, (401, 200, 400, 400, 403)),
    ("POST", "/api/redemptions/{pending}/approve", None, (401, 403, 403, 200, 403)),
    ("POST", "/api/redemptions/{pending}/reject", {"reason": "No"}, (401, 403, 403, 200, 403)),
    ("POST", "/api/redemptions/{approved}/fulfill", None, (401, 403, 403, 200, 403)),
    ("GET", "/api/redemptions", None, (401, 200, 200, 200, 403)),
    ("GET", "/api/redemptions?user_id={kid}", None, (401, 200, 403, 200, 403)),
    ("GET", "/api/users/{kid}/redeemed-rewards", None, (401, 200, 403, 200, 403)),
]
CASES = [pytest.param(method, path, body, role, expected[index], id=f"{method} {path} as {role}")
         for method, path, body, expected in ROUTES for index, role in enumerate(ROLES)]


@pytest.mark.parametrize("method, path, body, role, expected", CASES)
def test_access(api, people: People, scene: Scene, in_family, method: str, path: str,  # noqa: ANN001
                body: Any, role: str, expected: int) -> None:
    caller = {"anonymous": None, "kid": people.kid, "other_kid": people.sibling, "parent": people.parent,
              "stranger": people.stranger}[role]
    url = path.format(reward=scene.reward, pending=scene.pending, approved=scene.approved, kid=people.kid.id)
    before = fingerprint(in_family, people.family)

    response = api.open(url, method=method, json=body, headers=people.headers(caller))

    assert response.status_code == expected, response.get_json()
    assert response.is_json
    if expected >= 400:
        assert isinstance(response.get_json().get("error"), str)
        assert fingerprint(in_family, people.family) == before, "a refused call changed something"


def api_endpoints(app: Any, module: str) -> set[str]:
    """The API endpoints whose views live in `module`."""
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("api.") and app.view_functions[rule.endpoint].__module__ == module}


def matched(app: Any, routes: list[tuple[str, str, Any, Any]]) -> set[str]:
    """The endpoints a matrix's (method, path) pairs reach."""
    adapter = app.url_map.bind(app.config["SERVER_NAME"], subdomain="some-family")
    some_id = "00000000-0000-0000-0000-000000000000"
    ids = {"reward": some_id, "pending": some_id, "approved": some_id, "kid": some_id}
    return {adapter.match(path.split("?")[0].format(**ids), method=method)[0] for method, path, *_ in routes}


def test_the_matrix_covers_every_rewards_route(app) -> None:  # noqa: ANN001
    assert matched(app, ROUTES) == api_endpoints(app, "app.api.rewards")
