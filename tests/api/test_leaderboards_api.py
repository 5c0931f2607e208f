"""Leaderboards: kids only, points from the ledger in the family's week and timezone, real chores_completed."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.chores.models import Chore
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.services import post_entry
from tests.api.conftest import People
from tests.api.test_daily_access import add_assignment, assert_shape, set_setting

ROW_TYPES: dict[str, Any] = {
    "rank": int, "user_id": str, "username": str, "display_name": str, "avatar_url": str, "color_theme": str,
    "points": int, "weekly_points": int, "total_points": int, "lifetime_points_earned": int, "level": int,
    "chores_completed": int, "streak_days": int,
}


def _ledger(session, member_id, amount: int, kind: str, when, clock: FamilyClock) -> None:  # noqa: ANN001
    post_entry(session, member_id, amount=amount, kind=kind, description=kind, clock=clock, now=when)


@pytest.mark.parametrize("path, period", [("/api/leaderboard/weekly", "week"), ("/api/leaderboard/alltime",
                                                                                  "alltime")])
def test_shape_kids_only(api, people: People, create_member, path: str, period: str) -> None:  # noqa: ANN001
    create_member(username="gone", display_name="Gone", is_active=False)
    create_member(username="zoe", display_name="Zoe", avatar="zoe.png")
    response = api.get(path, headers=people.headers(people.kid))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"period", "leaderboard", "total_users"}
    assert body["period"] == period and body["total_users"] == 3 == len(body["leaderboard"])
    for row in body["leaderboard"]:
        assert_shape(row, ROW_TYPES, {"avatar_url"})
    # Nobody has points: ties keep distinct ranks, broken by username; parents and removed kids are left out.
    assert [(r["rank"], r["username"]) for r in body["leaderboard"]] == [(1, "leo"), (2, "maya"), (3, "zoe")]
    assert body["leaderboard"][2]["avatar_url"] == "zoe.png" and "avatar_url" not in body["leaderboard"][0]


@pytest.mark.parametrize("timezone, week_start, index", [
    ("UTC", "monday", 0), ("America/New_York", "monday", 0), ("Pacific/Auckland", "sunday", 6),
])
def test_week_is_the_familys_and_chores_completed_is_real(make_family, client_for, create_member, auth,  # noqa: ANN001
                                                           in_family, timezone: str, week_start: str,
                                                           index: int) -> None:
    family = make_family(timezone=timezone)
    set_setting(in_family, family, "week_start", week_start)
    parent = create_member(family_record=family, username="pa", display_name="Pa", role="parent")
    ana = create_member(family_record=family, username="ana", display_name="Ana")
    ben = create_member(family_record=family, username="ben", display_name="Ben")
    cy = create_member(family_record=family, username="cy", display_name="Cy")
    clock = FamilyClock(timezone, index)
    start, _ = clock.week_bounds(utcnow())
    before, inside = start - timedelta(minutes=1), start + timedelta(minutes=1)
    with in_family(family) as ctx:
        s = ctx.session
        chore = Chore(name="Dishes", base_points=10)
        s.add(chore)
        s.flush()
        # Ana: lots of points, all just before the family's week began.
        _ledger(s, ana.id, 100, "chore", before, clock)
        add_assignment(s, chore, s.get(Member, ana.id), status="verified", verified_at=before)
        # Ben: 30 this week from two verified chores, and a deduction this week.
        for _ in range(2):
            _ledger(s, ben.id, 20, "chore", inside, clock)
            add_assignment(s, chore, s.get(Member, ben.id), status="verified", verified_at=inside)
        _ledger(s, ben.id, -10, "deduction", inside, clock)
        # Cy: 30 this week from a bonus; spending does not lower a leaderboard score.
        _ledger(s, cy.id, 30, "bonus", inside, clock)
        _ledger(s, cy.id, -25, "redemption", inside, clock)
        # A parent's points never show.
        _ledger(s, parent.id, 500, "bonus", inside, clock)
        s.commit()
    client, headers = client_for(family), auth.bearer(ana, family)

    weekly = client.get("/api/leaderboard/weekly", headers=headers).get_json()
    assert [(r["rank"], r["username"], r["points"], r["weekly_points"], r["total_points"], r["chores_completed"])
            for r in weekly["leaderboard"]] == [
        (1, "ben", 30, 30, 30, 2),  # ties on this week's points: more all-time points… equal too, so by username
        (2, "cy", 30, 30, 30, 0),
        (3, "ana", 0, 0, 100, 0),
    ]
    alltime = client.get("/api/leaderboard/alltime", headers=headers).get_json()
    assert [(r["rank"], r["username"], r["points"], r["lifetime_points_earned"], r["chores_completed"])
            for r in alltime["leaderboard"]] == [
        (1, "ana", 100, 100, 1),
        (2, "ben", 30, 40, 2),
        (3, "cy", 30, 30, 0),
    ]
    assert weekly["total_users"] == alltime["total_users"] == 3


def test_weekly_ties_fall_back_to_all_time_points(api, people: People, in_family) -> None:  # noqa: ANN001
    clock = FamilyClock("UTC")
    start, _ = clock.week_bounds(utcnow())
    with in_family(people.family) as ctx:
        _ledger(ctx.session, people.kid.id, 50, "bonus", start - timedelta(days=3), clock)  # maya: older points
        _ledger(ctx.session, people.kid.id, 5, "bonus", start + timedelta(seconds=1), clock)
        _ledger(ctx.session, people.sibling.id, 5, "bonus", start + timedelta(seconds=1), clock)
        ctx.session.commit()
    board = api.get("/api/leaderboard/weekly", headers=people.headers(people.parent)).get_json()["leaderboard"]
    assert [(r["username"], r["points"], r["total_points"]) for r in board] == [("maya", 5, 55), ("leo", 5, 5)]


def test_streak_on_the_board(api, people: People, in_family) -> None:  # noqa: ANN001
    today = utcnow().date()
    with in_family(people.family) as ctx:
        s = ctx.session
        chore = Chore(name="Dishes", base_points=5)
        s.add(chore)
        s.flush()
        kid = s.get(Member, people.kid.id)
        for back in (1, 2, 3):
            add_assignment(s, chore, kid, status="verified", day=today - timedelta(days=back))
        add_assignment(s, chore, kid, status="missed", day=today - timedelta(days=4))
        s.commit()
    board = api.get("/api/leaderboard/alltime", headers=people.headers(people.kid)).get_json()["leaderboard"]
    assert {r["username"]: r["streak_days"] for r in board} == {"maya": 3, "leo": 0}
