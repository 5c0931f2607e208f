"""After the commit: hand the transaction's new deliveries to the worker (or send them inline) and ring the bells.

Views never think about deliveries. Session events on TenantSession note the Delivery and Notification rows each
flush writes; once the transaction commits, deliveries are enqueued on RQ (REDIS_URL set) or sent inline (no
Redis), and one live "notification" event tells open pages to refresh their bell. A rollback forgets them all.
"""
from __future__ import annotations

import logging
import uuid

import redis
from flask import current_app, g, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, SessionTransaction

from app.db.session import TenantSession
from app.live.events import publish_event
from app.notifications.models import Delivery, Notification
from app.notifications.services import PENDING_DELIVERIES, mark_for_dispatch

log = logging.getLogger("housepoints.deliveries")

PENDING_BELLS = "notifications.pending_bells"


def _note_new_rows(session: Session, _flush_context: object) -> None:
    for obj in session.new:
        if isinstance(obj, Delivery):
            mark_for_dispatch(session, obj.id)
        elif isinstance(obj, Notification):
            session.info.setdefault(PENDING_BELLS, set()).add(obj.member_id)


def _forget(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction rolled back, not a savepoint
        session.info.pop(PENDING_DELIVERIES, None)
        session.info.pop(PENDING_BELLS, None)


def _after_commit(session: Session) -> None:
    deliveries = session.info.pop(PENDING_DELIVERIES, None)
    bells = session.info.pop(PENDING_BELLS, None)
    family_id = session.info.get("family_id")
    if not (deliveries or bells) or family_id is None or not has_app_context():
        return
    try:
        if bells:
            publish_event(family_id, "notification", {"member_ids": sorted(str(m) for m in bells)})
        if deliveries:
            dispatch_deliveries(family_id, list(dict.fromkeys(deliveries)))
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


def init_listeners() -> None:
    """Register the session events once (imported from the area's views, which the app loads at start)."""
    from sqlalchemy import event

    if not event.contains(TenantSession, "after_flush", _note_new_rows):
        event.listen(TenantSession, "after_flush", _note_new_rows)
        event.listen(TenantSession, "after_commit", _after_commit)
        event.listen(TenantSession, "after_soft_rollback", _forget)


init_listeners()
