"""Seeding for the isolation matrix: two families with a row in every family table, their credentials and secrets."""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from app.achievements.models import MemberBadge
from app.allowance.models import AllowanceSchedule, Payout
from app.assignments.models import Assignment, MaterialisedDay
from app.auth import DEVICE_COOKIE
from app.auth.models import LoginFailure, TabletDevice
from app.auth.services import register_device, start_session
from app.auth.tokens import issue_api_token
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from app.db import platform_engine
from app.db.bases import FamilyBase, utcnow
from app.family_time import FamilyClock
from app.members.models import FamilySetting, Member
from app.notifications.models import Delivery, Notification, NotificationPreference, Webhook
from app.platform.models import FamilyMembership, User
from app.platform.services import create_invitation, issue_handoff
from app.points.models import PointPreset
from app.points.services import post_entry
from app.presence.models import PresenceException, PresencePattern
from app.reports.ical import create_feed
from app.rewards.models import Redemption, Reward, SavingsGoal
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient, family_factory, host_client

PARENT_PASSWORD = "correct horse battery"
KID_PIN = "2468"
# Verification reads its cost from the hash, so cheap hashes keep sign-ins fast and are still real argon2id.
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PARENT_HASH = _CHEAP.hash(PARENT_PASSWORD)
PIN_HASH = _CHEAP.hash(KID_PIN)

# Columns a request may legitimately touch on rows it only reads (bookkeeping, not data).
VOLATILE_COLUMNS = {"last_seen_at", "last_active_at", "updated_at"}


@dataclass
class SeededFamily:
    """One family of the matrix: its record, the ids of a row in each family table, and its secret URL tokens."""

    record: FamilyRecord
    marker: str
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    calendar_token: str = ""
    invite_token: str = ""
    device_token: str = ""
    parent_session: str = ""
    kid_tablet_session: str = ""
    parent_jwt: str = ""
    kid_jwt: str = ""
    handoff_token: str = ""
    user_id: uuid.UUID | None = None

    @property
    def host(self) -> str:
        return self.record.slug

    def secrets(self) -> set[str]:
        """Every string of this family that must never show up in a response another family provoked."""
        values = {str(value) for value in self.ids.values()} | set(self.names)
        values |= {self.calendar_token, self.invite_token, self.device_token, self.parent_session,
                   self.kid_tablet_session, self.handoff_token, str(self.user_id or ""), str(self.record.id),
                   self.record.name, self.record.slug}
        return {value for value in values if value}

    def private_secrets(self) -> set[str]:
        """Its secrets minus what its own host shows anyone (the family's name and id on its sign-in page)."""
        return self.secrets() - {self.record.name, str(self.record.id), self.record.slug}


