"""The daily loop: materialise each day's assignments, then claim → complete → verify, with credits in the ledger."""
from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from cachetools import LRUCache
from sqlalchemy import ColumnElement, Table, and_, case, event, func, literal, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import contains_eager, joinedload, DeclarativeBase, Session
from app.assignments.inputs import AssignmentInput
from app.assignments.models import (ACTIVE_STATUSES, WITH_CHORE, WITH_CHORE_AND_ASSIGNEE, Assignment, AssignmentStatus,
                                    MaterialisedDay)
from app.chores.models import WITH_SCHEDULE_AND_ASSIGNEES, Chore
from app.chores.schedules import occurs_on
from app.domain import Forbidden, NotFound, ValidationFailed
from app.languages import Phrase, phrase
from app.events import ChoreApproved, ChoreCompleted, ChoreMissed, ChoreRejected, record
# The rules moved to app.family_rules; the tests still import both names from here (an explicit re-export).
from app.family_rules import FamilyRules as FamilyRules, load_family_rules as load_family_rules
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.descriptions import COMPLETED, MISSED, PENALTY_RETURNED, UNDONE, ledger_text
from app.points.services import clean_points, post_entry
from app.policy import require_parent
from app.presence.services import presence_map

FAIR_SHARE_WINDOW = timedelta(days=7)
MAX_DAYS_AHEAD = 366
# An assignment's status inside a refusal ("Cannot undo assignment with status: missed"): the code in English (the
# API's wire text), a word in the reader's language on a page.
STATUS_WORDS: dict[str, Phrase] = {
    AssignmentStatus.OPEN: phrase("open"), AssignmentStatus.PENDING: phrase("pending"),
    AssignmentStatus.PENDING_VERIFICATION: phrase("pending_verification"),
    AssignmentStatus.VERIFIED: phrase("verified"), AssignmentStatus.MISSED: phrase("missed"),
    AssignmentStatus.SKIPPED: phrase("skipped"),
}


def status_word(status: str) -> Phrase:
    """An assignment status for a refusal: said in the reader's language, the code itself in English."""
    return STATUS_WORDS[AssignmentStatus(status)]


# --- who does it ----------------------------------------------------------------------------------------------

def eligible_members(chore: Chore, kids: list[Member], day: date) -> list[Member]:
    """The chore's members in rotation order (all kids when none are chosen), old enough on `day`."""
    by_id = {kid.id: kid for kid in kids}
    if chore.assignees:
        ordered = [by_id[a.member_id] for a in chore.assignees if a.member_id in by_id]
    else:
        ordered = sorted(kids, key=lambda k: (k.display_name.lower(), str(k.id)))
    return [m for m in ordered if ((age := m.age_on(day)) is None or age >= chore.min_age)]


def _next_after(order: list[Member], present: set[uuid.UUID], last_id: uuid.UUID | None) -> Member | None:
    if not order:
        return None
    start = next((i + 1 for i, m in enumerate(order) if m.id == last_id), 0)
    for step in range(len(order)):
        candidate = order[(start + step) % len(order)]
        if candidate.id in present:
            return candidate
    return None


@dataclass
class History:
    """What strategies look at: the last assignee per chore, recent completions and weekly points per member."""

    last_assignee: dict[uuid.UUID, uuid.UUID]
    recent_completions: dict[uuid.UUID | None, int]  # None: verified open chores nobody was assigned
    weekly_points: dict[uuid.UUID, int]
    last_completed: dict[uuid.UUID, date]
    busy_rolling: set[uuid.UUID]


