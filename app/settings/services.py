"""Family settings as typed JSON values: the known keys' rules, privacy for kids, and where each value lives.

Most settings are `family_settings` rows in the family database. The family's name and timezone live on the
platform `families` row (the registry resolves requests from it), so they are written through the same session's
platform binding; the caller invalidates the registry after the commit.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.achievements.rules import MAX_BONUS, RULES_BY_KEY
from app.domain import Forbidden, NotFound, Sayable, ValidationFailed
from app.family_time import WEEKDAY_NAMES
from app.inputs import clean_text
from app.languages import phrase, translatable, clean_language
from app.members.models import FamilySetting, Member
from app.notifications.catalog import MEMBER_CHANNELS, channel_applies
from app.notifications.models import NOTIFICATION_EVENTS
from app.platform.models import Family
from app.settings.inputs import SettingValue
from app.policy import require_parent

PRIVATE_WORDS = ("secret", "token", "password")
MAX_FAMILY_NAME = 120
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


# --- the known keys ---------------------------------------------------------------------------------------------

def _whole(value: Any, key: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(message, fields={key: "invalid"})
    if not low <= value <= high:
        raise ValidationFailed(message, fields={key: "range"})
    return value


def _text(value: Any, key: str, message: str) -> str:
    """A known key's text, NFC and trimmed (the value's type is the key's rule, so its message is the key's)."""
    try:
        return clean_text(value)
    except ValueError:
        raise ValidationFailed(message, fields={key: "invalid"}) from None


def clean_family_name(value: Any) -> str:
    """1-120 characters of plain text."""
    name = _text(value, "family_name", translatable("The family name must be text"))
    if not name or len(name) > MAX_FAMILY_NAME or any(ord(ch) < 32 for ch in name):
        raise ValidationFailed(phrase("The family name must be 1 to %(most)s characters", most=MAX_FAMILY_NAME),
                               fields={"family_name": "invalid"})
    return name


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_names() -> list[str]:
    """Every zone a family may choose, sorted (the settings page's list)."""
    return sorted(zone for zone in _timezones() if "/" in zone or zone == "UTC")


def clean_timezone(value: Any) -> str:
    """An IANA zone name such as Europe/London (the family's clock)."""
    zone = _text(value, "timezone", translatable("The timezone must be text such as Europe/London"))
    if zone not in _timezones():
        raise ValidationFailed(phrase("Unknown timezone: %(zone)s", zone=zone[:64]), fields={"timezone": "invalid"})
    return zone


def clean_week_start(value: Any) -> str:
    """The day the family week starts on, monday … sunday."""
    day = _text(value, "week_start", translatable("week_start must be a day name")).lower()
    if day not in WEEKDAY_NAMES:
        raise ValidationFailed("week_start must be a day name, monday to sunday", fields={"week_start": "invalid"})
    return day


def clean_currency(value: Any) -> str:
    """An ISO 4217 code: three letters (USD, EUR, GBP)."""
    code = _text(value, "currency", translatable("The currency must be a three-letter code such as USD")).upper()
    if not CURRENCY_PATTERN.match(code):
        raise ValidationFailed("The currency must be a three-letter code such as USD", fields={"currency": "invalid"})
    return code


def clean_points_per_unit(value: Any) -> int:
    """How many points make one unit of the family currency (1-100,000)."""
    return _whole(value, "points_per_currency_unit", 1, 100_000,
                  translatable("Points per currency unit must be a whole number from 1 to 100000"))


def clean_auto_approve(value: Any) -> bool:
    """Whether kids' completions skip the parent's check."""
    if not isinstance(value, bool):
        raise ValidationFailed("auto_approve must be true or false", fields={"auto_approve": "invalid"})
    return value


def clean_digest_hour(value: Any) -> int:
    """The family-local hour (0-23) the parents' daily digest goes out."""
    return _whole(value, "digest_hour", 0, 23, translatable("The digest hour must be a whole hour from 0 to 23"))


def clean_tablet_idle(value: Any) -> int:
    """Seconds without a touch after which a kid's turn on the family tablet ends (15-600)."""
    return _whole(value, "tablet_idle_seconds", 15, 600,
                  translatable("The tablet's idle time must be a whole number of seconds from 15 to 600"))


def clean_reminder_lead(value: Any) -> int:
    """Minutes before a chore is due that its reminder goes out (0-1440; 0 turns reminders off)."""
    return _whole(value, "reminder_lead_minutes", 0, 1440,
                  translatable("The reminder time must be a whole number of minutes from 0 to 1440"))


def clean_notification_defaults(value: Any) -> dict[str, dict[str, bool]]:
    """The family's channel defaults: {"email": {"chore_waiting": true}, "in_app": {...}}."""
    message = translatable('notification_defaults must be an object of channels (in_app, email) to objects of '
                           'events to true or false')
    if not isinstance(value, dict):
        raise ValidationFailed(message, fields={"notification_defaults": "invalid"})
    cleaned: dict[str, dict[str, bool]] = {}
    for channel, events in value.items():
        if channel not in MEMBER_CHANNELS or not isinstance(events, dict):
            raise ValidationFailed(message, fields={"notification_defaults": "invalid"})
        for event, enabled in events.items():
            if event not in NOTIFICATION_EVENTS or not channel_applies(event, channel) or not isinstance(enabled, bool):
                raise ValidationFailed(phrase("notification_defaults: %(channel)s.%(event)s is not a known event set "
                                              "to true or false", channel=channel, event=str(event)[:40]),
                                       fields={"notification_defaults": "invalid"})
        cleaned[channel] = dict(events)
    return cleaned


def clean_achievement_bonus(value: Any) -> dict[str, int]:
    """Bonus points per badge: {"first_chore": 10}, each 0-1000."""
    if not isinstance(value, dict):
        raise ValidationFailed("achievement_bonus must be an object of badges to points",
                               fields={"achievement_bonus": "invalid"})
    for badge, points in value.items():
        if badge not in RULES_BY_KEY:
            raise ValidationFailed(phrase("achievement_bonus: unknown badge %(badge)s", badge=str(badge)[:40]),
                                   fields={"achievement_bonus": "invalid"})
        if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= MAX_BONUS:
            raise ValidationFailed(phrase("achievement_bonus: %(badge)s must be a whole number from 0 to %(most)s",
                                          badge=badge, most=MAX_BONUS),
                                   fields={"achievement_bonus": "range"})
    return dict(value)


TABLET_IDLE_SECONDS = 60  # the default: long enough to pick a reward, short enough that a sibling can't


@dataclass(frozen=True)
class SettingSpec:
    """A key the app understands: its label, its group on the settings page, its rule and its default."""

    key: str
    label: str
    group: str
    clean: Callable[[Any], Any]
    default: Any
    platform: bool = False  # lives on the platform `families` row
    hint: str = ""


KNOWN_SETTINGS: dict[str, SettingSpec] = {spec.key: spec for spec in (
    SettingSpec("family_name", translatable("Family name"), "family", clean_family_name, None, platform=True),
    SettingSpec("timezone", translatable("Timezone"), "family", clean_timezone, "UTC", platform=True,
                hint=translatable("“Today”, due times and the week follow this clock.")),
    SettingSpec("week_start", translatable("The week starts on"), "family", clean_week_start, "monday"),
    SettingSpec("language", translatable("Family language"), "family", clean_language, None,
                hint=translatable("Pages use each member's own language, else this one, else the device's.")),
    SettingSpec("tablet_idle_seconds",
                translatable("A kid's turn on the family tablet ends after this many seconds untouched"),
                "tablet", clean_tablet_idle, TABLET_IDLE_SECONDS,
                hint=translatable("15 to 600. The last 10 seconds count down on the screen.")),
    SettingSpec("currency", translatable("Currency"), "money", clean_currency, "USD",
                hint=translatable("Three letters, such as USD or EUR.")),
    SettingSpec("points_per_currency_unit", translatable("Points per currency unit"), "money", clean_points_per_unit,
                100, hint=translatable("100 means 100 points = 1.00.")),
    SettingSpec("auto_approve", translatable("Approve kids' chores automatically"), "chores", clean_auto_approve, False,
                hint=translatable("Points land at once, without a parent checking.")),
    SettingSpec("reminder_lead_minutes", translatable("Remind kids this many minutes before a chore is due"), "chores",
                clean_reminder_lead, 30, hint=translatable("0 turns reminders off (up to 1440).")),
    SettingSpec("digest_hour", translatable("Daily summary email at (hour, 0–23)"), "notifications",
                clean_digest_hour, 18),
    SettingSpec("notification_defaults", translatable("What members hear about unless they choose"), "notifications",
                clean_notification_defaults, {}),
    SettingSpec("achievement_bonus", translatable("Bonus points per badge"), "badges", clean_achievement_bonus, {}),
)}
# The previous service's names for our settings: read and written as the setting they name (old clients, old data).
LEGACY_NAMES: dict[str, str] = {"auto_approve_chores": "auto_approve"}
GROUPS: tuple[tuple[str, str], ...] = (
    ("family", translatable("Family")), ("money", translatable("Money")), ("chores", translatable("Chores")),
    ("notifications", translatable("Notifications")), ("badges", translatable("Badges")),
    ("tablet", translatable("Family tablet")))
GROUP_KEYS: dict[str, tuple[str, ...]] = {group: tuple(k for k, s in KNOWN_SETTINGS.items() if s.group == group)
                                          for group, _label in GROUPS}


# --- reading ----------------------------------------------------------------------------------------------------

def is_private_key(key: str) -> bool:
    """Keys that look like credentials are private whatever their flag says."""
    lowered = key.lower()
    return any(word in lowered for word in PRIVATE_WORDS)


def _family(session: Session) -> Family:
    family = session.get(Family, session.info["family_id"])
    if family is None:
        raise NotFound("Family not found")
    return family


def _platform_value(family: Family, key: str) -> Any:
    return family.name if key == "family_name" else family.timezone


def get_settings(session: Session, include_private: bool) -> dict[str, Any]:
    """Every setting as its JSON value: stored rows, the known keys' defaults, the family's name and timezone."""
    family = _family(session)
    values: dict[str, Any] = {key: spec.default for key, spec in KNOWN_SETTINGS.items() if not spec.platform}
    for row in session.scalars(select(FamilySetting).order_by(FamilySetting.key)):
        if row.key in KNOWN_SETTINGS and KNOWN_SETTINGS[row.key].platform:
            continue  # the platform row is the truth for these
        if not include_private and (row.is_private or is_private_key(row.key)):
            values.pop(row.key, None)
            continue
        values[row.key] = row.value
    for key in ("family_name", "timezone"):
        values[key] = _platform_value(family, key)
    return dict(sorted(values.items()))


def with_legacy_names(values: dict[str, Any]) -> dict[str, Any]:
    """The settings listed under the previous service's names too (each the value of the setting it names)."""
    aliases = {old: values[new] for old, new in LEGACY_NAMES.items() if new in values}
    return dict(sorted({**values, **aliases}.items()))


def get_setting(session: Session, key: str, include_private: bool) -> Any:
    """One setting's value: unknown keys are not found, private ones are refused to kids."""
    key = LEGACY_NAMES.get(key, key)
    spec = KNOWN_SETTINGS.get(key)
    if spec is not None and spec.platform:
        return _platform_value(_family(session), key)
    row = session.scalar(select(FamilySetting).where(FamilySetting.key == key))
    if row is None:
        if spec is None:
            raise NotFound("Setting not found")
        return spec.default
    if not include_private and (row.is_private or is_private_key(row.key)):
        raise Forbidden("This setting is private")
    return row.value


# --- writing ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SettingChange:
    """What one write did: the stored value, whether a row was created, whether the platform row changed."""

    key: str
    value: Any
    created: bool
    platform: bool


def clean_value(key: str, value: Any) -> Any:
    """The typed value for `key`: the known keys' rules; the family's own keys keep any storable JSON value."""
    spec = KNOWN_SETTINGS.get(key)
    return spec.clean(value) if spec is not None else value


def _write(session: Session, key: str, value: Any, *, is_private: bool | None) -> SettingChange:
    spec = KNOWN_SETTINGS.get(key)
    if spec is not None and spec.platform:
        family = _family(session)
        if key == "family_name":
            family.name = value
        else:
            family.timezone = value
        return SettingChange(key, value, created=False, platform=True)
    if spec is not None:
        is_private = False  # the app's own settings are the family's shared rules, never secrets
    row = session.scalar(select(FamilySetting).where(FamilySetting.key == key))
    # Known keys are listed (with their defaults) before their first write: writing one updates it.
    created = row is None and spec is None
    if row is None:
        row = FamilySetting(key=key, value=value, is_private=bool(is_private) or is_private_key(key),
                            description=spec.label if spec is not None else None)
        session.add(row)
    else:
        row.value = value  # a new object each time, so the JSON column sees the change
        if is_private is not None:
            row.is_private = is_private or is_private_key(key)
    return SettingChange(key, value, created=created, platform=False)


LEGACY_BOOL_TEXT = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _legacy_text(value: Any) -> Any:
    """The previous service kept booleans as text ("true", "false"): an old client may send them so."""
    if isinstance(value, str) and value.strip().lower() in LEGACY_BOOL_TEXT:
        return LEGACY_BOOL_TEXT[value.strip().lower()]
    return value


def set_setting(session: Session, actor: Member, data: SettingValue) -> SettingChange:
    """A parent sets one setting: known keys are checked, unknown keys are created (any JSON value but null)."""
    require_parent(actor)
    key = LEGACY_NAMES.get(data.key, data.key)
    cleaned = clean_value(key, _legacy_text(data.value) if key != data.key else data.value)
    change = _write(session, key, cleaned, is_private=data.is_private)
    session.flush()
    return change


def save_settings(session: Session, actor: Member, settings: Sequence[SettingValue]) -> list[SettingChange]:
    """A parent saves a group of settings: every value is checked first, so nothing is saved half-way."""
    require_parent(actor)
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    said: dict[str, str | Sayable] = {}  # each key's refusal for a page to say in its language (not in the API)
    first: ValidationFailed | None = None
    for setting in settings:
        key = setting.key
        try:
            cleaned[key] = clean_value(key, setting.value)
        except ValidationFailed as error:
            errors[key] = error.message
            said[key] = error.said or error.message
            first = first or error
    if first is not None:
        raise ValidationFailed(first.said or first.message, fields=errors, said_fields=said)
    changes = [_write(session, key, value, is_private=None) for key, value in cleaned.items()]
    session.flush()
    return changes
