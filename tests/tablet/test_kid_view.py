"""The kid's view: only my chores and open ones, tap → done in one step, claiming, live events, rejections."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments.models import Assignment
from app.members.models import Member
from app.points.models import LedgerEntry
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient
from tests.html import first_element, one
from tests.tablet.conftest import HTMX, EventListener, Poster


def card_html(html: str, assignment: Assignment) -> str:
    """The <li> of one assignment's card in a page or fragment."""
    return one(html, f"li#chore-{assignment.id}").html or ""


def test_the_kid_sees_their_own_chores_and_open_ones_only(signed_in: Callable[..., FamilyClient], maya: Member,
                                                         leo: Member, make_assignment: Callable[..., Assignment]
                                                         ) -> None:
    mine = make_assignment(maya, name="Make your bed", points=5)
    waiting = make_assignment(maya, name="Feed the cat", status="pending_verification")
    rejected = make_assignment(maya, name="Tidy your room", rejection_reason="The floor is still covered in lego")
    make_assignment(maya, name="Excused today", status="skipped")
    make_assignment(leo, name="Leo's own job")
    open_chore = make_assignment(None, name="Wash the car", points=25)
    make_assignment(None, name="Mow the lawn", chore={"min_age": 16})

    page = signed_in(maya).get("/me")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Leo's own job" not in html and "Excused today" not in html
    assert "Mow the lawn" not in html  # open, but Maya is too young for it
    todo = card_html(html, mine)
    assert "🛏️" in todo and "5 points" in todo and "Any time today" in todo and "To do" in todo
    assert f'hx-post="/me/assignments/{mine.id}/complete"' in todo and ">I did it!</button>" in todo
    assert "Waiting for a parent" in card_html(html, waiting)
    assert "The floor is still covered in lego" in card_html(html, rejected)
    grab = card_html(html, open_chore)
    assert "25 points" in grab and f'hx-post="/me/assignments/{open_chore.id}/claim"' in grab
    assert html.index("My chores today") < html.index("Wash the car")  # open chores come after mine
    assert html.index("Make your bed") < html.index("Feed the cat")  # things to do before things done


def test_points_and_streak_are_at_the_top(signed_in: Callable[..., FamilyClient], create_member: Callable[..., Member]
                                          ) -> None:
    kid = create_member(username="sam", display_name="Sam", available_points=42)
    html = signed_in(kid).get("/me").get_data(as_text=True)
    assert ">42</span> points" in html and "data-points-counter" in html
    assert "start a streak" in html


def test_tapping_a_chore_that_needs_a_check_waits_for_a_parent(signed_in: Callable[..., FamilyClient], post: Poster,
                                                              maya: Member, make_assignment: Callable[..., Assignment],
                                                              load: Callable[..., object],
                                                              live_events: EventListener) -> None:
    chore = make_assignment(maya, points=10)
    client = signed_in(maya)

    response = post(client, f"/me/assignments/{chore.id}/complete")

    assert response.status_code == 200
    card = response.get_data(as_text=True)
    assert first_element(response).css_matches(f"li#chore-{chore.id}.flipped")
    assert "Waiting for a parent" in card and "I did it!" not in card
    assert json.loads(response.headers["HX-Trigger"]) == {
        "pointsChanged": {"points": 0},
        "announce": {"message": "Make your bed: Done! Waiting for a parent", "target": "body"}}  # said aloud
    stored = load(Assignment, chore.id)
    assert stored.status == "pending_verification" and stored.completed_by == maya.id
    events = live_events.received("assignmentChanged", "pointsChanged", timeout=0.5)
    assert events == [{"event": "assignmentChanged", "data": {"assignment_id": str(chore.id),
                                                              "status": "pending_verification",
                                                              "member_id": str(maya.id)}}]


