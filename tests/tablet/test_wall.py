"""The family wall: everyone's progress today and the weekly leaderboard, for the family tablet and for members."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from flask import Flask

from app.redis_store import PROBE_KEY, RedisProbe
from app.assignments.models import Assignment
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.services import post_entry
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient
from tests.html import select, texts
from tests.tablet.conftest import HTMX, Poster

LIVE = 'hx-trigger="sse:assignmentChanged, sse:pointsChanged, livePoll from:body"'


@pytest.fixture
def give(in_family: Callable[..., AbstractContextManager[FamilyContext]], family: FamilyRecord
         ) -> Callable[..., None]:
    """Post a ledger row for a member (`days_ago` moves it back in time)."""
    def post(member: Member, amount: int, *, kind: str = "bonus", days_ago: int = 0) -> None:
        with in_family(family) as ctx:
            post_entry(ctx.session, member.id, amount=amount, kind=kind, description="test", clock=FamilyClock("UTC"),
                       now=utcnow() - timedelta(days=days_ago))
            ctx.session.commit()
    return post


def kid_tile(html: str, name: str) -> str:
    tiles = [tile.html or "" for tile in select(html, "li.wall-kid") if name in tile.text()]
    assert len(tiles) == 1, f"{len(tiles)} tiles for {name}"
    return tiles[0]


def leaderboard_names(html: str) -> list[str]:
    return texts(html, "ol.leaderboard .leader-name")


def test_the_family_tablet_shows_the_wall_with_links_to_each_kids_keypad(tablet_client: FamilyClient, maya: Member,
                                                                         leo: Member, parent: Member) -> None:
    page = tablet_client.get("/wall")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<h1 id="wall-heading" class="tablet-title">Our day</h1>' in html
    assert f'href="/tablet/{maya.id}"' in html and f'href="/tablet/{leo.id}"' in html
    assert "Pat" not in html.split("<main", 1)[1]  # parents are not on the wall
    assert 'sse-connect="/events"' in html  # the kiosk gets the live stream without anyone signed in
    assert LIVE in html and 'hx-get="/wall/board"' in html
    assert 'href="/tablet">Tap here to start your turn' in html


def test_a_signed_in_member_sees_the_wall_without_keypad_links(signed_in: Callable[..., FamilyClient],
                                                              parent: Member, maya: Member) -> None:
    html = signed_in(parent).get("/wall").get_data(as_text=True)
    assert "Maya" in html and f'href="/tablet/{maya.id}"' not in html
    assert 'sse-connect="/events"' in html and LIVE in html


def test_a_kid_on_the_wall_can_go_back_to_their_chores(signed_in: Callable[..., FamilyClient], maya: Member) -> None:
    assert 'href="/me">Back to my chores' in signed_in(maya).get("/wall").get_data(as_text=True)


def test_progress_counts_today_per_kid(signed_in: Callable[..., FamilyClient], parent: Member, maya: Member,
                                       leo: Member, make_assignment: Callable[..., Assignment],
                                       give: Callable[..., None]) -> None:
    make_assignment(maya, status="verified", points_earned=10)
    make_assignment(maya, status="pending_verification")
    make_assignment(maya)
    make_assignment(maya, status="skipped")
    make_assignment(maya, due_date=utcnow().date() - timedelta(days=1), status="verified")  # yesterday's
    make_assignment(None, name="Wash the car")
    give(maya, 10, kind="chore")
    give(maya, 5)
    give(maya, 7, days_ago=2)  # not today
    give(maya, -3, kind="deduction")  # the wall celebrates what was earned, it does not subtract

    html = signed_in(parent).get("/wall").get_data(as_text=True)

    maya_tile = kid_tile(html, "Maya")
    assert "1/3 done" in maya_tile and "1 waiting for a parent" in maya_tile and "+15 points today" in maya_tile
    assert 'aria-valuenow="1"' in maya_tile and 'aria-valuemax="3"' in maya_tile and "--progress: 33%" in maya_tile
    leo_tile = kid_tile(html, "Leo")
    assert "Nothing today" in leo_tile and "+0 points today" in leo_tile


def test_the_weekly_leaderboard_ranks_kids_by_this_weeks_points(signed_in: Callable[..., FamilyClient],
                                                                parent: Member, maya: Member, leo: Member,
                                                                give: Callable[..., None]) -> None:
    give(maya, 5)
    give(leo, 20)
    html = signed_in(parent).get("/wall/board", headers=HTMX).get_data(as_text=True)
    assert leaderboard_names(html) == ["Leo", "Maya"]
    assert "20 points" in html and "<html" not in html

    give(maya, 30)
    html = signed_in(parent).get("/wall/board", headers=HTMX).get_data(as_text=True)
    assert leaderboard_names(html) == ["Maya", "Leo"]
    assert '<span class="leader-points">35 points</span>' in html


def test_a_tap_on_the_kids_view_shows_on_the_wall(signed_in: Callable[..., FamilyClient], post: Poster,
                                                  tablet_client: FamilyClient, maya: Member,
                                                  make_assignment: Callable[..., Assignment]) -> None:
    chore = make_assignment(maya, points=12, chore={"requires_verification": False})
    before = tablet_client.get("/wall/board", headers=HTMX).get_data(as_text=True)
    assert "0/1 done" in kid_tile(before, "Maya")

    post(signed_in(maya), f"/me/assignments/{chore.id}/complete")

    after = tablet_client.get("/wall/board", headers=HTMX)
    assert after.status_code == 200 and "HX-Redirect" not in after.headers
    html = after.get_data(as_text=True)
    assert "1/1 done" in kid_tile(html, "Maya") and "+12 points today" in kid_tile(html, "Maya")
    assert '<span class="leader-points">12 points</span>' in html and "1 chore<" in html


def test_without_redis_the_wall_polls(app: Flask, tablet_client: FamilyClient, maya: Member,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, PROBE_KEY, RedisProbe(None))  # a probe with no Redis to ask: down
    html = tablet_client.get("/wall").get_data(as_text=True)
    # static/js/live.js fires livePoll while no stream is open (here: none at all).
    assert 'hx-trigger="sse:assignmentChanged, sse:pointsChanged, livePoll from:body"' in html
    assert "sse-connect" not in html


def test_the_avatar_wall_links_to_the_family_wall(tablet_client: FamilyClient, maya: Member) -> None:
    assert 'href="/wall"' in tablet_client.get("/tablet").get_data(as_text=True)


def test_boosted_navigation_to_the_wall_loads_the_whole_page(tablet_client: FamilyClient) -> None:
    response = tablet_client.get("/wall", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/wall"


def test_another_familys_wall_shows_none_of_ours(signed_in: Callable[..., FamilyClient], maya: Member,
                                                make_family: Callable[..., FamilyRecord],
                                                create_member: Callable[..., Member]) -> None:
    elsewhere = make_family()
    create_member(family_record=elsewhere, username="zed", display_name="Zed")
    their_parent = create_member(family_record=elsewhere, role="parent", username="them")
    html = signed_in(their_parent, elsewhere).get("/wall").get_data(as_text=True)
    assert "Zed" in html and "Maya" not in html
