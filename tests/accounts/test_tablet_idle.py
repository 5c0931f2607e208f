"""A kid's turn on the family tablet ends on the server after the family's idle time (issue 13), not only when the
tablet's script says so: the next request finds the kid signed out. Polls and live refreshes are no sign of a kid,
parents' sessions never idle out, and each family's own setting applies. Runs on PostgreSQL and SQLite.

The server's clock is moved forward (`app.auth.utcnow`, which signs in and checks every session), so nothing waits.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import pytest
from werkzeug.test import TestResponse

from app.auth import BACKGROUND_HEADER
from app.auth.services import TURN_ACTIVITY_RESOLUTION
from app.db.bases import utcnow
from app.members.models import FamilySetting, Member
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from tests.accounts.conftest import KID_PIN, Tablet
from tests.accounts.helpers import HostAuth, csrf_token
from tests.conftest import FamilyClient, app_on_both_engines

app = app_on_both_engines()

HTMX = {"HX-Request": "true"}
POLL = {**HTMX, BACKGROUND_HEADER: "1"}  # what static/js/live.js sends for a livePoll or a live refresh
ENDED = "Your turn ended because the tablet was not touched for a while."
SLACK = TURN_ACTIVITY_RESOLUTION.total_seconds()  # a turn ends at most this long after its idle time


class Clock:
    """The server's time, moved forward by hand."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock()
    monkeypatch.setattr("app.auth.utcnow", moved)
    return moved


@pytest.fixture
def set_idle(in_family: Callable[..., AbstractContextManager[FamilyContext]]) -> Callable[[FamilyRecord, int], None]:
    """Set a family's `tablet_idle_seconds`."""
    def set_it(family_record: FamilyRecord, seconds: int) -> None:
        with in_family(family_record) as ctx:
            ctx.session.add(FamilySetting(key="tablet_idle_seconds", value=seconds))
            ctx.session.commit()
    return set_it


@pytest.fixture
def tablet(client: FamilyClient, family: FamilyRecord, parent: Member,
           register_tablet: Callable[..., Tablet]) -> FamilyClient:
    """This test's client, registered as the family tablet (nobody signed in)."""
    register_tablet(client, family, parent)
    return client


def start_turn(client: FamilyClient, kid: Member) -> None:
    response = client.post(f"/tablet/{kid.id}/unlock", data={"csrf_token": csrf_token(client, "/tablet"),
                                                             "pin": KID_PIN})
    assert response.status_code == 302 and response.headers["Location"] == "/me"


def signed_in(response: TestResponse) -> bool:
    assert response.status_code in (200, 204, 302, 303, 401), response.status_code
    return response.status_code in (200, 204)


def test_a_turn_left_alone_past_the_idle_time_ends_and_the_wall_says_why(
        tablet: FamilyClient, family: FamilyRecord, kid: Member, clock: Clock,
        set_idle: Callable[..., None]) -> None:
    set_idle(family, 30)
    start_turn(tablet, kid)
    clock.advance(29)
    assert signed_in(tablet.get("/me"))  # never sooner than the family's idle time
    clock.advance(30 + SLACK + 1)
    response = tablet.get("/me")
    assert response.status_code == 303 and response.headers["Location"] == "/tablet"
    wall = tablet.get("/tablet").get_data(as_text=True).replace("&#39;", "'")
    assert ENDED in wall and 'role="status"' in wall.split(ENDED)[0].rsplit("<p", 1)[1]
    assert "data-idle-seconds" not in wall  # no turn bar: nobody is signed in
    assert ENDED not in tablet.get("/tablet").get_data(as_text=True).replace("&#39;", "'")  # said once
    assert tablet.get("/me").headers["Location"].startswith("/login")


