"""Standings: leaderboards from the ledger (the family week in its timezone, and all time; kids only) and a member's
chore stats, both counting a chore as completed when it was verified."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.assignments.services import compute_streak, compute_streaks
from app.chores.models import Chore
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import ledger_balances

PERIODS = ("week", "alltime")
WAITING_STATUSES = ("pending", "pending_verification")
NO_POINTS = {"available_points": 0, "total_points": 0, "weekly_points": 0, "lifetime_points_earned": 0}


@dataclass(frozen=True)
class LeaderboardRow:
    """One kid's place: points for the period, balances from the ledger, chores verified in the period, streak."""

    rank: int
    member: Member
    points: int
    weekly_points: int
    total_points: int
    lifetime_points_earned: int
    chores_completed: int
    streak_days: int


def chores_completed(session: Session, member_ids: Iterable[uuid.UUID], *, since: datetime | None = None,
                     until: datetime | None = None) -> dict[uuid.UUID, int]:
    """Verified assignments per member, counted when they were credited (verified_at), in [since, until)."""
    ids = list(member_ids)
    if not ids:
        return {}
    query = (select(Assignment.assigned_to, func.count()).where(Assignment.assigned_to.in_(ids),
                                                                 Assignment.status == "verified")
             .group_by(Assignment.assigned_to))
    if since is not None:
        query = query.where(Assignment.verified_at >= since)
    if until is not None:
        query = query.where(Assignment.verified_at < until)
    counts = {member_id: int(count) for member_id, count in session.execute(query)}
    return {member_id: counts.get(member_id, 0) for member_id in ids}


def leaderboard(session: Session, period: str, *, clock: FamilyClock, now: datetime) -> list[LeaderboardRow]:
    """Active kids ranked for the period ("week" or "alltime"); ties keep distinct ranks, broken by username.

    Weekly: this family week's points, then all-time points. All-time: all-time points, then this week's.
    """
    if period not in PERIODS:
        raise ValueError(f"unknown leaderboard period {period!r}")
    kids = list(session.scalars(select(Member).where(Member.is_active.is_(True), Member.role == "child")))
    balances = ledger_balances(session, clock, now)
    week_start, week_end = clock.week_bounds(now)
    if period == "week":
        completed = chores_completed(session, [k.id for k in kids], since=week_start, until=week_end)
    else:
        completed = chores_completed(session, [k.id for k in kids])
    today: date = clock.today(now)
    streaks = compute_streaks(session, [k.id for k in kids], today)
    rows = []
    for kid in kids:
        mine = balances.get(kid.id, NO_POINTS)
        points = mine["weekly_points"] if period == "week" else mine["total_points"]
        rows.append((kid, points, mine))
    if period == "week":
        rows.sort(key=lambda row: (-row[2]["weekly_points"], -row[2]["total_points"], row[0].username_key))
    else:
        rows.sort(key=lambda row: (-row[2]["total_points"], -row[2]["weekly_points"], row[0].username_key))
    return [LeaderboardRow(rank=position, member=kid, points=points, weekly_points=mine["weekly_points"],
                           total_points=mine["total_points"], lifetime_points_earned=mine["lifetime_points_earned"],
                           chores_completed=completed[kid.id],
                           streak_days=streaks[kid.id])
            for position, (kid, points, mine) in enumerate(rows, start=1)]


@dataclass(frozen=True)
class MemberStats:
    """One member's chore counts and streak, for /api/users/:id/stats and /points."""

    completed_this_week: int
    pending_assignments: int
    total_completed_chores: int
    streak_days: int
    total_points_converted: int


def member_stats(session: Session, member: Member, *, clock: FamilyClock, now: datetime) -> MemberStats:
    """Chores verified this family week and all time, chores still to do or waiting (active chores only), the
    current streak and the points converted to allowance so far."""
    week_start, week_end = clock.week_bounds(now)
    waiting = session.scalar(select(func.count()).select_from(Assignment).join(Assignment.chore)
                             .where(Assignment.assigned_to == member.id, Assignment.status.in_(WAITING_STATUSES),
                                    Chore.active.is_(True)))
    return MemberStats(
        completed_this_week=chores_completed(session, [member.id], since=week_start, until=week_end)[member.id],
        pending_assignments=int(waiting or 0),
        total_completed_chores=chores_completed(session, [member.id])[member.id],
        streak_days=compute_streak(session, member.id, clock.today(now)),
        total_points_converted=points_converted(session, member.id),
    )


def points_converted(session: Session, member_id: uuid.UUID) -> int:
    """Points turned into allowance so far (conversion rows are negative, refunds of them are their own kind)."""
    total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                           .where(LedgerEntry.member_id == member_id, LedgerEntry.kind == "conversion"))
    return -int(total or 0)