def seed_family(flask_app: Flask, marker: str) -> SeededFamily:
    """Provision a family and put one row (or more) in every family table, with names that carry `marker`."""
    record = family_factory(flask_app)(name=f"{marker} Household")
    seeded = SeededFamily(record=record, marker=marker)
    now = utcnow()
    today = now.date()
    clock = FamilyClock(record.timezone)

    def name(what: str) -> str:
        text = f"{marker}{what}"
        seeded.names.append(text)
        return text

    with flask_app.app_context(), family_context(record.slug) as ctx:
        s: Session = ctx.session
        parent = Member(username=name("parent").lower(), display_name=name("Parent"), role="parent",
                        password_hash=PARENT_HASH, email=f"{marker.lower()}parent@example.test")
        kid = Member(username=name("kid").lower(), display_name=name("Kid"), role="child", pin_hash=PIN_HASH,
                     password_hash=PARENT_HASH, birthdate=date(2015, 1, 1))
        s.add_all([parent, kid])
        s.flush()
        chore = Chore(name=name("Dishes"), description=name("ChoreNotes"), assignment_type="fixed",
                      base_points=10, requires_verification=True)
        chore.schedule = ChoreSchedule(kind="daily", start_date=date(2026, 1, 1))
        chore.assignees = [ChoreAssignee(member_id=kid.id, position=0)]
        s.add(chore)
        s.flush()
        due = datetime.combine(today, time(23, 0), tzinfo=timezone.utc)
        assignment = Assignment(chore_id=chore.id, assigned_to=kid.id, due_date=today, due_at=due,
                                status="pending", points_offered=10, completion_notes=name("Done it"))
        waiting = Assignment(chore_id=chore.id, assigned_to=kid.id, due_date=today - timedelta(days=1),
                             due_at=due - timedelta(days=1), status="pending_verification", points_offered=10,
                             completed_at=now, completed_by=kid.id)
        s.add_all([assignment, waiting])
        s.add(MaterialisedDay(day=today - timedelta(days=30), created_at=now))
        entry = post_entry(s, kid.id, amount=500, kind="bonus", description=name("Bonus"), clock=clock, now=now,
                           actor_id=parent.id)
        reward = Reward(name=name("IceCream"), description=name("RewardNotes"), cost=50, requires_approval=True)
        s.add(reward)
        s.flush()
        redemption = Redemption(reward_id=reward.id, member_id=kid.id, points_spent=50, status="pending",
                                notes=name("Please"))
        goal = SavingsGoal(member_id=kid.id, reward_id=reward.id)
        notification = Notification(member_id=parent.id, event="chore_completed", title=name("Note"),
                                    body=name("NoteBody"), data={})
        preference = NotificationPreference(member_id=parent.id, event="chore_completed", channel="email",
                                            enabled=True)
        webhook = Webhook(url=f"http://127.0.0.1:9/{name('hook')}", secret=name("HookSecret") * 2, events=[],
                          active=True, created_by=parent.id)
        s.add_all([redemption, goal, notification, preference, webhook])
        s.flush()
        delivery = Delivery(channel="webhook", event="chore_completed", webhook_id=webhook.id,
                            recipient=webhook.url, payload={"title": name("Payload")}, status="dead",
                            attempts=5, last_error=name("Boom"))
        pattern = PresencePattern(member_id=kid.id, kind="weekly", weekdays=[0, 1, 2, 3, 4, 5, 6],
                                  anchor_date=date(2026, 1, 5), present=True, label=name("Pattern"))
        exception = PresenceException(member_id=kid.id, start_date=today + timedelta(days=60),
                                      end_date=today + timedelta(days=61), present=False, note=name("Away"))
        preset = PointPreset(kind="bonus", label=name("Preset"), amount=5)
        schedule = AllowanceSchedule(member_id=kid.id, mode="fixed_amount", payday=5, amount_cents=250)
        payout = Payout(member_id=kid.id, kind="allowance", points=0, amount_cents=100, currency="USD",
                        note=name("Payout"), paid_by=parent.id, paid_on=today - timedelta(days=7))
        badge = MemberBadge(member_id=kid.id, badge="first_chore", awarded_at=now)
        setting = FamilySetting(key=f"{marker.lower()}_custom", value=name("SettingValue"), is_private=True)
        failure = LoginFailure(member_id=kid.id, kind="password", failed_at=now - timedelta(days=2))
        s.add_all([delivery, pattern, exception, preset, schedule, payout, badge, setting, failure])
        s.flush()
        device, seeded.device_token = register_device(s, parent, name=name("Tablet"), now=now)
        seeded.calendar_token = create_feed(s, kid, now)
        seeded.parent_session = start_session(s, parent, now=now).token
        seeded.kid_tablet_session = start_session(s, kid, now=now, device=device).token
        s.commit()
        seeded.ids.update(parent=parent.id, kid=kid.id, chore=chore.id, assignment=assignment.id,
                          waiting=waiting.id, ledger=entry.id, reward=reward.id, redemption=redemption.id,
                          goal=goal.id, notification=notification.id, webhook=webhook.id, delivery=delivery.id,
                          pattern=pattern.id, exception=exception.id, preset=preset.id, schedule=schedule.id,
                          payout=payout.id, badge=badge.id, setting=setting.id, device=device.id)
        with Session(platform_engine()) as platform:
            # The parent has a platform account too (apex sign-in, the family picker, "switch family").
            user = User(email=f"{marker.lower()}parent@example.test", display_name=name("Account"),
                        password_hash=PARENT_HASH, email_verified_at=now)
            platform.add(user)
            platform.flush()
            platform.add(FamilyMembership(user_id=user.id, family_id=record.id, role="owner", member_id=parent.id))
            seeded.user_id = user.id
            seeded.handoff_token = issue_handoff(flask_app.config["SECRET_KEY"], user_id=user.id,
                                                 family_id=record.id)
            _, seeded.invite_token = create_invitation(platform, flask_app.config["SECRET_KEY"],
                                                       family_id=record.id, inviter=parent,
                                                       email=f"{marker.lower()}coparent@example.test", now=now)
            platform.commit()
        s.execute(update(Member).where(Member.id == parent.id).values(user_id=seeded.user_id))
        s.commit()
        for member, attr in ((parent, "parent_jwt"), (kid, "kid_jwt")):
            setattr(seeded, attr, issue_api_token(member, record.id, secret=flask_app.config["JWT_SECRET"],
                                                  issuer=flask_app.config["JWT_ISSUER"],
                                                  lifetime=timedelta(hours=2), now=now))
    return seeded