def choose_assignees(chore: Chore, order: list[Member], present: set[uuid.UUID], history: History,
                     rng: random.Random) -> list[Member | None]:
    """Apply the chore's strategy to today's present, eligible members; [None] means open to claim."""
    here = [m for m in order if m.id in present]
    strategy = chore.assignment_type
    if strategy == "open":
        return [None]
    if strategy == "each":
        return list(here) or [None]
    if not here:
        return [None]
    last = history.last_assignee.get(chore.id)
    if strategy == "fixed":
        # The first member in order is the fixed assignee; when away, the next present one covers.
        return [_next_after(order, present, order[-1].id if order else None)]
    if strategy == "round_robin":
        return [_next_after(order, present, last)]
    if strategy == "fair_share":
        position = {m.id: i for i, m in enumerate(order)}
        return [min(here, key=lambda m: (history.recent_completions.get(m.id, 0),
                                         history.weekly_points.get(m.id, 0), position[m.id]))]
    if strategy == "random":
        pool = [m for m in here if m.id != last] or here
        return [rng.choice(pool)]
    raise ValidationFailed(phrase("Unknown assignment type %(strategy)s", strategy=strategy))


def _history(session: Session, rules: FamilyRules, day: date, chores: list[Chore]) -> History:
    chore_ids = [c.id for c in chores]
    last_assignee: dict[uuid.UUID, uuid.UUID] = {}
    latest = (select(Assignment.chore_id, Assignment.assigned_to, Assignment.due_date)
              .where(Assignment.chore_id.in_(chore_ids), Assignment.assigned_to.is_not(None),
                     Assignment.due_date < day)
              .order_by(Assignment.chore_id, Assignment.due_date.desc(), Assignment.created_at.desc()))
    for chore_id, assigned_to, _ in session.execute(latest):
        if assigned_to is not None:  # always: the query leaves unassigned rows out
            last_assignee.setdefault(chore_id, assigned_to)
    window_start = rules.clock.day_bounds(day - FAIR_SHARE_WINDOW)[0]
    recent = dict(session.execute(
        select(Assignment.assigned_to, func.count()).where(Assignment.status == "verified",
                                                           Assignment.completed_at >= window_start)
        .group_by(Assignment.assigned_to)).all())
    # Cached weekly points belong to the week they were earned in: an earlier week's count as none this week.
    week = rules.clock.week_start_date(day)
    weekly = {m_id: points if points_week == week else 0 for m_id, points, points_week in
              session.execute(select(Member.id, Member.weekly_points, Member.weekly_points_week))}
    last_completed = {}
    for chore_id, completed in session.execute(
            select(Assignment.chore_id, func.max(Assignment.completed_at))
            .where(Assignment.chore_id.in_(chore_ids), Assignment.status == "verified")
            .group_by(Assignment.chore_id)):
        if completed is not None:
            last_completed[chore_id] = rules.clock.today(completed)
    busy = set(session.scalars(select(Assignment.chore_id).where(Assignment.chore_id.in_(chore_ids),
                                                                 Assignment.status.in_(ACTIVE_STATUSES))))
    return History(last_assignee, recent, weekly, last_completed, busy)


