"""Report numbers, in the family's timezone and weeks, from assignment statuses and the points actually awarded.

One set of definitions serves the reports page, the CSV exports and the API:
- the scope is the assignments of active kids due (family-local `due_date`) in the range; excused (skipped)
  assignments count neither way;
- "completed" means verified, everywhere;
- points are what the ledger actually credited for those assignments (its `chore` rows, undos included),
  never the chore's list price;
- rates are completed / total × 100, rounded half-up to one decimal (0 when there is nothing to do).
"""
from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.assignments.services import compute_streak, compute_streaks
from app.chores.models import Chore
from app.domain import ValidationFailed
from app.languages import phrase
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.models import EARNING_KINDS, LedgerEntry

DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")  # ASCII digits only
MAX_RANGE_DAYS = 366
SPENDING_KINDS = ("redemption", "refund", "conversion")  # refunds give back what a redemption held
PAGE_WEEKS = 8
TREND_RANGES = (7, 30, 90)


# --- ranges -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """An inclusive range of family-local days."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]


def parse_day(raw: str, name: str) -> date:
    """A `YYYY-MM-DD` value, or 400 "Invalid <name> format. Use YYYY-MM-DD"."""
    text = raw.strip()
    try:
        if not DATE_PATTERN.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(phrase("Invalid %(name)s format. Use YYYY-MM-DD", name=name),
                               fields={name: "invalid"}) from None


def parse_period(start_raw: str | None, end_raw: str | None, *, default: Period,
                 names: tuple[str, str] = ("start", "end"), max_days: int | None = MAX_RANGE_DAYS) -> Period:
    """A range from optional query values; bad dates, an end before the start or a too-long range are a 400."""
    start = parse_day(start_raw, names[0]) if start_raw not in (None, "") else default.start
    end = parse_day(end_raw, names[1]) if end_raw not in (None, "") else default.end
    if end < start:
        raise ValidationFailed(phrase("%(end)s must not be before %(start)s", end=names[1], start=names[0]),
                               fields={names[1]: "before start"})
    if max_days is not None and (end - start).days + 1 > max_days:
        raise ValidationFailed(phrase("The range can be at most %(days)s days", days=max_days),
                               fields={names[1]: "range"})
    return Period(start, end)


def recent_weeks_period(clock: FamilyClock, today: date, weeks: int = PAGE_WEEKS) -> Period:
    """The last `weeks` family weeks, this one included, up to today."""
    first = clock.week_start_date(today) - timedelta(days=7 * (weeks - 1))
    return Period(first, today)


def week_of(clock: FamilyClock, today: date) -> Period:
    """The family week containing `today`."""
    first = clock.week_start_date(today)
    return Period(first, first + timedelta(days=6))


