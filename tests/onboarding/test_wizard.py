"""The welcome wizard: steps as pages and htmx fragments, Back/Next/Skip, resuming, kids and starter chores."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.chores.models import Chore
from app.members.models import FamilySetting
from app.tenancy.context import family_context
from tests.html import parse
from tests.members.conftest import HTMX

KID = {"display_name": "Maya", "age": "4", "pin": "2468", "avatar": "🦄"}
# Back, Skip and Next on every step; Next adds the ticked chores on the chores step and finishes on the last one.
BUTTONS = {"kids": ("Back", "Skip", "Next"), "invite": ("Back", "Skip", "Next"),
           "chores": ("Back", "Skip", "Add chores"), "done": ("Back", "Go to Today")}


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


@pytest.fixture
def progress(app: Flask, family):  # noqa: ANN001, ANN201
    """Factory: the family's saved onboarding setting (None when never saved)."""
    def read() -> object:
        with app.app_context(), family_context(family.slug) as ctx:
            return ctx.session.scalar(select(FamilySetting.value).where(FamilySetting.key == "onboarding"))
    return read


@pytest.fixture
def chore_names(app: Flask, family):  # noqa: ANN001, ANN201
    def names() -> set[str]:
        with app.app_context(), family_context(family.slug) as ctx:
            return set(ctx.session.scalars(select(Chore.name)))
    return names


def test_welcome_starts_at_the_kids_step(parent_client) -> None:
    response = parent_client.get("/welcome")

    assert response.status_code == 302 and response.headers["Location"] == "/welcome/kids"


@pytest.mark.parametrize(("step", "heading"), [("kids", "Who are the kids?"), ("invite", "Invite a co-parent"),
                                               ("chores", "Pick some starter chores"), ("done", "You're all set")])
def test_each_step_is_a_full_page_and_an_htmx_fragment(parent_client, step: str, heading: str) -> None:
    page = parent_client.get(f"/welcome/{step}")
    fragment = parent_client.get(f"/welcome/{step}", headers=HTMX)

    assert page.status_code == 200 and "<html" in _page(page) and 'id="wizard-step"' in _page(page)
    assert fragment.status_code == 200 and "<html" not in _page(fragment) and heading in _page(fragment)
    assert 'aria-current="step"' in _page(fragment) and "HX-Request" in fragment.headers["Vary"]
    for label in BUTTONS[step]:
        assert f">{label}<" in _page(fragment)


def test_unknown_steps_are_not_found(parent_client) -> None:
    assert parent_client.get("/welcome/nope").status_code == 404


def test_back_links_push_the_previous_step(parent_client) -> None:
    page = _page(parent_client.get("/welcome/invite", headers=HTMX))

    assert 'hx-get="/welcome/kids" hx-target="#wizard-step" hx-push-url="true"' in page
    assert 'aria-disabled="true">Back' in _page(parent_client.get("/welcome/kids", headers=HTMX))


def test_next_saves_progress_and_swaps_in_the_next_step(parent_client, post, progress) -> None:
    response = post(parent_client, "/welcome/kids/advance", {"choice": "next"}, htmx=True)

    assert response.status_code == 200 and "Invite a co-parent" in _page(response)
    assert response.headers["HX-Push-Url"] == "/welcome/invite"
    assert progress() == {"step": "invite", "completed": False}


def test_skip_without_htmx_redirects_to_the_next_step(parent_client, post, progress) -> None:
    response = post(parent_client, "/welcome/invite/advance", {"choice": "skip"})

    assert response.status_code == 303 and response.headers["Location"] == "/welcome/chores"
    assert progress() == {"step": "chores", "completed": False}


def test_welcome_resumes_at_the_saved_step(parent_client, post) -> None:
    post(parent_client, "/welcome/kids/advance")
    post(parent_client, "/welcome/invite/advance")

    assert parent_client.get("/welcome").headers["Location"] == "/welcome/chores"


def test_the_last_step_cannot_be_skipped_past(parent_client, post) -> None:
    assert post(parent_client, "/welcome/done/advance").status_code == 404
    assert post(parent_client, "/welcome/nope/advance").status_code == 404


def test_adding_kids_in_the_wizard_lists_them(parent_client, post, find_member) -> None:
    first = post(parent_client, "/welcome/kids", KID, htmx=True)
    second = post(parent_client, "/welcome/kids", {**KID, "display_name": "Leo", "age": "9"}, htmx=True)

    assert first.status_code == 200 and "Maya was added." in _page(first)
    assert "Kids added so far" in _page(second) and "Maya" in _page(second) and "Leo" in _page(second)
    assert "<html" not in _page(second) and 'hx-target="#wizard-step"' in _page(second)
    assert find_member("maya").age_on(date.today()) == 4


def test_an_invalid_kid_re_renders_the_step_with_messages(parent_client, post, find_member) -> None:
    response = post(parent_client, "/welcome/kids", {**KID, "pin": "12", "display_name": ""}, htmx=True)

    assert response.status_code == 422
    assert "PINs are 4 to 6 digits" in _page(response) and "Please enter a name" in _page(response)
    assert "Who are the kids?" in _page(response) and find_member("maya") is None


def test_adding_a_kid_without_htmx_redirects_back_to_the_step(parent_client, post) -> None:
    response = post(parent_client, "/welcome/kids", KID)

    assert response.status_code == 303 and response.headers["Location"] == "/welcome/kids"
    assert "Maya was added." in _page(parent_client.get("/welcome/kids"))


