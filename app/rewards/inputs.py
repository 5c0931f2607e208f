"""The rewards store's typed inputs: one model per action, shared by the reward form, the store and the API."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from app.languages import translatable
from app.inputs import BlankIsNone, Id, Input, LocalDate, Text, WholeNumber, clean_text

# Ranges and consistency (cost 1-10,000, stock not negative, a window that makes sense) are the service's rules,
# with the messages the API contract fixes; these models settle types, lengths and characters.
WEEKDAYS_MESSAGE = translatable("must be a list of weekdays 0-6 (Monday = 0)")


def _weekday_numbers(value: Any) -> Any:
    """Weekday numbers 0-6 (Monday = 0), each once, in order; one message for the whole list."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise ValueError(WEEKDAYS_MESSAGE)  # noqa: TRY004 - pydantic reports ValueError as the field's message
    days: set[int] = set()
    for item in value:
        if isinstance(item, str):
            item = clean_text(item)
        if isinstance(item, bool) or not (isinstance(item, int) or (isinstance(item, str) and item.isascii()
                                                                   and item.isdigit())):
            raise ValueError(WEEKDAYS_MESSAGE)
        if not 0 <= int(item) <= 6:
            raise ValueError(WEEKDAYS_MESSAGE)
        days.add(int(item))
    return sorted(days)


WeekdayNumbers = Annotated[list[int] | None, BeforeValidator(_weekday_numbers)]


class RewardInput(Input):
    """A reward as a parent sets it; an update changes only the fields given (`model_fields_set`)."""

    name: Annotated[Text(100) | None, BlankIsNone] = None  # type: ignore[valid-type]
    description: Annotated[Text(2000, multiline=True) | None, BlankIsNone] = None  # type: ignore[valid-type]
    icon: Annotated[Text(16) | None, BlankIsNone] = None  # type: ignore[valid-type]
    category: Annotated[Text(50) | None, BlankIsNone] = None  # type: ignore[valid-type]
    cost: Annotated[WholeNumber | None, BlankIsNone] = None
    requires_approval: bool | None = None
    stock: Annotated[WholeNumber | None, BlankIsNone] = None
    max_per_week: Annotated[WholeNumber | None, BlankIsNone] = None
    max_per_month: Annotated[WholeNumber | None, BlankIsNone] = None
    availability: Annotated[Text(20) | None, BlankIsNone] = None  # type: ignore[valid-type]
    available_from: Annotated[LocalDate | None, BlankIsNone] = None
    available_until: Annotated[LocalDate | None, BlankIsNone] = None
    available_weekdays: WeekdayNumbers = None
    value_in_cents: Annotated[WholeNumber | None, BlankIsNone] = None
    active: bool | None = None


class RedeemInput(Input):
    """A kid's request for a reward, with an optional note for the parents."""

    notes: Annotated[Text(500, multiline=True) | None, BlankIsNone] = None  # type: ignore[valid-type]


class RejectInput(Input):
    """A parent's no, with the reason the kid sees."""

    reason: Text(300, multiline=True) = ""  # type: ignore[valid-type]  # blank: the service asks for one


class SavingsGoalInput(Input):
    """The reward a kid pins as their savings goal."""

    reward_id: Id
