"""The chore library pages: list, new/edit with live validation, archive/restore, and every way to get them wrong."""
from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments.models import Assignment
from app.chores.models import WITH_SCHEDULE_AND_ASSIGNEES, Chore
from app.db.bases import utcnow
from tests.chores.page_helpers import VISITORS, People, Poster, expect_access, has_field_error, ids, live_events
from tests.html import parse

TODAY = utcnow().date()  # the test family's timezone is UTC


def chore_form(people: People, **overrides: Any) -> dict[str, Any]:
    """A valid new-chore form, as the page posts it."""
    form: dict[str, Any] = {
        "name": "Dishes", "icon": "🍽️", "icon_custom": "", "category": "kitchen", "description": "After dinner",
        "instructions": "Plates first, then pans", "base_points": "15", "penalty_points": "2",
        "open_bonus_points": "0", "estimated_minutes": "10", "difficulty": "medium", "min_age": "6",
        "due_time": "19:00", "not_before_time": "17:00", "requires_verification": "1", "active": "1",
        "kind": "daily", "interval": "1", "interval_unit": "days", "week_of_month": "1", "month_weekday": "6",
        "month_day": "", "start_date": TODAY.isoformat(), "end_date": "", "rolling": "fixed", "paused_from": "",
        "paused_until": "", "assignment_type": "round_robin",
        "order": ids(people.leo, people.maya, people.zoe), "assignees": ids(people.maya, people.leo),
    }
    form.update(overrides)
    return form


@pytest.fixture
def chores_in(in_family: Callable[..., Any]) -> Callable[..., list[Chore]]:
    """Factory: a family's chores (archived too), detached, with schedule and assignees loaded."""
    def load(family: Any) -> list[Chore]:
        with in_family(family) as ctx:
            chores = list(ctx.session.scalars(select(Chore).order_by(Chore.created_at)
                                              .options(*WITH_SCHEDULE_AND_ASSIGNEES)))
            for chore in chores:
                ctx.session.expunge(chore)
            return chores
    return load


def count_today(in_family: Callable[..., Any], family: Any) -> int:
    with in_family(family) as ctx:
        return ctx.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.due_date == TODAY))


@pytest.fixture
def existing(people: People, parent_client: Any, post: Poster, chores_in: Callable[..., list[Chore]]) -> Chore:
    """A chore made through the page."""
    assert post(parent_client, "/chores/new", chore_form(people)).status_code == 303
    return chores_in(people.family)[0]


# --- happy paths -------------------------------------------------------------------------------------------------

def test_a_parent_creates_a_chore_with_every_field_and_todays_assignment_appears(
        people: People, parent_client: Any, post: Poster, chores_in: Callable[..., list[Chore]],
        in_family: Callable[..., Any]) -> None:
    response = post(parent_client, "/chores/new", chore_form(people))

    assert response.status_code == 303 and response.headers["Location"].endswith("/chores")
    (chore,) = chores_in(people.family)
    assert (chore.name, chore.icon, chore.category, chore.description, chore.instructions) == (
        "Dishes", "🍽️", "kitchen", "After dinner", "Plates first, then pans")
    assert (chore.base_points, chore.penalty_points, chore.estimated_minutes, chore.difficulty, chore.min_age) == (
        15, 2, 10, "medium", 6)
    assert (chore.due_time, chore.not_before_time) == (time(19), time(17))
    assert chore.requires_verification and not chore.requires_photo and chore.active
    assert chore.assignment_type == "round_robin"
    assert [a.member_id for a in chore.assignees] == [people.leo.id, people.maya.id]  # the page's order
    assert (chore.schedule.kind, chore.schedule.start_date, chore.schedule.rolling) == ("daily", TODAY, False)
    with in_family(people.family) as ctx:
        (assignment,) = ctx.session.scalars(select(Assignment).where(Assignment.chore_id == chore.id))
        assert (assignment.due_date, assignment.assigned_to) == (TODAY, people.leo.id)

    library = parent_client.get("/chores").get_data(as_text=True)
    assert "Dishes" in library and "Every day" in library and "Take turns: Leo → Maya" in library


def test_saving_a_chore_tells_the_familys_open_screens(app: Any, people: People, parent_client: Any, post: Poster,
                                                       chores_in: Callable[..., list[Chore]]) -> None:
    with live_events(app, people.family) as received:
        post(parent_client, "/chores/new", chore_form(people, base_points="-1"))  # refused: nothing to tell
        post(parent_client, "/chores/new", chore_form(people))
        (chore,) = chores_in(people.family)
        post(parent_client, f"/chores/{chore.id}/archive")

        mine = [e for e in received() if e["event"] == "assignmentChanged"]
        assert mine == [{"event": "assignmentChanged", "data": {"chore_id": str(chore.id)}}] * 2


