"""Email deliveries: queued with the change, sent by the worker to a real SMTP server, retried when it is down."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

from flask import Flask
from sqlalchemy import select

from app.assignments.services import complete_assignment
from app.members.models import FamilySetting, Member
from app.notifications.models import Delivery, NotificationPreference
from app.points.inputs import PointsAward
from app.points.models import LedgerEntry
from app.points.services import give_points
from tests.notifications.conftest import RULES, deliveries_of, make_assignment, notifications_of

NOW = datetime.now(timezone.utc)


def _opt_in(session, member: Member, event: str) -> None:  # noqa: ANN001
    session.add(NotificationPreference(member_id=member.id, event=event, channel="email", enabled=True))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens here once the probe closes


def test_an_opted_in_parent_gets_the_email_from_the_worker(app: Flask, fam, rq_queue, smtp_server) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        _opt_in(ctx.session, fam.mum, "chore_waiting")
        assignment = make_assignment(ctx.session, fam.kid, name="Dishes")
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        ctx.session.commit()
        [delivery] = deliveries_of(ctx.session, channel="email")
        assert (delivery.recipient, delivery.status, delivery.attempts) == ("mum@example.test", "queued", 0)
    assert smtp_server.messages == []  # nothing is sent by the request itself
    assert len(rq_queue.job_ids) == 1

    rq_queue.work()

    message = smtp_server.last_to("mum@example.test")
    assert message["Subject"] == "Maya finished Dishes"
    text = message.get_content()
    assert "It is waiting for your approval." in text
    assert f"http://{fam.record.slug}.{app.config['BASE_DOMAIN']}/today#assignment-{assignment.id}" in text
    assert not any("dad@example.test" in m["To"] for m in smtp_server.messages)  # dad did not opt in
    with fam.session() as ctx:
        delivered = ctx.session.get(Delivery, delivery.id)
        assert (delivered.status, delivered.attempts, delivered.last_error) == ("delivered", 1, None)
        assert delivered.delivered_at is not None


def test_smtp_down_keeps_the_notification_and_the_points_and_retries(app: Flask, fam, rq_queue,
                                                                     smtp_server) -> None:  # noqa: ANN001
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = _closed_port()
    with fam.session() as ctx:
        _opt_in(ctx.session, fam.teen, "points_bonus")
        ctx.session.commit()
        give_points(ctx.session, actor=ctx.session.get(Member, fam.mum.id), member=ctx.session.get(Member, fam.teen.id),
                    data=PointsAward(kind="bonus", points=7, reason="Walked the dog"), clock=RULES.clock, now=NOW)
        ctx.session.commit()
    started = datetime.now(timezone.utc)

    rq_queue.work()

    with fam.session() as ctx:
        [delivery] = deliveries_of(ctx.session, channel="email")
        assert (delivery.status, delivery.attempts) == ("retrying", 1)
        assert "ConnectionRefusedError" in delivery.last_error
        assert timedelta(seconds=9) < delivery.next_attempt_at - started < timedelta(seconds=15)
        assert len(notifications_of(ctx.session, fam.teen, "points_bonus")) == 1  # the bell still rings
        entry = ctx.session.scalar(select(LedgerEntry).where(LedgerEntry.member_id == fam.teen.id))
        assert entry.amount == 7 and ctx.session.get(Member, fam.teen.id).available_points == 7
    [(_, when)] = rq_queue.scheduled()  # RQ holds the retry for the backoff's first step
    assert timedelta(seconds=9) < when - started < timedelta(seconds=15)
    assert smtp_server.messages == []

    app.config["MAIL_PORT"] = working_port
    assert rq_queue.release_scheduled() == 1
    rq_queue.work()

    assert smtp_server.last_to("sam@example.test")["Subject"] == "Bonus: +7 points"
    with fam.session() as ctx:
        delivered = ctx.session.get(Delivery, delivery.id)
        assert (delivered.status, delivered.attempts, delivered.last_error) == ("delivered", 2, None)


def test_kids_without_email_get_the_bell_only(fam, rq_queue) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        # The family turned bonus emails on for everyone; Maya has no address, Sam does.
        ctx.session.add(FamilySetting(key="notification_defaults", value={"email": {"points_bonus": True}}))
        ctx.session.commit()
        mum = ctx.session.get(Member, fam.mum.id)
        for kid in (fam.kid, fam.teen):
            give_points(ctx.session, actor=mum, member=ctx.session.get(Member, kid.id),
                        data=PointsAward(kind="bonus", points=2, reason="Tidy"), clock=RULES.clock, now=NOW)
        ctx.session.commit()
        assert len(notifications_of(ctx.session, fam.kid, "points_bonus")) == 1
        assert len(notifications_of(ctx.session, fam.teen, "points_bonus")) == 1
        assert [d.recipient for d in deliveries_of(ctx.session, channel="email")] == ["sam@example.test"]


def test_without_redis_the_email_goes_out_right_after_the_commit(fam, rq_queue, inline_delivery,
                                                                 smtp_server) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        _opt_in(ctx.session, fam.dad, "chore_waiting")
        assignment = make_assignment(ctx.session, fam.kid, name="Bins")
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        assert smtp_server.messages == []  # not before the commit
        ctx.session.commit()
        assert smtp_server.last_to("dad@example.test")["Subject"] == "Maya finished Bins"
        [delivery] = deliveries_of(ctx.session, channel="email")
        ctx.session.refresh(delivery)
        assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert rq_queue.job_ids == []


def test_a_rolled_back_change_sends_nothing(fam, inline_delivery, smtp_server) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        _opt_in(ctx.session, fam.dad, "chore_waiting")
        assignment = make_assignment(ctx.session, fam.kid)
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        ctx.session.rollback()
        ctx.session.commit()
        assert ctx.session.scalars(select(Delivery)).all() == []
    assert smtp_server.messages == []
