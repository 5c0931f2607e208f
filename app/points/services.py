"""The points ledger's rules: every change of a balance is one appended row, cached balances move with it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.domain import NotFound, Unprocessable, ValidationFailed
from app.events import record, PointsPosted
from app.family_time import FamilyClock
from app.inputs import LEDGER_POINTS_LIMIT, points_problem
from app.languages import phrase
from app.members.models import Member
from app.points.inputs import PointsAward, PresetInput
from app.points.models import EARNING_KINDS, LedgerEntry, LedgerKind, PointPreset
from app.policy import require_parent

MAX_POINTS = LEDGER_POINTS_LIMIT
# Kinds that add to lifetime earnings (and experience) when positive.
LIFETIME_KINDS = ("chore", "bonus", "achievement", "adjustment")
SPENDING_KINDS = ("redemption", "conversion")
DEFAULT_PRESETS = (("bonus", "Extra helpful", 5), ("bonus", "Great attitude", 5),
                   ("bonus", "Went above and beyond", 10),
                   ("deduction", "Not listening", 5), ("deduction", "Unkind words", 5),
                   ("deduction", "Left a mess", 3))


# session.info: (the transaction, ids of the members it locked). Keyed by the innermost transaction object, so a
# lock taken in a savepoint that was rolled back (which releases it) or in an earlier transaction is taken again.
LOCKED_MEMBERS = "points.locked_members"


def lock_member(session: Session, member_id: uuid.UUID) -> Member:
    """The member row, locked for this transaction (money-like changes serialise per member)."""
    # FOR NO KEY UPDATE: balances are not keys, and a plain FOR UPDATE would deadlock against the KEY SHARE locks
    # that composite foreign keys (completed_by, actor_id…) take on this row in concurrent transactions.
    transaction = session.get_nested_transaction() or session.get_transaction()
    locked = session.info.get(LOCKED_MEMBERS)
    if transaction is not None and locked is not None and locked[0] is transaction and member_id in locked[1]:
        # Already locked (and refreshed) in this very transaction: nobody else can have changed the row since.
        held = session.get(Member, member_id)
        if held is not None:
            return held
    member = session.scalar(select(Member).where(Member.id == member_id).with_for_update(key_share=True)
                            .execution_options(populate_existing=True))
    if member is None:
        raise NotFound("User not found")
    transaction = session.get_nested_transaction() or session.get_transaction()  # the one the SELECT ran in
    if locked is None or locked[0] is not transaction:
        ids: set[uuid.UUID] = set()
        locked = (transaction, ids)
        session.info[LOCKED_MEMBERS] = locked
    locked[1].add(member_id)
    return member


def clean_points(value: object, *, field: str = "points", allow_zero: bool = False,
                 allow_negative: bool = False) -> int:
    """A whole number of points within ±10,000 (the rule of app/inputs.py, for amounts computed in code)."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValidationFailed(phrase("%(field)s must be a whole number", field=field),
                                   fields={field: "invalid"}) from None
    problem = points_problem(value, allow_zero=allow_zero, allow_negative=allow_negative)
    if problem:
        code = ("range" if problem.text.startswith("must be between") else "negative" if "negative" in problem.text
                else "zero")
        raise ValidationFailed(phrase("%(field)s %(problem)s", field=field, problem=problem), fields={field: code})
    return value


def post_entry(session: Session, member_id: uuid.UUID, *, amount: int, kind: str, description: str,
               clock: FamilyClock, now: datetime, actor_id: uuid.UUID | None = None,
               assignment_id: uuid.UUID | None = None, reference_id: uuid.UUID | None = None,
               entry_id: uuid.UUID | None = None, allow_overdraft: bool = False,
               no_overdraft: bool = False, idempotency_key: str | None = None) -> LedgerEntry:
    """Append one ledger row and move the member's cached balances in the same transaction.

    Spending, and any row posted with `no_overdraft` (a parent's deduction), may not take the available balance
    below zero; the check runs after the member row is locked, so concurrent posts cannot both pass it.
    `entry_id` and `allow_overdraft` are for history replayed from elsewhere (the legacy import): the row keeps its
    original id, and a past spend is recorded even where the old service let a balance dip below zero.
    """
    if kind not in tuple(LedgerKind):
        raise ValidationFailed(phrase("Unknown ledger kind %(kind)s", kind=kind))
    clean_points(amount, field="amount", allow_negative=True)
    member = lock_member(session, member_id)
    if (kind in SPENDING_KINDS or no_overdraft) and member.available_points + amount < 0 and not allow_overdraft:
        raise ValidationFailed("Not enough points", points_available=member.available_points,
                               points_required=-amount, points_short=-amount - member.available_points)
    week = clock.week_start_date(clock.today(now))
    if member.weekly_points_week is None or week > member.weekly_points_week:
        member.weekly_points, member.weekly_points_week = 0, week
    member.available_points += amount
    if kind in EARNING_KINDS:
        member.total_points += amount
        # A row stamped in an earlier week (its clock read just before the lock was won) leaves this week's alone.
        if week == member.weekly_points_week:
            member.weekly_points += amount
    if kind in LIFETIME_KINDS and amount > 0:
        member.lifetime_points_earned += amount
        member.xp += amount
    entry = LedgerEntry(member_id=member.id, amount=amount, kind=kind, description=description[:300],
                        actor_id=actor_id, assignment_id=assignment_id, reference_id=reference_id, created_at=now,
                        idempotency_key=idempotency_key)
    if entry_id is not None:
        entry.id = entry_id
    session.add(entry)
    session.flush()
    record(session, PointsPosted(entry_id=entry.id, member_id=member.id, kind=kind, amount=amount,
                                 description=entry.description, at=now))
    return entry


