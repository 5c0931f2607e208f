"""GRIP: when a push server (Pushpin) fronts the app, it holds the `/events` streams and the app only publishes.

The app still authorises every stream (session or tablet cookie, family from the Host) and names the one channel the
stream may hear: `events_channel(g.family.id)`, answered in a `Grip-Channel` response header that only the app
writes. Nothing the client sends (query string, headers, cookies of another host) reaches the channel name.
Requests count as coming through the push server only with a `Grip-Sig` token signed with its key (GRIP_SIG_KEY).
"""
from __future__ import annotations

import http.client
import json
import logging
import threading
import urllib.parse
from collections.abc import Sequence
from typing import Any

import jwt
from flask import Response, current_app, request
from prometheus_client import Counter

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15
PUBLISHED = Counter("housepoints_live_push_published_total",
                    "Live events handed to the push server, by outcome (ok, failed).", ("outcome",))
_local = threading.local()


def push_server_configured() -> bool:
    """A push server fronts this deployment (PUSH_SERVER_URL); otherwise the app holds streams itself."""
    return bool(current_app.config.get("PUSH_SERVER_URL"))


def request_via_push_server() -> bool:
    """This request came through the push server, which will hold the stream (a valid `Grip-Sig`)."""
    if not push_server_configured():
        return False
    signature = request.headers.get("Grip-Sig")
    if not signature:
        return False
    key: str | None = current_app.config.get("GRIP_SIG_KEY")
    if not key:
        return True  # development without a key: the push server's presence is enough (it binds to loopback)
    try:
        jwt.decode(signature, key, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.InvalidTokenError:
        return False
    return True


def hold_stream(channels: Sequence[str]) -> Response:
    """Ask the push server to keep this SSE response open on `channels` (and send keep-alives itself)."""
    response = Response("retry: 2000\n\n", mimetype="text/event-stream")
    response.headers["Grip-Hold"] = "stream"
    response.headers["Grip-Channel"] = ", ".join(channels)
    response.headers["Grip-Keep-Alive"] = f": keepalive\\n\\n; format=cstring; timeout={KEEPALIVE_SECONDS}"
    # No `Grip-Link` re-check: with one, Pushpin 1.36 delivered 24 of 400 events on time to 10,000 held streams
    # (bench/streams_compare.py `pushpin-ka-link`, docs/PERFORMANCE.md).
    response.headers["Cache-Control"] = "no-cache"
    return response


def publish(channel: str, event: str, data_json: str) -> bool:
    """Hand one SSE event to the push server for every stream held on `channel`; never raises.

    Losing an event is harmless (pages catch up on their next poll or reconnect), so a down or slow push server is
    logged and counted (housepoints_live_push_published_total{outcome="failed"}), never failed up to the request.
    """
    content = f"event: {event}\ndata: {data_json}\n\n"
    return _publish([{"channel": channel, "formats": {"http-stream": {"content": content}}}], event)


def close(channels: Sequence[str]) -> bool:
    """End every stream held on any of `channels` (a revoked sign-in's); never raises."""
    return _publish([{"channel": channel, "formats": {"http-stream": {"action": "close"}}} for channel in channels],
                    "close")


def _publish(items: list[dict[str, Any]], what: str) -> bool:
    """POST items to the push server's publish endpoint: logged and counted on failure, never raised."""
    body = json.dumps({"items": items})
    for attempt in (1, 2):  # a kept-alive connection the server has since closed gets one fresh retry
        reused = getattr(_local, "connection", None) is not None
        try:
            connection = _connection()
            connection.request("POST", _publish_path(), body=body, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            if answer.status != 200:
                raise OSError(f"push server answered {answer.status}")
        except (OSError, http.client.HTTPException):
            _drop_connection()
            if reused and attempt == 1:
                continue
            PUBLISHED.labels("failed").inc()
            log.warning("live %s not handed to the push server", what, exc_info=True)
            return False
        PUBLISHED.labels("ok").inc()
        return True
    return False  # pragma: no cover - the loop always returns


def _publish_path() -> str:
    base = urllib.parse.urlsplit(current_app.config["PUSH_SERVER_URL"]).path.rstrip("/")
    return f"{base}/publish/"


def _connection() -> http.client.HTTPConnection:
    """One kept-alive connection to the publish endpoint per thread (a publish then costs one round trip)."""
    url = current_app.config["PUSH_SERVER_URL"]
    cached: tuple[str, http.client.HTTPConnection] | None = getattr(_local, "connection", None)
    if cached is not None and cached[0] == url:
        return cached[1]
    parts = urllib.parse.urlsplit(url)
    timeout = float(current_app.config.get("PUSH_PUBLISH_TIMEOUT", 0.5))
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    _local.connection = (url, connection)
    return connection


def _drop_connection() -> None:
    cached: tuple[str, http.client.HTTPConnection] | None = getattr(_local, "connection", None)
    if cached is not None:
        cached[1].close()
    _local.connection = None
