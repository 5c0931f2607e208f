"""Publishing family events (after commit) on the family's own channel: Redis pub/sub, and the push server if any."""
from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis

from app.htmx import LIVE_EVENTS
from app.live import push
from app.redis_store import family_key, get_redis

log = logging.getLogger(__name__)

# The event names pages listen for (`hx-trigger="sse:<name>"`): the live part of the one registry in app.htmx.
EVENTS = LIVE_EVENTS


def events_channel(family_id: uuid.UUID) -> str:
    """The channel of one family (Redis and push server alike): no family can subscribe to another's."""
    return family_key(family_id, "events")


def publish_event(family_id: uuid.UUID, name: str, data: dict[str, Any] | None = None) -> bool:
    """Tell every open page of this family that something changed; call only after the commit.

    Losing an event is harmless (pages also refresh on their own), so Redis and push-server errors are logged and
    counted, never raised. True when at least one transport took the event.
    """
    if name not in EVENTS:
        raise ValueError(f"unknown live event {name!r}")
    channel = events_channel(family_id)
    data_json = json.dumps(data or {})
    delivered = False
    if push.push_server_configured():
        delivered = push.publish(channel, name, data_json)
    client = get_redis()
    if client is None:
        return delivered
    try:
        client.publish(channel, json.dumps({"event": name, "data": data or {}}))
        return True
    except redis.RedisError:
        log.warning("live event %s for family %s not published", name, family_id, exc_info=True)
        return delivered
