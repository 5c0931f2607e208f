"""Families' last activity: noted in Redis by requests (a hash write, throttled per process), written to the
platform database in one batch by the tick; without Redis, written directly (throttled the same way)."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime

import redis
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.platform.models import Family

ACTIVITY_INTERVAL = 300.0  # seconds between notes per family and process: reads must not become writes
_last_noted: dict[uuid.UUID, float] = {}
_lock = threading.Lock()


def note_activity(family_id: uuid.UUID, now: datetime, *, client: redis.Redis | None, key: str,
                  platform_engine: Engine) -> bool:
    """Remember that the family was active (at most every ACTIVITY_INTERVAL per process); True when noted."""
    moment = time.monotonic()
    with _lock:
        if moment - _last_noted.get(family_id, -ACTIVITY_INTERVAL) < ACTIVITY_INTERVAL:
            return False
        _last_noted[family_id] = moment
    if client is not None:
        try:
            client.hset(key, str(family_id), now.isoformat())
            return True
        except redis.RedisError:
            pass  # Redis is away: the database is the fallback, as without Redis
    _write(platform_engine, {family_id: now})
    return True


def flush_activity(client: redis.Redis, key: str, platform_engine: Engine) -> int:
    """Write every noted activity to the platform database in one batch; returns how many families."""
    flushing = f"{key}:flushing"
    try:
        client.rename(key, flushing)  # atomic hand-over: notes made from now on go to a fresh hash
    except redis.ResponseError:
        return 0  # nothing noted since the last flush
    noted = client.hgetall(flushing)
    latest = {uuid.UUID(_text(raw_id)): datetime.fromisoformat(_text(raw_at)) for raw_id, raw_at in noted.items()}
    _write(platform_engine, latest)
    client.delete(flushing)
    return len(latest)


def _write(platform_engine: Engine, latest: dict[uuid.UUID, datetime]) -> None:
    if not latest:
        return
    with Session(platform_engine) as session, session.begin():
        # ORM bulk UPDATE by primary key: one executemany for the whole batch.
        session.execute(update(Family), [{"id": family_id, "last_activity_at": at} for family_id, at in latest.items()])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
