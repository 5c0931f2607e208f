"""The tick: for every live family, materialise today and tomorrow, mark overdue chores missed, pay allowances,
and queue reminders and digests — RQ jobs of up to BATCH_SIZE families per minute at fleet scale, or inline
without Redis. A family with nothing due costs one query beside its transaction (`TickProbe`)."""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import redis
from flask import current_app
from rq import Queue
from sqlalchemy import Date, Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from app.allowance.models import AllowanceSchedule
from app.allowance.services import pay_due_allowances
from app.assignments.models import Assignment, MaterialisedDay
from app.assignments.services import mark_missed, materialise_day, remember_materialised
from app.family_rules import RULE_KEYS, family_rules_from
from app.members.models import FamilySetting, Member
from app.metrics import TICK_FAMILY_SECONDS, TICK_QUEUE_SECONDS
from app.db.bases import UTCDateTime
from app.family_time import FamilyClock
from app.notifications.delivery import requeue_stalled_deliveries, stalled_deliveries, stalled_instants
from app.notifications.models import Delivery
from app.notifications.scheduled import queue_daily_digests, queue_reminders
from app.notifications.services import SETTING_DEFAULTS, notification_settings_from
from app.redis_store import platform_key
from app.tenancy.registry import FamilyRecord

log = logging.getLogger("rq.worker")  # the worker's own log: one line per batch beside RQ's "Job OK"

BATCH_SIZE = 100  # families per RQ job: ~100 jobs a minute for 10,000 families instead of 10,000
JOB_TIMEOUT = 50  # one batch's share of the minute; far less in practice
QUEUED_TTL = 60  # a job not started within its minute is dropped: the next minute's job does its work
FAILURE_TTL = 24 * 3600
SETTING_KEYS = (*RULE_KEYS, *SETTING_DEFAULTS)


@dataclass(frozen=True)
class TickResult:
    created: int
    missed: int
    paid: int = 0


@dataclass(frozen=True)
class TickProbe:
    """What the tick must do for one family, asked in one query: settings, and whether each step has work."""

    settings: dict[str, Any]
    materialised: frozenset[date]
    overdue: bool  # open/pending chores past due: overdue nudges and marking missed
    next_due: datetime | None  # the next pending chore with a due time (reminders are sent `lead` before it)
    digest_sent_today: bool
    parent_with_email: bool
    allowance_due: bool
    stalled_deliveries: bool


@functools.cache
def _probe_statement() -> Select[Any]:
    """The probe, built once per process: only its parameters change (see `probe_family`)."""
    now = bindparam("now", type_=UTCDateTime())
    days = (bindparam("day0", type_=Date()), bindparam("day1", type_=Date()))
    settings = [select(FamilySetting.value).where(FamilySetting.key == key).scalar_subquery().label(key)
                for key in SETTING_KEYS]
    flags = [
        *(select(MaterialisedDay.id).where(MaterialisedDay.day == day).exists().label(f"day{i}")
          for i, day in enumerate(days)),
        select(Assignment.id).where(Assignment.status.in_(("open", "pending")), Assignment.due_at <= now).exists()
        .label("overdue"),
        # A chore without a due time is due at the end of its day: no reminder for those (see `queue_reminders`).
        select(func.min(Assignment.due_at)).where(
            Assignment.status == "pending", Assignment.assigned_to.is_not(None), Assignment.due_at > now,
            Assignment.due_at.not_in([bindparam("end0", type_=UTCDateTime()), bindparam("end1", type_=UTCDateTime())]))
        .scalar_subquery().label("next_due"),
        select(Delivery.id).where(Delivery.event == "daily_digest",
                                  Delivery.created_at >= bindparam("midnight", type_=UTCDateTime())).exists()
        .label("digest"),
        select(Member.id).where(Member.role == "parent", Member.is_active.is_(True), Member.email.is_not(None))
        .exists().label("parent_email"),
        select(AllowanceSchedule.id).where(AllowanceSchedule.active.is_(True),
                                           AllowanceSchedule.payday == bindparam("weekday"),
                                           or_(AllowanceSchedule.last_paid_on.is_(None),
                                               AllowanceSchedule.last_paid_on < days[0])).exists().label("allowance"),
        select(Delivery.id).where(stalled_deliveries(bindparam("retry_due", type_=UTCDateTime()),
                                                     bindparam("never_sent", type_=UTCDateTime()))).exists()
        .label("stalled"),
    ]
    return select(*settings, *flags)