def materialise_day(session: Session, rules: FamilyRules, day: date, now: datetime,
                    chores: list[Chore] | None = None, rng: random.Random | None = None) -> int:
    """Create the day's assignments; safe to run twice or concurrently (unique key, insert-or-ignore)."""
    family_id = session.info["family_id"]
    whole_day = chores is None
    if chores is None:
        # A stable order: two concurrent runs lock and insert in the same sequence.
        chores = list(session.scalars(select(Chore).where(Chore.active.is_(True)).order_by(Chore.id)
                                      .options(*WITH_SCHEDULE_AND_ASSIGNEES)))
    chores = [c for c in chores if c.active and c.schedule is not None]
    kids = list(session.scalars(select(Member).where(Member.is_active.is_(True), Member.role == "child")))
    present_map = presence_map(session, [k.id for k in kids], day, day)
    present = {k.id for k in kids if present_map[(k.id, day)]}
    history = _history(session, rules, day, chores) if chores else None
    rng = rng or random.Random()
    rows: list[dict[str, Any]] = []
    for chore in chores:
        assert history is not None
        schedule = chore.schedule
        assert schedule is not None  # chores without one were left out above
        if schedule.rolling and chore.id in history.busy_rolling:
            continue  # a rolling chore waits until its open assignment is done
        if not occurs_on(schedule, day, last_completed=history.last_completed.get(chore.id)):
            continue
        order = eligible_members(chore, kids, day)
        for member in choose_assignees(chore, order, present, history, rng):
            slot = member.id if (member is not None and chore.assignment_type == "each") else "one"
            rows.append({
                "id": uuid.uuid4(), "family_id": family_id, "chore_id": chore.id,
                "assigned_to": member.id if member else None, "schedule_key": f"{chore.id}:{day.isoformat()}:{slot}",
                "due_date": day, "due_at": rules.clock.at(day, chore.due_time),
                "status": "pending" if member else "open",
                "points_offered": chore.base_points + (0 if member else chore.open_bonus_points),
                "points_earned": 0, "created_at": now, "updated_at": now,
            })
            if member is not None:
                history.last_assignee[chore.id] = member.id
    inserted = _insert_ignoring_duplicates(session, Assignment, rows, ("family_id", "schedule_key"))
    if whole_day:
        # Only a run over every chore may mark the day done; a single new chore's run must not hide the others.
        _insert_ignoring_duplicates(session, MaterialisedDay, [{"id": uuid.uuid4(), "family_id": family_id,
                                                                "day": day, "created_at": now}], ("family_id", "day"))
        # Not committed yet: ensure_day must not remember this day as materialised until a later read sees it.
        session.info.setdefault("days_made_here", set()).add(day)
    return inserted


def _insert_ignoring_duplicates(session: Session, model: type[DeclarativeBase], rows: list[dict[str, Any]],
                                keys: tuple[str, ...]) -> int:
    if not rows:
        return 0
    dialect = session.get_bind(model).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, model.__table__)  # a mapped class's __table__ is its Table
    statement = insert(table).values(rows).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c.id)
    return len(session.execute(statement).all())


# Days this process has seen materialised (committed): a marker is never removed, so once seen, no query is needed.
_materialised_days: LRUCache[tuple[uuid.UUID, date], bool] = LRUCache(maxsize=50_000)
_materialised_lock = threading.Lock()


def known_materialised(family_id: uuid.UUID, day: date) -> bool:
    """True when this process has already seen the family's day materialised."""
    with _materialised_lock:
        return (family_id, day) in _materialised_days


def remember_materialised(family_id: uuid.UUID, days: Iterable[date]) -> None:
    """Record days read as materialised from the database (committed markers only)."""
    with _materialised_lock:
        for day in days:
            _materialised_days[(family_id, day)] = True


def remember_committed_days(session: Session) -> None:
    """After a commit: the days this session materialised are now committed, so no later read asks again."""
    family_id = session.info.get("family_id")
    days = session.info.pop("days_made_here", ())
    if family_id is not None and days:
        remember_materialised(family_id, days)


def forget_uncommitted_days(session: Session) -> None:
    """After a rollback: the days this session materialised were not kept."""
    session.info.pop("days_made_here", None)


def install_day_memory(session_class: type[Session]) -> None:
    """Bound by `create_app`: a day materialised and committed in this process costs no query afterwards."""
    if not event.contains(session_class, "after_commit", remember_committed_days):
        event.listen(session_class, "after_commit", remember_committed_days)
        event.listen(session_class, "after_rollback", forget_uncommitted_days)


def ensure_day(session: Session, rules: FamilyRules, day: date, now: datetime) -> bool:
    """Materialise `day` on its first read; True when this call made it (the caller commits). No query at all once
    this process has seen the day materialised, one cheap query otherwise."""
    family_id = session.info["family_id"]
    if known_materialised(family_id, day):
        return False
    done = session.scalar(select(MaterialisedDay.id).where(MaterialisedDay.day == day))
    if done is None:
        materialise_day(session, rules, day, now)
        return True
    if day not in session.info.get("days_made_here", ()):
        remember_materialised(family_id, [day])
    return False


# --- reading ----------------------------------------------------------------------------------------------------

