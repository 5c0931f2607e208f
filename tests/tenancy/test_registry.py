"""The family registry cache and the engine LRU: fast when warm, correct after changes, bounded."""
from __future__ import annotations

import time

import pytest

from flask import Flask
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.db.engines import EngineRegistry
from app.platform.models import Family
from app.redis_store import get_redis, platform_key
from app.tenancy import registry
from app.tenancy.registry import FamilyRegistry


def _rename(app: Flask, family_id, name: str) -> None:  # noqa: ANN001
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        session.query(Family).filter(Family.id == family_id).update({"name": name})


def test_lookup_is_cached_until_invalidated(app: Flask, family) -> None:  # noqa: ANN001
    with app.app_context():
        reg = registry()
        assert reg.lookup(family.slug).name == family.name
        _rename(app, family.id, "Renamed")
        assert reg.lookup(family.slug).name == family.name  # still the cached record
        reg.invalidate(family.slug)
        assert reg.lookup(family.slug).name == "Renamed"


def test_unknown_slugs_are_cached_briefly(app: Flask) -> None:
    with app.app_context():
        reg = registry()
        assert reg.lookup("not-a-family-yet") is None
        assert "not-a-family-yet" in reg._negative  # noqa: SLF001 - the negative entry itself
        assert "not-a-family-yet" not in reg._cache  # noqa: SLF001


@pytest.mark.postgresql_only("Redis pub/sub; the SQLite app has no Redis")
def test_invalidation_reaches_other_processes_through_redis(app: Flask, family) -> None:  # noqa: ANN001
    """A second registry (as in another gunicorn worker) drops its entry when the first publishes."""
    with app.app_context():
        other = FamilyRegistry(platform_engine, pooled_url=app.config["FAMILY_DATABASE_URL"],
                               dedicated_template=app.config["DEDICATED_DATABASE_URL_TEMPLATE"], ttl=300,
                               redis_client=get_redis(), channel=platform_key("registry-invalidate"))
        assert other.lookup(family.slug).name == family.name
        deadline = time.monotonic() + 5
        while get_redis().pubsub_numsub(platform_key("registry-invalidate"))[0][1] < 1:
            assert time.monotonic() < deadline, "listener never subscribed"
            time.sleep(0.02)
        _rename(app, family.id, "Renamed elsewhere")
        registry().invalidate(family.slug)
        deadline = time.monotonic() + 5
        while family.slug in other._cache:  # noqa: SLF001
            assert time.monotonic() < deadline, "invalidation never arrived"
            time.sleep(0.02)
        assert other.lookup(family.slug).name == "Renamed elsewhere"


def test_engine_registry_is_a_bounded_lru_that_disposes(tmp_path) -> None:  # noqa: ANN001
    pinned = f"sqlite:///{tmp_path}/pinned.db"
    engines = EngineRegistry(max_engines=2, pool_size=1, max_overflow=0, pinned=(pinned,))
    first = engines.get(pinned)
    urls = [f"sqlite:///{tmp_path}/f{i}.db" for i in range(3)]
    made = [engines.get(url) for url in urls]
    assert engines.get(pinned) is first  # pinned engines survive eviction
    assert len(engines) == 3  # pinned + the two most recent
    assert engines.get(urls[2]) is made[2]
    assert engines.get(urls[0]) is not made[0]  # evicted, then rebuilt on demand
    engines.dispose_all()
    assert len(engines) == 0


def test_pinned_engines_get_the_big_pools_and_dedicated_ones_small_pools() -> None:
    pinned = "postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432/pinned_never_connected"
    engines = EngineRegistry(max_engines=4, pool_size=16, max_overflow=8, pinned=(pinned,), unpinned_pool_size=1,
                             unpinned_max_overflow=2)
    try:
        shared = engines.get(pinned).pool
        dedicated = engines.get("postgresql+psycopg://hp_app:hp_app@127.0.0.1:5432/dedicated_never_connected").pool
        assert (shared.size(), shared._max_overflow) == (16, 8)  # type: ignore[attr-defined]  # noqa: SLF001
        assert (dedicated.size(), dedicated._max_overflow) == (1, 2)  # type: ignore[attr-defined]  # noqa: SLF001
        assert engines.connection_cap() == 1 * (16 + 8) + 4 * (1 + 2)
    finally:
        engines.dispose_all()


@pytest.mark.postgresql_only("one dialect and statement cache per PostgreSQL server")
def test_dedicated_families_share_compiled_statements_but_not_connections_or_rows(app: Flask, make_family,  # noqa: ANN001
                                                                                   client_for) -> None:  # noqa: ANN001
    from app.db import engines, platform_engine

    first, second = make_family(placement="dedicated"), make_family(placement="dedicated")
    for family in (first, second):
        assert client_for(family).get("/login").status_code == 200  # each family's own engine answers
    with app.app_context():
        one, two = engines().get(first.database_url), engines().get(second.database_url)
        assert one is not two and one.pool is not two.pool, "connections stay per database"
        assert one._compiled_cache is two._compiled_cache is platform_engine()._compiled_cache  # noqa: SLF001
        assert one.dialect is two.dialect
        with one.connect() as a, two.connect() as b:
            names = {a.exec_driver_sql("SELECT current_database()").scalar(),
                     b.exec_driver_sql("SELECT current_database()").scalar()}
        assert names == {first.database_url.rsplit("/", 1)[-1], second.database_url.rsplit("/", 1)[-1]}


def test_engine_is_created_once_per_url(app: Flask) -> None:
    with app.app_context():
        from app.db import engines

        url = app.config["FAMILY_DATABASE_URL"]
        assert engines().get(url) is engines().get(url)
