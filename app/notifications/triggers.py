"""Turning domain events into notifications: the in-transaction reaction the dispatcher runs before each commit.

Services record what happened (`ChoreCompleted`, `RewardDecided`, `BadgeAwarded` …); this reaction writes the bell
rows and queues the deliveries in the same transaction, so a chore approved by the dashboard, the API or a job
notifies the same way — and a rollback drops both. `create_app` registers it; importing this module does nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.events import (
    BadgeAwarded,
    ChoreApproved,
    ChoreCompleted,
    ChoreMissed,
    ChoreRejected,
    CoparentJoined,
    Dispatcher,
    DomainEvent,
    PointsPosted,
    RewardDecided,
    RewardRequested,
)
from app.languages import Phrase, phrase, plural_phrase
from app.members.models import Member
from app.notifications.routing import Recipient, family_routing, routing_held
from app.notifications.services import queue_notification

# Pages the notifications link to (paths on the family's site; tests check each one still routes to its page).
KID_HOME = "/me"
DASHBOARD = "/today"
MEMBERS = "/members"
BADGE_WALL = "/badges"
STORE_LINK = "/rewards"

Chore = ChoreCompleted | ChoreApproved | ChoreRejected | ChoreMissed


def _chore_data(change: Chore, kid: Member) -> dict[str, Any]:
    return {"assignment_id": change.assignment_id, "member_id": kid.id, "chore": change.chore}


def _chore_waiting(session: Session, change: ChoreCompleted, kid: Member, parents: Sequence[Recipient]) -> None:
    queue_notification(session, event="chore_waiting", recipients=parents,
                       title=phrase("%(name)s finished %(chore)s", name=kid.display_name, chore=change.chore),
                       body=phrase("It is waiting for your approval."),
                       link=f"{DASHBOARD}#assignment-{change.assignment_id}", data=_chore_data(change, kid))


def _chore_approved(session: Session, change: ChoreApproved, kid: Member, _parents: Sequence[Recipient]) -> None:
    if not change.reviewed:
        return  # auto-approved: nobody was asked, nobody is told
    points = change.points
    queue_notification(session, event="chore_approved", recipients=[kid],
                       title=phrase("Approved: %(chore)s", chore=change.chore),
                       body=plural_phrase("You earned %(num)d point.", "You earned %(num)d points.", points) if points
                       else phrase("Well done!"),
                       link=KID_HOME, data={**_chore_data(change, kid), "points": points})


def _chore_rejected(session: Session, change: ChoreRejected, kid: Member, _parents: Sequence[Recipient]) -> None:
    queue_notification(session, event="chore_rejected", recipients=[kid],
                       title=phrase("Try again: %(chore)s", chore=change.chore),
                       body=change.reason, link=KID_HOME, data={**_chore_data(change, kid), "reason": change.reason})


def _chore_missed(session: Session, change: ChoreMissed, kid: Member, parents: Sequence[Recipient]) -> None:
    data = _chore_data(change, kid)
    queue_notification(session, event="chore_missed", recipients=[kid],
                       title=phrase("Missed: %(chore)s", chore=change.chore),
                       body=phrase("The time for this chore ran out."), link=KID_HOME, data=data)
    # The same event for the parents, linking to their page: one webhook delivery is enough.
    queue_notification(session, event="chore_missed", recipients=parents,
                       title=phrase("%(name)s missed %(chore)s", name=kid.display_name, chore=change.chore),
                       body=phrase("A parent can re-open or skip it on the dashboard."),
                       link=f"{DASHBOARD}#assignment-{change.assignment_id}", data=data, webhooks=False)


def _points(session: Session, change: PointsPosted, kid: Member, _parents: Sequence[Recipient]) -> None:
    if change.kind not in ("bonus", "deduction"):
        return  # chores, rewards and badges have their own, more telling notifications
    amount, event = change.amount, f"points_{change.kind}"
    title = (phrase("Bonus: +%(amount)s points", amount=amount) if change.kind == "bonus"
             else phrase("Deduction: %(amount)s points", amount=amount))
    queue_notification(session, event=event, recipients=[kid], title=title, body=change.description,
                       link=KID_HOME, data={"member_id": kid.id, "amount": amount, "reason": change.description,
                                            "entry_id": change.entry_id})


def _badge(session: Session, change: BadgeAwarded, kid: Member, parents: Sequence[Recipient]) -> None:
    # A badge's name and description are the catalog's own English words: said in each reader's language.
    name, description = phrase(change.name), phrase(change.description)
    won = (phrase("%(description)s (+%(bonus)s points). Look at your badge wall!", description=description,
                  bonus=change.bonus_points) if change.bonus_points
           else phrase("%(description)s. Look at your badge wall!", description=description))
    data = {"member_id": str(kid.id), "badge": change.badge, "badge_id": str(change.badge_id),
            "bonus_points": change.bonus_points}
    queue_notification(session, event="badge_earned", recipients=[kid],
                       title=phrase("New badge: %(badge)s", badge=name),
                       body=won, link=BADGE_WALL, data=data)
    queue_notification(session, event="badge_earned", recipients=[p for p in parents if p.id != kid.id],
                       title=phrase("%(name)s earned a badge: %(badge)s", name=kid.display_name,
                                    badge=name), body=description,
                       link=f"{BADGE_WALL}/{kid.id}", data=data)


def _coparent_joined(session: Session, change: CoparentJoined, newcomer: Member, parents: Sequence[Recipient]) -> None:
    others = [p for p in parents if p.id != newcomer.id]
    queue_notification(session, event="coparent_joined", recipients=others,
                       title=phrase("%(name)s joined the family", name=newcomer.display_name),
                       body=phrase("They can now approve chores and manage rewards."), link=MEMBERS,
                       data={"member_id": newcomer.id})


def _reward_requested(session: Session, change: RewardRequested, kid: Member, parents: Sequence[Recipient]) -> None:
    title = (phrase("%(name)s got %(reward)s: ready to hand over", name=kid.display_name, reward=change.reward)
             if change.status == "approved"
             else phrase("%(name)s asked for %(reward)s", name=kid.display_name, reward=change.reward))
    cost = (phrase("%(cost)s points · “%(notes)s”", cost=change.cost, notes=change.notes) if change.notes
            else phrase("%(cost)s points", cost=change.cost))
    queue_notification(session, event="reward_requested", recipients=[p for p in parents if p.id != kid.id],
                       title=title, body=cost, link=STORE_LINK,
                       data={"redemption_id": str(change.redemption_id), "reward_id": str(change.reward_id),
                             "member_id": str(kid.id), "status": change.status})


def _reward_decided(session: Session, change: RewardDecided, kid: Member, _parents: Sequence[Recipient]) -> None:
    if not kid.is_active:
        return
    decided: dict[str, tuple[str, Phrase, Phrase | None]] = {
        "approved": ("reward_approved", phrase("Yes! %(reward)s is approved", reward=change.reward), None),
        "rejected": ("reward_rejected", phrase("Not this time: %(reward)s", reward=change.reward),
                     phrase("%(reason)s (your %(points)s points are back)", reason=change.reason,
                            points=change.points)),
        "fulfilled": ("reward_fulfilled", phrase("Enjoy your %(reward)s!", reward=change.reward), None),
    }
    event, title, body = decided[change.status]
    queue_notification(session, event=event, recipients=[kid], title=title, body=body, link=STORE_LINK,
                       data={"redemption_id": str(change.redemption_id), "reward_id": str(change.reward_id),
                             "status": change.status})


Handler = Callable[[Session, Any, Member, Sequence[Recipient]], None]
HANDLERS: dict[type[DomainEvent], Handler] = {
    ChoreCompleted: _chore_waiting, ChoreApproved: _chore_approved, ChoreRejected: _chore_rejected,
    ChoreMissed: _chore_missed, PointsPosted: _points, BadgeAwarded: _badge, CoparentJoined: _coparent_joined,
    RewardRequested: _reward_requested, RewardDecided: _reward_decided,
}
NEEDS_PARENTS = (ChoreCompleted, ChoreMissed, BadgeAwarded, CoparentJoined, RewardRequested)


def notify_about(session: Session, events: list[Any]) -> None:
    """Before the commit: one handler per event, each writing its notifications in the transaction."""
    if session.info.get("family_id") is None:
        return
    parents: Sequence[Recipient] | None = None
    with routing_held(session):  # one read of the routing for the round, however many notifications it writes
        for change in events:
            member = session.get(Member, change.member_id) if change.member_id else None
            if member is None:
                continue
            if parents is None and isinstance(change, NEEDS_PARENTS):
                parents = family_routing(session).parents
            HANDLERS[type(change)](session, change, member, parents or ())


def register(dispatcher: Dispatcher) -> None:
    """Called by `create_app`: notifications follow the chores, points, rewards, badges and parents that changed."""
    dispatcher.before_commit(tuple(HANDLERS), notify_about)
