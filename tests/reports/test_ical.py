"""Each member's secret calendar URL: made on the settings page, read without signing in, revocable, family-bound."""
from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from app.assignments.models import MaterialisedDay
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.notifications.models import CalendarFeed
from app.reports.ical import hash_token
from tests.reports.helpers import add_assignment, add_chore, post_form

ZONE = "Europe/Berlin"
FEED_URL = re.compile(r'<p class="hp-feed-url" id="feed-url">(http://[^<]+)</p>')


@pytest.fixture
def berlin(make_family):  # noqa: ANN001, ANN201
    return make_family(timezone=ZONE)


@pytest.fixture
def people(berlin, create_member):  # noqa: ANN001, ANN201
    parent = create_member(family_record=berlin, role="parent", username="mum", display_name="Mum")
    kid = create_member(family_record=berlin, username="maya", display_name="Maya")
    sibling = create_member(family_record=berlin, username="leo", display_name="Leo")
    return parent, kid, sibling


def _make_feed(app, client_for, auth, family, member) -> str:  # noqa: ANN001
    client = client_for(family)
    auth.sign_in(client, member, family)
    response = post_form(app, client, "/settings/calendar")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    url = FEED_URL.search(response.get_data(as_text=True)).group(1)
    assert "shown only this once" in response.get_data(as_text=True)
    return url.split(f"{family.slug}.", 1)[1].split("/", 1)[1]  # the path, e.g. calendar/<token>.ics


def test_the_feed_lists_upcoming_chores_at_their_family_time(app, client_for, auth, berlin, people,  # noqa: ANN001
                                                             in_family) -> None:
    _parent, kid, sibling = people
    today = FamilyClock(ZONE).today(utcnow())
    with in_family(berlin) as ctx:
        dishes = add_chore(ctx.session, "Dishes", icon="🍽️", estimated_minutes=20)
        bins = add_chore(ctx.session, "Bins")
        soon = add_assignment(ctx.session, dishes, kid, today + timedelta(days=3), due=time(7, 30), zone=ZONE)
        add_assignment(ctx.session, bins, kid, today + timedelta(days=31), zone=ZONE)  # beyond 30 days
        add_assignment(ctx.session, bins, kid, today - timedelta(days=1), zone=ZONE)  # past
        add_assignment(ctx.session, bins, kid, today + timedelta(days=2), status="skipped", zone=ZONE)
        add_assignment(ctx.session, bins, sibling, today + timedelta(days=3), zone=ZONE)  # someone else's
        ctx.session.commit()
    path = _make_feed(app, client_for, auth, berlin, kid)

    response = client_for(berlin).get(f"/{path}")  # a calendar app: no cookies, no sign-in

    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["🍽️ Dishes"]
    event = events[0]
    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == ZONE
    assert start == datetime.combine(today + timedelta(days=3), time(7, 30), tzinfo=ZoneInfo(ZONE))
    assert event.decoded("duration") == timedelta(minutes=20)
    assert str(event["uid"]) == f"assignment-{soon.id}@housepoints"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == [ZONE]
    assert str(calendar["x-wr-calname"]).startswith("Maya's chores")

    again = Calendar.from_ical(client_for(berlin).get(f"/{path}").data)
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == [str(event["uid"])]  # stable UIDs


def test_reading_the_feed_materialises_today_and_tomorrow(app, client_for, auth, berlin, people,  # noqa: ANN001
                                                          in_family) -> None:
    _parent, kid, _sibling = people
    clock = FamilyClock(ZONE)
    today = clock.today(utcnow())
    with in_family(berlin) as ctx:
        chore = Chore(name="Feed the cat", assignment_type="fixed", due_time=time(8, 0))
        chore.schedule = ChoreSchedule(kind="daily", start_date=today - timedelta(days=5))
        chore.assignees = [ChoreAssignee(member_id=kid.id, position=0)]
        ctx.session.add(chore)
        ctx.session.commit()
    path = _make_feed(app, client_for, auth, berlin, kid)

    calendar = Calendar.from_ical(client_for(berlin).get(f"/{path}").data)

    starts = sorted(e.decoded("dtstart") for e in calendar.walk("VEVENT"))
    assert starts == [datetime.combine(today + timedelta(days=n), time(8, 0), tzinfo=ZoneInfo(ZONE)) for n in (0, 1)]
    with in_family(berlin) as ctx:
        days = set(ctx.session.scalars(select(MaterialisedDay.day)))
        assert {today, today + timedelta(days=1)} <= days


