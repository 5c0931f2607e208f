"""The presence calendar over the API: /api/schedule rows (the contract's keys), patterns, exceptions, bad input."""
from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db.bases import utcnow
from app.presence.models import PresenceException, PresencePattern
from tests.api.conftest import People
from tests.api.test_daily_access import DATE, TIMESTAMP, assert_shape, refused

ROW_TYPES: dict[str, Any] = {
    "id": str, "date": str, "weekday": str, "day_type": str, "presence_data": dict, "kids_present": list,
    "total_kids_present": int, "notes": str, "transition_time": str, "transition_type": str, "created_at": str,
    "updated_at": str,
}
ROW_OPTIONAL = {"presence_data", "notes", "transition_time", "transition_type"}
PATTERN_TYPES: dict[str, Any] = {
    "id": str, "user_id": str, "kind": str, "weekdays": list, "anchor_date": str, "present": bool,
    "transition_time": str, "label": str, "created_at": str, "updated_at": str,
}
EXCEPTION_TYPES: dict[str, Any] = {
    "id": str, "user_id": str, "start_date": str, "end_date": str, "present": bool, "transition_time": str,
    "note": str, "created_at": str, "updated_at": str,
}


def _schedule(api, people: People, query: str = "") -> Any:  # noqa: ANN001
    return api.get(f"/api/schedule{query}", headers=people.headers(people.kid))


def _by_date(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["date"]: row for row in body["schedule"]}


# --- /api/schedule -------------------------------------------------------------------------------------------------

def test_default_range_and_shape(api, people: People) -> None:  # noqa: ANN001
    response = _schedule(api, people)
    assert response.status_code == 200
    body = response.get_json()
    today = utcnow().date()  # the test family lives in UTC
    assert set(body) == {"start_date", "end_date", "schedule", "total_days"}
    assert (body["start_date"], body["end_date"], body["total_days"]) == (
        today.isoformat(), (today + timedelta(days=30)).isoformat(), 31)
    assert [row["date"] for row in body["schedule"]] == [(today + timedelta(days=n)).isoformat() for n in range(31)]
    for row in body["schedule"]:
        assert_shape(row, ROW_TYPES, ROW_OPTIONAL)
        day = date.fromisoformat(row["date"])
        assert row["id"] == str(uuid.uuid5(people.family.id, row["date"]))
        assert row["weekday"] == day.strftime("%A")
        assert row["day_type"] == ("weekend" if day.weekday() >= 5 else "weekday")
        assert row["presence_data"] == {"Mom": True, "leo": True, "maya": True}
        assert row["kids_present"] == ["leo", "maya"] and row["total_kids_present"] == 2  # kids only
        assert not {"notes", "transition_time", "transition_type"} & set(row)
        assert TIMESTAMP.match(row["created_at"]) and row["created_at"] == row["updated_at"]
    assert _schedule(api, people).get_json()["schedule"][0]["id"] == body["schedule"][0]["id"]  # stable


def test_row_ids_differ_between_families(api, people: People, client_for, auth) -> None:  # noqa: ANN001
    mine = _schedule(api, people, "?start_date=2030-01-01&days=1").get_json()["schedule"][0]["id"]
    theirs = client_for(people.other_family).get("/api/schedule?start_date=2030-01-01&days=1",
                                                 headers=auth.bearer(people.stranger, people.other_family))
    assert theirs.get_json()["schedule"][0]["id"] != mine


