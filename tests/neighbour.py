"""The neighbour family: a family with rows in every family table, kept beside each family under test."""
from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.achievements.models import MemberBadge
from app.allowance.inputs import ConversionInput, PaymentInput
from app.allowance.models import AllowanceSchedule
from app.allowance.services import record_allowance, record_payout
from app.assignments.models import Assignment, AssignmentStatus
from app.assignments.services import FamilyRules, load_family_rules, materialise_day
from app.auth.models import LoginFailure
from app.auth.services import register_device, start_session
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from app.db.bases import FamilyBase, utcnow
from app.events import forget
from app.members.models import FamilySetting, Member
from app.notifications.models import (CalendarFeed, Channel, Delivery, DeliveryStatus, Notification,
                                      NotificationPreference, Webhook)
from app.points.models import LedgerKind, PointPreset
from app.points.services import post_entry
from app.presence.models import PresenceException, PresencePattern
from app.rewards.models import Redemption, RedemptionStatus, Reward, SavingsGoal
from app.security import hash_secret
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord

# The fixtures' own secrets (tests/members/conftest.py): a lookup that leaks across families would let the
# neighbour's "pat" or "kim" sign in with the password or PIN the test typed.
PARENT_PASSWORD = "correct horse battery"
KID_PIN = "4321"
# Usernames the suites use for their own members, so a lookup by username that leaks finds two.
PARENTS = (("pat", "Pat Neighbour"), ("mum", "Mum Neighbour"), ("dad", "Dad Neighbour"))
KIDS = (("maya", "Maya Neighbour"), ("leo", "Leo Neighbour"), ("kim", "Kim Neighbour"), ("ava", "Ava Neighbour"))
# Activity on the real day the suite runs and on the fixed days the tests pin their clocks to.
FIXED_MOMENTS = (datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc), datetime(2025, 10, 7, 15, 0, tzinfo=timezone.utc))
EXTENSION_KEY = "tests.neighbour"
_SEEDED: list[Flask] = []  # apps whose neighbour is alive, checked after every test module


@dataclass
class Neighbour:
    """The neighbour family of one app, and a fingerprint of its rows to prove no test wrote into them."""

    record: FamilyRecord
    fingerprint: dict[str, str] = field(default_factory=dict)


@functools.cache
def _hashes() -> tuple[str, str]:
    # argon2 is slow on purpose: hash once per process, not per seeded app.
    return hash_secret(PARENT_PASSWORD), hash_secret(KID_PIN)


def neighbour_of(flask_app: Flask, make_family: Callable[..., FamilyRecord]) -> Neighbour:
    """The app's neighbour family, provisioned and seeded on first use (once per app)."""
    existing: Neighbour | None = flask_app.extensions.get(EXTENSION_KEY)
    if existing is not None:
        return existing
    # Suspended: not "live", so whole-platform jobs (tick, reconcile) leave its rows alone and any change to them
    # is a test writing into another family. It sits in the pooled database like every family the tests make.
    record = make_family(f"neighbour-{uuid.uuid4().hex[:8]}", name="The Neighbours", plan="premium",
                         status="suspended", timezone="UTC")
    with flask_app.app_context(), family_context(record.slug) as ctx:
        seed_family(ctx.session, record)
        _no_side_effects(ctx.session)
        ctx.session.commit()
    neighbour = Neighbour(record=record)
    neighbour.fingerprint = fingerprint(flask_app, record)
    flask_app.extensions[EXTENSION_KEY] = neighbour
    _SEEDED.append(flask_app)
    return neighbour


def seeded_apps() -> list[Flask]:
    """The apps (not yet disposed) that have a neighbour family."""
    return list(_SEEDED)


def forget_neighbour(flask_app: Flask) -> None:
    """The app is being disposed: stop checking its neighbour."""
    if flask_app in _SEEDED:
        _SEEDED.remove(flask_app)


def _no_side_effects(s: Session) -> None:
    """Drop the domain events the services recorded: the seed's badges, bells and deliveries are rows to leak,
    not reactions to run (nor webhooks to call)."""
    forget(s)


