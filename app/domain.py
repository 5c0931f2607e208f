"""Domain exceptions: services raise these; pages and the API turn them into 4xx answers."""
from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `status` is the HTTP status it maps to; `fields` names the offending inputs."""

    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
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
