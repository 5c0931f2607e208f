"""What the tick sends on a schedule: the parents' daily digest email, chore reminders and overdue nudges.

Both are at most once: each row they make has an id derived from a key ("daily_digest|<day>", "chore_reminder|
<assignment>") plus its channel and recipient, so running the tick again (or twice at once) cannot make a second
row — the primary key is the unique key, and rows already made are skipped before inserting.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from babel.dates import format_date
from babel.numbers import format_decimal
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app.assignments.models import WITH_CHORE, WITH_CHORE_AND_ASSIGNEE, Assignment
from app.family_rules import FamilyRules
from app.family_time import END_OF_DAY
from app.languages import DEFAULT_LANGUAGE, Phrase, phrase
from app.members.models import Member
from app.notifications.models import Delivery
from app.notifications.routing import routing_held
from app.notifications.services import (
    channel_choices,
    family_parents,
    keyed_id,
    mark_for_dispatch,
    notification_settings,
    queue_notification,
    reader_language,
)
from app.notifications.triggers import DASHBOARD, KID_HOME
from app.rewards.models import Redemption

DIGEST_WINDOW = timedelta(hours=24)
OVERDUE_WINDOW = timedelta(hours=24)  # older chores are long settled; nobody needs a nudge about last week


@dataclass
class DigestSummary:
    """What a parent reads in the daily digest (names as stored; the sentences in the reader's language)."""

    waiting: list[tuple[str | None, str]] = field(default_factory=list)  # (kid, chore)
    done: Counter[str | None] = field(default_factory=Counter)
    missed: Counter[str | None] = field(default_factory=Counter)
    rewards: list[tuple[str | None, str, str]] = field(default_factory=list)  # (kid, reward, status)

    def as_text(self, language: str | None = None) -> str:
        """The email body in `language` (English without one), counts in its locale."""
        def say(text: str | Phrase) -> str:
            return text.render(language) if isinstance(text, Phrase) else text

        def who(name: str | None) -> str:
            return name if name is not None else say(phrase("Someone"))

        lines = [say(phrase("Here is how the last day went."))]
        if self.waiting:
            lines += ["", say(phrase("Waiting for your approval (%(count)d):", count=len(self.waiting))),
                      *(f"  • {who(kid)} — {chore}" for kid, chore in self.waiting)]
        else:
            lines += ["", say(phrase("Nothing is waiting for your approval."))]
        lines += ["", say(phrase("Chores done: %(counts)s", counts=self._counts(self.done, language, who)))]
        lines += [say(phrase("Chores missed: %(counts)s", counts=self._counts(self.missed, language, who)))]
        if self.rewards:
            lines += ["", say(phrase("Rewards requested (%(count)d):", count=len(self.rewards))),
                      *(f"  • {who(kid)} — {reward} ({say(REWARD_STATES.get(state, state))})"
                        for kid, reward, state in self.rewards)]
        return "\n".join(lines)

    @staticmethod
    def _counts(counter: Counter[str | None], language: str | None,
                who: Callable[[str | None], str]) -> str:
        if not counter:
            return phrase("none").render(language)
        shown = sorted((who(name), count) for name, count in counter.items())
        return ", ".join(f"{name} {format_decimal(count, locale=language or DEFAULT_LANGUAGE)}"
                         for name, count in shown)


# A reward request's state as the digest says it ("waiting for you": the parent reading it decides).
REWARD_STATES: dict[str, Phrase] = {
    "pending": phrase("waiting for you"), "approved": phrase("approved"), "rejected": phrase("turned down"),
    "fulfilled": phrase("handed over"),
}


def digest_summary(session: Session, now: datetime) -> DigestSummary:
    """Waiting approvals now; chores done and missed and rewards requested in the last 24 hours (four queries)."""
    since = now - DIGEST_WINDOW
    names: dict[uuid.UUID | None, str] = dict(session.execute(select(Member.id, Member.display_name)).all())
    summary = DigestSummary()
    for assignment in session.scalars(select(Assignment).where(Assignment.status == "pending_verification")
                                      .options(*WITH_CHORE).order_by(Assignment.completed_at)).unique():
        summary.waiting.append((names.get(assignment.assigned_to), assignment.chore.name))
    counts = session.execute(
        select(Assignment.assigned_to, Assignment.status, func.count())
        .where(Assignment.assigned_to.is_not(None),
               or_(and_(Assignment.status == "verified", Assignment.completed_at >= since),
                   and_(Assignment.status == "missed", Assignment.missed_at >= since)))
        .group_by(Assignment.assigned_to, Assignment.status))
    for member_id, status, count in counts:
        (summary.done if status == "verified" else summary.missed)[names.get(member_id)] += count
    for redemption in session.scalars(select(Redemption).where(or_(Redemption.status == "pending",
                                                                   Redemption.requested_at >= since))
                                      .options(joinedload(Redemption.reward)).order_by(Redemption.requested_at)):
        summary.rewards.append((names.get(redemption.member_id), redemption.reward.name, str(redemption.status)))
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
    summary = digest_summary(session, now)
    for parent in recipients:
        # Each parent reads it in their own language, else the family's; the day in that language's words.
        language = reader_language(session, parent)
        day = format_date(local.date(), "EEE d MMM", locale=language or DEFAULT_LANGUAGE)
        subject = phrase("HousePoints: your family's day, %(day)s", day=day).render(language)
        session.add(Delivery(id=ids[parent.id], channel="email", event="daily_digest", recipient=parent.email,
                             subject=subject, payload={"body": summary.as_text(language), "link": DASHBOARD,
                                                       "member_id": str(parent.id), "language": language,
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
    with routing_held(session):  # the routing read once for every reminder of this run
        made = _queue_reminders(session, rules, now, (settings or notification_settings(session))
                                ["reminder_lead_minutes"])
    session.flush()
    return made


def _queue_reminders(session: Session, rules: FamilyRules, now: datetime, lead: int) -> int:
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
    return made
