"""Domain exceptions: services raise these; pages and the API turn them into 4xx answers."""
from __future__ import annotations

from typing import Protocol


class Sayable(Protocol):
    """Text that can be said in a reader's language (`app.languages.Phrase` and the like; None: English)."""

    def render(self, language: str | None) -> str: ...


class DomainError(Exception):
    """A rule said no. `status` is the HTTP status it maps to; `fields` names the offending inputs."""

    status = 400

    def __init__(self, message: str | Sayable, *, fields: dict[str, str] | None = None, **extra: object) -> None:
        # `message` stays English (the JSON API's wire text); a Sayable is also kept for pages to say it in theirs.
        text = message if isinstance(message, str) else message.render(None)
        super().__init__(text)
        self.message = text
        self.said: Sayable | None = None if isinstance(message, str) else message
        self.fields = fields or {}
        self.extra = extra


class ValidationFailed(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Unprocessable(DomainError):
    status = 422


class AuthenticationFailed(DomainError):
    status = 401


class LockedOut(DomainError):
    status = 423


class PlanLimitReached(DomainError):
    status = 403
