"""The settings page: a form per group, saved with htmx, 422 with the reason for a bad value, nothing half-saved."""
from __future__ import annotations

import pytest

from app.members.models import Member
from app.settings.services import get_settings
from tests.reports.helpers import post_form


@pytest.fixture
def parent(create_member) -> Member:  # noqa: ANN001
    return create_member(role="parent", username="mum", display_name="Mum")


@pytest.fixture
def signed_in(client, auth, family, parent):  # noqa: ANN001, ANN201
    auth.sign_in(client, parent, family)
    return client


def _settings(in_family, family) -> dict:  # noqa: ANN001
    with in_family(family) as ctx:
        return get_settings(ctx.session, include_private=True)


def test_the_page_has_a_form_per_group(signed_in, family) -> None:  # noqa: ANN001
    html = signed_in.get("/settings").get_data(as_text=True)

    for group in ("family", "money", "chores", "notifications", "badges"):
        assert f'hx-post="/settings/groups/{group}"' in html
    assert f'value="{family.name}"' in html and '<option value="UTC" selected>UTC</option>' in html
    assert 'name="notify:email:chore_waiting"' in html and 'name="bonus:first_chore"' in html
    assert html.count('name="csrf_token"') >= 5


def test_an_htmx_save_answers_with_the_group(app, signed_in, in_family, family) -> None:  # noqa: ANN001
    response = post_form(app, signed_in, "/settings/groups/money",
                         {"currency": "eur", "points_per_currency_unit": "250"}, htmx=True)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="panel" id="settings-money"') and "Saved." in html
    assert "HX-Trigger" not in response.headers  # no other part of the page depends on a group's values
    values = _settings(in_family, family)
    assert (values["currency"], values["points_per_currency_unit"]) == ("EUR", 250)


def test_a_bad_value_is_a_422_and_nothing_is_saved(app, signed_in, in_family, family) -> None:  # noqa: ANN001
    response = post_form(app, signed_in, "/settings/groups/notifications", {"digest_hour": "24"}, htmx=True)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The digest hour must be a whole hour from 0 to 23" in html and 'aria-invalid="true"' in html
    assert 'value="24"' in html  # what the parent typed stays
    assert _settings(in_family, family)["digest_hour"] == 18


def test_ticks_and_grids_become_typed_values(app, signed_in, in_family, family) -> None:  # noqa: ANN001
    post_form(app, signed_in, "/settings/groups/chores", {"auto_approve": "on", "reminder_lead_minutes": "45"},
              htmx=True)
    post_form(app, signed_in, "/settings/groups/notifications",
              {"digest_hour": "7", "notify:email:chore_waiting": "on", "notify:in_app:chore_waiting": "on"},
              htmx=True)
    post_form(app, signed_in, "/settings/groups/badges", {"bonus:first_chore": "25", "bonus:streak_7": "0"},
              htmx=True)

    values = _settings(in_family, family)
    assert values["auto_approve"] is True and values["reminder_lead_minutes"] == 45 and values["digest_hour"] == 7
    assert values["notification_defaults"]["email"]["chore_waiting"] is True
    assert values["notification_defaults"]["in_app"]["chore_approved"] is False
    assert "daily_digest" not in values["notification_defaults"]["in_app"]
    assert values["achievement_bonus"] == {"first_chore": 25}


def test_unticking_auto_approve_turns_it_off(app, signed_in, in_family, family) -> None:  # noqa: ANN001
    post_form(app, signed_in, "/settings/groups/chores", {"auto_approve": "on", "reminder_lead_minutes": "30"})
    post_form(app, signed_in, "/settings/groups/chores", {"reminder_lead_minutes": "30"})

    assert _settings(in_family, family)["auto_approve"] is False


def test_renaming_the_family_reloads_the_page_with_the_new_name(app, signed_in, family) -> None:  # noqa: ANN001
    response = post_form(app, signed_in, "/settings/groups/family",
                         {"family_name": "The Riveras", "timezone": "Europe/Paris", "week_start": "sunday"},
                         htmx=True)

    assert response.status_code == 200 and response.headers["HX-Refresh"] == "true"
    page = signed_in.get("/settings").get_data(as_text=True)
    assert '<a class="brand" href="/">The Riveras</a>' in page and "Settings saved." in page
    assert '<option value="Europe/Paris" selected>' in page


def test_without_htmx_a_save_redirects_and_a_refusal_renders_the_page(app, signed_in) -> None:  # noqa: ANN001
    saved = post_form(app, signed_in, "/settings/groups/money", {"currency": "CHF", "points_per_currency_unit": "10"})
    refused = post_form(app, signed_in, "/settings/groups/money", {"currency": "C", "points_per_currency_unit": "10"})

    assert saved.status_code == 303 and saved.headers["Location"].endswith("/settings#settings-money")
    assert refused.status_code == 422 and "<h1>Settings</h1>" in refused.get_data(as_text=True)
    assert "three-letter code" in refused.get_data(as_text=True)


def test_an_unknown_group_is_404_and_csrf_is_required(app, signed_in, in_family, family) -> None:  # noqa: ANN001
    assert post_form(app, signed_in, "/settings/groups/secrets", {}).status_code == 404
    assert post_form(app, signed_in, "/settings/groups/money", {"currency": "JPY", "points_per_currency_unit": "1"},
                     csrf=False).status_code == 400
    assert _settings(in_family, family)["currency"] == "USD"


def test_settings_made_through_the_api_are_listed(signed_in, in_family, family) -> None:  # noqa: ANN001
    from tests.reports.helpers import put_setting

    with in_family(family) as ctx:
        put_setting(ctx.session, "fridge.layout", {"shelves": 3})
        ctx.session.commit()

    html = signed_in.get("/settings").get_data(as_text=True)

    assert "Other settings" in html and "fridge.layout" in html and '{"shelves": 3}' in html


def test_kids_cannot_open_the_settings_page(client, auth, family, create_member) -> None:  # noqa: ANN001
    auth.sign_in(client, create_member(username="maya", display_name="Maya"), family)

    assert client.get("/settings").status_code == 403
    assert client.get("/settings/calendar").status_code == 200  # but every member has a calendar link



def test_the_tablet_idle_time_is_a_family_setting(app, signed_in, in_family, family) -> None:  # noqa: ANN001
    refused = post_form(app, signed_in, "/settings/groups/tablet", {"tablet_idle_seconds": "5"}, htmx=True)
    assert refused.status_code == 422 and "from 15 to 600" in refused.get_data(as_text=True)
    assert "tablet_idle_seconds" not in {k for k, v in _settings(in_family, family).items() if v != 60}

    saved = post_form(app, signed_in, "/settings/groups/tablet", {"tablet_idle_seconds": "90"}, htmx=True)
    assert saved.status_code == 200 and _settings(in_family, family)["tablet_idle_seconds"] == 90
