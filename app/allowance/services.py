"""Allowance rules: the family's conversion rate, points turned into money, fixed allowances and weekly paydays."""
from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.languages import Phrase, phrase
from app.allowance.inputs import ConversionInput, PaymentInput, ScheduleInput
from app.allowance.models import AllowanceMode, AllowanceSchedule, Payout
from app.domain import ValidationFailed
from app.family_rules import FamilyRules
from app.members.models import FamilySetting, Member
from app.points.models import EARNING_KINDS, LedgerEntry
from app.points.descriptions import CONVERTED, WEEKLY_ALLOWANCE, ledger_text
from app.points.services import clean_points, lock_member, post_entry
from app.policy import require_parent

DEFAULT_POINTS_PER_UNIT = 100
DEFAULT_CURRENCY = "USD"
MAX_POINTS_PER_UNIT = 1_000_000
MAX_AMOUNT_CENTS = 1_000_000  # 10,000.00 in any currency: more than any allowance
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
PAYMENT_METHODS = ("cash", "bank transfer", "savings account", "gift card", "other")


# --- the rate and money ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConversionRate:
    """How many points make one unit of the family's currency (100 points = $1.00 by default)."""

    points_per_unit: int
    currency: str

    def cents_for(self, points: int) -> int:
        """The money a number of points is worth, in cents, rounded down (integer math, never floats)."""
        return points * 100 // self.points_per_unit

    def describe(self) -> str:
        return f"{self.points_per_unit:,} points = {format_money(100, self.currency)}"

    def phrase(self, money: str) -> Phrase:
        """The rate in words for a page, with the unit of money already in the page's format."""
        return phrase("%(points)s points = %(money)s", points=f"{self.points_per_unit:,}", money=money)


def format_money(cents: int, currency: str) -> str:
    """`$2.50`, `€0.05`, `CHF 12.00` (a sign in front of negatives)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    symbol = CURRENCY_SYMBOLS.get(currency)
    number = f"{whole:,}.{part:02d}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"


def conversion_rate(session: Session) -> ConversionRate:
    """The family's rate from its settings (`points_per_currency_unit`, `currency`); defaults when unset or odd."""
    settings: dict[str, Any] = dict(session.execute(select(FamilySetting.key, FamilySetting.value).where(
        FamilySetting.key.in_(("points_per_currency_unit", "currency")))).all())
    points = settings.get("points_per_currency_unit", DEFAULT_POINTS_PER_UNIT)
    if isinstance(points, bool) or not isinstance(points, int) or not 1 <= points <= MAX_POINTS_PER_UNIT:
        points = DEFAULT_POINTS_PER_UNIT
    currency = settings.get("currency", DEFAULT_CURRENCY)
    if not isinstance(currency, str) or not CURRENCY_PATTERN.match(currency.strip().upper()):
        currency = DEFAULT_CURRENCY
    return ConversionRate(points_per_unit=points, currency=currency.strip().upper())


def parse_amount_cents(value: Any, *, field_name: str = "amount") -> int:
    """A money amount typed by a person ("2.50", "2", "2,50") → cents; at most two decimals."""
    text = str(value or "").strip().replace(",", ".").lstrip("$€£¥₹")
    match = re.fullmatch(r"([0-9]{1,7})(?:\.([0-9]{1,2}))?", text)  # ASCII digits: int() takes others too
    if not match:
        raise ValidationFailed("Enter an amount like 2.50", fields={field_name: "invalid"})
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def _clean_cents(value: int, *, allow_zero: bool, field_name: str = "amount_cents") -> int:
    low = 0 if allow_zero else 1
    if not low <= value <= MAX_AMOUNT_CENTS:
        raise ValidationFailed(phrase("The amount must be between %(low)s and %(high)s",
                                      low=format_money(low, "USD")[1:], high=format_money(MAX_AMOUNT_CENTS, "USD")[1:]),
                               fields={field_name: "range"})
    return value


def _check_payee(parent: Member, kid: Member) -> None:
    require_parent(parent)
    if kid.is_parent or not kid.is_active:
        raise ValidationFailed("Allowance is paid to active kids", fields={"user_id": "invalid"})


# --- paying -----------------------------------------------------------------------------------------------------

