"""What a bonus, a deduction and a one-tap preset may be, as typed inputs shared by the dashboard and the JSON API."""
from __future__ import annotations

from app.languages import translatable
from app.inputs import AwardPoints, Choice, Input, Reworded, Text

# The wording of these refusals is fixed by the API's tests and clients; the dashboard shows the same sentences.
PointsKind = Reworded(Choice("bonus", "deduction"), translatable("must be bonus or deduction"))


class PointsAward(Input):
    """A parent's bonus or deduction: how many points and the reason the kid sees."""

    kind: PointsKind  # type: ignore[valid-type]
    points: AwardPoints
    reason: Reworded(Text(200, min_length=1),  # type: ignore[valid-type]
                     translatable("Please give a reason (up to 200 characters)"))


class PresetInput(Input):
    """A one-tap bonus or deduction reason."""

    kind: PointsKind  # type: ignore[valid-type]
    label: Reworded(Text(80, min_length=1), translatable("Labels are 1-80 characters"))  # type: ignore[valid-type]
    points: AwardPoints
