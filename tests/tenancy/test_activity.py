"""Family activity: requests note it in Redis (throttled per process), the tick writes it to the platform database
in one batch; without Redis it is written directly."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.db.bases import utcnow
from app.platform.models import Family
from app.redis_store import get_redis, platform_key
from app.tenancy import activity
from app.tenancy.registry import FamilyRecord
from tests.conftest import host_client


@pytest.fixture(autouse=True)
def fresh_throttle(app: Flask) -> Iterator[None]:
    def forget() -> None:
        activity._last_noted.clear()  # noqa: SLF001 - the per-process throttle, reset between tests
        with app.app_context():
            client = get_redis()
            if client is not None:  # the SQLite app has no Redis
                client.delete(platform_key("activity"))

    forget()
    yield
    forget()


def _last_activity(app: Flask, family: FamilyRecord) -> datetime | None:
    with app.app_context(), Session(platform_engine()) as session:
        return session.scalar(select(Family.last_activity_at).where(Family.id == family.id))


def get_redis_of(app: Flask) -> object:
    with app.app_context():
        return get_redis()


def _noted(app: Flask) -> dict[bytes, bytes]:
    with app.app_context():
        return get_redis().hgetall(platform_key("activity"))


@pytest.mark.postgresql_only("Redis notes; the SQLite app has no Redis")
def test_a_request_notes_activity_in_redis_and_the_tick_writes_it_in_one_batch(app: Flask, family: FamilyRecord,
                                                                                runner) -> None:  # noqa: ANN001
    before = _last_activity(app, family)
    assert host_client(app, family).get("/login").status_code == 200
    noted = _noted(app)
    assert str(family.id).encode() in noted
    assert _last_activity(app, family) == before, "a read does not write the platform database"
    result = runner.invoke(args=["jobs", "tick", "--family", family.slug])
    assert result.exit_code == 0, result.output
    written = _last_activity(app, family)
    assert written is not None and written.isoformat() == noted[str(family.id).encode()].decode()
    assert _noted(app) == {}, "flushed notes are gone"


@pytest.mark.postgresql_only("Redis notes; the SQLite app has no Redis")
def test_activity_is_noted_once_per_interval_per_process(app: Flask, family: FamilyRecord) -> None:
    client = host_client(app, family)
    client.get("/login")
    with app.app_context():
        get_redis().delete(platform_key("activity"))
    client.get("/login")
    assert _noted(app) == {}, "the second request within the interval notes nothing"


def test_without_redis_activity_goes_straight_to_the_database(app: Flask, family: FamilyRecord) -> None:
    if get_redis_of(app) is None:  # the SQLite app: a real request writes it
        host_client(app, family).get("/login")
        assert _last_activity(app, family) is not None
        activity._last_noted.clear()  # noqa: SLF001 - the per-process throttle, reset between tests
    now = utcnow()
    with app.app_context():
        assert activity.note_activity(family.id, now, client=None, key="unused", platform_engine=platform_engine())
        assert not activity.note_activity(family.id, now, client=None, key="unused", platform_engine=platform_engine())
    assert _last_activity(app, family) == now


@pytest.mark.postgresql_only("Redis notes; the SQLite app has no Redis")
def test_flushing_nothing_writes_nothing(app: Flask) -> None:
    with app.app_context():
        assert activity.flush_activity(get_redis(), platform_key("activity"), platform_engine()) == 0
