"""The presence calendar over the API: `/api/schedule` day rows, and the patterns and exceptions behind them."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import func, select

from app.api import bp
from app.api.serializers import format_timestamp
from app.api.serializers_daily import (
    exception_item,
    format_time,
    parse_day,
    parse_uuid,
    pattern_item,
    query_int,
    read_json_object,
    require_keys,
    typed_values,
)
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.domain import ValidationFailed
from app.inputs import parse_action
from app.members.models import Member
from app.members.services import get_member_or_404
from app.presence.inputs import PresenceExceptionInput, PresencePatternInput
from app.presence.models import PresenceException, PresencePattern
from app.presence.services import (
    add_exception,
    add_pattern,
    delete_presence_rule,
    pattern_matches,
    presence_map,
    transitions_on,
)
from app.uow import transactional
from app.web import family_today, request_now

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Far enough for any calendar, near enough that date arithmetic (a day before, a year after) cannot overflow.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PRESENCE_WRITE = "Only parents can change the presence calendar"


# --- /api/schedule -------------------------------------------------------------------------------------------------

def _schedule_range() -> tuple[date, date]:
    """[start, end] from start_date and end_date or days (default: today and the next 30 days)."""
    raw_start, raw_end = request.args.get("start_date"), request.args.get("end_date")
    start = parse_day(raw_start, "start_date") if raw_start is not None else family_today()
    days = query_int("days", DEFAULT_DAYS, 1, MAX_DAYS)
    if not EARLIEST_DAY <= start <= LATEST_DAY:
        raise ValidationFailed(f"start_date must be between {EARLIEST_DAY} and {LATEST_DAY}")
    end = parse_day(raw_end, "end_date") if raw_end is not None else start + timedelta(days=days)
    if end < start:
        raise ValidationFailed("end_date is before start_date")
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed(f"The range can be at most {MAX_DAYS} days")
    return start, end


def _transition(changes: list[tuple[Member, time | None, str]]) -> tuple[str | None, str | None]:
    """(HH:MM:SS of the earliest known change, arrival/departure/mixed) for a day's changes."""
    kinds = {kind for _, _, kind in changes}
    kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else None)
    times = sorted(moment for _, moment, _ in changes if moment is not None)
    return (format_time(times[0]) if times else None), kind


def _day_row(family_id: uuid.UUID, day: date, members: list[Member], presence: dict[tuple[uuid.UUID, date], bool],
             rules: list[PresencePattern | PresenceException], fallback: datetime) -> dict[str, Any]:
    """One calendar row in the contract's keys (optional ones left out when empty)."""
    previous = day - timedelta(days=1)
    here = {m.id: presence[(m.id, day)] for m in members}
    changed = any(presence[(m.id, previous)] != here[m.id] for m in members)
    # Only days where someone arrives or leaves cost the extra queries of the transitions service.
    transition_time, transition_type = _transition(transitions_on(get_session(), day)) if changed else (None, None)
    kids_present = [m.username for m in members if m.role == "child" and here[m.id]]
    affecting = [r for r in rules if (r.start_date <= day <= r.end_date if isinstance(r, PresenceException)
                                      else pattern_matches(r, day))]
    names = {m.id: m.display_name for m in members}
    notes = [f"{names.get(r.member_id, '?')}: {r.note}" for r in affecting
             if isinstance(r, PresenceException) and r.note]
    row: dict[str, Any] = {
        "id": str(uuid.uuid5(family_id, day.isoformat())),
        "date": day.isoformat(),
        "weekday": WEEKDAYS[day.weekday()],
        "day_type": "transition" if transition_type else ("weekend" if day.weekday() >= 5 else "weekday"),
        "presence_data": {m.username: here[m.id] for m in members},
        "kids_present": kids_present,
        "total_kids_present": len(kids_present),
        "notes": "; ".join(notes) or None,
        "transition_time": transition_time,
        "transition_type": transition_type,
        "created_at": format_timestamp(min((r.created_at for r in affecting), default=fallback)),
        "updated_at": format_timestamp(max((r.updated_at for r in affecting), default=fallback)),
    }
    return {key: value for key, value in row.items()
            if not (key in ("presence_data", "notes", "transition_time", "transition_type") and not value)}


