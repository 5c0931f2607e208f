"""Languages on pages: Flask-Babel's locale choice (member, family, browser) and locale-aware money and dates."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from babel.support import NullTranslations
from flask import Flask, g, has_request_context, request
from flask_babel import (Babel, format_currency, format_date, format_decimal, format_time, get_translations, gettext,
                         ngettext)
from jinja2 import pass_context
from jinja2.runtime import Context

from app.domain import DomainError, LockedOut, Sayable
from app.languages import DEFAULT_LANGUAGE, LANGUAGES

babel = Babel()


def init_app(app: Flask) -> None:
    """Bind Flask-Babel (catalogs in translations/ beside app/) and give templates the formatting helpers."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path + "/../translations"))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    # Flask-Babel's template callables look the request's translations up again for every string (a dashboard has
    # ~140): each render looks them up once instead, and templates' strings read them from the render's context.
    app.context_processor(lambda: {TRANSLATIONS: get_translations()})
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True,
        pgettext=_template_pgettext, npgettext=_template_npgettext)
    app.jinja_env.globals.update(languages=LANGUAGES, page_language=page_language, format_money=format_money,
                                 format_day=format_day, format_clock=format_clock, format_number=format_number,
                                 translated=translate_message)


TRANSLATIONS = "_render_translations"  # the render context's translations, looked up once per render


def _render_translations(context: Context) -> NullTranslations:
    """The translations this render started with (a macro imported without context looks them up itself)."""
    translations = context.get(TRANSLATIONS)
    return translations if isinstance(translations, NullTranslations) else get_translations()


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return str(_render_translations(context).ugettext(message))


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, number: int) -> str:
    return str(_render_translations(context).ungettext(singular, plural, number))


@pass_context
def _template_pgettext(context: Context, message_context: str, message: str) -> str:
    return str(_render_translations(context).upgettext(message_context, message))


@pass_context
def _template_npgettext(context: Context, message_context: str, singular: str, plural: str, number: int) -> str:
    return str(_render_translations(context).unpgettext(message_context, singular, plural, number))


DATABASE_DOWN_FLAG = "database_down"  # g: set by app/errors.py when the database cannot be reached


def family_language() -> str | None:
    """The family's default language (read with its rules, once a request); None: each device's own."""
    if g.get("family") is None:
        return None
    from app.web import current_rules

    chosen = current_rules().language
    return chosen if chosen in LANGUAGES else None


def select_locale() -> str:
    """The member's own choice, else the family's default, else the browser's Accept-Language, else English."""
    if not has_request_context():
        return DEFAULT_LANGUAGE  # jobs and workers choose explicitly with force_locale
    if g.get("family") is not None and not g.get(DATABASE_DOWN_FLAG):  # the database-down page asks nothing of it
        from app.auth import current_member

        member = current_member()
        if member is not None and member.language in LANGUAGES:
            return member.language
        family_choice = family_language()
        if family_choice is not None:
            return family_choice
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    """Times on family pages follow the family's clock."""
    family = g.get("family") if has_request_context() else None
    return family.timezone if family is not None else "UTC"


def page_language() -> str:
    """The language of this page, for `<html lang>`."""
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def format_money(cents: int, currency: str) -> str:
    """Cents in the page's locale: `$2.50` in English, `2,50 US$` in Spanish."""
    return str(format_currency(Decimal(cents) / 100, currency))


def format_number(value: int | float | Decimal) -> str:
    """A count in the page's locale (thousands separators)."""
    return str(format_decimal(value))


DAY_FORMATS = {"long": "EEE d MMM y", "short": "EEE d MMM", "date": "d MMM y", "month": "LLLL y", "weekday": "EEE",
               "day_month": "d MMM", "weekday_long": "EEEE", "today": "EEEE d MMMM"}


def format_day(day: date | datetime, style: str = "date") -> str:
    """A calendar day in the page's locale (`Sat 5 Dec 2026` / `sáb 5 dic 2026`)."""
    if isinstance(day, datetime):
        day = day.date()
    return str(format_date(day, DAY_FORMATS[style]))


def format_clock(moment: time | datetime) -> str:
    """A time of day as 24-hour `HH:mm` in every language (the family's clock for datetimes)."""
    return str(format_time(moment, "HH:mm"))


def translate_message(message: str) -> str:
    """A service's English message in the page's language when the catalog knows it (the API stays English)."""
    return str(gettext(message)) if message else message


def refusal_text(error: DomainError) -> str:
    """A service's refusal on a page; a lockout's wait is counted again from Retry-After to say it in any language."""
    seconds = error.extra.get("retry_after")
    if isinstance(error, LockedOut) and isinstance(seconds, int):
        return str(ngettext("Too many tries. Please wait %(num)d minute or ask a parent.",
                            "Too many tries. Please wait %(num)d minutes or ask a parent.", max(1, -(-seconds // 60))))
    return say(error.said if error.said is not None else error.message)


def say(text: str | Sayable) -> str:
    """A service's text on a page: a literal message looked up in the catalog, a phrase (names or numbers in it)
    said whole in the page's language."""
    return translate_message(text) if isinstance(text, str) else text.render(page_language())
