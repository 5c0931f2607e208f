"""The languages HousePoints speaks: their codes and names, and the rule for a chosen language (no Flask here)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from babel import support

from app.domain import ValidationFailed

TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"

DEFAULT_LANGUAGE = "en"
# Each language named in itself, so a person who cannot read the current one still finds theirs.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}


def clean_language(value: Any, key: str = "language") -> str | None:
    """A supported language code, or None (blank) for "follow the family / the device"."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in LANGUAGES:
        raise ValidationFailed(phrase("The language must be one of: %(choices)s", choices=", ".join(LANGUAGES)),
                               fields={key: "invalid"})
    return value.strip().lower()


def translatable(text: str) -> str:
    """Marks English text for the catalog where it is defined (services stay Flask-free); pages translate it later."""
    return text


@dataclass(frozen=True)
class Phrase:
    """English text with placeholders, put into a reader's language when it is written for them (no Flask here).

    Services that write text for a person (notifications) give a Phrase; the catalog finds it under the `Phrase`
    keyword, and `render(language)` looks it up in that language's compiled catalog.
    """

    text: str
    params: dict[str, Any] = field(default_factory=dict)
    plural: str | None = None
    count: int | None = None

    def render(self, language: str | None) -> str:
        """The text in `language` (English when unknown or untranslated), placeholders filled in; a placeholder that
        is itself a Phrase (a field's label, a status word) is said in the same language."""
        translations = _translations(language if language in LANGUAGES else DEFAULT_LANGUAGE)
        params = {key: value.render(language) if isinstance(value, Phrase) else value
                  for key, value in self.params.items()}
        if self.plural is not None and self.count is not None:
            chosen = str(translations.ungettext(self.text, self.plural, self.count))
            return chosen % {"num": self.count, **params}
        return str(translations.ugettext(self.text)) % params if params else str(translations.ugettext(self.text))


def phrase(text: str, **params: Any) -> Phrase:
    """A translatable sentence for a person (extracted as the `phrase` keyword)."""
    return Phrase(text, params)


def plural_phrase(singular: str, plural: str, num: int, **params: Any) -> Phrase:
    """A translatable sentence that depends on a count, `%(num)d` in both forms (keyword `plural_phrase:1,2`)."""
    return Phrase(singular, params, plural=plural, count=num)


def render_text(text: str | Phrase | None, language: str | None) -> str | None:
    """Plain text as it is, a Phrase in `language`."""
    return text.render(language) if isinstance(text, Phrase) else text


@cache
def _translations(language: str) -> support.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return support.NullTranslations()
    return support.Translations.load(str(TRANSLATIONS_DIR), [language])