@pytest.mark.parametrize("kind", ["htmx", "json"])
def test_htmx_and_json_requests_hear_the_turn_ended(tablet: FamilyClient, kid: Member, clock: Clock,
                                                    kind: str) -> None:
    start_turn(tablet, kid)
    clock.advance(60 + SLACK + 1)  # the default idle time
    if kind == "htmx":
        response = tablet.get("/me/chores", headers=HTMX)
        assert response.status_code == 401 and response.headers["HX-Redirect"] == "/tablet"
    else:
        response = tablet.get("/me/still-here", headers={"Accept": "application/json"})
        assert response.status_code == 401
        assert response.get_json()["error"].startswith(ENDED)
    assert tablet.get("/me").headers["Location"].startswith("/login")


def test_a_kid_who_keeps_using_the_tablet_keeps_their_turn(tablet: FamilyClient, family: FamilyRecord,
                                                          kid: Member, clock: Clock,
                                                          set_idle: Callable[..., None]) -> None:
    set_idle(family, 30)
    start_turn(tablet, kid)
    for path in ("/me", "/rewards", "/me/still-here", "/me"):  # the last: a touch that asked for nothing
        clock.advance(25)
        assert signed_in(tablet.get(path)), path
    clock.advance(25)
    chores = tablet.get("/me/chores", headers=HTMX)  # tapped by the kid: no background mark
    assert chores.status_code == 200 and "My chores today" in chores.get_data(as_text=True)


def test_polls_and_live_refreshes_do_not_keep_a_turn_going(tablet: FamilyClient, family: FamilyRecord,
                                                          kid: Member, clock: Clock,
                                                          set_idle: Callable[..., None]) -> None:
    set_idle(family, 30)
    start_turn(tablet, kid)
    for path in ("/me/chores", "/me/stats", "/rewards/panel"):
        clock.advance(10)
        assert signed_in(tablet.get(path, headers=POLL)), path  # still the turn, but not counted as activity
    clock.advance(SLACK + 1)  # 30 + slack + 1 seconds since the kid last did anything
    response = tablet.get("/me/chores", headers=POLL)
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/tablet"


def test_parents_and_password_sessions_never_idle_out(client_for: Callable[..., FamilyClient],
                                                     family: FamilyRecord, parent: Member,
                                                     make_kid: Callable[..., Member], host_auth: HostAuth,
                                                     register_tablet: Callable[..., Tablet], clock: Clock,
                                                     set_idle: Callable[..., None]) -> None:
    set_idle(family, 15)
    older_kid = make_kid(display_name="Sam", password=True)
    parents_browser, kids_laptop = client_for(family), client_for(family)
    register_tablet(parents_browser, family, parent)  # even on the family tablet's browser
    host_auth.sign_in(parents_browser, parent, family)
    host_auth.sign_in(kids_laptop, older_kid, family)
    clock.advance(3600)
    assert signed_in(parents_browser.get("/today"))
    assert signed_in(kids_laptop.get("/me"))


def test_each_family_has_its_own_idle_time(client_for: Callable[..., FamilyClient], family: FamilyRecord,
                                           make_family: Callable[..., FamilyRecord], make_parent: Callable[..., Member],
                                           make_kid: Callable[..., Member], register_tablet: Callable[..., Tablet],
                                           clock: Clock, set_idle: Callable[..., None]) -> None:
    other = make_family()
    set_idle(family, 15)
    set_idle(other, 120)
    tablets = {}
    for record in (family, other):
        browser = client_for(record)
        register_tablet(browser, record, make_parent(family_record=record))
        start_turn(browser, make_kid(family_record=record))
        tablets[record.slug] = browser
    clock.advance(15 + SLACK + 1)
    assert signed_in(tablets[other.slug].get("/me"))  # 120 seconds there
    assert tablets[family.slug].get("/me").headers["Location"] == "/tablet"  # 15 seconds here


def test_a_changed_idle_time_applies_from_the_next_activity(tablet: FamilyClient, family: FamilyRecord,
                                                            kid: Member, clock: Clock,
                                                            set_idle: Callable[..., None]) -> None:
    start_turn(tablet, kid)  # the default: 60 seconds
    set_idle(family, 15)
    clock.advance(10)
    assert signed_in(tablet.get("/me"))  # activity: from now on, 15 seconds
    clock.advance(15 + SLACK + 1)
    assert tablet.get("/me").headers["Location"] == "/tablet"
