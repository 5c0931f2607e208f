"""Background delivery: the RQ job that sends one delivery and the queue it runs on (`flask jobs worker` runs it)."""
from __future__ import annotations

import logging
import os
import socket
import uuid

import redis
from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, Worker, get_current_job
from rq.job import Job

from app.db.bases import utcnow
from app.notifications.delivery import SendSettings, attempt_delivery
from app.redis_store import get_redis, platform_key
from app.tenancy.context import FamilyNotFound, family_context

log = logging.getLogger("housepoints.deliveries")

JOB_TIMEOUT = 60  # one SMTP conversation or one 5-second webhook POST, with room to spare
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
QUEUED_TTL = 24 * 3600  # a job nobody picked up in a day is dropped; the tick's sweep re-dispatches its row

_worker_app: Flask | None = None


class DeliveryFailed(Exception):
    """Raised by the job so RQ schedules the next attempt (the delivery row already says when and why)."""


def delivery_queue_name() -> str:
    """The "deliveries" queue, inside this deployment's Redis key prefix (test runs never share a queue)."""
    return platform_key("deliveries")


def delivery_queue(connection: redis.Redis) -> Queue:
    """The deliveries queue on a Redis connection."""
    return Queue(delivery_queue_name(), connection=connection)


def enqueue_delivery(family_slug: str, delivery_id: uuid.UUID) -> Job:
    """Queue `deliver(family_slug, delivery_id)` with exponential backoff retries (call after the commit)."""
    connection = get_redis()
    if connection is None:
        raise redis.ConnectionError("REDIS_URL is set but the app has no Redis client")
    intervals = SendSettings.from_config(current_app.config).retry_intervals
    return delivery_queue(connection).enqueue(
        deliver, family_slug, str(delivery_id), retry=Retry(max=len(intervals), interval=list(intervals)),
        job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, ttl=QUEUED_TTL,
        description=f"deliver {delivery_id} for {family_slug}")


def deliver(family_slug: str, delivery_id: str) -> str:
    """The RQ job: enter the family, send, record; raise to be retried, or mark the delivery dead at the last try."""
    job = get_current_job()
    last_chance = job is None or not job.retries_left
    with worker_app().app_context():
        status = run_delivery(family_slug, uuid.UUID(delivery_id), last_chance=last_chance)
    if status == "retrying":
        raise DeliveryFailed(f"delivery {delivery_id} failed; retrying with backoff")
    return status


def run_delivery(family_slug: str, delivery_id: uuid.UUID, *, last_chance: bool) -> str:
    """One attempt at one delivery inside its family, committed; the resulting status."""
    settings = SendSettings.from_config(current_app.config)
    try:
        with family_context(family_slug) as ctx:
            attempt = attempt_delivery(ctx.session, delivery_id, family_slug=family_slug, settings=settings,
                                       now=utcnow(), last_chance=last_chance)
            ctx.session.commit()
    except FamilyNotFound:
        return "missing"
    return attempt.status


def worker_app() -> Flask:
    """The app the job runs in: the current one (CLI worker, tests), else one built from the environment."""
    global _worker_app
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001 - Werkzeug's documented unwrap of a proxy typed as Flask
        return app
    if _worker_app is None:
        from app import create_app
        from config import config_from_env

        _worker_app = create_app(config_from_env())
    return _worker_app


def reclaim_abandoned_jobs(connection: redis.Redis, queue: Queue) -> int:
    """Retry the jobs of workers on this host that died mid-job (SIGKILL, OOM, a crashed container restarted).

    RQ itself notices them only when their heartbeat expires and a worker's maintenance runs (minutes). Retrying at
    once is safe because a delivery is idempotent: the job locks its row and skips one already delivered, and the
    receiver sees the same `X-HousePoints-Delivery` id on every attempt.
    """
    host, reclaimed = socket.gethostname(), 0
    for worker in Worker.all(connection=connection, queue=queue):
        if worker.hostname != host or worker.pid is None or worker.pid == os.getpid() or _alive(worker.pid):
            continue
        job = worker.get_current_job()
        if job is not None and job.origin == queue.name:
            queue.started_job_registry.remove_executions(job)
            # Now, not after a retry interval: a scheduled retry would wait for the dead worker's scheduler lock to
            # expire. The lost attempt uses no retry, as its delivery row recorded no attempt either.
            queue.enqueue_job(job, at_front=True)
            reclaimed += 1
            log.warning("retrying job %s of dead worker %s (pid %s)", job.id, worker.name, worker.pid)
        worker.register_death()  # type: ignore[no-untyped-call]  # RQ leaves it unannotated
    return reclaimed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