# --- what a family's rows look like (to prove a request changed nothing) -----------------------------------------

def family_rows(flask_app: Flask, family: FamilyRecord) -> dict[str, set[str]]:
    """Every row of every family table visible in the family (serialised, bookkeeping columns left out)."""
    rows: dict[str, set[str]] = {}
    with flask_app.app_context(), family_context(family.slug) as ctx:
        for mapper in FamilyBase.registry.mappers:
            model = mapper.class_
            columns = [c.key for c in inspect(model).column_attrs if c.key not in VOLATILE_COLUMNS]
            found = set()
            for row in ctx.session.execute(select(*[getattr(model, c) for c in columns])):
                found.add(json.dumps(dict(zip(columns, row, strict=True)), default=str, sort_keys=True))
            rows[model.__tablename__] = found
        ctx.session.rollback()
    return rows


def row_changes(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    """Rows added or removed per table between two snapshots (empty when nothing changed)."""
    changes = {}
    for table in sorted(before.keys() | after.keys()):
        added, removed = after.get(table, set()) - before.get(table, set()), before.get(table, set()) - after.get(
            table, set())
        if added or removed:
            changes[table] = {"added": sorted(added)[:3], "removed": sorted(removed)[:3]}
    return changes


# --- credentials: cookies and headers one family's browser or app holds -----------------------------------------

@dataclass(frozen=True)
class Credential:
    """What a browser or app of one family presents: cookie values, headers, and a CSRF token for its session."""

    name: str
    cookies: dict[str, str]
    headers: dict[str, str]
    csrf: str = ""


def cookie_credential(flask_app: Flask, name: str, family: SeededFamily | None, session_values: dict[str, Any],
                      *, device_token: str | None = None) -> Credential:
    """A cookie session made on `family`'s host (the apex for None), as its browser would hold it, with a CSRF token."""
    client = host_client(flask_app, family.record if family else None)
    raw = hashlib.sha1(os.urandom(64)).hexdigest()
    with client.session_transaction() as cookie_session:
        cookie_session.update(session_values)
        cookie_session["csrf_token"] = raw
    cookie = client.get_cookie("session", domain=client.host.split(":")[0])
    assert cookie is not None
    cookies = {"session": cookie.value}
    if device_token:
        cookies[DEVICE_COOKIE] = device_token
    csrf = URLSafeTimedSerializer(flask_app.secret_key, salt="wtf-csrf-token").dumps(raw)
    return Credential(name=name, cookies=cookies, headers={}, csrf=csrf)


def member_session(family: SeededFamily, token: str) -> dict[str, Any]:
    """The cookie-session values of a signed-in member (what app.auth.sign_in stores)."""
    return {"family_id": str(family.record.id), "_user_id": token, "_fresh": True}


def bearer(flask_app: Flask, name: str, family: SeededFamily, token: str) -> Credential:
    """An API token, with an anonymous cookie session (and its CSRF token) made on the family's host."""
    browser_session = cookie_credential(flask_app, name, family, {})
    return Credential(name=name, cookies=browser_session.cookies, headers={"Authorization": f"Bearer {token}"},
                      csrf=browser_session.csrf)


def fresh_session(flask_app: Flask, family: SeededFamily, who: str, *, on_tablet: bool = False) -> str:
    """A new server-side session for the family's parent or kid (a request may sign out the one it uses)."""
    with flask_app.app_context(), family_context(family.record.slug) as ctx:
        device = ctx.session.get(TabletDevice, family.ids["device"]) if on_tablet else None
        token = start_session(ctx.session, ctx.session.get(Member, family.ids[who]), now=utcnow(),
                              device=device).token
        ctx.session.commit()
    return token


def fresh_api_token(flask_app: Flask, family: SeededFamily, who: str) -> str:
    """A new API token for the family's parent or kid, at the member's current token version (a request may have
    revoked the earlier ones: "sign out everywhere")."""
    with flask_app.app_context(), family_context(family.record.slug) as ctx:
        member = ctx.session.get(Member, family.ids[who])
        return issue_api_token(member, family.record.id, secret=flask_app.config["JWT_SECRET"],
                               issuer=flask_app.config["JWT_ISSUER"], lifetime=timedelta(hours=2), now=utcnow())


def client_with(flask_app: Flask, host: FamilyRecord | None, credential: Credential, address: str) -> FamilyClient:
    """A fresh client on `host` (the apex for None) whose jar holds the credential's cookies for that host."""
    client = host_client(flask_app, host)
    client.environ_base["REMOTE_ADDR"] = address
    for name, value in credential.cookies.items():
        client.set_cookie(name, value, domain=client.host.split(":")[0])
    return client
