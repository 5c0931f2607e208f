"""Who the bell tells, how, and which webhooks listen is kept per family by settings version: never stale.

A kid's tap that waits for a parent tells the parents without reading who they are, their choices, the family's
defaults or the webhooks again (tests/test_query_budgets.py counts it). Each test here taps once (the routing is
then cached), changes the routing the way the app does (services, committed in the family), and taps again: the
very next tap must follow the change. On PostgreSQL with Redis the cache is in use; the SQLite default has no
Redis, so there every tap reads the routing from the database, and the same answers prove the rules themselves.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from app.assignments.services import complete_assignment
from app.members.models import Member
from app.members.services import deactivate_member, set_language
from app.members.inputs import LanguageChoice
from app.notifications.inputs import PreferencesInput, WebhookInput
from app.notifications.models import Delivery, Notification, Webhook
from app.notifications.scheduled import queue_reminders
from app.notifications.services import update_preferences
from app.notifications.webhooks import create_webhook, delete_webhook, update_webhook
from app.notifications.worker import delivery_queue
from app.settings.inputs import SettingValue
from app.settings.services import set_setting
from tests.conftest import Auth, FamilyClient, app_on_both_engines
from tests.forms import Poster
from tests.notifications.conftest import RULES, Family, Receiver, make_assignment
from tests.test_query_budgets import statements_sent

app = app_on_both_engines()

NOW = datetime.now(timezone.utc)


@pytest.fixture(autouse=True)
def empty_delivery_queue(app: Flask) -> Iterator[None]:
    """Deliveries queued by the taps (PostgreSQL runs have Redis) are dropped, never worked by another test."""
    yield
    if app.config.get("REDIS_URL"):
        connection = redis.Redis.from_url(app.config["REDIS_URL"])
        with app.app_context():
            delivery_queue(connection).empty()
        connection.close()


class Taps:
    """The kid signed in on the tablet, tapping a new chore that waits for a parent each time."""

    def __init__(self, app: Flask, fam: Family, client: FamilyClient) -> None:
        self.app, self.fam, self.client = app, fam, client

    def tap(self) -> uuid.UUID:
        with self.fam.session() as ctx:
            assignment = make_assignment(ctx.session, ctx.session.get(Member, self.fam.kid.id),
                                         name=f"Chore {uuid.uuid4().hex[:6]}")
            ctx.session.commit()
        response = Poster(self.app)(self.client, f"/me/assignments/{assignment.id}/complete", htmx=True)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return assignment.id

    def bells(self, assignment_id: uuid.UUID) -> set[uuid.UUID]:
        """Who got the bell for this tap."""
        with self.fam.session() as ctx:
            rows = ctx.session.scalars(select(Notification).where(Notification.event == "chore_waiting"))
            return {n.member_id for n in rows if n.data.get("assignment_id") == str(assignment_id)}

    def deliveries(self, assignment_id: uuid.UUID) -> set[tuple[str, str | None]]:
        """The emails and webhook calls queued for this tap: (channel, recipient)."""
        with self.fam.session() as ctx:
            rows = ctx.session.scalars(select(Delivery).where(Delivery.event == "chore_waiting"))
            return {(str(d.channel), d.recipient) for d in rows
                    if _assignment_of(d.payload) == str(assignment_id)}

    def add_webhook(self, url: str) -> uuid.UUID:
        """A parent adds a webhook for every event (committed); its id."""
        made: list[uuid.UUID] = []
        self.change(lambda session: made.append(create_webhook(
            session, actor=_member(session, self.fam.mum), data=WebhookInput(url=url), allow_private=True).id))
        return made[0]

    def change(self, act: Callable[[Any], object]) -> None:
        """Make a change in the family and commit it (the commit bumps the family's versions, as every writer's)."""
        with self.fam.session() as ctx:
            act(ctx.session)
            ctx.session.commit()


def _assignment_of(payload: dict[str, Any]) -> str | None:
    """Webhooks carry the event's data; emails link to the waiting chore on the dashboard."""
    data = payload.get("data")
    if isinstance(data, dict):
        return str(data.get("assignment_id"))
    return str(payload.get("link", "")).rpartition("#assignment-")[2] or None


@pytest.fixture
def taps(app: Flask, fam: Family, client_for: Callable[..., FamilyClient], auth: Auth) -> Taps:
    client = client_for(fam.record)
    auth.sign_in(client, fam.kid, fam.record)
    return Taps(app, fam, client)


def _member(session: Any, member: Member) -> Member:
    found = session.get(Member, member.id)
    assert found is not None
    return found


def test_a_parent_added_is_told_at_the_next_tap(taps: Taps, fam: Family,
                                                create_member: Callable[..., Member]) -> None:
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id}
    gran = create_member(role="parent", username="gran", display_name="Gran")
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id, gran.id}


def test_a_child_promoted_to_parent_is_told_at_the_next_tap(taps: Taps, fam: Family) -> None:
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id}
    taps.change(lambda session: setattr(_member(session, fam.teen), "role", "parent"))
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id, fam.teen.id}


def test_a_parent_removed_is_not_told_at_the_next_tap(taps: Taps, fam: Family) -> None:
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id}
    taps.change(lambda session: deactivate_member(session, _member(session, fam.dad), actor=_member(session, fam.mum),
                                                  now=NOW))
    assert taps.bells(taps.tap()) == {fam.mum.id}


