"""Once-a-day platform-wide work the tick hands to a worker: yesterday's analytics measure every family, which takes
minutes at fleet scale — far past the tick's minute and its lock."""
from __future__ import annotations

from datetime import date, timedelta

import redis
from rq import Queue
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.jobs.tick import FAILURE_TTL
from app.redis_store import platform_key

DAILY_JOB_TIMEOUT = 3600  # the day's analytics measure every family: minutes at 10,000 families
DAILY_QUEUED_FOR = 3 * 3600  # a day's analytics job is queued once in this long (a failed one is queued again after)


def daily_queue(connection: redis.Redis) -> Queue:
    """The "daily" queue (the worker takes it after deliveries and ticks): once-a-day platform-wide work."""
    return Queue(platform_key("daily"), connection=connection)


def analytics_job(day_iso: str) -> str:
    """The RQ job: the platform analytics of `day` unless someone recorded them meanwhile."""
    from app.notifications.worker import worker_app
    from app.operator.cli import record_missing_analytics

    with worker_app().app_context():
        return record_missing_analytics(date.fromisoformat(day_iso) + timedelta(days=1)) or "already recorded"


def queue_missing_analytics(connection: redis.Redis, today: date) -> str | None:
    """Queue yesterday's analytics once, if missing (the tick calls this every minute; one platform query)."""
    from app.operator.services import analytics_recorded

    yesterday = today - timedelta(days=1)
    with Session(platform_engine()) as session:
        if analytics_recorded(session, yesterday):
            return None
    if not connection.set(platform_key("analytics-queued", yesterday.isoformat()), 1, nx=True, ex=DAILY_QUEUED_FOR):
        return None
    queue = daily_queue(connection)
    queue.enqueue(analytics_job, yesterday.isoformat(), job_id=f"analytics-{yesterday.isoformat()}",
                  job_timeout=DAILY_JOB_TIMEOUT, result_ttl=24 * 3600, failure_ttl=FAILURE_TTL)
    return f"analytics {yesterday.isoformat()} queued on {queue.name}"
