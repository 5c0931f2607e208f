"""The reports API: the contract's keys and parameters, numbers worked out by hand, 400s on bad input, who may ask."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.db.bases import utcnow
from app.family_time import FamilyClock
from tests.api.test_daily_access import assert_shape, refused
from tests.reports.helpers import add_assignment, add_chore, add_ledger
from tests.reports.seed import ZONE, seed


@pytest.fixture
def seeded(make_family, in_family, create_member):  # noqa: ANN001, ANN201
    family = make_family(timezone=ZONE)
    return seed(in_family, family, lambda **fields: create_member(family_record=family, **fields))


@pytest.fixture
def call(client_for, auth, seeded):  # noqa: ANN001, ANN201
    """GET an API path as a member of the seeded family (the parent unless told otherwise)."""
    client = client_for(seeded.family)

    def get(path: str, member: Any = None):  # noqa: ANN202
        return client.get(path, headers=auth.bearer(member or seeded.parent, seeded.family))
    return get


def _today() -> Any:
    return FamilyClock(ZONE).today(utcnow())


@pytest.fixture
def recent(seeded, in_family):  # noqa: ANN001, ANN201
    """Assignments in the last few family days: Maya 3 (2 done, 15 + 10 points), Leo 1 (done, 4 points)."""
    today = _today()
    with in_family(seeded.family) as ctx:
        s = ctx.session
        dishes = add_chore(s, "Laundry", category="laundry", base_points=99)
        for member, days_ago, status, credit in ((seeded.maya, 1, "verified", 15), (seeded.maya, 1, "verified", 10),
                                                 (seeded.maya, 2, "missed", 0), (seeded.leo, 2, "verified", 4)):
            assignment = add_assignment(s, dishes, member, today - timedelta(days=days_ago), status=status, zone=ZONE)
            if credit:
                add_ledger(s, member, credit, "chore", utcnow(), assignment=assignment)
        s.commit()
    return today


def test_weekly_summary_matches_the_hand_count(call) -> None:  # noqa: ANN001
    response = call("/api/reports/weekly-summary?week_start=2026-03-01&week_end=2026-03-07")

    body = response.get_json()
    assert response.status_code == 200
    assert (body["week_start"], body["week_end"]) == ("2026-03-01", "2026-03-07")
    assert body["summary"] == {"total_assignments": 8, "completed": 4, "verified": 4, "overdue": 2,
                               "total_points": 30, "active_children": 2, "completion_rate": 50.0}
    assert [(c["username"], c["total_assignments"], c["completed"], c["verified"], c["points_earned"],
             c["completion_rate"]) for c in body["children"]] == [
        ("maya", 5, 2, 2, 20, 40.0), ("leo", 3, 2, 2, 10, 66.7), ("zoe", 0, 0, 0, 0, 0.0)]
    assert_shape(body["children"][0], {"id": str, "username": str, "display_name": str, "color_theme": str,
                                       "total_assignments": int, "completed": int, "verified": int,
                                       "points_earned": int, "completion_rate": float})


def test_weekly_summary_defaults_to_this_family_week(call) -> None:  # noqa: ANN001
    today = _today()
    start = today - timedelta(days=(today.weekday() + 1) % 7)  # the family's weeks start on Sunday

    body = call("/api/reports/weekly-summary").get_json()
    only_start = call("/api/reports/weekly-summary?week_start=2026-03-01").get_json()

    assert (body["week_start"], body["week_end"]) == (start.isoformat(), (start + timedelta(days=6)).isoformat())
    assert only_start["week_end"] == "2026-03-07" and only_start["summary"]["total_assignments"] == 8


def test_child_performance_for_a_parent_and_for_the_kid_themself(call, seeded, recent) -> None:  # noqa: ANN001
    path = f"/api/reports/child-performance/{seeded.maya.id}?days=7"

    for asker in (seeded.parent, seeded.maya):
        body = call(path, asker).get_json()
        assert body["child_id"] == str(seeded.maya.id)
        assert body["period"] == {"start": (recent - timedelta(days=7)).isoformat(), "end": recent.isoformat()}
        assert body["stats"] == {"total_assignments": 3, "completed": 2, "verified": 2, "overdue": 1,
                                 "total_points": 25}
        assert body["daily_breakdown"] == [
            {"date": (recent - timedelta(days=2)).isoformat(), "assignments": 1, "completed": 0, "points": 0},
            {"date": (recent - timedelta(days=1)).isoformat(), "assignments": 2, "completed": 2, "points": 25}]


def test_category_breakdown_and_performance_trends(call, seeded, recent) -> None:  # noqa: ANN001
    categories = call("/api/reports/category-breakdown?days=7").get_json()
    trends = call("/api/reports/performance-trends?range=7").get_json()

    assert categories["period"]["end"] == recent.isoformat()
    rows = {row["category"]: row for row in categories["categories"]}
    assert rows["laundry"] == {"category": "laundry", "total_assignments": 4, "completed": 3,
                               "completion_rate": 75.0, "points_earned": 29}
    assert rows["outdoor"]["total_assignments"] == 0 and categories["categories"][0]["category"] == "laundry"
    assert trends["trends"] == [
        {"date": (recent - timedelta(days=2)).isoformat(), "completed": 1, "points": 4, "verified": 1},
        {"date": (recent - timedelta(days=1)).isoformat(), "completed": 2, "points": 25, "verified": 2}]
    maya, leo = trends["childPerformance"]
    assert maya == {"id": str(seeded.maya.id), "name": "Maya", "completion": "66.7%", "avgPointsPerDay": 13,
                    "streak": "1 days", "trend": "down"}
    assert leo == {"id": str(seeded.leo.id), "name": "Leo", "completion": "100%", "avgPointsPerDay": 4,
                   "streak": "1 days", "trend": "up"}


@pytest.mark.parametrize(("path", "message"), [
    ("/api/reports/weekly-summary?week_start=2026-02-30", "Invalid week_start format. Use YYYY-MM-DD"),
    ("/api/reports/weekly-summary?week_end=03-07-2026", "Invalid week_end format. Use YYYY-MM-DD"),
    ("/api/reports/weekly-summary?week_start=2026-03-07&week_end=2026-03-01", "week_end must not be before week_start"),
    ("/api/reports/weekly-summary?week_start=2024-01-01&week_end=2026-03-01", "The range can be at most 366 days"),
    ("/api/reports/category-breakdown?days=0", "Invalid days. Use a whole number from 1 to 365"),
    ("/api/reports/category-breakdown?days=abc", "Invalid days. Use a whole number from 1 to 365"),
    ("/api/reports/child-performance/{maya}?days=366", "Invalid days. Use a whole number from 1 to 365"),
    ("/api/reports/child-performance/not-a-uuid", "Invalid child ID format"),
    ("/api/reports/child-performance/{parent}", "That user is a parent, not a child"),
    ("/api/reports/performance-trends?range=14", "Invalid range. Use 7, 30 or 90"),
])
def test_bad_input_is_a_400(call, seeded, path: str, message: str) -> None:  # noqa: ANN001
    response = call(path.format(maya=seeded.maya.id, parent=seeded.parent.id))

    refused(response, 400, message)


def test_unknown_or_foreign_children_are_404(call, make_family, create_member) -> None:  # noqa: ANN001
    other = make_family()
    theirs = create_member(family_record=other, username="theirs", display_name="Theirs")

    refused(call(f"/api/reports/child-performance/{uuid.uuid4()}"), 404, "Child not found")
    refused(call(f"/api/reports/child-performance/{theirs.id}"), 404, "Child not found")


REPORTS = ["/api/reports/weekly-summary", "/api/reports/category-breakdown", "/api/reports/performance-trends",
           "/api/reports/child-performance/{maya}", "/api/reports/child-performance/{leo}"]


@pytest.mark.parametrize("who", ["anonymous", "kid", "parent", "other-family-parent"])
@pytest.mark.parametrize("path", REPORTS)
def test_who_may_read_which_report(client_for, auth, seeded, make_family, create_member, who: str,  # noqa: ANN001
                                   path: str) -> None:
    client = client_for(seeded.family)
    path = path.format(maya=seeded.maya.id, leo=seeded.leo.id)
    headers: dict[str, str] = {}
    if who == "kid":
        headers = auth.bearer(seeded.maya, seeded.family)
    elif who == "parent":
        headers = auth.bearer(seeded.parent, seeded.family)
    elif who == "other-family-parent":
        other = make_family()
        headers = auth.bearer(create_member(family_record=other, role="parent", username="pat",
                                            display_name="Pat"), other)

    response = client.get(path, headers=headers)

    if who == "anonymous":
        refused(response, 401, "Authorization header required")
    elif who == "other-family-parent":
        refused(response, 403, "Token does not belong to this family")
    elif who == "parent":
        assert response.status_code == 200
    elif path.endswith(str(seeded.maya.id)):
        assert response.status_code == 200  # a kid's own performance
    else:
        refused(response, 403)
