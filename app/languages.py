"""The languages HousePoints speaks: their codes and names, and the rule for a chosen language (no Flask here)."""
from __future__ import annotations

from typing import Any

from app.domain import ValidationFailed

DEFAULT_LANGUAGE = "en"
# Each language named in itself, so a person who cannot read the current one still finds theirs.
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}


def clean_language(value: Any, key: str = "language") -> str | None:
    """A supported language code, or None (blank) for "follow the family / the device"."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip().lower() not in LANGUAGES:
        raise ValidationFailed(f"The language must be one of: {', '.join(LANGUAGES)}", fields={key: "invalid"})
    return value.strip().lower()


def translatable(text: str) -> str:
    """Marks English text for the catalog where it is defined (services stay Flask-free); pages translate it later."""
    return text
