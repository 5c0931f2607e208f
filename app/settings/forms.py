"""The settings page's forms: posted text turned into the typed values the settings services check."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from app.achievements.rules import BADGE_RULES
from app.notifications.catalog import CHANNEL_LABELS, EVENTS, MEMBER_CHANNELS, built_in_default, channel_applies
from app.settings.services import GROUP_KEYS

INTEGER_KEYS = ("points_per_currency_unit", "digest_hour", "reminder_lead_minutes", "tablet_idle_seconds")
BOOLEAN_KEYS = ("auto_approve",)


@dataclass
class GroupForm:
    """One group's fields as typed (or as the person typed them, to re-show after a refusal) and its errors."""

    group: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    saved: bool = False


def _integer(raw: str) -> int | str:
    text = raw.strip()
    # [0-9], not \d: int() would take Arabic-Indic digits too, which the field never shows back.
    return int(text) if re.fullmatch(r"[+-]?[0-9]{1,9}", text) else text


def parse_group(group: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """The group's settings from a posted form: numbers become ints, ticks booleans, grids objects."""
    values: dict[str, Any] = {}
    for key in GROUP_KEYS[group]:
        if key in BOOLEAN_KEYS:
            values[key] = form.get(key) in ("on", "true", "1", "yes")
        elif key in INTEGER_KEYS:
            values[key] = _integer(form.get(key, ""))
        elif key == "notification_defaults":
            values[key] = {channel: {event: f"notify:{channel}:{event}" in form
                                     for event in EVENTS if channel_applies(event, channel)}
                           for channel in MEMBER_CHANNELS}
        elif key == "achievement_bonus":
            bonuses = {rule.key: _integer(form.get(f"bonus:{rule.key}", "") or "0") for rule in BADGE_RULES}
            values[key] = {badge: points for badge, points in bonuses.items() if points != 0}
        else:
            values[key] = form.get(key, "")
    return values


def notification_grid(defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the family-defaults grid: each event with a tick per channel (None where it does not apply)."""
    rows = []
    for event, info in EVENTS.items():
        cells: dict[str, bool | None] = {}
        for channel in MEMBER_CHANNELS:
            if not channel_applies(event, channel):
                cells[channel] = None
                continue
            chosen = defaults.get(channel, {}) if isinstance(defaults, dict) else {}
            value = chosen.get(event) if isinstance(chosen, dict) else None
            cells[channel] = value if isinstance(value, bool) else built_in_default(event, channel)
        rows.append({"event": event, "label": info.label, "cells": cells})
    return rows


CHANNELS = [(channel, CHANNEL_LABELS[channel]) for channel in MEMBER_CHANNELS]
