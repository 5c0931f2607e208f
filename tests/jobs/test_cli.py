"""`flask jobs tick` and `flask points reconcile`, run the way cron runs them, against PostgreSQL and Redis."""
from __future__ import annotations

import os
import subprocess
import time as stopwatch
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text

from app.assignments.models import Assignment
from app.assignments.inputs import AssignmentInput
from app.assignments.services import create_assignment, load_family_rules, materialise_day
from app.db.bases import utcnow
from app.db.scoping import UnscopedReason, unscoped
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.inputs import PointsAward
from app.points.models import LedgerEntry
from app.points.services import give_points
from app.redis_store import get_redis, platform_key
from app.tenancy.databases import database_owner, drop_database
from tests.assignments.conftest import make_chore, make_parent
from tests.conftest import set_family_status

ROOT = Path(__file__).resolve().parents[2]
ZONE = "America/New_York"


def _today(zone: str = ZONE) -> date:
    return FamilyClock(zone).today(utcnow())


def _tick(runner, slug: str):  # noqa: ANN001, ANN202
    return runner.invoke(args=["jobs", "tick", "--family", slug])


def _lock_value(app: Flask) -> bytes | None:
    with app.app_context():
        return get_redis().get(platform_key("tick-lock"))


@pytest.fixture
def home(make_family, in_family):  # noqa: ANN001, ANN201
    """A New York family with two kids, a chore each every day and one open chore; returns the family."""
    family = make_family(timezone=ZONE)
    with in_family(family) as ctx:
        s = ctx.session
        kids = [Member(username=n, display_name=n.title(), role="child") for n in ("ava", "ben")]
        s.add_all(kids)
        s.flush()
        make_chore(s, name="Beds", strategy="each", assignees=kids)
        make_chore(s, name="Trash", strategy="open")
        s.commit()
    return family


def test_tick_creates_today_and_tomorrow_once(app, runner, in_family, home) -> None:  # noqa: ANN001
    first = _tick(runner, home.slug)
    assert first.exit_code == 0, first.output
    assert "tick: 1 families, 6 assignments created, 0 marked missed" in first.output
    again = _tick(runner, home.slug)
    assert again.exit_code == 0 and "tick: 1 families, 0 assignments created, 0 marked missed" in again.output
    with in_family(home) as ctx:
        days = Counter(ctx.session.scalars(select(Assignment.due_date)))
    assert days == {_today(): 3, _today() + timedelta(days=1): 3}
    assert _lock_value(app) is None, "the lock is released when the tick ends"


def test_tick_marks_overdue_chores_missed_with_one_penalty(app, runner, in_family, home) -> None:  # noqa: ANN001
    with in_family(home) as ctx:
        s = ctx.session
        parent = make_parent(s)
        ava = s.scalar(select(Member).where(Member.username == "ava"))
        chore = make_chore(s, name="Homework", penalty_points=4,
                           schedule={"kind": "once", "start_date": date(2026, 1, 1)})
        rules = load_family_rules(s, home.timezone)
        yesterday = (_today() - timedelta(days=1)).isoformat()
        overdue = create_assignment(s, actor=parent, rules=rules, now=utcnow(),
                                    data=AssignmentInput(chore_id=chore.id, assigned_to=ava.id, due_date=yesterday))
        s.commit()
    first = _tick(runner, home.slug)
    assert first.exit_code == 0 and "1 marked missed" in first.output, first.output
    second = _tick(runner, home.slug)
    assert second.exit_code == 0 and "0 marked missed" in second.output, second.output
    with in_family(home) as ctx:
        s = ctx.session
        assert s.get(Assignment, overdue.id).status == "missed"
        penalties = s.execute(select(LedgerEntry.member_id, LedgerEntry.amount, LedgerEntry.kind)).all()
        assert penalties == [(ava.id, -4, "penalty")]
        assert s.get(Member, ava.id).available_points == -4
    reconcile = runner.invoke(args=["points", "reconcile", "--family", home.slug])
    assert reconcile.exit_code == 0, reconcile.output


def test_a_held_lock_makes_a_tick_stand_down(app, runner, in_family, home) -> None:  # noqa: ANN001
    with app.app_context():
        get_redis().set(platform_key("tick-lock"), b"another-pod", ex=30)
    try:
        result = _tick(runner, home.slug)
        assert result.exit_code == 0
        assert result.output.strip() == "another tick is running; nothing to do"
        assert _lock_value(app) == b"another-pod", "a tick never releases a lock it does not hold"
    finally:
        with app.app_context():
            get_redis().delete(platform_key("tick-lock"))
    with in_family(home) as ctx:
        assert ctx.session.scalars(select(Assignment)).all() == []