def get_assignment_or_404(session: Session, assignment_id: uuid.UUID | str) -> Assignment:
    """An assignment of this family (another family's id is simply not found)."""
    try:
        key = assignment_id if isinstance(assignment_id, uuid.UUID) else uuid.UUID(str(assignment_id))
    except ValueError:
        raise NotFound("Assignment not found") from None
    assignment = session.get(Assignment, key, options=WITH_CHORE_AND_ASSIGNEE)
    if assignment is None:
        raise NotFound("Assignment not found")
    return assignment


def assignments_for_day(session: Session, day: date, *, member_id: uuid.UUID | None = None) -> list[Assignment]:
    """A day's assignments (one member's, plus open ones to claim, when member_id is given)."""
    query = (select(Assignment).join(Assignment.chore).where(Assignment.due_date == day, Chore.active.is_(True))
             .options(contains_eager(Assignment.chore), joinedload(Assignment.assignee)))
    if member_id is not None:
        query = query.where(or_(Assignment.assigned_to == member_id, Assignment.status == "open"))
    return list(session.scalars(query.order_by(Assignment.due_at, Chore.name)).unique())


def last_days_summary(session: Session, start: date, end: date) -> dict[tuple[uuid.UUID, date], dict[str, int]]:
    """Per (member, day): how many assignments and how many verified, for week-at-a-glance and streaks."""
    rows = session.execute(select(Assignment.assigned_to, Assignment.due_date, Assignment.status, func.count())
                           .where(Assignment.due_date >= start, Assignment.due_date <= end,
                                  Assignment.assigned_to.is_not(None), Assignment.status != "skipped")
                           .group_by(Assignment.assigned_to, Assignment.due_date, Assignment.status))
    summary: dict[tuple[uuid.UUID, date], dict[str, int]] = defaultdict(lambda: {"total": 0, "verified": 0})
    for member_id, day, status, count in rows:
        entry = summary[(cast(uuid.UUID, member_id), day)]  # assigned: the query leaves the others out
        entry["total"] += count
        if status == "verified":
            entry["verified"] += count
    return summary


@dataclass(frozen=True, slots=True)
class DayChore:
    """The few chore columns a card shows (plain values, no ORM object)."""

    name: str
    icon: str
    requires_photo: bool
    min_age: int


@dataclass(frozen=True, slots=True)
class DayAssignment:
    """One assignment of a day as plain values, shaped like the ORM row the cards also accept: the kid's day on the
    tablet and the parent's Today page read the same columns into it."""

    id: uuid.UUID
    status: str
    assigned_to: uuid.UUID | None
    due_at: datetime
    points_offered: int
    points_earned: int | None
    rejection_reason: str | None
    completion_notes: str | None
    photo_name: str | None
    chore: DayChore


# The columns a DayAssignment is read from, in the order `day_assignment` takes them.
DAY_COLUMNS = (Assignment.id, Assignment.status, Assignment.assigned_to, Assignment.due_at, Assignment.points_offered,
               Assignment.points_earned, Assignment.rejection_reason, Assignment.completion_notes,
               Assignment.photo_name, Chore.name, Chore.icon, Chore.requires_photo, Chore.min_age)


def day_assignment(row: Any) -> DayAssignment:
    """A row of DAY_COLUMNS as a DayAssignment."""
    return DayAssignment(id=row.id, status=row.status, assigned_to=row.assigned_to, due_at=row.due_at,
                         points_offered=row.points_offered, points_earned=row.points_earned,
                         rejection_reason=row.rejection_reason, completion_notes=row.completion_notes,
                         photo_name=row.photo_name, chore=DayChore(name=row.name, icon=row.icon,
                                                                   requires_photo=row.requires_photo,
                                                                   min_age=row.min_age))


