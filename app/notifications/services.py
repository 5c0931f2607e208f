"""Telling people: in-app notifications now, email and webhook deliveries queued for after the commit."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from app.domain import Forbidden, NotFound, ValidationFailed
from app.events import NotificationsQueued, record
from app.languages import Phrase, phrase, render_text, translatable
from app.members.models import FamilySetting, Member
from app.notifications.catalog import (
    EVENTS,
    built_in_default,
    channel_applies,
    events_for_role,
)
from app.inputs import ascii_int
from app.notifications.inputs import PreferencesInput
from app.notifications.models import NOTIFICATION_EVENTS, Channel, Delivery, Notification, NotificationPreference
from app.notifications.routing import Recipient, Routing, family_routing, notification_defaults_from
from app.policy import require_parent

# Rows made under a key (reminders, digests) get ids derived from it, so the same key can never make a second row.
KEYED_ROWS = uuid.UUID("5b0f5d2e-4c1a-4f57-9a57-6a2b8d1e7c30")
MAX_LINK = 300
PAGE_SIZE = 50
SETTING_DEFAULTS: dict[str, int] = {"digest_hour": 18, "reminder_lead_minutes": 30}
MAX_REMINDER_LEAD = 24 * 60


def family_parents(session: Session) -> list[Member]:
    """The active parents (the usual recipients of "needs you" events)."""
    return list(session.scalars(select(Member).where(Member.role == "parent", Member.is_active.is_(True))))


def notify(session: Session, *, event: str, recipients: Iterable[Recipient], title: str, body: str | None = None,
           link: str | None = None, data: dict[str, Any] | None = None) -> list[Notification]:
    """Create one in-app notification per recipient in the caller's transaction.

    Email and webhook deliveries for the same event are queued here too (Delivery rows), so nothing is sent
    unless the transaction commits, and a failed send never loses the notification.
    """
    created = queue_notification(session, event=event, recipients=recipients, title=title, body=body, link=link,
                                 data=data)
    session.flush()
    return created


def queue_notification(session: Session, *, event: str, recipients: Iterable[Recipient], title: str | Phrase,
                       body: str | Phrase | None = None, link: str | None = None, data: dict[str, Any] | None = None,
                       key: str | None = None, webhooks: bool = True) -> list[Notification]:
    """`notify` without the flush (session events may not flush); `key` makes it at-most-once per key.

    Each member gets the channels they want: the bell, and an email when they have an address. Each active
    webhook subscribed to the event gets one delivery (`webhooks=False` for a second call about the same event).
    """
    if event not in NOTIFICATION_EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    members = list({m.id: m for m in recipients if m.is_active}.values())
    details = _jsonable(data or {})
    link = safe_link(link)
    notifications: list[Notification] = []
    deliveries: list[Delivery] = []
    with session.no_autoflush:
        routing = family_routing(session) if members or webhooks else None
        family_language = _family_language(session) if members else None
        for member in members:
            # Each person reads it in their own language (their choice, else the family's); webhooks get English.
            language = member.language or family_language
            said, told = (render_text(title, language) or "")[:200], render_text(body, language)
            if channel_applies(event, "in_app") and routing and routing.wants(member.id, event, "in_app"):
                notifications.append(Notification(id=_row_id(key, "in_app", member.id), member_id=member.id,
                                                  event=event, title=said, body=told, link=link, data=details))
            if member.email and routing and routing.wants(member.id, event, "email"):
                deliveries.append(Delivery(id=_row_id(key, "email", member.id), channel="email", event=event,
                                           recipient=member.email, subject=said,
                                           payload={"body": told, "link": link, "member_id": str(member.id),
                                                    "language": language}))
        if routing and webhooks:
            english_title = (render_text(title, None) or "")[:200]
            message = {**details, "title": english_title, "body": render_text(body, None), "link": link,
                       "member_ids": [str(m.id) for m in members]}
            for hook in routing.hooks_for(event):
                deliveries.append(Delivery(id=_row_id(key, "webhook", hook.id), channel="webhook", event=event,
                                           webhook_id=hook.id, recipient=hook.url, subject=english_title,
                                           payload={"data": message}))
        if key is not None:
            notifications, deliveries = _only_new(session, notifications, deliveries)
    session.add_all([*notifications, *deliveries])
    if notifications or deliveries:
        record(session, NotificationsQueued(member_ids=tuple(n.member_id for n in notifications),
                                            delivery_ids=tuple(d.id for d in deliveries)))
    return notifications


def reader_language(session: Session, member: Recipient) -> str | None:
    """The language a notification to `member` is written in: theirs, else the family's (None: English)."""
    return member.language or _family_language(session)


def _family_language(session: Session) -> str | None:
    """The family's default language setting (None: each device's own, so English in a notification)."""
    if "family_language" not in session.info:  # once per session: several notifications may follow one action
        value = session.scalar(select(FamilySetting.value).where(FamilySetting.key == "language"))
        session.info["family_language"] = value if isinstance(value, str) else None
    language: str | None = session.info["family_language"]
    return language


