"""The presence calendar page: the month grid follows patterns and exceptions; rules are added and deleted; bad dates
are refused with 422; only this family's parents get in."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from app.presence.models import PresenceException, PresencePattern
from tests.chores.page_helpers import (  # noqa: F401 - pytest fixtures
    HTMX,
    VISITORS,
    People,
    Poster,
    expect_access,
    parent_client,
    people,
    post,
    visitor,
)
from tests.html import one, squash

MONTH = "2027-03"  # March 2027: Monday the 1st, so the grid starts on it (weeks start on Monday)


def cell(html: str, day: str) -> tuple[list[str], str]:
    """(who is home, the cell's text) for one day of the month grid."""
    found = one(html, f'td[data-day="{day}"]')
    home = [str(node.attributes["title"]).removesuffix(" is home") for node in found.css('[title$=" is home"]')]
    return home, squash(found.text(separator=" "))


def rules_count(in_family: Callable[..., Any], people: People) -> tuple[int, int]:
    with in_family(people.family) as ctx:
        return (ctx.session.scalar(select(func.count()).select_from(PresencePattern)),
                ctx.session.scalar(select(func.count()).select_from(PresenceException)))


def pattern(**overrides: Any) -> dict[str, Any]:
    form = {"kind": "alternate_weeks", "weekdays": ["4", "5"], "anchor_date": "2027-03-05", "presence": "away",
            "transition_time": "18:00", "label": "Weekends with Dad", "month": MONTH}
    form.update(overrides)
    return form


def exception(**overrides: Any) -> dict[str, Any]:
    form = {"start_date": "2027-03-10", "end_date": "2027-03-12", "presence": "away", "transition_time": "08:00",
            "note": "Camp", "month": MONTH}
    form.update(overrides)
    return form


def test_the_month_grid_follows_patterns_exceptions_and_overrides(people: People, parent_client: Any,
                                                                  post: Poster) -> None:
    kid = "/calendar/members/{}/"
    assert post(parent_client, kid.format(people.leo.id) + "patterns", pattern()).status_code == 303
    assert post(parent_client, kid.format(people.maya.id) + "exceptions", exception()).status_code == 303
    one_day = exception(start_date="2027-03-20", end_date="", transition_time="", note="Sleepover")
    assert post(parent_client, kid.format(people.zoe.id) + "exceptions", one_day).status_code == 303

    html = parent_client.get(f"/calendar?month={MONTH}").get_data(as_text=True)

    assert "March 2027" in html
    assert cell(html, "2027-03-04")[0] == ["Leo", "Maya", "Zoe"]  # nobody has anything on
    home, text = cell(html, "2027-03-05")  # Leo's first weekend away starts Friday at 18:00
    assert home == ["Maya", "Zoe"] and "Leo leaves 18:00" in text
    assert cell(html, "2027-03-06")[0] == ["Maya", "Zoe"]
    home, text = cell(html, "2027-03-07")  # ...and ends Sunday at 18:00
    assert home == ["Leo", "Maya", "Zoe"] and "Leo arrives 18:00" in text
    assert "Leo" in cell(html, "2027-03-12")[0]  # every other weekend: not the next one
    assert "Leo" not in cell(html, "2027-03-19")[0]  # but the one after
    home, text = cell(html, "2027-03-10")  # Maya's camp, Wednesday to Friday
    assert home == ["Leo", "Zoe"] and "Maya leaves 08:00" in text
    assert "Maya" not in cell(html, "2027-03-12")[0]
    home, text = cell(html, "2027-03-13")
    assert "Maya" in home and "Maya arrives 08:00" in text
    home, text = cell(html, "2027-03-20")  # Zoe's one-day override, with no changeover time
    assert "Zoe" not in home and "Zoe leaves" in text and "Zoe leaves 0" not in text
    assert "Zoe arrives" in cell(html, "2027-03-21")[1]
    assert 'data-day="2027-02-28"' not in html and 'data-day="2027-04-04"' in html  # whole weeks, Monday first


def test_prev_and_next_month_come_as_a_fragment_for_htmx(people: People, parent_client: Any) -> None:
    page = parent_client.get(f"/calendar?month={MONTH}")
    fragment = parent_client.get("/calendar?month=2027-04", headers=HTMX)

    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    html = fragment.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="month"' in html and "April 2027" in html and "month=2027-03" in html and "month=2027-05" in html
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert "Patterns and exceptions" not in html  # the rules panels stay where they are


def test_adding_and_deleting_rules_with_htmx_refreshes_the_panel_and_tells_the_grid(
        people: People, parent_client: Any, post: Poster, in_family: Callable[..., Any]) -> None:
    base = f"/calendar/members/{people.leo.id}"

    added = post(parent_client, f"{base}/patterns", pattern(), htmx=True)

    assert added.status_code == 200
    assert json.loads(added.headers["HX-Trigger"]) == {"presenceChanged": None}
    html = added.get_data(as_text=True)
    assert f'id="kid-{people.leo.id}"' in html and "Weekends with Dad" in html and "<html" not in html
    assert rules_count(in_family, people) == (1, 0)

    added = post(parent_client, f"{base}/exceptions", exception(start_date="2099-07-01", end_date="2099-07-14"),
                 htmx=True)
    assert added.status_code == 200 and "Camp" in added.get_data(as_text=True)
    assert rules_count(in_family, people) == (1, 1)

    with in_family(people.family) as ctx:
        pattern_id = ctx.session.scalar(select(PresencePattern.id))
        exception_id = ctx.session.scalar(select(PresenceException.id))
    deleted = post(parent_client, f"{base}/rules/{pattern_id}/delete", {"month": MONTH}, htmx=True)
    assert deleted.status_code == 200 and "presenceChanged" in deleted.headers["HX-Trigger"]
    assert "Weekends with Dad" not in deleted.get_data(as_text=True)
    assert rules_count(in_family, people) == (0, 1)

    plain = post(parent_client, f"{base}/rules/{exception_id}/delete", {"month": MONTH})
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(f"/calendar?month={MONTH}#kid-{people.leo.id}")
    assert rules_count(in_family, people) == (0, 0)


def test_presets_fill_the_pattern_form(people: People, parent_client: Any) -> None:
    url = f"/calendar/members/{people.maya.id}/pattern-form"

    weekend = parent_client.get(f"{url}?preset=weekend", headers=HTMX).get_data(as_text=True)

    assert "<html" not in weekend and f'id="pattern-form-{people.maya.id}"' in weekend
    assert 'value="alternate_weeks" checked' in weekend and 'value="18:00"' in weekend
    assert 'value="4" checked' in weekend and 'value="5" checked' in weekend and 'value="6" checked' not in weekend
    weeks = parent_client.get(f"{url}?preset=alternate_weeks", headers=HTMX).get_data(as_text=True)
    assert all(f'value="{d}" checked' in weeks for d in range(7))
    # Without htmx the link opens the calendar with that form filled in.
    page = parent_client.get(f"{url}?preset=weekend").get_data(as_text=True)
    assert "<html" in page and "Every other weekend, Fri 18:00 → Sun 18:00" in page


BAD_RULES = {
    "impossible first day": ("exceptions", exception(start_date="2027-02-30")),
    "last day before the first": ("exceptions", exception(end_date="2027-03-01")),
    "no first day": ("exceptions", exception(start_date="")),
    "longer than a year": ("exceptions", exception(end_date="2028-06-01")),
    "bad changeover time": ("exceptions", exception(transition_time="25:00")),
    "pattern without weekdays": ("patterns", pattern(weekdays=[])),
    "pattern on day 9": ("patterns", pattern(weekdays=["9"])),
    "pattern with a bad anchor": ("patterns", pattern(anchor_date="someday")),
    "pattern of an unknown kind": ("patterns", pattern(kind="monthly")),
}


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(("kind", "form"), list(BAD_RULES.values()), ids=list(BAD_RULES))
def test_bad_rules_are_refused_with_422_and_nothing_is_saved(people: People, parent_client: Any, post: Poster,
                                                             in_family: Callable[..., Any], kind: str,
                                                             form: dict[str, Any], htmx: bool) -> None:
    response = post(parent_client, f"/calendar/members/{people.zoe.id}/{kind}", form, htmx=htmx)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="form-error" role="alert"' in html
    assert ("<html" in html) is not htmx
    assert rules_count(in_family, people) == (0, 0)


def test_a_malformed_month_is_a_400(people: People, parent_client: Any) -> None:
    assert parent_client.get("/calendar?month=2027-13").status_code == 400
    assert parent_client.get("/calendar?month=march").status_code == 400
    assert parent_client.get("/calendar?month=1066-10").status_code == 400


def test_another_familys_kid_and_rules_are_not_found(people: People, parent_client: Any, post: Poster,
                                                     client_for: Callable[..., Any], auth: Any,
                                                     in_family: Callable[..., Any]) -> None:
    theirs = client_for(people.other)
    auth.sign_in(theirs, people.other_parent, people.other)
    assert post(theirs, f"/calendar/members/{people.other_kid.id}/patterns", pattern()).status_code == 303
    with in_family(people.other) as ctx:
        their_rule = ctx.session.scalar(select(PresencePattern.id))

    assert post(parent_client, f"/calendar/members/{people.other_kid.id}/patterns", pattern()).status_code == 404
    assert post(parent_client, f"/calendar/members/{people.other_kid.id}/exceptions", exception()).status_code == 404
    assert post(parent_client, f"/calendar/members/{people.leo.id}/rules/{their_rule}/delete").status_code == 404
    assert post(parent_client, f"/calendar/members/{people.leo.id}/rules/not-a-uuid/delete").status_code == 404
    assert parent_client.get(f"/calendar/members/{people.other_kid.id}/pattern-form").status_code == 404
    with in_family(people.other) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(PresencePattern)) == 1


