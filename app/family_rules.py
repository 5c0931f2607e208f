"""The family settings every area's rules read: the family's clock and whether completions are auto-approved."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.family_time import FamilyClock, week_start_index
from app.members.models import FamilySetting


@dataclass(frozen=True)
class FamilyRules:
    """The family settings the daily loop needs: its clock, whether completions are auto-approved, its language."""

    clock: FamilyClock
    auto_approve: bool = False
    language: str | None = None  # the family's default page language (None: each device's)


RULE_KEYS = ("week_start", "auto_approve", "language")  # the settings FamilyRules is built from


def load_family_rules(session: Session, timezone: str) -> FamilyRules:
    """Read week start, auto-approval and the language from the family's settings (one query)."""
    settings: dict[str, Any] = dict(session.execute(select(FamilySetting.key, FamilySetting.value)
                                    .where(FamilySetting.key.in_(RULE_KEYS))).all())
    return family_rules_from(session, settings, timezone)


def family_rules_from(session: Session, settings: Mapping[str, Any], timezone: str) -> FamilyRules:
    """FamilyRules from settings already read (the tick reads them with its other questions, in one query)."""
    language = settings.get("language")
    # Notifications written in this session read the family's language from here instead of asking again.
    session.info["family_language"] = language if isinstance(language, str) else None
    return FamilyRules(clock=FamilyClock(timezone, week_start_index(settings.get("week_start", "monday"))),
                       auto_approve=bool(settings.get("auto_approve", False)),
                       language=language if isinstance(language, str) else None)
