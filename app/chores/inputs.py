"""What a chore and its schedule may be, as typed inputs shared by the chore form and the JSON API."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BeforeValidator

from app.chores.models import AssignmentStrategy, Difficulty, IntervalUnit, ScheduleKind
from app.languages import phrase, translatable
from app.inputs import (
    FieldProblem,
    Age,
    AwardPoints,
    AwardPointsOrZero,
    Between,
    Blankable,
    Choice,
    Input,
    LocalDate,
    LocalTime,
    Minutes,
    Text,
    WeekdayNumbers,
    clean_text,
)
MAX_TAGS, MAX_TAG_LENGTH = 20, 40


def _kind(value: Any) -> str:
    if value in (None, ""):
        return "daily"
    if value not in tuple(ScheduleKind):
        raise FieldProblem(phrase("Schedule kind must be one of %(choices)s", choices=", ".join(ScheduleKind)))
    return str(value)


def _unit(value: Any) -> str:
    if value in (None, ""):
        return "days"
    if value not in tuple(IntervalUnit):
        raise ValueError(translatable("Repeat every … days, weeks or months"))
    return str(value)


def _member_ids(value: Any) -> list[uuid.UUID]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(translatable("Unknown member in assignees"))
    try:
        ids = [item if isinstance(item, uuid.UUID) else uuid.UUID(str(item)) for item in value]
    except ValueError:
        raise ValueError(translatable("Unknown member in assignees")) from None
    return list(dict.fromkeys(ids))  # the first mention keeps its place in the rotation


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_TAGS:
        raise FieldProblem(phrase("must be a list of up to %(most)s short words", most=MAX_TAGS))
    tags = [clean_text(tag) for tag in value]
    if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise FieldProblem(phrase("must be a list of up to %(most)s short words", most=MAX_TAGS))
    return [tag for tag in tags if tag]


class ScheduleInput(Input):
    """A schedule as posted: each part typed; `clean_schedule` checks that the parts fit together and fire."""

    kind: Annotated[str, BeforeValidator(_kind)] = "daily"
    interval: Blankable(Between(1, 365)) = None  # type: ignore[valid-type]
    interval_unit: Annotated[str, BeforeValidator(_unit)] = "days"
    weekdays: Blankable(WeekdayNumbers) = None  # type: ignore[valid-type]
    month_day: Blankable(Between(1, 31)) = None  # type: ignore[valid-type]
    week_of_month: Blankable(Between(-1, 4)) = None  # type: ignore[valid-type]
    start_date: Blankable(LocalDate) = None  # type: ignore[valid-type]
    end_date: Blankable(LocalDate) = None  # type: ignore[valid-type]
    rolling: bool = False
    paused_from: Blankable(LocalDate) = None  # type: ignore[valid-type]
    paused_until: Blankable(LocalDate) = None  # type: ignore[valid-type]


MAX_FREQUENCY_LENGTH = 50


class ChoreUpdate(Input):
    """A change to a chore: only the keys given change (see `model_fields_set`); for the contract's keys null
    means "leave as it is", for description, instructions, minutes, times and schedule it clears the value."""

    name: Blankable(Text(100)) = None  # type: ignore[valid-type]
    description: Blankable(Text(2000, multiline=True)) = None  # type: ignore[valid-type]
    instructions: Blankable(Text(4000, multiline=True)) = None  # type: ignore[valid-type]
    category: Text(50) | None = None  # type: ignore[valid-type]  # blank: back to "other"
    icon: Text(16) | None = None  # type: ignore[valid-type]  # blank: back to the broom
    base_points: Blankable(AwardPoints) = None  # type: ignore[valid-type]
    penalty_points: Blankable(AwardPointsOrZero) = None  # type: ignore[valid-type]
    open_bonus_points: Blankable(AwardPointsOrZero) = None  # type: ignore[valid-type]
    estimated_minutes: Blankable(Minutes) = None  # type: ignore[valid-type]
    min_age: Blankable(Age) = None  # type: ignore[valid-type]
    difficulty: Blankable(Choice(*Difficulty)) = None  # type: ignore[valid-type]
    assignment_type: Blankable(Choice(*AssignmentStrategy)) = None  # type: ignore[valid-type]
    requires_verification: bool | None = None
    requires_photo: bool | None = None
    bonus_eligible: bool | None = None
    rotation_eligible: bool | None = None
    active: bool | None = None
    tags: Annotated[list[str], BeforeValidator(_tags)] | None = None
    frequency: Blankable(Text(MAX_FREQUENCY_LENGTH)) = None  # type: ignore[valid-type]  # the previous service's words
    due_time: Blankable(LocalTime) = None  # type: ignore[valid-type]
    not_before_time: Blankable(LocalTime) = None  # type: ignore[valid-type]
    schedule: ScheduleInput | None = None
    assignees: Annotated[list[uuid.UUID], BeforeValidator(_member_ids)] | None = None

    def given(self, name: str) -> bool:
        """Whether the key was sent at all (null included), as opposed to left out."""
        return name in self.model_fields_set


class ChoreInput(ChoreUpdate):
    """A new chore: a name is required."""

    name: Text(100, min_length=1)  # type: ignore[valid-type]