def streak_column(member_id: uuid.UUID, today: date, *, max_days: int = 366) -> ColumnElement[int]:
    """`compute_streak` as one scalar subquery: the complete days after the last unfinished one before today
    (today counts once it is complete; days with nothing assigned neither count nor break it)."""
    complete = func.sum(case((Assignment.status == "verified", 1), else_=0)) >= func.count()
    days = (select(Assignment.due_date.label("day"), complete.label("complete"))
            .where(Assignment.assigned_to == member_id, Assignment.due_date >= today - timedelta(days=max_days),
                   Assignment.due_date <= today, Assignment.status != "skipped")
            .group_by(Assignment.due_date).cte("kid_days"))
    last_unfinished = (select(func.max(days.c.day)).where(days.c.day < today, days.c.complete.is_(False))
                       .scalar_subquery())
    floor = literal(today - timedelta(days=max_days + 1))
    return (select(func.count()).where(days.c.complete.is_(True), days.c.day > func.coalesce(last_unfinished, floor))
            .scalar_subquery())


def kid_day_rows(session: Session, member_id: uuid.UUID, day: date) -> tuple[list[DayAssignment], int]:
    """A kid's assignments of the day plus the open ones, and their streak: one query of plain columns.

    The streak rides on a one-row table the day's assignments are left-joined to, so it comes back even on a day
    with nothing to show.
    """
    streak = select(streak_column(member_id, day).label("streak")).subquery("kid_streak")
    on_day = and_(Assignment.due_date == day,
                  or_(Assignment.assigned_to == member_id, Assignment.status == "open"))
    rows = session.execute(
        select(streak.c.streak, *DAY_COLUMNS)
        .select_from(streak)
        .outerjoin(Assignment, on_day)
        .outerjoin(Chore, and_(Chore.id == Assignment.chore_id, Chore.family_id == Assignment.family_id))
        .where(or_(Assignment.id.is_(None), and_(Chore.id.is_not(None), Chore.active.is_(True))))
        .order_by(Assignment.due_at, Chore.name)).all()
    found = [day_assignment(row) for row in rows if row.id is not None]
    return found, int(rows[0].streak or 0) if rows else 0


def compute_streak(session: Session, member_id: uuid.UUID, today: date, *, max_days: int = 366) -> int:
    """Consecutive family-local days, back from today (or yesterday while today is unfinished), with all done."""
    return compute_streaks(session, [member_id], today, max_days=max_days)[member_id]


def compute_streaks(session: Session, member_ids: Iterable[uuid.UUID], today: date, *,
                    max_days: int = 366) -> dict[uuid.UUID, int]:
    """`compute_streak` for several members from one query (the leaderboard's and reports' kids)."""
    summary = last_days_summary(session, today - timedelta(days=max_days), today)
    return {member_id: _streak_in(summary, member_id, today, max_days) for member_id in member_ids}


def _streak_in(summary: dict[tuple[uuid.UUID, date], dict[str, int]], member_id: uuid.UUID, today: date,
               max_days: int) -> int:
    streak, day = 0, today
    today_entry = summary.get((member_id, today))
    if today_entry is None or today_entry["verified"] < today_entry["total"]:
        day = today - timedelta(days=1)  # today still counts once everything is done
    while day >= today - timedelta(days=max_days):
        entry = summary.get((member_id, day))
        if entry is None:
            day -= timedelta(days=1)  # a day with nothing assigned neither counts nor breaks the streak
            continue
        if entry["verified"] < entry["total"]:
            break
        streak += 1
        day -= timedelta(days=1)
    return streak


# --- the lifecycle ----------------------------------------------------------------------------------------------

def lock_assignment(session: Session, assignment_id: uuid.UUID) -> Assignment:
    """The assignment row, locked: concurrent claims, completions and verifications take turns."""
    # The chore's schedule and rotation are not needed to change an assignment: only the chore and the assignee.
    assignment = session.scalar(select(Assignment).where(Assignment.id == assignment_id).with_for_update(of=Assignment)
                                .options(*WITH_CHORE_AND_ASSIGNEE).execution_options(populate_existing=True))
    if assignment is None:
        raise NotFound("Assignment not found")
    return assignment