def record_payout(session: Session, parent: Member, kid: Member, data: ConversionInput, rules: FamilyRules,
                  now: datetime) -> Payout:
    """A parent turns a kid's points into money: a `conversion` ledger row (never below zero) and the payout."""
    _check_payee(parent, kid)
    amount = clean_points(data.points, field="points")
    method, note = data.method or "cash", data.note
    rate = conversion_rate(session)
    cents = rate.cents_for(amount)
    if cents < 1:
        raise ValidationFailed(phrase("%(amount)s points are worth less than one cent at %(rate)s", amount=amount,
                                      rate=rate.phrase(format_money(100, rate.currency))),
                               fields={"points": "too few"})
    payout = Payout(id=uuid.uuid4(), member_id=kid.id, kind="conversion", points=amount, amount_cents=cents,
                    currency=rate.currency, method=method, note=note, paid_by=parent.id,
                    paid_on=rules.clock.today(now), created_at=now)
    try:
        entry = post_entry(session, kid.id, amount=-amount, kind="conversion",
                           description=ledger_text(CONVERTED, money=format_money(cents, rate.currency)),
                           clock=rules.clock, now=now, actor_id=parent.id, reference_id=payout.id)
    except ValidationFailed as error:
        if "points_short" in error.extra:
            raise ValidationFailed("Insufficient points", fields=None, **error.extra) from None
        raise
    payout.ledger_entry_id = entry.id
    session.add(payout)
    session.flush()
    return payout


def record_allowance(session: Session, parent: Member, kid: Member, data: PaymentInput, rules: FamilyRules,
                     now: datetime) -> Payout:
    """A parent records money given as a fixed allowance (no points involved)."""
    _check_payee(parent, kid)
    cents = _clean_cents(data.amount_cents, allow_zero=False)
    payout = Payout(member_id=kid.id, kind="allowance", points=0, amount_cents=cents,
                    currency=conversion_rate(session).currency, method=data.method or "cash",
                    note=data.note, paid_by=parent.id, paid_on=rules.clock.today(now), created_at=now)
    session.add(payout)
    session.flush()
    return payout


# --- weekly schedules -------------------------------------------------------------------------------------------

def get_allowance_schedule(session: Session, member_id: uuid.UUID) -> AllowanceSchedule | None:
    """The kid's weekly allowance, if one is set."""
    return session.scalar(select(AllowanceSchedule).where(AllowanceSchedule.member_id == member_id))


def set_allowance_schedule(session: Session, parent: Member, kid: Member, data: ScheduleInput) -> AllowanceSchedule:
    """Create or change a kid's weekly allowance: a fixed amount, or converting the week's points, on payday."""
    _check_payee(parent, kid)
    mode, payday, active = data.mode, data.payday, data.active
    if mode not in tuple(AllowanceMode):
        raise ValidationFailed(phrase("mode must be one of %(choices)s", choices=", ".join(AllowanceMode)),
                               fields={"mode": "invalid"})
    if not 0 <= payday <= 6:
        raise ValidationFailed("payday must be a weekday 0-6 (Monday = 0)", fields={"payday": "invalid"})
    cents = _clean_cents(data.amount_cents, allow_zero=True)
    if mode == "fixed_amount" and cents == 0:
        raise ValidationFailed("A fixed allowance needs an amount", fields={"amount_cents": "required"})
    schedule = session.scalar(select(AllowanceSchedule).where(AllowanceSchedule.member_id == kid.id)
                              .with_for_update())
    if schedule is None:
        schedule = AllowanceSchedule(member_id=kid.id)
        session.add(schedule)
    schedule.mode, schedule.payday, schedule.amount_cents, schedule.active = mode, payday, cents, active
    session.flush()
    return schedule


def _points_earned_this_week(session: Session, member_id: uuid.UUID, rules: FamilyRules, now: datetime) -> int:
    start, end = rules.clock.week_bounds(now)
    total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                           .where(LedgerEntry.member_id == member_id, LedgerEntry.kind.in_(EARNING_KINDS),
                                  LedgerEntry.created_at >= start, LedgerEntry.created_at < end))
    return max(0, int(total or 0))


