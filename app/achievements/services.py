"""Awarding badges exactly once (insert-or-ignore), their bonus points, the badge wall and the celebration."""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.languages import Phrase, phrase
from app.achievements.models import MemberBadge
from app.achievements.rules import (
    BADGE_RULES,
    CHORES,
    FULL_WEEK,
    LIFETIME_POINTS,
    MAX_BONUS,
    REWARDS,
    STREAK,
    BadgeRule,
    rule_for,
)
from app.assignments.models import Assignment
from app.family_rules import FamilyRules
from app.domain import Forbidden
from app.events import BadgeAwarded, record
from app.members.models import FamilySetting, Member
from app.points.descriptions import BADGE, ledger_text
from app.points.services import lock_member, post_entry
from app.policy import acts_for
from app.rewards.models import Redemption

BONUS_SETTING = "achievement_bonus"
BADGE_WALL = "/badges"


@dataclass(frozen=True)
class AwardedBadge:
    """A badge this call actually inserted (a concurrent or earlier award of the same badge is not one)."""

    id: uuid.UUID
    member_id: uuid.UUID
    rule: BadgeRule
    bonus_points: int


# --- measuring ------------------------------------------------------------------------------------------------

def measure_progress(session: Session, member: Member, measures: Iterable[str], rules: FamilyRules,
                     now: datetime) -> dict[str, int]:
    """The kid's record for each measure asked for (only those), the counted ones in one query of subqueries."""
    wanted = set(measures)
    counts = _counted(member, wanted, rules, now)
    row = session.execute(select(*(c.label(name) for name, c in counts.items()))).mappings().one() if counts else {}
    return _progress(member, wanted, row)


def held_and_progress(session: Session, member: Member, catalog: Sequence[BadgeRule], rules: FamilyRules,
                      now: datetime) -> tuple[set[str], dict[str, int]]:
    """The badges of the catalogue the kid holds, and their record on its every measure: one query."""
    wanted = {rule.measure for rule in catalog}
    columns: dict[str, ColumnElement[Any]] = dict(_counted(member, wanted, rules, now))
    for i, rule in enumerate(catalog):
        columns[f"held_{i}"] = select(MemberBadge.id).where(MemberBadge.member_id == member.id,
                                                             MemberBadge.badge == rule.key).exists()
    row = session.execute(select(*(c.label(name) for name, c in columns.items()))).mappings().one()
    return {rule.key for i, rule in enumerate(catalog) if row[f"held_{i}"]}, _progress(member, wanted, row)


def _counted(member: Member, wanted: set[str], rules: FamilyRules, now: datetime) -> dict[str, ColumnElement[int]]:
    """The measures counted in the database, as scalar subqueries (one statement asks them all)."""
    counts: dict[str, ColumnElement[int]] = {}
    if CHORES in wanted:
        counts[CHORES] = _count(Assignment, Assignment.assigned_to == member.id, Assignment.status == "verified")
    if REWARDS in wanted:
        counts[REWARDS] = _count(Redemption, Redemption.member_id == member.id,
                                 Redemption.status.in_(("approved", "fulfilled")))
    if FULL_WEEK in wanted:
        # Every one of the kid's assignments last family week verified or excused, none missed, at least one done.
        first, last = last_completed_week(rules, now)
        in_week = (Assignment.assigned_to == member.id, Assignment.due_date >= first, Assignment.due_date <= last)
        counts["week_done"] = _count(Assignment, *in_week, Assignment.status == "verified")
        counts["week_unfinished"] = _count(Assignment, *in_week, Assignment.status.not_in(("verified", "skipped")))
    return counts


def _progress(member: Member, wanted: set[str], row: Mapping[Any, Any]) -> dict[str, int]:
    """Each wanted measure's value: the member's own columns, else the counted row."""
    values: dict[str, int] = {}
    if STREAK in wanted:
        values[STREAK] = member.streak_days
    if LIFETIME_POINTS in wanted:
        values[LIFETIME_POINTS] = member.lifetime_points_earned
    values.update({name: int(row[name] or 0) for name in (CHORES, REWARDS) if name in wanted})
    if FULL_WEEK in wanted:
        values[FULL_WEEK] = int(row["week_done"] >= 1 and row["week_unfinished"] == 0)
    return values


def _count(model: type[Assignment] | type[Redemption], *where: ColumnElement[bool]) -> ColumnElement[int]:
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def last_completed_week(rules: FamilyRules, now: datetime) -> tuple[date, date]:
    """First and last family-local day of the family week before the current one."""
    this_week = rules.clock.week_start_date(rules.clock.today(now))
    first = this_week - timedelta(days=7)
    return first, first + timedelta(days=6)


def earned_rules(progress: dict[str, int], candidates: Iterable[BadgeRule]) -> list[BadgeRule]:
    """The candidates whose threshold the kid's record reaches."""
    return [rule for rule in candidates if progress.get(rule.measure, 0) >= rule.threshold]


# --- awarding -------------------------------------------------------------------------------------------------

def achievement_bonuses(session: Session) -> dict[str, int]:
    """The family's bonus per badge (setting `achievement_bonus`); anything unusable counts as no bonus."""
    raw = session.scalar(select(FamilySetting.value).where(FamilySetting.key == BONUS_SETTING))
    if not isinstance(raw, dict):
        return {}
    return {badge: points for badge, points in raw.items()
            if isinstance(points, int) and not isinstance(points, bool) and 0 < points <= MAX_BONUS}


