"""The chore form: posted fields → the chore service's data dict, and a chore or a post → values to re-render."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from app.languages import translatable
from app.chores.inputs import ChoreInput, ScheduleInput
from app.chores.models import AssignmentStrategy, Chore
from app.chores.schedules import ScheduleSpec, clean_schedule, describe, next_occurrences
from app.domain import DomainError, ValidationFailed
from app.members.models import Member
from app.forms import FormState
from app.inputs import parse_action

ICON_CHOICES = ("🧹", "🛏️", "🧸", "🍽️", "🧽", "🍴", "🗑️", "🐈", "🐕", "🐾", "🪴", "🌱", "👕", "🧺", "📚", "🎒",
                "🚗", "🛒", "🍳", "🧼", "🚿", "🪥", "📦", "⭐")
CATEGORY_SUGGESTIONS = ("bedroom", "bathroom", "kitchen", "household", "laundry", "pets", "garden", "outdoor",
                        "school", "other")
SCHEDULE_KINDS = {  # form value → label; "none" keeps a chore in the library without assigning it
    "daily": translatable("Every day"),
    "weekly": translatable("Weekly, on chosen days"),
    "interval": translatable("Every few days, weeks or months"),
    "monthly_day": translatable("Monthly, on a day of the month"),
    "monthly_weekday": translatable("Monthly, on a weekday (e.g. 2nd Sunday)"),
    "yearly": translatable("Every year"),
    "once": translatable("Just once"),
    "none": translatable("No schedule (hand it out yourself)"),
}
# Which schedule inputs each kind uses; the others are hidden (CSS) and never sent to the service.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "daily": (),
    "weekly": ("weekdays",),
    "interval": ("interval", "interval_unit", "weekdays"),
    "monthly_day": ("interval", "month_day"),
    "monthly_weekday": ("interval", "week_of_month", "month_weekday"),
    "yearly": ("interval",),
    "once": (),
    "none": (),
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEK_OF_MONTH = (("1", "1st"), ("2", "2nd"), ("3", "3rd"), ("4", "4th"), ("-1", "last"))
STRATEGIES = {  # value → (label, what it means)
    "fixed": (translatable("One kid"),
              translatable("The first ticked kid does it; the next one covers when they are away.")),
    "each": (translatable("Each kid"), translatable("Every ticked kid gets their own copy.")),
    "round_robin": (translatable("Take turns"), translatable("Ticked kids take turns in the order below.")),
    "fair_share": (translatable("Fair share"), translatable("Whoever has done the least this week.")),
    "random": (translatable("Random"), translatable("Picked at random, never the same kid twice in a row.")),
    "open": (translatable("Open to claim"), translatable("Anyone can claim it; the first claim wins.")),
}
TEXT_FIELDS = ("name", "description", "instructions", "category")
NUMBER_FIELDS = ("base_points", "estimated_minutes", "min_age", "penalty_points", "open_bonus_points")
TIME_FIELDS = ("due_time", "not_before_time")
FLAGS = ("requires_verification", "requires_photo", "active")
DATE_FIELDS = ("start_date", "end_date", "paused_from", "paused_until")
OCCURRENCES_SHOWN = 5

assert set(STRATEGIES) == set(AssignmentStrategy)
InputT = TypeVar("InputT")


# The area's forms use the shared form state.
ChoreFormState = FormState


@dataclass(frozen=True)
class SchedulePreview:
    """The live preview under the schedule: its sentence and next dates, or why it is wrong."""

    sentence: str | None = None
    dates: tuple[date, ...] = ()
    error: DomainError | None = None


def new_chore_values(today: date) -> dict[str, Any]:
    """The form's starting point for a new chore."""
    return {
        "name": "", "description": "", "instructions": "", "category": "", "icon": ICON_CHOICES[0],
        "icon_custom": "", "base_points": "10", "estimated_minutes": "", "difficulty": "easy", "min_age": "0",
        "penalty_points": "0", "open_bonus_points": "0", "due_time": "", "not_before_time": "",
        "requires_verification": True, "requires_photo": False, "active": True,
        "kind": "daily", "interval": "1", "interval_unit": "days", "weekdays": [], "month_day": "",
        "week_of_month": "1", "month_weekday": "6", "start_date": today.isoformat(), "end_date": "",
        "rolling": "fixed", "paused_from": "", "paused_until": "",
        "assignment_type": "each", "order": [], "assignees": [],
    }


