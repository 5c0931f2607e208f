"""What the tick sends on a schedule: the parents' daily digest email, chore reminders and overdue nudges.

Both are at most once: each row they make has an id derived from a key ("daily_digest|<day>", "chore_reminder|
<assignment>") plus its channel and recipient, so running the tick again (or twice at once) cannot make a second
row — the primary key is the unique key, and rows already made are skipped before inserting.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.assignments.models import WITH_CHORE, WITH_CHORE_AND_ASSIGNEE, Assignment
from app.family_rules import FamilyRules
from app.family_time import END_OF_DAY
from app.languages import phrase
from app.members.models import Member
from app.notifications.models import Delivery
from app.notifications.services import (
    channel_choices,
    family_parents,
    keyed_id,
    mark_for_dispatch,
    notification_settings,
    queue_notification,
)
from app.notifications.triggers import DASHBOARD, KID_HOME
from app.rewards.models import Redemption

DIGEST_WINDOW = timedelta(hours=24)
OVERDUE_WINDOW = timedelta(hours=24)  # older chores are long settled; nobody needs a nudge about last week


@dataclass
class DigestSummary:
    """What a parent reads in the daily digest."""

    waiting: list[str] = field(default_factory=list)
    done: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    rewards: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        """The email body."""
        lines = ["Here is how the last day went."]
        if self.waiting:
            lines += ["", f"Waiting for your approval ({len(self.waiting)}):", *(f"  • {w}" for w in self.waiting)]
        else:
            lines += ["", "Nothing is waiting for your approval."]
        lines += ["", "Chores done: " + (_counts(self.done) or "none")]
        lines += ["Chores missed: " + (_counts(self.missed) or "none")]
        if self.rewards:
            lines += ["", f"Rewards requested ({len(self.rewards)}):", *(f"  • {r}" for r in self.rewards)]
        return "\n".join(lines)


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items()))


def digest_summary(session: Session, now: datetime) -> DigestSummary:
    """Waiting approvals now; chores done and missed and rewards requested in the last 24 hours (four queries)."""
    since = now - DIGEST_WINDOW
    names: dict[uuid.UUID | None, str] = dict(session.execute(select(Member.id, Member.display_name)).all())
    summary = DigestSummary()
    for assignment in session.scalars(select(Assignment).where(Assignment.status == "pending_verification")
                                      .options(*WITH_CHORE).order_by(Assignment.completed_at)).unique():
        summary.waiting.append(f"{names.get(assignment.assigned_to, 'Someone')} — {assignment.chore.name}")
    counts = session.execute(
        select(Assignment.assigned_to, Assignment.status, func.count())
        .where(Assignment.assigned_to.is_not(None),
               or_(and_(Assignment.status == "verified", Assignment.completed_at >= since),
                   and_(Assignment.status == "missed", Assignment.missed_at >= since)))
        .group_by(Assignment.assigned_to, Assignment.status))
    for member_id, status, count in counts:
        (summary.done if status == "verified" else summary.missed)[names.get(member_id, "Someone")] += count
    for redemption in session.scalars(select(Redemption).where(or_(Redemption.status == "pending",
                                                                   Redemption.requested_at >= since))
                                      .options(joinedload(Redemption.reward)).order_by(Redemption.requested_at)):
        state = "waiting for you" if redemption.status == "pending" else redemption.status
        summary.rewards.append(f"{names.get(redemption.member_id, 'Someone')} — {redemption.reward.name} ({state})")
    return summary


def queue_daily_digests(session: Session, rules: FamilyRules, now: datetime,
                        settings: Mapping[str, int] | None = None) -> int:
    """From the family's digest hour on (family-local), once per family-local day: each parent's digest email."""
    local = rules.clock.local(now)
    if local.hour < (settings or notification_settings(session))["digest_hour"]:
        return 0
    parents = [p for p in family_parents(session) if p.email]
    wants = channel_choices(session, [p.id for p in parents], "daily_digest")
    key = f"daily_digest|{local.date().isoformat()}"
    ids = {p.id: keyed_id(key, "email", p.id) for p in parents if wants(p.id, "email")}
    if not ids:
        return 0
    sent = set(session.scalars(select(Delivery.id).where(Delivery.id.in_(list(ids.values())))))
    recipients = [p for p in parents if p.id in ids and ids[p.id] not in sent]
    if not recipients:
        return 0
    body = digest_summary(session, now).as_text()
    subject = f"HousePoints: your family's day, {local:%a} {local.day} {local:%b}"
    for parent in recipients:
        session.add(Delivery(id=ids[parent.id], channel="email", event="daily_digest", recipient=parent.email,
                             subject=subject, payload={"body": body, "link": DASHBOARD, "member_id": str(parent.id),
                                                       "day": local.date().isoformat()}))
        mark_for_dispatch(session, ids[parent.id])
    session.flush()
    return len(recipients)


def _has_due_time(assignment: Assignment, rules: FamilyRules) -> bool:
    # A chore with no due time is due at the end of the day: a reminder at 23:30 or a nudge at midnight helps nobody.
    return rules.clock.local(assignment.due_at).time().replace(microsecond=0) != END_OF_DAY


def queue_reminders(session: Session, rules: FamilyRules, now: datetime,
                    settings: Mapping[str, int] | None = None) -> int:
    """A "due soon" reminder `reminder_lead_minutes` before a chore's due time and one overdue nudge after it.

    Each is at most once per assignment (keyed rows); only chores still to do, with a due time, are considered.
    Returns how many notifications were made.
    """
    lead = (settings or notification_settings(session))["reminder_lead_minutes"]
    made = 0
    todo = (select(Assignment).where(Assignment.status == "pending", Assignment.assigned_to.is_not(None))
            .options(*WITH_CHORE_AND_ASSIGNEE).order_by(Assignment.due_at))
    if lead:
        for assignment in session.scalars(todo.where(Assignment.due_at > now,
                                                     Assignment.due_at <= now + timedelta(minutes=lead))).unique():
            if assignment.assignee is None or not _has_due_time(assignment, rules):
                continue
            made += len(queue_notification(
                session, event="chore_reminder", recipients=[assignment.assignee],
                title=phrase("Due soon: %(chore)s", chore=assignment.chore.name),
                body=phrase("Due at %(time)s.", time=f"{rules.clock.local(assignment.due_at):%H:%M}"), link=KID_HOME,
                data={"assignment_id": assignment.id, "member_id": assignment.assigned_to,
                      "chore": assignment.chore.name}, key=f"chore_reminder|{assignment.id}"))
    for assignment in session.scalars(todo.where(Assignment.due_at <= now,
                                                 Assignment.due_at > now - OVERDUE_WINDOW)).unique():
        if assignment.assignee is None or not _has_due_time(assignment, rules):
            continue
        made += len(queue_notification(
            session, event="chore_overdue", recipients=[assignment.assignee],
            title=phrase("Overdue: %(chore)s", chore=assignment.chore.name),
            body=phrase("It was due at %(time)s.", time=f"{rules.clock.local(assignment.due_at):%H:%M}"),
            link=KID_HOME, data={"assignment_id": assignment.id, "member_id": assignment.assigned_to,
                                 "chore": assignment.chore.name}, key=f"chore_overdue|{assignment.id}"))
    session.flush()
    return made