def test_starter_chores_are_ticked_for_the_youngest_kid(parent_client, create_member) -> None:
    today = date.today()
    create_member(username="small", display_name="Small", birthdate=today - timedelta(days=365 * 4 + 30))
    create_member(username="big", display_name="Big", birthdate=today - timedelta(days=365 * 12 + 30))

    page = _page(parent_client.get("/welcome/chores"))

    assert 'value="make-bed" checked' in page  # age 3+
    assert 'value="mow">' in page and 'value="mow" checked' not in page  # age 13+
    assert "your youngest (4)" in page


def test_chosen_starter_chores_become_real_chores(parent_client, post, chore_names, progress) -> None:
    response = post(parent_client, "/welcome/chores", {"chores": ["make-bed", "trash"]}, htmx=True)

    assert response.status_code == 200 and "Added 2 chores." in _page(response) and "You're all set" in _page(response)
    assert response.headers["HX-Push-Url"] == "/welcome/done"
    assert chore_names() == {"Make your bed", "Take out the trash"}
    assert progress() == {"step": "done", "completed": False}
    again = _page(parent_client.get("/welcome/chores"))
    assert 'value="make-bed" checked disabled' in again and "already added" in again


def test_unknown_starter_chores_are_refused(parent_client, post, chore_names) -> None:
    response = post(parent_client, "/welcome/chores", {"chores": ["make-bed", "rob-a-bank"]}, htmx=True)

    assert response.status_code == 422 and "Unknown starter chore: rob-a-bank" in _page(response)
    assert chore_names() == set()


def test_finish_marks_the_wizard_done_and_opens_today(parent_client, post, progress) -> None:
    plain = post(parent_client, "/welcome/finish")
    htmx = post(parent_client, "/welcome/finish", htmx=True)

    assert plain.status_code == 303 and plain.headers["Location"] == "/today"
    assert htmx.headers["HX-Redirect"] == "/today"
    assert progress() == {"step": "done", "completed": True}
    assert parent_client.get("/welcome").headers["Location"] == "/welcome/done"


def test_going_back_after_finishing_keeps_it_finished(parent_client, post, progress) -> None:
    post(parent_client, "/welcome/finish")
    post(parent_client, "/welcome/kids/advance")

    assert progress() == {"step": "invite", "completed": True}


def test_done_step_summarises_the_family(parent_client, post, kid) -> None:
    post(parent_client, "/welcome/chores", {"chores": ["make-bed"]})

    page = _page(parent_client.get("/welcome/done"))
    assert "1 kid<" in page and "1 chore<" in page and "0 invitations" in page


def test_starter_chores_come_scheduled_and_shared_and_the_summary_shows_tomorrow(
        parent_client, post, create_member, in_family, family) -> None:  # noqa: ANN001
    today = date.today()
    ava = create_member(username="ava", display_name="Ava", birthdate=today - timedelta(days=365 * 6 + 30))
    ben = create_member(username="ben", display_name="Ben", birthdate=today - timedelta(days=365 * 10 + 30))
    post(parent_client, "/welcome/chores", {"chores": ["make-bed", "set-table", "clear-table", "trash"]})

    with in_family(family) as ctx:
        chores = {c.name: c for c in ctx.session.scalars(
            select(Chore).options(selectinload(Chore.schedule), selectinload(Chore.assignees)))}
        assert all(c.schedule is not None for c in chores.values())  # never "No schedule"
        assert chores["Make your bed"].assignment_type == "each" and chores["Make your bed"].schedule.kind == "daily"
        assert chores["Take out the trash"].schedule.weekdays == [0, 3]
        assert {chores[name].assignment_type for name in ("Set the table", "Clear the table")} == {"round_robin"}
        # Turns start with a different kid on each shared chore; the trash needs 8, so only Ben.
        order = {name: [a.member_id for a in sorted(chores[name].assignees, key=lambda a: a.position)]
                 for name in ("Set the table", "Clear the table", "Take out the trash")}
        assert order["Set the table"] == [ava.id, ben.id] and order["Clear the table"] == [ben.id, ava.id]
        assert order["Take out the trash"] == [ben.id]

    page = parse(parent_client.get("/welcome/done").get_data(as_text=True))
    tomorrow = {item.css_first("strong").text(): item.text() for item in page.css(".tomorrow-list li")}
    assert set(tomorrow) == {"Ava", "Ben"}
    assert "Make your bed" in tomorrow["Ava"] and "Make your bed" in tomorrow["Ben"]
    shared = ["Set the table" in tomorrow[kid] for kid in ("Ava", "Ben")] + [
        "Clear the table" in tomorrow[kid] for kid in ("Ava", "Ben")]
    assert shared.count(True) == 2  # each shared chore goes to one kid tomorrow


def test_each_new_kid_is_offered_a_colour_nobody_has_yet(parent_client, create_member, in_family, family) -> None:  # noqa: ANN001
    from app.members.models import Member

    create_member(username="ava", display_name="Ava", color="#e84393")
    with in_family(family) as ctx:
        taken = set(ctx.session.scalars(select(Member.color)))

    offered = parse(parent_client.get("/welcome/kids").get_data(as_text=True)).css_first("input[name=color]")
    assert offered.attributes["value"] not in taken and len(taken) >= 2