@dataclass(frozen=True)
class Award:
    """A posted bonus or deduction, and whether it was the first post of a retried request (`replayed`)."""

    entry: LedgerEntry
    replayed: bool


def give_points(session: Session, *, actor: Member, member: Member, data: PointsAward, clock: FamilyClock,
                now: datetime, idempotency_key: str | None = None) -> Award:
    """A parent's one-tap bonus or deduction, with a reason the kid sees; a repeated key returns the first post."""
    require_parent(actor)
    if member.is_parent or not member.is_active:
        raise ValidationFailed("Bonuses and deductions are for active kids", fields={"user_id": "invalid"})
    signed = data.points if data.kind == "bonus" else -data.points
    if idempotency_key is not None:
        # Looked up under the member's lock, so a retry racing its first attempt waits and then finds its row.
        lock_member(session, member.id)
        earlier = session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == idempotency_key))
        if earlier is not None:
            if (earlier.member_id, earlier.kind, earlier.amount, earlier.description) != (
                    member.id, data.kind, signed, data.reason[:300]):
                raise Unprocessable("This Idempotency-Key was already used for a different request",
                                    fields={"Idempotency-Key": "reused"})
            return Award(earlier, replayed=True)
    # A parent's deduction takes at most what the kid has: balances never go negative by a parent's hand.
    entry = post_entry(session, member.id, amount=signed, kind=data.kind, description=data.reason, clock=clock,
                       now=now, actor_id=actor.id, no_overdraft=True, idempotency_key=idempotency_key)
    return Award(entry, replayed=False)


def list_transactions(session: Session, member_id: uuid.UUID, *, kind: str | None = None, limit: int = 50,
                      offset: int = 0) -> list[LedgerEntry]:
    """A member's ledger rows, newest first."""
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    return list(session.scalars(query.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
                                .limit(limit).offset(offset)))


def list_presets(session: Session) -> list[PointPreset]:
    """The family's one-tap reasons; the defaults are created on first use."""
    presets = list(session.scalars(select(PointPreset).order_by(PointPreset.kind, PointPreset.position)))
    if not presets:
        for position, (kind, label, amount) in enumerate(DEFAULT_PRESETS):
            session.add(PointPreset(kind=kind, label=label, amount=amount, position=position))
        session.flush()
        presets = list(session.scalars(select(PointPreset).order_by(PointPreset.kind, PointPreset.position)))
    return presets


def save_preset(session: Session, *, actor: Member, data: PresetInput) -> PointPreset:
    """Add a one-tap reason."""
    require_parent(actor)
    preset = PointPreset(kind=data.kind, label=data.label, amount=data.points, position=len(list_presets(session)))
    session.add(preset)
    session.flush()
    return preset


# --- proof --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BalanceMismatch:
    member_id: uuid.UUID
    username: str
    field: str
    cached: int
    ledger: int


def ledger_balances(session: Session, clock: FamilyClock, now: datetime) -> dict[uuid.UUID, dict[str, int]]:
    """Every balance recomputed from the ledger, per member."""
    week_start, week_end = clock.week_bounds(now)
    earning = LedgerEntry.kind.in_(EARNING_KINDS)
    lifetime = LedgerEntry.kind.in_(LIFETIME_KINDS) & (LedgerEntry.amount > 0)
    this_week = earning & (LedgerEntry.created_at >= week_start) & (LedgerEntry.created_at < week_end)
    rows = session.execute(select(
        LedgerEntry.member_id,
        func.sum(LedgerEntry.amount),
        func.sum(case((earning, LedgerEntry.amount), else_=0)),
        func.sum(case((this_week, LedgerEntry.amount), else_=0)),
        func.sum(case((lifetime, LedgerEntry.amount), else_=0)),
    ).group_by(LedgerEntry.member_id))
    return {member_id: {"available_points": int(available or 0), "total_points": int(total or 0),
                        "weekly_points": int(weekly or 0), "lifetime_points_earned": int(lifetime_sum or 0)}
            for member_id, available, total, weekly, lifetime_sum in rows}


def reconcile_balances(session: Session, clock: FamilyClock, now: datetime) -> list[BalanceMismatch]:
    """Compare every member's cached balances with the ledger; an empty list is the proof."""
    truth = ledger_balances(session, clock, now)
    current_week = clock.week_start_date(clock.today(now))
    mismatches = []
    for member in session.scalars(select(Member).order_by(Member.username_key)):
        expected = truth.get(member.id, {"available_points": 0, "total_points": 0, "weekly_points": 0,
                                         "lifetime_points_earned": 0})
        cached = {"available_points": member.available_points, "total_points": member.total_points,
                  "weekly_points": member.weekly_points if member.weekly_points_week == current_week else 0,
                  "lifetime_points_earned": member.lifetime_points_earned}
        for field, value in expected.items():
            if cached[field] != value:
                mismatches.append(BalanceMismatch(member.id, member.username, field, cached[field], value))
    return mismatches


def weekly_points_now(member: Member, clock: FamilyClock, now: datetime) -> int:
    """The cached weekly points, zero when they belong to an earlier week."""
    return member.weekly_points if member.weekly_points_week == clock.week_start_date(clock.today(now)) else 0
