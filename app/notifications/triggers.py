"""Turning changes into notifications, without touching other areas' services: session events on TenantSession.

`after_flush` looks at what the flush wrote (attribute history is still there) and notes events;
`after_flush_postexec` turns them into notifications (rows the next flush, or the commit's, writes). So a chore
approved by the dashboard, the API or a job notifies the same way, in the same transaction — a rollback drops both.
Redemption events are sent by the rewards services themselves and are not handled here.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from app.assignments.models import Assignment
from app.achievements.models import MemberBadge
from app.chores.models import Chore
from app.db.session import TenantSession
from app.members.models import Member
from app.notifications.services import family_parents, queue_notification
from app.platform.models import Invitation
from app.points.models import LedgerEntry

PENDING_EVENTS = "notifications.pending_events"
JOINING_PARENTS = "notifications.joining_parents"
INVITATION_ACCEPTED = "notifications.invitation_accepted"

# Pages the notifications link to (paths on the family's site; tests check each one still routes to its page).
KID_HOME = "/me"
DASHBOARD = "/today"
MEMBERS = "/members"


@dataclass(frozen=True)
class Change:
    """One thing that happened in a flush, with what the notification needs copied out while it is at hand."""

    kind: str
    member_id: uuid.UUID | None
    values: dict[str, Any] = field(default_factory=dict)


def _status_change(assignment: Assignment) -> tuple[str | None, str] | None:
    history = inspect(assignment).attrs.status.history
    if not history.has_changes():
        return None
    before = history.deleted[0] if history.deleted else None
    return before, assignment.status


def _assignment_changes(session: Session, assignment: Assignment) -> list[Change]:
    changed = _status_change(assignment)
    if changed is None:
        return []
    before, after = changed
    kid_id = assignment.assigned_to
    # By id, not the lazy="raise" relationship: an identity-map hit when the assignment came with its chore.
    chore = session.get(Chore, assignment.chore_id)
    values = {"assignment_id": assignment.id, "chore": chore.name if chore else "", "points": assignment.points_earned,
              "reason": assignment.rejection_reason}
    if after == "pending_verification":
        return [Change("chore_waiting", kid_id, values)]
    if after == "verified" and before == "pending_verification" and assignment.verified_by is not None:
        return [Change("chore_approved", kid_id, values)]
    if after == "pending" and before == "pending_verification" and assignment.rejection_reason:
        return [Change("chore_rejected", kid_id, values)]  # an undo also goes back to pending, without a reason
    if after == "missed" and kid_id is not None:
        return [Change("chore_missed", kid_id, values)]
    return []


def _collect(session: Session, _flush_context: object) -> None:
    """after_flush: note the events this flush caused (history is reset right after this hook)."""
    changes: list[Change] = []
    with session.no_autoflush:
        for obj in session.dirty:
            if isinstance(obj, Assignment):
                changes.extend(_assignment_changes(session, obj))
            elif isinstance(obj, Invitation) and inspect(obj).attrs.accepted_at.history.added not in ([], [None]):
                session.info[INVITATION_ACCEPTED] = True
        for obj in session.new:
            if isinstance(obj, LedgerEntry) and obj.kind in ("bonus", "deduction"):
                changes.append(Change(f"points_{obj.kind}", obj.member_id,
                                      {"amount": obj.amount, "reason": obj.description, "entry_id": obj.id}))
            elif isinstance(obj, MemberBadge):
                changes.append(Change("badge_earned", obj.member_id, {"badge": obj.badge, "badge_id": obj.id}))
            elif isinstance(obj, Member) and obj.role == "parent" and obj.user_id is not None:
                session.info.setdefault(JOINING_PARENTS, []).append(obj.id)
            elif isinstance(obj, Invitation) and obj.accepted_at is not None:
                session.info[INVITATION_ACCEPTED] = True
    if changes:
        session.info.setdefault(PENDING_EVENTS, []).extend(changes)


def _notify_changes(session: Session, _flush_context: object) -> None:
    """after_flush_postexec: add the notifications (no flush here; the next flush or the commit writes them)."""
    changes: list[Change] = session.info.pop(PENDING_EVENTS, [])
    if session.info.get(INVITATION_ACCEPTED) and session.info.get(JOINING_PARENTS):
        # The member, the membership and the accepted invitation may land in different flushes of one transaction.
        for member_id in session.info.pop(JOINING_PARENTS):
            changes.append(Change("coparent_joined", member_id))
        session.info.pop(INVITATION_ACCEPTED, None)
    if not changes or session.info.get("family_id") is None:
        return
    with session.no_autoflush:
        parents: list[Member] | None = None
        for change in changes:
            member = session.get(Member, change.member_id) if change.member_id else None
            if member is None:
                continue
            if parents is None and change.kind in NEEDS_PARENTS:
                parents = family_parents(session)
            HANDLERS[change.kind](session, change, member, parents or [])


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        for key in (PENDING_EVENTS, JOINING_PARENTS, INVITATION_ACCEPTED):
            session.info.pop(key, None)


def _forget_after_commit(session: Session) -> None:
    for key in (PENDING_EVENTS, JOINING_PARENTS, INVITATION_ACCEPTED):
        session.info.pop(key, None)


# --- one handler per event --------------------------------------------------------------------------------------

def _chore_data(change: Change, kid: Member) -> dict[str, Any]:
    return {"assignment_id": change.values["assignment_id"], "member_id": kid.id, "chore": change.values["chore"]}


def _chore_waiting(session: Session, change: Change, kid: Member, parents: list[Member]) -> None:
    chore = change.values["chore"]
    queue_notification(session, event="chore_waiting", recipients=parents,
                       title=f"{kid.display_name} finished {chore}", body="It is waiting for your approval.",
                       link=f"{DASHBOARD}#assignment-{change.values['assignment_id']}", data=_chore_data(change, kid))


def _chore_approved(session: Session, change: Change, kid: Member, _parents: list[Member]) -> None:
    points = change.values["points"]
    queue_notification(session, event="chore_approved", recipients=[kid], title=f"Approved: {change.values['chore']}",
                       body=f"You earned {points} point{'s' * (points != 1)}." if points else "Well done!",
                       link=KID_HOME, data={**_chore_data(change, kid), "points": points})


def _chore_rejected(session: Session, change: Change, kid: Member, _parents: list[Member]) -> None:
    reason = change.values["reason"]
    queue_notification(session, event="chore_rejected", recipients=[kid],
                       title=f"Try again: {change.values['chore']}", body=reason, link=KID_HOME,
                       data={**_chore_data(change, kid), "reason": reason})


def _chore_missed(session: Session, change: Change, kid: Member, parents: list[Member]) -> None:
    chore, data = change.values["chore"], _chore_data(change, kid)
    queue_notification(session, event="chore_missed", recipients=[kid], title=f"Missed: {chore}",
                       body="The time for this chore ran out.", link=KID_HOME, data=data)
    # The same event for the parents, linking to their page: one webhook delivery is enough.
    queue_notification(session, event="chore_missed", recipients=parents, title=f"{kid.display_name} missed {chore}",
                       body="A parent can re-open or skip it on the dashboard.",
                       link=f"{DASHBOARD}#assignment-{change.values['assignment_id']}", data=data, webhooks=False)


def _points(session: Session, change: Change, kid: Member, _parents: list[Member]) -> None:
    amount = change.values["amount"]
    title = f"Bonus: +{amount} points" if change.kind == "points_bonus" else f"Deduction: {amount} points"
    queue_notification(session, event=change.kind, recipients=[kid], title=title, body=change.values["reason"],
                       link=KID_HOME, data={"member_id": kid.id, "amount": amount,
                                            "reason": change.values["reason"], "entry_id": change.values["entry_id"]})


def badge_label(badge: str) -> str:
    """A badge key ("streak_7") as words ("Streak 7")."""
    return badge.replace("_", " ").strip().capitalize() or badge


def _badge(session: Session, change: Change, kid: Member, parents: list[Member]) -> None:
    label, data = badge_label(change.values["badge"]), {"member_id": kid.id, **change.values}
    queue_notification(session, event="badge_earned", recipients=[kid], title=f"New badge: {label}",
                       body="Look at your badge wall!", link=KID_HOME, data=data)
    if not kid.is_parent:
        queue_notification(session, event="badge_earned", recipients=parents,
                           title=f"{kid.display_name} earned a badge: {label}", link=MEMBERS, data=data,
                           webhooks=False)


def _coparent_joined(session: Session, change: Change, newcomer: Member, parents: list[Member]) -> None:
    others = [p for p in parents if p.id != newcomer.id]
    queue_notification(session, event="coparent_joined", recipients=others,
                       title=f"{newcomer.display_name} joined the family",
                       body="They can now approve chores and manage rewards.", link=MEMBERS,
                       data={"member_id": newcomer.id})


HANDLERS = {
    "chore_waiting": _chore_waiting, "chore_approved": _chore_approved, "chore_rejected": _chore_rejected,
    "chore_missed": _chore_missed, "points_bonus": _points, "points_deduction": _points, "badge_earned": _badge,
    "coparent_joined": _coparent_joined,
}
NEEDS_PARENTS = frozenset({"chore_waiting", "chore_missed", "badge_earned", "coparent_joined"})


def init_listeners() -> None:
    """Register the session events once (the area's views import this module when the app starts)."""
    if not event.contains(TenantSession, "after_flush", _collect):
        event.listen(TenantSession, "after_flush", _collect)
        event.listen(TenantSession, "after_flush_postexec", _notify_changes)
        event.listen(TenantSession, "after_soft_rollback", _forget)
        event.listen(TenantSession, "after_commit", _forget_after_commit)


init_listeners()
