"""After the commit: hand the transaction's new deliveries to the worker (or send them inline) and ring the bells.

Views never think about deliveries. `queue_notification` and `mark_for_dispatch` record `NotificationsQueued`;
once the transaction commits, the dispatcher gives them all to `send_queued`: deliveries are enqueued on RQ
(REDIS_URL set) or sent inline (no Redis), and one live "notification" event tells open pages to refresh their bell.
A rollback forgets them all. `create_app` registers it.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.events import Dispatcher, NotificationsQueued
from app.live.events import publish_event

log = logging.getLogger("housepoints.deliveries")


def send_queued(family_id: uuid.UUID, events: list[Any]) -> None:
    """After the commit: one bell event for everyone notified, then every new delivery (each once)."""
    bells = {member_id for queued in events for member_id in queued.member_ids}
    deliveries = list(dict.fromkeys(delivery_id for queued in events for delivery_id in queued.delivery_ids))
    try:
        if bells:
            publish_event(family_id, "notification", {"member_ids": sorted(str(m) for m in bells)})
        if deliveries:
            dispatch_deliveries(family_id, deliveries)
    except Exception:  # noqa: BLE001 - the commit already happened; a dispatch problem must not fail the request
        log.exception("dispatching deliveries for family %s failed; the tick's sweep will pick them up", family_id)


def dispatch_deliveries(family_id: uuid.UUID, delivery_ids: list[uuid.UUID]) -> None:
    """Enqueue each delivery on RQ, or send it now when this deployment has no Redis (or Redis is down)."""
    slug = family_slug(family_id)
    if slug is None:
        return
    from app.notifications.worker import enqueue_delivery, run_delivery

    for delivery_id in delivery_ids:
        if current_app.config.get("REDIS_URL"):
            try:
                enqueue_delivery(slug, delivery_id)
                continue
            except redis.RedisError:
                log.warning("could not enqueue delivery %s; sending it inline", delivery_id, exc_info=True)
        run_delivery(slug, delivery_id, last_chance=False)


def family_slug(family_id: uuid.UUID) -> str | None:
    """The slug jobs use to enter the family (the request's family, else one platform lookup)."""
    family = g.get("family")
    if family is not None and family.id == family_id:
        return str(family.slug)
    from app.db import platform_engine
    from app.platform.models import Family

    with Session(platform_engine()) as session:
        slug: str | None = session.scalar(select(Family.slug).where(Family.id == family_id))
        return slug


def register(dispatcher: Dispatcher) -> None:
    """Called by `create_app`: queued notifications are sent once their transaction commits."""
    dispatcher.after_commit((NotificationsQueued,), send_queued)
