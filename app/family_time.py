"""Family-local time: "today", due times, the week start and day bounds, all in the family's timezone (DST-safe)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class FamilyClock:
    """Converts between UTC instants and the family's calendar."""

    timezone: str
    week_start: int = 0  # 0 = Monday … 6 = Sunday

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: datetime) -> datetime:
        """The family-local wall time of a UTC instant."""
        return instant.astimezone(self.zone)

    def today(self, now: datetime) -> date:
        """The family-local date at `now`."""
        return self.local(now).date()

    def at(self, day: date, wall_time: time | None) -> datetime:
        """The UTC instant of a family-local wall time (end of day when None).

        A wall time skipped by a spring-forward gap moves forward by the gap; an ambiguous autumn time takes
        its first occurrence.
        """
        # fold=0 (PEP 495) does both: a skipped time is read with the pre-gap offset (02:30 EST = 03:30 EDT), a
        # repeated one as its first occurrence. fold=1 would move a skipped time back an hour, before the gap.
        wall = datetime.combine(day, wall_time or END_OF_DAY, tzinfo=self.zone)
        return wall.astimezone(timezone.utc)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """[start, end) of a family-local day in UTC (23 or 25 hours long on DST days)."""
        start = datetime.combine(day, time(0), tzinfo=self.zone).astimezone(timezone.utc)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(timezone.utc)
        return start, end

    def week_start_date(self, day: date) -> date:
        """The first day of the family week containing `day`."""
        return day - timedelta(days=(day.weekday() - self.week_start) % 7)

    def week_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the family week containing `now`."""
        first = self.week_start_date(self.today(now))
        return self.day_bounds(first)[0], self.day_bounds(first + timedelta(days=7))[0]


def week_start_index(name: object) -> int:
    """A week_start setting ("monday", "sunday" or 0-6) as a weekday index."""
    if isinstance(name, int) and 0 <= name <= 6:
        return name
    try:
        return WEEKDAY_NAMES.index(str(name).strip().lower())
    except ValueError:
        return 0