def test_presence_transitions_and_notes(api, people: People, in_family) -> None:  # noqa: ANN001
    parent_h = people.headers(people.parent)
    pattern = api.post("/api/presence/patterns", headers=parent_h, json={
        "user_id": str(people.kid.id), "kind": "alternate_weeks", "weekdays": [4, 5, 6], "anchor_date": "2030-01-04",
        "present": False, "transition_time": "18:00", "label": "Dad's weekend"}).get_json()
    camp = api.post("/api/presence/exceptions", headers=parent_h, json={
        "user_id": str(people.sibling.id), "start_date": "2030-01-16", "end_date": "2030-01-17",
        "transition_time": "09:00", "note": "Camp"}).get_json()
    body = _schedule(api, people, "?start_date=2030-01-01&end_date=2030-01-31").get_json()
    assert (body["start_date"], body["end_date"], body["total_days"]) == ("2030-01-01", "2030-01-31", 31)
    rows = _by_date(body)

    def summary(day: str) -> tuple[Any, ...]:
        row = rows[day]
        return (row["day_type"], row["kids_present"], row.get("transition_type"), row.get("transition_time"),
                row.get("notes"))

    assert summary("2030-01-03") == ("weekday", ["leo", "maya"], None, None, None)
    assert summary("2030-01-04") == ("transition", ["leo"], "departure", "18:00:00", None)  # Maya leaves Friday
    assert summary("2030-01-05") == ("weekend", ["leo"], None, None, None)
    assert summary("2030-01-07") == ("transition", ["leo", "maya"], "arrival", "18:00:00", None)
    assert summary("2030-01-11") == ("weekday", ["leo", "maya"], None, None, None)  # the other parent's week
    assert summary("2030-01-16") == ("transition", ["maya"], "departure", "09:00:00", "Leo: Camp")
    assert summary("2030-01-17") == ("weekday", ["maya"], None, None, "Leo: Camp")
    assert summary("2030-01-18") == ("transition", ["leo"], "mixed", "09:00:00", None)  # Leo back, Maya leaves
    assert rows["2030-01-05"]["presence_data"] == {"Mom": True, "leo": True, "maya": False}
    assert rows["2030-01-05"]["total_kids_present"] == 1
    # Timestamps: the rules that speak for the day, else the family's first rule.
    assert (rows["2030-01-05"]["created_at"], rows["2030-01-05"]["updated_at"]) == (pattern["created_at"],
                                                                                    pattern["updated_at"])
    assert rows["2030-01-16"]["updated_at"] == camp["updated_at"]
    assert rows["2030-01-09"]["created_at"] == rows["2030-01-09"]["updated_at"] == pattern["created_at"]


@pytest.mark.parametrize("query, start, end", [
    ("?start_date=2030-02-01", "2030-02-01", "2030-03-03"),
    ("?start_date=2030-02-01&days=1", "2030-02-01", "2030-02-02"),
    ("?start_date=2030-02-01&days=366", "2030-02-01", "2031-02-02"),
    ("?start_date=2030-02-01&end_date=2030-02-01", "2030-02-01", "2030-02-01"),
    ("?start_date=2030-02-01&end_date=2030-02-10&days=2", "2030-02-01", "2030-02-10"),  # end_date wins
])
def test_ranges(api, people: People, query: str, start: str, end: str) -> None:  # noqa: ANN001
    body = _schedule(api, people, query).get_json()
    assert (body["start_date"], body["end_date"]) == (start, end)
    assert body["total_days"] == len(body["schedule"]) == (date.fromisoformat(end) - date.fromisoformat(start)).days + 1


@pytest.mark.parametrize("query, error", [
    ("?start_date=2030-13-01", "Invalid start_date format. Use YYYY-MM-DD"),
    ("?start_date=tomorrow", "Invalid start_date format. Use YYYY-MM-DD"),
    ("?start_date=", "Invalid start_date format. Use YYYY-MM-DD"),
    ("?start_date=2030-1-5", "Invalid start_date format. Use YYYY-MM-DD"),
    ("?start_date=2030-01-01&end_date=2030-02-30", "Invalid end_date format. Use YYYY-MM-DD"),
    ("?end_date=", "Invalid end_date format. Use YYYY-MM-DD"),
    ("?start_date=2030-02-01&end_date=2030-01-01", "end_date is before start_date"),
    ("?start_date=2030-01-01&end_date=2031-06-01", "The range can be at most 366 days"),
    ("?start_date=9999-12-31", "start_date must be between 1900-01-01 and 2999-12-31"),
    ("?start_date=0001-01-01", "start_date must be between 1900-01-01 and 2999-12-31"),
    ("?days=0", "Invalid days. Use a whole number from 1 to 366"),
    ("?days=367", "Invalid days. Use a whole number from 1 to 366"),
    ("?days=-3", "Invalid days. Use a whole number from 1 to 366"),
    ("?days=1.5", "Invalid days. Use a whole number from 1 to 366"),
    ("?days=abc", "Invalid days. Use a whole number from 1 to 366"),
    ("?days=", "Invalid days. Use a whole number from 1 to 366"),
    ("?days=99999999999999999999", "Invalid days. Use a whole number from 1 to 366"),
])
def test_bad_schedule_queries(api, people: People, query: str, error: str) -> None:  # noqa: ANN001
    refused(_schedule(api, people, query), 400, error)


