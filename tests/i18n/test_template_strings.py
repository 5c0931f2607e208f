"""Templates' strings come from the translations each render starts with (looked up once per render, not per
string), so they follow the locale of that render (a forced one too); a macro imported on its own looks them up."""
from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale

PLURAL = "{{ ngettext('%(num)d chore', '%(num)d chores', n) }}"
MACRO = "{% macro label() %}{{ _('Rewards') }}{% endmacro %}"


def test_strings_follow_the_locale_each_render_starts_with(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string("{{ _('Chores') }} " + PLURAL, n=2) == "Chores 2 chores"
        with force_locale("es"):  # a message in its recipient's language, rendered inside someone else's request
            assert render_template_string("{{ _('Chores') }} " + PLURAL, n=2) == "Tareas 2 tareas"
            assert render_template_string(PLURAL, n=1) == "1 tarea"
        assert render_template_string("{{ _('Chores') }}") == "Chores"


def test_a_macro_imported_without_context_still_translates(app: Flask) -> None:
    environment = app.jinja_env.overlay()
    from jinja2 import ChoiceLoader, DictLoader

    environment.loader = ChoiceLoader([DictLoader({"macros.html": MACRO}), app.jinja_env.loader])  # type: ignore[list-item]
    with app.test_request_context("/"), force_locale("es"):
        page = environment.from_string('{% import "macros.html" as m %}{{ m.label() }}')
        assert page.render() == "Premios"


def test_a_render_looks_its_translations_up_once(app: Flask, monkeypatch) -> None:  # noqa: ANN001
    """Not once per string: a dashboard says ~140 of them."""
    from app import i18n

    lookups = []
    real = i18n.get_translations
    monkeypatch.setattr(i18n, "get_translations", lambda: lookups.append(1) or real())
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        page = render_template_string("{% for i in range(20) %}{{ _('Chores') }} {{ ngettext('%(num)d chore', "
                                      "'%(num)d chores', 3) }}|{% endfor %}")
    assert page.count("Tareas 3 tareas|") == 20
    assert len(lookups) == 1
