"""The users resource: exact shapes and JSON types, every rule and every bad input (a clear 4xx, never a 500)."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timezone
from typing import Any

import pytest
from sqlalchemy import select

from app.api.serializers import format_timestamp
from app.auth.models import MemberSession
from app.members.models import Member
from app.security import hash_secret, verify_secret
from tests.api.conftest import KID_PASSWORD, People

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")

USER_DETAIL_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str, "username": str, "display_name": str, "age": int, "color_theme": str, "avatar_url": str,
    "total_points": int, "weekly_points": int, "level": int, "xp": int, "streak_days": int, "last_active": str,
    "is_parent": bool, "birthdate": str, "availability_notifications": bool, "auto_approve_work": bool,
    "email": str, "phone_number": str, "school": str, "daily_goal": int, "usually_eats_dinner": bool,
    "available_points": int, "lifetime_points_earned": int, "is_active": bool, "created_at": str,
}
USER_DETAIL_OPTIONAL = {"age", "avatar_url", "birthdate", "email", "phone_number", "school"}
USER_LIST_ITEM_TYPES: dict[str, type] = {
    "id": str, "username": str, "display_name": str, "age": int, "color_theme": str, "avatar_url": str,
    "total_points": int, "weekly_points": int, "level": int, "is_parent": bool, "is_active": bool,
}
CREATED_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str, "username": str, "display_name": str, "color_theme": str, "email": (str, type(None)),
    "is_parent": bool, "login_enabled": bool, "message": str,
}
UPDATED_USER_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str, "username": str, "display_name": str, "color_theme": str, "email": (str, type(None)),
    "is_active": bool, "is_parent": bool, "login_enabled": bool,
}


def _assert_types(body: dict[str, Any], types: dict[str, Any]) -> None:
    for key, value in body.items():
        assert isinstance(value, types[key]), f"{key}={value!r}"
        if types[key] is int:
            assert not isinstance(value, bool), key


def _fill_profile(in_family, people: People) -> None:  # noqa: ANN001
    with in_family(people.family) as ctx:
        kid = ctx.session.get(Member, people.kid.id)
        kid.birthdate = date(2014, 5, 1)
        kid.avatar = "fox.png"
        kid.email = "maya@example.com"
        kid.phone_number = "+1 555 0100"
        kid.school = "Elm Street"
        kid.xp = 250
        kid.total_points = 40
        kid.last_active_at = datetime(2025, 10, 7, 15, 41, 55, 123400, tzinfo=timezone.utc)
        ctx.session.commit()


# --- shapes ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/users/me", "/api/auth/me", "/api/users/{kid}"])
def test_user_detail_with_every_optional_key(api, people: People, in_family, path: str) -> None:  # noqa: ANN001
    _fill_profile(in_family, people)
    response = api.get(path.format(kid=people.kid.id), headers=people.headers(people.kid))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == set(USER_DETAIL_TYPES)
    _assert_types(body, USER_DETAIL_TYPES)
    today = datetime.now(timezone.utc).date()  # the family lives in UTC
    assert body["age"] == today.year - 2014 - ((today.month, today.day) < (5, 1))
    assert body["birthdate"] == "2014-05-01T00:00:00Z"
    assert body["last_active"] == "2025-10-07T15:41:55.1234Z"
    assert (body["level"], body["xp"], body["total_points"]) == (3, 250, 40)
    assert (body["avatar_url"], body["color_theme"], body["school"]) == ("fox.png", "#3498db", "Elm Street")
    assert TIMESTAMP.match(body["created_at"])


def test_user_detail_leaves_out_null_keys(api, people: People) -> None:  # noqa: ANN001
    body = api.get("/api/users/me", headers=people.headers(people.sibling)).get_json()
    assert set(body) == set(USER_DETAIL_TYPES) - USER_DETAIL_OPTIONAL
    _assert_types(body, USER_DETAIL_TYPES)
    # Never signed in: last_active falls back to when the member was added, not null.
    assert body["last_active"] == body["created_at"] and TIMESTAMP.match(body["last_active"])
    assert body["id"] == str(people.sibling.id) and body["is_parent"] is False and body["is_active"] is True


@pytest.mark.parametrize("moment, text", [
    (datetime(2025, 10, 15, 23, 59, 59, tzinfo=timezone.utc), "2025-10-15T23:59:59Z"),
    (datetime(2025, 10, 7, 15, 41, 55, 123456, tzinfo=timezone.utc), "2025-10-07T15:41:55.123456Z"),
    (datetime(2025, 10, 7, 15, 41, 55, 500000, tzinfo=timezone.utc), "2025-10-07T15:41:55.5Z"),
    (datetime.fromisoformat("2025-10-07T17:41:55+02:00"), "2025-10-07T15:41:55Z"),
])
def test_timestamps_are_utc_rfc3339_with_z(moment: datetime, text: str) -> None:
    assert format_timestamp(moment) == text


def test_list_users_shape_order_and_scope(api, people: People, create_member, in_family) -> None:  # noqa: ANN001
    create_member(username="zed", display_name="Aaron Second Parent", role="parent")
    create_member(username="gone", display_name="Gone Kid", is_active=False)
    _fill_profile(in_family, people)
    response = api.get("/api/users", headers=people.headers(people.kid))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"count", "family_id", "family_name", "users"}
    assert (body["family_id"], body["family_name"]) == (str(people.family.id), people.family.name)
    names = [user["display_name"] for user in body["users"]]
    assert names == ["Aaron Second Parent", "Mom", "Leo", "Maya"]  # parents first, then by name; no inactive
    assert body["count"] == 4
    for user in body["users"]:
        assert set(user) <= set(USER_LIST_ITEM_TYPES)
        assert set(USER_LIST_ITEM_TYPES) - set(user) <= {"age", "avatar_url"}
        _assert_types(user, USER_LIST_ITEM_TYPES)
    maya = next(user for user in body["users"] if user["username"] == "maya")
    assert set(maya) == set(USER_LIST_ITEM_TYPES) and maya["avatar_url"] == "fox.png" and maya["level"] == 3
    assert "Stranger" not in str(body)


# --- create ---------------------------------------------------------------------------------------------------

def test_create_user_minimal(api, people: People, load_member, audit_rows) -> None:  # noqa: ANN001
    response = api.post("/api/users", json={"username": "NewKid", "display_name": "New Kid"},
                        headers=people.headers(people.parent))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == set(CREATED_TYPES)
    _assert_types(body, CREATED_TYPES)
    assert body == {"id": body["id"], "username": "NewKid", "display_name": "New Kid", "color_theme": "#3498db",
                    "email": None, "is_parent": False, "login_enabled": False,
                    "message": "User created successfully"}
    stored = load_member(uuid.UUID(body["id"]))
    assert stored.role == "child" and stored.created_by == people.parent.id and stored.password_hash is None
    added = audit_rows("member.added")
    assert len(added) == 1 and added[0].target_id == body["id"] and added[0].actor_member_id == people.parent.id


def test_create_user_with_everything_can_then_sign_in(api, people: People, load_member) -> None:  # noqa: ANN001
    response = api.post("/api/users", headers=people.headers(people.parent), json={
        "username": "dad", "display_name": "Dad", "is_parent": True, "email": "Dad@Example.com",
        "color_theme": "#00AA00", "login_enabled": True, "password": "a long enough passphrase", "pin": "4321",
        "birthdate": "1980-02-29"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["is_parent"], body["login_enabled"], body["email"], body["color_theme"]) == (
        True, True, "dad@example.com", "#00aa00")
    stored = load_member(uuid.UUID(body["id"]))
    assert stored.birthdate == date(1980, 2, 29) and verify_secret(stored.pin_hash, "4321")
    login = api.post("/api/auth/login", json={"username": "dad", "password": "a long enough passphrase"})
    assert login.status_code == 200 and login.get_json()["is_parent"] is True


@pytest.mark.parametrize("body, status, error, field", [
    ({"display_name": "No Name"}, 400, "Invalid request body", "username"),
    ({"username": "x1", "display_name": ""}, 400, "Invalid request body", "display_name"),
    ({"username": 12, "display_name": "Kid"}, 400, "Invalid request body", "username"),
    ({"username": "kid2", "display_name": "Kid", "is_parent": "yes"}, 400, "Invalid request body", "is_parent"),
    ({"username": "kid2", "display_name": "Kid", "birthdate": 2015}, 400, "Invalid request body", "birthdate"),
    ({"username": "MAYA", "display_name": "Maya Again"}, 409, "Username already exists", "username"),
    ({"username": "kid2", "display_name": "Kid", "password": "short"}, 400, None, "password"),
    ({"username": "kid2", "display_name": "Kid", "password": "password123"}, 400, None, "password"),
    ({"username": "kid2", "display_name": "Kid", "pin": "12"}, 400, "PINs are 4 to 6 digits", "pin"),
    ({"username": "kid2", "display_name": "Kid", "color_theme": "blue"}, 400, None, "color_theme"),
    ({"username": "kid2", "display_name": "Kid", "birthdate": "2015-13-40"}, 400, None, "birthdate"),
    ({"username": "kid2", "display_name": "Kid", "birthdate": "2999-01-01"}, 400, None, "birthdate"),
    ({"username": "kid2", "display_name": "Kid", "email": "not-an-email"}, 400, None, "email"),
    ({"username": "kid2", "display_name": "Kid", "email": "a@b.co" + "m" * 300}, 400, None, "email"),
    ({"username": "bad name!", "display_name": "Kid"}, 400, None, "username"),
    ({"username": "kid2", "display_name": "K" * 81}, 400, None, "display_name"),
])
def test_create_user_refusals(api, people: People, body: dict, status: int, error: str | None,  # noqa: ANN001
                              field: str) -> None:
    response = api.post("/api/users", json=body, headers=people.headers(people.parent))
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert isinstance(answer["error"], str) and (error is None or answer["error"] == error)
    assert field in answer["fields"]
    listed = api.get("/api/users", headers=people.headers(people.parent)).get_json()
    assert listed["count"] == 3  # nothing was added


@pytest.mark.parametrize("data", ["not json", "[1, 2]", ""])
def test_create_user_needs_a_json_object(api, people: People, data: str) -> None:  # noqa: ANN001
    response = api.post("/api/users", data=data, content_type="application/json",
                        headers=people.headers(people.parent))
    assert response.status_code == 400 and response.get_json()["error"] == "Invalid request body"


def test_a_kid_is_refused_before_the_body_is_read(api, people: People) -> None:  # noqa: ANN001
    response = api.post("/api/users", data="garbage", headers=people.headers(people.kid))
    assert response.status_code == 403 and response.get_json() == {"error": "Only parents can create users"}


def test_the_free_plan_limits_kids(api, people: People) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    for n in range(3):  # maya and leo already: five kids in all
        assert api.post("/api/users", json={"username": f"kid{n}", "display_name": f"Kid {n}"},
                        headers=headers).status_code == 201
    response = api.post("/api/users", json={"username": "kid9", "display_name": "One Too Many"}, headers=headers)
    assert response.status_code == 403 and "free plan" in response.get_json()["error"]


# --- own profile and preferences --------------------------------------------------------------------------------

def test_patch_me_updates_the_profile(api, people: People) -> None:  # noqa: ANN001
    headers = people.headers(people.kid)
    response = api.patch("/api/users/me", headers=headers, json={
        "display_name": "Maya R", "color_theme": "#112233", "avatar_url": "owl.png", "phone_number": "555",
        "birthdate": "2015-06-30", "daily_goal": 5, "usually_eats_dinner": False,
        "availability_notifications": False, "email": "MAYA@example.com", "school": None, "ignored": 1})
    assert response.status_code == 200
    assert response.get_json() == {"message": "Profile updated successfully", "updated_fields": 9}
    me = api.get("/api/users/me", headers=headers).get_json()
    assert (me["display_name"], me["color_theme"], me["avatar_url"], me["phone_number"]) == (
        "Maya R", "#112233", "owl.png", "555")
    assert (me["birthdate"], me["daily_goal"], me["usually_eats_dinner"], me["availability_notifications"],
            me["email"]) == ("2015-06-30T00:00:00Z", 5, False, False, "maya@example.com")


@pytest.mark.parametrize("body", [{}, {"display_name": None, "email": None}, {"unknown": "x"}])
def test_patch_me_with_nothing_to_do(api, people: People, body: dict) -> None:  # noqa: ANN001
    response = api.patch("/api/users/me", json=body, headers=people.headers(people.kid))
    assert response.status_code == 400 and response.get_json() == {"error": "No fields to update"}


def test_a_kid_cannot_grant_themselves_auto_approval(api, people: People, load_member) -> None:  # noqa: ANN001
    response = api.patch("/api/users/me", json={"auto_approve_work": True, "display_name": "Sneaky"},
                         headers=people.headers(people.kid))
    assert response.status_code == 403 and "error" in response.get_json()
    stored = load_member(people.kid.id)
    assert stored.auto_approve_work is False and stored.display_name == "Maya"


def test_a_parent_can_set_their_own_auto_approval(api, people: People, load_member) -> None:  # noqa: ANN001
    response = api.patch("/api/users/me", json={"auto_approve_work": True}, headers=people.headers(people.parent))
    assert response.status_code == 200 and load_member(people.parent.id).auto_approve_work is True


@pytest.mark.parametrize("body, field", [
    ({"phone_number": "5" * 33}, "phone_number"),
    ({"avatar_url": "a" * 256}, "avatar_url"),
    ({"email": "e" * 250 + "@x.io"}, "email"),
    ({"daily_goal": "five"}, "daily_goal"),
    ({"daily_goal": 2.5}, "daily_goal"),
    ({"daily_goal": True}, "daily_goal"),
    ({"daily_goal": -1}, "daily_goal"),
    ({"usually_eats_dinner": "no"}, "usually_eats_dinner"),
    ({"display_name": 7}, "display_name"),
    ({"display_name": "   "}, "display_name"),
    ({"birthdate": "yesterday"}, "birthdate"),
    ({"birthdate": ["2015-01-01"]}, "birthdate"),
    ({"color_theme": "#12345"}, "color_theme"),
])
def test_patch_me_bad_values_are_400(api, people: People, load_member, body: dict,  # noqa: ANN001
                                     field: str) -> None:
    response = api.patch("/api/users/me", json=body, headers=people.headers(people.kid))
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["fields"]
    assert load_member(people.kid.id).display_name == "Maya"


def test_patch_me_needs_a_json_object(api, people: People) -> None:  # noqa: ANN001
    response = api.patch("/api/users/me", data="display_name=x", headers=people.headers(people.kid))
    assert response.status_code == 400 and response.get_json()["error"] == "Invalid request body"


def test_preferences_are_replaced_and_read_back(api, people: People) -> None:  # noqa: ANN001
    headers = people.headers(people.kid)
    assert api.get("/api/users/me/preferences", headers=headers).get_json() == {"preferences": {}}
    first = api.put("/api/users/me/preferences", json={"preferences": {"theme": "dark", "sound": True}},
                    headers=headers)
    assert first.status_code == 200 and first.get_json() == {"message": "Preferences updated successfully"}
    api.put("/api/users/me/preferences", json={"preferences": {"layout": {"cols": 2}}}, headers=headers)
    assert api.get("/api/users/me/preferences", headers=headers).get_json() == {"preferences": {"layout": {"cols": 2}}}
    # Each member has their own.
    assert api.get("/api/users/me/preferences", headers=people.headers(people.parent)).get_json() == {
        "preferences": {}}
    assert api.put("/api/users/me/preferences", json={"preferences": {}}, headers=headers).status_code == 200
    assert api.get("/api/users/me/preferences", headers=headers).get_json() == {"preferences": {}}


@pytest.mark.parametrize("body", [{}, {"preferences": None}, {"preferences": [1]}, {"preferences": "dark"},
                                  {"theme": "dark"}, [], {"preferences": {"blob": "x" * 70_000}}])
def test_preferences_must_be_an_object(api, people: People, load_member, body: Any) -> None:  # noqa: ANN001
    response = api.put("/api/users/me/preferences", json=body, headers=people.headers(people.kid))
    assert response.status_code == 400 and "error" in response.get_json()
    assert not load_member(people.kid.id).preferences


# --- one member -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, bad_id", [
    (method, bad_id) for method in ("GET", "PUT", "DELETE") for bad_id in ("not-a-uuid", "123", "me")
    if (method, bad_id) != ("GET", "me")  # GET /api/users/me is its own route
])
def test_bad_ids_are_400(api, people: People, method: str, bad_id: str) -> None:  # noqa: ANN001
    response = api.open(f"/api/users/{bad_id}", method=method, json={"display_name": "X"},
                        headers=people.headers(people.parent))
    assert response.status_code == 400 and response.get_json() == {"error": "Invalid user ID format"}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_ids_are_404(api, people: People, method: str) -> None:  # noqa: ANN001
    response = api.open(f"/api/users/{uuid.uuid4()}", method=method, json={"display_name": "X"},
                        headers=people.headers(people.parent))
    assert response.status_code == 404 and response.get_json() == {"error": "User not found"}


def test_an_inactive_member_is_not_found_when_read(api, people: People, create_member) -> None:  # noqa: ANN001
    gone = create_member(username="gone", display_name="Gone", is_active=False)
    response = api.get(f"/api/users/{gone.id}", headers=people.headers(people.parent))
    assert response.status_code == 404


def test_kids_read_only_themselves(api, people: People) -> None:  # noqa: ANN001
    headers = people.headers(people.kid)
    assert api.get(f"/api/users/{people.kid.id}", headers=headers).status_code == 200
    refused = api.get(f"/api/users/{people.sibling.id}", headers=headers)
    assert refused.status_code == 403 and refused.get_json() == {"error": "Children can only view their own profile"}
    # Unknown ids say the same, so a kid cannot probe which ids exist.
    assert api.get(f"/api/users/{uuid.uuid4()}", headers=headers).status_code == 403


def test_wrong_methods_are_json_405(api, people: People) -> None:  # noqa: ANN001
    response = api.patch(f"/api/users/{people.kid.id}", json={}, headers=people.headers(people.parent))
    assert response.status_code == 405 and response.get_json() == {"error": "Method not allowed"}


# --- a parent updates a member --------------------------------------------------------------------------------

def test_update_user_shape_and_fields(api, people: People, load_member) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.kid.id}", headers=people.headers(people.parent), json={
        "username": "MayaR", "display_name": "Maya R", "email": "m@example.com", "color_theme": "#ABCDEF",
        "login_enabled": True, "availability_notifications": False, "auto_approve_work": True,
        "phone_number": "555", "school": "Oak", "notes": "likes dogs", "daily_goal": 3,
        "usually_eats_dinner": False})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"message", "user"} and body["message"] == "User updated successfully"
    assert set(body["user"]) == set(UPDATED_USER_TYPES)
    _assert_types(body["user"], UPDATED_USER_TYPES)
    assert body["user"] == {"id": str(people.kid.id), "username": "MayaR", "display_name": "Maya R",
                            "color_theme": "#abcdef", "email": "m@example.com", "is_active": True,
                            "is_parent": False, "login_enabled": True}
    stored = load_member(people.kid.id)
    assert (stored.school, stored.notes, stored.daily_goal, stored.auto_approve_work, stored.updated_by) == (
        "Oak", "likes dogs", 3, True, people.parent.id)


def test_update_user_email_null_stays_null_in_the_body(api, people: People) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.sibling.id}", json={"display_name": "Leo B"},
                       headers=people.headers(people.parent))
    assert response.status_code == 200 and response.get_json()["user"]["email"] is None


@pytest.mark.parametrize("body, status, field", [
    ({"username": "MOM"}, 409, "username"),
    ({"username": "no spaces allowed"}, 400, "username"),
    ({"school": "s" * 121}, 400, "school"),
    ({"notes": "n" * 1001}, 400, "notes"),
    ({"is_parent": "true"}, 400, "is_parent"),
    ({"is_active": 1}, 400, "is_active"),
    ({"password": "short"}, 400, "password"),
    ({"pin": "abcd"}, 400, "pin"),
    ({"color_theme": "red"}, 400, "color_theme"),
    ({"daily_goal": 10_001}, 400, "daily_goal"),
])
def test_update_user_refusals_change_nothing(api, people: People, load_member, body: dict, status: int,  # noqa: ANN001
                                             field: str) -> None:
    response = api.put(f"/api/users/{people.kid.id}", json={"display_name": "Changed", **body},
                       headers=people.headers(people.parent))
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["fields"]
    assert load_member(people.kid.id).display_name == "Maya"


@pytest.mark.parametrize("body", [{}, {"display_name": None}, {"unknown": 1}])
def test_update_user_with_nothing_to_do(api, people: People, body: dict) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.kid.id}", json=body, headers=people.headers(people.parent))
    assert response.status_code == 400 and response.get_json() == {"error": "No fields to update"}


def test_update_user_needs_a_json_object(api, people: People) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.kid.id}", data="x", headers=people.headers(people.parent))
    assert response.status_code == 400 and response.get_json()["error"] == "Invalid request body"


def test_role_changes_are_audited(api, people: People, load_member, audit_rows) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.kid.id}", json={"is_parent": True}, headers=people.headers(people.parent))
    assert response.status_code == 200 and response.get_json()["user"]["is_parent"] is True
    assert load_member(people.kid.id).role == "parent"
    changed = audit_rows("member.role_changed")
    assert len(changed) == 1 and changed[0].target_id == str(people.kid.id)
    assert changed[0].details == {"old_role": "child", "new_role": "parent"}
    # Setting the role it already has is not a change.
    api.put(f"/api/users/{people.kid.id}", json={"is_parent": True}, headers=people.headers(people.parent))
    assert len(audit_rows("member.role_changed")) == 1


def test_a_parent_cannot_change_their_own_role(api, people: People, load_member) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.parent.id}", json={"is_parent": False},
                       headers=people.headers(people.parent))
    assert response.status_code == 403 and load_member(people.parent.id).role == "parent"


def test_promotions_respect_the_plan(api, people: People, create_member, load_member) -> None:  # noqa: ANN001
    create_member(username="dad", display_name="Dad", role="parent")  # the free plan's second parent
    response = api.put(f"/api/users/{people.kid.id}", json={"is_parent": True}, headers=people.headers(people.parent))
    assert response.status_code == 403 and "free plan" in response.get_json()["error"]
    assert load_member(people.kid.id).role == "child"


def test_deactivate_and_reactivate_through_put(api, people: People, load_member, audit_rows) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    kid_headers = people.headers(people.kid)
    off = api.put(f"/api/users/{people.kid.id}", json={"is_active": False}, headers=headers)
    assert off.status_code == 200 and off.get_json()["user"]["is_active"] is False
    assert api.get("/api/users/me", headers=kid_headers).status_code == 401
    assert api.get(f"/api/users/{people.kid.id}", headers=headers).status_code == 404
    on = api.put(f"/api/users/{people.kid.id}", json={"is_active": True}, headers=headers)
    assert on.status_code == 200
    assert (on.get_json()["user"]["is_active"], on.get_json()["user"]["login_enabled"]) == (True, True)
    assert api.get("/api/users/me", headers=kid_headers).status_code == 401  # deactivation revoked the old token
    assert api.get("/api/users/me", headers=people.headers(load_member(people.kid.id))).status_code == 200
    assert [row.action for row in audit_rows() if row.action.startswith("member.")] == [
        "member.removed", "member.reactivated"]


def test_reactivation_respects_the_plan(api, people: People, create_member, load_member) -> None:  # noqa: ANN001
    gone = create_member(username="gone", display_name="Gone", is_active=False)
    for n in range(3):
        create_member(username=f"kid{n}", display_name=f"Kid {n}")
    response = api.put(f"/api/users/{gone.id}", json={"is_active": True}, headers=people.headers(people.parent))
    assert response.status_code == 403 and "free plan" in response.get_json()["error"]
    assert load_member(gone.id).is_active is False


def test_a_parent_cannot_deactivate_themselves_through_put(api, people: People) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.parent.id}", json={"is_active": False},
                       headers=people.headers(people.parent))
    assert response.status_code == 400 and response.get_json() == {"error": "Cannot delete your own account"}


def test_a_parent_resets_a_kids_password_and_pin(api, people: People, load_member, audit_rows) -> None:  # noqa: ANN001
    response = api.put(f"/api/users/{people.kid.id}", json={"password": "brand new passphrase", "pin": "9876"},
                       headers=people.headers(people.parent))
    assert response.status_code == 200
    assert verify_secret(load_member(people.kid.id).pin_hash, "9876")
    assert api.post("/api/auth/login", json={"username": "maya", "password": KID_PASSWORD}).status_code == 401
    assert api.post("/api/auth/login", json={"username": "maya", "password": "brand new passphrase"}
                    ).status_code == 200
    reset = audit_rows("member.credentials_reset")
    assert len(reset) == 1 and reset[0].details == {"changed": ["password", "pin"]}
    assert "9876" not in str(reset[0].details)


# --- a parent removes a member --------------------------------------------------------------------------------

def test_delete_user_is_soft_and_idempotent(api, people: People, load_member, audit_rows,  # noqa: ANN001
                                            in_family) -> None:  # noqa: ANN001
    # The kid is signed in on a page too: removing them ends that session at once.
    page_client = api.application.test_client()
    page_client.host = api.host
    people.auth.sign_in(page_client, people.kid, people.family)
    headers = people.headers(people.parent)
    response = api.delete(f"/api/users/{people.kid.id}", headers=headers)
    assert response.status_code == 200 and response.get_json() == {"message": "User deleted successfully"}
    stored = load_member(people.kid.id)
    assert (stored.is_active, stored.login_enabled, stored.updated_by) == (False, False, people.parent.id)
    with in_family(people.family) as ctx:
        sessions = list(ctx.session.scalars(select(MemberSession).where(MemberSession.member_id == people.kid.id)))
        assert sessions and all(record.revoked_at is not None for record in sessions)
    listed = api.get("/api/users", headers=headers).get_json()
    assert str(people.kid.id) not in {user["id"] for user in listed["users"]}
    assert api.get(f"/api/users/{people.kid.id}", headers=headers).status_code == 404
    again = api.delete(f"/api/users/{people.kid.id}", headers=headers)
    assert again.status_code == 200 and again.get_json() == {"message": "User deleted successfully"}
    assert len(audit_rows("member.removed")) == 1


def test_a_parent_cannot_delete_themselves(api, people: People, load_member) -> None:  # noqa: ANN001
    response = api.delete(f"/api/users/{people.parent.id}", headers=people.headers(people.parent))
    assert response.status_code == 400 and response.get_json() == {"error": "Cannot delete your own account"}
    assert load_member(people.parent.id).is_active is True


def test_a_kid_cannot_delete_anyone(api, people: People, load_member) -> None:  # noqa: ANN001
    response = api.delete(f"/api/users/{people.sibling.id}", headers=people.headers(people.kid))
    assert response.status_code == 403 and response.get_json() == {"error": "Only parents can delete users"}
    assert load_member(people.sibling.id).is_active is True


def test_another_parent_can_be_removed_but_not_with_a_kids_token(api, people: People,  # noqa: ANN001
                                                                  create_member) -> None:  # noqa: ANN001
    dad = create_member(username="dad", display_name="Dad", role="parent", password_hash=hash_secret("x" * 12))
    assert api.delete(f"/api/users/{dad.id}", headers=people.headers(people.kid)).status_code == 403
    assert api.delete(f"/api/users/{dad.id}", headers=people.headers(people.parent)).status_code == 200
