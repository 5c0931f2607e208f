"""`flask jobs tick` (cron / k8s CronJob, every minute) and `flask points reconcile`."""
from __future__ import annotations

import sys
import time
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
import redis
from redis import Redis
from redis.exceptions import LockError
from redis.lock import Lock
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.family_rules import load_family_rules
from app.db import platform_engine
from app.db.bases import utcnow
from app.platform.models import Family
from app.points.services import reconcile_balances
from app.redis_store import get_redis, platform_key
from app.tenancy.activity import flush_activity
from app.tenancy.context import family_context
from app.jobs.daily import daily_queue
from app.jobs.tick import tick_queue
from app.notifications.worker import delivery_queue, reclaim_abandoned_jobs
from rq import SimpleWorker

TICK_LOCK_SECONDS = 55  # under a minute: the next cron run can take over if this one died
LOCK_REFRESH_SECONDS = 10  # an inline tick over many families renews its lock this often, so it never expires mid-run

def live_family_slugs(slug: str | None = None) -> list[str]:
    """Slugs of families that are not deleted or suspended (or just `slug`)."""
    with Session(platform_engine()) as session:
        # A family being moved is read-only until the move ends: the next tick catches up.
        query = select(Family.slug).where(Family.deleted_at.is_(None), Family.status.in_(("active", "trial")),
                                          Family.moving_since.is_(None))
        if slug:
            query = query.where(Family.slug == slug)
        return list(session.scalars(query.order_by(Family.slug)))


@click.group("jobs")
def jobs_cli() -> None:
    """Scheduled work."""


@jobs_cli.command("tick")
@click.option("--family", "slug", default=None, help="Only this family (in this process).")
@click.option("--inline", is_flag=True, help="Tick every family in this process instead of queueing RQ jobs.")
@with_appcontext
def tick_command(slug: str | None, inline: bool) -> None:
    """Materialise today and tomorrow and mark missed chores, for every family (safe to run concurrently).

    With Redis, this minute's jobs (a batch of families each) go on the tick queue (`flask jobs worker` runs them);
    without Redis, or with --inline or --family, the families are ticked one after another here.
    """
    client = get_redis()
    # redis-py's Lock: token-checked release, and renewed below while an inline run is still going.
    lock = client.lock(platform_key("tick-lock"), timeout=TICK_LOCK_SECONDS, blocking=False) if client else None
    if lock is not None and not lock.acquire(blocking=False):
        click.echo("another tick is running; nothing to do")
        return
    try:
        now = utcnow()
        slugs = live_family_slugs(slug)
        if client is not None and not inline and slug is None:
            _queue_ticks(client, slugs, now)
        else:
            _tick_inline(slugs, now, lock)
        if client is not None:
            # Requests note activity in Redis; once a minute it reaches the platform database in one batch.
            flush_activity(client, platform_key("activity"), platform_engine())
        purged = _purge_deleted_families(now)
        if purged or slug is None:
            click.echo(f"tick: {purged} deleted families purged")
        if slug is None:  # once a day, the first tick after midnight UTC records yesterday's platform analytics
            from app.jobs.daily import queue_missing_analytics
            from app.operator.cli import record_missing_analytics

            # With Redis a worker measures the families (minutes at fleet scale); without, this process does.
            analytics = queue_missing_analytics(client, now.date()) if client is not None and not inline \
                else record_missing_analytics(now.date())
            if analytics:
                click.echo(analytics)
    finally:
        if lock is not None:
            try:
                lock.release()
            except LockError:
                current_app.logger.warning("the tick lock expired before this tick released it")


def _queue_ticks(client: Redis, slugs: list[str], now: datetime) -> None:
    from app.jobs.tick import enqueue_ticks, tick_queue_name

    minute = now.replace(second=0, microsecond=0)
    # Once per minute: a second cron run in the same minute (after the lock was released) queues nothing.
    if not client.set(platform_key("tick-minute", f"{minute:%Y%m%dT%H%M}"), 1, nx=True, ex=120):
        click.echo("this minute's ticks are already queued; nothing to do")
        return
    jobs = enqueue_ticks(client, slugs, minute)
    click.echo(f"tick: {len(slugs)} families queued in {jobs} jobs on {tick_queue_name()} "
               "(`flask jobs worker` runs them)")


