"""Who the bell tells and how: the active parents, every member's channel choices, the family's defaults, webhooks.

Read together (four queries) and kept per family by settings version when the request layer offers a cache
(`session.info[ROUTING_CACHE]`, set by `app/web.py:current_rules`): every write to members' routing columns,
`notification_preferences`, `webhooks` or `family_settings` moves that version (`app/view_cache.py`), so the next
request reads them again. Plain values only: nothing here is bound to a session, so one copy serves every thread.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.members.models import FamilySetting, Member
from app.notifications.catalog import MEMBER_CHANNELS, built_in_default
from app.notifications.models import NotificationPreference, Webhook

# session.info: keep(load) -> Routing, the request's per-family cache; absent (jobs, CLI, tests): read each time.
ROUTING_CACHE = "notifications.routing_cache"
HELD = "notifications.routing_held"  # session.info: the routing read once for a block that writes no routing rows


class Recipient(Protocol):
    """What telling someone needs: a member row, or a parent's contact from the cached routing."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def language(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...


@dataclass(frozen=True)
class Contact:
    """An active parent as the bell needs them."""

    id: uuid.UUID
    language: str | None
    email: str | None
    is_active: bool = True


@dataclass(frozen=True)
class HookTarget:
    """An active webhook: where to POST and which events it wants (empty: every event)."""

    id: uuid.UUID
    url: str
    events: tuple[str, ...]

    def wants(self, event: str) -> bool:
        """Whether this webhook is subscribed to `event`."""
        return not self.events or event in self.events


@dataclass(frozen=True)
class Routing:
    """The family's notification routing at one moment."""

    parents: tuple[Contact, ...]
    chosen: Mapping[tuple[uuid.UUID, str, str], bool]  # (member, event, channel) -> on
    defaults: Mapping[str, Mapping[str, bool]]  # channel -> event -> on
    webhooks: tuple[HookTarget, ...]

    def wants(self, member_id: uuid.UUID, event: str, channel: str) -> bool:
        """The member's choice, else the family's default, else ours."""
        choice = self.chosen.get((member_id, event, channel))
        if choice is not None:
            return choice
        return self.defaults.get(channel, {}).get(event, built_in_default(event, channel))

    def hooks_for(self, event: str) -> list[HookTarget]:
        """Active webhooks that want this event, oldest first."""
        return [hook for hook in self.webhooks if hook.wants(event)]


def notification_defaults_from(raw: Any) -> dict[str, dict[str, bool]]:
    """The family's own defaults ({"email": {"chore_waiting": true}}) from the `notification_defaults` value."""
    if not isinstance(raw, dict):
        return {}
    return {channel: {event: value for event, value in events.items() if isinstance(value, bool)}
            for channel, events in raw.items() if channel in MEMBER_CHANNELS and isinstance(events, dict)}


def load_routing(session: Session) -> Routing:
    """Read the routing from the database (four small queries)."""
    parents = tuple(Contact(id=member_id, language=language, email=email) for member_id, language, email in
                    session.execute(select(Member.id, Member.language, Member.email)
                                    .where(Member.role == "parent", Member.is_active.is_(True))
                                    .order_by(Member.created_at, Member.id)))
    chosen = {(member_id, event, str(channel)): enabled for member_id, event, channel, enabled in session.execute(
        select(NotificationPreference.member_id, NotificationPreference.event, NotificationPreference.channel,
               NotificationPreference.enabled))}
    defaults = notification_defaults_from(session.scalar(
        select(FamilySetting.value).where(FamilySetting.key == "notification_defaults")))
    webhooks = tuple(HookTarget(id=hook_id, url=url, events=tuple(events or ())) for hook_id, url, events in
                     session.execute(select(Webhook.id, Webhook.url, Webhook.events).where(Webhook.active.is_(True))
                                     .order_by(Webhook.created_at, Webhook.id)))
    return Routing(parents=parents, chosen=chosen, defaults=defaults, webhooks=webhooks)


def family_routing(session: Session) -> Routing:
    """The routing for this transaction: from the request's cache when it offers one, else from the database."""
    held: Routing | None = session.info.get(HELD)
    if held is not None:
        return held
    keep: Callable[[Callable[[], Routing]], Routing] | None = session.info.get(ROUTING_CACHE)
    routing = load_routing(session) if keep is None else keep(lambda: load_routing(session))
    if HELD in session.info:
        session.info[HELD] = routing
    return routing


@contextmanager
def routing_held(session: Session) -> Iterator[None]:
    """Inside the block the routing is read at most once (a round of notifications, which change no routing rows)."""
    session.info[HELD] = None
    try:
        yield
    finally:
        session.info.pop(HELD, None)