def test_tapping_a_chore_without_a_check_credits_the_points_at_once(signed_in: Callable[..., FamilyClient],
                                                                   post: Poster, maya: Member,
                                                                   make_assignment: Callable[..., Assignment],
                                                                   load: Callable[..., object],
                                                                   in_family, family: FamilyRecord,  # noqa: ANN001
                                                                   live_events: EventListener) -> None:
    chore = make_assignment(maya, points=15, chore={"requires_verification": False})

    response = post(signed_in(maya), f"/me/assignments/{chore.id}/complete")

    assert response.status_code == 200
    assert "Done!" in response.get_data(as_text=True) and "+15 points" in response.get_data(as_text=True)
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["pointsChanged"] == {"points": 15} and trigger["announce"]["message"].endswith(": Done! +15 points")
    assert load(Assignment, chore.id).status == "verified"
    assert load(Member, maya.id).available_points == 15
    with in_family(family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    events = live_events.received("assignmentChanged", "pointsChanged")
    assert [event["event"] for event in events] == ["assignmentChanged", "pointsChanged"]
    assert events[1]["data"] == {"member_id": str(maya.id)}


def test_a_second_tap_shows_the_card_as_it_is(signed_in: Callable[..., FamilyClient], post: Poster, maya: Member,
                                              make_assignment: Callable[..., Assignment], in_family,  # noqa: ANN001
                                              family: FamilyRecord) -> None:
    chore = make_assignment(maya, points=15, chore={"requires_verification": False})
    client = signed_in(maya)
    post(client, f"/me/assignments/{chore.id}/complete")
    again = post(client, f"/me/assignments/{chore.id}/complete")
    assert again.status_code == 200 and "Done!" in again.get_data(as_text=True)
    with in_family(family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1  # credited once


def test_without_htmx_a_tap_goes_back_to_the_kids_page(signed_in: Callable[..., FamilyClient], post: Poster,
                                                       maya: Member, make_assignment: Callable[..., Assignment]
                                                       ) -> None:
    chore = make_assignment(maya)
    response = post(signed_in(maya), f"/me/assignments/{chore.id}/complete", htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == "/me"


def test_a_kid_cannot_complete_a_siblings_chore(signed_in: Callable[..., FamilyClient], post: Poster, maya: Member,
                                                leo: Member, make_assignment: Callable[..., Assignment],
                                                load: Callable[..., object]) -> None:
    theirs = make_assignment(leo)
    response = post(signed_in(maya), f"/me/assignments/{theirs.id}/complete")
    assert response.status_code == 404
    assert load(Assignment, theirs.id).status == "pending"


def test_a_tap_kept_on_the_tablet_is_refused_during_another_kids_turn_and_taken_during_its_own(
        signed_in: Callable[..., FamilyClient], post: Poster, maya: Member, leo: Member,
        make_assignment: Callable[..., Assignment], load: Callable[..., object]) -> None:
    """X-Tapped-By names the kid a replayed tap belongs to: anyone else is told 403 (the tablet keeps the tap), not
    404 (which would tell it the chore is gone); its own kid gets it done."""
    chore = make_assignment(maya)
    path = f"/me/assignments/{chore.id}/complete"

    for tapped_by in (str(maya.id), "not-a-member", "\u00e9" * 300):  # Maya's tap, sent during Leo's turn
        refused = post(signed_in(leo), path, headers={"X-Tapped-By": tapped_by})
        assert refused.status_code == 403 and "HX-Retarget" not in refused.headers
    assert load(Assignment, chore.id).status == "pending"

    done = post(signed_in(maya), path, headers={"X-Tapped-By": str(maya.id)})
    assert done.status_code == 200 and "Waiting for a parent" in done.get_data(as_text=True)
    assert load(Assignment, chore.id).status == "pending_verification"


def test_the_kids_page_says_whose_it_is_and_which_day(signed_in: Callable[..., FamilyClient], maya: Member) -> None:
    """The tablet's script keeps an offline tap for the kid and the family's day the page shows."""
    html = signed_in(maya).get("/me").get_data(as_text=True)
    assert one(html, "[data-member-id]").attrs["data-member-id"] == str(maya.id)
    assert len(one(html, "#kid-chores[data-family-day]").attrs["data-family-day"]) == len("2026-12-06")


@pytest.mark.parametrize(("language", "said", "button"), [
    (None, "Not yet: this chore opens at 23:59", "I did it!"),
    ("es", "Todavía no: esta tarea se abre a las 23:59", "¡La hice!"),
])
def test_a_chore_that_is_not_open_yet_says_when(signed_in: Callable[..., FamilyClient], post: Poster, maya: Member,
                                                make_assignment: Callable[..., Assignment], in_family: Any,
                                                family: FamilyRecord, language: str | None, said: str,
                                                button: str) -> None:
    from datetime import time

    with in_family(family) as ctx:
        ctx.session.get(Member, maya.id).language = language
        ctx.session.commit()
    chore = make_assignment(maya, chore={"not_before_time": time(23, 59, 58)})
    response = post(signed_in(maya), f"/me/assignments/{chore.id}/complete")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert said in html and button in html
    # The 4xx rule (app.htmx): a refusal names where it goes, so htmx swaps it onto the card tapped.
    assert response.headers["HX-Retarget"] == f"#chore-{chore.id}" and response.headers["HX-Reswap"] == "outerHTML"


def test_claiming_an_open_chore_moves_it_into_my_list(signed_in: Callable[..., FamilyClient], post: Poster,
                                                      maya: Member, make_assignment: Callable[..., Assignment],
                                                      load: Callable[..., object], live_events: EventListener
                                                      ) -> None:
    open_chore = make_assignment(None, name="Wash the car", points=25)
    response = post(signed_in(maya), f"/me/assignments/{open_chore.id}/claim")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Up for grabs" not in html  # nothing else is open
    mine = card_html(html, open_chore)
    assert "To do" in mine and f"/me/assignments/{open_chore.id}/complete" in mine
    stored = load(Assignment, open_chore.id)
    assert stored.assigned_to == maya.id and stored.status == "pending"
    assert live_events.received("assignmentChanged")[0]["data"]["status"] == "pending"


def test_the_second_kid_to_claim_is_told_it_is_taken(signed_in: Callable[..., FamilyClient], post: Poster,
                                                     maya: Member, create_member: Callable[..., Member],
                                                     make_assignment: Callable[..., Assignment],
                                                     load: Callable[..., object]) -> None:
    sam = create_member(username="sam", display_name="Sam")
    open_chore = make_assignment(None, name="Wash the car")
    assert post(signed_in(maya), f"/me/assignments/{open_chore.id}/claim").status_code == 200

    late = post(signed_in(sam), f"/me/assignments/{open_chore.id}/claim")

    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "Too late" in html and "Wash the car" not in html
    assert late.headers["HX-Retarget"] == "#kid-chores" and late.headers["HX-Reswap"] == "innerHTML"
    assert load(Assignment, open_chore.id).assigned_to == maya.id


def test_a_kid_cannot_claim_a_siblings_assigned_chore(signed_in: Callable[..., FamilyClient], post: Poster,
                                                      maya: Member, leo: Member,
                                                      make_assignment: Callable[..., Assignment]) -> None:
    theirs = make_assignment(leo)
    assert post(signed_in(maya), f"/me/assignments/{theirs.id}/claim").status_code == 404


def test_fragments_refresh_live(signed_in: Callable[..., FamilyClient], maya: Member,
                                make_assignment: Callable[..., Assignment]) -> None:
    chore = make_assignment(maya)
    client = signed_in(maya)
    page = client.get("/me").get_data(as_text=True)
    assert 'hx-get="/me/stats"' in page
    assert 'hx-trigger="sse:pointsChanged, sse:assignmentChanged, livePoll from:body"' in page
    assert 'hx-get="/me/chores"' in page and 'hx-trigger="sse:assignmentChanged delay:1s, livePoll from:body"' in page
    assert 'sse-connect="/events"' in page

    cards = client.get("/me/chores", headers=HTMX)
    assert cards.status_code == 200 and "HX-Redirect" not in cards.headers
    assert first_element(cards).css_matches("section.kid-list")
    assert f'id="chore-{chore.id}"' in cards.get_data(as_text=True)
    stats = client.get("/me/stats", headers=HTMX)
    assert stats.status_code == 200 and "points" in stats.get_data(as_text=True) and "<html" not in stats.get_data(
        as_text=True)


def test_photo_chores_ask_for_the_camera(signed_in: Callable[..., FamilyClient], maya: Member,
                                        make_assignment: Callable[..., Assignment]) -> None:
    chore = make_assignment(maya, chore={"requires_photo": True})
    card = card_html(signed_in(maya).get("/me").get_data(as_text=True), chore)
    assert 'enctype="multipart/form-data"' in card and 'hx-encoding="multipart/form-data"' in card
    assert one(card, 'input[type=file][name=photo][accept="image/*"][capture=environment][required]')