def _clock(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def chore_values(chore: Chore, today: date) -> dict[str, Any]:
    """The form's values for an existing chore."""
    values = new_chore_values(today)
    values.update({
        "name": chore.name, "description": chore.description or "", "instructions": chore.instructions or "",
        "category": chore.category or "", "base_points": str(chore.base_points),
        "estimated_minutes": str(chore.estimated_minutes or ""), "difficulty": chore.difficulty,
        "min_age": str(chore.min_age), "penalty_points": str(chore.penalty_points),
        "open_bonus_points": str(chore.open_bonus_points), "due_time": _clock(chore.due_time),
        "not_before_time": _clock(chore.not_before_time), "requires_verification": chore.requires_verification,
        "requires_photo": chore.requires_photo, "active": chore.active, "assignment_type": chore.assignment_type,
        "order": [str(a.member_id) for a in chore.assignees], "assignees": [str(a.member_id) for a in chore.assignees],
    })
    if chore.icon in ICON_CHOICES:
        values["icon"] = chore.icon
    else:
        values["icon"], values["icon_custom"] = "", chore.icon
    values["frequency"] = chore.frequency or ""
    schedule = chore.schedule
    if schedule is None:
        values.update(frequency_start(chore.frequency, today))
        return values
    values.update({
        "kind": schedule.kind, "interval": str(schedule.interval), "interval_unit": schedule.interval_unit,
        "weekdays": [str(d) for d in schedule.weekdays or []], "month_day": str(schedule.month_day or ""),
        "week_of_month": str(schedule.week_of_month or "1"), "start_date": _day(schedule.start_date),
        "end_date": _day(schedule.end_date), "rolling": "rolling" if schedule.rolling else "fixed",
        "paused_from": _day(schedule.paused_from), "paused_until": _day(schedule.paused_until),
    })
    if schedule.kind == "monthly_weekday" and schedule.weekdays:
        values["month_weekday"] = str(schedule.weekdays[0])
    return values


# The previous service's free-text frequency → the schedule form's starting point (anything else: no schedule).
FREQUENCY_KINDS = {"daily": "daily", "weekly": "weekly", "monthly": "monthly_day"}


def frequency_start(frequency: str | None, today: date) -> dict[str, Any]:
    """Schedule form values for a chore with no schedule yet, started from its old frequency (from today)."""
    kind = FREQUENCY_KINDS.get((frequency or "").strip().lower().replace("-", "_"), "none")
    values: dict[str, Any] = {"kind": kind, "frequency_start": kind != "none"}
    if kind == "weekly":
        values["weekdays"] = [str(today.weekday())]
    elif kind == "monthly_day":
        values["month_day"] = str(today.day)
    return values


def posted_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's values as posted (strings and lists), ready to re-render."""
    values: dict[str, Any] = {key: form.get(key, "").strip() for key in
                              (*TEXT_FIELDS, *NUMBER_FIELDS, *TIME_FIELDS, *DATE_FIELDS, "icon", "icon_custom",
                               "difficulty", "kind", "interval", "interval_unit", "month_day", "week_of_month",
                               "month_weekday", "rolling", "assignment_type")}
    for flag in FLAGS:
        values[flag] = flag in form  # an unticked checkbox is simply absent
    values["weekdays"] = form.getlist("weekdays")
    values["order"] = [i for i in form.getlist("order") if i]
    values["assignees"] = [i for i in form.getlist("assignees") if i]
    return values


def apply_move(values: dict[str, Any], move: str) -> str | None:
    """Move one kid up or down the rotation order ("<member id>:up"); returns the moved id."""
    member_id, _, direction = move.partition(":")
    order = list(values["order"])
    if member_id not in order or direction not in ("up", "down"):
        return None
    index = order.index(member_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    values["order"] = order
    return member_id


def ordered_kids(values: dict[str, Any], kids: list[Member]) -> list[Member]:
    """Every kid, in the form's order; kids it does not know yet go last, by name."""
    by_id = {str(kid.id): kid for kid in kids}
    first = [by_id[i] for i in values["order"] if i in by_id]
    placed = {str(kid.id) for kid in first}
    chosen_first = [by_id[i] for i in values["assignees"] if i in by_id and i not in placed]
    placed |= {str(kid.id) for kid in chosen_first}
    return first + chosen_first + [kid for kid in kids if str(kid.id) not in placed]


def schedule_data(values: dict[str, Any]) -> dict[str, Any] | None:
    """The schedule part of the service's data: only the inputs the chosen kind uses."""
    kind = values["kind"] or "daily"
    if kind == "none":
        return None
    used = KIND_FIELDS.get(kind, ())
    data: dict[str, Any] = {"kind": kind, "start_date": values["start_date"], "end_date": values["end_date"],
                            "rolling": values["rolling"] == "rolling", "paused_from": values["paused_from"],
                            "paused_until": values["paused_until"]}
    if "interval" in used:
        data["interval"] = values["interval"]
    if "interval_unit" in used:
        data["interval_unit"] = values["interval_unit"]
    if "weekdays" in used and (kind != "interval" or values["interval_unit"] == "weeks"):
        data["weekdays"] = values["weekdays"]
    if "month_day" in used:
        data["month_day"] = values["month_day"]
    if kind == "monthly_weekday":
        data["week_of_month"] = values["week_of_month"]
        data["weekdays"] = [values["month_weekday"]] if values["month_weekday"] else []
    return data


def chore_data(values: dict[str, Any]) -> ChoreInput:
    """The typed input create_chore/update_chore take, or ValidationFailed naming the form's own fields.

    A blank name is refused here: update_chore reads a missing name as "keep the old one", but on this form an
    emptied name box is a mistake to point out.
    """
    if not values["name"]:
        raise ValidationFailed("Please give the chore a name", fields={"name": "required"})
    data: dict[str, Any] = {key: values[key] for key in (*TEXT_FIELDS, *NUMBER_FIELDS, *TIME_FIELDS, *FLAGS)}
    data["icon"] = values["icon_custom"] or values["icon"]
    data["difficulty"] = values["difficulty"]
    data["assignment_type"] = values["assignment_type"]
    data["schedule"] = schedule_data(values)
    order = values["order"]
    chosen = values["assignees"]
    data["assignees"] = [i for i in order if i in chosen] + [i for i in chosen if i not in order]
    return _on_form_fields(lambda: parse_action(ChoreInput, data))


def _on_form_fields(parse: Callable[[], InputT]) -> InputT:
    """Run a parse; a refusal names the form's inputs ("weekdays", not the input model's "schedule.weekdays")."""
    try:
        return parse()
    except ValidationFailed as error:
        error.fields = {name.removeprefix("schedule."): message for name, message in error.fields.items()}
        raise


def preview_schedule(values: dict[str, Any], today: date, language: str | None = None) -> SchedulePreview:
    """The schedule's sentence (in the page's language) and its next five dates from today (today included), or its
    error."""
    data = schedule_data(values)
    if data is None:
        return SchedulePreview()
    try:
        spec: ScheduleSpec = clean_schedule(_on_form_fields(lambda: parse_action(ScheduleInput, data)), today=today)
    except DomainError as error:
        return SchedulePreview(error=error)
    dates = next_occurrences(spec, after=today - timedelta(days=1), count=OCCURRENCES_SHOWN)
    return SchedulePreview(sentence=describe(spec, language), dates=tuple(dates))

