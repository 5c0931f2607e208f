"""Bad input on every rewards route that writes, pages and API: a clear 4xx, never a 500, nothing written."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api import conftest as api_fixtures
from tests.api.conftest import People
from tests.api.test_rewards_api import add_reward, fingerprint, give_points
from tests.hostile import (
    FORM_HOSTILE_TEXT,
    HOSTILE_TEXT,
    assert_refused,
    send_form,
    send_json,
)

api, people = api_fixtures.api, api_fixtures.people  # the API tests' fixtures: a client, a parent and kids
GOOD = {"name": "Treat", "cost_points": 10, "category": "treat"}
FORM = {"name": "Treat", "cost": "10", "icon": "🍦", "category": "treat", "availability": "always"}
# (route, body): {reward} and {redemption} are filled in with this family's ids.
BAD_API: list[tuple[str, Any]] = [
    *[(f"POST /api/rewards {kind} name", {**GOOD, "name": text}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"PUT /api/rewards/{{reward}} {kind} description", {"description": text})
      for kind, text in HOSTILE_TEXT.items()],
    *[(f"POST /api/redemptions/{{redemption}}/reject {kind} reason", {"reason": text})
      for kind, text in HOSTILE_TEXT.items()],
    *[(f"POST /api/rewards/{{reward}}/redeem {kind} notes", {"notes": text}) for kind, text in HOSTILE_TEXT.items()],
    ("POST /api/rewards name a number", {**GOOD, "name": 5}),
    ("POST /api/rewards cost text", {**GOOD, "cost_points": "ten"}),
    ("POST /api/rewards cost a list", {**GOOD, "cost_points": [1]}),
    ("POST /api/rewards missing name", {"cost_points": 10, "category": "treat"}),
    ("POST /api/rewards not an object", ["name"]),
    ("PUT /api/rewards/{reward} cost huge", {"cost_points": 10**30}),
    ("PUT /api/rewards/{reward} stock negative", {"stock_remaining": -1}),
    ("PUT /api/rewards/{reward} weekly limit zero", {"max_per_week": 0}),
    ("PUT /api/rewards/{reward} no such date", {"availability": "date_range", "available_from": "2026-02-30"}),
    ("PUT /api/rewards/{reward} date not ISO", {"availability": "date_range", "available_from": "14/03/2026"}),
    ("PUT /api/rewards/{reward} weekday 9", {"availability": "weekdays", "available_weekdays": [9]}),
    ("POST /api/redemptions/{redemption}/reject reason a number", {"reason": 5}),
    ("POST /api/redemptions/{redemption}/reject no reason", {}),
]
BAD_FORM: list[tuple[str, dict[str, Any]]] = [
    *[(f"name {kind}", {**FORM, "name": text}) for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"category {kind}", {**FORM, "category": text}) for kind, text in FORM_HOSTILE_TEXT.items()],
    ("missing name", {k: v for k, v in FORM.items() if k != "name"}), ("cost text", {**FORM, "cost": "ten"}),
    ("cost huge", {**FORM, "cost": "1" * 40}), ("cost Arabic digits", {**FORM, "cost": "١٢"}),
    ("stock 1.5", {**FORM, "stock": "1.5"}),
    ("no such date", {**FORM, "availability": "date_range", "available_from": "2026-02-30"}),
    ("weekday 9", {**FORM, "availability": "weekdays", "available_weekdays": ["9"]}),
]


@pytest.mark.parametrize("case, body", BAD_API, ids=[case for case, _ in BAD_API])
def test_bad_reward_bodies_are_refused_through_the_api(api, people: People, in_family, case: str,
                                                       body: Any) -> None:
    reward_id = add_reward(in_family, people.family)
    give_points(in_family, people.family, people.kid, 100)
    kid = people.headers(people.kid)
    redemption_id = send_json(api, "POST", f"/api/rewards/{reward_id}/redeem", {}, kid).get_json()["redemption_id"]
    before = fingerprint(in_family, people.family)
    method, path = case.split()[:2]

    response = send_json(api, method, path.format(reward=reward_id, redemption=redemption_id), body,
                         kid if path.endswith("/redeem") else people.headers(people.parent))

    assert_refused(response)
    assert fingerprint(in_family, people.family) == before


@pytest.mark.parametrize("case, fields", BAD_FORM, ids=[case for case, _ in BAD_FORM])
def test_bad_reward_forms_are_refused_on_the_pages(app, api, people: People, in_family, auth,
                                                   case: str, fields: dict[str, Any]) -> None:
    reward_id = add_reward(in_family, people.family)
    auth.sign_in(api, people.parent, people.family)
    before = fingerprint(in_family, people.family)

    for path in ("/rewards/new", f"/rewards/{reward_id}/edit"):
        response = send_form(app, api, path, fields)
        assert_refused(response)
    assert fingerprint(in_family, people.family) == before