def test_the_form_page_and_the_edit_page_show_the_chore(people: People, parent_client: Any,
                                                        existing: Chore) -> None:
    assert parent_client.get("/chores/new").status_code == 200
    page = parent_client.get(f"/chores/{existing.id}/edit")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="Dishes"' in html and 'value="19:00"' in html and "Plates first, then pans" in html
    # Kids in rotation order: the chosen ones first, then the rest.
    assert html.index("Leo</span>") < html.index("Maya</span>") < html.index("Zoe</span>")


def test_a_parent_edits_a_chore_reorders_its_kids_and_changes_its_schedule(
        people: People, parent_client: Any, post: Poster, existing: Chore,
        chores_in: Callable[..., list[Chore]]) -> None:
    form = chore_form(people, name="Dishes and pans", base_points="20", kind="weekly", weekdays=["0", "3"],
                      order=ids(people.maya, people.leo, people.zoe), assignees=ids(people.maya, people.leo),
                      requires_photo="1", due_time="")
    form.pop("requires_verification")  # unticked

    response = post(parent_client, f"/chores/{existing.id}/edit", form)

    assert response.status_code == 303
    (chore,) = chores_in(people.family)
    assert (chore.name, chore.base_points, chore.due_time) == ("Dishes and pans", 20, None)
    assert chore.requires_photo and not chore.requires_verification
    assert [a.member_id for a in chore.assignees] == [people.maya.id, people.leo.id]
    assert (chore.schedule.kind, chore.schedule.weekdays) == ("weekly", [0, 3])


def test_archive_hides_a_chore_and_restore_brings_it_back(people: People, parent_client: Any, post: Poster,
                                                          existing: Chore,
                                                          chores_in: Callable[..., list[Chore]]) -> None:
    assert 'hx-confirm="Archive' in parent_client.get("/chores").get_data(as_text=True)

    response = post(parent_client, f"/chores/{existing.id}/archive")

    assert response.status_code == 303
    assert not chores_in(people.family)[0].active
    assert "Dishes" not in parent_client.get("/chores").get_data(as_text=True)
    assert "Dishes" in parent_client.get("/chores?archived=1").get_data(as_text=True)

    assert post(parent_client, f"/chores/{existing.id}/restore").status_code == 303
    assert chores_in(people.family)[0].active
    assert "Dishes" in parent_client.get("/chores").get_data(as_text=True)


