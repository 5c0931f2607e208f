"""Refusals with names or numbers in them, and the ledger's own words, read in Spanish on Spanish pages.

Each case submits a bad input as a Spanish-speaking parent (or a Spanish browser on the sign-up page) and finds the
Spanish sentence where the English one used to be; the JSON API keeps its English (tests/api/test_legacy_clients.py
pins the wire texts).
"""
from __future__ import annotations

import csv
import io
import uuid

import pytest

from app.members.models import FamilySetting, Member
from app.points.descriptions import BADGE, COMPLETED, CONVERTED, REDEEMED, TEMPLATES, ledger_text, say_ledger_text
from tests.forms import post_form
from tests.html import parse, squash
from tests.platform.apex import apex  # noqa: F401 - a fixture
from tests.reports.helpers import add_ledger
from tests.reports.seed import utc
from tests.signup.conftest import post_signup, signup_data  # noqa: F401 - fixtures

SPANISH = {"Accept-Language": "es"}


@pytest.fixture
def parent(create_member):  # noqa: ANN001, ANN201
    return create_member(role="parent", username="mama", display_name="Mamá", language="es")


@pytest.fixture
def parent_client(client, auth, family, parent):  # noqa: ANN001, ANN201
    auth.sign_in(client, parent, family)
    return client


def _text(response) -> str:  # noqa: ANN001
    return squash(parse(response).css_first("body").text(separator=" "))


REWARD = {"name": "Helado", "cost": "50", "icon": "🍦", "category": "treat", "availability": "always"}


@pytest.mark.parametrize(("changes", "spanish", "english"), [
    ({"stock": "-200000"}, "Existencias: debe estar entre -100,000 y 100,000", "Stock must be between"),
    ({"max_per_week": "0"}, "El límite semanal: debe ser al menos 1 (déjalo vacío para no poner límite)",
     "The weekly limit must be"),
    ({"max_per_month": "5000"}, "El límite mensual: debe estar entre -1,000 y 1,000", "The monthly limit must be"),
    ({"cost": "0"}, "El costo debe estar entre 1 y 10,000 puntos", "Cost must be between"),
])
def test_the_reward_form_refuses_in_spanish(parent_client, changes: dict[str, str], spanish: str,  # noqa: ANN001
                                            english: str) -> None:
    response = post_form(parent_client, "/rewards/new", {**REWARD, **changes})

    assert response.status_code == 422
    page = _text(response)
    assert spanish in page and english not in page


def test_a_device_name_with_a_line_break_is_refused_in_spanish(parent_client) -> None:  # noqa: ANN001
    response = post_form(parent_client, "/settings/devices", {"name": "Cocina\nSala"})

    assert response.status_code == 422
    page = _text(response)
    assert "«name» contiene un carácter de control" in page and "contains" not in page


def test_an_unknown_starter_chore_is_refused_in_spanish(parent_client) -> None:  # noqa: ANN001
    response = post_form(parent_client, "/welcome/chores", {"chores": ["no-such-chore"]})

    assert response.status_code == 422
    page = _text(response)
    assert "Tarea para empezar desconocida: no-such-chore" in page and "Unknown starter chore" not in page


def test_a_bad_setting_is_said_in_spanish_beside_its_field(parent_client) -> None:  # noqa: ANN001
    response = post_form(parent_client, "/settings/groups/notifications", {"digest_hour": "30"}, htmx=True)

    assert response.status_code == 422
    field = parse(response).css_first("#digest_hour-error")
    assert field is not None
    assert squash(field.text()) == "La hora del resumen debe ser una hora entera de 0 a 23"


def test_a_webhook_url_too_long_is_refused_in_spanish(parent_client) -> None:  # noqa: ANN001
    response = post_form(parent_client, "/settings/webhooks", {"url": "https://example.com/" + "x" * 600})

    assert response.status_code == 422
    page = _text(response)
    assert "Las URL tienen como máximo 500 caracteres" in page and "URLs are at most" not in page


def test_a_wrong_password_on_a_spanish_browsers_login_page(client, family) -> None:  # noqa: ANN001
    response = post_form(client, "/login", {"login": "nadie", "password": "not the password"}, headers=SPANISH)

    page = _text(response)
    assert "Usuario o contraseña incorrectos" in page and "Invalid username or password" not in page