def _credit(session: Session, assignment: Assignment, points: int, rules: FamilyRules, now: datetime,
            actor_id: uuid.UUID) -> None:
    assignment.points_earned = points
    if points and assignment.assigned_to is not None:
        post_entry(session, assignment.assigned_to, amount=points, kind="chore",
                   description=ledger_text(COMPLETED, name=assignment.chore.name), clock=rules.clock, now=now,
                   actor_id=actor_id, assignment_id=assignment.id)
        _refresh_streak(session, assignment.assigned_to, rules, now)


def _refresh_streak(session: Session, member_id: uuid.UUID, rules: FamilyRules, now: datetime) -> None:
    member = session.get(Member, member_id)
    if member is not None:
        member.streak_days = compute_streak(session, member_id, rules.clock.today(now))


def claim_assignment(session: Session, *, actor: Member, assignment_id: uuid.UUID, now: datetime) -> Assignment:
    """First claim wins: an open chore becomes the claimer's."""
    assignment = lock_assignment(session, assignment_id)
    if assignment.status != "open":
        raise ValidationFailed("Assignment is not available to claim")
    age = actor.age_on(assignment.due_date)
    if not actor.is_parent and age is not None and age < assignment.chore.min_age:
        raise Forbidden("You are not old enough for this chore yet")
    assignment.assigned_to = actor.id
    assignment.status = AssignmentStatus.PENDING
    assignment.claimed_at = now
    session.flush()
    return assignment


def complete_assignment(session: Session, *, actor: Member, assignment_id: uuid.UUID, rules: FamilyRules,
                        now: datetime, notes: str | None = None, photo_name: str | None = None) -> Assignment:
    """Mark a chore done; auto-approved when no check is needed, else waiting for a parent."""
    return complete_locked(session, lock_assignment(session, assignment_id), actor=actor, rules=rules, now=now,
                           notes=notes, photo_name=photo_name)


def complete_locked(session: Session, assignment: Assignment, *, actor: Member, rules: FamilyRules, now: datetime,
                    notes: str | None = None, photo_name: str | None = None) -> Assignment:
    """`complete_assignment` on a row the caller already locked (`lock_assignment`): the kid's tap reads it once."""
    if not actor.is_parent and assignment.assigned_to != actor.id:
        raise Forbidden("Not authorized to complete this assignment")
    if assignment.status != "pending":
        raise ValidationFailed(phrase("Cannot complete assignment with status: %(status)s",
                                      status=status_word(assignment.status)),
                               current_status=assignment.status)
    chore = assignment.chore
    if chore.not_before_time is not None and not actor.is_parent:
        opens = rules.clock.at(assignment.due_date, chore.not_before_time)
        if now < opens:
            raise ValidationFailed(phrase("Not yet: this chore opens at %(time)s",
                                          time=chore.not_before_time.strftime("%H:%M")))
    if chore.requires_photo and photo_name is None and not actor.is_parent:
        raise ValidationFailed("This chore needs a photo", fields={"photo": "required"})
    assignment.completed_at = now
    assignment.completed_by = actor.id
    assignment.completion_notes = (notes or "").strip()[:1000] or None
    assignment.rejection_reason = None
    if photo_name is not None:
        assignment.photo_name = photo_name
    assignee = assignment.assignee
    auto = (not chore.requires_verification or rules.auto_approve or actor.is_parent
            or (assignee is not None and assignee.auto_approve_work))
    if auto:
        assignment.status = AssignmentStatus.VERIFIED
        assignment.verified_at = now
        assignment.verified_by = actor.id if actor.is_parent else None
        _credit(session, assignment, assignment.points_offered, rules, now, actor.id)
    else:
        assignment.status = AssignmentStatus.PENDING_VERIFICATION
        assignment.points_earned = 0
    session.flush()
    if auto:
        _approved(session, assignment, now, reviewed=False)
    else:
        record(session, ChoreCompleted(assignment_id=assignment.id, member_id=assignment.assigned_to,
                                       chore=chore.name, at=now))
    return assignment