@bp.get("/schedule")
@api_auth_required
def schedule() -> Response:
    """Who is home each day of a range: presence per member, kids present, transitions and notes."""
    start, end = _schedule_range()
    session = get_session()
    members = list(session.scalars(select(Member).where(Member.is_active.is_(True))
                                   .order_by(Member.display_name, Member.id)))
    ids = [m.id for m in members]
    presence = presence_map(session, ids, start - timedelta(days=1), end)
    patterns = list(session.scalars(select(PresencePattern).where(PresencePattern.member_id.in_(ids))))
    exceptions = list(session.scalars(select(PresenceException).where(
        PresenceException.member_id.in_(ids), PresenceException.end_date >= start,
        PresenceException.start_date <= end)))
    first_rule = min(filter(None, (session.scalar(select(func.min(PresencePattern.created_at))),
                                   session.scalar(select(func.min(PresenceException.created_at))))),
                     default=None)
    fallback = first_rule or request_now()
    rules: list[PresencePattern | PresenceException] = [*patterns, *exceptions]
    rows = [_day_row(g.family.id, start + timedelta(days=offset), members, presence, rules, fallback)
            for offset in range((end - start).days + 1)]
    return jsonify(start_date=start.isoformat(), end_date=end.isoformat(), schedule=rows, total_days=len(rows))


# --- patterns and exceptions ---------------------------------------------------------------------------------------

def _member_filter() -> uuid.UUID | None:
    raw = request.args.get("user_id")
    return parse_uuid(raw, "Invalid user_id format") if raw is not None else None


def _body_member(values: dict[str, Any]) -> Member:
    key = parse_uuid(values["user_id"], "Invalid user_id format")
    return get_member_or_404(get_session(), key)


@bp.get("/presence/patterns")
@api_auth_required
def list_patterns() -> Response:
    """The family's recurring presence rules (optionally one member's), oldest first."""
    member_id = _member_filter()
    query = select(PresencePattern).order_by(PresencePattern.created_at, PresencePattern.id)
    if member_id is not None:
        query = query.where(PresencePattern.member_id == member_id)
    patterns = list(get_session().scalars(query))
    return jsonify(patterns=[pattern_item(p) for p in patterns], count=len(patterns))


@bp.post("/presence/patterns")
@api_parent_required(PRESENCE_WRITE)
@transactional
def create_pattern() -> tuple[Response, int]:
    """A parent adds a recurring rule (e.g. away every other weekend, Fri-Sun, from 18:00)."""
    values = typed_values(read_json_object(), {"user_id": str, "kind": str, "weekdays": list, "anchor_date": str,
                                               "present": bool, "transition_time": str, "label": str})
    require_keys(values, "user_id", "weekdays")
    weekdays = values["weekdays"]
    if not all(isinstance(day, int) and not isinstance(day, bool) for day in weekdays):
        raise ValidationFailed("weekdays are numbers 0 (Monday) to 6 (Sunday)", fields={"weekdays": "invalid"})
    session = get_session()
    member = _body_member(values)
    data = parse_action(PresencePatternInput, {**values, "anchor_date": values.get("anchor_date") or family_today()})
    pattern = add_pattern(session, actor=g.member, member=member, data=data)
    body = pattern_item(pattern)
    return jsonify(body), 201


@bp.get("/presence/exceptions")
@api_auth_required
def list_exceptions() -> Response:
    """Date ranges and one-day overrides (optionally one member's, overlapping start_date..end_date)."""
    member_id = _member_filter()
    query = select(PresenceException).order_by(PresenceException.start_date, PresenceException.created_at,
                                               PresenceException.id)
    if member_id is not None:
        query = query.where(PresenceException.member_id == member_id)
    if request.args.get("start_date") is not None:
        query = query.where(PresenceException.end_date >= parse_day(request.args["start_date"], "start_date"))
    if request.args.get("end_date") is not None:
        query = query.where(PresenceException.start_date <= parse_day(request.args["end_date"], "end_date"))
    exceptions = list(get_session().scalars(query))
    return jsonify(exceptions=[exception_item(e) for e in exceptions], count=len(exceptions))


@bp.post("/presence/exceptions")
@api_parent_required(PRESENCE_WRITE)
@transactional
def create_exception() -> tuple[Response, int]:
    """A parent marks a member home or away for a date range (one day when end_date is left out)."""
    values = typed_values(read_json_object(), {"user_id": str, "start_date": str, "end_date": str, "present": bool,
                                               "transition_time": str, "note": str})
    require_keys(values, "user_id", "start_date")
    data = parse_action(PresenceExceptionInput, values)
    session = get_session()
    member = _body_member(values)
    exception = add_exception(session, actor=g.member, member=member, data=data)
    body = exception_item(exception)
    return jsonify(body), 201


@bp.delete("/presence/rules/<rule_id>")
@api_parent_required(PRESENCE_WRITE)
@transactional
def delete_rule(rule_id: str) -> Response:
    """A parent removes a pattern or an exception."""
    key = parse_uuid(rule_id, "Invalid presence rule ID format")
    delete_presence_rule(get_session(), actor=g.member, rule_id=key)
    return jsonify(id=str(key), message="Presence rule deleted")