# --- patterns and exceptions ---------------------------------------------------------------------------------------

def test_patterns_create_list_and_delete(api, people: People) -> None:  # noqa: ANN001
    parent_h = people.headers(people.parent)
    response = api.post("/api/presence/patterns", headers=parent_h,
                        json={"user_id": str(people.kid.id), "weekdays": [6, 5, 5]})
    assert response.status_code == 201
    created = response.get_json()
    assert_shape(created, PATTERN_TYPES, {"transition_time", "label"})
    assert (created["kind"], created["weekdays"], created["present"], created["anchor_date"]) == (
        "weekly", [5, 6], True, utcnow().date().isoformat())
    api.post("/api/presence/patterns", headers=parent_h,
             json={"user_id": str(people.sibling.id), "weekdays": [0], "present": False, "label": "Swim club"})
    listed = api.get("/api/presence/patterns", headers=people.headers(people.kid)).get_json()
    assert set(listed) == {"patterns", "count"} and listed["count"] == 2
    assert [p["user_id"] for p in listed["patterns"]] == [str(people.kid.id), str(people.sibling.id)]
    only_leo = api.get(f"/api/presence/patterns?user_id={people.sibling.id}", headers=parent_h).get_json()
    assert [p["label"] for p in only_leo["patterns"]] == ["Swim club"]
    deleted = api.delete(f"/api/presence/rules/{created['id']}", headers=parent_h)
    assert deleted.status_code == 200
    assert deleted.get_json() == {"id": created["id"], "message": "Presence rule deleted"}
    refused(api.delete(f"/api/presence/rules/{created['id']}", headers=parent_h), 404, "Presence rule not found")
    assert api.get("/api/presence/patterns", headers=parent_h).get_json()["count"] == 1


def test_exceptions_create_filter_and_delete(api, people: People) -> None:  # noqa: ANN001
    parent_h = people.headers(people.parent)
    one_day = api.post("/api/presence/exceptions", headers=parent_h,
                       json={"user_id": str(people.kid.id), "start_date": "2030-03-10"})
    assert one_day.status_code == 201
    body = one_day.get_json()
    assert_shape(body, EXCEPTION_TYPES, {"transition_time", "note"})
    assert (body["start_date"], body["end_date"], body["present"]) == ("2030-03-10", "2030-03-10", False)
    assert DATE.match(body["start_date"])
    api.post("/api/presence/exceptions", headers=parent_h, json={
        "user_id": str(people.sibling.id), "start_date": "2030-04-01", "end_date": "2030-04-05", "present": True,
        "note": "Home for Easter", "transition_time": "17:30"})
    listed = api.get("/api/presence/exceptions", headers=people.headers(people.kid)).get_json()
    assert set(listed) == {"exceptions", "count"} and listed["count"] == 2
    april = api.get("/api/presence/exceptions?start_date=2030-04-05&end_date=2030-12-31", headers=parent_h).get_json()
    assert [(e["note"], e["transition_time"]) for e in april["exceptions"]] == [("Home for Easter", "17:30:00")]
    march = api.get(f"/api/presence/exceptions?user_id={people.kid.id}&end_date=2030-03-10",
                    headers=parent_h).get_json()
    assert [e["id"] for e in march["exceptions"]] == [body["id"]]
    assert api.delete(f"/api/presence/rules/{body['id']}", headers=parent_h).status_code == 200
    assert api.get("/api/presence/exceptions", headers=parent_h).get_json()["count"] == 1


