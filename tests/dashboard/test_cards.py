"""What the Today page's templates receive: plain rows of the day, every item's buttons with their URLs and names,
and the week chart's bars measured in Python."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask, url_for

from app.dashboard.cards import Page, url_pattern
from app.assignments.services import DayAssignment, DayChore
from app.dashboard.services import list_day_assignments
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.members.models import Member
from tests.chores.page_helpers import People
from tests.factories import create_assignment, create_chore
from tests.html import one, select

TODAY = utcnow().date()
SUNDAY = date(2026, 12, 6)  # the last day of its week (weeks start on Monday)


def _assignment(status: str, *, name: str = "Dishes <&>", due_at: datetime | None = None) -> DayAssignment:
    return DayAssignment(id=uuid.uuid4(), status=status, assigned_to=uuid.uuid4(),
                         due_at=due_at or FamilyClock("UTC").at(SUNDAY, None), points_offered=10,
                         points_earned=8 if status == "verified" else None, rejection_reason=None,
                         completion_notes=None, photo_name=None,
                         chore=DayChore(name=name, icon="🧽", requires_photo=False, min_age=0))


@pytest.fixture
def on_page(app: Flask, people: People, in_family: Callable[..., Any]) -> Any:
    """A request of this family's (its URLs name it)."""
    with in_family(people.family), app.test_request_context("/today"):
        yield


@pytest.fixture
def page(on_page: None) -> Page:
    return Page(FamilyClock("UTC"), SUNDAY, datetime(2026, 12, 6, 12, tzinfo=timezone.utc))


def test_a_url_pattern_builds_what_url_for_builds(on_page: None) -> None:
    key = uuid.uuid4()
    for action in ("approve", "reject", "complete", "undo", "skip", "reopen"):
        assert url_pattern(f"dashboard.{action}", "assignment_id")(key) == url_for(f"dashboard.{action}",
                                                                                   assignment_id=key)


@pytest.mark.parametrize(("status", "buttons"), [
    ("pending_verification", [("approve", "Approve", "approve", "Approve: Dishes &lt;&amp;&gt;"),
                              ("reject", "Reject…", "secondary", "Reject: Dishes &lt;&amp;&gt;"),
                              ("undo", "Undo", "secondary", "Undo completion: Dishes &lt;&amp;&gt;")]),
    ("missed", [("reopen", "Re-open", "secondary", "Re-open: Dishes &lt;&amp;&gt;"),
                ("skip", "Skip", "secondary", "Skip: Dishes &lt;&amp;&gt;")]),
    ("pending", [("complete", "Done", "approve", "Mark done for Maya &lt;3: Dishes &lt;&amp;&gt;"),
                 ("skip", "Skip", "secondary", "Skip: Dishes &lt;&amp;&gt;")]),
    ("verified", [("undo", "Undo", "secondary", "Undo completion: Dishes &lt;&amp;&gt;")]),
    ("skipped", []),
])
def test_each_state_gets_its_buttons_with_escaped_names(page: Page, status: str,
                                                         buttons: list[tuple[str, str, str, str]]) -> None:
    assignment = _assignment(status)
    item = page.item(assignment, Member(display_name="Maya <3"))

    assert [(a.url.rsplit("/", 1)[1], str(a.label), a.css, str(a.aria)) for a in item.actions] == buttons
    assert all(f"/today/assignments/{assignment.id}/" in a.url for a in item.actions)
    assert [a.is_reject for a in item.actions] == [verb == "reject" for verb, *_ in buttons]
    points = 8 if status == "verified" else 10
    assert item.meta == f"{points} pts · due today"


def test_a_chore_due_at_a_time_says_the_time(page: Page) -> None:
    assignment = _assignment("pending", due_at=datetime(2026, 12, 6, 17, 30, tzinfo=timezone.utc))
    assert page.item(assignment, Member(display_name="Leo")).meta == "10 pts · due 17:30"