def mark_for_dispatch(session: Session, delivery_id: uuid.UUID) -> None:
    """Send this delivery once the caller's transaction commits (`queue_notification` marks its own)."""
    record(session, NotificationsQueued(delivery_ids=(delivery_id,)))


def keyed_id(key: str, *parts: object) -> uuid.UUID:
    """The id a keyed row gets: the same key and parts always give the same id."""
    return uuid.uuid5(KEYED_ROWS, "|".join([key, *map(str, parts)]))


def _row_id(key: str | None, *parts: object) -> uuid.UUID:
    return uuid.uuid4() if key is None else keyed_id(key, *parts)


def _only_new(session: Session, notifications: list[Notification],
              deliveries: list[Delivery]) -> tuple[list[Notification], list[Delivery]]:
    """Drop keyed rows that an earlier run already made (two queries, whatever the count)."""
    seen: set[uuid.UUID] = set()
    if notifications:
        seen |= set(session.scalars(select(Notification.id).where(Notification.id.in_([n.id for n in notifications]))))
    if deliveries:
        seen |= set(session.scalars(select(Delivery.id).where(Delivery.id.in_([d.id for d in deliveries]))))
    return [n for n in notifications if n.id not in seen], [d for d in deliveries if d.id not in seen]


def safe_link(link: str | None) -> str | None:
    """Only a path on the family's own site ("/today"): never another host, so a link cannot lead away."""
    if not link:
        return None
    link = link.strip()
    if not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > MAX_LINK:
        return None
    return link


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


# --- who wants what --------------------------------------------------------------------------------------------

def family_notification_defaults(session: Session) -> dict[str, dict[str, bool]]:
    """The family's own defaults ({"email": {"chore_waiting": true}}), from the `notification_defaults` setting."""
    return notification_defaults_from(session.scalar(select(FamilySetting.value)
                                                     .where(FamilySetting.key == "notification_defaults")))


def channel_choices(session: Session, member_ids: list[uuid.UUID],
                    event: str) -> Callable[[uuid.UUID, str], bool]:
    """wants(member_id, channel) for one event: the member's choice, else the family's default, else ours."""
    if not member_ids:
        return lambda _member_id, _channel: False
    routing: Routing = family_routing(session)
    return lambda member_id, channel: routing.wants(member_id, event, channel)


# --- preferences ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PreferenceRow:
    """One event on the preferences page: whether each channel is on (None: not offered to this member)."""

    event: str
    label: str
    in_app: bool | None
    email: bool | None

    def channel(self, name: str) -> bool | None:
        """This row's value for a channel by name."""
        return self.in_app if name == "in_app" else self.email


def preference_grid(session: Session, member: Member) -> list[PreferenceRow]:
    """Every event this member can receive with the channels on or off (email only with an address)."""
    chosen = {(event, channel): enabled for event, channel, enabled in session.execute(
        select(NotificationPreference.event, NotificationPreference.channel, NotificationPreference.enabled)
        .where(NotificationPreference.member_id == member.id))}
    defaults = family_notification_defaults(session)

    def value(event: str, channel: str) -> bool | None:
        if not channel_applies(event, channel) or (channel == "email" and not member.email):
            return None
        key = (event, Channel(channel))
        if key in chosen:
            return chosen[key]
        return defaults.get(channel, {}).get(event, built_in_default(event, channel))

    return [PreferenceRow(event, EVENTS[event].label, value(event, "in_app"), value(event, "email"))
            for event in events_for_role(member.role)]


def update_preferences(session: Session, *, actor: Member, member: Member,
                       choices: PreferencesInput) -> list[PreferenceRow]:
    """Save a member's own choices ({"chore_waiting": {"email": true}}); an event not theirs is a 400."""
    if actor.id != member.id:
        raise Forbidden("You can only change your own notifications")
    allowed = set(events_for_role(member.role))
    cleaned: dict[tuple[str, str], bool] = {}
    for event, channels in choices.choices.items():
        if event not in allowed:
            raise ValidationFailed(phrase("Unknown notification event: %(event)s", event=event),
                                   fields={event: "unknown"})
        for channel, enabled in channels.items():
            if channel == "email" and enabled and not member.email:
                raise ValidationFailed("Add an email address to your profile to get emails",
                                       fields={f"{event}.{channel}": "no_email"})
            cleaned[(event, channel)] = enabled
    existing = {(p.event, p.channel): p for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.member_id == member.id))}
    for (event, channel), enabled in cleaned.items():
        row = existing.get((event, Channel(channel)))
        if row is None:
            session.add(NotificationPreference(member_id=member.id, event=event, channel=channel, enabled=enabled))
        else:
            row.enabled = enabled
    session.flush()
    return preference_grid(session, member)