def seed_family(s: Session, family: FamilyRecord) -> None:
    """Fill the session's family with rows in every family table (services where they keep totals honest)."""
    password_hash, pin_hash = _hashes()
    now = utcnow().replace(microsecond=0)
    moments = sorted({*FIXED_MOMENTS, now})  # oldest first: the ledger's weekly totals only move forward

    _settings(s)
    rules = load_family_rules(s, family.timezone)
    parents = [Member(username=u, display_name=d, role="parent", password_hash=password_hash,
                      email=f"{u}@neighbour.example.invalid", color="#aa0000") for u, d in PARENTS]
    kids = [Member(username=u, display_name=d, role="child", pin_hash=pin_hash, birthdate=date(2016, 5, 1 + i),
                   daily_goal=3) for i, (u, d) in enumerate(KIDS)]
    retired = Member(username="gone", display_name="Gone Neighbour", role="child", is_active=False)
    s.add_all([*parents, *kids, retired])
    s.flush()
    chores = _chores(s, kids)
    for moment in moments:
        _day_of_work(s, rules, moment, parents, kids, chores)
    _points(s, rules, moments, parents, kids)
    _store(s, rules, moments, parents, kids)
    _money(s, rules, moments[-1], parents, kids)
    _messages(s, moments, parents, kids)
    _people(s, moments[-1], parents, kids)
    s.flush()


def _settings(s: Session) -> None:
    # Values unlike the defaults every new family gets, so a settings read that leaks shows a wrong value.
    changed = {"week_start": "sunday", "auto_approve": True, "currency": "EUR", "points_per_currency_unit": 10,
               "digest_hour": 7, "reminder_lead_minutes": 90}
    for setting in s.scalars(select(FamilySetting)):
        if setting.key in changed:
            setting.value = changed.pop(setting.key)
    for key, value in changed.items():
        s.add(FamilySetting(key=key, value=value))
    s.add(FamilySetting(key="onboarding", value={"step": "done", "completed": True}, is_private=True))
    s.add(FamilySetting(key="notification_defaults", value={"chore_waiting": {"email": False}}, is_private=True))
    s.flush()


def _chores(s: Session, kids: list[Member]) -> list[Chore]:
    start = date(2025, 1, 1)
    specs: list[tuple[str, str, dict[str, Any]]] = [
        ("Dishes", "fixed", {"kind": "daily"}),
        ("Make beds", "each", {"kind": "daily"}),
        ("Walk the dog", "round_robin", {"kind": "daily"}),
        ("Wash the car", "open", {"kind": "weekly", "weekdays": list(range(7))}),
        ("Feed the fish", "fair_share", {"kind": "interval", "interval": 1, "interval_unit": "days"}),
    ]
    chores = []
    for position, (name, strategy, schedule) in enumerate(specs):
        chore = Chore(name=name, assignment_type=strategy, base_points=5 + position, category="neighbourly",
                      due_time=time(18, 0), open_bonus_points=3 if strategy == "open" else 0,
                      requires_verification=position % 2 == 0, tags=["neighbour"])
        chore.schedule = ChoreSchedule(start_date=start, **schedule)
        chore.assignees = [ChoreAssignee(member_id=kid.id, position=i) for i, kid in enumerate(kids)]
        chores.append(chore)
    archived = Chore(name="Old chore", active=False, base_points=1)
    archived.schedule = ChoreSchedule(kind="daily", start_date=start)
    s.add_all([*chores, archived])
    s.flush()
    return chores


def _day_of_work(s: Session, rules: FamilyRules, moment: datetime, parents: list[Member], kids: list[Member],
                 chores: list[Chore]) -> None:
    """The day before, of and after `moment` materialised, plus one assignment in every status on the day."""
    today = rules.clock.today(moment)
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        materialise_day(s, rules, day, moment)
    for i, status in enumerate(AssignmentStatus):
        kid = kids[i % len(kids)]
        chore = chores[i % len(chores)]
        done = status in ("pending_verification", "verified")
        s.add(Assignment(
            chore_id=chore.id, assigned_to=None if status == "open" else kid.id, assigned_by=parents[0].id,
            due_date=today, due_at=rules.clock.at(today, time(17, 0)), status=status, points_offered=7,
            points_earned=7 if status == "verified" else 0, claimed_at=moment if status != "open" else None,
            completed_at=moment if done else None, completed_by=kid.id if done else None,
            completion_notes="neighbour notes" if done else None,
            verified_at=moment if status == "verified" else None,
            verified_by=parents[1].id if status == "verified" else None,
            missed_at=moment if status == "missed" else None,
            skipped_by=parents[2].id if status == "skipped" else None))
    s.flush()


