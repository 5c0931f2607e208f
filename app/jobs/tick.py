"""The tick: for every live family, materialise today and tomorrow, mark overdue chores missed, pay allowances,
and queue reminders and digests — one RQ job per family and minute at fleet scale, or inline without Redis."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from flask import current_app
from rq import Queue
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.allowance.services import pay_due_allowances
from app.assignments.models import MaterialisedDay
from app.assignments.services import known_materialised, mark_missed, materialise_day, remember_materialised
from app.family_rules import load_family_rules
from app.metrics import TICK_FAMILY_SECONDS, TICK_QUEUE_SECONDS
from app.notifications.scheduled import queue_daily_digests, queue_reminders
from app.redis_store import platform_key

JOB_TIMEOUT = 50  # one family's share; far less in practice
QUEUED_TTL = 60  # a family's job not started within its minute is dropped: the next minute's job does its work
FAILURE_TTL = 24 * 3600


@dataclass(frozen=True)
class TickResult:
    created: int
    missed: int
    paid: int = 0


def tick_family(session: Session, *, timezone: str, now: datetime) -> TickResult:
    """One family's share of the tick (idempotent; the caller commits)."""
    rules = load_family_rules(session, timezone)
    today = rules.clock.today(now)
    days = (today, today + timedelta(days=1))
    # Only days not materialised yet: after the first tick of a day this is one query, not a walk over the chores.
    family_id = session.info["family_id"]
    unknown = [day for day in days if not known_materialised(family_id, day)]
    done = set(session.scalars(select(MaterialisedDay.day).where(MaterialisedDay.day.in_(unknown)))) if unknown \
        else set()
    remember_materialised(family_id, done)
    created = sum(materialise_day(session, rules, day, now) for day in unknown if day not in done)
    # Reminders first: a chore that just became overdue gets its nudge in the same tick that may mark it missed.
    queue_reminders(session, rules, now)
    missed = mark_missed(session, rules, now)
    queue_daily_digests(session, rules, now)
    paid = len(pay_due_allowances(session, rules, now))
    return TickResult(created=created, missed=missed, paid=paid)


def run_family_tick(slug: str, now: datetime) -> TickResult:
    """Tick one family in its own context and transaction, then tell its open pages (inline and in the RQ job)."""
    from app.live.events import publish_event
    from app.notifications.delivery import requeue_stalled_deliveries
    from app.tenancy.context import family_context

    started = time.perf_counter()
    with family_context(slug) as ctx:
        result = tick_family(ctx.session, timezone=ctx.family.timezone, now=now)
        # Deliveries whose job was lost (or, without Redis, whose inline send failed) go out again.
        requeue_stalled_deliveries(ctx.session, now, queued_by_worker=bool(current_app.config.get("REDIS_URL")))
        ctx.session.commit()
        if result.created or result.missed or result.paid:
            publish_event(ctx.family.id, "assignmentChanged", {"source": "tick"})
        if result.missed or result.paid:
            publish_event(ctx.family.id, "pointsChanged", {"source": "tick"})
    TICK_FAMILY_SECONDS.observe(time.perf_counter() - started)
    return result


def tick_queue_name() -> str:
    """The "tick" queue, inside this deployment's Redis key prefix."""
    return platform_key("tick")


def tick_queue(connection: redis.Redis) -> Queue:
    """The tick queue on a Redis connection."""
    return Queue(tick_queue_name(), connection=connection)


def tick_job_id(slug: str, minute: datetime) -> str:
    """One job per family and minute: the same id however many times that minute is enqueued."""
    return f"tick-{minute:%Y%m%dT%H%M}-{slug}"


def tick_job(slug: str, now_iso: str) -> str:
    """The RQ job: one family's tick for the minute it was queued in."""
    from app.notifications.worker import worker_app

    with worker_app().app_context():
        result = run_family_tick(slug, datetime.fromisoformat(now_iso))
    return f"{result.created} created, {result.missed} missed, {result.paid} paid"


def enqueue_ticks(connection: redis.Redis, slugs: list[str], now: datetime) -> int:
    """Queue one job per family for this minute (pipelined); returns how many were queued."""
    started = time.perf_counter()
    queue = tick_queue(connection)
    jobs = [Queue.prepare_data(tick_job, args=(slug, now.isoformat()), job_id=tick_job_id(slug, now),
                               timeout=JOB_TIMEOUT, ttl=QUEUED_TTL, result_ttl=0, failure_ttl=FAILURE_TTL,
                               description=f"tick {slug}") for slug in slugs]
    queued = 0
    for start in range(0, len(jobs), 1000):  # bounded pipelines: 10,000 families are ten round trips
        with connection.pipeline() as pipe:
            queued += len(queue.enqueue_many(jobs[start:start + 1000], pipeline=pipe))
            pipe.execute()
    TICK_QUEUE_SECONDS.observe(time.perf_counter() - started)
    return queued