# --- the bell ------------------------------------------------------------------------------------------------

def list_notifications(session: Session, member: Member, *, unread_only: bool = False, limit: int = PAGE_SIZE,
                       offset: int = 0) -> list[Notification]:
    """A member's own notifications, newest first."""
    query = select(Notification).where(Notification.member_id == member.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                                .limit(limit).offset(offset)))


def unread_count(session: Session, member: Member) -> int:
    """How many of the member's notifications are unread (the number on the bell)."""
    return session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.member_id == member.id, Notification.read_at.is_(None))) or 0


def get_notification_or_404(session: Session, member: Member, notification_id: object) -> Notification:
    """The member's own notification; anyone else's (or a malformed id) is simply not found."""
    try:
        key = notification_id if isinstance(notification_id, uuid.UUID) else uuid.UUID(str(notification_id))
    except ValueError:
        raise NotFound("Notification not found") from None
    notification = session.get(Notification, key)
    if notification is None or notification.member_id != member.id:
        raise NotFound("Notification not found")
    return notification


def mark_read(session: Session, *, member: Member, notification: Notification, now: datetime) -> Notification:
    """Mark one of the member's notifications read (again is harmless)."""
    if notification.member_id != member.id:
        raise NotFound("Notification not found")
    if notification.read_at is None:
        notification.read_at = now
        session.flush()
    return notification


def mark_all_read(session: Session, *, member: Member, now: datetime) -> int:
    """Mark every unread notification of the member read; returns how many changed."""
    result = session.execute(update(Notification).where(Notification.member_id == member.id,
                                                        Notification.read_at.is_(None))
                             .values(read_at=now).execution_options(synchronize_session="fetch"))
    return cast("CursorResult[Any]", result).rowcount or 0  # an UPDATE answers with a cursor result


# --- family delivery settings --------------------------------------------------------------------------------

def clean_digest_hour(value: object) -> int:
    """The family-local hour (0–23) the daily digest goes out; anything else is a 400."""
    return _whole_number(value, "digest_hour", 0, 23,
                         translatable("The digest hour must be a whole hour from 0 to 23"))


def clean_reminder_lead(value: object) -> int:
    """Minutes before a chore's due time that its reminder goes out (0 turns reminders off)."""
    return _whole_number(value, "reminder_lead_minutes", 0, MAX_REMINDER_LEAD,
                         translatable("The reminder time must be 0 to 1440 minutes"))  # MAX_REMINDER_LEAD


def _whole_number(value: object, field: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or value is None:
        raise ValidationFailed(message, fields={field: "invalid"})
    if isinstance(value, str):
        try:
            value = ascii_int(value)  # not str.isdigit(): that accepts Arabic-Indic and other digits
        except ValueError:
            raise ValidationFailed(message, fields={field: "invalid"}) from None
    if not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(message, fields={field: "range"})
    return value


def notification_settings(session: Session) -> dict[str, int]:
    """The family's digest hour and reminder lead time (defaults for missing or broken values)."""
    stored: dict[str, Any] = dict(session.execute(select(FamilySetting.key, FamilySetting.value)
                                  .where(FamilySetting.key.in_(tuple(SETTING_DEFAULTS)))).all())
    return notification_settings_from(stored)


def notification_settings_from(stored: Mapping[str, Any]) -> dict[str, int]:
    """The digest hour and reminder lead from settings already read (the tick reads them with its probe)."""
    settings = dict(SETTING_DEFAULTS)
    for key, clean in (("digest_hour", clean_digest_hour), ("reminder_lead_minutes", clean_reminder_lead)):
        try:
            settings[key] = clean(stored[key]) if key in stored else SETTING_DEFAULTS[key]
        except ValidationFailed:
            pass  # a value written around these rules: keep the default rather than fail the tick
    return settings


def update_notification_settings(session: Session, *, actor: Member, values: Mapping[str, Any]) -> dict[str, int]:
    """A parent sets the digest hour and/or reminder lead time; each value is checked before anything is saved."""
    require_parent(actor)
    unknown = set(values) - set(SETTING_DEFAULTS)
    if unknown:
        name = sorted(unknown)[0]
        raise ValidationFailed(phrase("Unknown setting: %(name)s", name=name), fields={name: "unknown"})
    cleaned = {}
    if "digest_hour" in values:
        cleaned["digest_hour"] = clean_digest_hour(values["digest_hour"])
    if "reminder_lead_minutes" in values:
        cleaned["reminder_lead_minutes"] = clean_reminder_lead(values["reminder_lead_minutes"])
    rows = {row.key: row for row in session.scalars(select(FamilySetting)
                                                    .where(FamilySetting.key.in_(tuple(cleaned))))}
    for key, value in cleaned.items():
        if key in rows:
            rows[key].value = value
        else:
            session.add(FamilySetting(key=key, value=value))
    session.flush()
    return notification_settings(session)