def probe_family(session: Session, *, rules_zone: str, now: datetime, queued_by_worker: bool) -> TickProbe:
    """One SELECT of scalar subqueries (each scoped to the family like any other statement)."""
    clock = FamilyClock(rules_zone)
    today = clock.today(now)
    days = (today, today + timedelta(days=1))
    retry_due, never_sent = stalled_instants(now, queued_by_worker=queued_by_worker)
    row = session.execute(_probe_statement(), {
        "now": now, "day0": days[0], "day1": days[1], "end0": clock.at(days[0], None), "end1": clock.at(days[1], None),
        "midnight": clock.day_bounds(today)[0], "weekday": today.weekday(), "retry_due": retry_due,
        "never_sent": never_sent}).mappings().one()
    return TickProbe(settings={key: row[key] for key in SETTING_KEYS if row[key] is not None},
                     materialised=frozenset(day for i, day in enumerate(days) if row[f"day{i}"]),
                     overdue=row["overdue"], next_due=row["next_due"], digest_sent_today=row["digest"],
                     parent_with_email=row["parent_email"], allowance_due=row["allowance"],
                     stalled_deliveries=row["stalled"])


def tick_family(session: Session, *, timezone: str, now: datetime, queued_by_worker: bool = False) -> TickResult:
    """One family's share of the tick (idempotent; the caller commits). Steps with nothing to do cost no query."""
    probe = probe_family(session, rules_zone=timezone, now=now, queued_by_worker=queued_by_worker)
    rules = family_rules_from(session, probe.settings, timezone)
    notify = notification_settings_from(probe.settings)
    today = rules.clock.today(now)
    remember_materialised(session.info["family_id"], probe.materialised)
    created = sum(materialise_day(session, rules, day, now) for day in (today, today + timedelta(days=1))
                  if day not in probe.materialised)
    # Days just made may hold chores already due (a late first tick): then every step looks, as before the probe.
    everything = created > 0
    lead = timedelta(minutes=notify["reminder_lead_minutes"])
    # Reminders first: a chore that just became overdue gets its nudge in the same tick that may mark it missed.
    if everything or probe.overdue or (lead and probe.next_due is not None and probe.next_due <= now + lead):
        queue_reminders(session, rules, now, notify)
    missed = mark_missed(session, rules, now) if everything or probe.overdue else 0
    if probe.parent_with_email and not probe.digest_sent_today \
            and rules.clock.local(now).hour >= notify["digest_hour"]:
        queue_daily_digests(session, rules, now, notify)
    paid = len(pay_due_allowances(session, rules, now)) if probe.allowance_due else 0
    if probe.stalled_deliveries:
        # Deliveries whose job was lost (or, without Redis, whose inline send failed) go out again.
        requeue_stalled_deliveries(session, now, queued_by_worker=queued_by_worker)
    return TickResult(created=created, missed=missed, paid=paid)


def run_family_tick(slug: str, now: datetime, record: FamilyRecord | None = None) -> TickResult:
    """Tick one family in its own context and transaction, then tell its open pages (inline and in the RQ job)."""
    from app.live.events import publish_event
    from app.tenancy.context import family_context

    started = time.perf_counter()
    with family_context(slug, record) as ctx:
        result = tick_family(ctx.session, timezone=ctx.family.timezone, now=now,
                             queued_by_worker=bool(current_app.config.get("REDIS_URL")))
        ctx.session.commit()
        if result.created or result.missed or result.paid:
            publish_event(ctx.family.id, "assignmentChanged", {"source": "tick"})
        if result.missed or result.paid:
            publish_event(ctx.family.id, "pointsChanged", {"source": "tick"})
    TICK_FAMILY_SECONDS.observe(time.perf_counter() - started)
    return result


def tickable(record: FamilyRecord | None) -> bool:
    """Live, and not being moved (a moving family is read-only: the next tick catches up)."""
    return record is not None and not record.is_deleted and record.status in ("active", "trial") \
        and not record.moving


