"""Which language a page speaks: the member's choice, else the family's default, else the browser's; the Language
page (kids choose their own, parents anyone's); money and dates in the page's locale."""
from __future__ import annotations

import uuid
from datetime import date, time

import pytest
from flask import Flask
from flask_babel import force_locale

from app.i18n import format_clock, format_day, format_money, format_number
from app.members.models import FamilySetting, Member
from tests.factories import create_reward
from tests.forms import post_form
from tests.html import one, text

SPANISH = {"Accept-Language": "es-ES,es;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.fixture
def parent(create_member) -> Member:  # noqa: ANN001
    return create_member(role="parent", username="mum", display_name="Mum")


@pytest.fixture
def kid(create_member) -> Member:  # noqa: ANN001
    return create_member(username="maya", display_name="Maya")


@pytest.fixture
def sibling(create_member) -> Member:  # noqa: ANN001
    return create_member(username="leo", display_name="Leo")


def _set_family_language(in_family, family, language: str | None) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        ctx.session.add(FamilySetting(key="language", value=language, is_private=False))
        ctx.session.commit()


def _language_of(in_family, family, member: Member) -> str | None:  # noqa: ANN001
    with in_family(family) as ctx:
        return ctx.session.get(Member, member.id).language


def _set_member_language(in_family, family, member: Member, language: str | None) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        ctx.session.get(Member, member.id).language = language
        ctx.session.commit()


# --- the choice ------------------------------------------------------------------------------------------------

def test_signed_out_pages_follow_the_browser(client) -> None:  # noqa: ANN001
    spanish = client.get("/login", headers=SPANISH)
    english = client.get("/login", headers=ENGLISH)

    assert one(spanish, "html").attributes["lang"] == "es" and "Iniciar sesión" in text(spanish, "h1")
    assert one(english, "html").attributes["lang"] == "en" and "Sign in" in text(english, "h1")


def test_the_apex_follows_the_browser(apex_client) -> None:  # noqa: ANN001
    spanish = apex_client.get("/", headers=SPANISH)
    english = apex_client.get("/")

    assert "Crea tu familia" in text(spanish) and "Start your family" not in text(spanish)
    assert "Start your family" in text(english)


def test_the_family_default_wins_over_the_browser(client, in_family, family) -> None:  # noqa: ANN001
    _set_family_language(in_family, family, "es")

    page = client.get("/login", headers=ENGLISH)

    assert one(page, "html").attributes["lang"] == "es" and "Iniciar sesión" in text(page, "h1")


def test_a_members_choice_wins_over_the_family_default(client, auth, family, in_family, parent) -> None:  # noqa: ANN001
    _set_family_language(in_family, family, "es")
    _set_member_language(in_family, family, parent, "en")
    auth.sign_in(client, parent, family)

    page = client.get("/settings", headers=SPANISH)

    assert one(page, "html").attributes["lang"] == "en" and text(page, "h1") == "Settings"


def test_a_kid_reads_their_store_in_their_language(client, auth, family, in_family, kid) -> None:  # noqa: ANN001
    _set_member_language(in_family, family, kid, "es")
    with in_family(family) as ctx:
        create_reward(ctx.session, name="Helado", cost=50, requires_approval=False, value_in_cents=250)
        ctx.session.commit()
    auth.sign_in(client, kid, family)

    page = client.get("/rewards", headers=ENGLISH)

    words = text(page)
    # The money's no-break space reads as a space once the text is squashed.
    assert "Premios" in words and "Te faltan 50 puntos" in words and "Vale 2,50 US$" in words
    assert "more points" not in words and "points to spend" not in words


# --- the Language page -----------------------------------------------------------------------------------------

def test_a_kid_chooses_spanish_and_the_next_page_speaks_it(client, auth, family, in_family, kid) -> None:  # noqa: ANN001
    auth.sign_in(client, kid, family)

    form = client.get("/language")
    saved = post_form(client, "/language", {"language": "es"})
    after = client.get(saved.headers["Location"])

    assert form.status_code == 200 and "Choose the language of your pages." in text(form)
    assert saved.status_code == 303 and _language_of(in_family, family, kid) == "es"
    assert "Idioma guardado." in text(after) and text(after, "h1") == "Idioma"


def test_blank_goes_back_to_the_family_language(client, auth, family, in_family, kid) -> None:  # noqa: ANN001
    _set_member_language(in_family, family, kid, "es")
    auth.sign_in(client, kid, family)

    assert post_form(client, "/language", {"language": ""}).status_code == 303
    assert _language_of(in_family, family, kid) is None


def test_a_parent_chooses_for_a_kid(client, auth, family, in_family, parent, kid) -> None:  # noqa: ANN001
    auth.sign_in(client, parent, family)

    form = client.get(f"/language?member={kid.id}")
    saved = post_form(client, "/language", {"language": "es", "member": str(kid.id)})

    assert "Choose the language Maya sees." in text(form)
    assert saved.status_code == 303 and _language_of(in_family, family, kid) == "es"
    assert _language_of(in_family, family, parent) is None  # the parent's own page language did not change


def test_a_kid_cannot_choose_for_a_sibling(client, auth, family, in_family, kid, sibling) -> None:  # noqa: ANN001
    auth.sign_in(client, kid, family)

    assert client.get(f"/language?member={sibling.id}").status_code == 403
    assert post_form(client, "/language", {"language": "es", "member": str(sibling.id)}).status_code == 403
    assert _language_of(in_family, family, sibling) is None


@pytest.mark.parametrize("language", ["fr", "EN-us", "es-ES", "es\x00", "x" * 500, "<b>es</b>"])
def test_a_language_we_do_not_speak_is_refused(client, auth, family, in_family, kid, language) -> None:  # noqa: ANN001
    auth.sign_in(client, kid, family)

    response = post_form(client, "/language", {"language": language})

    assert response.status_code in (400, 422) and _language_of(in_family, family, kid) is None


def test_another_familys_member_is_not_found(client, auth, family, in_family, parent, make_family,  # noqa: ANN001
                                             create_member) -> None:
    other = make_family()
    stranger = create_member(family_record=other, username="stranger")
    auth.sign_in(client, parent, family)

    assert client.get(f"/language?member={stranger.id}").status_code == 404
    assert post_form(client, "/language", {"language": "es", "member": str(stranger.id)}).status_code == 404
    assert post_form(client, "/language", {"language": "es", "member": str(uuid.uuid4())}).status_code == 404
    with in_family(other) as ctx:
        assert ctx.session.get(Member, stranger.id).language is None


def test_signed_out_and_without_csrf_nothing_changes(client, auth, family, in_family, kid) -> None:  # noqa: ANN001
    assert client.get("/language").status_code == 302
    auth.sign_in(client, kid, family)

    assert post_form(client, "/language", {"language": "es"}, csrf=False).status_code == 400
    assert _language_of(in_family, family, kid) is None


def test_the_family_language_is_a_setting(client, auth, family, in_family, parent) -> None:  # noqa: ANN001
    auth.sign_in(client, parent, family)

    saved = post_form(client, "/settings/groups/family",
                      {"family_name": "The Riveras", "timezone": "UTC", "week_start": "monday", "language": "es"},
                      htmx=True)
    refused = post_form(client, "/settings/groups/family",
                        {"family_name": "The Riveras", "timezone": "UTC", "week_start": "monday", "language": "xx"},
                        htmx=True)
    page = client.get("/settings")

    assert saved.status_code == 200 and refused.status_code == 422
    assert one(page, "html").attributes["lang"] == "es" and text(page, "h1") == "Ajustes"
    assert one(page, 'select#language option[selected]').attributes["value"] == "es"


# --- money, numbers and dates --------------------------------------------------------------------------------

@pytest.mark.parametrize(("locale", "money", "number", "day"), [
    ("en", "$1,234.50", "12,345", "Sat 5 Dec 2026"),
    ("es", "1.234,50\xa0US$", "12.345", "sáb 5 dic 2026"),
])
def test_money_numbers_and_days_follow_the_locale(app: Flask, locale: str, money: str, number: str,
                                                  day: str) -> None:
    with app.test_request_context("/"), force_locale(locale):
        assert format_money(123450, "USD") == money
        assert format_number(12345) == number
        assert format_day(date(2026, 12, 5), "long") == day
        assert format_clock(time(7, 5)) == "07:05"
