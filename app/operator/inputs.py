"""The operator console's typed inputs: sign-in, the families and audit filters, and the family actions."""
from __future__ import annotations

from app.auth.inputs import MAX_CREDENTIAL_LENGTH
from app.inputs import Between, Blankable, Choice, Input, LocalDate, Secret, Text
from app.platform.models import FamilyPlacement, FamilyStatus, Plan

MAX_PAGE = 10_000  # deeper than any real list; a bigger number is a typo or a probe
DELETED = "deleted"  # a status filter of its own: deleted families keep their last status


class OperatorSignInInput(Input):
    """An operator's email and password on the admin host."""

    email: Text(254, min_length=1)  # type: ignore[valid-type]
    password: Secret(MAX_CREDENTIAL_LENGTH, min_length=1)  # type: ignore[valid-type]


class FamilyQuery(Input):
    """The families list: text to find in the slug or name, a status, a plan and a page."""

    q: Blankable(Text(120)) = None  # type: ignore[valid-type]
    status: Blankable(Choice(*(s.value for s in FamilyStatus), DELETED)) = None  # type: ignore[valid-type]
    plan: Blankable(Choice(*(p.value for p in Plan))) = None  # type: ignore[valid-type]
    page: Between(1, MAX_PAGE) = 1  # type: ignore[valid-type]


class AuditQuery(Input):
    """The audit log viewer: a family by slug, an operator by email, an action (or its prefix), dates and a page."""

    family: Blankable(Text(50)) = None  # type: ignore[valid-type]
    operator: Blankable(Text(254)) = None  # type: ignore[valid-type]
    action: Blankable(Text(64)) = None  # type: ignore[valid-type]
    since: Blankable(LocalDate) = None  # type: ignore[valid-type]
    until: Blankable(LocalDate) = None  # type: ignore[valid-type]
    page: Between(1, MAX_PAGE) = 1  # type: ignore[valid-type]


class SuspendInput(Input):
    """Why the family is being suspended (kept in the audit row)."""

    reason: Blankable(Text(200)) = None  # type: ignore[valid-type]


class PlanInput(Input):
    """The plan a family moves to."""

    plan: Choice(*(p.value for p in Plan))  # type: ignore[valid-type]


class MoveInput(Input):
    """Where to move a family: a configured cluster, and optionally another placement."""

    cluster: Text(64, min_length=1)  # type: ignore[valid-type]
    placement: Blankable(Choice(*(p.value for p in FamilyPlacement))) = None  # type: ignore[valid-type]


class DeleteInput(Input):
    """The family's address typed again: deleting is never one stray click."""

    confirm: Text(50) = ""  # type: ignore[valid-type]