def completion_rate(completed: int, total: int) -> float:
    """completed / total × 100, rounded half-up to one decimal; 0 when there is nothing to complete."""
    if total <= 0:
        return 0.0
    exact = Decimal(completed * 100) / Decimal(total)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def round_half_up(value: Decimal | float) -> int:
    """A whole number the way people round (2.5 → 3), not banker's rounding."""
    return int(Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


# --- the facts every report is made of ------------------------------------------------------------------------

@dataclass(frozen=True)
class Fact:
    """One in-scope assignment: whose, which family day, its status, its chore's category, the points credited."""

    assignment_id: uuid.UUID
    member_id: uuid.UUID
    day: date
    due_at: datetime
    status: str
    category: str
    points: int

    @property
    def completed(self) -> bool:
        return self.status == "verified"

    @property
    def missed(self) -> bool:
        return self.status == "missed"

    def overdue(self, now: datetime) -> bool:
        """Past due and not done: missed, or still to do after its due time."""
        return self.status == "missed" or (self.status in ("open", "pending") and self.due_at < now)


@dataclass
class Tally:
    """Counts over a set of facts."""

    total: int = 0
    completed: int = 0
    missed: int = 0
    overdue: int = 0
    points: int = 0

    def add(self, fact: Fact, now: datetime) -> None:
        self.total += 1
        self.completed += fact.completed
        self.missed += fact.missed
        self.overdue += fact.overdue(now)
        self.points += fact.points

    @property
    def rate(self) -> float:
        return completion_rate(self.completed, self.total)


def active_kids(session: Session) -> list[Member]:
    """The kids reports are about (active children), by name."""
    return list(session.scalars(select(Member).where(Member.role == "child", Member.is_active.is_(True))
                                .order_by(Member.display_name, Member.id)))


def assignment_facts(session: Session, period: Period, member_ids: Collection[uuid.UUID]) -> list[Fact]:
    """The kids' assignments due in the range (excused ones left out) with the points the ledger credited them."""
    if not member_ids:
        return []
    credited = func.coalesce(func.sum(LedgerEntry.amount), 0)
    rows = session.execute(
        select(Assignment.id, Assignment.assigned_to, Assignment.due_date, Assignment.due_at, Assignment.status,
               Chore.category, credited)
        .join(Chore, Chore.id == Assignment.chore_id)
        .outerjoin(LedgerEntry, and_(LedgerEntry.assignment_id == Assignment.id, LedgerEntry.kind == "chore"))
        .where(Assignment.due_date >= period.start, Assignment.due_date <= period.end,
               Assignment.assigned_to.in_(list(member_ids)), Assignment.status != "skipped")
        .group_by(Assignment.id, Assignment.assigned_to, Assignment.due_date, Assignment.due_at, Assignment.status,
                  Chore.category))
    return [Fact(a_id, member_id, day, due_at, status, category, int(points))
            for a_id, member_id, day, due_at, status, category, points in rows if member_id is not None]


def tally(facts: list[Fact], now: datetime) -> Tally:
    """Counts over `facts`."""
    result = Tally()
    for fact in facts:
        result.add(fact, now)
    return result


# --- the API's reports ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KidSummary:
    kid: Member
    tally: Tally


@dataclass(frozen=True)
class WeeklySummary:
    period: Period
    tally: Tally
    active_children: int
    children: list[KidSummary]


def weekly_summary(session: Session, period: Period, now: datetime) -> WeeklySummary:
    """Totals for the range and per kid (every active kid, busiest earners first)."""
    kids = active_kids(session)
    facts = assignment_facts(session, period, [kid.id for kid in kids])
    per_kid: dict[uuid.UUID, Tally] = defaultdict(Tally)
    for fact in facts:
        per_kid[fact.member_id].add(fact, now)
    children = sorted((KidSummary(kid, per_kid.get(kid.id, Tally())) for kid in kids),
                      key=lambda row: (-row.tally.points, row.kid.display_name.lower(), str(row.kid.id)))
    return WeeklySummary(period, tally(facts, now), len({fact.member_id for fact in facts}), children)


@dataclass(frozen=True)
class DayRow:
    day: date
    tally: Tally


@dataclass(frozen=True)
class ChildPerformance:
    period: Period
    tally: Tally
    days: list[DayRow]


def _by_day(facts: list[Fact], now: datetime) -> list[DayRow]:
    days: dict[date, Tally] = defaultdict(Tally)
    for fact in facts:
        days[fact.day].add(fact, now)
    return [DayRow(day, days[day]) for day in sorted(days)]


def child_performance(session: Session, kid: Member, period: Period, now: datetime) -> ChildPerformance:
    """One kid's totals for the range and a row per day that had assignments."""
    facts = assignment_facts(session, period, [kid.id])
    return ChildPerformance(period, tally(facts, now), _by_day(facts, now))


@dataclass(frozen=True)
class CategoryRow:
    category: str
    tally: Tally


def category_breakdown(session: Session, period: Period, now: datetime) -> list[CategoryRow]:
    """Per chore category (every active chore's category, even with nothing due): counts and points earned."""
    kids = active_kids(session)
    per_category: dict[str, Tally] = {category: Tally() for category in session.scalars(
        select(Chore.category).where(Chore.active.is_(True)).distinct())}
    for fact in assignment_facts(session, period, [kid.id for kid in kids]):
        per_category.setdefault(fact.category, Tally()).add(fact, now)
    return sorted((CategoryRow(category, counts) for category, counts in per_category.items()),
                  key=lambda row: (-row.tally.points, -row.tally.total, row.category.lower()))


@dataclass(frozen=True)
class KidTrend:
    kid: Member
    tally: Tally
    active_days: int
    streak: int

    @property
    def average_points_per_day(self) -> int:
        """Points per day the kid had chores (days away or with nothing to do do not dilute it)."""
        if not self.active_days:
            return 0
        return round_half_up(Decimal(self.tally.points) / Decimal(self.active_days))

    @property
    def trend(self) -> str:
        rate = self.tally.rate
        return "up" if rate >= 90 else "down" if rate < 70 else "neutral"


@dataclass(frozen=True)
class PerformanceTrends:
    period: Period
    days: list[DayRow]
    kids: list[KidTrend]


def performance_trends(session: Session, period: Period, today: date, now: datetime) -> PerformanceTrends:
    """Per day of the window, and per kid with something to do in it (most completed first) with a real streak."""
    kids = active_kids(session)
    facts = assignment_facts(session, period, [kid.id for kid in kids])
    per_kid: dict[uuid.UUID, list[Fact]] = defaultdict(list)
    for fact in facts:
        per_kid[fact.member_id].append(fact)
    trends = [KidTrend(kid, tally(per_kid[kid.id], now), len({f.day for f in per_kid[kid.id]}),
                       compute_streak(session, kid.id, today))
              for kid in kids if per_kid.get(kid.id)]
    trends.sort(key=lambda row: (-row.tally.completed, row.kid.display_name.lower(), str(row.kid.id)))
    return PerformanceTrends(period, _by_day(facts, now), trends)


# --- the reports page -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeekFlow:
    """Points that came in (earning kinds, net of deductions) and went out (spent, net of refunds) in a week."""

    week: date
    earned: int
    spent: int


@dataclass
class FamilyReport:
    """Everything the reports page draws, for one range."""

    period: Period
    weeks: list[date]
    kids: list[Member]
    kid_weeks: dict[uuid.UUID, list[Tally]] = field(default_factory=dict)
    flows: list[WeekFlow] = field(default_factory=list)
    categories: list[CategoryRow] = field(default_factory=list)
    streaks: dict[uuid.UUID, int] = field(default_factory=dict)
    totals: Tally = field(default_factory=Tally)


def weeks_of(clock: FamilyClock, period: Period) -> list[date]:
    """The first day of every family week that overlaps the range."""
    first, last = clock.week_start_date(period.start), clock.week_start_date(period.end)
    return [first + timedelta(days=7 * index) for index in range((last - first).days // 7 + 1)]


def ledger_flows(session: Session, clock: FamilyClock, period: Period, weeks: list[date],
                 member_ids: Collection[uuid.UUID]) -> list[WeekFlow]:
    """Per family week: points earned and spent by the kids, from the ledger rows stamped in the range."""
    flows = {week: [0, 0] for week in weeks}
    if not member_ids or not weeks:
        return [WeekFlow(week, 0, 0) for week in weeks]
    start, end = clock.day_bounds(period.start)[0], clock.day_bounds(period.end)[1]
    rows = session.execute(select(LedgerEntry.created_at, LedgerEntry.kind, LedgerEntry.amount)
                           .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end,
                                  LedgerEntry.member_id.in_(list(member_ids))))
    for created_at, kind, amount in rows:
        week = clock.week_start_date(clock.today(created_at))
        if week not in flows:
            continue
        if kind in EARNING_KINDS:
            flows[week][0] += amount
        elif kind in SPENDING_KINDS:
            flows[week][1] -= amount
    return [WeekFlow(week, earned, spent) for week, (earned, spent) in flows.items()]


def family_report(session: Session, clock: FamilyClock, period: Period, today: date, now: datetime) -> FamilyReport:
    """The page's numbers: per kid per family week, points in and out, categories, streaks."""
    kids = active_kids(session)
    weeks = weeks_of(clock, period)
    report = FamilyReport(period, weeks, kids)
    kid_ids = [kid.id for kid in kids]
    facts = assignment_facts(session, period, kid_ids)
    index = {week: position for position, week in enumerate(weeks)}
    report.kid_weeks = {kid.id: [Tally() for _ in weeks] for kid in kids}
    per_category: dict[str, Tally] = defaultdict(Tally)
    for fact in facts:
        report.kid_weeks[fact.member_id][index[clock.week_start_date(fact.day)]].add(fact, now)
        per_category[fact.category].add(fact, now)
        report.totals.add(fact, now)
    report.categories = sorted((CategoryRow(c, t) for c, t in per_category.items()),
                               key=lambda row: (-row.tally.points, -row.tally.completed, row.category.lower()))
    report.flows = ledger_flows(session, clock, period, weeks, kid_ids)
    report.streaks = compute_streaks(session, [kid.id for kid in kids], today)
    return report
