"""When to look for new badges, without touching other areas' services: session events on TenantSession.

`after_flush` notes the kids whose record may have grown in that flush (an assignment became verified, a ledger
row was added, a redemption became approved or fulfilled); attribute history exists only there. `after_flush_postexec`
moves them to the transaction's to-do list. The award itself runs in `before_commit`, still inside the transaction:
awarding appends ledger rows through `post_entry`, which flushes, and a flush cannot start inside a flush event;
it also sees the kid's final state (the streak is refreshed after the credit's flush). A rollback drops the list.
"""
from __future__ import annotations

import uuid
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, SessionTransaction

from app.assignments.models import Assignment
from app.family_rules import FamilyRules, load_family_rules
from app.db.bases import utcnow
from app.db.session import TenantSession
from app.platform.models import Family
from app.points.models import LedgerEntry
from app.rewards.models import Redemption

FLUSHED = "achievements.flushed"    # kids noted by the flush in progress: {member_id: moment of the change}
PENDING = "achievements.pending"    # kids to evaluate before this transaction commits
MAX_ROUNDS = 10                     # a bonus can earn a points badge, whose bonus can earn the next: bounded
REDEEMED = ("approved", "fulfilled")


def _later(current: datetime | None, moment: datetime | None) -> datetime | None:
    if moment is None:
        return current
    return moment if current is None or moment > current else current


def _changed_to(obj: object, attribute: str, values: tuple[str, ...]) -> bool:
    history = inspect(obj).attrs[attribute].history
    return history.has_changes() and bool(history.added) and history.added[0] in values


def _noted(session: Session) -> dict[uuid.UUID, datetime | None]:
    """Kids whose record may have grown in this flush, with when it happened (the service's `now`)."""
    noted: dict[uuid.UUID, datetime | None] = {}

    def note(member_id: uuid.UUID | None, moment: datetime | None) -> None:
        if member_id is not None:
            noted[member_id] = _later(noted.get(member_id), moment)

    for obj in session.new:
        if isinstance(obj, LedgerEntry):
            note(obj.member_id, obj.created_at)
        elif isinstance(obj, Assignment) and obj.status == "verified":
            note(obj.assigned_to, obj.verified_at)
        elif isinstance(obj, Redemption) and obj.status in REDEEMED:
            note(obj.member_id, obj.fulfilled_at or obj.decided_at)
    for obj in session.dirty:
        if isinstance(obj, Assignment) and _changed_to(obj, "status", ("verified",)):
            note(obj.assigned_to, obj.verified_at)
        elif isinstance(obj, Redemption) and _changed_to(obj, "status", REDEEMED):
            note(obj.member_id, obj.fulfilled_at or obj.decided_at)
    return noted


def _collect(session: Session, _flush_context: object) -> None:
    """after_flush: note the kids this flush concerns (attribute history is reset right after this hook)."""
    if session.info.get("family_id") is None:
        return
    with session.no_autoflush:
        noted = _noted(session)
    if noted:
        session.info[FLUSHED] = noted


def _queue(session: Session, _flush_context: object) -> None:
    """after_flush_postexec: the flush succeeded, so its kids join the transaction's to-do list."""
    noted = session.info.pop(FLUSHED, None)
    if not noted:
        return
    pending: dict[uuid.UUID, datetime | None] = session.info.setdefault(PENDING, {})
    for member_id, moment in noted.items():
        pending[member_id] = _later(pending.get(member_id), moment)


def _family_rules(session: Session) -> FamilyRules:
    family_id = session.info["family_id"]
    if has_app_context():
        cached = g.get("family_rules")
        family = g.get("family")
        if family is not None and family.id == family_id:
            return cached if cached is not None else load_family_rules(session, family.timezone)
    timezone = session.scalar(select(Family.timezone).where(Family.id == family_id)) or "UTC"
    return load_family_rules(session, timezone)


def _award_pending(session: Session) -> None:
    """before_commit: evaluate every noted kid; bonus rows they earn are noted again and evaluated in turn."""
    if not session.info.get(PENDING) and not session.info.get(FLUSHED):
        return
    from app.achievements.services import award_earned_badges

    rules: FamilyRules | None = None
    for _round in range(MAX_ROUNDS):
        session.flush()  # whatever the view left unflushed may concern a kid too
        pending: dict[uuid.UUID, datetime | None] = session.info.pop(PENDING, {})
        if not pending:
            return
        rules = rules or _family_rules(session)
        for member_id, moment in sorted(pending.items(), key=lambda item: str(item[0])):
            award_earned_badges(session, member_id, rules, moment or utcnow())


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(FLUSHED, None)
        session.info.pop(PENDING, None)


def _forget_after_commit(session: Session) -> None:
    session.info.pop(FLUSHED, None)
    session.info.pop(PENDING, None)


def init_listeners() -> None:
    """Register the session events once (the area's views import this module when the app starts)."""
    if not event.contains(TenantSession, "after_flush", _collect):
        event.listen(TenantSession, "after_flush", _collect)
        event.listen(TenantSession, "after_flush_postexec", _queue)
        event.listen(TenantSession, "before_commit", _award_pending)
        event.listen(TenantSession, "after_soft_rollback", _forget)
        event.listen(TenantSession, "after_commit", _forget_after_commit)


init_listeners()
