"""When to look for new badges: the in-transaction reaction the dispatcher runs before each commit.

The kids whose record may have grown — a chore verified, a ledger row posted, a reward granted or handed over — are
evaluated inside the transaction, after the services are done, so the award sees each kid's final state (the streak
is refreshed after the credit) and its bonus ledger rows commit or roll back with everything else. A bonus posts a
`PointsPosted` event, which the dispatcher's next round evaluates in turn. `create_app` registers it.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.family_rules import FamilyRules, load_family_rules
from app.db.bases import utcnow
from app.events import ChoreApproved, Dispatcher, PointsPosted, RewardDecided, RewardRequested
from app.platform.models import Family

REDEEMED = ("approved", "fulfilled")


def _later(current: datetime | None, moment: datetime | None) -> datetime | None:
    if moment is None:
        return current
    return moment if current is None or moment > current else current


def _noted(events: list[Any]) -> dict[uuid.UUID, datetime | None]:
    """Kids whose record may have grown, with when it last happened (the service's `now`)."""
    noted: dict[uuid.UUID, datetime | None] = {}
    for happened in events:
        if isinstance(happened, (RewardRequested, RewardDecided)) and happened.status not in REDEEMED:
            continue
        if happened.member_id is not None:
            noted[happened.member_id] = _later(noted.get(happened.member_id), happened.at)
    return noted


def _family_rules(session: Session) -> FamilyRules:
    family_id = session.info["family_id"]
    if has_app_context():
        cached = g.get("family_rules")
        family = g.get("family")
        if family is not None and family.id == family_id:
            return cached if cached is not None else load_family_rules(session, family.timezone)
    timezone = session.scalar(select(Family.timezone).where(Family.id == family_id)) or "UTC"
    return load_family_rules(session, timezone)


def award_badges(session: Session, events: list[Any]) -> None:
    """Before the commit: evaluate every kid these events concern; their bonus rows come back as new events."""
    if session.info.get("family_id") is None:
        return
    pending = _noted(events)
    if not pending:
        return
    from app.achievements.services import award_earned_badges

    rules = _family_rules(session)
    for member_id, moment in sorted(pending.items(), key=lambda item: str(item[0])):
        award_earned_badges(session, member_id, rules, moment or utcnow())


def register(dispatcher: Dispatcher) -> None:
    """Called by `create_app`: badges follow verified chores, posted points and granted rewards."""
    dispatcher.before_commit((ChoreApproved, PointsPosted, RewardRequested, RewardDecided), award_badges)