def _approved(session: Session, assignment: Assignment, now: datetime, *, reviewed: bool) -> None:
    record(session, ChoreApproved(assignment_id=assignment.id, member_id=assignment.assigned_to,
                                  chore=assignment.chore.name, points=assignment.points_earned or 0, at=now,
                                  reviewed=reviewed))


def verify_assignment(session: Session, *, actor: Member, assignment_id: uuid.UUID, approved: bool,
                      rules: FamilyRules, now: datetime, points_awarded: int | None = None,
                      notes: str | None = None) -> Assignment:
    """A parent approves (credit once) or rejects (back to the kid, with the reason they will see)."""
    require_parent(actor)
    assignment = lock_assignment(session, assignment_id)
    if assignment.status != "pending_verification":
        raise ValidationFailed(phrase("Cannot verify assignment with status: %(status)s",
                                      status=status_word(assignment.status)),
                               current_status=assignment.status)
    if assignment.assigned_to is None:
        raise ValidationFailed("Assignment has no assignee")
    assignment.verification_notes = (notes or "").strip()[:1000] or None
    if approved:
        points = assignment.points_offered if points_awarded is None else clean_points(points_awarded,
                                                                                          field="points_awarded",
                                                                                          allow_zero=True)
        assignment.status = AssignmentStatus.VERIFIED
        assignment.verified_at = now
        assignment.verified_by = actor.id
        _credit(session, assignment, points, rules, now, actor.id)
    else:
        assignment.status = AssignmentStatus.PENDING
        # The notes may be 1,000 characters; the reason the kid sees is a 300-character column.
        assignment.rejection_reason = (assignment.verification_notes or "Please try again")[:300]
    session.flush()
    if approved:
        _approved(session, assignment, now, reviewed=True)
    else:
        record(session, ChoreRejected(assignment_id=assignment.id, member_id=assignment.assigned_to,
                                      chore=assignment.chore.name, reason=assignment.rejection_reason or ""))
    return assignment


def undo_completion(session: Session, *, actor: Member, assignment_id: uuid.UUID, rules: FamilyRules,
                    now: datetime) -> Assignment:
    """A parent takes a completion back; credited points are reversed by a new ledger row."""
    require_parent(actor)
    assignment = lock_assignment(session, assignment_id)
    if assignment.status not in ("verified", "pending_verification"):
        raise ValidationFailed(phrase("Cannot undo assignment with status: %(status)s",
                                      status=status_word(assignment.status)),
                               current_status=assignment.status)
    if assignment.status == "verified" and assignment.points_earned and assignment.assigned_to is not None:
        post_entry(session, assignment.assigned_to, amount=-assignment.points_earned, kind="chore",
                   description=ledger_text(UNDONE, name=assignment.chore.name), clock=rules.clock, now=now,
                   actor_id=actor.id, assignment_id=assignment.id)
    assignment.status = AssignmentStatus.PENDING
    assignment.points_earned = 0
    assignment.completed_at = assignment.verified_at = None
    assignment.verified_by = assignment.completed_by = None
    session.flush()
    if assignment.assigned_to is not None:
        _refresh_streak(session, assignment.assigned_to, rules, now)
    return assignment


def skip_assignment(session: Session, *, actor: Member, assignment_id: uuid.UUID, now: datetime) -> Assignment:
    """A parent excuses a chore for the day: no points; a penalty already charged for missing it stands."""
    require_parent(actor)
    assignment = lock_assignment(session, assignment_id)
    if assignment.status not in ACTIVE_STATUSES + ("missed",):
        raise ValidationFailed(phrase("Cannot skip assignment with status: %(status)s",
                                      status=status_word(assignment.status)),
                               current_status=assignment.status)
    assignment.status = AssignmentStatus.SKIPPED
    assignment.skipped_by = actor.id
    session.flush()
    return assignment