@pytest.mark.parametrize("path, body, status, error", [
    ("patterns", {"weekdays": [1]}, 400, "Invalid request body"),
    ("patterns", {"user_id": "{kid}"}, 400, "Invalid request body"),
    ("patterns", {"user_id": "{kid}", "weekdays": []}, 400, "Pick weekdays between 0 (Monday) and 6 (Sunday)"),
    ("patterns", {"user_id": "{kid}", "weekdays": [7]}, 400, "Pick weekdays between 0 (Monday) and 6 (Sunday)"),
    ("patterns", {"user_id": "{kid}", "weekdays": ["mon"]}, 400, "weekdays are numbers 0 (Monday) to 6 (Sunday)"),
    ("patterns", {"user_id": "{kid}", "weekdays": [True]}, 400, "weekdays are numbers 0 (Monday) to 6 (Sunday)"),
    ("patterns", {"user_id": "{kid}", "weekdays": 3}, 400, "Invalid request body"),
    ("patterns", {"user_id": "{kid}", "weekdays": [1], "kind": "monthly"}, 400,
     "kind must be one of weekly, alternate_weeks"),
    ("patterns", {"user_id": "{kid}", "weekdays": [1], "anchor_date": "2030-02-30"}, 400,
     "Invalid anchor_date format. Use YYYY-MM-DD"),
    ("patterns", {"user_id": "{kid}", "weekdays": [1], "transition_time": "25:00"}, 400, "Times look like 18:00"),
    ("patterns", {"user_id": "{kid}", "weekdays": [1], "present": "no"}, 400, "Invalid request body"),
    ("patterns", {"user_id": "nope", "weekdays": [1]}, 400, "Invalid user_id format"),
    ("patterns", {"user_id": "{unknown}", "weekdays": [1]}, 404, "User not found"),
    ("patterns", {"user_id": "{stranger_kid}", "weekdays": [1]}, 404, "User not found"),
    ("exceptions", {"user_id": "{kid}"}, 400, "Invalid request body"),
    ("exceptions", {"user_id": "{kid}", "start_date": "soon"}, 400, "Invalid start_date format. Use YYYY-MM-DD"),
    ("exceptions", {"user_id": "{kid}", "start_date": "2030-01-05", "end_date": "2030-01-01"}, 400,
     "The last day is before the first"),
    ("exceptions", {"user_id": "{kid}", "start_date": "2030-01-01", "end_date": "2032-01-01"}, 400,
     "Exceptions can cover at most a year"),
    ("exceptions", {"user_id": "{kid}", "start_date": "2030-01-01", "note": 5}, 400, "Invalid request body"),
    ("exceptions", {"user_id": "{stranger_kid}", "start_date": "2030-01-01"}, 404, "User not found"),
    ("exceptions", "[]", 400, "Invalid request body"),
])
def test_bad_presence_writes(api, people: People, in_family, path: str, body: Any, status: int,  # noqa: ANN001
                             error: str) -> None:
    ids = {"kid": str(people.kid.id), "unknown": str(uuid.uuid4()), "stranger_kid": str(people.stranger_kid.id)}
    if isinstance(body, dict):
        body = {key: value.format(**ids) if isinstance(value, str) else value for key, value in body.items()}
        response = api.post(f"/api/presence/{path}", json=body, headers=people.headers(people.parent))
    else:
        response = api.post(f"/api/presence/{path}", data=body, content_type="application/json",
                            headers=people.headers(people.parent))
    refused(response, status, error)
    with in_family(people.family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(PresencePattern)) == 0
        assert ctx.session.scalar(select(func.count()).select_from(PresenceException)) == 0


@pytest.mark.parametrize("url, error", [
    ("/api/presence/patterns?user_id=nope", "Invalid user_id format"),
    ("/api/presence/exceptions?user_id=nope", "Invalid user_id format"),
    ("/api/presence/exceptions?start_date=2030-13-01", "Invalid start_date format. Use YYYY-MM-DD"),
    ("/api/presence/exceptions?end_date=x", "Invalid end_date format. Use YYYY-MM-DD"),
])
def test_bad_presence_queries(api, people: People, url: str, error: str) -> None:  # noqa: ANN001
    refused(api.get(url, headers=people.headers(people.parent)), 400, error)


@pytest.mark.parametrize("rule_id, status, error", [
    ("nope", 400, "Invalid presence rule ID format"),
    (str(uuid.uuid4()), 404, "Presence rule not found"),
])
def test_delete_bad_and_unknown_rules(api, people: People, rule_id: str, status: int, error: str) -> None:  # noqa: ANN001
    refused(api.delete(f"/api/presence/rules/{rule_id}", headers=people.headers(people.parent)), status, error)
