"""The tick: for every live family, materialise today and tomorrow and mark overdue chores missed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.assignments.services import load_family_rules, mark_missed, materialise_day


@dataclass(frozen=True)
class TickResult:
    created: int
    missed: int


def tick_family(session: Session, *, timezone: str, now: datetime) -> TickResult:
    """One family's share of the tick (idempotent; the caller commits)."""
    rules = load_family_rules(session, timezone)
    today = rules.clock.today(now)
    created = materialise_day(session, rules, today, now) + materialise_day(session, rules, today + timedelta(days=1),
                                                                            now)
    missed = mark_missed(session, rules, now)
    return TickResult(created=created, missed=missed)