def test_the_week_bars_are_scaled_to_the_busiest_day(page: Page) -> None:
    kid = uuid.uuid4()
    monday = SUNDAY - timedelta(days=6)
    summary = {(kid, monday): {"total": 4, "verified": 1}, (kid, monday + timedelta(days=2)): {"total": 3,
                                                                                             "verified": 3}}
    bars = page.bars(kid, summary)

    assert [bar.day.day for bar in bars] == [monday + timedelta(days=n) for n in range(7)]
    assert [bar.x for bar in bars] == [5, 35, 65, 95, 125, 155, 185]
    assert (bars[0].total_height, bars[0].total_y, bars[0].done_height, bars[0].done_y) == (44.0, 6.0, 11.0, 39.0)
    assert (bars[2].total_height, bars[2].done_height) == (33.0, 33.0)
    assert (bars[1].total_height, bars[1].total_y, bars[1].done) == (2, 48, 0)  # an empty day: a stub
    assert [str(bars[n].described) for n in (0, 1)] == ["1 of 4 done", "nothing assigned"]
    assert str(bars[1].state) == "0 of 0 done"
    assert bars[6].day.is_today and not bars[6].day.is_future
    assert (bars[0].day.weekday, bars[0].day.short, bars[0].day.letters) == ("Monday", "Mon 30 Nov", "Mo")


def test_a_day_still_ahead_is_not_yet(on_page: None) -> None:
    wednesday = SUNDAY - timedelta(days=4)
    bars = Page(FamilyClock("UTC"), wednesday, datetime(2026, 12, 2, 12, tzinfo=timezone.utc)).bars(uuid.uuid4(), {})
    assert [bar.day.is_future for bar in bars] == [False, False, False, True, True, True, True]
    assert [str(bar.described) for bar in bars[2:4]] == ["nothing assigned", "not yet"]


def test_the_days_rows_are_plain_values_of_active_chores_in_due_order(
        people: People, in_family: Callable[..., Any]) -> None:
    with in_family(people.family) as ctx:
        session = ctx.session
        late, early, gone, other, spare = (create_chore(session, name=name, icon="🧽")
                                           for name in ("Late", "Early", "Gone", "Other", "Spare"))
        gone.active = False
        evening = FamilyClock("UTC").at(TODAY, None) - timedelta(hours=2)
        create_assignment(session, late, people.maya, TODAY)
        create_assignment(session, early, people.maya, TODAY, due_at=evening, status="pending_verification",
                          completion_notes="All done")
        create_assignment(session, gone, people.maya, TODAY)
        create_assignment(session, other, people.leo, TODAY)
        create_assignment(session, spare, None, TODAY)
        create_assignment(session, late, people.maya, TODAY - timedelta(days=1))
        session.commit()

        everyone = list_day_assignments(session, TODAY)
        mayas = list_day_assignments(session, TODAY, member_id=people.maya.id)

    assert all(type(row) is DayAssignment for row in everyone)
    assert [(row.chore.name, row.assigned_to) for row in everyone] == [
        ("Early", people.maya.id), ("Late", people.maya.id), ("Other", people.leo.id), ("Spare", None)]
    assert everyone[0].completion_notes == "All done" and everyone[0].status == "pending_verification"
    assert [(row.chore.name, row.assigned_to) for row in mayas] == [
        ("Early", people.maya.id), ("Late", people.maya.id), ("Spare", None)]


def test_the_page_writes_out_the_prepared_buttons(people: People, parent_client: Any,
                                                  in_family: Callable[..., Any]) -> None:
    with in_family(people.family) as ctx:
        chore = create_chore(ctx.session, name="Feed <the> cat", icon="🐱")
        waiting = create_assignment(ctx.session, chore, people.leo, TODAY, status="pending_verification")
        ctx.session.commit()
        waiting_id = waiting.id

    html = parent_client.get("/today").get_data(as_text=True)

    item = f"#assignment-{waiting_id}"
    approve = one(html, f"{item} button.approve")
    assert approve.attributes["aria-label"] == "Approve: Feed <the> cat" and approve.text() == "Approve"
    forms = [(form.attributes["action"], form.attributes["hx-post"]) for form in select(html, f"{item} form")]
    assert forms == [(f"/today/assignments/{waiting_id}/{verb}",) * 2 for verb in ("approve", "reject", "undo")]
    assert len({field.attributes["value"] for field in select(html, f"{item} input[name=csrf_token]")}) == 1