def _flask_env(app: Flask) -> dict[str, str]:
    """The environment for a real `flask` process on this run's databases and Redis keys."""
    keys = ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL", "DEDICATED_DATABASE_URL_TEMPLATE", "REDIS_URL",
            "REDIS_KEY_PREFIX", "BASE_DOMAIN")
    return {**os.environ, "HOUSEPOINTS_CONFIG": "development", "FLASK_APP": "wsgi:app",
            **{key: str(app.config[key]) for key in keys}}


def test_a_second_tick_stands_down_while_a_real_one_runs(app, runner, in_family, home) -> None:  # noqa: ANN001
    """A real `flask jobs tick` process is held mid-run (its insert waits for our open transaction, which holds
    today's rows); a tick started meanwhile stands down; when we commit, the first finishes without duplicates."""
    with in_family(home) as ctx:
        s = ctx.session
        rules = load_family_rules(s, home.timezone)
        assert materialise_day(s, rules, _today(), utcnow()) == 3  # uncommitted: the unique keys are ours for now
        process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "flask"), "jobs", "tick", "--family", home.slug],
                                   cwd=ROOT, env=_flask_env(app), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        try:
            deadline = stopwatch.monotonic() + 30
            while _lock_value(app) is None and process.poll() is None and stopwatch.monotonic() < deadline:
                stopwatch.sleep(0.05)  # bounded polling: wait for the first tick to hold the lock
            assert _lock_value(app) is not None, process.communicate(timeout=5) if process.poll() is not None else ""
            second = _tick(runner, home.slug)
            assert second.exit_code == 0 and "another tick is running" in second.output
            s.commit()
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 0, err
        assert "tick: 1 families, 3 assignments created, 0 marked missed" in out  # tomorrow's; today's were ours
    with in_family(home) as ctx:
        keys = ctx.session.scalars(select(Assignment.schedule_key)).all()
        assert len(keys) == len(set(keys)) == 6
    assert _lock_value(app) is None