def insert_badges(session: Session, member_id: uuid.UUID, rows: Sequence[tuple[str, int]],
                  now: datetime) -> dict[str, uuid.UUID]:
    """INSERT … ON CONFLICT DO NOTHING: returns {badge: id} for the rows this statement really inserted."""
    if not rows:
        return {}
    family_id = session.info["family_id"]
    values = [{"id": uuid.uuid4(), "family_id": family_id, "member_id": member_id, "badge": badge,
               "awarded_at": now, "bonus_points": bonus} for badge, bonus in rows]
    dialect = session.get_bind(MemberBadge).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, MemberBadge.__table__)  # a mapped class's __table__ is its Table
    statement = (insert(table).values(values)
                 .on_conflict_do_nothing(index_elements=["family_id", "member_id", "badge"])
                 .returning(table.c.badge, table.c.id))
    return {badge: badge_id for badge, badge_id in session.execute(statement).all()}


def award_earned_badges(session: Session, member_id: uuid.UUID, rules: FamilyRules, now: datetime,
                        catalog: Sequence[BadgeRule] = BADGE_RULES) -> list[AwardedBadge]:
    """Give a kid every badge their record now earns, each exactly once, with the family's bonus points.

    The member row is locked first, so evaluations for one kid take turns (and always take the member lock
    before a badge row, so two of them cannot deadlock); the insert-or-ignore is what makes the award once-only.
    """
    member = session.get(Member, member_id)
    if member is None or member.is_parent or not member.is_active:
        return []
    member = lock_member(session, member_id)
    held, progress = held_and_progress(session, member, catalog, rules, now)
    earned = earned_rules(progress, [rule for rule in catalog if rule.key not in held])
    if not earned:
        return []
    bonuses = achievement_bonuses(session)
    inserted = insert_badges(session, member_id, [(rule.key, bonuses.get(rule.key, 0)) for rule in earned], now)
    awarded = [AwardedBadge(inserted[rule.key], member_id, rule, bonuses.get(rule.key, 0))
               for rule in earned if rule.key in inserted]
    for badge in awarded:
        if badge.bonus_points:
            post_entry(session, member_id, amount=badge.bonus_points, kind="achievement",
                       description=ledger_text(BADGE, badge=badge.rule.name), clock=rules.clock, now=now,
                       reference_id=badge.id)
    if awarded:
        _announce(session, member, awarded)
    return awarded


def _announce(session: Session, kid: Member, awarded: list[AwardedBadge]) -> None:
    # The badge rows went in with Core (insert-or-ignore): say what was awarded; the notifications area tells people.
    for badge in awarded:
        record(session, BadgeAwarded(badge_id=badge.id, member_id=kid.id, badge=badge.rule.key, name=badge.rule.name,
                                     description=badge.rule.description, bonus_points=badge.bonus_points))


# --- the badge wall and the celebration -----------------------------------------------------------------------

@dataclass(frozen=True)
class BadgeTile:
    """One badge on a kid's wall: earned (when, with what bonus) or the progress towards it."""

    rule: BadgeRule
    earned: MemberBadge | None
    progress: int

    @property
    def percent(self) -> int:
        if self.earned is not None:
            return 100
        return min(100, round(100 * self.progress / self.rule.threshold)) if self.rule.threshold else 0

    @property
    def progress_text(self) -> Phrase:
        return phrase("Earned") if self.earned is not None else self.rule.progress_text(self.progress)


def member_badges(session: Session, member_id: uuid.UUID) -> list[MemberBadge]:
    """A member's badges, oldest first."""
    return list(session.scalars(select(MemberBadge).where(MemberBadge.member_id == member_id)
                                .order_by(MemberBadge.awarded_at, MemberBadge.badge)))


def badge_wall(session: Session, member: Member, rules: FamilyRules, now: datetime) -> list[BadgeTile]:
    """Every badge of the catalogue for one kid, earned ones first in the catalogue's order."""
    earned = {badge.badge: badge for badge in member_badges(session, member.id)}
    missing = [rule for rule in BADGE_RULES if rule.key not in earned]
    progress = measure_progress(session, member, {rule.measure for rule in missing}, rules, now)
    tiles = [BadgeTile(rule, earned.get(rule.key), progress.get(rule.measure, 0)) for rule in BADGE_RULES]
    return sorted(tiles, key=lambda tile: tile.earned is None)


def badge_counts(session: Session) -> dict[uuid.UUID, int]:
    """How many badges each member holds (the parents' overview)."""
    return dict(session.execute(select(MemberBadge.member_id, func.count()).group_by(MemberBadge.member_id)).all())


def unseen_badges(session: Session, member: Member) -> list[tuple[MemberBadge, BadgeRule]]:
    """Badges the kid has not celebrated yet, with their catalogue entries (badges no longer known are skipped)."""
    badges = session.scalars(select(MemberBadge).where(MemberBadge.member_id == member.id,
                                                       MemberBadge.seen_at.is_(None)))
    known = [(badge, rule) for badge in badges if (rule := rule_for(badge.badge)) is not None]
    return sorted(known, key=lambda pair: (pair[0].awarded_at, BADGE_RULES.index(pair[1])))


def mark_badges_seen(session: Session, member: Member, badge_ids: Iterable[uuid.UUID], now: datetime) -> int:
    """The kid saw these celebrations; a badge earned since the screen was drawn stays unseen."""
    ids = list(badge_ids)
    if not ids:
        return 0
    result = session.execute(update(MemberBadge).where(MemberBadge.member_id == member.id,
                                                       MemberBadge.id.in_(ids), MemberBadge.seen_at.is_(None))
                             .values(seen_at=now).execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount or 0  # an UPDATE answers with a cursor result


def check_wall_access(viewer: Member, kid: Member) -> None:
    """Parents see every kid's wall; a kid sees their own."""
    if not acts_for(viewer, kid):
        raise Forbidden("You can only see your own badges")  # the API's message, kept for its clients
