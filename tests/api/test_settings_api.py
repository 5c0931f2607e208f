"""The settings API: typed JSON values, private keys hidden from kids, 201 for new keys, 400 for bad values."""
from __future__ import annotations

import pytest

from tests.api.conftest import People
from tests.api.test_daily_access import refused, set_setting


def _get(api, people: People, path: str, member=None):  # noqa: ANN001, ANN202
    return api.get(path, headers=people.headers(member or people.parent))


def _put(api, people: People, key: str, body, member=None):  # noqa: ANN001, ANN202
    return api.put(f"/api/settings/{key}", json=body, headers=people.headers(member or people.parent))


def test_all_settings_as_a_flat_object_of_typed_values(api, people: People, family) -> None:  # noqa: ANN001
    body = _get(api, people, "/api/settings").get_json()

    assert body["auto_approve"] is False and body["digest_hour"] == 18 and body["currency"] == "USD"
    assert body["points_per_currency_unit"] == 100 and body["week_start"] == "monday"
    assert body["family_name"] == family.name and body["timezone"] == "UTC"
    assert body["notification_defaults"] == {} and body["achievement_bonus"] == {}


def test_kids_never_see_private_settings(api, people: People, in_family, family) -> None:  # noqa: ANN001
    set_setting(in_family, family, "smart_lock_secret", "s3cret")
    assert _put(api, people, "garage_code", {"value": 4321, "is_private": True}).status_code == 201

    as_kid = _get(api, people, "/api/settings", people.kid).get_json()
    as_parent = _get(api, people, "/api/settings").get_json()

    assert "smart_lock_secret" not in as_kid and "garage_code" not in as_kid
    assert as_parent["smart_lock_secret"] == "s3cret" and as_parent["garage_code"] == 4321
    refused(_get(api, people, "/api/settings/garage_code", people.kid), 403, "This setting is private")
    refused(_get(api, people, "/api/settings/smart_lock_secret", people.kid), 403)
    assert _get(api, people, "/api/settings/garage_code").get_json() == {"key": "garage_code", "value": 4321}


def test_one_setting(api, people: People) -> None:  # noqa: ANN001
    assert _get(api, people, "/api/settings/digest_hour", people.kid).get_json() == {"key": "digest_hour",
                                                                                       "value": 18}
    refused(_get(api, people, "/api/settings/no_such_thing"), 404, "Setting not found")


def test_put_updates_with_200_and_creates_with_201(api, people: People) -> None:  # noqa: ANN001
    updated = _put(api, people, "digest_hour", {"value": 7})
    created = _put(api, people, "chore_music", {"value": {"playlist": "Cleanup", "volume": 0.8}})
    again = _put(api, people, "chore_music", {"value": False})

    assert updated.status_code == 200
    assert updated.get_json() == {"key": "digest_hour", "message": "Setting updated successfully", "value": 7}
    assert created.status_code == 201 and created.get_json()["message"] == "Setting created successfully"
    assert again.status_code == 200 and again.get_json()["value"] is False
    assert _get(api, people, "/api/settings").get_json()["digest_hour"] == 7
    assert _get(api, people, "/api/settings/chore_music").get_json()["value"] is False


def test_values_come_back_normalised(api, people: People) -> None:  # noqa: ANN001
    assert _put(api, people, "currency", {"value": "gbp"}).get_json()["value"] == "GBP"
    assert _put(api, people, "week_start", {"value": "SUNDAY"}).get_json()["value"] == "sunday"


def test_renaming_the_family_reaches_every_page(api, people: People, family, client_for) -> None:  # noqa: ANN001
    assert _put(api, people, "family_name", {"value": "The Riveras"}).status_code == 200

    assert _get(api, people, "/api/family/info").get_json()["family_name"] == "The Riveras"


@pytest.mark.parametrize(("key", "body"), [
    ("digest_hour", {"value": 24}),
    ("digest_hour", {"value": "18"}),
    ("reminder_lead_minutes", {"value": 5000}),
    ("auto_approve", {"value": "yes"}),
    ("timezone", {"value": "Nowhere/Special"}),
    ("currency", {"value": "DOLLARS"}),
    ("achievement_bonus", {"value": {"first_chore": 5000}}),
    ("anything", {"value": None}),
    ("anything", {}),
    ("anything", {"valu": 1}),
    ("anything", []),
    ("bad key!", {"value": 1}),
    ("anything", {"value": 1, "is_private": "yes"}),
])
def test_bad_values_are_a_400(api, people: People, key: str, body) -> None:  # noqa: ANN001
    before = _get(api, people, "/api/settings").get_json()

    response = _put(api, people, key, body)

    refused(response, 400)
    assert _get(api, people, "/api/settings").get_json() == before


def test_digest_hour_24_says_why(api, people: People) -> None:  # noqa: ANN001
    refused(_put(api, people, "digest_hour", {"value": 24}), 400, "The digest hour must be a whole hour from 0 to 23")


def test_a_body_that_is_not_json_is_a_400(api, people: People) -> None:  # noqa: ANN001
    response = api.put("/api/settings/digest_hour", data="value=7", headers=people.headers(people.parent))

    refused(response, 400, "Invalid request body")


SETTINGS_ROUTES = [("GET", "/api/settings"), ("GET", "/api/settings/digest_hour"), ("PUT", "/api/settings/digest_hour")]


@pytest.mark.parametrize("who", ["anonymous", "kid", "parent", "other-family-parent"])
@pytest.mark.parametrize(("method", "path"), SETTINGS_ROUTES)
def test_who_may_read_and_write_settings(api, people: People, who: str, method: str, path: str) -> None:  # noqa: ANN001
    member = {"anonymous": None, "kid": people.kid, "parent": people.parent,
              "other-family-parent": people.stranger}[who]
    headers = people.headers(member)

    response = api.open(path, method=method, json={"value": 6} if method == "PUT" else None, headers=headers)

    if who == "anonymous":
        refused(response, 401, "Authorization header required")
    elif who == "other-family-parent":
        refused(response, 403, "Token does not belong to this family")
    elif who == "kid" and method == "PUT":
        refused(response, 403, "Only parents can update settings")
    else:
        assert response.status_code == 200, response.get_json()