def pay_due_allowances(session: Session, rules: FamilyRules, now: datetime) -> list[Payout]:
    """Pay every active schedule whose payday is today (family-local) and not yet paid today; run it any time.

    Idempotent: schedules are locked (concurrent ticks skip what another holds), paid ones record `last_paid_on`,
    and payouts are unique per (schedule, day). `convert_week` converts the points earned this family week that
    are still available (nothing when there are none).
    """
    today = rules.clock.today(now)
    due = list(session.scalars(
        select(AllowanceSchedule).where(AllowanceSchedule.active.is_(True),
                                        AllowanceSchedule.payday == today.weekday())
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)))
    rate = conversion_rate(session) if due else None
    paid: list[Payout] = []
    for schedule in due:
        if schedule.last_paid_on is not None and schedule.last_paid_on >= today:
            continue
        already = session.scalar(select(Payout.id).where(Payout.schedule_id == schedule.id, Payout.paid_on == today))
        schedule.last_paid_on = today
        kid = session.get(Member, schedule.member_id)
        if already is not None or kid is None or not kid.is_active or kid.is_parent:
            continue
        if schedule.mode == "convert_week":
            kid = lock_member(session, kid.id)  # the balance read below must still hold when the ledger posts
        assert rate is not None
        payout = _pay_schedule(session, schedule, kid, rate, rules, now, today)
        if payout is not None:
            paid.append(payout)
    session.flush()
    return paid


def _pay_schedule(session: Session, schedule: AllowanceSchedule, kid: Member, rate: ConversionRate,
                  rules: FamilyRules, now: datetime, today: date) -> Payout | None:
    if schedule.mode == "fixed_amount":
        if schedule.amount_cents < 1:
            return None
        payout = Payout(member_id=kid.id, kind="allowance", points=0, amount_cents=schedule.amount_cents,
                        currency=rate.currency, method="weekly allowance", schedule_id=schedule.id, paid_on=today,
                        created_at=now)
        session.add(payout)
        return payout
    earned = _points_earned_this_week(session, kid.id, rules, now)
    points = min(earned, kid.available_points, 10_000)
    cents = rate.cents_for(points)
    if points < 1 or cents < 1:
        return None
    payout = Payout(id=uuid.uuid4(), member_id=kid.id, kind="conversion", points=points, amount_cents=cents,
                    currency=rate.currency, method="weekly allowance", note="This week's points",
                    schedule_id=schedule.id, paid_on=today, created_at=now)
    entry = post_entry(session, kid.id, amount=-points, kind="conversion",
                       description=ledger_text(WEEKLY_ALLOWANCE, money=format_money(cents, rate.currency)),
                       clock=rules.clock, now=now, reference_id=payout.id)
    payout.ledger_entry_id = entry.id
    session.add(payout)
    return payout


# --- the statement ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatementLine:
    """One payout with the running total (in its currency) after it."""

    payout: Payout
    running_cents: int
    running_points: int


@dataclass
class MoneyStatement:
    """A kid's payouts and conversions, oldest first, with running totals."""

    member_id: uuid.UUID
    lines: list[StatementLine] = field(default_factory=list)
    total_cents: dict[str, int] = field(default_factory=dict)  # per currency (a family may change currency)
    total_points_converted: int = 0


def list_payouts(session: Session, member_id: uuid.UUID, *, kind: str | None = None,
                 limit: int = 500) -> list[Payout]:
    """A kid's payouts, newest first (conversions only with kind="conversion")."""
    query = select(Payout).where(Payout.member_id == member_id)
    if kind is not None:
        query = query.where(Payout.kind == kind)
    return list(session.scalars(query.order_by(Payout.created_at.desc(), Payout.id.desc()).limit(limit)))


def money_statement(session: Session, kid: Member) -> MoneyStatement:
    """Every payout and conversion of the kid with running totals (one query)."""
    payouts = list(session.scalars(select(Payout).where(Payout.member_id == kid.id)
                                   .order_by(Payout.created_at, Payout.id)))
    statement = MoneyStatement(member_id=kid.id)
    running: dict[str, int] = defaultdict(int)
    points = 0
    for payout in payouts:
        running[payout.currency] += payout.amount_cents
        if payout.kind == "conversion":
            points += payout.points
        statement.lines.append(StatementLine(payout, running[payout.currency], points))
    statement.total_cents = dict(running)
    statement.total_points_converted = points
    return statement
