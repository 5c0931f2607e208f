"""Recurrence: a chore's schedule as a dateutil rrule (no hand-written date math), with pauses and rolling mode."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from babel.dates import format_date, format_skeleton, get_day_names
from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, weekday

from app.chores.inputs import ScheduleInput
from app.chores.models import ChoreSchedule
from app.domain import ValidationFailed
from app.languages import DEFAULT_LANGUAGE, Phrase, phrase, plural_phrase

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_YEARS_AHEAD = 5


@dataclass(frozen=True)
class ScheduleSpec:
    """Validated schedule fields, ready to store on a ChoreSchedule."""

    kind: str
    interval: int
    interval_unit: str
    weekdays: list[int] | None
    month_day: int | None
    week_of_month: int | None
    start_date: date
    end_date: date | None
    rolling: bool
    paused_from: date | None
    paused_until: date | None

    def apply_to(self, schedule: ChoreSchedule) -> None:
        for field in self.__dataclass_fields__:
            setattr(schedule, field, getattr(self, field))


def clean_schedule(data: ScheduleInput, *, today: date) -> ScheduleSpec:
    """Check that a schedule's typed parts fit together and prove it fires at least once."""
    kind = data.kind
    weekdays = data.weekdays or None
    start = data.start_date or today
    end = data.end_date
    if start < today - timedelta(days=366) or start > today + relativedelta(years=MAX_YEARS_AHEAD):
        raise ValidationFailed("The start date must be within a year ago and five years ahead",
                               fields={"start_date": "range"})
    if end is not None and end < start:
        raise ValidationFailed("The end date is before the start date", fields={"end_date": "before start"})
    spec = ScheduleSpec(
        kind=kind,
        interval=data.interval or 1,
        interval_unit=data.interval_unit,
        weekdays=weekdays,
        month_day=data.month_day,
        week_of_month=data.week_of_month,
        start_date=start,
        end_date=end,
        rolling=data.rolling,
        paused_from=data.paused_from,
        paused_until=data.paused_until,
    )
    if kind == "weekly" and not weekdays:
        raise ValidationFailed("Pick at least one weekday", fields={"weekdays": "required"})
    if kind == "monthly_day" and spec.month_day is None:
        raise ValidationFailed("Pick the day of the month", fields={"month_day": "required"})
    if kind == "monthly_weekday" and (spec.week_of_month in (None, 0) or not weekdays or len(weekdays) != 1):
        raise ValidationFailed("Pick which week (1st-4th or last) and one weekday",
                               fields={"week_of_month": "required"})
    if (spec.paused_from is None) != (spec.paused_until is None):
        raise ValidationFailed("A pause needs both a first and a last day", fields={"paused_until": "required"})
    if spec.paused_from and spec.paused_until and spec.paused_until < spec.paused_from:
        raise ValidationFailed("The pause ends before it starts", fields={"paused_until": "before start"})
    if not next_occurrences(spec, after=start - timedelta(days=1), count=1):
        raise ValidationFailed("This schedule never happens: check the dates, weekdays and pauses",
                               fields={"kind": "never fires"})
    return spec


def build_rrule(spec: ScheduleSpec | ChoreSchedule) -> rrule:
    """The dateutil rule for a schedule (start and end included, pauses not yet applied)."""
    start = datetime.combine(spec.start_date, time(0))
    until = datetime.combine(spec.end_date, time(0)) if spec.end_date else None
    weekdays = [weekday(d) for d in (spec.weekdays or [])]
    if spec.kind == "once":
        return rrule(DAILY, dtstart=start, count=1)
    if spec.kind == "daily":
        return rrule(DAILY, dtstart=start, until=until)
    if spec.kind == "weekly":
        return rrule(WEEKLY, dtstart=start, until=until, byweekday=weekdays, interval=1)
    if spec.kind == "interval":
        if spec.interval_unit == "months":
            # Every N months from the 31st lands on the last day of shorter months (rrule alone skips them).
            return rrule(MONTHLY, dtstart=start, until=until, interval=spec.interval,
                         **_day_or_last(spec.start_date.day))
        frequency = {"days": DAILY, "weeks": WEEKLY}[spec.interval_unit]
        return rrule(frequency, dtstart=start, until=until, interval=spec.interval,
                     byweekday=weekdays or None if spec.interval_unit == "weeks" else None)
    if spec.kind == "monthly_day":
        # "the 31st" in a 30-day month means its last day, as a parent would expect.
        return rrule(MONTHLY, dtstart=start, until=until, interval=spec.interval, **_day_or_last(spec.month_day or 1))
    if spec.kind == "monthly_weekday":
        return rrule(MONTHLY, dtstart=start, until=until, interval=spec.interval,
                     byweekday=weekday(spec.weekdays[0])(spec.week_of_month))  # type: ignore[index]
    # Yearly from 29 Feb happens on 28 Feb in common years (rrule alone waits for the next leap year).
    return rrule(YEARLY, dtstart=start, until=until, interval=spec.interval, bymonth=spec.start_date.month,
                 **_day_or_last(spec.start_date.day))