def test_one_broken_family_does_not_stop_the_others(app, runner, make_family, in_family, home,  # noqa: ANN001
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    broken = make_family(placement="dedicated")
    drop_database(broken.database_url, database_owner(app.config))  # its database is gone: every tick fails
    try:
        # Cron ticks every live family; here "every family" is the broken one first, then the healthy one.
        monkeypatch.setattr("app.jobs.cli.live_family_slugs", lambda slug=None: [broken.slug, home.slug])
        result = runner.invoke(args=["jobs", "tick", "--inline"])
        assert result.exit_code == 1
        assert "tick: 2 families, 6 assignments created, 0 marked missed" in result.output
        assert f"FAILED 1 families: {broken.slug}" in result.output
        assert _lock_value(app) is None
    finally:
        # Gone for good: later ticks and `flask families upgrade --all` in this run must not trip over it.
        set_family_status(app, broken, status="cancelled", deleted_at=utcnow())
    with in_family(home) as ctx:
        assert len(ctx.session.scalars(select(Assignment)).all()) == 6


# --- the tick at fleet scale: one RQ job per family and minute ------------------------------------------------------

def _tick_queue(app: Flask):  # noqa: ANN202
    from app.jobs.tick import tick_queue

    with app.app_context():
        return tick_queue(get_redis())


def test_tick_queues_one_job_per_family_and_minute_which_the_worker_runs(app, runner, in_family, home,  # noqa: ANN001
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from rq import SimpleWorker

    monkeypatch.setattr("app.jobs.cli.live_family_slugs", lambda slug=None: [home.slug])
    frozen = utcnow()  # both ticks in one minute, whatever the wall clock does between them
    monkeypatch.setattr("app.jobs.cli.utcnow", lambda: frozen)
    # Only the queueing is under test: the whole platform's purge and analytics steps (other tests' families) stay out.
    monkeypatch.setattr("app.jobs.cli._purge_deleted_families", lambda now: 0)
    monkeypatch.setattr("app.jobs.daily.queue_missing_analytics", lambda connection, today: None)
    queue = _tick_queue(app)
    queue.empty()
    with app.app_context():
        minute_keys = get_redis().keys(platform_key("tick-minute", "*"))
        if minute_keys:
            get_redis().delete(*minute_keys)
    first = runner.invoke(args=["jobs", "tick"])
    assert first.exit_code == 0, first.output
    assert f"tick: 1 families queued in 1 jobs on {queue.name}" in first.output
    assert _lock_value(app) is None, "the lock covers the queueing only, and is released"
    ids = queue.get_job_ids()
    assert len(ids) == 1 and ids[0].startswith("tick-") and ids[0].endswith(f"-{home.slug}")
    again = runner.invoke(args=["jobs", "tick"])
    assert "this minute's ticks are already queued" in again.output
    assert queue.get_job_ids() == ids
    with in_family(home) as ctx:
        assert ctx.session.scalars(select(Assignment)).all() == [], "queued, not run"
    with app.app_context():
        assert SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert queue.count == 0
    with in_family(home) as ctx:
        days = Counter(ctx.session.scalars(select(Assignment.due_date)))
    assert days == {_today(): 3, _today() + timedelta(days=1): 3}


def test_the_same_minute_queued_twice_keeps_one_job_per_family(app, home) -> None:  # noqa: ANN001
    from app.jobs.tick import enqueue_ticks, tick_job_id

    queue = _tick_queue(app)
    queue.empty()
    minute = utcnow().replace(second=0, microsecond=0)
    with app.app_context():
        assert enqueue_ticks(get_redis(), [home.slug], minute) == 1
        assert enqueue_ticks(get_redis(), [home.slug], minute) == 1
    assert set(queue.get_job_ids()) == {tick_job_id([home.slug], minute)}
    queue.empty()


def test_a_second_tick_of_the_day_does_not_walk_the_chores_again(app, runner, in_family, home) -> None:  # noqa: ANN001
    from sqlalchemy import event

    from app.db import engines
    from app.jobs.tick import tick_family

    assert _tick(runner, home.slug).exit_code == 0
    statements: list[str] = []
    with in_family(home) as ctx:
        engine = engines().get(home.database_url)
        listener = lambda *args: statements.append(args[2])  # noqa: E731  # (conn, cursor, statement, …)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            result = tick_family(ctx.session, timezone=home.timezone, now=utcnow())
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        ctx.session.rollback()
    assert result.created == 0
    assert statements, "the listener saw the tick's statements"
    assert not [sql for sql in statements if "\nFROM chores" in sql], statements


def test_an_inline_tick_renews_its_lock_so_it_never_expires_mid_run(app, runner, home,  # noqa: ANN001
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from app.jobs.tick import TickResult

    seen: list[bytes | None] = []

    def slow_family(slug: str, now: object) -> TickResult:
        seen.append(_lock_value(app))
        stopwatch.sleep(0.8)
        return TickResult(created=0, missed=0)

    monkeypatch.setattr("app.jobs.cli.TICK_LOCK_SECONDS", 2)
    monkeypatch.setattr("app.jobs.cli.LOCK_REFRESH_SECONDS", 0)
    monkeypatch.setattr("app.jobs.cli.live_family_slugs", lambda slug=None: ["a", "b", "c", "d"])
    monkeypatch.setattr("app.jobs.tick.run_family_tick", slow_family)
    result = runner.invoke(args=["jobs", "tick", "--inline"])
    assert result.exit_code == 0, result.output
    assert len(seen) == 4 and None not in seen and len(set(seen)) == 1, "one lock, held through 3.2 s of a 2 s lock"
    assert _lock_value(app) is None


# --- flask points reconcile ----------------------------------------------------------------------------------------

def test_reconcile_exits_1_with_mismatch_lines_after_corruption(runner, in_family, home) -> None:  # noqa: ANN001
    with in_family(home) as ctx:
        s = ctx.session
        parent = make_parent(s)
        ava = s.scalar(select(Member).where(Member.username == "ava"))
        give_points(s, actor=parent, member=ava, data=PointsAward(kind="bonus", points=9, reason="Helpful"),
                    clock=FamilyClock(home.timezone), now=utcnow())
        s.commit()
    clean = runner.invoke(args=["points", "reconcile", "--family", home.slug])
    assert clean.exit_code == 0, clean.output
    assert "ok: 1 families, every balance equals its ledger" in clean.output
    with in_family(home) as ctx:
        ctx.session.execute(text("UPDATE members SET available_points = available_points + 5 WHERE username = 'ava'"),
                            execution_options=unscoped(UnscopedReason.WALL_TEST))
        ctx.session.commit()
    broken = runner.invoke(args=["points", "reconcile", "--family", home.slug])
    assert broken.exit_code == 1
    mismatches = [line for line in broken.output.splitlines() if line.startswith("MISMATCH")]
    assert mismatches == [f"MISMATCH {home.slug}/ava available_points: cached 14 != ledger 9"]
    assert "1 mismatch(es)" in broken.output


def test_reconcile_refuses_an_unknown_family(runner) -> None:  # noqa: ANN001
    result = runner.invoke(args=["points", "reconcile", "--family", "no-such-family"])
    assert result.exit_code != 0 and "no live family with slug 'no-such-family'" in result.output

