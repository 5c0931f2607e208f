"""The delivery worker: `flask jobs worker`, the job's edge cases, and the sweep that re-sends lost deliveries."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask

from app.assignments.services import complete_assignment
from app.members.models import Member
from app.notifications.delivery import requeue_stalled_deliveries
from app.notifications.models import Delivery
from app.notifications.triggers import DASHBOARD, KID_HOME, MEMBERS
from app.jobs.cli import worker_command
from app.notifications.worker import deliver
from app.tenancy.context import family_context
from tests.conftest import family_factory
from tests.notifications.conftest import RULES, add_webhook, deliveries_of, make_assignment

NOW = datetime.now(timezone.utc)


def _queue_one(fam, receiver_url: str) -> Delivery:  # noqa: ANN001
    with fam.session() as ctx:
        add_webhook(ctx.session, receiver_url)
        assignment = make_assignment(ctx.session, fam.kid)
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        ctx.session.commit()
        [delivery] = deliveries_of(ctx.session, channel="webhook")
        return delivery


def test_the_worker_command_sends_what_is_queued(runner, fam, rq_queue, receiver) -> None:  # noqa: ANN001
    delivery = _queue_one(fam, receiver.url)
    result = runner.invoke(worker_command, ["--burst"])
    assert result.exit_code == 0, result.output
    assert "worker on queues" in result.output and ":platform:deliveries" in result.output
    assert len(receiver.requests) == 1
    with fam.session() as ctx:
        assert ctx.session.get(Delivery, delivery.id).status == "delivered"


def test_the_worker_needs_redis(app: Flask, runner) -> None:  # noqa: ANN001
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    try:
        result = runner.invoke(worker_command, ["--burst"])
    finally:
        app.config["REDIS_URL"] = previous
    assert result.exit_code != 0 and "sent inline" in result.output


def test_the_job_does_nothing_twice_and_survives_missing_rows(app: Flask, fam, rq_queue, receiver) -> None:  # noqa: ANN001
    delivery = _queue_one(fam, receiver.url)
    rq_queue.work()
    with app.app_context():
        assert deliver(fam.record.slug, str(delivery.id)) == "delivered"  # already sent: not again
        assert deliver(fam.record.slug, str(uuid.uuid4())) == "missing"
        assert deliver("no-such-family", str(delivery.id)) == "missing"
    assert len(receiver.requests) == 1


def test_the_job_marks_the_delivery_dead_on_its_last_chance(app: Flask, fam, rq_queue, receiver) -> None:  # noqa: ANN001
    receiver.default = 503
    delivery = _queue_one(fam, receiver.url)
    rq_queue.clear()  # run the job function directly: outside RQ it is always the last chance
    with app.app_context():
        assert deliver(fam.record.slug, str(delivery.id)) == "dead"
    with fam.session() as ctx:
        dead = ctx.session.get(Delivery, delivery.id)
        assert (dead.status, dead.attempts, dead.response_code) == ("dead", 1, 503)


@pytest.mark.parametrize(("queued_by_worker", "age", "found"), [
    (True, timedelta(minutes=30), 0),  # its RQ job may still be waiting
    (True, timedelta(hours=2), 1),  # an hour past due: the job was lost
    (False, timedelta(minutes=5), 1),  # inline: due is due
])
def test_the_sweep_resends_stalled_deliveries(fam, rq_queue, receiver, queued_by_worker: bool,
                                              age: timedelta, found: int) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        webhook = add_webhook(ctx.session, receiver.url)
        ctx.session.add(Delivery(channel="webhook", event="chore_waiting", webhook_id=webhook.id,
                                 recipient=receiver.url, status="retrying", attempts=2,
                                 payload={"data": {}}, created_at=NOW - age - timedelta(minutes=1),
                                 next_attempt_at=NOW - age))
        ctx.session.commit()
        rq_queue.clear()  # the row was just written (and so dispatched): start from a lost job
        assert requeue_stalled_deliveries(ctx.session, NOW, queued_by_worker=queued_by_worker) == found
        ctx.session.commit()
    assert len(rq_queue.job_ids) == found
    rq_queue.work()
    assert len(receiver.requests) == found


def test_notification_links_lead_to_real_pages(app: Flask, fam) -> None:  # noqa: ANN001
    adapter = app.url_map.bind(app.config["BASE_DOMAIN"], subdomain=fam.record.slug)
    assert adapter.match(DASHBOARD)[0] == "dashboard.index"
    assert adapter.match(KID_HOME)[0] == "tablet.kid_home"
    assert adapter.match(MEMBERS)[0] == "members.index"


@pytest.mark.sqlite
def test_the_embedded_default_sends_inline_on_sqlite(sqlite_app: Flask, receiver) -> None:  # noqa: ANN001
    family = family_factory(sqlite_app)()
    with sqlite_app.app_context(), family_context(family.slug) as ctx:
        kid = Member(username="maya", display_name="Maya", role="child")
        ctx.session.add(kid)
        add_webhook(ctx.session, receiver.url, events=["chore_waiting"])
        assignment = make_assignment(ctx.session, kid)
        ctx.session.commit()
        complete_assignment(ctx.session, actor=kid, assignment_id=assignment.id, rules=RULES, now=NOW)
        ctx.session.commit()  # no Redis: sent right here, after the commit
        assert len(receiver.requests) == 1
        [delivery] = deliveries_of(ctx.session, channel="webhook")
        ctx.session.refresh(delivery)
        assert (delivery.status, delivery.attempts) == ("delivered", 1)
