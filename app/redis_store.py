"""Redis access: one client per process and the one helper that builds every key."""
from __future__ import annotations

import threading
import time
import uuid

import redis
from flask import Flask, current_app

EXTENSION_KEY = "housepoints.redis"
PROBE_KEY = "housepoints.redis_probe"
PROBE_SECONDS = 2.0  # how long one answer to "is Redis up?" is trusted by a process


class RedisProbe:
    """Whether Redis answers, asked at most every few seconds per process, so pages can pick SSE or polling."""

    def __init__(self, client: redis.Redis | None) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._up = False

    def up(self) -> bool:
        if self._client is None:
            return False
        with self._lock:
            if time.monotonic() - self._checked_at >= PROBE_SECONDS:
                try:
                    self._up = bool(self._client.ping())
                except redis.RedisError:
                    self._up = False
                self._checked_at = time.monotonic()
            return self._up


def init_app(app: Flask) -> None:
    """Build a lazy client when REDIS_URL is set; without it the app runs on its in-process fallbacks."""
    url = app.config.get("REDIS_URL")
    app.extensions[EXTENSION_KEY] = (
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)
        if url else None
    )
    app.extensions[PROBE_KEY] = RedisProbe(app.extensions[EXTENSION_KEY])


def get_redis() -> redis.Redis | None:
    """The process's Redis client, or None when the deployment has no Redis."""
    return current_app.extensions.get(EXTENSION_KEY)


def redis_up() -> bool:
    """True when Redis is configured and answered lately; False sends pages to polling and streams away."""
    probe: RedisProbe = current_app.extensions[PROBE_KEY]
    return probe.up()


def platform_key(*parts: object, prefix: str | None = None) -> str:
    """A key for platform-wide data (registry invalidation, rate limits at the apex)."""
    prefix = prefix or current_app.config["REDIS_KEY_PREFIX"]
    return ":".join([prefix, "platform", *map(str, parts)])


def family_key(family_id: uuid.UUID, *parts: object, prefix: str | None = None) -> str:
    """A key inside one family's keyspace: no key of one family can name another's data."""
    prefix = prefix or current_app.config["REDIS_KEY_PREFIX"]
    return ":".join([prefix, "family", str(family_id), *map(str, parts)])
