"""`flask jobs tick` (cron / k8s CronJob, every minute) and `flask points reconcile`."""
from __future__ import annotations

import sys
import uuid
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.family_rules import load_family_rules
from app.db import platform_engine
from app.db.bases import utcnow
from app.platform.models import Family
from app.points.services import reconcile_balances
from app.redis_store import get_redis, platform_key
from app.tenancy.context import family_context

RELEASE_LOCK_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
TICK_LOCK_SECONDS = 55  # under a minute: the next cron run can take over if this one died


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
@click.option("--family", "slug", default=None, help="Only this family.")
@with_appcontext
def tick_command(slug: str | None) -> None:
    """Materialise today and tomorrow and mark missed chores, for every family (safe to run concurrently)."""
    from app.jobs.tick import tick_family
    from app.live.events import publish_event
    from app.notifications.delivery import requeue_stalled_deliveries

    redis = get_redis()
    token = uuid.uuid4().hex
    lock_key = platform_key("tick-lock")
    # With several pods the lock lets one run at a time; without Redis the unique keys still prevent duplicates.
    if redis is not None and not redis.set(lock_key, token, nx=True, ex=TICK_LOCK_SECONDS):
        click.echo("another tick is running; nothing to do")
        return
    try:
        now = utcnow()
        slugs = live_family_slugs(slug)
        created = missed = paid = 0
        failed: list[str] = []
        with click.progressbar(slugs, label=f"Ticking {len(slugs)} families", file=sys.stderr) as bar:
            for family_slug in bar:
                try:
                    with family_context(family_slug) as ctx:
                        result = tick_family(ctx.session, timezone=ctx.family.timezone, now=now)
                        # Deliveries whose job was lost (or, without Redis, whose inline send failed) go out again.
                        requeue_stalled_deliveries(ctx.session, now,
                                                   queued_by_worker=bool(current_app.config.get("REDIS_URL")))
                        ctx.session.commit()
                        if result.created or result.missed or result.paid:
                            publish_event(ctx.family.id, "assignmentChanged", {"source": "tick"})
                        if result.missed or result.paid:
                            publish_event(ctx.family.id, "pointsChanged", {"source": "tick"})
                except Exception:  # noqa: BLE001 - one broken family (its database down…) must not stop the rest
                    current_app.logger.exception("tick failed for family %s", family_slug)
                    failed.append(family_slug)
                    continue
                created += result.created
                missed += result.missed
                paid += result.paid
        purged = _purge_deleted_families(now)
        click.echo(f"tick: {len(slugs)} families, {created} assignments created, {missed} marked missed, "
                   f"{paid} allowances paid, {purged} deleted families purged")
        if slug is None:  # once a day, the first tick after midnight UTC records yesterday's platform analytics
            from app.operator.cli import record_missing_analytics

            analytics = record_missing_analytics(now.date())
            if analytics:
                click.echo(analytics)
        if failed:
            click.echo(f"FAILED {len(failed)} families: {', '.join(failed)}")
            sys.exit(1)
    finally:
        if redis is not None:
            # Compare-and-delete in one step: never release a lock another tick took after ours expired.
            redis.eval(RELEASE_LOCK_SCRIPT, 1, lock_key, token)


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
