"""Host → slug → family record, cached per process and invalidated across processes through Redis."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import redis
from cachetools import TTLCache
from sqlalchemy import Engine, select

from app.metrics import REGISTRY_LOOKUPS
from app.platform.models import Family
from app.db.clusters import DEFAULT_CLUSTER, Cluster

log = logging.getLogger(__name__)

NEGATIVE_TTL = 5.0  # unknown slugs are remembered briefly so junk hosts cannot hammer the platform database
CACHE_SIZE = 16384  # families kept per process (FAMILY_CACHE_SIZE); the least recently used beyond are read again
NEGATIVE_CACHE_SIZE = 1024  # unknown slugs remembered per process: a flood of junk hosts cannot grow memory


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
    cluster: str = DEFAULT_CLUSTER
    # Set while `move_family` copies the family to another database: reads go on, writes answer 503.
    moving: bool = False

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


def family_database_url(family: Family, *, pooled_url: str, dedicated_template: str | None,
                        clusters: Mapping[str, Cluster] | None = None) -> str:
    """The database URL holding this family's data: its cluster's pooled database or its dedicated one there."""
    cluster_name = getattr(family, "cluster", None) or DEFAULT_CLUSTER
    if clusters and cluster_name in clusters:
        cluster = clusters[cluster_name]
        pooled_url, dedicated_template = cluster.pooled_url, cluster.dedicated_template
    elif cluster_name != DEFAULT_CLUSTER:
        raise RuntimeError(f"family {family.slug} lives on cluster {cluster_name!r}, which is not configured")
    if family.placement == "dedicated":
        if not dedicated_template or not family.database_key:
            raise RuntimeError(f"family {family.slug} is dedicated but no DEDICATED_DATABASE_URL_TEMPLATE is set")
        return dedicated_template.format(slug=family.database_key)
    return pooled_url


class FamilyRegistry:
    """Finds families by slug; a bounded cache per process, dropped everywhere when a family changes.

    Known families stay cached until Redis pub/sub invalidates them (`ttl` is only a safety net for a lost
    message); unknown slugs go to a separate, smaller-lived negative cache. Both are bounded LRU+TTL caches
    (cachetools, not thread-safe on its own: every access holds `_lock`).
    """

    def __init__(self, platform_engine: Callable[[], Engine], *, pooled_url: str, dedicated_template: str | None,
                 ttl: float, redis_client: redis.Redis | None, channel: str, cache_size: int = CACHE_SIZE,
                 negative_cache_size: int = NEGATIVE_CACHE_SIZE, negative_ttl: float = NEGATIVE_TTL,
                 clusters: Mapping[str, Cluster] | None = None) -> None:
        self._platform_engine = platform_engine
        self.pooled_url = pooled_url
        self.dedicated_template = dedicated_template
        self.clusters = dict(clusters or {DEFAULT_CLUSTER: Cluster(DEFAULT_CLUSTER, pooled_url, dedicated_template)})
        self.ttl = ttl
        self._redis = redis_client
        self._channel = channel
        self._cache: TTLCache[str, FamilyRecord] = TTLCache(maxsize=cache_size, ttl=ttl)
        self._negative: TTLCache[str, bool] = TTLCache(maxsize=negative_cache_size, ttl=min(ttl, negative_ttl))
        # Bumped by every forget/clear: a load that raced an invalidation must not cache what it read before it.
        self._generation = 0
        self._lock = threading.Lock()
        self._listener_pid: int | None = None

    def record_for(self, family: Family) -> FamilyRecord:
        """Turn a platform row into the immutable record requests carry."""
        return FamilyRecord(
            id=family.id, slug=family.slug, name=family.name, timezone=family.timezone, plan=family.plan,
            status=family.status, placement=family.placement, deleted_at=family.deleted_at,
            cluster=family.cluster, moving=family.moving_since is not None,
            database_url=family_database_url(family, pooled_url=self.pooled_url,
                                              dedicated_template=self.dedicated_template, clusters=self.clusters),
        )

    def lookup(self, slug: str) -> FamilyRecord | None:
        """The family for `slug` (deleted ones included, so they can answer 410), or None."""
        self._ensure_listener()
        with self._lock:
            record = self._cache.get(slug)
            if record is not None or slug in self._negative:
                REGISTRY_LOOKUPS.labels("hit" if record is not None else "negative").inc()
                return record
            generation = self._generation
        REGISTRY_LOOKUPS.labels("miss").inc()
        record = self.load(slug)
        with self._lock:
            if generation == self._generation:
                if record is None:
                    self._negative[slug] = True
                else:
                    self._cache[slug] = record
        return record

    @property
    def broadcasts(self) -> bool:
        """True when invalidations reach other processes (Redis); without it they wait for the TTL."""
        return self._redis is not None

    def cache_sizes(self) -> dict[str, int]:
        """How many entries each cache holds now (health checks and the flood test watch these stay bounded)."""
        with self._lock:
            self._cache.expire()
            self._negative.expire()
            return {"families": len(self._cache), "unknown_slugs": len(self._negative),
                    "families_max": int(self._cache.maxsize), "unknown_slugs_max": int(self._negative.maxsize)}

    def load(self, slug: str) -> FamilyRecord | None:
        """Read the family from the platform database, bypassing the cache."""
        # Core, not an ORM session: every unknown Host costs this query, so it stays as cheap as it can be.
        with self._platform_engine().connect() as connection:
            row = connection.execute(select(Family.__table__).where(Family.slug == slug)).first()
        return self.record_for(row) if row is not None else None  # type: ignore[arg-type]  # a Row has the Family's fields

    def load_many(self, slugs: list[str]) -> dict[str, FamilyRecord]:
        """Read many families in one query, bypassing the cache (the tick's batch of families)."""
        if not slugs:
            return {}
        with self._platform_engine().connect() as connection:
            rows = connection.execute(select(Family.__table__).where(Family.slug.in_(slugs))).all()
        return {row.slug: self.record_for(row) for row in rows}  # type: ignore[arg-type]  # a Row has the Family's fields

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
            self._generation += 1
            self._cache.pop(slug, None)
            self._negative.pop(slug, None)

    def clear(self) -> None:
        """Drop the whole cache in this process."""
        with self._lock:
            self._generation += 1
            self._cache.clear()
            self._negative.clear()

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
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]  # redis-py leaves pubsub() unannotated
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
