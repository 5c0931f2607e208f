"""Publishing family events (after commit) on the family's own channel: Redis pub/sub, and the push server if any."""
from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import redis

from app.events import AccessRevoked, Dispatcher
from app.htmx import LIVE_EVENTS
from app.live import push
from app.redis_store import family_key, get_redis

log = logging.getLogger(__name__)

# The event names pages listen for (`hx-trigger="sse:<name>"`): the live part of the one registry in app.htmx.
EVENTS = LIVE_EVENTS
CLOSE = json.dumps({"close": True})  # on a stream's channel: end the stream (the app-held one; Pushpin has its own)


def events_channel(family_id: uuid.UUID) -> str:
    """The channel of one family (Redis and push server alike): no family can subscribe to another's."""
    return family_key(family_id, "events")


def revocation_channel(family_id: uuid.UUID, kind: str, ident: uuid.UUID) -> str:
    """The channel that ends the streams a session, a member or a tablet let in (never carries an event)."""
    return family_key(family_id, f"events:{kind}:{ident}")


def stream_channels(family_id: uuid.UUID, *, session_id: uuid.UUID | None = None,
                    member_id: uuid.UUID | None = None, device_id: uuid.UUID | None = None) -> list[str]:
    """What one stream listens on: its family's events, and the channels that end it when its sign-in is revoked."""
    channels = [events_channel(family_id)]
    for kind, ident in (("session", session_id), ("member", member_id), ("device", device_id)):
        if ident is not None:
            channels.append(revocation_channel(family_id, kind, ident))
    return channels


def close_streams(family_id: uuid.UUID, revoked: list[AccessRevoked]) -> None:
    """After-commit reaction: end the open streams of what was signed out, so none hears the family's events on.

    The browser's reconnect is then refused (401, or 410 for a deleted family). A lost close is logged and leaves
    a stream that still carries only ids, never data, until it reconnects.
    """
    channels: set[str] = set()
    for what in revoked:
        if what.whole_family:
            channels.add(events_channel(family_id))
        channels.update(revocation_channel(family_id, "session", ident) for ident in what.session_ids)
        channels.update(revocation_channel(family_id, "member", ident) for ident in what.member_ids)
        channels.update(revocation_channel(family_id, "device", ident) for ident in what.device_ids)
    if not channels:
        return
    if push.push_server_configured():
        push.close(sorted(channels))
    client = get_redis()
    if client is None:
        return
    try:
        for channel in sorted(channels):
            client.publish(channel, CLOSE)
    except redis.RedisError:
        log.warning("open streams of family %s not told to close", family_id, exc_info=True)


def close_family_streams(family_id: uuid.UUID) -> None:
    """Every open stream of the family ends (its site just closed: a suspension)."""
    close_streams(family_id, [AccessRevoked(whole_family=True)])


def register(dispatcher: Dispatcher) -> None:
    """Revoked sign-ins end their streams once the revocation is committed."""
    dispatcher.after_commit([AccessRevoked], close_streams)


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
