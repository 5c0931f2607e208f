"""What each notification event is called, who receives it, and which channels are on when nobody chose."""
from __future__ import annotations

from dataclasses import dataclass

from app.languages import translatable
from app.notifications.models import NOTIFICATION_EVENTS

# The channels a member chooses per event (webhooks are the family's, chosen per webhook, not per member).
MEMBER_CHANNELS = ("in_app", "email")
CHANNEL_LABELS = {"in_app": translatable("In the app"), "email": translatable("Email")}


@dataclass(frozen=True)
class EventInfo:
    """One event's label, the roles it is sent to, and its channel defaults."""

    label: str
    roles: tuple[str, ...]
    in_app: bool = True  # the bell; False means the event has no in-app form (the digest is an email)
    email_default: bool = False  # immediate emails are opt-in, except the digest


EVENTS: dict[str, EventInfo] = {
    "chore_waiting": EventInfo(translatable("A chore is done and waiting for approval"), ("parent",)),
    "chore_approved": EventInfo(translatable("A chore was approved"), ("child",)),
    "chore_rejected": EventInfo(translatable("A chore was sent back"), ("child",)),
    "chore_missed": EventInfo(translatable("A chore was missed"), ("parent", "child")),
    "reward_requested": EventInfo(translatable("A reward was requested"), ("parent",)),
    "reward_approved": EventInfo(translatable("A reward request was approved"), ("child",)),
    "reward_rejected": EventInfo(translatable("A reward request was turned down"), ("child",)),
    "reward_fulfilled": EventInfo(translatable("A reward was handed over"), ("child",)),
    "badge_earned": EventInfo(translatable("A badge was earned"), ("parent", "child")),
    "points_bonus": EventInfo(translatable("Bonus points"), ("child",)),
    "points_deduction": EventInfo(translatable("Points taken away"), ("child",)),
    "coparent_joined": EventInfo(translatable("A co-parent joined the family"), ("parent",)),
    "chore_reminder": EventInfo(translatable("A chore is due soon"), ("child",)),
    "chore_overdue": EventInfo(translatable("A chore is overdue"), ("child",)),
    "daily_digest": EventInfo(translatable("The daily summary email"), ("parent",), in_app=False, email_default=True),
}
assert set(EVENTS) == set(NOTIFICATION_EVENTS), "every notification event needs a catalog entry"


def events_for_role(role: str) -> list[str]:
    """The events a member of this role can receive, in catalog order (for the preferences page)."""
    return [event for event, info in EVENTS.items() if role in info.roles]


def channel_applies(event: str, channel: str) -> bool:
    """Whether `channel` exists for `event` (the digest has no bell form)."""
    if channel == "in_app":
        return EVENTS[event].in_app
    return channel == "email"


def built_in_default(event: str, channel: str) -> bool:
    """The channel's setting for a member who never chose and a family that set no default."""
    info = EVENTS[event]
    if channel == "in_app":
        return info.in_app
    return info.email_default