def test_the_token_is_stored_hashed_and_shown_once(app, client_for, auth, berlin, people,  # noqa: ANN001
                                                   in_family) -> None:
    _parent, kid, _sibling = people
    path = _make_feed(app, client_for, auth, berlin, kid)
    token = path.removeprefix("calendar/").removesuffix(".ics")

    with in_family(berlin) as ctx:
        feed = ctx.session.scalar(select(CalendarFeed))
        assert feed.token_hash == hash_token(token) and token not in feed.token_hash
    client = client_for(berlin)
    auth.sign_in(client, kid, berlin)
    page = client.get("/settings/calendar").get_data(as_text=True)
    assert token not in page and "Your link is on" in page


def test_a_new_link_or_turning_it_off_stops_the_old_one(app, client_for, auth, berlin, people) -> None:  # noqa: ANN001
    _parent, kid, _sibling = people
    first = _make_feed(app, client_for, auth, berlin, kid)
    second = _make_feed(app, client_for, auth, berlin, kid)
    reader = client_for(berlin)

    assert reader.get(f"/{first}").status_code == 404
    assert reader.get(f"/{second}").status_code == 200
    client = client_for(berlin)
    auth.sign_in(client, kid, berlin)
    revoked = post_form(app, client, "/settings/calendar/revoke")
    assert revoked.status_code == 303
    assert reader.get(f"/{second}").status_code == 404
    assert "You have no calendar link yet." in client.get("/settings/calendar").get_data(as_text=True)


def test_a_token_only_works_on_its_own_familys_host(app, client_for, auth, berlin, people,  # noqa: ANN001
                                                    make_family) -> None:
    _parent, kid, _sibling = people
    path = _make_feed(app, client_for, auth, berlin, kid)
    other = make_family()

    assert client_for(other).get(f"/{path}").status_code == 404
    assert client_for(None).get(f"/{path}").status_code == 404  # the apex serves no family
    assert client_for(berlin).get(f"/{path}").status_code == 200


@pytest.mark.parametrize("token", ["short", "x" * 43, "not a token!", "A" * 200])
def test_made_up_tokens_are_not_found(client_for, berlin, token: str) -> None:  # noqa: ANN001
    assert client_for(berlin).get(f"/calendar/{token}.ics").status_code == 404


def test_a_deactivated_members_feed_stops(app, client_for, auth, berlin, people, in_family) -> None:  # noqa: ANN001
    from app.members.models import Member

    _parent, kid, _sibling = people
    path = _make_feed(app, client_for, auth, berlin, kid)
    with in_family(berlin) as ctx:
        ctx.session.get(Member, kid.id).is_active = False
        ctx.session.commit()

    assert client_for(berlin).get(f"/{path}").status_code == 404


def test_a_spanish_members_feed_speaks_spanish(app, client_for, auth, berlin, people, in_family) -> None:  # noqa: ANN001
    _parent, kid, _sibling = people
    today = FamilyClock(ZONE).today(utcnow())
    path = _make_feed(app, client_for, auth, berlin, kid)
    with in_family(berlin) as ctx:
        ctx.session.get(type(kid), kid.id).language = "es"
        add_assignment(ctx.session, add_chore(ctx.session, "Platos"), kid, today + timedelta(days=1), zone=ZONE)
        ctx.session.commit()

    calendar = Calendar.from_ical(client_for(berlin).get(f"/{path}").data)

    assert str(calendar["x-wr-calname"]) == f"Tareas de Maya · {berlin.name}"
    [event] = calendar.walk("VEVENT")
    assert str(event["description"]).startswith("Por hacer · ") and "points" not in str(event["description"])