def _points(s: Session, rules: FamilyRules, moments: list[datetime], parents: list[Member],
            kids: list[Member]) -> None:
    """Ledger rows of every kind (through post_entry, so cached balances equal the ledger)."""
    signs = {"chore": 12, "bonus": 20, "deduction": -3, "penalty": -2, "redemption": -5, "refund": 5,
             "conversion": -4, "adjustment": 6, "achievement": 15}
    assert set(signs) == set(LedgerKind), "a new ledger kind needs a neighbour row"
    for moment in moments:
        for i, kid in enumerate(kids):
            post_entry(s, kid.id, amount=300 + 10 * i, kind="bonus", description="Neighbour start", clock=rules.clock,
                       now=moment, actor_id=parents[0].id)
            for kind, amount in signs.items():
                post_entry(s, kid.id, amount=amount, kind=kind, description=f"Neighbour {kind}", clock=rules.clock,
                           now=moment, actor_id=parents[i % len(parents)].id)
    s.add_all([PointPreset(kind="bonus", label="Neighbourly help", amount=4, position=0),
               PointPreset(kind="deduction", label="Too loud", amount=2, position=1)])
    s.flush()


def _store(s: Session, rules: FamilyRules, moments: list[datetime], parents: list[Member],
           kids: list[Member]) -> None:
    """Rewards, a redemption in every status (points held, rejected ones refunded), savings goals."""
    treat = Reward(name="Ice cream", cost=50, icon="🍦", category="treat")
    screen = Reward(name="Screen time", cost=30, stock=5, max_per_week=2, max_per_month=6, category="privilege")
    weekend = Reward(name="Weekend trip", cost=500, availability="weekdays", available_weekdays=[5, 6])
    retired = Reward(name="Old reward", cost=10, active=False)
    s.add_all([treat, screen, weekend, retired])
    s.flush()
    for moment in moments:
        for i, status in enumerate(RedemptionStatus):
            kid, reward = kids[i % len(kids)], (treat, screen)[i % 2]
            redemption = Redemption(reward_id=reward.id, member_id=kid.id, points_spent=reward.cost, status=status,
                                    requested_at=moment, created_at=moment, updated_at=moment)
            if status != "pending":
                redemption.decided_at, redemption.decided_by = moment, parents[0].id
            if status == "rejected":
                redemption.rejection_reason = "Not today"
            if status == "fulfilled":
                redemption.fulfilled_at = moment
            s.add(redemption)
            s.flush()
            post_entry(s, kid.id, amount=-reward.cost, kind="redemption", description=f"Redeemed {reward.name}",
                       clock=rules.clock, now=moment, actor_id=kid.id, reference_id=redemption.id)
            if status == "rejected":
                post_entry(s, kid.id, amount=reward.cost, kind="refund", description=f"Refund {reward.name}",
                           clock=rules.clock, now=moment, actor_id=parents[0].id, reference_id=redemption.id)
    s.add_all([SavingsGoal(member_id=kids[0].id, reward_id=weekend.id),
               SavingsGoal(member_id=kids[1].id, reward_id=treat.id)])
    s.flush()


def _money(s: Session, rules: FamilyRules, now: datetime, parents: list[Member], kids: list[Member]) -> None:
    """Allowance schedules and payouts of both kinds (a conversion posts its ledger row)."""
    s.add_all([AllowanceSchedule(member_id=kids[0].id, mode="fixed_amount", payday=now.weekday(), amount_cents=500),
               AllowanceSchedule(member_id=kids[1].id, mode="convert_week", payday=(now.weekday() + 1) % 7)])
    s.flush()
    for kid in kids[:2]:
        record_payout(s, parents[0], kid, ConversionInput(points=40, method="cash", note="Neighbour conversion"), rules,
                      now)
        record_allowance(s, parents[1], kid, PaymentInput(amount_cents=250, method="bank", note="Neighbour allowance"),
                         rules, now)