def test_a_parent_deleted_is_not_told_and_the_tap_still_lands(taps: Taps, fam: Family,
                                                              create_member: Callable[..., Member]) -> None:
    gran = create_member(role="parent", username="gran", display_name="Gran")
    first = taps.tap()
    assert taps.bells(first) == {fam.mum.id, fam.dad.id, gran.id}

    def delete_gran(session: Any) -> None:
        for notification in session.scalars(select(Notification).where(Notification.member_id == gran.id)):
            session.delete(notification)
        session.flush()
        session.delete(_member(session, gran))

    taps.change(delete_gran)
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id}


def test_a_parent_turning_the_bell_off_is_heard_at_the_next_tap(taps: Taps, fam: Family) -> None:
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id}
    choice = PreferencesInput(choices={"chore_waiting": {"in_app": False}})
    taps.change(lambda session: update_preferences(session, actor=_member(session, fam.mum),
                                                   member=_member(session, fam.mum), choices=choice))
    assert taps.bells(taps.tap()) == {fam.dad.id}
    choice = PreferencesInput(choices={"chore_waiting": {"in_app": True}})
    taps.change(lambda session: update_preferences(session, actor=_member(session, fam.mum),
                                                   member=_member(session, fam.mum), choices=choice))
    assert taps.bells(taps.tap()) == {fam.mum.id, fam.dad.id}


def test_a_parent_choosing_email_gets_it_from_the_next_tap(taps: Taps, fam: Family) -> None:
    assert taps.deliveries(taps.tap()) == set()
    choice = PreferencesInput(choices={"chore_waiting": {"email": True}})
    taps.change(lambda session: update_preferences(session, actor=_member(session, fam.dad),
                                                   member=_member(session, fam.dad), choices=choice))
    assert taps.deliveries(taps.tap()) == {("email", "dad@example.test")}
    taps.change(lambda session: setattr(_member(session, fam.dad), "email", "dad@new.example.test"))
    assert taps.deliveries(taps.tap()) == {("email", "dad@new.example.test")}


def test_a_parent_changing_language_reads_the_next_bell_in_it(taps: Taps, fam: Family) -> None:
    taps.tap()
    taps.change(lambda session: set_language(_member(session, fam.mum), actor=_member(session, fam.mum),
                                             choice=LanguageChoice(language="es")))
    tapped = taps.tap()
    with fam.session() as ctx:
        [bell] = [n for n in ctx.session.scalars(select(Notification).where(Notification.member_id == fam.mum.id))
                  if n.data.get("assignment_id") == str(tapped)]
    assert not bell.title.startswith("Maya finished"), bell.title  # Spanish, not the English of the cached copy


def test_a_webhook_added_or_switched_is_called_from_the_next_tap(taps: Taps, fam: Family,
                                                                 receiver: Receiver) -> None:
    assert taps.deliveries(taps.tap()) == set()
    hook = taps.add_webhook(receiver.url)
    assert taps.deliveries(taps.tap()) == {("webhook", receiver.url)}
    taps.change(lambda session: update_webhook(session, actor=_member(session, fam.mum),
                                               webhook=session.get(Webhook, hook), allow_private=True,
                                               data=WebhookInput(active=False)))
    assert taps.deliveries(taps.tap()) == set()


def test_a_webhook_removed_is_not_called_and_the_tap_still_lands(taps: Taps, fam: Family,
                                                                 receiver: Receiver) -> None:
    hook = taps.add_webhook(receiver.url)
    assert taps.deliveries(taps.tap()) == {("webhook", receiver.url)}
    taps.change(lambda session: delete_webhook(session, actor=_member(session, fam.mum),
                                               webhook=session.get(Webhook, hook)))
    tapped = taps.tap()  # a stale copy would insert a delivery for the deleted webhook: refused by its foreign key
    assert taps.deliveries(tapped) == set()
    assert taps.bells(tapped) == {fam.mum.id, fam.dad.id}


def test_the_family_defaults_changing_are_followed_at_the_next_tap(taps: Taps, fam: Family) -> None:
    assert taps.deliveries(taps.tap()) == set()
    defaults = SettingValue(key="notification_defaults", value={"email": {"chore_waiting": True}})
    taps.change(lambda session: set_setting(session, _member(session, fam.mum), defaults))
    assert taps.deliveries(taps.tap()) == {("email", "mum@example.test"), ("email", "dad@example.test")}


def test_a_round_of_notifications_reads_the_routing_once_without_a_cache(fam: Family) -> None:
    """Jobs and the CLI have no per-process copy: a round (the reaction to a commit, a run of reminders) still reads
    the routing once, not once per notification."""
    soon = datetime.now(timezone.utc) + timedelta(minutes=10)
    with fam.session() as ctx:
        kid = _member(ctx.session, fam.kid)
        waiting = make_assignment(ctx.session, kid, name="Bins")
        for name in ("Dishes", "Bed"):
            make_assignment(ctx.session, kid, name=name, due_at=soon)
        ctx.session.commit()
        with statements_sent() as sent:
            complete_assignment(ctx.session, actor=_member(ctx.session, fam.kid), assignment_id=waiting.id,
                                rules=RULES, now=NOW)
            ctx.session.commit()
        assert sum("FROM webhooks" in statement for statement in sent) == 1
        with statements_sent() as sent:
            assert queue_reminders(ctx.session, RULES, datetime.now(timezone.utc),
                                   {"reminder_lead_minutes": 30}) == 2
        assert sum("FROM webhooks" in statement for statement in sent) == 1
