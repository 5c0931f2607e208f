"""Allowance and goals over the API: conversions, the money statement, weekly schedules, savings goals, access."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.allowance.models import Payout
from app.members.models import FamilySetting
from tests.api.conftest import People
from tests.api.test_rewards_api import (add_reward, api_endpoints, assert_shape, fingerprint, give_points, matched,
                                        refused)

PAYOUT_TYPES: dict[str, Any] = {
    "id": str, "user_id": str, "kind": str, "points": int, "amount_cents": int, "currency": str, "method": str,
    "note": str, "paid_on": str, "paid_by": str, "schedule_id": str, "transaction_id": str, "created_at": str,
}
GOAL_TYPES: dict[str, Any] = {
    "user_id": str, "reward_id": str, "reward_name": str, "reward_icon": str, "cost_points": int,
    "available_points": int, "points_to_go": int, "percent": int, "reached": bool, "created_at": str,
}


def test_a_parent_converts_points_and_the_kid_reads_the_statement(api, people: People,  # noqa: ANN001
                                                                  in_family) -> None:
    give_points(in_family, people.family, people.kid, 400)
    parent, kid = people.headers(people.parent), people.headers(people.kid)

    response = api.post(f"/api/users/{people.kid.id}/conversions",
                        json={"points": 250, "method": "cash", "note": "Saturday"}, headers=parent)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["message"] == "Points converted" and body["available_points"] == 150
    assert_shape(body["conversion"], PAYOUT_TYPES, {"schedule_id"})
    assert (body["conversion"]["points"], body["conversion"]["amount_cents"], body["conversion"]["currency"]) == (
        250, 250, "USD")
    api.post(f"/api/users/{people.kid.id}/conversions", json={"points": 50}, headers=parent)

    listed = api.get(f"/api/users/{people.kid.id}/conversions", headers=kid).get_json()
    assert (listed["count"], listed["currency"], listed["points_per_currency_unit"]) == (2, "USD", 100)
    statement = api.get(f"/api/users/{people.kid.id}/money-statement", headers=kid).get_json()
    assert [e["running_total_cents"] for e in statement["entries"]] == [300, 250]  # newest first
    assert (statement["total_cents"], statement["total_points_converted"], statement["available_points"]) == (
        300, 300, 100)
    transactions = api.get(f"/api/users/{people.kid.id}/transactions?type=conversion", headers=kid).get_json()
    assert [t["points"] for t in transactions["transactions"]] == [-50, -250]


def test_the_family_rate_and_currency_apply(api, people: People, in_family) -> None:  # noqa: ANN001
    with in_family(people.family) as ctx:
        for setting in ctx.session.query(FamilySetting).filter(
                FamilySetting.key.in_(("points_per_currency_unit", "currency"))):
            setting.value = 40 if setting.key == "points_per_currency_unit" else "GBP"
        ctx.session.commit()
    give_points(in_family, people.family, people.kid, 100)

    body = api.post(f"/api/users/{people.kid.id}/conversions", json={"points": 100},
                    headers=people.headers(people.parent)).get_json()

    assert (body["conversion"]["amount_cents"], body["conversion"]["currency"]) == (250, "GBP")


@pytest.mark.parametrize("body, status, error", [
    ({"points": 101}, 400, "Insufficient points"),
    ({"points": 0}, 400, "points must not be zero"),
    ({"points": -5}, 400, "points cannot be negative"),
    ({"points": "5"}, 400, "Invalid request body"),
    ({}, 400, "Invalid request body"),
])
def test_bad_conversions_are_400_and_change_nothing(api, people: People, in_family, body: dict[str, Any],
                                                    status: int, error: str) -> None:  # noqa: ANN001
    give_points(in_family, people.family, people.kid, 100)
    before = fingerprint(in_family, people.family)

    answer = refused(api.post(f"/api/users/{people.kid.id}/conversions", json=body,
                              headers=people.headers(people.parent)), status, error)

    if error == "Insufficient points":
        assert answer == {"error": error, "points_available": 100, "points_required": 101, "points_short": 1}
    assert fingerprint(in_family, people.family) == before


def test_converting_a_parents_points_is_refused(api, people: People) -> None:  # noqa: ANN001
    refused(api.post(f"/api/users/{people.parent.id}/conversions", json={"points": 5},
                     headers=people.headers(people.parent)), 400, "Allowance is paid to active kids")
    refused(api.post(f"/api/users/{uuid.uuid4()}/conversions", json={"points": 5},
                     headers=people.headers(people.parent)), 404)
    refused(api.get("/api/users/nope/money-statement", headers=people.headers(people.parent)), 400,
            "Invalid user ID format")


def test_the_weekly_schedule_is_set_and_read_back(api, people: People) -> None:  # noqa: ANN001
    url, parent = f"/api/users/{people.kid.id}/allowance-schedule", people.headers(people.parent)
    assert api.get(url, headers=parent).get_json() == {"schedule": None}

    saved = api.put(url, json={"mode": "fixed_amount", "payday": 5, "amount_cents": 500}, headers=parent)
    assert saved.status_code == 200, saved.get_json()
    changed = api.put(url, json={"active": False}, headers=parent).get_json()["schedule"]
    assert (changed["mode"], changed["payday"], changed["amount_cents"], changed["active"]) == (
        "fixed_amount", 5, 500, False)
    assert api.get(url, headers=people.headers(people.kid)).get_json()["schedule"]["id"] == changed["id"]

    refused(api.put(url, json={"payday": 9}, headers=parent), 400, "payday must be a weekday 0-6 (Monday = 0)")
    refused(api.put(url, json={"mode": "daily"}, headers=parent), 400)
    refused(api.put(url, json={"amount_cents": "5"}, headers=parent), 400, "Invalid request body")


def test_a_kid_pins_a_goal_and_reads_the_progress(api, people: People, in_family) -> None:  # noqa: ANN001
    give_points(in_family, people.family, people.kid, 100)
    bike = add_reward(in_family, people.family, name="Bike", cost=400, icon="🚲")
    kid = people.headers(people.kid)
    assert api.get("/api/goals/me", headers=kid).get_json() == {"goal": None}

    saved = api.put(f"/api/users/{people.kid.id}/goal", json={"reward_id": str(bike)}, headers=kid)

    assert saved.status_code == 200, saved.get_json()
    goal = api.get("/api/goals/me", headers=kid).get_json()["goal"]
    assert_shape(goal, GOAL_TYPES)
    assert (goal["reward_name"], goal["percent"], goal["points_to_go"], goal["reached"]) == ("Bike", 25, 300, False)
    refused(api.put(f"/api/users/{people.kid.id}/goal", json={"reward_id": str(uuid.uuid4())}, headers=kid), 404,
            "Reward not found")
    refused(api.put(f"/api/users/{people.kid.id}/goal", json={"reward_id": "bike"}, headers=kid), 400,
            "Invalid reward ID format")
    cleared = api.delete(f"/api/users/{people.kid.id}/goal", headers=kid).get_json()
    assert cleared == {"message": "Savings goal cleared", "cleared": True}
    assert api.get("/api/goals/me", headers=kid).get_json() == {"goal": None}


# --- who may do what ---------------------------------------------------------------------------------------------

ROLES = ("anonymous", "kid", "other_kid", "parent", "stranger")
ROUTES: list[tuple[str, str, Any, tuple[int, int, int, int, int]]] = [
    ("GET", "/api/users/{kid}/conversions", None, (401, 200, 403, 200, 403)),
    ("POST", "/api/users/{kid}/conversions", {"points": 10}, (401, 403, 403, 201, 403)),
    ("GET", "/api/users/{kid}/money-statement", None, (401, 200, 403, 200, 403)),
    ("GET", "/api/users/{kid}/allowance-schedule", None, (401, 200, 403, 200, 403)),
    ("PUT", "/api/users/{kid}/allowance-schedule", {"mode": "fixed_amount", "payday": 5, "amount_cents": 300},
     (401, 403, 403, 200, 403)),
    ("GET", "/api/goals/me", None, (401, 200, 200, 200, 403)),
    ("PUT", "/api/users/{kid}/goal", {"reward_id": "{reward}"}, (401, 200, 403, 200, 403)),
    ("DELETE", "/api/users/{kid}/goal", None, (401, 200, 403, 200, 403)),
]
CASES = [pytest.param(method, path, body, role, expected[index], id=f"{method} {path} as {role}")
         for method, path, body, expected in ROUTES for index, role in enumerate(ROLES)]


@pytest.mark.parametrize("method, path, body, role, expected", CASES)
def test_access(api, people: People, in_family, method: str, path: str, body: Any, role: str,  # noqa: ANN001
                expected: int) -> None:
    give_points(in_family, people.family, people.kid, 100)
    reward = add_reward(in_family, people.family)
    caller = {"anonymous": None, "kid": people.kid, "other_kid": people.sibling, "parent": people.parent,
              "stranger": people.stranger}[role]
    if body is not None:
        body = {key: value.format(reward=reward) if isinstance(value, str) else value for key, value in body.items()}
    before = fingerprint(in_family, people.family)

    response = api.open(path.format(kid=people.kid.id), method=method, json=body, headers=people.headers(caller))

    assert response.status_code == expected, response.get_json()
    assert response.is_json
    if expected >= 400:
        assert isinstance(response.get_json().get("error"), str)
        assert fingerprint(in_family, people.family) == before, "a refused call changed something"


def test_payouts_of_another_family_stay_there(api, people: People, in_family, client_for) -> None:  # noqa: ANN001
    other = people.other_family
    give_points(in_family, other, people.stranger_kid, 100)
    client_for(other).post(f"/api/users/{people.stranger_kid.id}/conversions", json={"points": 100},
                           headers=people.headers(people.stranger))
    with in_family(people.family) as ctx:
        assert ctx.session.query(Payout).count() == 0
    refused(api.get(f"/api/users/{people.stranger_kid.id}/money-statement", headers=people.headers(people.parent)),
            404)


def test_the_matrix_covers_every_allowance_route(app) -> None:  # noqa: ANN001
    assert matched(app, ROUTES) == api_endpoints(app, "app.api.allowance")
