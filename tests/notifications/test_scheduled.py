"""What the tick sends: the daily digest at the family's hour (once a day) and reminders / overdue nudges (once)."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.assignments.services import FamilyRules
from app.family_time import FamilyClock
from app.members.models import FamilySetting, Member
from app.notifications.models import NotificationPreference
from app.notifications.scheduled import queue_daily_digests, queue_reminders
from app.rewards.models import Redemption, Reward
from tests.notifications.conftest import add_webhook, deliveries_of, make_assignment, notifications_of

NEW_YORK = FamilyRules(clock=FamilyClock("America/New_York"))
UTC_RULES = FamilyRules(clock=FamilyClock("UTC"))


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    """A New York wall time in March 2026, as the UTC instant the tick sees."""
    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc)


def test_the_digest_goes_out_from_the_familys_hour_once_a_day(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(4, 17, 59)) == 0  # 18:00 local is the default
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(4, 18, 0)) == 2
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(4, 18, 1)) == 0
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(4, 23, 59)) == 0
        ctx.session.commit()
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(5, 9, 0)) == 0  # the next local day, too early
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(5, 18, 30)) == 2
        ctx.session.commit()
        digests = deliveries_of(ctx.session, event="daily_digest")
    assert sorted(d.recipient for d in digests) == ["dad@example.test", "dad@example.test", "mum@example.test",
                                                    "mum@example.test"]
    assert {d.payload["day"] for d in digests} == {"2026-03-04", "2026-03-05"}


def test_the_digest_hour_is_the_familys_and_parents_may_opt_out(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        ctx.session.query(FamilySetting).filter(FamilySetting.key == "digest_hour").update({"value": 7})
        ctx.session.add(NotificationPreference(member_id=fam.dad.id, event="daily_digest", channel="email",
                                               enabled=False))
        ctx.session.commit()
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(4, 6, 59)) == 0
        assert queue_daily_digests(ctx.session, NEW_YORK, _local(4, 7, 0)) == 1
        ctx.session.commit()
        [digest] = deliveries_of(ctx.session, event="daily_digest")
        assert digest.recipient == "mum@example.test"


def test_the_digest_summarises_the_day_and_reaches_the_inbox(fam, rq_queue, smtp_server) -> None:  # noqa: ANN001
    now = datetime.now(timezone.utc).replace(hour=19, minute=0, second=0, microsecond=0)
    with fam.session() as ctx:
        make_assignment(ctx.session, fam.kid, name="Dishes", status="pending_verification")
        done = make_assignment(ctx.session, fam.teen, name="Bins", status="verified")
        done.completed_at = now - timedelta(hours=3)
        missed = make_assignment(ctx.session, fam.kid, name="Bed", status="missed")
        missed.missed_at = now - timedelta(hours=10)
        old = make_assignment(ctx.session, fam.kid, name="Ancient", status="verified")
        old.completed_at = now - timedelta(days=3)
        reward = Reward(name="Ice cream", cost=50)
        ctx.session.add(reward)
        ctx.session.flush()
        ctx.session.add(Redemption(reward_id=reward.id, member_id=fam.teen.id, points_spent=50, status="pending",
                                   requested_at=now - timedelta(hours=1)))
        ctx.session.commit()
        assert queue_daily_digests(ctx.session, UTC_RULES, now) == 2
        ctx.session.commit()

    rq_queue.work()

    message = smtp_server.last_to("mum@example.test")
    assert message["Subject"].startswith("HousePoints: your family's day")
    text = message.get_content()
    assert "Waiting for your approval (1):" in text and "Maya — Dishes" in text
    assert "Chores done: Sam 1" in text  # the one from three days ago is not in this digest
    assert "Chores missed: Maya 1" in text
    assert "Sam — Ice cream (waiting for you)" in text
    assert f"http://{fam.record.slug}." in text and "/today" in text
    smtp_server.last_to("dad@example.test")


def test_a_reminder_before_the_due_time_and_one_overdue_nudge_each_once(fam) -> None:  # noqa: ANN001
    now = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
    with fam.session() as ctx:
        soon = make_assignment(ctx.session, fam.kid, name="Feed the cat", due_at=now + timedelta(minutes=20),
                               due_time=time(15, 20))
        make_assignment(ctx.session, fam.kid, name="Later", due_at=now + timedelta(hours=2))
        late = make_assignment(ctx.session, fam.teen, name="Trash", due_at=now - timedelta(minutes=5))
        make_assignment(ctx.session, fam.kid, name="Whenever", due_at=UTC_RULES.clock.at(now.date(), None) - timedelta(
            days=1))  # an end-of-day chore from yesterday: no nudge at midnight
        done = make_assignment(ctx.session, fam.teen, name="Done already", due_at=now + timedelta(minutes=10))
        done.status = "pending_verification"
        ctx.session.commit()

        assert queue_reminders(ctx.session, UTC_RULES, now) == 2
        ctx.session.commit()
        assert queue_reminders(ctx.session, UTC_RULES, now + timedelta(minutes=1)) == 0  # at most once
        ctx.session.commit()

        [reminder] = notifications_of(ctx.session, fam.kid, "chore_reminder")
        assert (reminder.title, reminder.body, reminder.link) == ("Due soon: Feed the cat", "Due at 15:20.", "/me")
        assert reminder.data["assignment_id"] == str(soon.id)
        [nudge] = notifications_of(ctx.session, fam.teen, "chore_overdue")
        assert nudge.title == "Overdue: Trash" and nudge.data["assignment_id"] == str(late.id)
        assert notifications_of(ctx.session, fam.kid, "chore_overdue") == []


def test_a_lead_time_of_zero_turns_reminders_off(fam) -> None:  # noqa: ANN001
    now = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
    with fam.session() as ctx:
        ctx.session.query(FamilySetting).filter(FamilySetting.key == "reminder_lead_minutes").update({"value": 0})
        make_assignment(ctx.session, fam.kid, due_at=now + timedelta(minutes=5))
        ctx.session.commit()
        assert queue_reminders(ctx.session, UTC_RULES, now) == 0
        ctx.session.commit()
        assert notifications_of(ctx.session, fam.kid) == []


@pytest.mark.parametrize("runs", [1, 3])
def test_reminder_emails_and_webhooks_are_once_too(fam, rq_queue, receiver, runs: int) -> None:  # noqa: ANN001
    now = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
    with fam.session() as ctx:
        add_webhook(ctx.session, receiver.url, events=["chore_reminder"])
        ctx.session.add_all([
            NotificationPreference(member_id=fam.teen.id, event="chore_reminder", channel="email", enabled=True),
            NotificationPreference(member_id=fam.teen.id, event="chore_reminder", channel="in_app", enabled=False),
        ])
        make_assignment(ctx.session, fam.teen, due_at=now + timedelta(minutes=10))
        ctx.session.commit()
        for _ in range(runs):
            queue_reminders(ctx.session, UTC_RULES, now)
            ctx.session.commit()
        assert notifications_of(ctx.session, fam.teen) == []  # the bell is off for Sam
        assert sorted(d.channel for d in deliveries_of(ctx.session, event="chore_reminder")) == ["email", "webhook"]


def test_inactive_kids_get_nothing(fam) -> None:  # noqa: ANN001
    now = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)
    with fam.session() as ctx:
        make_assignment(ctx.session, fam.kid, due_at=now + timedelta(minutes=10))
        ctx.session.get(Member, fam.kid.id).is_active = False
        ctx.session.commit()
        assert queue_reminders(ctx.session, UTC_RULES, now) == 0


def test_the_ticks_probe_skips_nothing_the_steps_would_send(fam) -> None:  # noqa: ANN001
    """`tick_family` asks first (one query) and runs only the steps with work; each send still happens, once."""
    from app.jobs.tick import probe_family, tick_family

    now = datetime(2026, 3, 4, 18, 0, tzinfo=timezone.utc)  # a UTC family at the default digest hour
    with fam.session() as ctx:
        s = ctx.session
        soon = make_assignment(s, fam.kid, name="Feed the cat", due_at=now + timedelta(minutes=20),
                               due_time=time(18, 20))
        late = make_assignment(s, fam.teen, name="Trash", due_at=now - timedelta(minutes=5), due_time=time(17, 55))
        s.commit()
        before = probe_family(s, rules_zone="UTC", now=now, queued_by_worker=True)
        assert before.overdue and before.next_due == soon.due_at and not before.digest_sent_today
        s.rollback()
        tick_family(s, timezone="UTC", now=now, queued_by_worker=True)
        s.commit()
        [reminder] = notifications_of(s, fam.kid, "chore_reminder")
        assert reminder.data["assignment_id"] == str(soon.id)
        [nudge] = notifications_of(s, fam.teen, "chore_overdue")
        assert nudge.data["assignment_id"] == str(late.id)
        assert s.get(type(late), late.id).status == "missed"
        assert len(deliveries_of(s, event="daily_digest")) == 2
        after = probe_family(s, rules_zone="UTC", now=now + timedelta(minutes=1), queued_by_worker=True)
        assert not after.overdue and after.digest_sent_today
        s.rollback()
        tick_family(s, timezone="UTC", now=now + timedelta(minutes=1), queued_by_worker=True)
        s.commit()
        assert len(notifications_of(s, fam.kid, "chore_reminder")) == 1
        assert len(notifications_of(s, fam.teen, "chore_overdue")) == 1
        assert len(deliveries_of(s, event="daily_digest")) == 2
