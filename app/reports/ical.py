"""Each member's secret calendar feed: create and revoke its URL (the token is stored hashed), and the iCal body."""
from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select, update, CursorResult
from sqlalchemy.orm import contains_eager, Session

from app.assignments.models import Assignment
from app.assignments.services import ensure_day
from app.family_rules import FamilyRules
from app.chores.models import Chore
from app.domain import NotFound
from app.languages import phrase, translatable
from app.members.models import Member
from app.notifications.models import CalendarFeed

FEED_DAYS = 30
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,100}$")
DEFAULT_MINUTES = 15
STATUS_WORDS = {"open": translatable("Open to claim"), "pending": translatable("To do"),
                "pending_verification": translatable("Waiting for a parent"), "verified": translatable("Done"),
                "missed": translatable("Missed")}


def hash_token(token: str) -> str:
    """The stored form of a feed token (sha256 hex): a leaked database row cannot be turned into a URL."""
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(session: Session, member_id: uuid.UUID) -> CalendarFeed | None:
    """The member's live feed, if they made one."""
    return session.scalar(select(CalendarFeed).where(CalendarFeed.member_id == member_id,
                                                     CalendarFeed.revoked_at.is_(None))
                          .order_by(CalendarFeed.created_at.desc()).limit(1))


def revoke_feeds(session: Session, member: Member, now: datetime) -> int:
    """Turn the member's calendar URL off at once."""
    result = session.execute(update(CalendarFeed).where(CalendarFeed.member_id == member.id,
                                                        CalendarFeed.revoked_at.is_(None))
                             .values(revoked_at=now).execution_options(synchronize_session=False))
    session.flush()
    return cast("CursorResult[Any]", result).rowcount or 0  # an UPDATE answers with a cursor result


def create_feed(session: Session, member: Member, now: datetime) -> str:
    """A new secret URL token for the member (any older one stops working); shown once, stored hashed."""
    revoke_feeds(session, member, now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeed(member_id=member.id, token_hash=hash_token(token), created_at=now))
    session.flush()
    return token


def member_for_token(session: Session, token: str) -> Member:
    """The member whose live feed this token opens; anything else (revoked, another family's, made up) is 404."""
    if not TOKEN_PATTERN.match(token):
        raise NotFound("Calendar not found")
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == hash_token(token),
                                                     CalendarFeed.revoked_at.is_(None)))
    member = session.get(Member, feed.member_id) if feed is not None else None
    if member is None or not member.is_active:
        raise NotFound("Calendar not found")
    return member


def upcoming_assignments(session: Session, member_id: uuid.UUID, today: date) -> list[Assignment]:
    """The member's assignments from today for the next 30 days (excused ones left out)."""
    return list(session.scalars(
        select(Assignment).join(Assignment.chore).options(contains_eager(Assignment.chore))
        .where(Assignment.assigned_to == member_id, Assignment.due_date >= today,
               Assignment.due_date <= today + timedelta(days=FEED_DAYS), Assignment.status != "skipped",
               Chore.active.is_(True))
        .order_by(Assignment.due_at, Chore.name)).unique())


def build_calendar(member: Member, assignments: list[Assignment], *, family_name: str, timezone: str,
                   language: str | None = None) -> bytes:
    """An RFC 5545 calendar: one event per assignment at its due time in the family's zone, with stable UIDs; its
    words in `language` (the member's)."""
    zone = ZoneInfo(timezone)
    calendar = Calendar()
    calendar.add("prodid", "-//HousePoints//Chores//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", phrase("%(name)s's chores · %(family)s", name=member.display_name,
                                        family=family_name).render(language))
    calendar.add("x-wr-timezone", timezone)
    for assignment in assignments:
        chore = assignment.chore
        start = assignment.due_at.astimezone(zone)
        event = Event()
        event.add("uid", f"assignment-{assignment.id}@housepoints")  # the id never changes: stable UIDs
        event.add("dtstamp", assignment.updated_at)
        event.add("dtstart", start)
        event.add("duration", timedelta(minutes=chore.estimated_minutes or DEFAULT_MINUTES))
        event.add("summary", f"{chore.icon} {chore.name}".strip())
        status = phrase(STATUS_WORDS.get(assignment.status, assignment.status))
        event.add("description", phrase("%(status)s · %(points)s points", status=status,
                                        points=assignment.points_offered).render(language)
                  + (f"\n{chore.instructions}" if chore.instructions else ""))
        event.add("categories", [chore.category])
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    if assignments:
        first = min(a.due_date for a in assignments) - timedelta(days=1)
        last = max(a.due_date for a in assignments) + timedelta(days=2)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    ical: bytes = calendar.to_ical()
    return ical


def calendar_for_token(session: Session, token: str, rules: FamilyRules, now: datetime, *, family_name: str,
                       timezone: str) -> bytes:
    """The feed a token opens: today and tomorrow are materialised first, then the next 30 days are listed."""
    member = member_for_token(session, token)
    today = rules.clock.today(now)
    for day in (today, today + timedelta(days=1)):
        ensure_day(session, rules, day, now)
    return build_calendar(member, upcoming_assignments(session, member.id, today), family_name=family_name,
                          timezone=timezone, language=member.language or rules.language)
