"""The main pages, rendered in Spanish, show no English UI words (the family's own names and data aside)."""
from __future__ import annotations

import re

import pytest

from app.auth import DEVICE_COOKIE
from app.auth.services import register_device, start_session
from app.db.bases import utcnow
from app.members.models import Member
from tests.factories import create_reward
from tests.html import parse, squash

# English words of the interface that never appear in the Spanish pages (user data is removed before looking).
ENGLISH = re.compile(r"\b(the|and|your|you|with|points?|Save|Edit|Delete|Cancel|Sign (in|out)|Settings|Members|"
                     r"Rewards|Reports|Allowance|Badges|Notifications|Calendar|Today|Home|Add|Approve|Reject|"
                     r"Request|Waiting|Kids?|Parents?|chores?|done)\b")
PARENT_PAGES = ["/today", "/chores", "/chores/new", "/rewards", "/rewards/new", "/members", "/members/new-kid",
                "/settings", "/settings/calendar", "/settings/delete",
                "/reports", "/calendar", "/allowance", "/badges", "/notifications", "/notifications/preferences",
                "/language"]
KID_PAGES = ["/me", "/rewards", "/badges", "/language", "/allowance/me"]


@pytest.fixture
def household(create_member, in_family, family):  # noqa: ANN001, ANN201
    parent = create_member(role="parent", username="mama", display_name="Mamá", language="es")
    kid = create_member(username="lucia", display_name="Lucía", language="es")
    with in_family(family) as ctx:
        create_reward(ctx.session, name="Helado", cost=50, requires_approval=True, category="treat")
        ctx.session.commit()
    return parent, kid


def visible_words(page, family) -> str:  # noqa: ANN001
    """The page's visible text without scripts, styles and the family's own data."""
    tree = parse(page)
    for node in tree.css("script, style, template"):
        node.decompose()
    body = tree.css_first("body")
    words = squash(body.text(separator=" ")) if body is not None else ""
    # The family's point presets are its own data (seeded once in English; parents rename them).
    for data in (family.name, family.slug, "Helado", "Mamá", "Lucía", "HousePoints", "Great attitude",
                 "Went above and beyond", "Not listening"):
        words = words.replace(data, " ")
    return words


def english_left(client, path: str, family) -> list[str]:  # noqa: ANN001
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert parse(response).css_first("html").attributes["lang"] == "es"
    words = visible_words(response, family)
    # Each English word with a little of its context, so a failure says where it is.
    found = sorted({words[max(0, m.start() - 25):m.end() + 25] for m in ENGLISH.finditer(words)})
    return found


@pytest.mark.parametrize("path", PARENT_PAGES)
def test_parent_pages_speak_spanish(client, auth, family, household, path: str) -> None:  # noqa: ANN001
    parent, _kid = household
    auth.sign_in(client, parent, family)

    assert english_left(client, path, family) == []


@pytest.mark.parametrize("path", KID_PAGES)
def test_kid_pages_speak_spanish(client, auth, family, household, path: str) -> None:  # noqa: ANN001
    _parent, kid = household
    auth.sign_in(client, kid, family)

    assert english_left(client, path, family) == []


def test_a_kids_turn_on_the_tablet_speaks_spanish(client, family, household, in_family) -> None:  # noqa: ANN001
    parent, kid = household
    with in_family(family) as ctx:
        device, device_token = register_device(ctx.session, ctx.session.get(Member, parent.id), name="Cocina",
                                               now=utcnow())
        turn = start_session(ctx.session, ctx.session.get(Member, kid.id), now=utcnow(), device=device)
        ctx.session.commit()
    client.set_cookie(DEVICE_COOKIE, device_token, domain=client.host.split(":")[0])
    with client.session_transaction() as cookie_session:
        cookie_session["family_id"] = str(family.id)
        cookie_session["_user_id"] = turn.token
        cookie_session["_fresh"] = True

    for path in ("/me", "/rewards"):
        page = parse(client.get(path))
        bar = page.css_first(".turn-bar")
        assert bar is not None, path  # the tablet turn bar is really on the page
        assert squash(bar.css_first("#tablet-done-form button").text()) == "He terminado"
        assert "Tu turno termina en {n} segundos" in bar.css_first("[data-idle-countdown]").attributes["data-many"]
        assert english_left(client, path, family) == []


def test_an_english_member_still_reads_english(client, auth, family, household, in_family) -> None:  # noqa: ANN001
    parent, _kid = household
    with in_family(family) as ctx:
        ctx.session.get(Member, parent.id).language = "en"
        ctx.session.commit()
    auth.sign_in(client, parent, family)

    page = client.get("/rewards")

    assert parse(page).css_first("html").attributes["lang"] == "en"
    assert "Add a reward" in visible_words(page, family)  # the word list above does catch English


def test_error_pages_speak_the_members_language(client, auth, family, household) -> None:  # noqa: ANN001
    parent, _kid = household
    auth.sign_in(client, parent, family)

    page = client.get("/no-such-page")

    assert page.status_code == 404
    assert squash(parse(page).css_first("h1").text()) == "No lo encontramos"
    assert client.get("/api/no-such-thing").get_json() == {"error": "Not found"}  # the API keeps its English