def test_up_and_down_buttons_reorder_the_kids_without_saving(people: People, parent_client: Any, post: Poster,
                                                             chores_in: Callable[..., list[Chore]]) -> None:
    order = ids(people.leo, people.maya, people.zoe)
    # Without JavaScript the arrow submits the whole form: the page comes back in the new order, nothing saved.
    page = post(parent_client, "/chores/new", chore_form(people, order=order, move=f"{people.zoe.id}:up"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index("Leo</span>") < html.index("Zoe</span>") < html.index("Maya</span>")
    assert chores_in(people.family) == []

    # With htmx only the list is swapped.
    fragment = post(parent_client, "/chores/assignees", chore_form(people, order=order, move=f"{people.leo.id}:down"),
                    htmx=True).get_data(as_text=True)
    assert '<div id="assignees"' in fragment and "<html" not in fragment
    assert fragment.index("Maya</span>") < fragment.index("Leo</span>") < fragment.index("Zoe</span>")
    assert f'value="{people.leo.id}:down"' in fragment and "autofocus" in fragment


# --- live validation -------------------------------------------------------------------------------------------

def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    days = [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if date(year, month, d).weekday() == weekday]
    return days[nth - 1] if nth > 0 else days[-1]


@pytest.mark.parametrize(("week", "weekday", "sentence"), [(2, 6, "Monthly on the 2nd Sun"),
                                                          (-1, 4, "Monthly on the last Fri")])
def test_live_validation_shows_the_next_five_dates(people: People, parent_client: Any, post: Poster,
                                                   chores_in: Callable[..., list[Chore]], week: int, weekday: int,
                                                   sentence: str) -> None:
    year = TODAY.year + 1
    form = chore_form(people, kind="monthly_weekday", week_of_month=str(week), month_weekday=str(weekday),
                      start_date=f"{year}-01-01")

    response = post(parent_client, "/chores/validate", form, htmx=True)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and sentence in html and "Looks good" in html
    expected = [_nth_weekday(year, month, weekday, week).isoformat() for month in range(1, 6)]
    assert [node.attributes["datetime"] for node in parse(html).css("time[datetime]")] == expected
    assert chores_in(people.family) == []  # checking never saves


def test_live_validation_lists_what_is_wrong_and_saves_nothing(people: People, parent_client: Any, post: Poster,
                                                               existing: Chore,
                                                               chores_in: Callable[..., list[Chore]]) -> None:
    html = post(parent_client, "/chores/validate", chore_form(people, name="", kind="weekly"),
                htmx=True).get_data(as_text=True)
    assert "Please give the chore a name" in html and "Pick at least one weekday" in html
    assert "<time" not in html

    # Editing: the same rules, on the chore being edited, still without saving.
    edit = chore_form(people, chore_id=str(existing.id), name="Renamed", base_points="99999")
    html = post(parent_client, "/chores/validate", edit, htmx=True).get_data(as_text=True)
    assert "base_points must be between" in html
    html = post(parent_client, "/chores/validate", {**edit, "base_points": "5"}, htmx=True).get_data(as_text=True)
    assert "Looks good" in html
    (chore,) = chores_in(people.family)
    assert (chore.name, chore.base_points) == ("Dishes", 15)


# --- bad input: 422, the form again, nothing saved -----------------------------------------------------------------

BAD_INPUT = {
    "negative points": ({"base_points": "-5"}, "base_points"),
    "zero points": ({"base_points": "0"}, "base_points"),
    "absurd points": ({"base_points": "10001"}, "base_points"),
    "absurd penalty": ({"penalty_points": "20000"}, "penalty_points"),
    "negative bonus": ({"open_bonus_points": "-1"}, "open_bonus_points"),
    "points not a number": ({"base_points": "ten"}, "base_points"),
    "empty name": ({"name": "   "}, "name"),
    "over-long name": ({"name": "x" * 101}, "name"),
    "over-long description": ({"description": "x" * 2001}, "description"),
    "over-long instructions": ({"instructions": "x" * 4001}, "instructions"),
    "over-long category": ({"category": "x" * 51}, "category"),
    "over-long icon": ({"icon_custom": "x" * 17}, "icon"),
    "minutes out of range": ({"estimated_minutes": "0"}, "estimated_minutes"),
    "age out of range": ({"min_age": "19"}, "min_age"),
    "unknown difficulty": ({"difficulty": "extreme"}, "difficulty"),
    "unknown strategy": ({"assignment_type": "lottery"}, "assignment_type"),
    "not before after the due time": ({"not_before_time": "20:00", "due_time": "19:00"}, "not_before_time"),
    "bad time": ({"due_time": "25:61"}, "due_time"),
    "schedule that never fires": ({"end_date": (TODAY + timedelta(days=3)).isoformat(),
                                   "paused_from": TODAY.isoformat(),
                                   "paused_until": (TODAY + timedelta(days=3)).isoformat()}, "kind"),
    "weekly with no weekdays": ({"kind": "weekly"}, "weekdays"),
    "monthly without a day": ({"kind": "monthly_day", "month_day": ""}, "month_day"),
    "impossible date": ({"start_date": "2026-02-30"}, "start_date"),
    "end before start": ({"end_date": (TODAY - timedelta(days=1)).isoformat()}, "end_date"),
    "pause without an end": ({"paused_from": TODAY.isoformat()}, "paused_until"),
    "one kid but nobody ticked": ({"assignment_type": "fixed", "assignees": []}, "assignees"),
}


@pytest.mark.parametrize(("changes", "field"), list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_is_refused_with_422_and_nothing_is_saved(people: People, parent_client: Any, post: Poster,
                                                            in_family: Callable[..., Any],
                                                            chores_in: Callable[..., list[Chore]],
                                                            changes: dict[str, Any], field: str) -> None:
    response = post(parent_client, "/chores/new", chore_form(people, **changes))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That wasn't saved" in html and 'role="alert"' in html
    assert has_field_error(html, field), html
    assert chores_in(people.family) == [] and count_today(in_family, people.family) == 0


def test_another_familys_kid_as_assignee_is_refused(people: People, parent_client: Any, post: Poster,
                                                    chores_in: Callable[..., list[Chore]]) -> None:
    form = chore_form(people, order=ids(people.maya, people.other_kid), assignees=ids(people.maya, people.other_kid))

    response = post(parent_client, "/chores/new", form)

    assert response.status_code == 422
    assert "Unknown member in assignees" in response.get_data(as_text=True)
    assert chores_in(people.family) == []


@pytest.mark.parametrize("changes", [{"base_points": "-1"}, {"name": ""}, {"kind": "weekly"},
                                     {"order": [], "assignees": ["not-a-uuid"]}],
                         ids=["negative points", "empty name", "no weekdays", "bad assignee"])
def test_a_bad_edit_is_refused_and_the_chore_is_unchanged(people: People, parent_client: Any, post: Poster,
                                                          existing: Chore, chores_in: Callable[..., list[Chore]],
                                                          changes: dict[str, Any]) -> None:
    response = post(parent_client, f"/chores/{existing.id}/edit", chore_form(people, **changes))

    assert response.status_code == 422
    (chore,) = chores_in(people.family)
    assert (chore.name, chore.base_points, chore.schedule.kind) == ("Dishes", 15, "daily")
    assert [a.member_id for a in chore.assignees] == [people.leo.id, people.maya.id]


# --- who may do what ----------------------------------------------------------------------------------------------

def test_another_familys_chore_is_not_found(people: People, client_for: Callable[..., Any], auth: Any,
                                            parent_client: Any, post: Poster,
                                            chores_in: Callable[..., list[Chore]]) -> None:
    theirs = client_for(people.other)
    auth.sign_in(theirs, people.other_parent, people.other)
    other_form = chore_form(people, order=[], assignees=ids(people.other_kid))
    assert post(theirs, "/chores/new", other_form).status_code == 303
    (their_chore,) = chores_in(people.other)

    assert parent_client.get(f"/chores/{their_chore.id}/edit").status_code == 404
    assert post(parent_client, f"/chores/{their_chore.id}/edit", chore_form(people)).status_code == 404
    assert post(parent_client, f"/chores/{their_chore.id}/archive").status_code == 404
    assert post(parent_client, "/chores/validate", chore_form(people, chore_id=str(their_chore.id)),
                htmx=True).status_code == 404
    assert parent_client.get("/chores/not-a-uuid/edit").status_code == 404
    assert chores_in(people.other)[0].active and chores_in(people.other)[0].name == "Dishes"


ROUTES = [
    ("GET", "/chores", None),
    ("GET", "/chores?archived=1", None),
    ("GET", "/chores/new", None),
    ("POST", "/chores/new", "form"),
    ("GET", "/chores/{chore}/edit", None),
    ("POST", "/chores/{chore}/edit", "form"),
    ("POST", "/chores/validate", "form"),
    ("POST", "/chores/assignees", "form"),
    ("POST", "/chores/{chore}/archive", None),
    ("POST", "/chores/{chore}/restore", None),
]


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access_matrix(people: People, existing: Chore, visitor: Callable[[str], Any], post: Poster,
                       chores_in: Callable[..., list[Chore]], who: str, method: str, path: str,
                       body: str | None) -> None:
    client = visitor(who)
    url = path.format(chore=existing.id)
    if method == "GET":
        response = client.get(url)
    else:
        response = post(client, url, chore_form(people, name="Changed") if body else {})

    expect_access(response, who, ok=(200, 303))
    if who != "parent":
        assert [c.name for c in chores_in(people.family)] == ["Dishes"]  # nothing changed behind the refusal


def test_a_post_without_the_csrf_token_is_refused(people: People, parent_client: Any, post: Poster,
                                                  existing: Chore, chores_in: Callable[..., list[Chore]]) -> None:
    assert post(parent_client, "/chores/new", chore_form(people, name="Sneaky"), csrf=False).status_code == 400
    assert post(parent_client, f"/chores/{existing.id}/archive", csrf=False).status_code == 400
    assert post(parent_client, "/chores/validate", chore_form(people), csrf=False, htmx=True).status_code == 400
    assert [(c.name, c.active) for c in chores_in(people.family)] == [("Dishes", True)]



def test_a_second_chore_with_the_same_name_is_warned_about_then_allowed(
        people: People, parent_client: Any, post: Poster, existing: Chore,
        chores_in: Callable[..., list[Chore]]) -> None:
    live = post(parent_client, "/chores/validate", chore_form(people, name=" dishes "), htmx=True)
    assert "You already have a chore called “Dishes”" in live.get_data(as_text=True)

    warned = post(parent_client, "/chores/new", chore_form(people, name="DISHES"))
    assert warned.status_code == 422 and len(chores_in(people.family)) == 1
    assert "Saving adds a second one" in warned.get_data(as_text=True)
    assert 'name="same_name_ok"' in warned.get_data(as_text=True)

    confirmed = post(parent_client, "/chores/new", chore_form(people, name="DISHES", same_name_ok="1"))
    assert confirmed.status_code == 303 and len(chores_in(people.family)) == 2

    other = post(parent_client, "/chores/validate", chore_form(people, name="Laundry"), htmx=True)
    assert "You already have" not in other.get_data(as_text=True)
    edit = post(parent_client, "/chores/validate", chore_form(people, chore_id=str(existing.id)), htmx=True)
    assert "You already have a chore called" in edit.get_data(as_text=True)  # "DISHES" is there too now
