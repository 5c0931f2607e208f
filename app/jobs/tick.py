"""The tick: for every live family, materialise today and tomorrow, mark overdue chores missed, pay allowances,
and queue reminders and digests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.allowance.services import pay_due_allowances
from app.assignments.services import mark_missed, materialise_day
from app.family_rules import load_family_rules
from app.notifications.scheduled import queue_daily_digests, queue_reminders


@dataclass(frozen=True)
class TickResult:
    created: int
    missed: int
    paid: int = 0


def tick_family(session: Session, *, timezone: str, now: datetime) -> TickResult:
    """One family's share of the tick (idempotent; the caller commits)."""
    rules = load_family_rules(session, timezone)
    today = rules.clock.today(now)
    created = materialise_day(session, rules, today, now) + materialise_day(session, rules, today + timedelta(days=1),
                                                                            now)
    # Reminders first: a chore that just became overdue gets its nudge in the same tick that may mark it missed.
    queue_reminders(session, rules, now)
    missed = mark_missed(session, rules, now)
    queue_daily_digests(session, rules, now)
    paid = len(pay_due_allowances(session, rules, now))
    return TickResult(created=created, missed=missed, paid=paid)
