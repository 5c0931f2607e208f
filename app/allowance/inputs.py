"""Allowance's typed inputs: converting points, paying money, a weekly schedule (the pages and the API share them)."""
from __future__ import annotations

from typing import Annotated

from pydantic import StrictBool

from app.inputs import BlankIsNone, Input, Text, WholeNumber

# Ranges (points a kid has, 0.01-10,000.00, weekdays 0-6) and the modes are the services' rules, with the messages
# the API contract fixes; these models settle types, lengths and characters.
Method = Annotated[Text(40) | None, BlankIsNone]  # type: ignore[valid-type]
Note = Annotated[Text(300, multiline=True) | None, BlankIsNone]  # type: ignore[valid-type]


class ConversionInput(Input):
    """A parent turns some of a kid's points into money."""

    points: WholeNumber
    method: Method = None  # type: ignore[valid-type]
    note: Note = None  # type: ignore[valid-type]


class PaymentInput(Input):
    """A parent records money given as allowance (pages turn "2.50" into cents first)."""

    amount_cents: WholeNumber
    method: Method = None  # type: ignore[valid-type]
    note: Note = None  # type: ignore[valid-type]


class ScheduleInput(Input):
    """A kid's weekly allowance: a fixed amount or the week's points converted, on payday (Monday = 0)."""

    mode: Text(20)  # type: ignore[valid-type]
    payday: WholeNumber
    amount_cents: WholeNumber = 0
    active: StrictBool = True
