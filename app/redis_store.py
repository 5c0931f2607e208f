"""Redis access: one client per process and the one helper that builds every key."""
from __future__ import annotations

import uuid

import redis
from flask import Flask, current_app

EXTENSION_KEY = "housepoints.redis"


def init_app(app: Flask) -> None:
    """Build a lazy client when REDIS_URL is set; without it the app runs on its in-process fallbacks."""
    url = app.config.get("REDIS_URL")
    app.extensions[EXTENSION_KEY] = (
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)
        if url else None
    )


def get_redis() -> redis.Redis | None:
    """The process's Redis client, or None when the deployment has no Redis."""
    return current_app.extensions.get(EXTENSION_KEY)


def platform_key(*parts: object, prefix: str | None = None) -> str:
    """A key for platform-wide data (registry invalidation, rate limits at the apex)."""
    prefix = prefix or current_app.config["REDIS_KEY_PREFIX"]
    return ":".join([prefix, "platform", *map(str, parts)])


def family_key(family_id: uuid.UUID, *parts: object, prefix: str | None = None) -> str:
    """A key inside one family's keyspace: no key of one family can name another's data."""
    prefix = prefix or current_app.config["REDIS_KEY_PREFIX"]
    return ":".join([prefix, "family", str(family_id), *map(str, parts)])
