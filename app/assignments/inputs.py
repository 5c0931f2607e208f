"""What a one-off assignment, a completion and a verification may carry, as typed inputs for the API and forms."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter, ValidationError

from app.languages import translatable
from app.inputs import AwardPointsOrZero, Blankable, Input, LocalDate, Reworded, Text

DUE_FORMAT = translatable("Invalid due_date format. Use YYYY-MM-DD or RFC3339")
NOTES_LIMIT = 1000
_DAY: TypeAdapter[date] = TypeAdapter(LocalDate)


def _due(value: Any) -> date | datetime:
    """A family-local day (YYYY-MM-DD) or an instant with its offset (RFC 3339); a wall time without one is refused."""
    if isinstance(value, (date, datetime)):
        return value
    if not isinstance(value, str):
        raise ValueError(DUE_FORMAT)
    text = value.strip()
    if len(text) == 10:
        try:
            return _DAY.validate_python(text)  # the shared strict date rule
        except ValidationError:
            raise ValueError(DUE_FORMAT) from None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(DUE_FORMAT) from None
    if moment.tzinfo is None:
        raise ValueError(DUE_FORMAT)
    return moment


class AssignmentInput(Input):
    """A one-off assignment: which chore, for whom (nobody: open to claim), how many points, due when."""

    chore_id: Reworded(uuid.UUID, translatable("Invalid chore_id format"))  # type: ignore[valid-type]
    assigned_to: Blankable(Reworded(uuid.UUID,  # type: ignore[valid-type]
                                    translatable("Invalid assigned_to format"))) = None
    points_offered: Blankable(AwardPointsOrZero) = None  # type: ignore[valid-type]  # 0 or none: the chore's
    due_date: Blankable(Annotated[datetime | date, BeforeValidator(_due)]) = None  # type: ignore[valid-type]


class CompletionInput(Input):
    """What a kid may say when marking a chore done."""

    notes: Blankable(Text(NOTES_LIMIT, multiline=True)) = None  # type: ignore[valid-type]


class VerificationInput(Input):
    """A parent's decision on a completed chore: approve (maybe with other points) or send back with notes."""

    approved: bool
    points_awarded: Blankable(AwardPointsOrZero) = None  # type: ignore[valid-type]
    verification_notes: Blankable(Text(NOTES_LIMIT, multiline=True)) = None  # type: ignore[valid-type]