def _day_or_last(day: int) -> dict[str, Any]:
    """rrule arguments for "day N of the month, or its last day when the month is shorter"."""
    if day <= 28:
        return {"bymonthday": day}
    return {"bymonthday": (day, -1), "bysetpos": 1}


def _paused(spec: ScheduleSpec | ChoreSchedule, day: date) -> bool:
    return bool(spec.paused_from and spec.paused_until and spec.paused_from <= day <= spec.paused_until)


def occurs_on(spec: ScheduleSpec | ChoreSchedule, day: date, *, last_completed: date | None = None) -> bool:
    """Whether a chore is due on `day`. Rolling schedules count from the last completion instead of the start."""
    if _paused(spec, day) or day < spec.start_date or (spec.end_date and day > spec.end_date):
        return False
    if spec.rolling and spec.kind == "interval" and last_completed is not None:
        step = {"days": relativedelta(days=spec.interval), "weeks": relativedelta(weeks=spec.interval),
                "months": relativedelta(months=spec.interval)}[spec.interval_unit]
        return bool(day >= last_completed + step)
    moment = datetime.combine(day, time(0))
    return bool(build_rrule(spec).after(moment, inc=True) == moment)


def next_occurrences(spec: ScheduleSpec | ChoreSchedule, *, after: date, count: int = 5) -> list[date]:
    """The next `count` days (after `after`) the chore happens, skipping pauses, looking at most five years ahead."""
    rule = build_rrule(spec)
    horizon = datetime.combine(after + relativedelta(years=MAX_YEARS_AHEAD), time(0))
    found: list[date] = []
    # One walk along the rule: calling rule.after() per hit restarts from dtstart each time, which made a long
    # pause cost seconds.
    for nxt in rule.xafter(datetime.combine(after, time(0)), inc=False):
        if nxt > horizon or len(found) >= count:
            break
        if not _paused(spec, nxt.date()):
            found.append(nxt.date())
    return found


def describe(spec: ScheduleSpec | ChoreSchedule, language: str | None = None) -> str:
    """A human sentence for a schedule ("Every 2 weeks on Mon, Thu") in `language`, weekday names and dates in its
    locale; without one, the JSON API's English (ISO and `Mar 05` dates), whatever the reader's language."""
    return _sentence(spec, language).render(language)


def _sentence(spec: ScheduleSpec | ChoreSchedule, language: str | None) -> Phrase:
    locale = language or DEFAULT_LANGUAGE
    names = get_day_names("abbreviated", locale=locale)
    days = ", ".join(str(names[d]) for d in (spec.weekdays or []))
    if spec.kind == "once":
        on = spec.start_date.isoformat() if language is None else format_date(spec.start_date, "d MMM y", locale)
        text = phrase("Once, on %(date)s", date=on)
    elif spec.kind == "daily":
        text = phrase("Every day")
    elif spec.kind == "weekly":
        text = phrase("Every week on %(days)s", days=days)
    elif spec.kind == "interval":
        text = _every(spec.interval, spec.interval_unit)
        if days:
            text = phrase("%(schedule)s on %(days)s", schedule=text.render(language), days=days)
    elif spec.kind == "monthly_day":
        text = phrase("Monthly on day %(day)s", day=spec.month_day)
    elif spec.kind == "monthly_weekday":
        text = _monthly_on(spec.week_of_month or 1, days)
    else:
        on = (spec.start_date.strftime("%b %d") if language is None
              else format_skeleton("MMMd", spec.start_date, locale=locale))
        text = phrase("Every year on %(date)s", date=on)
    if spec.rolling:
        return phrase("%(schedule)s (counted from the last completion)", schedule=text.render(language))
    return text


def _every(count: int, unit: str) -> Phrase:
    if unit == "weeks":
        return plural_phrase("Every %(num)d week", "Every %(num)d weeks", count)
    if unit == "months":
        return plural_phrase("Every %(num)d month", "Every %(num)d months", count)
    return plural_phrase("Every %(num)d day", "Every %(num)d days", count)


def _monthly_on(week: int, days: str) -> Phrase:
    """One sentence per week of the month: languages put (and inflect) the ordinal differently."""
    if week == 2:
        return phrase("Monthly on the 2nd %(days)s", days=days)
    if week == 3:
        return phrase("Monthly on the 3rd %(days)s", days=days)
    if week == 4:
        return phrase("Monthly on the 4th %(days)s", days=days)
    if week == -1:
        return phrase("Monthly on the last %(days)s", days=days)
    return phrase("Monthly on the 1st %(days)s", days=days)
