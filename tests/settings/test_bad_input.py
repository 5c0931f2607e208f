"""Bad input on the settings routes that write, page and API: a clear 4xx, never a 500, nothing written."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.members.models import FamilySetting
from app.platform.models import Family
from tests.api import conftest as api_fixtures
from tests.api.conftest import People
from tests.hostile import (
    FORM_HOSTILE_TEXT,
    HOSTILE_TEXT,
    assert_refused,
    send_form,
    send_json,
)

api, people = api_fixtures.api, api_fixtures.people  # the API tests' fixtures: a client, a parent and kids
NESTED = {"nested NUL": {"a": ["ok", "b\x00"]}, "key with a surrogate": {"\ud800": 1},
          "control in a list": ["\x1b[2J"], "too large": {"notes": "x" * 20_000}}
# (key in the URL, body)
BAD_API: list[tuple[str, str, Any]] = [
    *[(f"family_name {kind}", "family_name", {"value": text}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"own key {kind}", "fridge.notes", {"value": text}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"own key {kind}", "fridge.layout", {"value": value}) for kind, value in NESTED.items()],
    *[(f"key {kind}", quote(text.encode("utf-8", "surrogatepass")), {"value": 1})
      for kind, text in HOSTILE_TEXT.items() if kind != "huge"],
    ("key too long", "k" * 101, {"value": 1}), ("key with a slash", "..%2Fup", {"value": 1}),
    ("missing value", "digest_hour", {}), ("null value", "fridge.notes", {"value": None}),
    ("hour as text", "digest_hour", {"value": "18"}), ("hour 24", "digest_hour", {"value": 24}),
    ("hour huge", "digest_hour", {"value": 10**30}),
    ("bonus huge", "achievement_bonus", {"value": {"first_chore": 10**9}}),
    ("is_private as text", "fridge.notes", {"value": 1, "is_private": "yes"}),
    ("not an object", "digest_hour", [7]), ("unknown timezone", "timezone", {"value": "Mars/Olympus"}),
]
BAD_FORM: list[tuple[str, str, dict[str, str]]] = [
    *[(f"family name {kind}", "family", {"family_name": text, "timezone": "UTC", "week_start": "monday"})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"currency {kind}", "money", {"currency": text, "points_per_currency_unit": "100"})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    ("hour 24", "notifications", {"digest_hour": "24"}),
    ("hour in Arabic digits", "notifications", {"digest_hour": "١٢"}),
    ("points per unit huge", "money", {"currency": "USD", "points_per_currency_unit": "1" * 40}),
    ("bonus huge", "badges", {"bonus:first_chore": "99999999"}),
    ("minutes not a number", "chores", {"reminder_lead_minutes": "soon"}),
]


def _stored(in_family, people: People) -> tuple[Any, ...]:
    with in_family(people.family) as ctx:
        rows = sorted(ctx.session.execute(select(FamilySetting.key, FamilySetting.value)).all(), key=str)
        family = ctx.session.get(Family, people.family.id)
        return rows, family.name, family.timezone


@pytest.mark.parametrize("case, key, body", BAD_API, ids=[case for case, _, _ in BAD_API])
def test_bad_settings_are_refused_through_the_api(api, people: People, in_family, case: str, key: str,
                                                  body: Any) -> None:
    before = _stored(in_family, people)

    response = send_json(api, "PUT", f"/api/settings/{key}", body, people.headers(people.parent))

    assert_refused(response)
    assert _stored(in_family, people) == before


@pytest.mark.parametrize("case, group, fields", BAD_FORM, ids=[case for case, _, _ in BAD_FORM])
def test_bad_settings_are_refused_on_the_page(app, api, people: People, in_family, auth,
                                              case: str, group: str, fields: dict[str, str]) -> None:
    auth.sign_in(api, people.parent, people.family)
    before = _stored(in_family, people)

    response = send_form(app, api, f"/settings/groups/{group}", fields, htmx=True)

    assert_refused(response)
    assert _stored(in_family, people) == before
