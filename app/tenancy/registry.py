"""Host → slug → family record, cached per process and invalidated across processes through Redis."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.platform.models import Family

log = logging.getLogger(__name__)

NEGATIVE_TTL = 5.0  # unknown slugs are remembered briefly so junk hosts cannot hammer the platform database


@dataclass(frozen=True)
class FamilyRecord:
    """What a request needs to know about its family; immutable so it can be shared across threads."""

    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    plan: str
    status: str
    placement: str
    database_url: str
    deleted_at: datetime | None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def family_database_url(family: Family, *, pooled_url: str, dedicated_template: str | None) -> str:
    """The database URL holding this family's data."""
    if family.placement == "dedicated":
        if not dedicated_template or not family.database_key:
            raise RuntimeError(f"family {family.slug} is dedicated but no DEDICATED_DATABASE_URL_TEMPLATE is set")
        return dedicated_template.format(slug=family.database_key)
    return pooled_url


class FamilyRegistry:
    """Finds families by slug; a TTL cache per process, dropped everywhere when a family changes."""

    def __init__(self, platform_engine: Callable[[], Engine], *, pooled_url: str, dedicated_template: str | None,
                 ttl: float, redis_client: redis.Redis | None, channel: str) -> None:
        self._platform_engine = platform_engine
        self.pooled_url = pooled_url
        self.dedicated_template = dedicated_template
        self.ttl = ttl
        self._redis = redis_client
        self._channel = channel
        self._cache: dict[str, tuple[float, FamilyRecord | None]] = {}
        self._lock = threading.Lock()
        self._listener_pid: int | None = None

    def record_for(self, family: Family) -> FamilyRecord:
        """Turn a platform row into the immutable record requests carry."""
        return FamilyRecord(
            id=family.id, slug=family.slug, name=family.name, timezone=family.timezone, plan=family.plan,
            status=family.status, placement=family.placement, deleted_at=family.deleted_at,
            database_url=family_database_url(family, pooled_url=self.pooled_url,
                                              dedicated_template=self.dedicated_template),
        )

    def lookup(self, slug: str) -> FamilyRecord | None:
        """The family for `slug` (deleted ones included, so they can answer 410), or None."""
        self._ensure_listener()
        now = time.monotonic()
        cached = self._cache.get(slug)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = self.load(slug)
        ttl = self.ttl if record is not None else min(self.ttl, NEGATIVE_TTL)
        with self._lock:
            self._cache[slug] = (now + ttl, record)
        return record

    def load(self, slug: str) -> FamilyRecord | None:
        """Read the family from the platform database, bypassing the cache."""
        with Session(self._platform_engine()) as session:
            family = session.scalar(select(Family).where(Family.slug == slug))
            return self.record_for(family) if family is not None else None

    def invalidate(self, slug: str) -> None:
        """Forget `slug` here and tell every other process to do the same."""
        self.forget(slug)
        if self._redis is not None:
            try:
                self._redis.publish(self._channel, json.dumps({"slug": slug}))
            except redis.RedisError:
                log.warning("registry invalidation for %s not published; other processes expire it by TTL", slug)

    def forget(self, slug: str) -> None:
        """Drop one cached entry in this process."""
        with self._lock:
            self._cache.pop(slug, None)

    def clear(self) -> None:
        """Drop the whole cache in this process."""
        with self._lock:
            self._cache.clear()

    def _ensure_listener(self) -> None:
        # One subscriber thread per process, started after fork on first use.
        if self._redis is None or self._listener_pid == os.getpid():
            return
        with self._lock:
            if self._listener_pid == os.getpid():
                return
            self._listener_pid = os.getpid()
            threading.Thread(target=self._listen, name="family-registry-invalidation", daemon=True).start()

    def _listen(self) -> None:
        assert self._redis is not None
        reconnecting = False
        while True:
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self._channel)
                if reconnecting:
                    self.clear()  # messages may have been missed while disconnected: start from an empty cache
                reconnecting = True
                while True:
                    # get_message waits with select(), so the client's short socket timeout does not apply.
                    message = pubsub.get_message(timeout=30.0)
                    if message is not None and message.get("type") == "message":
                        self.forget(json.loads(message["data"])["slug"])
            except (redis.RedisError, ValueError, KeyError):
                log.warning("registry invalidation listener lost Redis; retrying", exc_info=True)
                time.sleep(2)
