"""Who is home on a day: exceptions first, then recurring patterns, else home."""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import Forbidden, NotFound, ValidationFailed
from app.members.models import Member
from app.presence.models import PatternKind, PresenceException, PresencePattern

MAX_RANGE_DAYS = 366


def pattern_matches(pattern: PresencePattern, day: date) -> bool:
    """Whether a pattern speaks about `day`."""
    if day.weekday() not in (pattern.weekdays or []):
        return False
    if pattern.kind == "alternate_weeks":
        # Weeks are counted from the Monday of the anchor's week; even distance = an "on" week.
        anchor_monday = pattern.anchor_date - timedelta(days=pattern.anchor_date.weekday())
        day_monday = day - timedelta(days=day.weekday())
        return ((day_monday - anchor_monday).days // 7) % 2 == 0
    return True


def _deciding_rule(day: date, patterns: list[PresencePattern], exceptions: list[PresenceException]
                   ) -> PresencePattern | PresenceException | None:
    """The rule that speaks for `day`: the narrowest covering exception (newest on a tie), else the newest
    matching pattern, else none."""
    covering = [e for e in exceptions if e.start_date <= day <= e.end_date]
    if covering:
        # A one-day override inside a longer range (a visit home during camp) wins whichever was added first.
        return max(covering, key=lambda e: (-(e.end_date - e.start_date).days, e.created_at, e.start_date))
    matching = [p for p in patterns if pattern_matches(p, day)]
    if matching:
        return max(matching, key=lambda p: p.created_at)
    return None


def is_present(day: date, patterns: list[PresencePattern], exceptions: list[PresenceException]) -> bool:
    """Presence of one member on `day`.

    The narrowest exception covering the day wins (the newest of equal ones). Otherwise a matching pattern decides
    (a later pattern beats an earlier one). With no match, a member who has "home on …" patterns is away; anyone
    else is home.
    """
    rule = _deciding_rule(day, patterns, exceptions)
    if rule is not None:
        return rule.present
    return not any(p.present for p in patterns)


def _load_rules(session: Session, ids: list[uuid.UUID], start: date, end: date
                ) -> tuple[dict[uuid.UUID, list[PresencePattern]], dict[uuid.UUID, list[PresenceException]]]:
    patterns: dict[uuid.UUID, list[PresencePattern]] = defaultdict(list)
    exceptions: dict[uuid.UUID, list[PresenceException]] = defaultdict(list)
    if ids:
        for pattern in session.scalars(select(PresencePattern).where(PresencePattern.member_id.in_(ids))):
            patterns[pattern.member_id].append(pattern)
        for exception in session.scalars(select(PresenceException).where(
                PresenceException.member_id.in_(ids), PresenceException.end_date >= start,
                PresenceException.start_date <= end)):
            exceptions[exception.member_id].append(exception)
    return patterns, exceptions


def presence_map(session: Session, member_ids: Iterable[uuid.UUID], start: date, end: date
                 ) -> dict[tuple[uuid.UUID, date], bool]:
    """Presence for every (member, day) in [start, end], loading patterns and exceptions once."""
    ids = list(member_ids)
    patterns, exceptions = _load_rules(session, ids, start, end)
    result = {}
    day = start
    while day <= end:
        for member_id in ids:
            result[(member_id, day)] = is_present(day, patterns[member_id], exceptions[member_id])
        day += timedelta(days=1)
    return result


def transitions_on(session: Session, day: date) -> list[tuple[Member, time | None, str]]:
    """Members arriving or leaving on `day` (for the calendar's transition time and type)."""
    previous = day - timedelta(days=1)
    members = list(session.scalars(select(Member).where(Member.is_active.is_(True))))
    patterns, exceptions = _load_rules(session, [m.id for m in members], previous, day)
    changes = []
    for member in members:
        mine = patterns[member.id], exceptions[member.id]
        before, now = is_present(previous, *mine), is_present(day, *mine)
        if before != now:
            # The rule that starts today gives the time; on a plain day after it, the rule that just ended does.
            rule = _deciding_rule(day, *mine)
            if rule is None or rule.transition_time is None:
                rule = _deciding_rule(previous, *mine)
            changes.append((member, rule.transition_time if rule is not None else None,
                            "arrival" if now else "departure"))
    return changes


# --- changes --------------------------------------------------------------------------------------------------

def _require_parent(actor: Member) -> None:
    if not actor.is_parent:
        raise Forbidden("Only parents can change the presence calendar")


def _clean_time(value: Any) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed("Times look like 18:00", fields={"transition_time": "invalid"}) from None


def _clean_date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip()[:10])
    except ValueError:
        raise ValidationFailed(f"{field} must be a date like 2026-01-31", fields={field: "invalid"}) from None


def add_pattern(session: Session, *, actor: Member, member: Member, kind: str, weekdays: list[int],
                anchor_date: Any, present: bool, transition_time: Any = None, label: str | None = None
                ) -> PresencePattern:
    """Add a recurring presence rule (e.g. away every other weekend, Fri-Sun, from 18:00)."""
    _require_parent(actor)
    if kind not in tuple(PatternKind):
        raise ValidationFailed(f"kind must be one of {', '.join(PatternKind)}", fields={"kind": "invalid"})
    try:
        days = sorted({int(d) for d in weekdays})
    except (TypeError, ValueError):
        raise ValidationFailed("weekdays are numbers 0 (Monday) to 6 (Sunday)", fields={"weekdays": "invalid"}) from None
    if not days or any(not 0 <= d <= 6 for d in days):
        raise ValidationFailed("Pick weekdays between 0 (Monday) and 6 (Sunday)", fields={"weekdays": "invalid"})
    pattern = PresencePattern(member_id=member.id, kind=kind, weekdays=days,
                              anchor_date=_clean_date(anchor_date, "anchor_date"), present=bool(present),
                              transition_time=_clean_time(transition_time), label=(label or "").strip()[:80] or None)
    session.add(pattern)
    session.flush()
    return pattern


def add_exception(session: Session, *, actor: Member, member: Member, start_date: Any, end_date: Any,
                  present: bool, transition_time: Any = None, note: str | None = None) -> PresenceException:
    """Add a date range (or a one-day override) when the member is home or away."""
    _require_parent(actor)
    start = _clean_date(start_date, "start_date")
    end = _clean_date(end_date or start, "end_date")
    if end < start:
        raise ValidationFailed("The last day is before the first", fields={"end_date": "before start"})
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed("Exceptions can cover at most a year", fields={"end_date": "range"})
    exception = PresenceException(member_id=member.id, start_date=start, end_date=end, present=bool(present),
                                  transition_time=_clean_time(transition_time),
                                  note=(note or "").strip()[:200] or None)
    session.add(exception)
    session.flush()
    return exception


def delete_presence_rule(session: Session, *, actor: Member, rule_id: uuid.UUID) -> None:
    """Remove a pattern or an exception."""
    _require_parent(actor)
    rule = session.get(PresencePattern, rule_id) or session.get(PresenceException, rule_id)
    if rule is None:
        raise NotFound("Presence rule not found")
    session.delete(rule)
    session.flush()
