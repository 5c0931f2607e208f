"""The registry's caches and the engine LRU stay bounded, whatever hosts a flood of requests names."""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.db import engines, platform_engine
from app.tenancy.slugs import is_valid_slug
from app.tenancy import registry
from app.tenancy.registry import FamilyRecord, FamilyRegistry
from tests.conftest import build_migrated_app, family_factory
from tests.tenancy.test_hostile_hosts import wsgi_get

FLOOD = 100_000
FAMILY_CACHE = 2
NEGATIVE_CACHE = 500
MAX_ENGINES = 2
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"


def random_slug(rng: random.Random) -> str:
    """A well-formed slug (3-50 chars, inner hyphens, none doubled, not reserved) that names nobody."""
    while True:
        slug = "".join(rng.choices(ALPHABET, k=rng.randint(3, 50)))
        if is_valid_slug(slug):
            return slug


def wsgi_status(app: Flask, host: str, path: str = "/api/family/info") -> int:
    """One request through the whole WSGI stack (middleware, hook, error handler) without the test client's cost."""
    return wsgi_get(app, host, path)[0]


@pytest.fixture
def flood_app(tmp_path: Path) -> Iterator[Flask]:
    """The embedded default (SQLite, in-process, so 100,000 lookups fit in a minute) with small cache bounds."""
    app = build_migrated_app(
        PLATFORM_DATABASE_URL=f"sqlite:///{tmp_path}/platform.db",
        FAMILY_DATABASE_URL=f"sqlite:///{tmp_path}/families.db",
        DEDICATED_DATABASE_URL_TEMPLATE=f"sqlite:///{tmp_path}/families/family_{{slug}}.db",
        REDIS_URL=None, FAMILY_CACHE_SIZE=FAMILY_CACHE, FAMILY_NEGATIVE_CACHE_SIZE=NEGATIVE_CACHE,
        ENGINE_CACHE_SIZE=MAX_ENGINES,
    )
    yield app
    with app.app_context():
        engines().dispose_all()


@pytest.mark.sqlite
def test_a_flood_of_unknown_slugs_keeps_every_cache_bounded(flood_app: Flask) -> None:
    # More dedicated families than the engine LRU holds: each real request may open an engine, none may pile up.
    families = [family_factory(flood_app)(placement="dedicated") for _ in range(MAX_ENGINES + 1)]
    rng = random.Random(8)
    started = time.monotonic()
    unknown_statuses: dict[int, int] = {}
    biggest = {"families": 0, "unknown_slugs": 0, "engines": 0}
    last_slug = ""
    with flood_app.app_context():
        reg, engine_lru = registry(), engines()
        pinned = len(engine_lru.pinned)
    for i in range(FLOOD):
        if i % 1000 == 0:  # real families keep being served, and keep cycling through the bounded caches
            family = families[(i // 1000) % len(families)]
            assert wsgi_status(flood_app, f"{family.slug}.localhost:5000") == 200
            sizes = reg.cache_sizes()
            biggest["families"] = max(biggest["families"], sizes["families"])
            biggest["unknown_slugs"] = max(biggest["unknown_slugs"], sizes["unknown_slugs"])
            biggest["engines"] = max(biggest["engines"], len(engine_lru))
        last_slug = random_slug(rng)
        status = wsgi_status(flood_app, f"{last_slug}.localhost:5000")
        unknown_statuses[status] = unknown_statuses.get(status, 0) + 1
    elapsed = time.monotonic() - started

    assert unknown_statuses == {404: FLOOD}
    sizes = reg.cache_sizes()
    assert (sizes["families"], sizes["unknown_slugs"]) == (FAMILY_CACHE, NEGATIVE_CACHE)  # full, and no fuller
    assert (biggest["families"], biggest["unknown_slugs"]) == (FAMILY_CACHE, NEGATIVE_CACHE)
    # Three dedicated families took turns: the LRU was full (every family engine made) but never grew past it.
    assert MAX_ENGINES <= biggest["engines"] <= MAX_ENGINES + pinned
    assert len(engine_lru) <= MAX_ENGINES + pinned
    assert last_slug in reg._negative  # noqa: SLF001 - the newest unknown slug is the one still remembered
    print(f"\n{FLOOD} unknown-slug requests in {elapsed:.1f}s; caches {sizes}; engines {len(engine_lru)}")


def _registry(app: Flask, **bounds: float) -> FamilyRegistry:
    return FamilyRegistry(platform_engine, pooled_url=app.config["FAMILY_DATABASE_URL"],
                          dedicated_template=app.config["DEDICATED_DATABASE_URL_TEMPLATE"], redis_client=None,
                          channel="unused", **{"ttl": 3600.0, **bounds})  # type: ignore[arg-type]


def test_known_families_are_evicted_least_recently_used_first(app: Flask, make_family) -> None:  # noqa: ANN001
    first, second, third = (make_family() for _ in range(3))
    with app.app_context():
        reg = _registry(app, cache_size=2)
        for family in (first, second, first, third):
            assert reg.lookup(family.slug).id == family.id
        assert reg.cache_sizes()["families"] == 2
        assert first.slug in reg._cache and third.slug in reg._cache  # noqa: SLF001
        assert second.slug not in reg._cache  # noqa: SLF001 - least recently used, evicted


def test_unknown_slugs_are_forgotten_after_the_short_ttl(app: Flask, make_family) -> None:  # noqa: ANN001
    slug = f"soon-{random_slug(random.Random())[:20]}".rstrip("-")
    with app.app_context():
        reg = _registry(app, negative_ttl=0.2)
        assert reg.lookup(slug) is None
        make_family(slug)
        assert reg.lookup(slug) is None  # still the remembered miss
        time.sleep(0.3)
        found = reg.lookup(slug)
        assert found is not None and found.slug == slug
        assert reg.cache_sizes()["unknown_slugs"] == 0


def test_known_families_outlive_the_negative_ttl_until_invalidated(app: Flask, family: FamilyRecord) -> None:
    with app.app_context():
        reg = _registry(app, negative_ttl=0.05)
        assert reg.lookup(family.slug) is not None
        time.sleep(0.1)
        assert family.slug in reg._cache  # noqa: SLF001 - positives live until invalidated (or the long TTL)
        reg.forget(family.slug)
        assert reg.cache_sizes()["families"] == 0


def test_a_load_racing_an_invalidation_is_not_cached(app: Flask, family: FamilyRecord) -> None:
    """An invalidation that arrives while the platform row is being read wins: the read is served, not kept."""
    class Racing(FamilyRegistry):
        def load(self, slug: str) -> FamilyRecord | None:
            record = super().load(slug)
            self.forget(slug)  # the pub/sub message lands between the SELECT and the cache write
            return record

    with app.app_context():
        reg = Racing(platform_engine, pooled_url=app.config["FAMILY_DATABASE_URL"],
                     dedicated_template=app.config["DEDICATED_DATABASE_URL_TEMPLATE"], ttl=3600.0,
                     redis_client=None, channel="unused")
        assert reg.lookup(family.slug).id == family.id
        assert reg.cache_sizes()["families"] == 0
