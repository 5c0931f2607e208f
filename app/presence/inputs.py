"""What a presence rule may be, as typed inputs shared by the calendar's forms and the JSON API."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from app.languages import translatable
from app.inputs import Blankable, Choice, Input, LocalDate, LocalTime, Reworded, Text, WeekdayNumbers
from app.presence.models import PatternKind

# The wording of these refusals is fixed by the API's tests and clients; the forms show the same sentences.
Day = Reworded(LocalDate, translatable("Invalid %(field)s format. Use YYYY-MM-DD"))
ChangeoverTime = Blankable(Reworded(LocalTime, translatable("Times look like 18:00")))


def _some_weekdays(days: list[int]) -> list[int]:
    if not days:
        raise ValueError(translatable("Pick weekdays between 0 (Monday) and 6 (Sunday)"))
    return days


class PresencePatternInput(Input):
    """A recurring rule: on these weekdays (every week, or every other week from the anchor's week)."""

    kind: Choice(*PatternKind) = "weekly"  # type: ignore[valid-type]
    weekdays: Annotated[WeekdayNumbers, AfterValidator(_some_weekdays)]
    anchor_date: Day  # type: ignore[valid-type]
    present: bool = True
    transition_time: ChangeoverTime = None  # type: ignore[valid-type]
    label: Blankable(Text(80)) = None  # type: ignore[valid-type]


class PresenceExceptionInput(Input):
    """A date range (one day when the last is left out) when a member is home or away."""

    start_date: Day  # type: ignore[valid-type]
    end_date: Blankable(Day) = None  # type: ignore[valid-type]
    present: bool = False
    transition_time: ChangeoverTime = None  # type: ignore[valid-type]
    note: Blankable(Text(200)) = None  # type: ignore[valid-type]
