"""Old clients and old data keep working (issue 10): the previous service's own request bodies, replayed against /api.

Each case of docs/API_CONTRACT.md's "Old clients and old data" section has a test here; a refused case also proves
the family's rows did not change (tests/neighbour.py's digest of every family table). Runs on PostgreSQL and SQLite.
"""
from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from app.chores.models import Chore
from app.members.models import FamilySetting, Member
from app.rewards.models import Availability, LegacyAvailability, Reward
from tests.api.conftest import People
from tests.conftest import app_on_both_engines
from tests.neighbour import fingerprint

app = app_on_both_engines()


def _refused(response: Any, status: int, error: str, field: str) -> dict[str, Any]:
    """A JSON error with the message and a `fields` entry naming the offending key."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert body["error"] == error, body
    assert field in body.get("fields", {}), body
    return body


def _reward_row(in_family: Any, people: People, reward_id: str) -> Reward:
    with in_family(people.family) as ctx:
        reward = ctx.session.get(Reward, uuid.UUID(reward_id))
        assert reward is not None
        ctx.session.expunge(reward)
        return reward


def _post_reward(api: Any, people: People, body: dict[str, Any]) -> Any:
    return api.post("/api/rewards", json=body, headers=people.headers(people.parent))


# The previous service's own reward bodies (the legacy sample family's rewards, as its app created them).
STICKERS = {"name": "Sticker pack", "description": "Reward: Sticker pack", "cost_points": 30, "category": "item",
            "icon": "mdi:gift", "max_per_week": 1, "requires_parent_approval": False, "active": True,
            "availability": "limited", "stock_remaining": 10}
POOL_DAY = {"name": "Pool day with a friend", "cost_points": 300, "category": "experience", "icon": "mdi:gift",
            "availability": "seasonal"}
CASH = {"name": "$5 cash", "cost_points": 50, "category": "money", "icon": "mdi:gift", "availability": "always",
        "value_in_cents": 500}


# --- 1. a kid's own profile and auto_approve_work ------------------------------------------------------------------

@pytest.mark.parametrize("current, sent", [(False, False), (True, True), (True, False)])
def test_a_kid_sending_what_grants_nothing_is_accepted_with_the_other_fields(
        api: Any, people: People, in_family: Any, current: bool, sent: bool) -> None:
    with in_family(people.family) as ctx:
        ctx.session.get(Member, people.kid.id).auto_approve_work = current
        ctx.session.commit()
    response = api.patch("/api/users/me", json={"auto_approve_work": sent, "daily_goal": 120},
                         headers=people.headers(people.kid))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"message": "Profile updated successfully", "updated_fields": 2}
    me = api.get("/api/users/me", headers=people.headers(people.kid)).get_json()
    assert (me["daily_goal"], me["auto_approve_work"]) == (120, sent)


def test_a_kid_asking_to_turn_auto_approval_on_is_refused_whole(api: Any, people: People, app: Any) -> None:
    before = fingerprint(app, people.family)
    body = _refused(api.patch("/api/users/me", json={"auto_approve_work": True, "daily_goal": 120},
                              headers=people.headers(people.kid)),
                    403, "Only parents can change auto-approval", "auto_approve_work")
    assert body["fields"] == {"auto_approve_work": "parent_only"}
    assert body["details"].startswith("Nothing was saved")
    assert fingerprint(app, people.family) == before
    me = api.get("/api/users/me", headers=people.headers(people.kid)).get_json()
    assert me["daily_goal"] != 120 and me["auto_approve_work"] is False


# --- 2. the previous service's availability words --------------------------------------------------------------

def test_limited_maps_to_stock_and_reads_back(api: Any, people: People, in_family: Any) -> None:
    response = _post_reward(api, people, STICKERS)
    assert response.status_code == 201, response.get_json()
    reward = response.get_json()["reward"]
    assert (reward["availability"], reward["availability_kind"], reward["stock_remaining"]) == ("limited", "always", 10)
    row = _reward_row(in_family, people, reward["id"])
    assert (row.availability, row.legacy_availability, row.stock) == (Availability.ALWAYS,
                                                                      LegacyAvailability.LIMITED, 10)
    listed = api.get("/api/rewards", headers=people.headers(people.kid)).get_json()["rewards"]
    assert [(r["name"], r["availability"]) for r in listed] == [("Sticker pack", "limited")]


def test_limited_with_dates_is_a_date_range(api: Any, people: People) -> None:
    response = _post_reward(api, people, {**STICKERS, "available_from": "2020-01-01", "available_until": "2020-01-31"})
    reward = response.get_json()["reward"]
    assert response.status_code == 201
    assert (reward["availability"], reward["availability_kind"]) == ("limited", "date_range")
    assert reward["available_today"] is False  # January 2020 is over: the window is enforced
    kid_view = api.get("/api/rewards", headers=people.headers(people.kid)).get_json()
    assert kid_view["count"] == 0


def test_seasonal_is_open_until_a_parent_gives_it_dates(api: Any, people: People) -> None:
    created = _post_reward(api, people, POOL_DAY)
    assert created.status_code == 201
    reward = created.get_json()["reward"]
    assert (reward["availability"], reward["availability_kind"], reward["available_today"]) == (
        "seasonal", "always", True)
    season = {"available_from": "2020-06-01", "available_until": "2020-08-31"}
    updated = api.put(f"/api/rewards/{reward['id']}", json=season, headers=people.headers(people.parent))
    assert updated.status_code == 200, updated.get_json()
    again = updated.get_json()["reward"]
    assert (again["availability"], again["availability_kind"], again["available_from"]) == (
        "seasonal", "date_range", "2020-06-01")
    assert again["available_today"] is False


def test_a_modern_kind_replaces_the_old_word(api: Any, people: People, in_family: Any) -> None:
    reward = _post_reward(api, people, STICKERS).get_json()["reward"]
    body = api.put(f"/api/rewards/{reward['id']}", json={"availability": "weekdays", "available_weekdays": [5, 6]},
                   headers=people.headers(people.parent)).get_json()["reward"]
    assert (body["availability"], body["availability_kind"]) == ("weekdays", "weekdays")
    assert _reward_row(in_family, people, reward["id"]).legacy_availability is None


# --- 4 and 6. value_in_cents ---------------------------------------------------------------------------------------

def test_value_in_cents_is_stored_and_returned(api: Any, people: People, in_family: Any) -> None:
    reward = _post_reward(api, people, CASH).get_json()["reward"]
    assert reward["value_in_cents"] == 500
    assert _reward_row(in_family, people, reward["id"]).value_in_cents == 500
    listed = api.get("/api/rewards", headers=people.headers(people.kid)).get_json()["rewards"]
    assert listed[0]["value_in_cents"] == 500


def test_put_value_in_cents_alone_updates_it(api: Any, people: People, in_family: Any) -> None:
    reward = _post_reward(api, people, STICKERS).get_json()["reward"]
    assert "value_in_cents" not in reward
    response = api.put(f"/api/rewards/{reward['id']}", json={"value_in_cents": 700},
                       headers=people.headers(people.parent))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["message"] == "Reward updated successfully"
    assert (body["reward"]["value_in_cents"], body["reward"]["availability"]) == (700, "limited")
    assert _reward_row(in_family, people, reward["id"]).value_in_cents == 700


def test_the_reward_pages_show_the_money_value(api: Any, client: Any, people: People, auth: Any) -> None:
    created = api.post("/api/rewards", json=CASH, headers=people.headers(people.parent))
    assert created.status_code == 201
    auth.sign_in(client, people.parent, people.family)
    manage = client.get("/rewards").get_data(as_text=True)
    assert re.search(r'class="reward-value">worth \$5\.00<', manage), manage
    edit = client.get(f"/rewards/{created.get_json()['id']}/edit").get_data(as_text=True)
    assert 'name="value" value="5.00"' in edit
    auth.sign_in(client, people.kid, people.family)
    store = client.get("/rewards").get_data(as_text=True)
    assert "Worth $5.00" in store


# --- 3 and 7. settings ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [("achievement_bonus", {"first_chore": 5}),
                                        ("notification_defaults", {"email": {"chore_approved": False}}),
                                        ("digest_hour", 7)])
def test_a_listed_key_is_updated_on_its_first_write(api: Any, people: People, key: str, value: Any) -> None:
    listed = api.get("/api/settings", headers=people.headers(people.parent)).get_json()
    assert key in listed
    response = api.put(f"/api/settings/{key}", json={"value": value}, headers=people.headers(people.parent))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"key": key, "message": "Setting updated successfully", "value": value}
    assert api.get(f"/api/settings/{key}", headers=people.headers(people.parent)).get_json()["value"] == value


def test_a_new_key_is_still_created_with_201(api: Any, people: People) -> None:
    first = api.put("/api/settings/chore_music", json={"value": "on"}, headers=people.headers(people.parent))
    second = api.put("/api/settings/chore_music", json={"value": "off"}, headers=people.headers(people.parent))
    assert (first.status_code, first.get_json()["message"]) == (201, "Setting created successfully")
    assert (second.status_code, second.get_json()["message"]) == (200, "Setting updated successfully")


def test_auto_approve_chores_is_the_family_auto_approve_setting(api: Any, people: People, in_family: Any) -> None:
    parent = people.headers(people.parent)
    assert api.get("/api/settings", headers=parent).get_json()["auto_approve_chores"] is False
    assert api.get("/api/settings/auto_approve_chores", headers=parent).get_json() == {
        "key": "auto_approve_chores", "value": False}
    response = api.put("/api/settings/auto_approve_chores", json={"value": True}, headers=parent)
    assert response.status_code == 200
    assert response.get_json() == {"key": "auto_approve_chores", "message": "Setting updated successfully",
                                   "value": True}
    with in_family(people.family) as ctx:
        rows = {row.key: row.value for row in ctx.session.scalars(select(FamilySetting))}
    assert rows.get("auto_approve") is True and "auto_approve_chores" not in rows
    listed = api.get("/api/settings", headers=parent).get_json()
    assert (listed["auto_approve"], listed["auto_approve_chores"]) == (True, True)
    # The previous service kept booleans as text; an old client may write them so.
    assert api.put("/api/settings/auto_approve_chores", json={"value": "false"},
                   headers=parent).get_json()["value"] is False
    assert api.get("/api/settings/auto_approve", headers=parent).get_json()["value"] is False


def test_auto_approve_chores_turns_on_auto_approval_for_completions(api: Any, people: People) -> None:
    parent = people.headers(people.parent)
    assert api.put("/api/settings/auto_approve_chores", json={"value": True}, headers=parent).status_code == 200
    chore = api.post("/api/chores", headers=parent, json={
        "name": "Dishes", "base_points": 15, "requires_verification": True, "assignees": [str(people.kid.id)],
        "schedule": {"kind": "daily", "start_date": date.today().isoformat()}})
    assert chore.status_code == 201, chore.get_json()
    listed = api.get(f"/api/assignments?user_id={people.kid.id}", headers=parent).get_json()["assignments"]
    done = api.post(f"/api/assignments/{listed[0]['id']}/complete", headers=people.headers(people.kid)).get_json()
    assert (done["status"], done["requires_verification"]) == ("verified", False)


# --- 5. a chore's frequency ----------------------------------------------------------------------------------------

# The previous service's chore body (the legacy sample family's "Take out trash").
TRASH = {"name": "Take out trash", "description": "Take out trash (trash)", "category": "trash", "base_points": 15,
         "estimated_minutes": 10, "difficulty": "easy", "requires_verification": False, "requires_photo": False,
         "icon": "🗑️", "tags": ["weekly", "trash"], "frequency": "weekly", "rotation_eligible": True}


def test_frequency_is_stored_and_read_back(api: Any, people: People, in_family: Any) -> None:
    parent = people.headers(people.parent)
    created = api.post("/api/chores", json={**TRASH, "assignment_type": "open"}, headers=parent)
    assert created.status_code == 201, created.get_json()
    chore = created.get_json()
    assert (chore["frequency"], chore["schedule"]) == ("weekly", None)
    assert api.get(f"/api/chores/{chore['id']}", headers=parent).get_json()["frequency"] == "weekly"
    updated = api.put(f"/api/chores/{chore['id']}", json={"frequency": "as_needed"}, headers=parent)
    assert updated.status_code == 200 and updated.get_json()["frequency"] == "as_needed"
    with in_family(people.family) as ctx:
        assert ctx.session.get(Chore, uuid.UUID(chore["id"])).frequency == "as_needed"


@pytest.mark.parametrize("frequency, kind", [("daily", "daily"), ("weekly", "weekly"), ("monthly", "monthly_day"),
                                             ("as_needed", "none"), ("whenever", "none")])
def test_the_chore_page_shows_the_frequency_and_starts_the_schedule_from_it(
        api: Any, client: Any, people: People, auth: Any, frequency: str, kind: str) -> None:
    created = api.post("/api/chores", json={**TRASH, "frequency": frequency, "assignment_type": "open"},
                       headers=people.headers(people.parent)).get_json()
    auth.sign_in(client, people.parent, people.family)
    page = client.get(f"/chores/{created['id']}/edit").get_data(as_text=True)
    assert f"Frequency from the previous app: “{frequency}”" in page
    selected = re.search(r'<option value="([a-z_]+)" selected>', page)
    assert selected is not None and selected.group(1) == kind
    assert ("the schedule starts from it" in page) is (kind != "none")
    library = client.get("/chores").get_data(as_text=True)
    assert f"previous app: {frequency}" in library


def test_a_scheduled_chore_keeps_its_schedule_on_the_page(api: Any, client: Any, people: People, auth: Any) -> None:
    created = api.post("/api/chores", headers=people.headers(people.parent), json={
        **TRASH, "frequency": "daily", "assignees": [str(people.kid.id)],
        "schedule": {"kind": "weekly", "weekdays": [0], "start_date": date.today().isoformat()}}).get_json()
    assert created["frequency"] == "daily" and created["schedule"]["kind"] == "weekly"
    auth.sign_in(client, people.parent, people.family)
    page = client.get(f"/chores/{created['id']}/edit").get_data(as_text=True)
    assert '<option value="weekly" selected>' in page and "the schedule starts from it" not in page


# --- bad input: 400 with a `fields` entry, nothing written ---------------------------------------------------------

@pytest.mark.parametrize("body, error, field", [
    ({**STICKERS, "availability": "sometimes"},
     "availability must be one of always, date_range, weekdays, limited, seasonal", "availability"),
    ({**CASH, "value_in_cents": -1}, "value_in_cents must be between 0 and 10,000,000", "value_in_cents"),
    ({**CASH, "value_in_cents": 10_000_001}, "value_in_cents must be between 0 and 10,000,000", "value_in_cents"),
    ({**CASH, "value_in_cents": 5.5}, "Invalid request body", "value_in_cents"),
])
def test_bad_reward_values_write_nothing(api: Any, people: People, app: Any, body: dict[str, Any], error: str,
                                         field: str) -> None:
    existing = _post_reward(api, people, CASH).get_json()["id"]
    before = fingerprint(app, people.family)
    _refused(_post_reward(api, people, body), 400, error, field)
    _refused(api.put(f"/api/rewards/{existing}", json={field: body[field]}, headers=people.headers(people.parent)),
             400, error, field)
    assert fingerprint(app, people.family) == before


@pytest.mark.parametrize("frequency, status, error", [
    ("w" * 51, 400, "frequency can be at most 50 characters"),
    ("weekly\u0000", 400, None),
    ("weekly\ud800", 400, None),
])
def test_bad_frequency_writes_nothing(api: Any, people: People, app: Any, frequency: str, status: int,
                                      error: str | None) -> None:
    parent = people.headers(people.parent)
    existing = api.post("/api/chores", json={**TRASH, "assignment_type": "open"}, headers=parent).get_json()["id"]
    before = fingerprint(app, people.family)
    for response in (api.post("/api/chores", json={**TRASH, "frequency": frequency}, headers=parent),
                     api.put(f"/api/chores/{existing}", json={"frequency": frequency}, headers=parent)):
        assert response.status_code == status, response.get_data(as_text=True)
        body = response.get_json()
        assert isinstance(body.get("error"), str)
        if error is not None:
            assert body["error"] == error and "frequency" in body["fields"], body
    assert fingerprint(app, people.family) == before


def test_fifty_characters_of_frequency_are_kept(api: Any, people: People) -> None:
    text = "every other weekend, and after parties at our house"[:50]
    created = api.post("/api/chores", json={**TRASH, "frequency": text, "assignment_type": "open"},
                       headers=people.headers(people.parent))
    assert created.status_code == 201 and created.get_json()["frequency"] == text