ROUTES = [
    ("GET", "/calendar", None),
    ("GET", f"/calendar?month={MONTH}", None),
    ("GET", "/calendar/members/{kid}/pattern-form?preset=weekend", None),
    ("POST", "/calendar/members/{kid}/patterns", pattern()),
    ("POST", "/calendar/members/{kid}/exceptions", exception()),
    ("POST", "/calendar/members/{kid}/rules/{rule}/delete", {}),
]


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access_matrix(people: People, visitor: Callable[[str], Any], post: Poster, in_family: Callable[..., Any],
                       who: str, method: str, path: str, body: dict[str, Any] | None) -> None:
    with in_family(people.family) as ctx:
        rule = PresenceException(member_id=people.leo.id, start_date=date(2027, 1, 1), end_date=date(2027, 1, 2),
                                 present=False)
        ctx.session.add(rule)
        ctx.session.commit()
        rule_id = rule.id
    client = visitor(who)
    url = path.format(kid=people.leo.id, rule=rule_id)
    response = client.get(url) if method == "GET" else post(client, url, body)

    expect_access(response, who, ok=(200, 303))
    if who != "parent":
        assert rules_count(in_family, people) == (0, 1)


def test_a_post_without_the_csrf_token_is_refused(people: People, parent_client: Any, post: Poster,
                                                  in_family: Callable[..., Any]) -> None:
    response = post(parent_client, f"/calendar/members/{people.leo.id}/patterns", pattern(), csrf=False)

    assert response.status_code == 400
    assert rules_count(in_family, people) == (0, 0)