def reopen_assignment(session: Session, *, actor: Member, assignment_id: uuid.UUID, rules: FamilyRules,
                      now: datetime) -> Assignment:
    """A parent gives a missed chore another chance; a penalty it cost is given back."""
    require_parent(actor)
    assignment = lock_assignment(session, assignment_id)
    if assignment.status != "missed":
        raise ValidationFailed(phrase("Cannot re-open assignment with status: %(status)s",
                                      status=status_word(assignment.status)),
                               current_status=assignment.status)
    penalty = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                             .where(LedgerEntry.assignment_id == assignment.id, LedgerEntry.kind == "penalty"))
    if penalty and assignment.assigned_to is not None:
        post_entry(session, assignment.assigned_to, amount=-penalty, kind="penalty",
                   description=ledger_text(PENALTY_RETURNED, name=assignment.chore.name), clock=rules.clock, now=now,
                   actor_id=actor.id, assignment_id=assignment.id)
    assignment.status = AssignmentStatus.PENDING if assignment.assigned_to else AssignmentStatus.OPEN
    assignment.missed_at = None
    end_of_today = rules.clock.at(rules.clock.today(now), None)
    if assignment.due_at < end_of_today:
        # Still past due, the next tick would mark it missed (and charge the penalty) again within a minute.
        assignment.due_at = end_of_today
    session.flush()
    return assignment


def mark_missed(session: Session, rules: FamilyRules, now: datetime) -> int:
    """Past-due chores become missed; an assigned one costs the chore's penalty points (once)."""
    overdue = list(session.scalars(select(Assignment).where(Assignment.status.in_(("open", "pending")),
                                                            Assignment.due_at < now)
                                   .with_for_update(of=Assignment, skip_locked=True).options(*WITH_CHORE)))
    for assignment in overdue:
        assignment.status = AssignmentStatus.MISSED
        assignment.missed_at = now
        penalty = assignment.chore.penalty_points
        if penalty and assignment.assigned_to is not None:
            post_entry(session, assignment.assigned_to, amount=-penalty, kind="penalty",
                       description=ledger_text(MISSED, name=assignment.chore.name), clock=rules.clock, now=now,
                       assignment_id=assignment.id)
        if assignment.assigned_to is not None:
            record(session, ChoreMissed(assignment_id=assignment.id, member_id=assignment.assigned_to,
                                        chore=assignment.chore.name))
    session.flush()
    return len(overdue)


def create_assignment(session: Session, *, actor: Member, data: AssignmentInput, rules: FamilyRules,
                      now: datetime) -> Assignment:
    """A parent hands out a one-off assignment (API)."""
    require_parent(actor)
    chore = session.get(Chore, data.chore_id)
    if chore is None or not chore.active:
        raise NotFound("Chore not found")
    member = None
    if data.assigned_to is not None:
        member = session.get(Member, data.assigned_to)
        if member is None or not member.is_active:
            raise NotFound("Assigned user not found")
    points = data.points_offered or chore.base_points  # the contract's default: 0 or absent means the chore's
    today = rules.clock.today(now)
    day, due_at = _due(data.due_date, rules, today)
    if not today - timedelta(days=MAX_DAYS_AHEAD) <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValidationFailed("due_date must be within a year of today", fields={"due_date": "range"})
    assignment = Assignment(chore_id=chore.id, assigned_to=member.id if member else None, assigned_by=actor.id,
                            due_date=day, due_at=due_at, status="pending" if member else "open",
                            points_offered=points)
    session.add(assignment)
    session.flush()
    return assignment


def _due(value: date | datetime | None, rules: FamilyRules, today: date) -> tuple[date, datetime]:
    """(family-local day, due instant): a day is due at its end, an instant on the day it falls in the family."""
    if value is None:
        return today, rules.clock.at(today, None)
    try:
        if isinstance(value, datetime):
            return rules.clock.today(value), value
        return value, rules.clock.at(value, None)
    except OverflowError:
        # 9999-12-31 or 0001-01-01 cannot be moved into the family's timezone: far outside the allowed year anyway.
        raise ValidationFailed("due_date must be within a year of today", fields={"due_date": "range"}) from None
