"""Hostile input to bonuses, deductions and presets, dashboard and API: a clear 4xx, never a 500, nothing written."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.members.models import Member
from app.points.models import LedgerEntry, PointPreset
from tests.chores.page_helpers import People, Poster, parent_client, people, post  # noqa: F401 - pytest fixtures
from tests.conftest import Auth, FamilyClient

MEGA = "x" * 1_000_000  # a 1 MB string

# (channel, changes): "page" posts the dashboard's custom bonus form, "bonus"/"deduction" the API body for Maya,
# "preset" a new one-tap reason; None removes the key.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("page", {"reason": "Kind\x00"}), ("page", {"reason": "Kind\x07"}), ("page", {"reason": MEGA}),
    ("page", {"reason": None}), ("page", {"reason": "   "}), ("page", {"amount": None}),
    ("page", {"amount": "2.5"}), ("page", {"amount": "１０"}), ("page", {"amount": "-3"}),
    ("page", {"amount": "10001"}), ("page", {"amount": "0x10"}), ("page", {"kind": "gift"}),
    ("bonus", {"reason": "Kind\ud800"}), ("bonus", {"reason": MEGA}), ("bonus", {"reason": None}),
    ("bonus", {"reason": ["Kind"]}), ("bonus", {"points": None}), ("bonus", {"points": "5"}),
    ("bonus", {"points": True}), ("bonus", {"points": 10 ** 40}), ("deduction", {"points": -5}),
    ("deduction", {"reason": "Rude\x1b"}), ("deduction", {"points": 0}),
    ("preset", {"label": "\udfff"}), ("preset", {"label": MEGA}), ("preset", {"label": None}),
    ("preset", {"kind": "gift"}), ("preset", {"kind": None}), ("preset", {"points": 3.0001}),
    ("preset", {"points": 20_000}),
]


def _written(in_family: Callable[..., Any], people: People) -> tuple[Any, ...]:
    with in_family(people.family) as ctx:
        s = ctx.session
        return (s.scalar(select(func.count()).select_from(LedgerEntry)),
                s.scalar(select(func.count()).select_from(PointPreset)),
                sorted((m.id, m.available_points, m.total_points) for m in s.scalars(select(Member))))


@pytest.mark.parametrize(("channel", "changes"), CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)])
def test_hostile_points_input_is_a_clear_4xx_and_writes_nothing(people: People, parent_client: FamilyClient,
                                                                  post: Poster, auth: Auth,
                                                                  client_for: Callable[..., FamilyClient],
                                                                  in_family: Callable[..., Any], channel: str,
                                                                  changes: dict[str, Any]) -> None:
    api, headers = client_for(people.family), auth.bearer(people.parent, people.family)
    assert api.get("/api/point-presets", headers=headers).status_code == 200  # the defaults exist before
    before = _written(in_family, people)

    if channel == "page":
        form = {"kind": "bonus", "amount": "3", "reason": "Kind words", **changes}
        response = post(parent_client, f"/today/kids/{people.maya.id}/points",
                        {key: value for key, value in form.items() if value is not None})
    else:
        good = {"kind": "bonus", "label": "Kind words", "points": 3} if channel == "preset" else \
            {"points": 3, "reason": "Kind words"}
        body = {key: value for key, value in {**good, **changes}.items() if value is not None}
        path = "/api/point-presets" if channel == "preset" else \
            f"/api/users/{people.maya.id}/{'bonus' if channel == 'bonus' else 'deductions'}"
        response = api.post(path, data=json.dumps(body), content_type="application/json", headers=headers)

    assert response.status_code in (400, 413, 422), (response.status_code, response.get_data(as_text=True)[:300])
    if channel != "page":
        assert response.get_json()["error"]
    assert _written(in_family, people) == before
