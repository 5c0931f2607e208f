"""Hostile input to every presence write, calendar forms and API: a clear 4xx, never a 500, and nothing written."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.chores.page_helpers import People, Poster, parent_client, people, post  # noqa: F401 - pytest fixtures
from tests.conftest import Auth, FamilyClient
from tests.presence.test_pages import exception, pattern, rules_count

MEGA = "x" * 1_000_000  # a 1 MB string

# (channel, rule, changes): "page" posts the calendar's add form, "api" the JSON body; None removes the key.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("page", "patterns", {"label": "Dad\x00"}), ("page", "patterns", {"label": "Dad\x1b[31m"}),
    ("page", "patterns", {"label": MEGA}), ("page", "patterns", {"label": "x" * 81}),
    ("page", "patterns", {"weekdays": ["7"]}), ("page", "patterns", {"weekdays": ["friday"]}),
    ("page", "patterns", {"weekdays": None}), ("page", "patterns", {"kind": "monthly"}),
    ("page", "patterns", {"anchor_date": "2027-02-29"}), ("page", "patterns", {"transition_time": "18h"}),
    ("page", "exceptions", {"note": "Camp\x00"}), ("page", "exceptions", {"note": MEGA}),
    ("page", "exceptions", {"start_date": None}), ("page", "exceptions", {"start_date": "+002027-03-10"}),
    ("page", "exceptions", {"end_date": "2027-03-01"}), ("page", "exceptions", {"transition_time": "٠٨:٠٠"}),
    ("api", "patterns", {"label": "Dad\ud800"}), ("api", "patterns", {"label": MEGA}),
    ("api", "patterns", {"weekdays": None}), ("api", "patterns", {"weekdays": ["1"]}),
    ("api", "patterns", {"weekdays": [1.5]}), ("api", "patterns", {"weekdays": [10 ** 20]}),
    ("api", "patterns", {"present": 1}), ("api", "patterns", {"anchor_date": 20270305}),
    ("api", "patterns", {"transition_time": "24:00"}), ("api", "patterns", {"user_id": None}),
    ("api", "exceptions", {"note": "\udc00"}), ("api", "exceptions", {"note": "x" * 201}),
    ("api", "exceptions", {"start_date": None}), ("api", "exceptions", {"start_date": "2027-3-10"}),
    ("api", "exceptions", {"end_date": "9999-99-99"}), ("api", "exceptions", {"present": "false"}),
    ("api", "exceptions", {"transition_time": ["08:00"]}), ("api", "exceptions", {"user_id": 7}),
]


@pytest.mark.parametrize(("channel", "rule", "changes"), CASES,
                         ids=[f"{c}-{r}-{i}" for i, (c, r, _) in enumerate(CASES)])
def test_hostile_presence_input_is_a_clear_4xx_and_writes_nothing(people: People, parent_client: FamilyClient,
                                                                    post: Poster, auth: Auth,
                                                                    client_for: Callable[..., FamilyClient],
                                                                    in_family: Callable[..., Any], channel: str,
                                                                    rule: str, changes: dict[str, Any]) -> None:
    if channel == "page":
        form = {**(pattern() if rule == "patterns" else exception()), **changes}
        response = post(parent_client, f"/calendar/members/{people.zoe.id}/{rule}",
                        {key: value for key, value in form.items() if value is not None})
    else:
        good = ({"weekdays": [4, 5], "anchor_date": "2027-03-05", "transition_time": "18:00", "label": "Dad"}
                if rule == "patterns" else {"start_date": "2027-03-10", "end_date": "2027-03-12", "note": "Camp"})
        body = {key: value for key, value in {"user_id": str(people.zoe.id), **good, **changes}.items()
                if value is not None}
        response = client_for(people.family).post(f"/api/presence/{rule}", data=json.dumps(body),
                                                  content_type="application/json",
                                                  headers=auth.bearer(people.parent, people.family))

    assert response.status_code in (400, 413, 422), (response.status_code, response.get_data(as_text=True)[:300])
    if channel == "api":
        assert response.get_json()["error"]
    assert rules_count(in_family, people) == (0, 0)