def tick_families(slugs: list[str], now: datetime) -> tuple[TickResult, int, list[str]]:
    """Tick a batch of families one after another, each in its own context and transaction.

    The families are read from the platform database in one query; one family's failure (its database down…)
    is logged and the rest go on. Returns the summed result, how many families were ticked and the slugs that failed.
    """
    from app.tenancy.registry import FamilyRegistry

    registry: FamilyRegistry = current_app.extensions["housepoints.registry"]
    records = registry.load_many(slugs)
    created = missed = paid = ticked = 0
    failed: list[str] = []
    for slug in slugs:
        record = records.get(slug)
        if not tickable(record):
            continue  # deleted, suspended or moving since it was queued
        try:
            result = run_family_tick(slug, now, record)
        except Exception:  # noqa: BLE001 - one broken family must not stop the rest of its batch
            current_app.logger.exception("tick failed for family %s", slug)
            failed.append(slug)
            continue
        created, missed, paid = created + result.created, missed + result.missed, paid + result.paid
        ticked += 1
    return TickResult(created=created, missed=missed, paid=paid), ticked, failed


class TickBatchFailed(RuntimeError):
    """Some families of a batch failed (the others committed); the job is kept on the failed list to be seen."""


def tick_queue_name() -> str:
    """The "tick" queue, inside this deployment's Redis key prefix."""
    return platform_key("tick")


def tick_queue(connection: redis.Redis) -> Queue:
    """The tick queue on a Redis connection."""
    return Queue(tick_queue_name(), connection=connection)


def tick_job_id(slugs: list[str], minute: datetime) -> str:
    """One job per batch and minute: the same id however many times that minute is enqueued."""
    return f"tick-{minute:%Y%m%dT%H%M}-{slugs[0]}" + (f"_{slugs[-1]}" if len(slugs) > 1 else "")  # RQ: no dots


def tick_batch_job(slugs: list[str], now_iso: str) -> str:
    """The RQ job: a batch of families' ticks for the minute it was queued in.

    A worker that dies mid-batch loses nothing: each family committed on its own, and every step is idempotent,
    so the families it did not reach are ticked by the next minute's job (or by this job, reclaimed).
    """
    from app.notifications.worker import worker_app

    started, cpu = time.perf_counter(), time.process_time()
    with worker_app().app_context():
        result, ticked, failed = tick_families(slugs, datetime.fromisoformat(now_iso))
    summary = (f"{ticked} families ticked, {result.created} created, {result.missed} missed, "
               f"{result.paid} paid")
    log.info("tick batch %s..%s: %s, %d failed, %.0f ms (CPU %.0f ms)", slugs[0], slugs[-1], summary, len(failed),
             (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000)
    if failed:
        raise TickBatchFailed(f"tick failed for {len(failed)} families: {', '.join(failed)} ({summary})")
    return summary


def tick_job(slug: str, now_iso: str) -> str:
    """A one-family job as queued before batches existed (jobs still queued across an upgrade run as before)."""
    return tick_batch_job([slug], now_iso)


def enqueue_ticks(connection: redis.Redis, slugs: list[str], now: datetime, batch_size: int = BATCH_SIZE) -> int:
    """Queue this minute's jobs, `batch_size` families each, in one pipeline; returns how many jobs were queued."""
    started = time.perf_counter()
    queue = tick_queue(connection)
    batches = [slugs[start:start + batch_size] for start in range(0, len(slugs), batch_size)]
    jobs = [Queue.prepare_data(tick_batch_job, args=(batch, now.isoformat()), job_id=tick_job_id(batch, now),
                               timeout=JOB_TIMEOUT, ttl=QUEUED_TTL, result_ttl=0, failure_ttl=FAILURE_TTL,
                               description=f"tick {len(batch)} families {batch[0]}..{batch[-1]}")
            for batch in batches]
    with connection.pipeline() as pipe:
        queued = len(queue.enqueue_many(jobs, pipeline=pipe))
        pipe.execute()
    TICK_QUEUE_SECONDS.observe(time.perf_counter() - started)
    return queued
