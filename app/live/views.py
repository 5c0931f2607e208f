"""`/events`: a Server-Sent Events stream of the family's live events (polling pages need no stream).

Behind a push server (Pushpin, PUSH_SERVER_URL) the app only authorises the stream and names its family's channel;
Pushpin holds the connection (app/live/push.py). Without one, each stream holds a gthread thread, capped per process.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import redis
from flask import Response, abort, current_app, g, request

from app.auth import current_member, current_session_record
from app.auth.services import load_device
from app.db import get_session
from app.db.bases import utcnow
from app.languages import translatable
from app.live import bp
from app.live import push
from app.live.events import stream_channels
from app.redis_store import get_redis, redis_up
from app.uow import commit_now

STREAM_SECONDS = 300  # streams end and reconnect now and then, so a worker's threads turn over
KEEPALIVE_SECONDS = 15
# Each stream holds one gthread thread; cap them so page requests always find a free thread.
_stream_slots = threading.BoundedSemaphore(1)
_slots_lock = threading.Lock()
_slots_initialised = False


def _slots() -> threading.BoundedSemaphore:
    global _stream_slots, _slots_initialised
    with _slots_lock:
        if not _slots_initialised:
            _stream_slots = threading.BoundedSemaphore(current_app.config["MAX_STREAMS_PER_PROCESS"])
            _slots_initialised = True
    return _stream_slots


@bp.get("/events")
def events() -> Response:
    """Stream this family's events to a signed-in member or the registered family tablet."""
    from app.auth import DEVICE_COOKIE

    member = current_member()
    device = load_device(get_session(), request.cookies.get(DEVICE_COOKIE), utcnow())
    if member is None and device is None:
        abort(401)
    record = current_session_record()
    # The channels come from the Host's family alone: a query string or header cannot name another family's. Beside
    # the family's events, the stream hears the channels that end it when what let it in is signed out.
    channels = stream_channels(g.family.id, session_id=record.id if record is not None else None,
                               member_id=member.id if member is not None else None,
                               device_id=device.id if device is not None else None)
    if push.request_via_push_server():
        commit_now()
        return push.hold_stream(channels)
    client = get_redis()
    if client is None:
        abort(404, description=translatable("Live updates need Redis; this page refreshes by polling."))
    slots = _slots()
    if not redis_up() or not slots.acquire(blocking=False):
        return _try_later()
    commit_now()  # nothing to keep: the stream must not hold a database connection

    def stream() -> Iterator[str]:
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]  # redis-py leaves pubsub() unannotated
        try:
            try:
                pubsub.subscribe(*channels)
            except redis.RedisError:
                yield "retry: 10000\n\n"  # Redis went away between the check and now: come back later
                return
            yield "retry: 2000\n\n"
            deadline = time.monotonic() + STREAM_SECONDS
            keepalive_at = time.monotonic() + KEEPALIVE_SECONDS
            while time.monotonic() < deadline:
                try:
                    message = pubsub.get_message(timeout=max(0.0, keepalive_at - time.monotonic()))
                except redis.RedisError:
                    yield "retry: 10000\n\n"  # Redis stopped: end the stream; the browser reconnects later
                    return
                if message is None:  # a quiet spell, or a subscription's own confirmation (skipped)
                    if time.monotonic() >= keepalive_at:
                        yield ": keepalive\n\n"
                        keepalive_at = time.monotonic() + KEEPALIVE_SECONDS
                    continue
                payload = json.loads(message["data"])
                if payload.get("close"):
                    return  # what let this stream in was signed out: its reconnect is refused
                yield f"event: {payload['event']}\ndata: {json.dumps(payload['data'])}\n\n"
        finally:
            pubsub.close()
            slots.release()

    response = Response(stream(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # proxies must not buffer the stream
    return response


def _try_later() -> Response:
    """Streams are full or Redis is down: 503 with a long retry (open pages keep their polling or stale view)."""
    response = Response("retry: 10000\n\n", status=503, mimetype="text/event-stream")
    response.headers["Retry-After"] = "10"
    return response

