"""Daily platform analytics: what the job counts, that a rerun replaces a day, that the tick records yesterday
once, and the charts that show them."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
from flask import Flask
from rq import SimpleWorker
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.jobs.daily import daily_queue
from app.redis_store import get_redis, platform_key
from app.db.bases import utcnow
from app.members.models import Member
from app.operator.analytics import compute_daily_analytics
from app.platform.models import PlatformAnalytics
from tests.conftest import FamilyClient
from tests.factories import create_assignment, create_chore
from tests.html import texts
from tests.operator.conftest import compute_analytics

pytestmark = pytest.mark.usefixtures("app")


def metrics(app: Flask, day: date, family_id: object = None) -> dict[str, float]:
    with app.app_context(), Session(platform_engine()) as session:
        rows = session.execute(select(PlatformAnalytics.metric, PlatformAnalytics.value).where(
            PlatformAnalytics.recorded_on == day,
            PlatformAnalytics.family_id.is_(None) if family_id is None else PlatformAnalytics.family_id == family_id))
        return {metric: value for metric, value in rows}


def rows_on(app: Flask, day: date) -> int:
    with app.app_context(), Session(platform_engine()) as session:
        return session.scalar(select(func.count()).select_from(PlatformAnalytics)
                              .where(PlatformAnalytics.recorded_on == day)) or 0


def test_compute_counts_families_signups_active_members_and_chores(app: Flask, runner, family, neighbour,
                                                                   create_member, in_family) -> None:
    today = utcnow().date()
    now = utcnow()
    busy = create_member(display_name="Busy", last_active_at=now)
    create_member(display_name="Idle")
    with in_family(family) as ctx:
        chore = create_chore(ctx.session)
        kid = ctx.session.get(Member, busy.id)
        for _ in range(2):
            create_assignment(ctx.session, chore, kid, today, status="verified", completed_at=now, completed_by=kid.id)
        create_assignment(ctx.session, chore, kid, today)  # not done
        ctx.session.commit()

    compute_analytics(runner, "--day", today.isoformat(), "--family", family.slug, "--family", neighbour.slug,
                      mine=(family.slug, neighbour.slug))

    mine = metrics(app, today, family.id)
    assert mine["members"] == 2 and mine["active_members"] == 1 and mine["chores_completed"] == 2
    assert mine["rows"] > 0 and mine["database_bytes"] > 0
    platform = metrics(app, today)
    assert set(platform) == {"families", "signups", "active_members", "chores_completed"}
    assert platform["signups"] >= 2 and platform["families"] >= 2  # this family, its neighbour (others may be deleted)
    assert platform["chores_completed"] >= 2 and platform["active_members"] >= 1


def test_a_second_run_replaces_the_day(app: Flask, runner, family) -> None:
    today = utcnow().date()
    compute_analytics(runner, "--day", today.isoformat(), "--family", family.slug, mine=(family.slug,))
    first = rows_on(app, today)

    compute_analytics(runner, "--day", today.isoformat(), "--family", family.slug, mine=(family.slug,))

    assert rows_on(app, today) == first > 0


def test_re_measuring_one_family_moves_the_totals_by_its_change_only(app: Flask, runner, family, create_member,
                                                                    in_family) -> None:
    day = date(2002, 2, 2)  # a day of this test's own: no other test's rows
    kid = create_member(display_name="Kid")
    done_at = datetime.combine(day, time(12), tzinfo=timezone.utc)
    with in_family(family) as ctx:
        chore = create_chore(ctx.session)
        create_assignment(ctx.session, chore, ctx.session.get(Member, kid.id), day, status="verified",
                          completed_at=done_at, completed_by=kid.id)
        ctx.session.commit()
    compute_analytics(runner, "--day", day.isoformat(), "--family", family.slug, mine=(family.slug,))
    before = metrics(app, day)
    with in_family(family) as ctx:
        create_assignment(ctx.session, chore, ctx.session.get(Member, kid.id), day, status="verified",
                          completed_at=done_at, completed_by=kid.id)
        ctx.session.commit()

    compute_analytics(runner, "--day", day.isoformat(), "--family", family.slug, mine=(family.slug,))

    assert metrics(app, day, family.id)["chores_completed"] == 2
    assert metrics(app, day)["chores_completed"] == before["chores_completed"] + 1


def test_an_unknown_family_is_named_and_fails_the_command(runner, family) -> None:  # noqa: ANN001
    result = runner.invoke(args=["analytics", "compute", "--day", "2002-02-03", "--family", "no-such-family"])

    assert result.exit_code == 1 and "FAILED 1 families: no-such-family" in result.output


def test_a_platform_row_is_unique_per_metric_and_day(app: Flask) -> None:
    from sqlalchemy.exc import IntegrityError

    day = date(2001, 1, 1)
    with app.app_context(), Session(platform_engine()) as session:
        session.add_all([PlatformAnalytics(metric="families", value=1, recorded_on=day),
                         PlatformAnalytics(metric="families", value=2, recorded_on=day)])
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_the_tick_records_yesterday_once(app: Flask, runner, family, monkeypatch: pytest.MonkeyPatch) -> None:
    yesterday = utcnow().date() - timedelta(days=1)
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        session.execute(delete(PlatformAnalytics).where(PlatformAnalytics.recorded_on == yesterday))
    monkeypatch.setattr("app.jobs.cli.live_family_slugs", lambda slug=None: [family.slug])
    # Measuring only this family: every other test's family would make this one test take minutes in a whole run.
    measure_all = compute_daily_analytics
    monkeypatch.setattr("app.operator.cli.compute_daily_analytics", lambda day: measure_all(day, (family.slug,)))
    with app.app_context():
        queue = daily_queue(get_redis())
        queue.empty()
        get_redis().delete(platform_key("analytics-queued", yesterday.isoformat()))

    first = runner.invoke(args=["jobs", "tick"])
    second = runner.invoke(args=["jobs", "tick"])

    # Measuring every family takes minutes at fleet scale: the tick queues it for a worker, once.
    assert first.exit_code == 0 and f"analytics {yesterday.isoformat()} queued" in first.output, first.output
    assert second.exit_code == 0 and "analytics" not in second.output
    assert queue.get_job_ids() == [f"analytics-{yesterday.isoformat()}"]
    with app.app_context():
        assert SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert set(metrics(app, yesterday)) == {"families", "signups", "active_members", "chores_completed"}
    assert "analytics" not in runner.invoke(args=["jobs", "tick"]).output


def test_the_analytics_page_charts_each_metric(app: Flask, console: FamilyClient) -> None:
    yesterday = utcnow().date() - timedelta(days=1)
    values = {"families": 12345.0, "signups": 678.0, "active_members": 9012.0, "chores_completed": 3456.0}
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        session.execute(delete(PlatformAnalytics).where(PlatformAnalytics.recorded_on == yesterday,
                                                        PlatformAnalytics.family_id.is_(None)))
        session.add_all(PlatformAnalytics(metric=metric, value=value, recorded_on=yesterday)
                        for metric, value in values.items())

    page = console.get("/analytics", query_string={"days": "7"})

    assert page.status_code == 200
    assert len(texts(page, "section.hp-chart svg")) == 4
    cells = " ".join(texts(page, "table.hp-data td"))
    for value in ("12,345", "678", "9,012", "3,456"):
        assert value in cells
    label = f"{yesterday.day} {yesterday.strftime('%b')}"
    assert label in texts(page, "table.hp-data th[scope=row]")


@pytest.mark.parametrize("days", ["8", "0", "-1", "abc", "\u0000", "9" * 50])
def test_a_range_that_is_not_offered_is_refused(console: FamilyClient, days: str) -> None:
    response = console.get("/analytics", query_string={"days": days})

    assert response.status_code == 400


def test_day_bounds_are_utc_days() -> None:
    from app.operator.analytics import day_bounds

    start, end = day_bounds(date(2026, 3, 29))
    assert start == datetime.combine(date(2026, 3, 29), time.min, tzinfo=timezone.utc)
    assert end - start == timedelta(days=1)