def _tick_inline(slugs: list[str], now: datetime, lock: Lock | None) -> None:
    from app.jobs.tick import run_family_tick

    created = missed = paid = 0
    failed: list[str] = []
    renewed = time.monotonic()
    with click.progressbar(slugs, label=f"Ticking {len(slugs)} families", file=sys.stderr) as bar:
        for family_slug in bar:
            if lock is not None and time.monotonic() - renewed > LOCK_REFRESH_SECONDS:
                lock.reacquire()
                renewed = time.monotonic()
            try:
                result = run_family_tick(family_slug, now)
            except Exception:  # noqa: BLE001 - one broken family (its database down…) must not stop the rest
                current_app.logger.exception("tick failed for family %s", family_slug)
                failed.append(family_slug)
                continue
            created += result.created
            missed += result.missed
            paid += result.paid
    click.echo(f"tick: {len(slugs)} families, {created} assignments created, {missed} marked missed, "
               f"{paid} allowances paid")
    if failed:
        click.echo(f"FAILED {len(failed)} families: {', '.join(failed)}")
        sys.exit(1)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queue", "queues", type=click.Choice(["deliveries", "tick", "daily"]), multiple=True,
              help="Only these queues (default: deliveries first, then the tick's family jobs, then daily work).")
@with_appcontext
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """Send queued emails and webhooks (RQ, retried with backoff) and run the tick's per-family jobs."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: deliveries are sent inline after each commit")
    # Its own connection: the app's client has a 2-second socket timeout, too short for the worker's blocking pop.
    connection = redis.Redis.from_url(url)
    chosen = queues or ("deliveries", "tick", "daily")
    by_name = {"deliveries": delivery_queue, "tick": tick_queue, "daily": daily_queue}
    listen = [by_name[name](connection) for name in chosen]
    for queue in listen:
        reclaimed = reclaim_abandoned_jobs(connection, queue)
        if reclaimed:
            click.echo(f"retrying {reclaimed} jobs a dead worker on this host was running on {queue.name}")
    # No fork per job: the tick is ~10,000 small jobs a minute, and a forked work-horse would start each with cold
    # engines, caches and connections. Job timeouts still apply (SIGALRM in this main thread).
    worker = SimpleWorker(listen, connection=connection)
    click.echo(f"worker on queues {', '.join(queue.name for queue in listen)}")
    worker.work(burst=burst, with_scheduler=True)


def _purge_deleted_families(now: datetime) -> int:
    """Deleted families past their grace period are erased by the tick (`flask families purge` does it by hand)."""
    from pathlib import Path

    from app.db import engines
    from app.platform.deletion import purge_families
    from app.tenancy import registry
    from app.tenancy.cli import placement_config

    with Session(platform_engine(), expire_on_commit=False) as session:
        purged = purge_families(session, engines(), placement_config(), now=now,
                                uploads_root=Path(current_app.config["UPLOADS_DIR"]),
                                grace_days=current_app.config["DELETION_GRACE_DAYS"], forget=registry().invalidate)
    return len(purged)


@click.group("points")
def points_cli() -> None:
    """The points ledger."""


@points_cli.command("reconcile")
@click.option("--family", "slug", default=None, help="Only this family.")
@with_appcontext
def reconcile_command(slug: str | None) -> None:
    """Prove every cached balance equals the ledger; exit 1 on any mismatch."""
    now = utcnow()
    slugs = live_family_slugs(slug)
    if slug and not slugs:
        raise click.ClickException(f"no live family with slug {slug!r}")
    problems = 0
    with click.progressbar(slugs, label=f"Reconciling {len(slugs)} families", file=sys.stderr) as bar:
        for family_slug in bar:
            with family_context(family_slug) as ctx:
                rules = load_family_rules(ctx.session, ctx.family.timezone)
                for mismatch in reconcile_balances(ctx.session, rules.clock, now):
                    problems += 1
                    click.echo(f"MISMATCH {family_slug}/{mismatch.username} {mismatch.field}: "
                               f"cached {mismatch.cached} != ledger {mismatch.ledger}")
    if problems:
        click.echo(f"{problems} mismatch(es)")
        current_app.logger.error("points reconcile found %s mismatches", problems)
        sys.exit(1)
    click.echo(f"ok: {len(slugs)} families, every balance equals its ledger")
