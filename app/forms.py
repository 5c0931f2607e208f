"""What a re-rendered form shows: the values typed, a message per field and one for the whole form."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.domain import DomainError
from app.i18n import refusal_text


@dataclass
class FormState:
    """Input values (as posted or as stored), field errors and a general message, shared by every area's forms."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None

    def add_error(self, error: DomainError) -> None:
        """Attach a service's refusal, in the page's language, to the fields it names (or to the form as a whole)."""
        said = refusal_text(error)
        if error.fields:
            for name in error.fields:
                self.errors.setdefault(name, said)
        else:
            self.message = said