@pytest.mark.parametrize(("changes", "spanish", "english"), [
    ({"slug": "www"}, "La dirección «www» está reservada.", "is reserved"),
    ({"slug": "ab"}, "La dirección «ab» debe tener de 3 a 50 caracteres.", "must be 3-50 characters"),
    ({"slug": "two--hyphens"}, "no puede tener dos guiones seguidos", "two hyphens in a row"),
    ({"slug": ""}, "Elige la dirección web de tu familia", "choose your family's web address"),
    ({"password": "short"}, "Las contraseñas necesitan al menos 10 caracteres; una frase corta funciona bien",
     "Passwords need at least"),
])
def test_the_sign_up_form_refuses_in_spanish(post_signup, signup_data, changes: dict[str, str],  # noqa: ANN001
                                             spanish: str, english: str) -> None:
    signup_data.update(changes)

    response = post_signup(signup_data, headers=SPANISH)

    assert response.status_code == 422
    page = _text(response)
    assert spanish in page and english not in page


def test_a_taken_address_is_refused_in_spanish_live_and_on_submit(post_signup, signup_data, apex,  # noqa: ANN001
                                                                  make_family) -> None:
    taken = make_family(f"tomada-{uuid.uuid4().hex[:6]}")
    signup_data.update(slug=taken.slug)

    live = apex.get(f"/signup/check-slug?slug={taken.slug}", headers=SPANISH)
    submitted = post_signup(signup_data, headers=SPANISH)

    for page in (_text(live), _text(submitted)):
        assert f"La dirección «{taken.slug}» ya está ocupada." in page and "is taken" not in page


def test_the_ledger_export_says_each_row_in_the_parents_language_and_the_api_keeps_english(
        parent_client, client_for, auth, family, parent, in_family, create_member) -> None:  # noqa: ANN001
    kid = create_member(username="lucia", display_name="Lucía", language="es")
    stored = [ledger_text(COMPLETED, name="Fregar"), ledger_text(REDEEMED, name="Helado"),
              ledger_text(BADGE, badge="First chore"), ledger_text(CONVERTED, money="$2.50"), "Buena actitud"]
    with in_family(family) as ctx:
        for hour, (kind, description) in enumerate(zip(("chore", "redemption", "achievement", "conversion", "bonus"),
                                                       stored, strict=True)):
            add_ledger(ctx.session, ctx.session.get(Member, kid.id), 5, kind, utc(2026, 3, 2, 9 + hour),
                       description=description)
        ctx.session.commit()

    export = parent_client.get("/reports/export/ledger.csv?start=2026-03-02&end=2026-03-02")
    api = client_for(family).get(f"/api/users/{kid.id}/transactions", headers=auth.bearer(parent, family))

    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True), newline="")))
    assert [row["description"] for row in rows] == [
        "Hecha: Fregar", "Canjeado: Helado", "Insignia: Primera tarea", "Convertidos en $2.50", "Buena actitud"]
    assert sorted(item["description"] for item in api.get_json()["transactions"]) == sorted(stored)
    assert stored[:4] == ["Completed: Fregar", "Redeemed: Helado", "Badge: First chore", "Converted to $2.50"]


def test_every_ledger_template_reads_back_its_own_words() -> None:
    for kind, templates in TEMPLATES.items():
        for template in templates:
            stored = ledger_text(template, name="Dishes: the big ones", badge="First chore", money="$2.50",
                                 points=250) if "%(" in template else template
            assert say_ledger_text(kind, stored, None) == stored  # English, as stored
            assert say_ledger_text(kind, stored, "es") != stored, template  # and really said in Spanish


def test_the_reports_quick_ranges_are_in_spanish(parent_client) -> None:  # noqa: ANN001
    page = _text(parent_client.get("/reports"))

    assert "Últimas 4 semanas" in page and "Últimos 12 meses" in page and "Last 4 weeks" not in page


def test_the_family_language_speaks_spanish_to_a_signed_out_device(client, family, in_family) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        ctx.session.add(FamilySetting(key="language", value="es", is_private=False))
        ctx.session.commit()

    response = post_form(client, "/login", {"login": "nadie", "password": "nothing at all"})

    assert "Usuario o contraseña incorrectos" in _text(response)
