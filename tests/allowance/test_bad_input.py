"""Bad input on the allowance routes that write, pages and API: a clear 4xx, never a 500, nothing written."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api import conftest as api_fixtures
from tests.api.conftest import People
from tests.api.test_rewards_api import fingerprint, give_points
from tests.hostile import FORM_HOSTILE_TEXT, HOSTILE_TEXT, assert_refused, send_form, send_json

api, people = api_fixtures.api, api_fixtures.people  # the API tests' fixtures: a client, a parent and kids
CONVERT, SCHEDULE, GOAL = "POST /api/users/{kid}/conversions", "PUT /api/users/{kid}/allowance-schedule", \
    "PUT /api/users/{kid}/goal"
BAD_API: list[tuple[str, Any]] = [
    *[(f"{CONVERT} note {kind}", {"points": 10, "note": text}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"{CONVERT} method {kind}", {"points": 10, "method": text}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"{SCHEDULE} mode {kind}", {"mode": text}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"{GOAL} reward {kind}", {"reward_id": text}) for kind, text in HOSTILE_TEXT.items()],
    (f"{CONVERT} points as text", {"points": "10"}), (f"{CONVERT} points huge", {"points": 10**30}),
    (f"{CONVERT} points negative", {"points": -5}), (f"{CONVERT} no points", {"note": "x"}),
    (f"{CONVERT} more than the kid has", {"points": 10_000}),
    (f"{SCHEDULE} payday 9", {"payday": 9}), (f"{SCHEDULE} amount huge", {"amount_cents": 10**30}),
    (f"{SCHEDULE} amount negative", {"amount_cents": -1}), (f"{SCHEDULE} active as text", {"active": "yes"}),
    (f"{SCHEDULE} not an object", [1]), (f"{GOAL} no reward", {}),
]
BAD_FORM: list[tuple[str, str, dict[str, str]]] = [
    *[(f"convert note {kind}", "convert", {"points": "10", "note": text}) for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"pay method {kind}", "pay", {"amount": "2.50", "method": text}) for kind, text in FORM_HOSTILE_TEXT.items()],
    ("convert points in Arabic digits", "convert", {"points": "١٠"}),
    ("convert points huge", "convert", {"points": "9" * 40}),
    ("pay amount in Arabic digits", "pay", {"amount": "٢.٥٠"}), ("pay amount huge", "pay", {"amount": "9" * 40}),
    ("schedule payday in Arabic digits", "schedule", {"mode": "fixed_amount", "payday": "٣", "amount": "5"}),
    ("schedule payday huge", "schedule", {"mode": "fixed_amount", "payday": "9" * 40, "amount": "5"}),
    ("schedule mode huge", "schedule", {"mode": "m" * 1_000_000, "payday": "4", "amount": "5"}),
]


@pytest.mark.parametrize("case, body", BAD_API, ids=[case for case, _ in BAD_API])
def test_bad_allowance_bodies_are_refused_through_the_api(api, people: People, in_family, case: str,  # noqa: ANN001
                                                          body: Any) -> None:
    give_points(in_family, people.family, people.kid, 100)
    before = fingerprint(in_family, people.family)
    method, path = case.split()[:2]

    response = send_json(api, method, path.format(kid=people.kid.id), body, people.headers(people.parent))

    assert_refused(response)
    assert fingerprint(in_family, people.family) == before


@pytest.mark.parametrize("case, action, fields", BAD_FORM, ids=[case for case, _, _ in BAD_FORM])
def test_bad_allowance_forms_are_refused_on_the_pages(app, api, people: People, in_family, auth,  # noqa: ANN001
                                                      case: str, action: str, fields: dict[str, str]) -> None:
    give_points(in_family, people.family, people.kid, 100)
    auth.sign_in(api, people.parent, people.family)
    before = fingerprint(in_family, people.family)

    response = send_form(app, api, f"/allowance/kids/{people.kid.id}/{action}", fields, htmx=True)

    assert_refused(response)
    assert fingerprint(in_family, people.family) == before