def _messages(s: Session, moments: list[datetime], parents: list[Member], kids: list[Member]) -> None:
    """Badges, notifications (read and unread), preferences, a webhook, deliveries in every status, feeds."""
    for kid in kids[:3]:
        s.add_all([MemberBadge(member_id=kid.id, badge="first_chore", awarded_at=moments[0], bonus_points=5),
                   MemberBadge(member_id=kid.id, badge="streak_3", awarded_at=moments[-1])])
    for moment in moments:
        for member in [*parents, *kids]:
            s.add(Notification(member_id=member.id, event="chore_waiting", title="Neighbour chore waiting",
                               body="Someone next door", link="/chores", created_at=moment))
            s.add(Notification(member_id=member.id, event="points_bonus", title="Neighbour bonus",
                               created_at=moment, read_at=moment))
    for member in [parents[0], kids[0]]:
        for channel in Channel:
            s.add(NotificationPreference(member_id=member.id, event="chore_waiting", channel=channel,
                                         enabled=channel != "email"))
    hook = Webhook(url="https://neighbour.example.invalid/hook", secret="neighbour-secret", events=[],
                   created_by=parents[0].id)
    s.add(hook)
    s.flush()
    later = moments[-1] + timedelta(days=3650)  # never due: nobody ticks the neighbour, and nothing should send
    for status in DeliveryStatus:
        s.add(Delivery(channel="webhook", event="chore_waiting", webhook_id=hook.id, status=status,
                       payload={"data": {"neighbour": True}}, attempts=1, next_attempt_at=later,
                       created_at=moments[-1]))
        s.add(Delivery(channel="email", event="daily_digest", recipient=parents[0].email, subject="Neighbour digest",
                       status=status, attempts=0, next_attempt_at=later, created_at=moments[-1]))
    for member in [parents[0], kids[0]]:
        s.add(CalendarFeed(member_id=member.id, token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest()))
    s.add(CalendarFeed(member_id=kids[1].id, token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
                       revoked_at=moments[-1]))
    s.flush()


def _people(s: Session, now: datetime, parents: list[Member], kids: list[Member]) -> None:
    """Presence rules, a tablet (and a revoked one), sessions, login failures."""
    for kid in kids[:2]:
        s.add(PresencePattern(member_id=kid.id, kind="alternate_weeks", weekdays=[0, 1, 2],
                              anchor_date=date(2026, 3, 2), present=False, transition_time=time(17, 0),
                              label="At the other house"))
        s.add(PresenceException(member_id=kid.id, start_date=date(2026, 3, 1), end_date=date(2026, 3, 14),
                                present=False, note="Neighbour holiday"))
    tablet, _ = register_device(s, parents[0], name="Neighbour tablet", now=now)
    old, _ = register_device(s, parents[1], name="Old neighbour tablet", now=now)
    old.revoked_at = now
    start_session(s, parents[0], now=now, remember=True, user_agent="neighbour browser", ip_address="192.0.2.1")
    start_session(s, kids[0], now=now, device=tablet)
    ended = start_session(s, parents[1], now=now - timedelta(days=40))
    ended.record.revoked_at = now - timedelta(days=39)
    for member, kind in [(parents[0], "password"), (parents[2], "password"), (kids[2], "pin")]:
        s.add_all([LoginFailure(member_id=member.id, kind=kind, failed_at=now - timedelta(minutes=m))
                   for m in (1, 2)])
    s.flush()


def row_counts(flask_app: Flask, record: FamilyRecord) -> dict[str, int]:
    """How many rows of `record`'s family each family table holds (filtered explicitly, never by the rig)."""
    with flask_app.app_context(), family_context(record.slug) as ctx:
        return {table.name: ctx.session.scalar(select(func.count()).select_from(table)
                                               .where(table.c.family_id == record.id)) or 0
                for table in FamilyBase.metadata.sorted_tables}


def fingerprint(flask_app: Flask, record: FamilyRecord) -> dict[str, str]:
    """A digest of every row of the family, per table: any write into the neighbour changes it."""
    digests: dict[str, str] = {}
    with flask_app.app_context(), family_context(record.slug) as ctx:
        for table in FamilyBase.metadata.sorted_tables:
            rows = ctx.session.execute(select(table).where(table.c.family_id == record.id)
                                       .order_by(table.c.id)).all()
            digests[table.name] = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
    return digests


def changed_tables(flask_app: Flask) -> list[str]:
    """Tables whose neighbour rows differ from when they were seeded (empty when the app has no neighbour)."""
    neighbour: Neighbour | None = flask_app.extensions.get(EXTENSION_KEY)
    if neighbour is None:
        return []
    now = fingerprint(flask_app, neighbour.record)
    return sorted(name for name, digest in now.items() if neighbour.fingerprint.get(name) != digest)


def reseal(flask_app: Flask) -> None:
    """Take the neighbour's current rows as its seal (after a change was reported, so it is reported once)."""
    neighbour: Neighbour = flask_app.extensions[EXTENSION_KEY]
    neighbour.fingerprint = fingerprint(flask_app, neighbour.record)
