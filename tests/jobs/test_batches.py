"""The tick's RQ jobs carry a batch of families: each family is ticked inside itself, on its own transaction."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.assignments.models import Assignment
from app.db import engines
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.members.models import Member
from app.redis_store import get_redis
from app.tenancy.databases import database_owner, drop_database
from tests.assignments.conftest import make_chore
from tests.conftest import set_family_status


@pytest.fixture
def household(make_family, in_family):  # noqa: ANN001, ANN201
    """Factory: a family with `kids` kids and one "each" chore for all of them, every day."""
    def make(kids: int, zone: str = "UTC"):  # noqa: ANN202
        family = make_family(timezone=zone)
        with in_family(family) as ctx:
            members = [Member(username=f"kid{n}", display_name=f"Kid {n}", role="child") for n in range(kids)]
            ctx.session.add_all(members)
            ctx.session.flush()
            make_chore(ctx.session, name=f"Chore of {family.slug}", strategy="each", assignees=members)
            ctx.session.commit()
        return family
    return make


def _assignments(in_family, family) -> tuple[Counter[object], set[object], set[object]]:  # noqa: ANN001
    """(assignments per day, the members they went to, this family's members)."""
    with in_family(family) as ctx:
        rows = ctx.session.execute(select(Assignment.due_date, Assignment.assigned_to)).all()
        members = set(ctx.session.scalars(select(Member.id)))
    return Counter(day for day, _ in rows), {who for _, who in rows}, members


def test_a_batch_ticks_each_family_inside_itself_and_skips_one_suspended_since(app, household,  # noqa: ANN001
                                                                               in_family) -> None:
    from app.jobs.tick import tick_batch_job

    one, suspended, two = household(1), household(2), household(3)
    set_family_status(app, suspended, status="suspended")
    now = utcnow()
    with app.app_context():
        summary = tick_batch_job([one.slug, suspended.slug, two.slug], now.isoformat())
    assert summary.startswith("2 families ticked, 8 created")  # (1 + 3 kids) × today and tomorrow
    today = FamilyClock("UTC").today(now)
    for family, kids in ((one, 1), (two, 3)):
        days, assignees, members = _assignments(in_family, family)
        assert days == {today: kids, today + timedelta(days=1): kids}
        assert assignees <= members, "a family's assignments go to its own members only"
    assert _assignments(in_family, suspended)[0] == Counter()


def test_a_broken_family_fails_its_batch_only_after_the_others_committed(app, household, make_family,  # noqa: ANN001
                                                                         in_family) -> None:
    from app.jobs.tick import TickBatchFailed, tick_batch_job

    one, two = household(1), household(2)
    broken = make_family(placement="dedicated")
    drop_database(broken.database_url, database_owner(app.config))  # its database is gone: its tick fails
    try:
        with app.app_context(), pytest.raises(TickBatchFailed, match=broken.slug):
            tick_batch_job([one.slug, broken.slug, two.slug], utcnow().isoformat())
    finally:
        set_family_status(app, broken, status="cancelled", deleted_at=utcnow())
    assert sum(_assignments(in_family, one)[0].values()) == 2
    assert sum(_assignments(in_family, two)[0].values()) == 4


def test_a_worker_killed_mid_batch_loses_nothing(app, household, in_family,  # noqa: ANN001
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The families before the kill committed; the next minute's job ticks the rest, and the done ones again
    at no harm (every step is idempotent)."""
    import app.jobs.tick as tick

    one, two = household(1), household(2)
    real = tick.run_family_tick

    def dies_at_the_second(slug: str, now, record=None):  # noqa: ANN001, ANN202
        if slug == two.slug:
            raise KeyboardInterrupt  # what SIGTERM/SIGKILL does to a job: nothing after this line runs
        return real(slug, now, record)

    now = utcnow()
    monkeypatch.setattr(tick, "run_family_tick", dies_at_the_second)
    with app.app_context(), pytest.raises(KeyboardInterrupt):
        tick.tick_batch_job([one.slug, two.slug], now.isoformat())
    assert sum(_assignments(in_family, one)[0].values()) == 2
    assert sum(_assignments(in_family, two)[0].values()) == 0
    monkeypatch.setattr(tick, "run_family_tick", real)
    with app.app_context():
        assert tick.tick_batch_job([one.slug, two.slug], (now + timedelta(minutes=1)).isoformat()) \
            .startswith("2 families ticked, 4 created")
    assert sum(_assignments(in_family, one)[0].values()) == 2
    assert sum(_assignments(in_family, two)[0].values()) == 4


def test_one_minute_is_queued_in_batches_with_one_id_each(app) -> None:  # noqa: ANN001
    from app.jobs.tick import enqueue_ticks, tick_job_id, tick_queue

    slugs = [f"batch-{n}" for n in range(5)]
    minute = utcnow().replace(second=0, microsecond=0)
    with app.app_context():
        queue = tick_queue(get_redis())
        queue.empty()
        try:
            assert enqueue_ticks(get_redis(), slugs, minute, batch_size=2) == 3
            assert enqueue_ticks(get_redis(), slugs, minute, batch_size=2) == 3
            ids = list(dict.fromkeys(queue.get_job_ids()))  # the same id twice is one job (its hash is shared)
            assert ids == [tick_job_id(slugs[0:2], minute), tick_job_id(slugs[2:4], minute),
                           tick_job_id(slugs[4:], minute)]
            assert ids[0].endswith("-batch-0_batch-1") and ids[2].endswith("-batch-4")
            assert [queue.fetch_job(job_id).args[0] for job_id in ids] == [slugs[0:2], slugs[2:4], slugs[4:]]
        finally:
            queue.empty()


def test_a_family_with_nothing_due_costs_one_query(app, household, in_family) -> None:  # noqa: ANN001
    from app.jobs.tick import tick_family

    family = household(2)
    now = utcnow()
    with in_family(family) as ctx:
        assert tick_family(ctx.session, timezone=family.timezone, now=now).created == 4
        ctx.session.commit()
    statements: list[str] = []
    with in_family(family) as ctx:
        engine = engines().get(family.database_url)
        listener = lambda *args: statements.append(args[2])  # noqa: E731  # (conn, cursor, statement, …)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            result = tick_family(ctx.session, timezone=family.timezone, now=now + timedelta(seconds=1))
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        ctx.session.rollback()
    assert (result.created, result.missed, result.paid) == (0, 0, 0)
    asked = [sql for sql in statements if "set_config('app.family_id'" not in sql]  # the transaction's own start
    assert len(asked) == 1, asked
